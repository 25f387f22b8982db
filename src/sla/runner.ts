import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Bus } from '../bus';
import type { Clock } from '../clock';
import { errorMessage } from '../errors';
import type { Logger } from '../log';
import type { Store } from '../store/store';
import { compileTest, SeriesTest, specOf } from './compile';
import { publishTo } from './events';
import { Fed, SeriesInfo, SlaFeed } from './feed';
import type { SlaConfig } from './section';
import { SlaSet, SlaStatus } from './set';
import type { Sla } from './sla';
import { backfillFrom, rebuildFrom } from './stored';

/** SlaRunnerOptions: the node's parts the SLAs use. */
export interface SlaRunnerOptions extends SeriesInfo {
  bus: Bus;
  store: Store;
  clock: Clock;
  log: Logger;
  /** node.data: the SLA log goes in `<data>/sla`. */
  dataDir: string;
  /** How often an evaluated SLA's samples are published [10 s]. */
  sampleEveryMs?: number;
  /** eventsOf tells which series are event series (count() adds their values; SeriesOptions.events). */
  eventsOf?(series: string): boolean;
}

/** Entry is one configured SLA at run time. */
class Entry implements Fed {
  sla?: Sla;
  mark = 0;
  at = 0;
  readonly name: string;

  constructor(readonly config: SlaConfig, readonly test: SeriesTest) {
    this.name = config.name;
  }

  evaluate(at: number): void {
    this.sla?.evaluate(at);
  }
}

/** RunnerEntry is an SLA's status with its configuration, for the API. */
export interface RunnerEntry {
  config: SlaConfig;
  status: SlaStatus;
  sla: Sla;
}

/**
 * SlaRunner runs a node's `slas:`: it compiles each test, keeps it supplied with samples
 * from the bus (SlaFeed, windows read back from the store first), runs the SlaSet on the
 * node's clock with the SLA log under node.data, backfills missed slots and rebuilds
 * objectives from the store, and publishes every state change (the `sla.state` event with
 * the SLA's samples) on the bus. A reload restarts the SLAs whose entry changed (their
 * state comes back from the SLA log), adds new ones, and resolves removed ones.
 */
export class SlaRunner {
  readonly set: SlaSet;
  readonly feed: SlaFeed;
  private entries = new Map<string, Entry>();
  private work: Promise<void> = Promise.resolve();
  private started = false;
  private readonly log: Logger;

  constructor(private readonly o: SlaRunnerOptions, private configs: readonly SlaConfig[]) {
    this.log = o.log;
    this.feed = new SlaFeed({ store: o.store, clock: o.clock, intervalOf: (s) => o.intervalOf(s), heartbeatOf: (s) => o.heartbeatOf(s) });
    const stored = { store: o.store, intervalOf: o.intervalOf, heartbeatOf: o.heartbeatOf, exprOf: (name: string) => this.entries.get(name)?.test.expr };
    const sampleEveryMs = o.sampleEveryMs ?? 10_000;
    this.set = new SlaSet({
      clock: o.clock,
      dir: path.join(o.dataDir, 'sla'),
      log: o.log,
      sampleEveryMs,
      ...publishTo(o.bus, sampleEveryMs),
      backfill: backfillFrom(stored),
      rebuild: rebuildFrom(stored),
    });
  }

  /**
   * start reads back the tests' windows, then opens the SLA log and starts the set. It
   * resolves then; backfills and rebuilds go on (see ready). Throws REMON_ERR_SLA_LOG or
   * REMON_ERR_DATA_IN_USE when the log cannot be opened.
   */
  start(): Promise<void> {
    return this.serial(async () => {
      const fresh = this.make(this.configs);
      await this.supply(fresh, () => {
        for (const e of fresh) this.addToSet(e);
        this.set.start();
        this.started = true;
      });
      this.feed.resume();
    });
  }

  /** ready resolves when the work begun so far (reloads, backfills, rebuilds) is done. */
  async ready(): Promise<void> {
    await this.work;
    await this.set.ready();
  }

  /** stop stops evaluating and closes the SLA log. */
  async stop(): Promise<void> {
    await this.work.catch(() => undefined);
    this.started = false;
    this.set.stop();
  }

  /**
   * reload applies a reloaded `slas:`: unchanged SLAs keep their state and windows;
   * changed ones restart (state from the SLA log, windows read back); new ones start;
   * removed ones go inactive (a firing one is resolved). It never rejects: a failure is logged.
   */
  reload(configs: readonly SlaConfig[]): Promise<void> {
    return this.serial(() => this.apply(configs)).catch((err) => this.log.error({ err: errorMessage(err) }, 'SLA reload failed'));
  }

  /** apply brings the running SLAs to configs (reload). */
  private async apply(configs: readonly SlaConfig[]): Promise<void> {
    this.configs = configs;
    if (!this.started) return;
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, e] of [...this.entries]) {
      const next = wanted.get(name);
      if (next && isDeepStrictEqual(next, e.config)) continue;
      this.feed.remove(e);
      this.set.remove(name, next !== undefined);
      this.entries.delete(name);
    }
    const fresh = this.make(configs.filter((c) => !this.entries.has(c.name)));
    await this.supply(fresh, () => {
      for (const e of fresh) this.addToSet(e);
    });
    // Keep the config's order for the API.
    this.entries = new Map(configs.filter((c) => this.entries.has(c.name)).map((c) => [c.name, this.entries.get(c.name)!]));
  }

  /** list is every SLA with its configuration and status, in config order. */
  list(): RunnerEntry[] {
    const out: RunnerEntry[] = [];
    const status = new Map(this.set.list().map((s) => [s.name, s]));
    for (const e of this.entries.values()) {
      const s = status.get(e.name);
      if (s && e.sla) out.push({ config: e.config, status: s, sla: e.sla });
    }
    return out;
  }

  /** get is one SLA with its configuration and status. */
  get(name: string): RunnerEntry | undefined {
    const e = this.entries.get(name);
    const s = e?.sla && this.set.status(name);
    return e && s ? { config: e.config, status: s, sla: e.sla! } : undefined;
  }

  /** make compiles the tests of configs into entries (a test that does not compile is logged and left out). */
  private make(configs: readonly SlaConfig[]): Entry[] {
    const out: Entry[] = [];
    for (const c of configs) {
      try {
        const e = new Entry(c, new SeriesTest(compileTest(c, this.o.eventsOf)));
        this.entries.set(c.name, e);
        out.push(e);
      } catch (err) {
        this.log.error({ sla: c.name, err: errorMessage(err) }, 'SLA test does not compile; the SLA is left out');
      }
    }
    return out;
  }

  private addToSet(e: Entry): void {
    try {
      e.sla = this.set.add(specOf(e.config), e.test);
    } catch (err) {
      this.entries.delete(e.name);
      this.feed.remove(e);
      this.log.error({ sla: e.name, err: errorMessage(err) }, 'SLA could not be added; it is left out');
    }
  }

  /** supply has the feed read back the entries' windows, then runs ready (also when the store could not be read). */
  private async supply(fresh: Entry[], ready: () => void): Promise<void> {
    const failed = await this.feed.add(fresh, ready);
    if (failed !== undefined) this.log.error({ err: errorMessage(failed) }, 'SLA windows could not be read back from the store; they fill from live samples');
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.work.then(fn);
    this.work = run.catch(() => undefined);
    return run;
  }
}
