import { Clock, realClock } from '../clock';
import { Wheel } from '../clock/wheel';
import { fnv1a32 } from '../util/hash';
import { Histogram } from './histogram';

/** Job is something run every `everyMs`; `run` gets how late it started (ms). */
export interface Job {
  id: string;
  everyMs: number;
  run(lagMs: number): Promise<unknown>;
  /**
   * start, when a job has it, is used instead of run: it calls `done.end` once when the run
   * has ended (no promise per run), with what went wrong when the run failed outside its
   * result (as run would reject).
   */
  start?(lagMs: number, done: RunEnd): void;
  /** When true at a tick, the tick is skipped and counted as missed (e.g. an on-demand run is going). */
  busy?(): boolean;
  onMissed?(count: number): void;
  /** Run first within this many ms of its adding (sooner than the scheduler's firstSpreadMs): a block taken over from a node that died. */
  firstSpreadMs?: number;
  /** Run first no sooner than this many ms after its adding (it ran here lately, before a placement took it away and gave it back). */
  firstAfterMs?: number;
}

/**
 * RunEnd is told when a job's run started by Job.start has ended: the scheduler's own
 * entry for the job, a method on a prototype (no closure per job that a run's end would
 * touch, at 100,000 jobs one more object not in cache).
 */
export interface RunEnd {
  end(err?: unknown): void;
}

/** SchedulerOptions: how many runs may be in flight, how runs are spread, the clock. */
export interface SchedulerOptions {
  maxConcurrency?: number;
  /** Wake-ups on a grid of this many ms [COALESCE_MS]; 0 wakes for each run's exact time. */
  coalesceMs?: number;
  /**
   * Runs keep a phase in their interval: an offset within min(every, spreadMs) given by a
   * hash of the job id (default 60 s), so jobs of one interval do not all run at once.
   */
  spreadMs?: number;
  /**
   * First runs come sooner: within min(every, spreadMs, firstSpreadMs) of the start (or of
   * the job's adding), spread by the same hash (default 5 s), so that a node that was just
   * started shows every block soon; the runs after the first keep the phase.
   */
  firstSpreadMs?: number;
  /** The node's clock (its monotonic time); tests pass a fake one. */
  clock?: Clock;
  /**
   * onError hears of a job whose run threw or rejected. Jobs report their own failures
   * (the engine's never reject), so this is a bug somewhere: counted and shown, not lost.
   */
  onError?(id: string, err: unknown): void;
}

/** SchedulerStats are exposed on the API and /metrics. */
export interface SchedulerStats {
  jobs: number;
  runs: number;
  missed: number;
  /** Runs whose job threw or rejected instead of reporting a result. */
  errors: number;
  inFlight: number;
  queued: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

/** spread is a job's place in a window of `window` ms, by a hash of its id. */
function spread(job: Job, window: number): number {
  return fnv1a32(job.id) % Math.max(1, Math.floor(window));
}

interface Entry {
  job: Job;
  /** When the job was scheduled (the start, or its adding): its phase counts from here. */
  origin: number;
  /** The next run is the first. */
  first: boolean;
  /** When its first run is due (monotonic ms); the next ones' times are kept in the wheel (Slotted). */
  due: number;
  armed: boolean;
  wheelSeq: number;
  running: boolean;
  queued: boolean;
  removed: boolean;
  /** The handlers of its runs' promises (when it has no start), made at its first run. */
  ended?: () => void;
  threw?: (err: unknown) => void;
}

/**
 * JobEntry is a job's place in the scheduler, told when its run ended (RunEnd). A job may
 * be its own entry (extend JobEntry, as the engine's BlockJob does): at 100,000 jobs the
 * entry and the job are then one object to fetch at each run instead of two not in cache.
 * Such a job is added once.
 */
export class JobEntry implements Entry, RunEnd {
  readonly job: Job;
  scheduler?: Scheduler;
  wheelSeq = 0;
  armed = false;
  removed = false;
  running = false;
  queued = false;
  first = true;
  origin = 0;
  due = 0;
  ended?: () => void;
  threw?: (err: unknown) => void;

  constructor(job?: Job) {
    this.job = job ?? (this as unknown as Job);
  }

  end(err?: unknown): void {
    this.scheduler!.runEnded(this, err);
  }
}

/**
 * COALESCE_MS: the scheduler wakes on a grid of this many ms, so the runs due within one
 * step start in one wake-up, at most this much late (see DeadlineOptions.coalesceMs). At
 * 1,000 ping blocks a second that is 250 wake-ups instead of 1,000, and the requests of a
 * batch go out, and their replies are read, together.
 */
export const COALESCE_MS = 4;

/**
 * Scheduler runs jobs on fixed-rate intervals ("interval threads"): every job's next run
 * is an alarm in one timer wheel (slots of COALESCE_MS under one timer, see Wheel). A job
 * never overlaps itself: a tick that finds it still running (or waiting for a slot) is
 * skipped and counted as missed. At most maxConcurrency runs are in flight; due runs beyond
 * that wait in FIFO order, and their wait shows up as start lag. A job runs first within a
 * few seconds of the start (firstOffsetOf), then on its phase (offsetOf) every interval.
 */
export class Scheduler {
  private readonly deadlines: Wheel<Entry>;
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Array<{ entry: Entry; due: number }> = [];
  private readonly lag = new Histogram();
  private readonly clock: Clock;
  private readonly maxConcurrency: number;
  private readonly spreadMs: number;
  private readonly firstSpreadMs: number;
  private running = false;
  private inFlight = 0;
  private runs = 0;
  private missed = 0;
  private errors = 0;
  /** Resolved when the last run in flight ends (stop waits for them). */
  private idle: Array<() => void> = [];

  constructor(private readonly options: SchedulerOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.maxConcurrency = options.maxConcurrency ?? 500;
    this.spreadMs = options.spreadMs ?? 60_000;
    this.firstSpreadMs = options.firstSpreadMs ?? 5_000;
    this.deadlines = new Wheel<Entry>(this.clock, (e, now, at) => this.due(e, now, at), options.coalesceMs ?? COALESCE_MS);
  }

  /** offsetOf is a job's phase: where in each interval it runs (after the first run); stable for a given id. */
  offsetOf(job: Job): number {
    return spread(job, Math.min(job.everyMs, this.spreadMs));
  }

  /** firstOffsetOf is when after the start (or its adding) a job runs first: within firstSpreadMs, stable for a given id. */
  firstOffsetOf(job: Job): number {
    return spread(job, Math.min(job.everyMs, this.spreadMs, job.firstSpreadMs ?? this.firstSpreadMs));
  }

  add(job: Job): void {
    if (this.entries.has(job.id)) throw new Error(`job ${job.id} is scheduled already`);
    const entry = job instanceof JobEntry ? job : new JobEntry(job);
    if (entry.scheduler) throw new Error(`job ${job.id} was scheduled before (a job that is its own entry is added once)`);
    entry.scheduler = this;
    this.schedule(entry, this.clock.monotonic());
    this.entries.set(job.id, entry);
    if (this.running) this.deadlines.set(entry, entry.due);
  }

  /** schedule makes origin the start of a job's schedule: its first run soon after, its phase counted from it. */
  private schedule(e: Entry, origin: number): void {
    e.origin = origin;
    e.first = true;
    e.due = origin + (e.job.firstAfterMs ?? 0) + this.firstOffsetOf(e.job);
  }

  /**
   * afterFirst is the run after the first one (which ran at `first`): the next time on the
   * job's phase at least half an interval later, so the two neither come close together
   * nor leave more than one and a half intervals between them.
   */
  private afterFirst(e: Entry, first: number): number {
    const every = e.job.everyMs;
    const phase = e.origin + this.offsetOf(e.job);
    const k = Math.max(0, Math.ceil((first + every / 2 - phase) / every));
    return phase + k * every;
  }

  /** remove unschedules a job; a run in flight finishes on its own. */
  remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.removed = true;
    this.entries.delete(id);
    this.deadlines.delete(e);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.monotonic();
    // Jobs added before start count their schedule from the start.
    for (const e of this.entries.values()) {
      this.schedule(e, now);
      this.deadlines.set(e, e.due);
    }
  }

  /** stop schedules nothing more and resolves when the runs in flight have finished. */
  async stop(): Promise<void> {
    this.running = false;
    for (const e of this.entries.values()) e.armed = false;
    this.deadlines.clear();
    for (const w of this.waiting) w.entry.queued = false;
    this.waiting.length = 0;
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  stats(): SchedulerStats {
    return {
      jobs: this.entries.size,
      runs: this.runs,
      missed: this.missed,
      errors: this.errors,
      inFlight: this.inFlight,
      queued: this.waiting.length,
      lagP50Ms: this.lag.quantile(0.5),
      lagP99Ms: this.lag.quantile(0.99),
      lagMaxMs: this.lag.max,
    };
  }

  /** due: a job's alarm (for `due`) went off; run it (or count the tick missed) and set the next one. */
  private due(e: Entry, now: number, due: number): void {
    if (!this.running || e.removed) return;
    let next = e.first ? this.afterFirst(e, due) : due + e.job.everyMs;
    e.first = false;
    if (next <= now) {
      // The loop was blocked for whole intervals: those ticks are gone.
      const skipped = Math.floor((now - next) / e.job.everyMs) + 1;
      next += skipped * e.job.everyMs;
      this.countMissed(e, skipped);
    }
    this.deadlines.set(e, next);
    if (e.running || e.queued || e.job.busy?.()) {
      this.countMissed(e, 1);
      return;
    }
    if (this.inFlight < this.maxConcurrency) this.launch(e, due);
    else {
      e.queued = true;
      this.waiting.push({ entry: e, due });
    }
  }

  private countMissed(e: Entry, n: number): void {
    this.missed += n;
    e.job.onMissed?.(n);
  }

  private launch(e: Entry, due: number): void {
    const lag = this.clock.monotonic() - due;
    this.lag.record(lag);
    this.runs++;
    this.inFlight++;
    e.running = true;
    if (e.job.start) {
      try {
        e.job.start(lag, e as JobEntry);
      } catch (err) {
        this.runEnded(e, err ?? new Error('a job threw'));
      }
      return;
    }
    let p: Promise<unknown>;
    try {
      p = e.job.run(lag);
    } catch (err) {
      p = Promise.reject(err);
    }
    // What a run resolves with is its own (a Result): only a rejection is a failure.
    e.ended ??= () => this.runEnded(e);
    e.threw ??= (err: unknown) => this.runEnded(e, err ?? new Error('a job rejected'));
    p.then(e.ended, e.threw);
  }

  /** runEnded: a run ended, failed outside its result when err is given. */
  runEnded(e: Entry, err?: unknown): void {
    if (err !== undefined) this.failed(e, err);
    this.ended(e);
  }

  /** ended: a run finished (or failed); its slot goes to the next waiting run. */
  private ended(e: Entry): void {
    e.running = false;
    this.inFlight--;
    this.drain();
    if (this.inFlight === 0 && this.idle.length > 0) {
      const waiting = this.idle;
      this.idle = [];
      for (const resolve of waiting) resolve();
    }
  }

  private failed(e: Entry, err: unknown): void {
    this.errors++;
    try {
      this.options.onError?.(e.job.id, err);
    } catch {
      // A reporter that throws must not stop the scheduler either.
    }
  }

  private drain(): void {
    while (this.running && this.inFlight < this.maxConcurrency && this.waiting.length > 0) {
      const { entry, due } = this.waiting.shift()!;
      entry.queued = false;
      if (!entry.removed) this.launch(entry, due);
    }
  }
}
