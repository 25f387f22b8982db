import type { Request, Response } from 'express';
import { errorMessage, httpStatusOf } from '../errors';
import type { WebRoute } from '../web/server';
import type { AlertView } from './view';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, heading: string, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(heading)}</title></head>` +
    `<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(text)}</p>` +
    `<p style="color:#666">HTTP ${status}</p></body></html>\n`;
}

/**
 * ackLinkRoute answers `GET /ack/:token`, the link in every notification: a person
 * following it from a mail client acknowledges the alert without a login. The guard lets
 * it through as a top-level navigation (a link someone follows); an <img>, a fetch from
 * another page, or a form cannot use it. What it can do is limited to what the link says:
 * acknowledge that one alert, once (the nonce is spent on the alert log), before it
 * expires; the page is not cached, not indexed and sends no Referer. HEAD (link checkers
 * look before a person clicks) does not acknowledge.
 */
export const ackLinkRoute: WebRoute = {
  name: 'alerts-ack-link',
  mount(app, deps) {
    app.get('/ack/:token', async (req: Request, res: Response) => {
      res.set({
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-robots-tag': 'noindex',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        'content-type': 'text/html; charset=utf-8',
      });
      if (req.method === 'HEAD') {
        res.status(200).end();
        return;
      }
      try {
        const reply = await deps.ops.invoke('alerts.ackLink', { token: String(req.params.token) }, { authorized: false, via: 'http' });
        const a = reply.value as AlertView;
        res.status(200).send(page(200, `Alert ${a.id} acknowledged`, `${a.sla}: ${a.message}. Escalation has stopped; those who were told hear that it was taken.`));
      } catch (err) {
        const status = httpStatusOf(err);
        res.status(status).send(page(status, 'Not acknowledged', errorMessage(err)));
      }
    });
  },
};
