import type { WebhookConfig } from '../alerts/config';
import { AlertPayload, Notification, textBody, title, webhookBody } from './payload';
import { renderTemplate } from './template';

/** HttpRequest is one POST a webhook contact makes. */
export interface HttpRequest {
  url: string;
  body: string;
  contentType: string;
}

const JSON_TYPE = 'application/json';
const json = (url: string, body: unknown): HttpRequest => ({ url, body: JSON.stringify(body), contentType: JSON_TYPE });

/** DISCORD_LIMIT: Discord refuses a message content longer than this. */
const DISCORD_LIMIT = 2000;

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** ntfyPriority: urgent for a page, high for other firings, default for the rest. */
function ntfyPriority(n: Notification): number {
  const firing = n.alerts.filter((a) => a.state === 'firing');
  if (firing.some((a) => a.severity === 'page')) return 5;
  return firing.length ? 4 : 3;
}

/** ntfy publishes as JSON to the server's root: https://ntfy.sh/TOPIC → POST https://ntfy.sh/ {topic, ...}. */
function ntfy(url: string, n: Notification): HttpRequest {
  const u = new URL(url);
  const segments = u.pathname.split('/').filter(Boolean);
  const topic = segments.pop() ?? '';
  u.pathname = `/${segments.join('/')}`;
  const ack = n.alerts.find((a) => a.ack_url)?.ack_url;
  return json(u.toString(), {
    topic,
    title: title(n),
    message: textBody(n).trimEnd(),
    priority: ntfyPriority(n),
    tags: [n.alerts.every((a) => a.state === 'resolved') ? 'white_check_mark' : n.alerts.some((a) => a.state === 'firing') ? 'rotating_light' : 'eyes'],
    ...(ack && { actions: [{ action: 'view', label: 'Acknowledge', url: ack, clear: true }] }),
  });
}

const PD_SEVERITY: Record<string, string> = { page: 'critical', critical: 'critical', error: 'error', warning: 'warning', ticket: 'warning', info: 'info' };
const PD_ACTION: Record<AlertPayload['state'], string> = { firing: 'trigger', acknowledged: 'acknowledge', resolved: 'resolve' };

/** pagerduty makes one Events API v2 event per alert (the API takes one per request), deduplicated by the alert. */
function pagerduty(url: string, routingKey: string, n: Notification): HttpRequest[] {
  return n.alerts.map((a) => {
    const event: Record<string, unknown> = { routing_key: routingKey, event_action: PD_ACTION[a.state], dedup_key: `remon/${a.node}/${a.id}` };
    if (a.state === 'firing') {
      event.payload = {
        summary: cut(`${a.sla}: ${a.message}`, 1024),
        source: a.node,
        severity: PD_SEVERITY[a.severity] ?? 'error',
        timestamp: a.since,
        component: a.sla,
        custom_details: { ...a },
      };
      event.client = 'remon';
      if (a.ack_url) event.links = [{ href: a.ack_url, text: 'Acknowledge in remon' }];
    }
    return json(url, event);
  });
}

/**
 * webhookRequests turns a notification into the POSTs a webhook contact makes: the DESIGN
 * payload, a preset's shape (Slack-compatible incoming webhooks, which Mattermost and
 * Rocket.Chat take too; Discord; ntfy; PagerDuty Events API v2), or the contact's template.
 */
export function webhookRequests(w: WebhookConfig, n: Notification): HttpRequest[] {
  if (w.template !== undefined) {
    const context = { ...webhookBody(n), alerts: n.alerts, count: n.alerts.length, node: n.node, title: title(n), text: textBody(n) };
    return [{ url: w.url, body: renderTemplate(w.template, context), contentType: w.contentType }];
  }
  switch (w.preset) {
    case 'slack':
      return [json(w.url, { text: `*${title(n)}*\n${textBody(n)}` })];
    case 'discord':
      // No @everyone or role pings from an alert's message.
      return [json(w.url, { content: cut(`**${title(n)}**\n${textBody(n)}`, DISCORD_LIMIT), allowed_mentions: { parse: [] } })];
    case 'ntfy':
      return [ntfy(w.url, n)];
    case 'pagerduty':
      return pagerduty(w.url, w.routingKey ?? '', n);
    default:
      return [json(w.url, webhookBody(n))];
  }
}
