import type { ConfigSection } from '../../config/section';
import type { NotifyConfig } from '../config';
import { durationRef, ms } from './common';

/** NOTIFY_DEFAULTS: ack links work a day; a delivery is tried 8 times, 1s apart and doubling up to 5m. */
export const NOTIFY_DEFAULTS = { ackLinkTtlMs: 86_400_000, attempts: 8, retryMs: 1000, retryMaxMs: 300_000 } as const;

interface NotifyRaw {
  url?: string;
  smtp?: { host: string; port?: number; secure?: boolean; user?: string; password?: string; from: string };
  ack_link_ttl?: string;
  attempts?: number;
  retry?: string;
  retry_max?: string;
  default_escalation?: string;
}

/** notifySection is `notify:`: how notifications go out (mail server, links, retries). */
export const notifySection: ConfigSection<'notify', NotifyRaw> = {
  key: 'notify',
  reload: 'live',
  schema: {
    type: 'object',
    additionalProperties: false,
    description: 'How notifications are sent (docs/alerts.md).',
    properties: {
      url: {
        type: 'string',
        pattern: '^https?://[^\\s/]+(?:/\\S*)?$',
        'x-expected': 'the node\'s address as people reach it, e.g. https://remon.example.com',
        description: 'The node\'s address in links of notifications (ack links); default http://<node.listen>.',
      },
      smtp: {
        type: 'object',
        additionalProperties: false,
        required: ['host', 'from'],
        description: 'The mail server e-mail contacts are sent through.',
        properties: {
          host: { type: 'string', minLength: 1 },
          port: { type: 'integer', minimum: 1, maximum: 65535, description: 'Default 25 (465 with secure).' },
          secure: { type: 'boolean', 'x-expected': 'true or false', description: 'TLS from the start (port 465); otherwise STARTTLS when offered.' },
          user: { type: 'string' },
          password: { type: 'string' },
          from: { type: 'string', minLength: 3, description: 'The sender, e.g. "remon <remon@example.com>".' },
        },
      },
      ack_link_ttl: durationRef('How long the ack link in a notification works (default 1d).'),
      attempts: { type: 'integer', minimum: 1, maximum: 100, description: 'Tries per delivery before it counts as failed (default 8).' },
      retry: durationRef('First delay before a retry, doubled each time (default 1s).'),
      retry_max: durationRef('Longest delay between retries (default 5m).'),
      default_escalation: { type: 'string', minLength: 1, description: 'Escalation of alerts whose SLA or heartbeat names none (default: the one named "default", if any).' },
    },
  },
  build(raw) {
    const n = raw ?? {};
    const out: NotifyConfig = {
      ackLinkTtlMs: ms(n.ack_link_ttl) ?? NOTIFY_DEFAULTS.ackLinkTtlMs,
      attempts: n.attempts ?? NOTIFY_DEFAULTS.attempts,
      retryMs: ms(n.retry) ?? NOTIFY_DEFAULTS.retryMs,
      retryMaxMs: ms(n.retry_max) ?? NOTIFY_DEFAULTS.retryMaxMs,
    };
    if (n.url) out.url = n.url.replace(/\/+$/, '');
    if (n.default_escalation) out.defaultEscalation = n.default_escalation;
    if (n.smtp) {
      const s = n.smtp;
      out.smtp = { host: s.host, port: s.port ?? (s.secure ? 465 : 25), secure: s.secure === true, from: s.from, ...(s.user && { user: s.user }), ...(s.password && { password: s.password }) };
    }
    return out;
  },
};
