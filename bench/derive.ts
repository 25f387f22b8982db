/**
 * Derived-series benchmark (issue 11): samples per second through the bus with the store
 * and the derive subscriber, which evaluates one derived series per block as its samples
 * arrive and publishes the derived sample back on the bus (stored too), against the
 * store's ingest alone: the same samples through a bus with the store as its only
 * subscriber, as the engine delivers them. Side by side in one process, each side with a
 * store of its own of the same kind. Each message is one block result (up, duration_ms and
 * value), as the engine publishes them; 10,000 blocks. The derived series cycle through a
 * mix of expressions (windows by time and by count, percentile, fraction, ewma, arithmetic
 * across series, holt_winters). Target: ≥ 0.5× the store alone.
 *
 * Both sides first run until they are in their steady state (every window full, every
 * Holt-Winters model done learning, the memory store's rings at their size); then rounds
 * alternate which side goes first, each side timed on the same messages, and the medians
 * are compared, for the memory store and the default RRD store (journal included). Wall
 * time is what the target reads; CPU time is beside it, as the machine may be busy.
 *
 *   BENCH_ONLY=derive npm run bench   (npm run bench passes --expose-gc)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus, BusMessage } from '../src/bus';
import { realClock } from '../src/clock';
import { Deriver } from '../src/derive';
import { Result, resultSeries } from '../src/engine/result';
import { silentLogger } from '../src/log';
import { MemoryStore } from '../src/store/memory';
import { RrdStore } from '../src/store/rrd/store';
import { Store } from '../src/store/store';
import { median, table } from './stats';

const BLOCKS = Number(process.env.BENCH_DERIVE_BLOCKS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_DERIVE_ROUNDS ?? 11);
const PER_ROUND = 10;
/** Results per block before the rounds: the longest window (30 samples), Holt-Winters' learning (31), the memory store's rings (64). */
const WARMUP = Number(process.env.BENCH_DERIVE_WARMUP ?? 70);
const MEMORY_CAPACITY = 64;
const TARGET = 0.5;

/** EXPRS: the derived series of block b, one per block in turn. */
const EXPRS: Array<(b: string) => string> = [
  (b) => `avg(${b}.value, 5m)`,
  (b) => `fraction(${b}.value < 50, 20)`,
  (b) => `percentile(${b}.duration_ms, 95, 5m)`,
  (b) => `ewma(${b}.value, 0.2)`,
  (b) => `${b}.value / ${b}.duration_ms * 100`,
  (b) => `max(${b}.value, 10) - min(${b}.value, 10)`,
  (b) => `rate(${b}.value, 6)`,
  (b) => `holt_winters(${b}.value, 'prediction', 30)`,
];

/** messages makes one round of results (one per block) at time t, as the engine would publish them. */
function messages(t: number, round: number): BusMessage[] {
  const out: BusMessage[] = new Array(BLOCKS);
  for (let i = 0; i < BLOCKS; i++) {
    const r: Result = {
      block: `b${i}`, type: 'probe', ok: true, fields: { value: (i + round * 7) % 100 }, message: '', startedAt: t, durationMs: 0.5 + (round % 5), lagMs: 0.1, trigger: 'schedule',
    };
    out[i] = { result: r, samples: resultSeries(r, 20) };
  }
  return out;
}

/** Side: per round, input samples per second of wall time and of this process's CPU time. */
interface Side {
  wall: number[];
  cpu: number[];
}

interface Measured {
  alone: Side;
  derive: Side;
  /** Evaluations and derived samples per second (wall), per round. */
  evaluations: number[];
  derived: number[];
}

async function measure(kind: 'memory' | 'rrd'): Promise<Measured> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-derive-'));
  const mk = (sub: string): Store => (kind === 'memory'
    ? new MemoryStore({ capacity: MEMORY_CAPACITY })
    : new RrdStore({ dir: path.join(dir, sub), retention: ['10s:1d'], log: silentLogger(), flushIntervalMs: 3_600_000 }));
  // The store's ingest alone: a bus whose only subscriber is the store.
  const storeA = mk('alone');
  const busA = new Bus(silentLogger());
  busA.subscribe('store', (m) => storeA.write(m.samples));
  // The same with derive after the store, as a node subscribes them.
  const storeB = mk('derive');
  const busB = new Bus(silentLogger());
  busB.subscribe('store', (m) => storeB.write(m.samples));
  const configs = Array.from({ length: BLOCKS }, (_, i) => ({ name: `b${i}.d`, expr: EXPRS[i % EXPRS.length](`b${i}`) }));
  const deriver = new Deriver({ bus: busB, store: storeB, clock: realClock, log: silentLogger(), heartbeatOf: () => 20, intervalOf: () => 10_000 }, configs);
  busB.subscribe('derive', deriver.handle);
  await deriver.start();
  const out: Measured = { alone: { wall: [], cpu: [] }, derive: { wall: [], cpu: [] }, evaluations: [], derived: [] };
  let t = 1_700_000_000_000;
  let round = 0;
  const samplesPerRound = messages(t, 0)[0].samples.length * BLOCKS * PER_ROUND;
  // Warm up both sides to their steady state (files created, windows and rings full, code optimized).
  for (let w = 0; w < WARMUP; w++) for (const m of messages((t += 10_000), round++)) { busA.publish(m); busB.publish(m); }
  for (let r = 0; r < ROUNDS; r++) {
    // Times move on each round: the RRD store drops samples not after the last ones.
    const batch = [...Array(PER_ROUND)].map(() => messages((t += 10_000), round++));
    const before = { ...deriver.totals };
    for (const side of r % 2 === 0 ? ['alone', 'derive'] as const : ['derive', 'alone'] as const) {
      // Each side starts on a collected heap (node --expose-gc): a collection the other
      // side's garbage made does not land in its time.
      global.gc?.();
      const bus = side === 'alone' ? busA : busB;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (const msgs of batch) for (const m of msgs) bus.publish(m);
      const s = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      out[side].wall.push(samplesPerRound / s);
      out[side].cpu.push(samplesPerRound / ((c.user + c.system) / 1e6));
      if (side === 'derive') {
        out.evaluations.push((deriver.totals.evaluations - before.evaluations) / s);
        out.derived.push((deriver.totals.samples - before.samples) / s);
      }
    }
  }
  if (deriver.totals.errors > 0) throw new Error(`${deriver.totals.errors} evaluations failed`);
  if (deriver.totals.samples === 0) throw new Error('nothing derived');
  for (const b of [busA, busB]) await b.drain();
  for (const s of [storeA, storeB]) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

export async function benchDerive(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  for (const kind of ['memory', 'rrd'] as const) {
    const r = await measure(kind);
    const alone = median(r.alone.wall);
    const derive = median(r.derive.wall);
    const ratios = r.alone.wall.map((a, i) => r.derive.wall[i] / a);
    const perRound = median(ratios);
    rows.push([
      `${kind} store`, Math.round(alone), Math.round(derive), derive / alone, perRound,
      `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
      median(r.derive.cpu) / median(r.alone.cpu), Math.round(median(r.evaluations)),
    ]);
    verdicts.push(`${kind} store ${perRound.toFixed(2)}× ${perRound >= TARGET ? 'met' : 'MISSED'}`);
  }
  return [
    table(
      `derive: ${BLOCKS} results × ${PER_ROUND} per round, one derived series per block (${EXPRS.length} kinds of expression), after ${WARMUP} results per block; ${ROUNDS} rounds alternating; input samples/s through store + derive (derived samples published and stored) vs the store alone, each through a bus (target ≥ ${TARGET}×)`,
      ['path', 'store alone, samples/s', 'store + derive, samples/s', 'ratio of medians', 'median ratio per round', 'ratio per round', 'ratio of medians, CPU time', 'evaluations/s (median)'],
      rows,
    ),
    '',
    `target: store + derive ≥ ${TARGET}× the store alone (median ratio per round): ${verdicts.join('; ')}`,
  ].join('\n');
}
