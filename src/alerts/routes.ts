import type { Request, Response } from 'express';
import { errorMessage, httpStatusOf } from '../errors';
import type { WebRoute } from '../web/server';
import type { AlertView } from './view';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** page is the small HTML answer of an ack link; `form` adds the button that acknowledges. */
function page(status: number, heading: string, text: string, form?: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(heading)}</title></head>` +
    `<body style="font-family:sans-serif;max-width:40em;margin:3em auto"><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(text)}</p>` +
    `${form ? `<form method="post"><button type="submit" style="font-size:1.2em;padding:.4em 1em">${escapeHtml(form)}</button></form>` : ''}` +
    `<p style="color:#666">HTTP ${status}</p></body></html>\n`;
}

const HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
  'content-type': 'text/html; charset=utf-8',
};

/**
 * ackLinkRoute answers `/ack/:token`, the link in every notification, which acknowledges
 * an alert without a login. Following the link (GET) shows the alert and a button; the
 * button (a POST of the same URL, no body) acknowledges. A GET alone changes nothing, so
 * mail scanners and link previews that fetch every link do not acknowledge alerts. What
 * the link can do is limited to what it says: acknowledge that one alert, once (the nonce
 * is spent on the alert log), before it expires. The guard lets the GET through as a
 * top-level navigation and the POST as a same-origin write without a body; the pages are
 * not cached, not indexed and send no Referer.
 */
export const ackLinkRoute: WebRoute = {
  name: 'alerts-ack-link',
  mount(app, deps) {
    const answer = (op: 'alerts.checkLink' | 'alerts.ackLink') => async (req: Request, res: Response): Promise<void> => {
      res.set(HEADERS);
      if (req.method === 'HEAD') {
        res.status(200).end();
        return;
      }
      try {
        const reply = await deps.ops.invoke(op, { token: String(req.params.token) }, { authorized: false, via: 'http' });
        const a = reply.value as AlertView;
        if (op === 'alerts.checkLink' && a.state === 'acknowledged') {
          res.status(200).send(page(200, `Alert ${a.id} is acknowledged already`, `${a.sla}: acknowledged by ${a.acknowledgedBy ?? 'someone'} at ${a.acknowledgedAt}.`));
        } else if (op === 'alerts.checkLink') {
          res.status(200).send(page(200, `Alert ${a.id}: ${a.sla} is ${a.state}`, `${a.message}. Acknowledge it to stop its escalation; those who were told hear that you took it.`, `Acknowledge alert ${a.id}`));
        } else {
          res.status(200).send(page(200, `Alert ${a.id} acknowledged`, `${a.sla}: ${a.message}. Escalation has stopped; those who were told hear that it was taken.`));
        }
      } catch (err) {
        const status = httpStatusOf(err);
        res.status(status).send(page(status, 'Not acknowledged', errorMessage(err)));
      }
    };
    app.get('/ack/:token', answer('alerts.checkLink'));
    app.post('/ack/:token', answer('alerts.ackLink'));
  },
};
