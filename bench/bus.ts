/**
 * Bus benchmark (issue: seams): samples per second through the bus with its real
 * subscribers (the store and the pipe runner) plus three no-op subscribers, against the
 * same samples written to the store alone, side by side in one process. Each message is
 * one block result with its samples (up, duration_ms and a field), as the engine publishes
 * them; 10,000 blocks, none with pipe steps (the pipe runner still sees every message).
 * Target: ≥ 0.8× the store alone. Rounds alternate between the two and the medians are
 * compared, for the memory store and the default RRD store (journal included).
 *
 *   BENCH_ONLY=bus npm run bench   (npm run bench passes --expose-gc)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus, BusMessage } from '../src/bus';
import { Result, resultSeries } from '../src/engine/result';
import { silentLogger } from '../src/log';
import { PipeRunner } from '../src/pipe/runner';
import { createShared } from '../src/shared';
import { MemoryStore } from '../src/store/memory';
import { RrdStore } from '../src/store/rrd/store';
import { Store } from '../src/store/store';
import { median, table } from './stats';

const BLOCKS = Number(process.env.BENCH_BUS_BLOCKS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_BUS_ROUNDS ?? 15);
const PER_ROUND = 10;

/** messages makes one round of results (one per block) at time t, as the engine would publish them. */
function messages(t: number): BusMessage[] {
  const out: BusMessage[] = new Array(BLOCKS);
  for (let i = 0; i < BLOCKS; i++) {
    const r: Result = {
      block: `b${i}`, type: 'probe', ok: true, fields: { value: i % 100 }, message: '', startedAt: t, durationMs: 0.5, lagMs: 0.1, trigger: 'schedule',
    };
    out[i] = { result: r, samples: resultSeries(r, 20) };
  }
  return out;
}

interface Pair {
  alone: number[];
  bus: number[];
}

async function measure(kind: 'memory' | 'rrd'): Promise<Pair & { samples: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-bus-'));
  const mk = (sub: string): Store => (kind === 'memory'
    ? new MemoryStore({ capacity: 64 })
    : new RrdStore({ dir: path.join(dir, sub), retention: ['10s:1d'], log: silentLogger(), flushIntervalMs: 3_600_000 }));
  const storeA = mk('alone');
  const storeB = mk('bus');
  const shared = createShared({ kind: 'memory', persistentBuckets: [] }, { dataDir: dir, log: silentLogger() });
  const bus = new Bus(silentLogger());
  const pipes = new PipeRunner({ shared, pipeOf: () => undefined, runBlock: () => Promise.reject(new Error('no')), onError: () => undefined });
  bus.subscribe('store', (m) => storeB.write(m.samples));
  bus.subscribe('pipe', (m) => pipes.handle(m));
  let seen = 0;
  for (const name of ['derive', 'sla', 'live']) bus.subscribe(name, (m) => { seen += m.samples.length; });
  const pair: Pair = { alone: [], bus: [] };
  let t = 1_700_000_000_000;
  const samplesPerRound = messages(t)[0].samples.length * BLOCKS * PER_ROUND;
  const rounds = [messages((t += 10_000))];
  // Warm up both paths (files created, code optimized).
  for (const m of rounds[0]) { storeA.write(m.samples); bus.publish(m); }
  for (let r = 0; r < ROUNDS; r++) {
    // Times move on each round: the RRD store drops samples not after the last ones.
    const batch = [...Array(PER_ROUND)].map(() => messages((t += 10_000)));
    for (const first of r % 2 === 0 ? ['alone', 'bus'] : ['bus', 'alone']) {
      // Each side starts on a collected heap (node --expose-gc), so a collection the other
      // side's garbage made does not land in its time.
      global.gc?.();
      const t0 = performance.now();
      if (first === 'alone') for (const round of batch) for (const m of round) storeA.write(m.samples);
      else for (const round of batch) for (const m of round) bus.publish(m);
      const s = (performance.now() - t0) / 1000;
      (first === 'alone' ? pair.alone : pair.bus).push(samplesPerRound / s);
    }
  }
  await bus.drain();
  if (seen === 0) throw new Error('the no-op subscribers saw nothing');
  for (const s of [storeA, storeB]) await s.close();
  await shared.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...pair, samples: samplesPerRound };
}

export async function benchBus(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const kind of ['memory', 'rrd'] as const) {
    const r = await measure(kind);
    const alone = median(r.alone);
    const bus = median(r.bus);
    const ratios = r.alone.map((a, i) => r.bus[i] / a);
    rows.push([`${kind} store`, Math.round(alone), Math.round(bus), bus / alone, median(ratios), `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`]);
  }
  return table(
    `bus: ${BLOCKS} results × ${PER_ROUND} per round, ${ROUNDS} rounds alternating; store + pipe + 3 no-op subscribers vs the store alone (target ≥ 0.8×)`,
    ['path', 'store alone, samples/s', 'through the bus, samples/s', 'ratio of medians', 'median ratio per round', 'ratio per round'],
    rows,
  );
}
