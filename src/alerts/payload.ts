import * as os from 'node:os';
import type { Config } from '../config/types';
import type { AlertPayload } from '../notify/payload';
import type { Delivery } from './dispatch';
import type { Alert } from './types';

/** nodeBaseUrl is where people reach the node: notify.url, or node.listen (a wildcard address named by the host). */
export function nodeBaseUrl(config: Config): string {
  if (config.notify.url) return config.notify.url;
  const { host, port } = config.node.listen;
  const h = host === '0.0.0.0' || host === '::' ? os.hostname() : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

/**
 * alertPayload is what one delivery says of its alert (the webhook contract's fields and
 * remon's extras): the time of the state it reports, how long it fired once resolved, who
 * acknowledged it, and the ack link given (only while it fires).
 */
export function alertPayload(a: Alert, d: Delivery, node: string, now: number, ackUrl: string | undefined): AlertPayload {
  const since = d.kind === 'resolved' ? a.resolvedAt : d.kind === 'acknowledged' ? a.ackedAt : a.firedAt;
  const iso = (t: number | undefined): string => new Date(t ?? a.since).toISOString();
  const p: AlertPayload = {
    id: a.id, sla: a.sla, state: d.kind, severity: a.severity, value: a.value, since: iso(since), node,
    level: d.level, message: a.message, source: a.source, labels: a.labels, started: iso(a.firedAt ?? a.startedAt), key: d.key,
  };
  if (d.kind === 'resolved' && a.firedAt !== undefined) p.duration_s = Math.round(((a.resolvedAt ?? now) - a.firedAt) / 1000);
  if (d.kind === 'acknowledged' && a.ackedBy) p.acknowledged_by = a.ackedBy;
  if (ackUrl !== undefined) p.ack_url = ackUrl;
  return p;
}
