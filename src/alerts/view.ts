import { describeMatch, silenceActive } from './suppress';
import type { Alert, GuardRecord, Silence } from './types';

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

/** AlertView is an alert as GET /api/alerts shows it; times are ISO-8601. */
export interface AlertView {
  id: string;
  sla: string;
  source: string;
  state: Alert['state'];
  severity: string;
  labels: Record<string, string>;
  value: Alert['value'];
  message: string;
  since: string;
  startedAt: string;
  firedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  resolvedAt: string | null;
  /** How long it fired (to its resolution, or until now). */
  duration_s: number | null;
  escalation: string | null;
  /** The highest escalation level told in the current run (0: none yet). */
  level: number;
  /** Why it is not told now (silenced, inhibited, within the SLA's cooldown), or null. */
  suppressed: string | null;
  history: Array<{ at: string; what: string; message: string }>;
  actions: Array<{ at: string; action: string; status: string; value: Alert['value']; message: string; detail?: string; guard?: GuardRecord; node?: string; repeat?: boolean }>;
}

/** NotificationView is one delivery of an alert: who, how, and what came of it. */
export interface NotificationView {
  step: string;
  kind: string;
  level: number;
  at: string;
  contact: string;
  channel: string;
  outcome: string;
}

/** alertView renders an alert for the API, with its last `maxHistory` history lines. */
export function alertView(a: Alert, escalation: string | undefined, suppressed: string | undefined, now: number, maxHistory = Infinity): AlertView {
  const run = `${a.id}:${a.run}:`;
  const level = a.steps.reduce((max, s) => (s.key.startsWith(run) ? Math.max(max, s.level) : max), 0);
  const end = a.resolvedAt ?? now;
  return {
    id: a.id,
    sla: a.sla,
    source: a.source,
    state: a.state,
    severity: a.severity,
    labels: a.labels,
    value: a.value,
    message: a.message,
    since: iso(a.since)!,
    startedAt: iso(a.startedAt)!,
    firedAt: iso(a.firedAt),
    acknowledgedAt: iso(a.ackedAt),
    acknowledgedBy: a.ackedBy ?? null,
    resolvedAt: iso(a.resolvedAt),
    duration_s: a.firedAt === undefined ? null : Math.max(0, Math.round((end - a.firedAt) / 1000)),
    escalation: escalation ?? null,
    level,
    suppressed: a.quiet && a.state !== 'resolved' ? 'fired within its SLA\'s cooldown: nobody is told' : suppressed ?? null,
    history: a.history.slice(-maxHistory).map((h) => ({ at: iso(h.at)!, what: h.what, message: h.message })),
    actions: a.actions.map((x) => ({
      at: iso(x.at)!, action: x.action, status: x.status, value: x.value, message: x.message, ...(x.detail && { detail: x.detail }),
      ...(x.guard && { guard: { ...x.guard } }), ...(x.node && { node: x.node }), ...(x.repeat && { repeat: true }),
    })),
  };
}

/** notificationsOf lists an alert's deliveries: each step to each contact and channel, with its outcome (pending until one is known). */
export function notificationsOf(a: Alert, channels: (contact: string) => string[]): NotificationView[] {
  const out: NotificationView[] = [];
  for (const s of a.steps) {
    for (const contact of s.to) {
      for (const channel of channels(contact)) {
        out.push({ step: s.key, kind: s.kind, level: s.level, at: iso(s.at)!, contact, channel, outcome: a.sent.get(`${s.key}|${contact}|${channel}`) ?? 'pending' });
      }
    }
  }
  return out;
}

/** SilenceView is a silence as GET /api/silences shows it. */
export interface SilenceView {
  id: string;
  match: Record<string, string[]>;
  matchText: string;
  from: string | null;
  until: string;
  comment: string;
  by: string | null;
  source: Silence['source'];
  active: boolean;
  expiredAt: string | null;
}

/** silenceView renders a silence for the API. */
export function silenceView(s: Silence, now: number): SilenceView {
  return {
    id: s.id, match: s.match, matchText: describeMatch(s.match), from: iso(s.from), until: iso(s.until)!, comment: s.comment,
    by: s.by ?? null, source: s.source, active: silenceActive(s, now), expiredAt: iso(s.expiredAt),
  };
}
