import type { BusMessage } from '../bus';
import type { Clock } from '../clock';
import { history, inBatches } from '../derive/rebuild';
import type { SeriesNeed } from '../series';
import type { Store } from '../store/store';
import type { SeriesTest } from './compile';

/** Fed is one SLA test the feed keeps supplied: its evaluator and what to call once it got samples. */
export interface Fed {
  readonly name: string;
  readonly test: SeriesTest;
  /** Called once per bus message that brought it samples: at the clock's now, or the newest sample's time when later. */
  evaluate(at: number): void;
  /** Internal: the message pass that last touched it, and the newest sample time it got in it. */
  mark: number;
  at: number;
}

/** SeriesInfo: what the feed must know of the series tests read (block series: from the node). */
export interface SeriesInfo {
  /** The series' regular interval (ms), when it has one: how a store is read back. */
  intervalOf(series: string): number | undefined;
  /** The heartbeat hint (s) of its samples, for samples read back from the store. */
  heartbeatOf(series: string): number | undefined;
}

/** FeedOptions: the store to read history from, the clock, and what is known of series. */
export interface FeedOptions extends SeriesInfo {
  store: Store;
  clock: Clock;
  /** Messages held while windows are read back; beyond, they are dropped and counted [100,000]. */
  maxHeld?: number;
}

/**
 * SlaFeed is the SLA tests' bus subscriber: each message's samples are pushed into the
 * tests that read them, and each test it touched is evaluated once, at the node's clock.
 * Tests are added with their windows read back from the store (start, reload), so a test
 * over `count(orders.new, 3m)` is right right after a restart; meanwhile messages are held
 * and their samples are not read twice. A message published while one is handled (an SLA's
 * own samples, the alerts') waits its turn.
 */
export class SlaFeed {
  private readonly readers = new Map<string, Fed[]>();
  private pass = 0;
  private readonly touched: Fed[] = [];
  private busy = false;
  private readonly queue: BusMessage[] = [];
  private held: BusMessage[] = [];
  private paused: number;
  /** Messages dropped while held ones were over the bound. */
  dropped = 0;
  /** Samples pushed into tests since start. */
  pushed = 0;

  /** A feed holds messages from the start until resume() (the node's blocks may start first). */
  constructor(private readonly o: FeedOptions) {
    this.paused = 1;
  }

  /** resume ends the hold the feed was made with: the held messages are handled. */
  resume(): void {
    this.paused--;
    if (this.paused === 0) this.release();
  }

  /** handle is the bus subscriber. */
  readonly handle = (m: BusMessage): void => {
    if (this.paused > 0) {
      if (this.held.length < (this.o.maxHeld ?? 100_000)) this.held.push(m);
      else this.dropped++;
      return;
    }
    if (this.busy) {
      this.queue.push(m);
      return;
    }
    this.busy = true;
    try {
      this.process(m);
      while (this.queue.length > 0) this.process(this.queue.shift()!);
    } finally {
      this.busy = false;
    }
  };

  /**
   * add supplies tests with samples: their windows are read back from the store first
   * (messages are held meanwhile), then `ready` is called and the held messages handled.
   * It resolves to the error of a failed read (the windows then fill live), and rejects
   * only with what `ready` threw.
   */
  async add(tests: readonly Fed[], ready: () => void): Promise<unknown> {
    let failed: unknown;
    this.paused++;
    try {
      try {
        if (tests.length > 0) this.preload(tests, await this.readBack(tests));
      } catch (err) {
        failed = err;
      }
      for (const t of tests) {
        for (const series of t.test.expr.inputs) {
          let list = this.readers.get(series);
          if (!list) this.readers.set(series, (list = []));
          list.push(t);
        }
      }
      ready();
    } finally {
      this.paused--;
      if (this.paused === 0) this.release();
    }
    return failed;
  }

  /** remove stops supplying a test. */
  remove(t: Fed): void {
    for (const series of t.test.expr.inputs) {
      const list = this.readers.get(series);
      if (!list) continue;
      const i = list.indexOf(t);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.readers.delete(series);
    }
  }

  /** process pushes one message's samples and evaluates each test touched, once. */
  private process(m: BusMessage): void {
    const samples = m.samples;
    const pass = ++this.pass;
    const touched = this.touched;
    touched.length = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const list = this.readers.get(s.series);
      if (list === undefined) continue;
      for (let j = 0; j < list.length; j++) {
        const t = list[j];
        t.test.run.push(s.series, s.t, s.value, s.heartbeat);
        this.pushed++;
        if (t.mark !== pass) {
          t.mark = pass;
          t.at = s.t;
          touched.push(t);
        } else if (s.t > t.at) {
          t.at = s.t;
        }
      }
    }
    if (touched.length === 0) return;
    const now = this.o.clock.now();
    // A test's evaluation may publish (its state change): the list is copied only then.
    // A sample from a clock ahead of this one is evaluated at its own time, so it is seen.
    const list = touched.length === 1 ? touched : touched.slice();
    for (let i = 0; i < list.length; i++) list[i].evaluate(list[i].at > now ? list[i].at : now);
  }

  /** readBack fetches, per series, the longest history any of the tests needs. */
  private async readBack(tests: readonly Fed[]): Promise<Map<string, Array<[number, number]>>> {
    const want = new Map<string, SeriesNeed>();
    for (const t of tests) {
      for (const [series, need] of t.test.expr.needs) {
        const had = want.get(series);
        want.set(series, had ? { ms: Math.max(had.ms, need.ms), count: Math.max(had.count, need.count) } : { ...need });
      }
    }
    const now = this.o.clock.now();
    const raw = this.o.store.status().kind === 'memory';
    const read = new Map<string, Array<[number, number]>>();
    await inBatches([...want], 8, async ([series, need]) => {
      if (this.o.store.has(series)) read.set(series, await history(this.o.store, series, need, now, { raw, intervalMs: this.o.intervalOf(series) }));
    });
    return read;
  }

  /** preload pushes read-back samples into the tests, each series up to the first sample a held message has of it. */
  private preload(tests: readonly Fed[], read: ReadonlyMap<string, Array<[number, number]>>): void {
    const cutoff = new Map<string, number>();
    for (const m of this.held) {
      for (const s of m.samples) {
        const c = cutoff.get(s.series);
        if (read.has(s.series) && (c === undefined || s.t < c)) cutoff.set(s.series, s.t);
      }
    }
    for (const t of tests) {
      for (const series of t.test.expr.inputs) {
        const cut = cutoff.get(series) ?? Infinity;
        const hb = this.o.heartbeatOf(series);
        for (const [at, v] of read.get(series) ?? []) {
          if (at >= cut) break;
          t.test.run.push(series, at, v, hb);
        }
      }
    }
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const m of held) this.handle(m);
  }
}
