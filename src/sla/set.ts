import * as path from 'node:path';
import { Clock, Deadlines } from '../clock';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { transitionMessage } from './events';
import { SlaLog } from './log';
import { Sla, SlaHost, SlaStats } from './sla';
import { EvalResult, SlaSpec, SlaState, TestEval, Transition } from './types';
import { ActiveWindow, SlotSchedule } from './window';

/** MAX_BACKFILL_SLOTS: after an outage, at most this many missed slots of one SLA are evaluated (the newest). */
export const MAX_BACKFILL_SLOTS = 10_000;

/**
 * Backfill makes an evaluator over stored data for the slots `from` to `to` (epoch ms, the
 * first and last missed slot of an SLA; the evaluator reaches back its own lookback from
 * `from`). The set then calls evaluate(slot) for each slot in between, in order.
 */
export type Backfill = (name: string, from: number, to: number) => TestEval | Promise<TestEval>;

/**
 * Rebuild fills an objective's counts from stored series: it calls add(t, good, bad) for
 * the evaluations (or shares of a consolidated step: fractions are fine) at from <= t < to.
 * Later evaluations are counted live.
 */
export type Rebuild = (name: string, from: number, to: number, add: (t: number, good: number, bad: number) => void) => void | Promise<void>;

/** SlaSetOptions: the node's seams and the integrator's callbacks. */
export interface SlaSetOptions {
  clock: Clock;
  /** node.data/sla: the SLA log (watermarks and states). Without it nothing is persisted. */
  dir?: string;
  log?: Logger;
  /** Each state change, after it was persisted (synchronously, in the call that caused it). */
  onTransition?: (tr: Transition, sla: Sla) => void;
  /**
   * Time for an SLA's samples (sla.<name>.ok, budget_remaining; see slaSamples): at most every
   * sampleEveryMs while it is evaluated. A transition's samples go with onTransition.
   */
  onSample?: (sla: Sla, at: number) => void;
  backfill?: Backfill;
  rebuild?: Rebuild;
  /** [MAX_BACKFILL_SLOTS] */
  maxBackfillSlots?: number;
  /** [10 s] */
  sampleEveryMs?: number;
  /** Snapshot the SLA log past this many bytes [8 MiB]. */
  compactBytes?: number;
}

/** SlaStatus is one SLA as /api/slas shows it. */
export interface SlaStatus {
  name: string;
  state: SlaState;
  since: number;
  /** The last evaluation: its time, value (null: unknown) and message. */
  at: number | null;
  value: number | boolean | null;
  message: string;
  mode: 'samples' | 'slots';
  watermark?: number;
  budgetRemaining?: number;
  burn?: string;
  lastError?: { message: string; at: number };
  stats: SlaStats;
}

/** SetStats: totals over every SLA, and failures of the set's own work. */
export interface SetStats {
  slas: number;
  evaluations: number;
  transitions: number;
  errors: number;
  backfilled: number;
  skipped: number;
  backfillFailures: number;
  rebuildFailures: number;
  persistFailures: number;
  callbackFailures: number;
}

/**
 * SlaSet runs a node's SLAs: it builds each from its spec and test (add), restores it from
 * the SLA log, keeps one deadline per SLA on the one deadline service (timed transitions,
 * window changes, slots, re-checks), evaluates slots SLAs at their slots and backfills the
 * slots missed while the node was down, rebuilds objectives' counts, and hands out each
 * state change after writing it to the log. Failures of evaluators, callbacks and the log
 * are counted and logged once; they never escape.
 */
export class SlaSet {
  private readonly slas = new Map<string, Sla>();
  private readonly deadlines: Deadlines<Sla>;
  private readonly windows = new Map<string, ActiveWindow>();
  private readonly schedules = new Map<string, SlotSchedule>();
  private slaLog?: SlaLog;
  private readonly host: SlaHost;
  private startedAt = NaN;
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly logged = new Set<string>();
  private readonly counts = { backfillFailures: 0, rebuildFailures: 0, persistFailures: 0, callbackFailures: 0 };
  private readonly maxBackfill: number;

  constructor(private readonly o: SlaSetOptions) {
    this.deadlines = new Deadlines<Sla>(o.clock, (sla, now) => sla.onAlarm(now));
    this.maxBackfill = o.maxBackfillSlots ?? MAX_BACKFILL_SLOTS;
    const set = this;
    this.host = {
      clock: o.clock,
      get startedAt() {
        return set.startedAt;
      },
      sampleEveryMs: o.sampleEveryMs ?? 10_000,
      arm: (sla) => this.deadlines.set(sla, sla.nextAlarm()),
      transition: (sla, tr) => this.transition(sla, tr),
      persist: (sla) => this.persist(sla),
      sample: (sla, at) => this.call('onSample', () => this.o.onSample?.(sla, at)),
      catchUp: (sla, now) => this.catchUp(sla, now),
      evalFailed: (sla, err) => this.once(`eval ${sla.name}`, { sla: sla.name, err: err.message }, 'SLA test evaluation failed (further failures are counted)'),
    };
  }

  /**
   * add builds an SLA from its spec and test. Before start it waits for start; after, it is
   * restored and armed at once. Throws REMON_ERR_SLA_INVALID for a spec that does not hold.
   */
  add(spec: SlaSpec, test: TestEval): Sla {
    const problem = specProblem(spec) ?? (this.slas.has(spec.name) ? `an SLA is named "${spec.name}" already` : undefined);
    if (problem) throw createError('REMON_ERR_SLA_INVALID', `SLA "${spec.name}": ${problem}`);
    const w = spec.during;
    const key = w && `${w.cron}\u0000${w.tz ?? 'UTC'}`;
    const shared: { window?: ActiveWindow; slots?: SlotSchedule } = {};
    try {
      if (w && spec.mode === 'slots') shared.slots = getOr(this.schedules, key!, () => new SlotSchedule(w));
      else if (w) shared.window = getOr(this.windows, key!, () => new ActiveWindow(w));
    } catch (err) {
      throw createError('REMON_ERR_SLA_INVALID', `SLA "${spec.name}": during: ${errorMessage(err)}`, err);
    }
    const sla = new Sla(spec, test, this.host, shared);
    this.slas.set(spec.name, sla);
    if (this.isStarted) this.begin(sla, this.o.clock.now());
    return sla;
  }

  /**
   * remove takes an SLA away. It goes to inactive first (a firing one is resolved) unless
   * `quiet` (a reload that adds it again under the same name keeps its state and watermark
   * through the log).
   */
  remove(name: string, quiet = false): boolean {
    const sla = this.slas.get(name);
    if (!sla) return false;
    if (!quiet && sla.started && !this.stopped) sla.deactivate(this.o.clock.now(), 'removed from the configuration');
    this.deadlines.delete(sla);
    sla.started = false;
    this.slas.delete(name);
    return true;
  }

  get(name: string): Sla | undefined {
    return this.slas.get(name);
  }

  get size(): number {
    return this.slas.size;
  }

  private get isStarted(): boolean {
    return this.startedAt === this.startedAt && !this.stopped;
  }

  /**
   * start opens the SLA log, restores and arms every SLA, and begins backfills and
   * rebuilds; `ready` resolves when those are done. Throws REMON_ERR_SLA_LOG or
   * REMON_ERR_DATA_IN_USE when the log cannot be opened.
   */
  start(): void {
    if (this.isStarted) return;
    if (this.o.dir) this.slaLog = SlaLog.open({ dir: path.resolve(this.o.dir), log: this.o.log, compactBytes: this.o.compactBytes });
    this.stopped = false;
    this.startedAt = this.o.clock.now();
    for (const sla of this.slas.values()) this.begin(sla, this.startedAt);
  }

  /** ready resolves when the backfills and rebuilds begun so far are done. */
  async ready(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** stop disarms every SLA and closes the log; backfills still out are ignored when they end. */
  stop(): void {
    this.stopped = true;
    this.deadlines.stop();
    for (const sla of this.slas.values()) sla.started = false;
    this.slaLog?.close();
    this.slaLog = undefined;
  }

  /** abandon stops as kill -9 would (tests): nothing more is written. */
  abandon(): void {
    this.stopped = true;
    this.deadlines.stop();
    this.slaLog?.abandon();
    this.slaLog = undefined;
  }

  /** status is one SLA's status. */
  status(name: string): SlaStatus | undefined {
    const sla = this.slas.get(name);
    return sla && statusOf(sla);
  }

  /** list is every SLA's status, in the order they were added. */
  list(): SlaStatus[] {
    return [...this.slas.values()].map(statusOf);
  }

  stats(): SetStats {
    const s: SetStats = { slas: this.slas.size, evaluations: 0, transitions: 0, errors: 0, backfilled: 0, skipped: 0, ...this.counts };
    for (const sla of this.slas.values()) {
      s.evaluations += sla.stats.evaluations;
      s.transitions += sla.stats.transitions;
      s.errors += sla.stats.errors;
      s.backfilled += sla.stats.backfilled;
      s.skipped += sla.stats.skipped;
    }
    return s;
  }

  private begin(sla: Sla, now: number): void {
    const rec = this.slaLog?.get(sla.name);
    if (rec) {
      sla.machine.restore(rec.m);
      if (sla.slots && rec.w !== undefined) sla.watermark = rec.w;
    }
    if (sla.slo && this.o.rebuild) this.rebuild(sla, now);
    sla.init(now, !!rec);
  }

  private rebuild(sla: Sla, now: number): void {
    const slo = sla.slo!;
    sla.rebuilding = true;
    const add = (t: number, good: number, bad: number): void => {
      if (t < now) slo.addCounts(t, good, bad);
    };
    const done = (err?: unknown): void => {
      if (err !== undefined) {
        this.counts.rebuildFailures++;
        this.once(`rebuild ${sla.name}`, { sla: sla.name, err: errorMessage(err) }, 'SLO counts could not be rebuilt from stored series; counting from now');
      }
      if (sla.started) sla.rebuilt(this.o.clock.now());
      else sla.rebuilding = false;
    };
    let out: void | Promise<void>;
    try {
      out = this.o.rebuild!(sla.name, now - sla.slo!.objective.windowMs, now, add);
    } catch (err) {
      sla.rebuilding = false;
      done(err);
      return;
    }
    if (out && typeof out.then === 'function') this.track(out.then(() => done(), done));
    else sla.rebuilding = false; // init checks the burn right after
  }

  private catchUp(sla: Sla, now: number): void {
    const missed = sla.slots!.missed(sla.watermark, now, this.maxBackfill);
    if (missed.skipped) {
      sla.stats.overflows++;
      this.o.log?.warn({ sla: sla.name, from: iso(missed.skipped.from), to: iso(missed.skipped.to), max: this.maxBackfill },
        'more slots were missed than are backfilled; the oldest are left out');
      sla.skipSlots(0, missed.skipped.to);
    }
    const slots = missed.slots;
    let live = 0;
    while (live < slots.length && slots[live] < this.startedAt) live++;
    const before = slots.slice(0, live);
    const after = slots.slice(live);
    if (before.length === 0) {
      sla.evaluateSlots(sla.test, after, false);
      sla.catchingUp = false;
      return;
    }
    if (!this.o.backfill) {
      this.once('no backfill', { sla: sla.name, slots: before.length }, 'slots missed while the node was down are skipped: no backfill is set up');
      sla.skipSlots(before.length, before[before.length - 1]);
      sla.evaluateSlots(sla.test, after, false);
      sla.catchingUp = false;
      return;
    }
    const from = before[0];
    const to = before[before.length - 1];
    const finish = (test: TestEval): void => {
      if (!sla.started) return;
      sla.evaluateSlots(test, before, true);
      if (sla.started) sla.caughtUp(this.o.clock.now());
    };
    const failed = (err: unknown): TestEval => {
      this.counts.backfillFailures++;
      const e = createError('REMON_ERR_SLA_BACKFILL', `no stored data for a missed slot: ${errorMessage(err)}`, err);
      this.once(`backfill ${sla.name}`, { sla: sla.name, err: e.message }, 'SLA backfill failed; the missed slots count as unknown');
      const r: EvalResult = { value: undefined, message: e.message };
      return { evaluate: () => r };
    };
    let made: TestEval | Promise<TestEval>;
    try {
      made = this.o.backfill(sla.name, from, to);
    } catch (err) {
      made = failed(err);
    }
    if (isPromise(made)) {
      // The slot alarm waits (catchingUp) until the backfill is evaluated; caughtUp re-arms.
      this.track(made.then(finish, (err) => finish(failed(err))));
      return;
    }
    sla.evaluateSlots(made, before, true);
    sla.evaluateSlots(sla.test, after, false);
    sla.catchingUp = false;
  }

  private transition(sla: Sla, tr: Transition): void {
    this.persist(sla);
    this.o.log?.info({ sla: tr.sla, from: tr.from, to: tr.to, at: iso(tr.at), notify: tr.notify, ...(tr.backfilled && { backfilled: true }) }, transitionMessage(tr, sla.spec));
    const cb = this.o.onTransition;
    if (cb) this.call('onTransition', () => cb(tr, sla));
  }

  private persist(sla: Sla): void {
    sla.unsaved = false;
    const log = this.slaLog;
    if (!log) return;
    try {
      log.write({ n: sla.name, ...(sla.slots && { w: sla.watermark }), m: sla.machine.snapshot() }, (name) => this.slas.has(name));
    } catch (err) {
      this.counts.persistFailures++;
      this.once('persist', { err: errorMessage(err) }, 'SLA log write failed; states and watermarks are not kept until it works again (further failures are counted)');
    }
  }

  private call(what: 'onTransition' | 'onSample', fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.counts.callbackFailures++;
      this.once(what, { callback: what, err: errorMessage(err) }, 'SLA callback failed (further failures are counted)');
    }
  }

  private track(p: Promise<void>): void {
    const settled = p.catch((err) => this.once('internal', { err: errorMessage(err) }, 'SLA background work failed')).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
  }

  /** once logs a kind of failure the first time it happens. */
  private once(kind: string, fields: Record<string, unknown>, msg: string): void {
    if (this.logged.has(kind)) return;
    this.logged.add(kind);
    this.o.log?.error(fields, msg);
  }
}

/** specProblem says why a spec cannot make an SLA, or undefined. */
export function specProblem(spec: SlaSpec): string | undefined {
  if (spec.mode === 'slots' && !spec.during) return 'slots need `during` (the cron of the slots)';
  const o = spec.objective;
  if (o && !(o.target > 0 && o.target < 1)) return `objective target ${o.target} must be above 0 and below 1 (99.9% is 0.999)`;
  if (o && !(o.windowMs > 0)) return 'objective window must be positive';
  for (const [k, v] of [['forMs', spec.forMs], ['keepFiringForMs', spec.keepFiringForMs], ['cooldownMs', spec.cooldownMs], ['everyMs', spec.everyMs]] as const) {
    if (v !== undefined && !(v >= 0)) return `${k} must be 0 or more`;
  }
  return undefined;
}

function statusOf(sla: Sla): SlaStatus {
  const m = sla.machine;
  const s: SlaStatus = {
    name: sla.name, state: m.state, since: m.since, at: Number.isFinite(m.at) ? m.at : null, value: m.value ?? null,
    message: m.describe ? m.describe() : m.message, mode: sla.slots ? 'slots' : 'samples', stats: { ...sla.stats },
  };
  if (sla.slots) s.watermark = sla.watermark;
  const budget = sla.slo?.budgetRemaining();
  if (budget !== undefined) s.budgetRemaining = budget;
  if (sla.slo && sla.slo.firing >= 0) s.burn = sla.slo.alerts[sla.slo.firing].name;
  if (sla.lastError) s.lastError = { ...sla.lastError };
  return s;
}

function getOr<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) m.set(k, (v = make()));
  return v;
}

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as Promise<T>)?.then === 'function';
}

const iso = (ms: number): string => new Date(ms).toISOString();

