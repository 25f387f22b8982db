import { formatDuration } from '../util/duration';

/**
 * AlertPayload is an alert as notifiers send it: the webhook contract of DESIGN.md
 * (`id, sla, state, severity, value, since, node, level, message`, times ISO-8601) and
 * what remon adds: labels, where it came from, when it started, how long it lasted, the
 * link that acknowledges it, and the notification's key (the same on a retry: receivers
 * may drop a repeat by it).
 */
export interface AlertPayload {
  id: string;
  sla: string;
  state: 'firing' | 'resolved' | 'acknowledged';
  severity: string;
  value: number | boolean | null;
  since: string;
  node: string;
  /** The escalation level this notification is for (0: acknowledged/resolved notices). */
  level: number;
  message: string;
  /** sla (an SLA) or heartbeat. */
  source: string;
  labels: Record<string, string>;
  /** When the alert started firing. */
  started: string;
  /** Resolved: how long the incident lasted, in seconds. */
  duration_s?: number;
  /** Who acknowledged it (acknowledged). */
  acknowledged_by?: string;
  /** GET it to acknowledge the alert (single use, expires); absent on resolved notices. */
  ack_url?: string;
  key: string;
}

/** Notification is what one channel of one contact sends: one alert, or a group. */
export interface Notification {
  contact: string;
  node: string;
  alerts: AlertPayload[];
}

/** webhookBody is the DESIGN payload: `{"alert": {...}}`; a group adds `alerts` (all of them, the first again). */
export function webhookBody(n: Notification): Record<string, unknown> {
  return n.alerts.length === 1 ? { alert: n.alerts[0] } : { alert: n.alerts[0], alerts: n.alerts, count: n.alerts.length };
}

const STATE_WORD: Record<AlertPayload['state'], string> = { firing: 'FIRING', resolved: 'RESOLVED', acknowledged: 'ACKNOWLEDGED' };

/** lasted words a resolved alert's duration: "after 12m30s". */
export function lasted(a: AlertPayload): string {
  return a.duration_s === undefined ? '' : ` after ${formatDuration(Math.round(a.duration_s) * 1000)}`;
}

/** alertLine is one alert in a sentence: "homepage-fast resolved after 12m: <message>". */
export function alertLine(a: AlertPayload): string {
  if (a.state === 'resolved') return `${a.sla} resolved${lasted(a)} (fired ${a.started}): ${a.message}`;
  if (a.state === 'acknowledged') return `${a.sla} acknowledged${a.acknowledged_by ? ` by ${a.acknowledged_by}` : ''}: ${a.message}`;
  return `${a.sla} firing (${a.severity}) since ${a.since}: ${a.message}`;
}

/** title is a notification's subject line: "[FIRING] homepage-fast", "[FIRING 3] homepage-fast, api, db". */
export function title(n: Notification): string {
  const states = new Set(n.alerts.map((a) => a.state));
  const word = states.size === 1 ? STATE_WORD[n.alerts[0].state] : 'CHANGED';
  const count = n.alerts.length > 1 ? ` ${n.alerts.length}` : '';
  const names = n.alerts.map((a) => a.sla);
  const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')}, ...` : names.join(', ');
  const first = n.alerts[0];
  const tail = n.alerts.length === 1 && first.state === 'resolved' ? lasted(first) : '';
  return `[${word}${count}] ${shown}${tail}`;
}

/** textBody is a notification as plain text: a paragraph per alert, with its ack link. */
export function textBody(n: Notification): string {
  const parts = n.alerts.map((a) => {
    const lines = [alertLine(a), `alert ${a.id} on node ${a.node}${a.level ? `, escalation level ${a.level}` : ''}`];
    if (Object.keys(a.labels).length) lines.push(`labels: ${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    if (a.ack_url) lines.push(`Acknowledge: ${a.ack_url}`);
    return lines.join('\n');
  });
  return `${parts.join('\n\n')}\n`;
}
