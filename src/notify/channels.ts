import nodemailer, { Transporter } from 'nodemailer';
import type { ContactConfig, SmtpConfig } from '../alerts/config';
import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import { formatDuration } from '../util/duration';
import { describeExit, runProcess } from '../util/process';
import { AlertPayload, Notification, textBody, title, webhookBody } from './payload';
import { HttpRequest, webhookRequests } from './presets';

/** ChannelName: the ways a contact is told. */
export type ChannelName = 'webhook' | 'email' | 'command' | 'log';

/** channelsOf lists a contact's channels, in a fixed order. */
export function channelsOf(c: ContactConfig): ChannelName[] {
  const out: ChannelName[] = [];
  if (c.webhook) out.push('webhook');
  if (c.email.length) out.push('email');
  if (c.command) out.push('command');
  if (c.log) out.push('log');
  return out;
}

/** alertEnv is an alert as REMON_ALERT_* environment variables (the first of a group; REMON_ALERT_COUNT says how many). */
export function alertEnv(a: AlertPayload, count: number): Record<string, string> {
  return {
    REMON_ALERT_ID: a.id,
    REMON_ALERT_SLA: a.sla,
    REMON_ALERT_STATE: a.state,
    REMON_ALERT_SEVERITY: a.severity,
    REMON_ALERT_VALUE: a.value === null ? '' : String(a.value),
    REMON_ALERT_SINCE: a.since,
    REMON_ALERT_NODE: a.node,
    REMON_ALERT_LEVEL: String(a.level),
    REMON_ALERT_MESSAGE: a.message,
    REMON_ALERT_SOURCE: a.source,
    REMON_ALERT_COUNT: String(count),
    ...(a.duration_s !== undefined && { REMON_ALERT_DURATION_S: String(a.duration_s) }),
    ...(a.ack_url && { REMON_ACK_URL: a.ack_url }),
  };
}

const notifyError = (message: string, cause?: unknown) => createError('REMON_ERR_NOTIFY_FAILED', message, cause);

/** post makes one webhook request; anything but a 2xx is a failure that says what the receiver answered. */
export async function post(req: HttpRequest, headers: Record<string, string>, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': req.contentType, 'user-agent': 'remon', ...headers },
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${formatDuration(timeoutMs)}` : e.cause?.code ?? e.cause?.message ?? e.message;
    throw notifyError(`POST ${req.url}: ${why}`, err);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) {
    const first = text.trim().split('\n')[0]?.slice(0, 200);
    throw notifyError(`POST ${req.url}: HTTP ${res.status}${first ? `: ${first}` : ''}`);
  }
}

/**
 * Channels sends a notification through one channel of a contact: a webhook (the DESIGN
 * payload, a preset or a template), an e-mail through notify.smtp (nodemailer), a command
 * (the alert as environment variables and JSON on stdin, with a timeout), or the node's
 * log. A failure throws REMON_ERR_NOTIFY_FAILED saying what went wrong; retrying is the
 * caller's.
 */
export class Channels {
  private transport?: { key: string; t: Transporter };

  constructor(private readonly log: Logger, private readonly smtp: () => SmtpConfig | undefined) {}

  async send(channel: ChannelName, contact: ContactConfig, n: Notification): Promise<void> {
    switch (channel) {
      case 'webhook': {
        const w = contact.webhook!;
        for (const req of webhookRequests(w, n)) await post(req, w.headers, w.timeoutMs);
        return;
      }
      case 'email':
        return this.mail(contact, n);
      case 'command': {
        const c = contact.command!;
        const r = await runProcess(c.argv, { env: alertEnv(n.alerts[0], n.alerts.length), input: JSON.stringify(webhookBody(n)), timeoutMs: c.timeoutMs });
        const why = describeExit(r, formatDuration(c.timeoutMs));
        if (why) throw notifyError(`command ${c.argv.join(' ')}: ${why}`);
        return;
      }
      case 'log':
        this.log.warn({ contact: contact.name, alerts: n.alerts.map((a) => ({ id: a.id, sla: a.sla, state: a.state, level: a.level, message: a.message })) }, title(n));
        return;
    }
  }

  private async mail(contact: ContactConfig, n: Notification): Promise<void> {
    const smtp = this.smtp();
    if (!smtp) throw notifyError('e-mail needs notify.smtp');
    const key = JSON.stringify(smtp);
    if (this.transport?.key !== key) {
      this.transport?.t.close();
      this.transport = {
        key,
        t: nodemailer.createTransport({
          host: smtp.host,
          port: smtp.port,
          secure: smtp.secure,
          ...(smtp.user && { auth: { user: smtp.user, pass: smtp.password ?? '' } }),
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 20_000,
        }),
      };
    }
    try {
      await this.transport.t.sendMail({
        from: smtp.from,
        to: contact.email,
        subject: title(n),
        text: textBody(n),
        headers: { 'X-Remon-Alert': n.alerts.map((a) => a.id).join(', ') },
      });
    } catch (err) {
      throw notifyError(`e-mail to ${contact.email.join(', ')} through ${smtp.host}:${smtp.port}: ${errorMessage(err)}`, err);
    }
  }

  close(): void {
    this.transport?.t.close();
    this.transport = undefined;
  }
}
