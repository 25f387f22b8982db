import type { Clock, Timed } from '../clock';
import { createError, errorMessage, RemonError } from '../errors';
import { SlaMachine } from './machine';
import { Slo } from './slo';
import { EvalResult, FAIL, Outcome, PASS, SlaSpec, SlaState, TestEval, Transition, UNKNOWN } from './types';
import { ActiveWindow, SlotSchedule } from './window';

/** Objective SLAs re-check their burn rates this often when no other period is given. */
export const SLO_RECHECK_MS = 60_000;

/** SlaHost is what an Sla needs from its set (set.ts). */
export interface SlaHost {
  readonly clock: Clock;
  /** When the set started: slots before it are missed ones (backfilled), after it live ones. */
  readonly startedAt: number;
  readonly sampleEveryMs: number;
  /** Re-arm the SLA's deadline at sla.nextAlarm(). */
  arm(sla: Sla): void;
  /** A state change: persisted, then handed out. */
  transition(sla: Sla, tr: Transition): void;
  /** Persist a slots SLA's watermark (the slot just evaluated) when no transition did. */
  persist(sla: Sla): void;
  /** Time for the SLA's periodic samples. */
  sample(sla: Sla, at: number): void;
  /**
   * More than one slot is due, or one from before the start: evaluate those before the
   * start from stored data (backfill) and the others live, then call sla.caughtUp.
   */
  catchUp(sla: Sla, now: number): void;
  /** An evaluation threw (counted; logged once per SLA). */
  evalFailed(sla: Sla, err: RemonError): void;
}

/** SlaStats: what one SLA has done since it was added. */
export interface SlaStats {
  evaluations: number;
  errors: number;
  transitions: number;
  /** Slots evaluated from stored data, and slots left out (more missed than the bound, or no backfill). */
  backfilled: number;
  skipped: number;
  /** Outages that missed more slots than the bound: the oldest were left out, not counted in skipped. */
  overflows: number;
}

/**
 * Sla is one SLA at run time: its state machine, its window or slots, its objective, and
 * its test. The set (set.ts) creates it, persists it and arms its deadline; the
 * integrator calls `evaluate` when an input of its test has a new sample (samples mode).
 * A slots SLA is evaluated by the set at each slot.
 */
export class Sla implements Timed {
  alarm = Infinity;
  heapIndex = -1;
  readonly name: string;
  readonly machine: SlaMachine;
  readonly slo?: Slo;
  readonly window?: ActiveWindow;
  readonly slots?: SlotSchedule;
  /** Slots SLAs: the last slot evaluated (every earlier one was evaluated once). */
  watermark = -Infinity;
  /** A watermark moved that no record holds yet. */
  unsaved = false;
  /** In the window (samples mode); a slots SLA is always active. */
  active = true;
  /** Backfill in flight: the slot alarm waits for it. */
  catchingUp = false;
  /** An objective SLA whose counts are being rebuilt: evaluations count, the state waits. */
  rebuilding = false;
  /** Initialized by the set (restored, window looked at, deadline armed). */
  started = false;
  readonly stats: SlaStats = { evaluations: 0, errors: 0, transitions: 0, backfilled: 0, skipped: 0, overflows: 0 };
  lastError?: { message: string; at: number };
  private windowChange = Infinity;
  private nextSlot = Infinity;
  private nextCheck = Infinity;
  private readonly everyMs: number;
  private lastEvalAt = -Infinity;
  private lastSampleAt = -Infinity;
  private readonly noDataOutcome: Outcome;
  private readonly oneSlot = [0];
  /** Objective SLAs: the burn alert (index, lower is more severe) the current firing was told with. */
  private firedBurn = Infinity;

  constructor(readonly spec: SlaSpec, readonly test: TestEval, private readonly host: SlaHost, shared: { window?: ActiveWindow; slots?: SlotSchedule }) {
    this.name = spec.name;
    this.machine = new SlaMachine(
      { name: spec.name, forMs: spec.forMs ?? 0, keepFiringForMs: spec.keepFiringForMs ?? 0, cooldownMs: spec.cooldownMs ?? 0 },
      (tr) => this.changed(tr),
      host.clock.now(),
    );
    if (spec.mode === 'slots') this.slots = shared.slots;
    else this.window = shared.window;
    if (spec.objective) {
      const slo = new Slo(spec.objective);
      this.slo = slo;
      this.machine.describe = () => slo.describe();
    }
    this.everyMs = spec.everyMs ?? (spec.objective && spec.mode !== 'slots' ? SLO_RECHECK_MS : 0);
    this.noDataOutcome = spec.noData === 'ok' ? PASS : spec.noData === 'fail' ? FAIL : UNKNOWN;
  }

  get state(): SlaState {
    return this.machine.state;
  }

  get since(): number {
    return this.machine.since;
  }

  /**
   * evaluate runs the test as of `at` (default now) and applies the outcome: the state
   * changes, if it does, before this returns. The path allocates nothing of its own when
   * the state does not change. It does nothing outside the window, before the set
   * started, and for a slots SLA (the set evaluates those at their slots).
   */
  evaluate(at: number = this.host.clock.now()): void {
    if (!this.active || !this.started || this.slots) return;
    this.step(this.test, at);
    if (this.nextAlarm() !== this.alarm) this.host.arm(this);
  }

  /** nextAlarm is the next time something is due: a timed transition, a window change, a slot, a re-check. */
  nextAlarm(): number {
    let t = this.machine.due();
    if (this.windowChange < t) t = this.windowChange;
    if (!this.catchingUp && this.nextSlot < t) t = this.nextSlot;
    if (this.nextCheck < t) t = this.nextCheck;
    return t;
  }

  /** step evaluates one test at `at` and feeds the outcome to the machine (and objective). */
  step(test: TestEval, at: number): void {
    let r: EvalResult;
    try {
      r = test.evaluate(at);
    } catch (err) {
      const e = createError('REMON_ERR_SLA_EVAL', `evaluation failed: ${errorMessage(err)}`, err);
      this.stats.errors++;
      this.lastError = { message: e.message, at };
      this.host.evalFailed(this, e);
      r = { value: undefined, message: e.message };
    }
    this.stats.evaluations++;
    this.lastEvalAt = at;
    const v = r.value;
    let o: Outcome = v === true ? PASS : v === false ? FAIL : typeof v === 'number' && v === v ? (v !== 0 ? PASS : FAIL) : UNKNOWN;
    const noData = o === UNKNOWN && this.noDataOutcome !== UNKNOWN;
    if (noData) o = this.noDataOutcome;
    const slo = this.slo;
    if (slo) {
      slo.add(at, o);
      if (!this.rebuilding) this.observeSlo(at, r);
    } else {
      this.machine.observe(o, at, v, r, noData);
    }
    if (at - this.lastSampleAt >= this.host.sampleEveryMs) {
      this.lastSampleAt = at;
      this.host.sample(this, at);
    }
  }

  /**
   * init looks at the window and slots at `now` and arms the deadline. A new SLA (nothing
   * restored) outside its window starts inactive without a transition; a restored one
   * changes to inactive, or is evaluated at once when it was inactive and its window is open.
   */
  init(now: number, restored: boolean): void {
    this.started = true;
    if (this.window) {
      this.active = this.window.isActive(now);
      this.windowChange = this.window.changeAfter(now);
      if (!this.active) {
        if (restored) this.machine.deactivate(now, this.outsideMessage());
        else this.machine.begin('inactive', now, this.outsideMessage());
      } else if (this.machine.state === 'inactive') {
        this.opened(now);
      }
    }
    if (this.slots) {
      if (this.watermark === -Infinity) {
        // New: nothing is missed before now; the record makes a crash before the first slot count.
        this.watermark = now;
        this.unsaved = true;
        this.host.persist(this);
      }
      this.nextSlot = this.slots.next(this.watermark);
    }
    if (this.everyMs > 0) this.nextCheck = now + this.everyMs;
    this.onAlarm(now);
  }

  /** onAlarm handles everything due at or before now, in time order, and re-arms. */
  onAlarm(now: number): void {
    for (let guard = 0; guard < 10_000; guard++) {
      const due = this.machine.due();
      const t = this.nextAlarm();
      if (t > now) break;
      if (t === due) this.machine.advance(t);
      else if (t === this.windowChange) this.windowTick(t, now);
      else if (t === this.nextSlot) this.slotsDue(now);
      else this.recheck(now);
    }
    this.host.arm(this);
  }

  /** evaluateSlots evaluates slots in order with `test`, each once (a backfill passes its evaluator). */
  evaluateSlots(test: TestEval, slots: readonly number[], backfilled: boolean): void {
    this.machine.backfilling = backfilled;
    try {
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i];
        if (s <= this.watermark) continue;
        this.watermark = s;
        this.unsaved = true;
        this.step(test, s);
        if (backfilled) this.stats.backfilled++;
        if (this.unsaved) this.host.persist(this);
      }
    } finally {
      this.machine.backfilling = false;
    }
  }

  /** skipSlots moves the watermark over slots that will not be evaluated (counted). */
  skipSlots(count: number, upTo: number): void {
    if (upTo <= this.watermark) return;
    this.stats.skipped += count;
    this.watermark = upTo;
    this.unsaved = true;
    this.host.persist(this);
  }

  /** caughtUp ends a backfill: the slots due meanwhile are evaluated and the alarm re-armed. */
  caughtUp(now: number): void {
    this.catchingUp = false;
    if (this.slots) this.nextSlot = this.slots.next(this.watermark);
    this.onAlarm(now);
  }

  /** rebuilt ends an objective's rebuild: its burn is checked now. */
  rebuilt(now: number): void {
    this.rebuilding = false;
    if (this.slo && this.active && this.started) {
      this.checkSlo(now);
      this.host.arm(this);
    }
  }

  /** deactivate moves the SLA to inactive (it is being removed). */
  deactivate(now: number, message: string): void {
    this.machine.deactivate(now, message, 'removed');
  }

  private slotsDue(now: number): void {
    const slots = this.slots!;
    const s = this.nextSlot;
    if (s >= this.host.startedAt && slots.next(s) > now) {
      // The common case: one slot, on time.
      this.oneSlot[0] = s;
      this.evaluateSlots(this.test, this.oneSlot, false);
    } else {
      this.catchingUp = true;
      this.host.catchUp(this, now);
    }
    this.nextSlot = this.catchingUp ? Infinity : slots.next(this.watermark);
  }

  private windowTick(t: number, now: number): void {
    const w = this.window!;
    const active = w.isActive(t);
    this.windowChange = w.changeAfter(t);
    if (active === this.active) return;
    this.active = active;
    if (!active) this.machine.deactivate(t, this.outsideMessage());
    else this.opened(Math.max(t, now));
  }

  /** opened evaluates at once when the window opens (an objective re-checks its burn). */
  private opened(at: number): void {
    if (this.slo) this.checkSlo(at);
    else this.step(this.test, at);
  }

  private checkSlo(at: number): void {
    if (!this.rebuilding) this.observeSlo(at, this.machine.message);
  }

  /** observeSlo feeds the objective's burn to the machine; a firing whose burn got more severe escalates. */
  private observeSlo(at: number, message: string | { readonly message: string }): void {
    const slo = this.slo!;
    this.machine.observe(slo.check(at), at, slo.value(), message);
    if (this.machine.state === 'firing' && slo.firing >= 0 && slo.firing < this.firedBurn) this.machine.escalate(at, 'burn');
  }

  private recheck(now: number): void {
    this.nextCheck = now + this.everyMs;
    if (!this.active) return;
    if (this.slo) {
      this.checkSlo(now);
    } else if (now - this.lastEvalAt >= this.everyMs) {
      this.step(this.test, now);
    }
  }

  private outsideMessage(): string {
    return `outside its window, ${this.window!.describe()}`;
  }

  private changed(tr: Transition): void {
    this.stats.transitions++;
    const slo = this.slo;
    if (slo) {
      if (slo.firing >= 0 && (tr.to === 'firing' || tr.to === 'pending')) tr.burn = slo.alerts[slo.firing].name;
      if (tr.from === 'firing' && tr.to === 'firing' && this.firedBurn < slo.alerts.length) tr.escalatedFrom = slo.alerts[this.firedBurn].name;
      this.firedBurn = tr.to === 'firing' && slo.firing >= 0 ? slo.firing : Infinity;
    }
    // The transition carries the samples (events.ts): the periodic ones start over from it.
    this.lastSampleAt = tr.at;
    this.host.transition(this, tr);
  }
}
