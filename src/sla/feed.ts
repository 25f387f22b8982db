import type { BusMessage } from '../bus';
import type { Clock } from '../clock';
import { Gate } from '../bus/gate';
import { firstSampleTimes, readBack } from '../derive/rebuild';
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
 * (a Gate) and their samples are not read twice. A message published while one is handled
 * (an SLA's own samples, the alerts') waits its turn.
 */
export class SlaFeed {
  private readonly readers = new Map<string, Fed[]>();
  private pass = 0;
  private readonly touched: Fed[] = [];
  private readonly gate: Gate;
  /** Samples pushed into tests since start. */
  pushed = 0;

  /** A feed holds messages from the start until resume() (the node's blocks may start first). */
  constructor(private readonly o: FeedOptions) {
    this.gate = new Gate((m) => this.process(m), { maxHeld: o.maxHeld });
    this.gate.hold();
  }

  /** handle is the bus subscriber. */
  get handle(): (m: BusMessage) => void {
    return this.gate.handle;
  }

  /** dropped counts the messages not seen: too many were held while windows were read back. */
  get dropped(): number {
    return this.gate.dropped;
  }

  /** resume ends the hold the feed was made with: the held messages are handled. */
  resume(): void {
    this.gate.release();
  }

  /**
   * add supplies tests with samples: their windows are read back from the store first
   * (messages are held meanwhile), then `ready` is called and the held messages handled.
   * It resolves to the error of a failed read (the windows then fill live), and rejects
   * only with what `ready` threw.
   */
  async add(tests: readonly Fed[], ready: () => void): Promise<unknown> {
    let failed: unknown;
    this.gate.hold();
    try {
      try {
        if (tests.length > 0) this.preload(tests, await readBack(this.o.store, tests.map((t) => t.test.expr.needs), this.o.clock.now(), this.o.intervalOf));
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
      this.gate.release();
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

  /** preload pushes read-back samples into the tests, each series up to the first sample a held message has of it. */
  private preload(tests: readonly Fed[], read: ReadonlyMap<string, Array<[number, number]>>): void {
    const cutoff = firstSampleTimes(this.gate.held, read);
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
}
