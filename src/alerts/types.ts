/**
 * The alert contract: states, what changes them (a Transition from an SLA's `sla.state`
 * event or a heartbeat), the alert as kept, and the records of the alert log.
 *
 * An alert is `pending` while its SLA is (no one is told), `firing` once it fires (its
 * escalation runs), `acknowledged` once someone took it (escalation stops; ack_timeout
 * resumes it), and `resolved` when its SLA is ok again (or inactive). One alert exists per
 * source, name and label set at a time; a later firing opens a new one.
 */
export type AlertState = 'pending' | 'firing' | 'acknowledged' | 'resolved';

/** SourceState: the states of an SLA (sla-event.md); a heartbeat maps to firing / ok. */
export type SourceState = 'ok' | 'pending' | 'firing' | 'unknown' | 'inactive';

/** Transition is a change of an SLA (or heartbeat) that alerts act on. */
export interface Transition {
  source: 'sla' | 'heartbeat';
  name: string;
  at: number;
  to: SourceState;
  message: string;
  /** false: the SLA's cooldown says not to notify (nor act) for this firing. */
  notify: boolean;
  severity: string;
  labels: Record<string, string>;
  escalate?: string;
  dependsOn: string[];
  value: number | boolean | null;
}

/** NoticeKind: what a notification says of an alert. */
export type NoticeKind = 'firing' | 'acknowledged' | 'resolved';

/** Step is one dispatched notification of an alert: an escalation level, or a notice to those told. */
export interface Step {
  /** `${id}:${run}:${cycle}:${level}` for levels, `${id}:ack${n}` and `${id}:resolved` for notices. */
  key: string;
  kind: NoticeKind;
  level: number;
  /** The contacts it went to (schedules resolved when it was dispatched). */
  to: string[];
  at: number;
}

/** Outcome of a delivery (one channel of one contact for one step). */
export type Outcome = 'sent' | 'failed' | 'skipped';

/** HistoryEntry is one line of an alert's history. */
export interface HistoryEntry {
  at: number;
  what: string;
  message: string;
}

/** GuardRecord is what an action's guard read for a decision: where, the value (null: unreadable), its bounds, the value after the run's step. */
export interface GuardRecord {
  source: string;
  value: number | null;
  min?: number;
  max?: number;
  step?: number;
  after?: number;
}

/**
 * ActionStatus: `running` then `ok` or `failed`; or declined: `cooldown`, `cap`
 * (max_per_day), `guard` (at a bound, or the guard could not be read), `elsewhere` (another
 * node of the cluster ran it for this firing, or is deciding it), `suppressed`.
 */
export type ActionStatus = 'running' | 'ok' | 'failed' | 'cooldown' | 'cap' | 'suppressed' | 'guard' | 'elsewhere';

/** ActionRun is one SLA action taken (or declined) for an alert, with the values that justified it. */
export interface ActionRun {
  at: number;
  action: string;
  /** The SLA's test value and message when it was decided. */
  value: number | boolean | null;
  message: string;
  status: ActionStatus;
  detail?: string;
  /** The guard's reading, when the action has one and it was read. */
  guard?: GuardRecord;
  /** The node that decided. */
  node?: string;
  /** A repeat (repeat: true) while the SLA still fires, not the firing itself. */
  repeat?: boolean;
}

/** Alert is an alert as the node keeps it. */
export interface Alert {
  id: string;
  key: string;
  source: 'sla' | 'heartbeat';
  sla: string;
  labels: Record<string, string>;
  severity: string;
  escalate?: string;
  dependsOn: string[];
  state: AlertState;
  /** When the current state began. */
  since: number;
  startedAt: number;
  firedAt?: number;
  ackedAt?: number;
  ackedBy?: string;
  resolvedAt?: number;
  value: number | boolean | null;
  message: string;
  /** Fired within its SLA's cooldown: nobody is told, nothing is run. */
  quiet: boolean;
  /** Escalation runs: the number of the current one and when it started. */
  run: number;
  runAt: number;
  acks: number;
  steps: Step[];
  /** Delivery key (`${step}|${contact}|${channel}`) → outcome: the notification log. */
  sent: Map<string, Outcome>;
  /** Contacts told of the firing (they hear of the ack and the resolution). */
  told: Set<string>;
  /** Ack-link nonces used. */
  links: Set<string>;
  history: HistoryEntry[];
  actions: ActionRun[];
  /** Why a due step is held (silenced, inhibited); in memory. */
  held?: string;
}

/** SilenceRecord is a silence from monitor.yaml or made over the API. */
export interface Silence {
  id: string;
  match: Record<string, string[]>;
  from?: number;
  until: number;
  comment: string;
  by?: string;
  createdAt: number;
  source: 'monitor.yaml' | 'api';
  /** Ended early over the API. */
  expiredAt?: number;
}

/** AlertRecord is one record of the alert log (src/durable), as JSON. */
export type AlertRecord =
  | { k: 'open'; id: string; key: string; src: Alert['source']; sla: string; labels: Record<string, string>; sev: string; esc?: string; dep: string[]; st: 'pending' | 'firing'; t: number; v: Alert['value']; m: string; q?: 1 }
  | { k: 'state'; id: string; st: AlertState; t: number; v?: Alert['value']; m?: string; by?: string; c?: string; nonce?: string; why?: string }
  /** Escalation (re)starts now: a new run from level 1. */
  | { k: 'run'; id: string; t: number }
  | { k: 'step'; id: string; s: Step }
  | { k: 'sent'; id: string; keys: string[]; t: number; r: Outcome; e?: string }
  | { k: 'note'; id: string; t: number; what: string; m: string }
  | { k: 'act'; id: string; sla: string; i: number; t: number; run: ActionRun }
  | { k: 'sil'; s: Silence }
  | { k: 'unsil'; sid: string; t: number };
