/**
 * Derived-series benchmark (issue 11): samples per second through the bus with the store
 * and the derive subscriber, which evaluates one derived series per block as its samples
 * arrive and publishes the derived sample back on the bus (stored too), against the same
 * samples written to the store alone, side by side in one process. Each message is one
 * block result (up, duration_ms and value), as the engine publishes them; 10,000 blocks.
 * The derived series cycle through a mix of expressions (windows by time and by count,
 * percentile, fraction, ewma, arithmetic across series, holt_winters). Target: ≥ 0.5× the
 * store alone. Rounds alternate between the two and the medians are compared, for the
 * memory store and the default RRD store (journal included).
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

interface Measured {
  alone: number[];
  derive: number[];
  derived: number;
  evaluations: number;
}

async function measure(kind: 'memory' | 'rrd'): Promise<Measured> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-derive-'));
  const mk = (sub: string): Store => (kind === 'memory'
    ? new MemoryStore({ capacity: 64 })
    : new RrdStore({ dir: path.join(dir, sub), retention: ['10s:1d'], log: silentLogger(), flushIntervalMs: 3_600_000 }));
  const storeA = mk('alone');
  const storeB = mk('derive');
  const bus = new Bus(silentLogger());
  bus.subscribe('store', (m) => storeB.write(m.samples));
  const configs = Array.from({ length: BLOCKS }, (_, i) => ({ name: `b${i}.d`, expr: EXPRS[i % EXPRS.length](`b${i}`) }));
  const deriver = new Deriver({ bus, store: storeB, clock: realClock, log: silentLogger(), heartbeatOf: () => 20, intervalOf: () => 10_000 }, configs);
  bus.subscribe('derive', deriver.handle);
  await deriver.start();
  const out: Measured = { alone: [], derive: [], derived: 0, evaluations: 0 };
  let t = 1_700_000_000_000;
  let round = 0;
  const samplesPerRound = messages(t, 0)[0].samples.length * BLOCKS * PER_ROUND;
  // Warm up both paths (files created, windows filled, code optimized).
  for (let w = 0; w < 3; w++) for (const m of messages((t += 10_000), round++)) { storeA.write(m.samples); bus.publish(m); }
  for (let r = 0; r < ROUNDS; r++) {
    // Times move on each round: the RRD store drops samples not after the last ones.
    const batch = [...Array(PER_ROUND)].map(() => messages((t += 10_000), round++));
    const before = { ...deriver.totals };
    for (const first of r % 2 === 0 ? ['alone', 'derive'] : ['derive', 'alone']) {
      global.gc?.();
      const t0 = performance.now();
      if (first === 'alone') for (const msgs of batch) for (const m of msgs) storeA.write(m.samples);
      else for (const msgs of batch) for (const m of msgs) bus.publish(m);
      const s = (performance.now() - t0) / 1000;
      if (first === 'alone') out.alone.push(samplesPerRound / s);
      else {
        out.derive.push(samplesPerRound / s);
        out.derived = Math.max(out.derived, (deriver.totals.samples - before.samples) / s);
        out.evaluations = Math.max(out.evaluations, (deriver.totals.evaluations - before.evaluations) / s);
      }
    }
  }
  if (deriver.totals.errors > 0) throw new Error(`${deriver.totals.errors} evaluations failed`);
  if (deriver.totals.samples === 0) throw new Error('nothing derived');
  await bus.drain();
  for (const s of [storeA, storeB]) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

export async function benchDerive(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const kind of ['memory', 'rrd'] as const) {
    const r = await measure(kind);
    const alone = median(r.alone);
    const derive = median(r.derive);
    const ratios = r.alone.map((a, i) => r.derive[i] / a);
    rows.push([`${kind} store`, Math.round(alone), Math.round(derive), derive / alone, median(ratios), `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`, Math.round(r.evaluations)]);
  }
  return table(
    `derive: ${BLOCKS} results × ${PER_ROUND} per round, one derived series per block (${EXPRS.length} kinds of expression), ${ROUNDS} rounds alternating; input samples/s through store + derive (derived samples published and stored) vs the store alone (target ≥ 0.5×)`,
    ['path', 'store alone, samples/s', 'store + derive, samples/s', 'ratio of medians', 'median ratio per round', 'ratio per round', 'evaluations/s (best round)'],
    rows,
  );
}
