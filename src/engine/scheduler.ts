import { performance } from 'node:perf_hooks';
import { fnv1a32 } from '../util/hash';
import { Histogram } from './histogram';
import { MinHeap } from './heap';

/** Job is something run every `everyMs`; `run` gets how late it started (ms). */
export interface Job {
  id: string;
  everyMs: number;
  run(lagMs: number): Promise<unknown>;
  /** When true at a tick, the tick is skipped and counted as missed (e.g. an on-demand run is going). */
  busy?(): boolean;
  onMissed?(count: number): void;
}

/** SchedulerOptions: how many runs may be in flight, and the spread of first runs. */
export interface SchedulerOptions {
  maxConcurrency?: number;
  /** First runs are spread over min(every, spreadMs) by a hash of the job id (default 60 s). */
  spreadMs?: number;
  /** Monotonic clock in ms (tests pass a fake one). */
  now?: () => number;
}

/** SchedulerStats are exposed on the API and /metrics. */
export interface SchedulerStats {
  jobs: number;
  runs: number;
  missed: number;
  inFlight: number;
  queued: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

interface Entry {
  job: Job;
  due: number;
  running: boolean;
  queued: boolean;
  removed: boolean;
}

/**
 * Scheduler runs jobs on fixed-rate intervals ("interval threads") with one timer: a heap
 * keeps jobs by due time and the timer is armed for the earliest. A job never overlaps
 * itself: a tick that finds it still running (or waiting for a slot) is skipped and counted
 * as missed. At most maxConcurrency runs are in flight; due runs beyond that wait in FIFO
 * order, and their wait shows up as start lag.
 */
export class Scheduler {
  private readonly heap = new MinHeap<Entry>((e) => e.due);
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Array<{ entry: Entry; due: number }> = [];
  private readonly lag = new Histogram();
  private readonly now: () => number;
  private readonly maxConcurrency: number;
  private readonly spreadMs: number;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private running = false;
  private inFlight = 0;
  private runs = 0;
  private missed = 0;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(options: SchedulerOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.maxConcurrency = options.maxConcurrency ?? 500;
    this.spreadMs = options.spreadMs ?? 60_000;
  }

  /** offsetOf is where in its interval a job first runs: stable for a given id. */
  offsetOf(job: Job): number {
    const window = Math.min(job.everyMs, this.spreadMs);
    return fnv1a32(job.id) % Math.max(1, Math.floor(window));
  }

  add(job: Job): void {
    if (this.entries.has(job.id)) throw new Error(`job ${job.id} is scheduled already`);
    const entry: Entry = { job, due: this.now() + this.offsetOf(job), running: false, queued: false, removed: false };
    this.entries.set(job.id, entry);
    this.heap.push(entry);
    if (this.running) this.arm();
  }

  remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.removed = true;
    this.entries.delete(id);
    this.heap.remove((x) => x === e);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.now();
    // Jobs added before start keep their offsets relative to the start.
    for (const e of this.entries.values()) e.due = now + this.offsetOf(e.job);
    this.heap.remove(() => false);
    this.arm();
  }

  /** stop schedules nothing more and resolves when the runs in flight have finished. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    for (const w of this.waiting) w.entry.queued = false;
    this.waiting.length = 0;
    await Promise.allSettled([...this.pending]);
  }

  stats(): SchedulerStats {
    return {
      jobs: this.entries.size,
      runs: this.runs,
      missed: this.missed,
      inFlight: this.inFlight,
      queued: this.waiting.length,
      lagP50Ms: this.lag.quantile(0.5),
      lagP99Ms: this.lag.quantile(0.99),
      lagMaxMs: this.lag.max,
    };
  }

  private arm(): void {
    const next = this.heap.peek();
    if (!this.running || !next) return;
    if (this.timer && this.timerDue <= next.due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = next.due;
    const delay = Math.max(0, Math.ceil(next.due - this.now()));
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    if (!this.running) return;
    const now = this.now();
    for (let e = this.heap.peek(); e && e.due <= now; e = this.heap.peek()) {
      this.heap.pop();
      const due = e.due;
      e.due = due + e.job.everyMs;
      if (e.due <= now) {
        // The loop was blocked for whole intervals: those ticks are gone.
        const skipped = Math.floor((now - e.due) / e.job.everyMs) + 1;
        e.due += skipped * e.job.everyMs;
        this.countMissed(e, skipped);
      }
      this.heap.push(e);
      if (e.running || e.queued || e.job.busy?.()) {
        this.countMissed(e, 1);
        continue;
      }
      if (this.inFlight < this.maxConcurrency) this.launch(e, due);
      else {
        e.queued = true;
        this.waiting.push({ entry: e, due });
      }
    }
    this.arm();
  }

  private countMissed(e: Entry, n: number): void {
    this.missed += n;
    e.job.onMissed?.(n);
  }

  private launch(e: Entry, due: number): void {
    const lag = this.now() - due;
    this.lag.record(lag);
    this.runs++;
    this.inFlight++;
    e.running = true;
    let p: Promise<unknown>;
    try {
      p = e.job.run(lag);
    } catch (err) {
      p = Promise.reject(err);
    }
    const done = p.then(
      () => undefined,
      () => undefined, // a job reports its own failures; the scheduler only keeps time
    ).finally(() => {
      e.running = false;
      this.inFlight--;
      this.pending.delete(done);
      this.drain();
    });
    this.pending.add(done);
  }

  private drain(): void {
    while (this.running && this.inFlight < this.maxConcurrency && this.waiting.length > 0) {
      const { entry, due } = this.waiting.shift()!;
      entry.queued = false;
      if (!entry.removed) this.launch(entry, due);
    }
  }
}
