/**
 * The contract of SLA tests (src/sla): what the expression engine gives them (TestEval),
 * what an SLA is made from (SlaSpec, filled from a `slas:` entry of monitor.yaml), and what
 * comes out of one (Transition). Everything else in the folder is the machinery between.
 */

/** EvalResult is one evaluation of a test: its value and a line showing the values it saw. */
export interface EvalResult {
  /** true or a non-zero number passes; false or 0 fails; undefined (or NaN) is unknown. */
  value: number | boolean | undefined;
  /** The values seen, for a person: `homepage.fast_ratio (0.65) >= 0.8`. */
  message: string;
}

/**
 * TestEval is a test as the expression engine compiles it: `evaluate(at)` evaluates it as
 * of time `at` (epoch ms) over the data it holds. A live evaluator is asked about times
 * since the node started (now, or a slot that just passed); one made by a backfill
 * callback is asked about the slots it was made for. It may throw: that is an unknown
 * outcome, counted and logged once.
 */
export interface TestEval {
  evaluate(at: number): EvalResult;
}

/** SlaState is what an SLA is: its test passing, failing for less than `for`, firing, unknown, or outside its window. */
export type SlaState = 'ok' | 'pending' | 'firing' | 'unknown' | 'inactive';

/** NoData says what an unknown outcome counts as. */
export type NoData = 'ok' | 'fail' | 'unknown';

/** Outcome of one evaluation, after no_data (numbers: compared on the hot path). */
export const PASS = 0;
export const FAIL = 1;
export const UNKNOWN = 2;
export type Outcome = typeof PASS | typeof FAIL | typeof UNKNOWN;

/** Window is a cron in a time zone: `during` of an SLA. */
export interface CronWindow {
  cron: string;
  /** IANA time zone; default UTC. */
  tz?: string;
}

/** BurnAlert is one multi-window burn-rate alert (SRE workbook): burn above factor over both windows. */
export interface BurnAlert {
  name: string;
  factor: number;
  /** Window lengths, ms. */
  longMs: number;
  shortMs: number;
}

/** Objective is an SLO: the share of good evaluations to keep over a rolling window. */
export interface Objective {
  /** 0.999 for 99.9%. */
  target: number;
  windowMs: number;
  /** Default: DEFAULT_BURN_ALERTS (fast 14.4× 1h/5m, slow 6× 6h/30m, ticket 1× 3d/6h). */
  burn?: readonly BurnAlert[];
}

/**
 * SlaSpec is one SLA as the `slas:` section builds it (durations in ms). The test itself
 * is the TestEval given beside it; for an objective SLA that evaluator is the `good`
 * condition, and the state comes from the burn-rate alerts.
 */
export interface SlaSpec {
  name: string;
  /** A failure must last this long before it fires; pending meanwhile [0]. */
  forMs?: number;
  /** A firing SLA stays firing this long after its test stops failing [0]. */
  keepFiringForMs?: number;
  /** A new firing within this long after a notified one is not notified again [0]. */
  cooldownMs?: number;
  /** What an unknown outcome counts as ['unknown']. */
  noData?: NoData;
  /**
   * 'samples' (default): evaluated when the integrator calls evaluate (on its inputs'
   * samples); `during` is the active window, inactive outside it.
   * 'slots': evaluated at each fire time of `during` (required) by the set itself; slots
   * missed while the node was down are backfilled; the state holds between slots.
   */
  mode?: 'samples' | 'slots';
  during?: CronWindow;
  /** Also re-evaluate this often with no sample (samples mode; objective SLAs re-check their burn each minute by default). */
  everyMs?: number;
  objective?: Objective;
  /** Carried to the event for the alerts (see events.ts). */
  severity?: string;
  labels?: Readonly<Record<string, string>>;
  escalate?: string;
  dependsOn?: readonly string[];
}

/**
 * Cause says what made a transition: an evaluation, time (`for` passed, `keep_firing_for`
 * passed), the window, the SLA's removal, or (firing → firing) a more severe burn-rate alert.
 */
export type Cause = 'evaluation' | 'for' | 'keep_firing_for' | 'window' | 'removed' | 'burn';

/**
 * Transition is one state change of an SLA, with the evaluation that caused it. A
 * time-driven one (pending → firing once `for` passed) carries the last evaluation's
 * message and value and happens at its due time.
 */
export interface Transition {
  sla: string;
  from: SlaState;
  to: SlaState;
  /** Epoch ms of the change: the new state's since. */
  at: number;
  /** When the state left began. */
  previousSince: number;
  cause: Cause;
  /** The evaluation's message (the values it saw), or why the window closed. */
  message: string;
  value: number | boolean | undefined;
  /**
   * Whether the alerts should tell someone: true when entering firing outside the cooldown
   * of the last notified firing, and when a notified firing ends (to ok or inactive).
   */
  notify: boolean;
  /** The outcome was unknown and no_data made it count as ok or fail. */
  noData: boolean;
  /** How long the test had been failing when it fired (firing only). */
  failingForMs?: number;
  /** A firing within cooldown: when the last notified firing was. */
  cooldownSince?: number;
  /** The evaluation was of a missed slot, from stored data. */
  backfilled?: boolean;
  /** Objective SLAs: the burn-rate alert that fired (the most severe when several). */
  burn?: string;
  /**
   * firing → firing: an objective SLA already firing whose burn became more severe (ticket
   * → slow → fast) says so, notified; `at` is when, previousSince when the firing began.
   */
  escalatedFrom?: string;
}
