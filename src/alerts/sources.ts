import type { NodeEvent } from '../bus';
import type { Result } from '../engine/result';
import type { SourceState, Transition } from './types';

const STATES = new Set<SourceState>(['ok', 'pending', 'firing', 'unknown', 'inactive']);

const strings = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
};

/**
 * fromSlaEvent reads an `sla.state` NodeEvent (notes/sla-event.md) as a Transition; an
 * event of another kind, or one without a known `to` state, gives undefined.
 */
export function fromSlaEvent(e: NodeEvent): Transition | undefined {
  if (e.kind !== 'sla.state') return undefined;
  const d = e.data ?? {};
  const to = d.to as SourceState;
  if (!STATES.has(to)) return undefined;
  const value = d.value;
  return {
    source: 'sla',
    name: e.subject,
    at: e.at,
    to,
    message: e.message,
    notify: d.notify !== false,
    severity: typeof d.severity === 'string' ? d.severity : 'page',
    labels: strings(d.labels),
    ...(typeof d.escalate === 'string' && { escalate: d.escalate }),
    dependsOn: Array.isArray(d.depends_on) ? d.depends_on.filter((x): x is string => typeof x === 'string') : [],
    value: typeof value === 'number' || typeof value === 'boolean' ? value : null,
  };
}

/**
 * fromHeartbeat reads a heartbeat block's result as a Transition, the way an SLA's state
 * change is read: a result the heartbeat emitted on its own (trigger `signal`) that is not
 * ok (down: a deadline missed, a failure, a run overrun) fires its alert; an ok one (a
 * success; late within grace is still ok) resolves it. The block's `escalate`, `severity`
 * and `labels` route it; a heartbeat created at run time has none (notify.default_escalation).
 */
export function fromHeartbeat(r: Result, options: Readonly<Record<string, unknown>>): Transition | undefined {
  if (r.type !== 'heartbeat' || r.trigger !== 'signal') return undefined;
  return {
    source: 'heartbeat',
    name: r.block,
    at: r.startedAt,
    to: r.ok ? 'ok' : 'firing',
    message: r.ok ? `heartbeat ${r.block} is up` : `heartbeat ${r.block} ${r.message}`,
    notify: true,
    severity: typeof options.severity === 'string' ? options.severity : 'page',
    labels: strings(options.labels),
    ...(typeof options.escalate === 'string' && { escalate: options.escalate }),
    dependsOn: [],
    value: r.fields.error_count ?? null,
  };
}

/** alertKey identifies an alert: its source, name and label set. */
export function alertKey(t: Pick<Transition, 'source' | 'name' | 'labels'>): string {
  const labels = Object.keys(t.labels).sort().map((k) => `${k}=${t.labels[k]}`).join(',');
  return `${t.source}/${t.name}{${labels}}`;
}
