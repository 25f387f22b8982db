import { Difference, HeartbeatOptions, Override } from './options';

/**
 * The heartbeat contract: states, signals, journal records and what the API shows.
 *
 * A heartbeat is `new` until its first success, `up` while successes come in time, `late`
 * past its deadline but within grace, `down` past deadline + grace (or after a failure, or
 * a run longer than max_runtime), and `paused` while it has no deadlines.
 */
export type BeatState = 'new' | 'up' | 'late' | 'down' | 'paused';

/** SignalKind: what a job reports. `exit` carries an exit code (0 is a success). */
export type SignalKind = 'success' | 'start' | 'fail' | 'exit';

/** Signal is one report as the HTTP route or RPC receives it. */
export interface Signal {
  kind: SignalKind;
  /** For kind exit: 0-255. */
  exitCode?: number;
  /** Run id, pairing a start with its success or failure when runs overlap. */
  rid?: string;
  /** The request body, already cut to BODY_LIMIT bytes. */
  body?: string;
}

/** BODY_LIMIT: bytes of a signal's body kept (the rest is cut, not refused). */
export const BODY_LIMIT = 10 * 1024;
/** RID_PATTERN: what a run id may look like. */
export const RID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** NAME_PATTERN: heartbeat names, as block names (they name series and URLs). */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * HbRecord is one line of the journal. Signals (`ok`, `start`, `fail`) and the timer's
 * findings (`late`, `miss`, `overrun`) are records alike, so replaying the journal gives
 * the same state, and a deadline whose miss was recorded never fires again.
 */
export type HbRecord =
  /** First seen: deadlines of a heartbeat that never reported count from here. */
  | { k: 'seen'; n: string; t: number }
  /** A runtime edit: the whole override (c: created at run time, not in monitor.yaml). */
  | { k: 'def'; n: string; t: number; o: Override; c?: 1 }
  | { k: 'ok'; n: string; t: number; r?: string; x?: number; b?: string }
  | { k: 'start'; n: string; t: number; r?: string; b?: string }
  | { k: 'fail'; n: string; t: number; r?: string; x?: number; b?: string }
  /** Deadline d passed; within grace. */
  | { k: 'late'; n: string; t: number; d: number }
  /** Deadlines up to d passed with their grace, c of them; down since s. */
  | { k: 'miss'; n: string; t: number; d: number; c: number; s: number }
  /** Run r, started at s, did not finish within max_runtime. */
  | { k: 'overrun'; n: string; t: number; r: string; s: number };

/** EventKind: the state changes a heartbeat logs and shows; each is a distinct event. */
export type EventKind = 'up' | 'late' | 'down' | 'missed' | 'recovered' | 'paused' | 'resumed' | 'created' | 'edited';

/** HbEvent is one state change. */
export interface HbEvent {
  name: string;
  kind: EventKind;
  /** Epoch ms. */
  at: number;
  message: string;
}

/** HistoryEntry is one signal as the UI shows it. */
export interface HistoryEntry {
  at: number;
  kind: SignalKind;
  exitCode?: number;
  rid?: string;
  runtimeS?: number;
  body?: string;
}

/** HeartbeatView is a heartbeat in /api/heartbeats. Times are ISO-8601 or null. */
export interface HeartbeatView {
  name: string;
  state: BeatState;
  description: string;
  /** "every 1d" or "cron 0 3 * * * (Europe/Berlin)". */
  schedule: string;
  period: string | null;
  cron: string | null;
  tz: string | null;
  grace: string;
  maxRuntime: string;
  /** monitor.yaml, or runtime (created by remon config or a first signal with auto_create). */
  source: 'monitor.yaml' | 'runtime';
  /** Keys whose runtime value differs from monitor.yaml (until written back). */
  differs: Difference[];
  options: HeartbeatOptions;
  createdAt: string | null;
  lastSuccess: string | null;
  lastSignal: string | null;
  lastSignalKind: SignalKind | null;
  /** When the next deadline is; late after it, down after it plus grace. */
  nextDeadline: string | null;
  /** When it turns down if nothing arrives (deadline + grace, or a run's max_runtime). */
  downAt: string | null;
  downSince: string | null;
  errorCount: number;
  lastRuntimeS: number | null;
  /** Runs started and not finished: [{rid, since}]. */
  running: Array<{ rid: string | null; since: string }>;
}

/** HeartbeatDetail adds the history kept for the UI. */
export interface HeartbeatDetail extends HeartbeatView {
  signals: Array<Omit<HistoryEntry, 'at'> & { at: string }>;
  events: Array<Omit<HbEvent, 'name' | 'at'> & { at: string }>;
}
