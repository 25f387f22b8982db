import { Cause, FAIL, Outcome, PASS, SlaState, Transition } from './types';

/** MachineOptions: the timing of one SLA (ms). */
export interface MachineOptions {
  name: string;
  forMs: number;
  keepFiringForMs: number;
  cooldownMs: number;
}

/** MachineSnapshot is what the SLA log keeps of a machine (see log.ts). */
export interface MachineSnapshot {
  state: SlaState;
  since: number;
  failingSince: number | null;
  lastNotified: number | null;
  firingNotified: boolean;
  value: number | boolean | null;
  message: string;
  at: number | null;
}

/**
 * SlaMachine is the state machine of one SLA, pure and clock-free: it is told outcomes
 * at times (observe), the passing of time (advance) and its window closing (deactivate),
 * and hands each state change to its sink as a Transition. `due()` is when time alone
 * would next change the state; the owner arms a deadline there.
 *
 * - A failure starts `pending` and fires once it has lasted `for` (at once when `for` is 0).
 * - A firing SLA whose test stops failing (passes, or is unknown) stays firing until it has
 *   not failed for `keep_firing_for`, then goes to what the latest outcome says.
 * - Entering firing is notified unless it is within `cooldown` of the last notified firing;
 *   the end of a notified firing (to ok or inactive) is notified too.
 *
 * observe and advance allocate nothing unless the state changes.
 */
export class SlaMachine {
  state: SlaState = 'unknown';
  since: number;
  /** Start of the current run of failures (pending, firing), else NaN. */
  failingSince = NaN;
  /** Firing: the first non-failing outcome since the last failure, else NaN. */
  private clearSince = NaN;
  /** Firing: the state the latest non-failing outcome leads to once keep_firing_for passed. */
  private clearTo: SlaState = 'ok';
  private lastNotified = -Infinity;
  /** A notified firing has not ended yet (the alerts have an open alert). */
  private firingNotified = false;
  /** Restored from the log and not observed since: time alone changes nothing. */
  private observed = true;
  /** The latest evaluation. */
  value: number | boolean | undefined = undefined;
  /** Its message, or the result to read it from when asked (rendering it costs more than an evaluation). */
  private msg: string | { readonly message: string } = '';
  at = NaN;
  noData = false;
  /** Set while a backfilled slot is observed: its transitions say so. */
  backfilling = false;
  /** When set, a transition's message comes from here (objective SLAs describe their burn). */
  describe?: () => string;

  constructor(private readonly o: MachineOptions, private readonly sink: (tr: Transition) => void, now: number) {
    this.since = now;
  }

  /** message is the latest evaluation's message (or why the window closed). */
  get message(): string {
    const m = this.msg;
    if (typeof m === 'string') return m;
    const text = m.message;
    this.msg = text;
    return text;
  }

  /** due is when time alone next changes the state (Infinity: never). */
  due(): number {
    if (!this.observed) return Infinity;
    if (this.state === 'pending') return this.failingSince + this.o.forMs;
    if (this.state === 'firing' && this.clearSince === this.clearSince) return this.clearSince + this.o.keepFiringForMs;
    return Infinity;
  }

  /** advance applies the time-driven change due at or before `at`, at its due time. */
  advance(at: number): void {
    const due = this.due();
    if (due > at) return;
    if (this.state === 'pending') this.change('firing', due, 'for');
    else this.change(this.clearTo, due, 'keep_firing_for');
  }

  /**
   * observe takes an evaluation's outcome at `at` (after no_data: `noData` says it was
   * unknown and counted as ok or fail), its value and message (or the result that
   * renders it when read).
   */
  observe(outcome: Outcome, at: number, value: number | boolean | undefined, message: string | { readonly message: string }, noData = false): void {
    this.advance(at);
    this.observed = true;
    this.value = value;
    this.msg = message;
    this.at = at;
    this.noData = noData;
    const s = this.state;
    if (outcome === FAIL) {
      if (s === 'firing') {
        this.clearSince = NaN;
      } else if (s === 'pending') {
        if (at - this.failingSince >= this.o.forMs) this.change('firing', at, 'evaluation');
      } else {
        this.failingSince = at;
        this.change(this.o.forMs > 0 ? 'pending' : 'firing', at, 'evaluation');
      }
      return;
    }
    const to: SlaState = outcome === PASS ? 'ok' : 'unknown';
    if (s === 'firing') {
      if (this.o.keepFiringForMs <= 0) {
        this.change(to, at, 'evaluation');
        return;
      }
      if (this.clearSince !== this.clearSince) this.clearSince = at;
      this.clearTo = to;
      if (at - this.clearSince >= this.o.keepFiringForMs) this.change(to, at, 'evaluation');
      return;
    }
    if (s !== to) this.change(to, at, 'evaluation');
  }

  /**
   * escalate tells of a firing that became more severe (an objective's burn): a firing →
   * firing transition at `at`, notified; the state and its since stay.
   */
  escalate(at: number, cause: Cause): void {
    if (this.state !== 'firing') return;
    this.lastNotified = at;
    this.firingNotified = true;
    const tr: Transition = {
      sla: this.o.name, from: 'firing', to: 'firing', at, previousSince: this.since, cause,
      message: this.describe ? this.describe() : this.message, value: this.value, notify: true, noData: this.noData,
    };
    if (this.backfilling) tr.backfilled = true;
    this.sink(tr);
  }

  /** begin sets the state without a transition (a new SLA that starts outside its window). */
  begin(state: SlaState, at: number, message: string): void {
    this.state = state;
    this.since = at;
    this.msg = message;
  }

  /** deactivate moves the SLA to inactive (its window closed, or it was removed). */
  deactivate(at: number, message: string, cause: Cause = 'window'): void {
    this.msg = message;
    this.value = undefined;
    this.noData = false;
    if (this.state !== 'inactive') this.change('inactive', at, cause);
  }

  private change(to: SlaState, at: number, cause: Cause): void {
    const from = this.state;
    const previousSince = this.since;
    let notify = false;
    let cooldownSince: number | undefined;
    let failingForMs: number | undefined;
    if (to === 'firing') {
      failingForMs = at - this.failingSince;
      notify = at - this.lastNotified >= this.o.cooldownMs;
      if (notify) this.lastNotified = at;
      else cooldownSince = this.lastNotified;
      this.firingNotified = this.firingNotified || notify;
      this.clearSince = NaN;
    } else if (to === 'ok' || to === 'inactive') {
      notify = this.firingNotified;
      this.firingNotified = false;
    }
    if (to !== 'pending' && to !== 'firing') this.failingSince = NaN;
    this.state = to;
    this.since = at;
    const tr: Transition = {
      sla: this.o.name, from, to, at, previousSince, cause,
      message: this.describe ? this.describe() : this.message,
      value: this.value, notify, noData: this.noData,
    };
    if (failingForMs !== undefined) tr.failingForMs = failingForMs;
    if (cooldownSince !== undefined) tr.cooldownSince = cooldownSince;
    if (this.backfilling) tr.backfilled = true;
    this.sink(tr);
  }

  /** snapshot is the machine as the SLA log keeps it. */
  snapshot(): MachineSnapshot {
    const num = (n: number): number | null => (Number.isFinite(n) ? n : null);
    return {
      state: this.state, since: this.since, failingSince: num(this.failingSince), lastNotified: num(this.lastNotified),
      firingNotified: this.firingNotified, value: this.value ?? null, message: this.message, at: num(this.at),
    };
  }

  /**
   * restore takes a snapshot back. Until the next observation time alone changes nothing:
   * a pending SLA fires on the first failing evaluation after the restart that finds it
   * failing for `for` since it began, and a keep_firing_for restarts.
   */
  restore(s: MachineSnapshot): void {
    this.state = s.state;
    this.since = s.since;
    this.failingSince = s.failingSince ?? NaN;
    this.lastNotified = s.lastNotified ?? -Infinity;
    this.firingNotified = s.firingNotified;
    this.value = s.value ?? undefined;
    this.msg = s.message;
    this.at = s.at ?? NaN;
    this.clearSince = NaN;
    this.observed = false;
  }
}
