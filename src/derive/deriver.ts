import type { Bus, BusMessage } from '../bus';
import { Gate } from '../bus/gate';
import type { Clock } from '../clock';
import { createError, errorMessage } from '../errors';
import type { Logger } from '../log';
import { compileSeries } from '../series';
import type { Sample, Store } from '../store/store';
import { topological } from './graph';
import { AT, chain, EVALUATIONS, HEARTBEAT, LAST_AT, LAST_OUT, LAST_VALUE, MARK, numbersFor, Program, Reader, SAMPLES, STRIDE, Touched } from './program';
import { firstSampleTimes, readBack } from './rebuild';
import type { DeriveConfig } from './section';

/** DeriverOptions: the node's parts a deriver uses, and what it must know of block series. */
export interface DeriverOptions {
  bus: Bus;
  store: Store;
  clock: Clock;
  log: Logger;
  /** The heartbeat hint (s) of a series no derived series makes (a block's), for samples read back from the store. */
  heartbeatOf(series: string): number | undefined;
  /** The regular interval (ms) of such a series, when it has one. */
  intervalOf(series: string): number | undefined;
  /** Messages held while windows are rebuilt; beyond, they are dropped and counted (default 100,000). */
  maxBuffered?: number;
}

/** DerivedStatus is one derived series as `derive.list` shows it. */
export interface DerivedStatus {
  name: string;
  expr: string;
  inputs: readonly string[];
  /** rebuilding: its windows are being read back from the store; error: it cannot run. */
  state: 'ok' | 'unknown' | 'pending' | 'rebuilding' | 'error';
  /** The last evaluation: its time, value (absent while unknown) and message. */
  at?: number;
  value?: number | boolean;
  message?: string;
  evaluations: number;
  /** Samples published (evaluations that were not unknown). */
  samples: number;
  unknown: number;
  error?: string;
}

/** MAX_FIRST bounds Deriver.byFirst (a name per block that publishes results). */
const MAX_FIRST = 100_000;

/**
 * Deriver computes the derived series of `derive:` as their inputs get samples. It is the
 * node's `derive` bus subscriber: each message's samples are pushed into the programs
 * that read them, each touched program is evaluated once at the newest time it got, in
 * order (a derived series before those that read it, which get its sample at once), and
 * the derived samples go out as one message of samples, stored like any series and seen
 * by the subscribers after it. Its own message coming back (the bus delivers
 * synchronously) is skipped; a message another subscriber publishes meanwhile is queued.
 *
 * Windows are read back from the store when the node starts and when a reload changes a
 * program; meanwhile messages are held, and the samples they carry are not read twice.
 * An unknown value publishes nothing: the derived series has a gap, never a made-up 0.
 */
export class Deriver {
  private programs = new Map<string, Program>();
  /** Programs that read a series, in evaluation order. */
  private readers = new Map<string, Reader>();
  /** The same by block (a block's results carry `<block>.*` samples): each of its series' readers in turn. */
  private byBlock = new Map<string, Reader>();
  /**
   * byBlock by the name of the first sample of a block's results (`<block>.up`), filled as
   * results come (null: the block feeds nothing): one lookup per result, by a name the
   * store has just hashed and read (the result's block name would be two more objects to
   * reach). Reloads start it afresh.
   */
  private byFirst = new Map<string, Reader | null>();
  /** Configured programs that failed to compile (a config that skipped the checks). */
  private broken = new Map<string, { config: DeriveConfig; error: string }>();
  /** Per program (by id), the numbers that change as it runs (program.ts). */
  private nums: Float64Array = new Float64Array(0);
  private pass = 0;
  /** The programs touched by the message being handled (a reader of each), in evaluation order. */
  private touched = new Touched();
  private publishing?: BusMessage;
  /** Holds messages while windows are read back; runs a message published while one is handled after it. */
  private readonly gate: Gate;
  private pending: Program[];
  private rebuilds = new Set<Promise<void>>();
  private readonly logged = new Set<string>();
  /** Totals since start, for /metrics. */
  readonly totals = { evaluations: 0, samples: 0, unknown: 0, errors: 0, dropped: 0 };

  constructor(private readonly o: DeriverOptions, configs: readonly DeriveConfig[]) {
    this.pending = this.apply(configs);
    // Until start() has read the windows back, messages wait.
    this.gate = new Gate((m) => this.process(m), { maxHeld: this.o.maxBuffered, onDrop: () => this.drop() });
    this.gate.hold();
    for (const p of this.pending) p.rebuilding = true;
  }

  /** handle is the bus subscriber. */
  readonly handle = (m: BusMessage): void => {
    if (m !== this.publishing) this.gate.handle(m);
  };

  /** start reads back the windows of every program, then handles the messages held meanwhile. */
  start(): Promise<void> {
    const programs = this.pending;
    this.pending = [];
    return this.track(this.rebuild(programs));
  }

  /** update applies a reloaded `derive:`: unchanged programs keep their state; changed and new ones are rebuilt. */
  update(configs: readonly DeriveConfig[]): Promise<void> {
    const fresh = this.apply(configs);
    if (fresh.length === 0) return Promise.resolve();
    this.gate.hold();
    for (const p of fresh) p.rebuilding = true;
    return this.track(this.rebuild(fresh));
  }

  /** idle resolves when no rebuild is in progress. */
  async idle(): Promise<void> {
    while (this.rebuilds.size > 0) await Promise.allSettled([...this.rebuilds]);
  }

  /** list is every derived series with its last evaluation, in config order. */
  list(): DerivedStatus[] {
    const out: DerivedStatus[] = [];
    const n = this.nums;
    for (const p of this.programs.values()) {
      const k = p.id * STRIDE;
      const lastAt = n[k + LAST_AT];
      const lastValue = n[k + LAST_VALUE];
      const evaluated = !Number.isNaN(lastAt);
      const known = !Number.isNaN(lastValue);
      const state = p.rebuilding ? 'rebuilding' : p.error ? 'error' : !evaluated ? 'pending' : known ? 'ok' : 'unknown';
      const value = p.expr.type === 'boolean' ? lastValue !== 0 : lastValue;
      out.push({
        name: p.name, expr: p.config.expr, inputs: p.inputs, state,
        ...(evaluated && { at: lastAt, ...(known && { value }), message: p.run.lastMessage() }),
        evaluations: n[k + EVALUATIONS], samples: n[k + SAMPLES], unknown: n[k + EVALUATIONS] - n[k + SAMPLES], ...(p.error && { error: p.error }),
      });
    }
    for (const b of this.broken.values()) {
      out.push({ name: b.config.name, expr: b.config.expr, inputs: [], state: 'error', evaluations: 0, samples: 0, unknown: 0, error: b.error });
    }
    return out;
  }

  /** apply makes the programs of a config; it returns the new ones (changed or added). */
  private apply(configs: readonly DeriveConfig[]): Program[] {
    const next = new Map<string, Program>();
    const fresh: Program[] = [];
    this.broken = new Map();
    for (const c of configs) {
      const old = this.programs.get(c.name);
      if (old && old.config.expr === c.expr) {
        next.set(c.name, old);
        continue;
      }
      try {
        const p = new Program(c, compileSeries(c.expr));
        next.set(c.name, p);
        fresh.push(p);
      } catch (err) {
        this.broken.set(c.name, { config: c, error: errorMessage(err) });
        this.report('compile', c.name, err);
      }
    }
    const order = topological([...next.keys()], (n) => next.get(n)!.inputs.filter((i) => next.has(i)));
    order.forEach((n, i) => { next.get(n)!.order = i; });
    this.nums = numbersFor([...next.values()], this.nums, new Set([...next.values()].filter((p) => this.programs.get(p.name) === p)));
    const programsOf = new Map<string, Program[]>();
    for (const name of order) {
      const p = next.get(name)!;
      for (const input of p.inputs) {
        let list = programsOf.get(input);
        if (!list) programsOf.set(input, (list = []));
        list.push(p);
      }
    }
    const readers = new Map<string, Reader>();
    const byBlock = new Map<string, Reader>();
    for (const p of next.values()) p.dependents = chain(p.name, programsOf.get(p.name) ?? [], undefined);
    for (const [series, programs] of programsOf) {
      readers.set(series, chain(series, programs, undefined)!);
      const dot = series.indexOf('.');
      if (dot < 0) continue;
      const block = series.slice(0, dot);
      byBlock.set(block, chain(series, programs, byBlock.get(block))!);
    }
    // Each reader carries its program's dependents (known once every chain is made).
    for (const heads of [readers.values(), byBlock.values(), [...next.values()].map((p) => p.dependents)]) {
      for (const head of heads) for (let r = head; r !== undefined; r = r.next) r.dependents = r.program.dependents;
    }
    this.programs = next;
    this.readers = readers;
    this.byBlock = byBlock;
    this.byFirst = new Map();
    this.touched = new Touched(); // the old one may hold readers of programs gone
    return fresh;
  }

  /** process handles one message: push, evaluate touched programs in order, publish. */
  private process(m: BusMessage): void {
    const pass = ++this.pass;
    const touched = this.touched;
    touched.clear();
    const samples = m.samples;
    if (samples.length === 0) return;
    let read: Reader | undefined;
    if (m.result !== undefined) {
      const first = samples[0].series;
      let chain = this.byFirst.get(first);
      if (chain === undefined) {
        // The block is the name's prefix (a result's samples are `<block>.<field>`).
        const dot = first.indexOf('.');
        chain = (dot < 0 ? undefined : this.byBlock.get(first.slice(0, dot))) ?? null;
        if (this.byFirst.size >= MAX_FIRST) this.byFirst.clear();
        this.byFirst.set(first, chain);
      }
      if (chain === null) return;
      read = chain;
    }
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const series = s.series;
      for (let r = read ?? this.readers.get(series); r !== undefined; r = r.next) {
        if (r.length === series.length && r.series === series) this.feed(r, s, pass);
      }
    }
    if (touched.length === 0) return;
    let out: Sample[] | undefined;
    // Dependents fed below join the list after the program that fed them: the loop reaches them.
    for (let i = 0; i < touched.length; i++) {
      const p = touched.list[i];
      const sample = this.evaluate(p);
      if (sample === undefined) continue;
      if (out === undefined) out = [sample];
      else out.push(sample);
      for (let r = p.dependents; r !== undefined; r = r.next) {
        if (r.order > p.order) this.feed(r, sample, pass); // else a loop the config checks would have refused
      }
    }
    if (out === undefined) return;
    const msg: BusMessage = { samples: out };
    this.publishing = msg;
    try {
      this.o.bus.publish(msg);
    } finally {
      this.publishing = undefined;
    }
  }

  /** feed pushes a sample into a reader's input and marks its program touched in this pass, at the newest time it got. */
  private feed(r: Reader, s: Sample, pass: number): void {
    r.run.pushInput(r.input, s.t, s.value, s.heartbeat);
    const n = this.nums;
    const k = r.id * STRIDE;
    if (s.heartbeat !== undefined && s.heartbeat > n[k + HEARTBEAT]) n[k + HEARTBEAT] = s.heartbeat;
    if (n[k + MARK] !== pass) {
      n[k + MARK] = pass;
      n[k + AT] = s.t;
      this.touched.insert(r);
    } else if (s.t > n[k + AT]) {
      n[k + AT] = s.t;
    }
  }

  /** evaluate runs a reader's program at its newest input time (after its last sample); a known value is a sample. */
  private evaluate(r: Reader): Sample | undefined {
    const n = this.nums;
    const k = r.id * STRIDE;
    const at = n[k + AT] > n[k + LAST_OUT] ? n[k + AT] : n[k + LAST_OUT] + 1;
    let v: number;
    try {
      v = r.run.valueAt(at);
    } catch (err) {
      r.program.error = errorMessage(err);
      this.totals.errors++;
      this.report('evaluate', r.name, err);
      return undefined;
    }
    n[k + EVALUATIONS]++;
    this.totals.evaluations++;
    n[k + LAST_AT] = at;
    n[k + LAST_VALUE] = v;
    if (v !== v) {
      this.totals.unknown++;
      return undefined;
    }
    n[k + SAMPLES]++;
    this.totals.samples++;
    n[k + LAST_OUT] = at;
    const hb = n[k + HEARTBEAT];
    return { series: r.name, t: at, value: v, kind: 'gauge', heartbeat: hb > 0 ? hb : undefined };
  }

  /**
   * rebuild reads back the history each program's inputs need, pushes it (up to the first
   * sample a held message brings for the series, so none is read twice), and when no
   * other rebuild is in progress handles the held messages. It releases the pause it
   * was counted in (by the constructor or update).
   */
  private async rebuild(programs: Program[]): Promise<void> {
    try {
      const read = await this.readBack(programs);
      this.preload(programs, read);
    } catch (err) {
      this.report('rebuild', programs.map((p) => p.name).join(', '), createError('REMON_ERR_DERIVE_REBUILD', `windows could not be read back from the store: ${errorMessage(err)}`, err));
    } finally {
      for (const p of programs) p.rebuilding = false;
      this.gate.release();
    }
  }

  /** readBack fetches the history of every input the programs read (the longest need of each). */
  private readBack(programs: Program[]): Promise<Map<string, Array<[number, number]>>> {
    return readBack(this.o.store, programs.map((p) => p.expr.needs), this.o.clock.now(), (series) => this.intervalOf(series));
  }

  /** preload pushes read-back samples into the programs, before the first sample a held message has of each series. */
  private preload(programs: Program[], read: Map<string, Array<[number, number]>>): void {
    const cutoff = firstSampleTimes(this.gate.held, read);
    for (const p of [...programs].sort((a, b) => a.order - b.order)) {
      if (this.programs.get(p.name) !== p) continue; // replaced by a reload meanwhile
      for (const series of p.inputs) {
        const points = read.get(series) ?? [];
        const cut = cutoff.get(series) ?? Infinity;
        const hb = this.heartbeatOf(series);
        const k = p.id * STRIDE + HEARTBEAT;
        if (hb !== undefined && hb > this.nums[k]) this.nums[k] = hb;
        for (const [t, v] of points) {
          if (t >= cut) break;
          p.run.push(series, t, v, hb);
        }
      }
    }
  }

  /** heartbeatOf: a block series' hint, or for a derived series the longest of its inputs'. */
  private heartbeatOf(series: string): number | undefined {
    return this.overInputs(series, (s) => this.o.heartbeatOf(s), Math.max);
  }

  /** intervalOf: a block series' interval, or for a derived series the shortest of its inputs'. */
  private intervalOf(series: string): number | undefined {
    return this.overInputs(series, (s) => this.o.intervalOf(s), Math.min);
  }

  /** overInputs: `leaf` of a series no program makes, else `pick` over what its inputs give (undefined ones left out). */
  private overInputs(series: string, leaf: (s: string) => number | undefined, pick: (a: number, b: number) => number, seen = new Set<string>()): number | undefined {
    const p = this.programs.get(series);
    if (!p) return leaf(series);
    if (seen.has(series)) return undefined;
    seen.add(series);
    let out: number | undefined;
    for (const i of p.inputs) {
      const x = this.overInputs(i, leaf, pick, seen);
      if (x !== undefined) out = out === undefined ? x : pick(out, x);
    }
    return out;
  }

  private track(p: Promise<void>): Promise<void> {
    this.rebuilds.add(p);
    void p.finally(() => this.rebuilds.delete(p));
    return p;
  }

  private drop(): void {
    this.totals.dropped++;
    if (this.logged.has('dropped')) return;
    this.logged.add('dropped');
    this.o.log.warn({ held: this.gate.held.length }, 'derive: too many messages held while windows are rebuilt; dropping (counted)');
  }

  /** report logs a failure once per kind and series. */
  private report(what: string, name: string, err: unknown): void {
    const key = `${what}:${name}`;
    if (this.logged.has(key)) return;
    this.logged.add(key);
    this.o.log.error({ derived: name, err: errorMessage(err) }, `derive: ${what} failed`);
  }
}
