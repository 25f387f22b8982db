/**
 * SLA benchmark (issue 11): 10,000 SLA tests over 10,000 series, each its own block's
 * field, run by the SLA runner of a node (src/sla/runner.ts: bus feed, SlaSet on the real
 * clock and deadline service, the SLA log on disk in a temporary directory).
 *
 * 1. Evaluations per second on one core: rounds of one bus message per block, each with
 *    the samples the engine publishes for a result (up, duration_ms, value), through the
 *    bus to the SLA subscriber, which pushes the sample into the test that reads it and
 *    evaluates it (state machine included). For two kinds of test: the last value
 *    (`b1.value < 100`) and a window (`avg(b1.value, 1m) < 100`). After 5 untimed rounds,
 *    the median of the timed ones (each on a collected heap), per second of this process's
 *    CPU time (what one core gives, whatever else the machine runs) and per wall second.
 *    Target ≥ 100,000/s.
 * 2. Latency from a failing sample published on the bus to the `sla.state` event of the
 *    change (for: 0), as a bus subscriber sees it: the SLA log write (in the kernel before
 *    the event goes out) included. Each probe fails one SLA and passes it again.
 *    Target p99 ≤ 20 ms.
 *
 *   BENCH_ONLY=sla npm run bench
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Bus, BusMessage } from '../src/bus';
import { realClock } from '../src/clock';
import { silentLogger } from '../src/log';
import { SlaConfig, SlaRunner } from '../src/sla';
import { MemoryStore } from '../src/store/memory';
import { median, quantile, table } from './stats';

const SLAS = Number(process.env.BENCH_SLAS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_SLA_ROUNDS ?? 15);
const PROBES = Number(process.env.BENCH_SLA_PROBES ?? 2000);
/** Untimed rounds first, so the figures are of optimized code. */
const WARMUP = 5;

function config(name: string, test: string): SlaConfig {
  return {
    name, test, forMs: 0, keepFiringForMs: 0, cooldownMs: 0, slots: false, everyMs: 30_000, noData: 'unknown',
    severity: 'page', labels: {}, dependsOn: [], actions: [],
  };
}

/** message is block i's result as the engine publishes it: up, duration_ms and its field. */
function message(i: number, t: number, value: number): BusMessage {
  return {
    samples: [
      { series: `b${i}.up`, t, value: 1, kind: 'gauge', heartbeat: 20 },
      { series: `b${i}.duration_ms`, t, value: 0.5, kind: 'gauge', heartbeat: 20 },
      { series: `b${i}.value`, t, value, kind: 'gauge', heartbeat: 20 },
    ],
  };
}

interface Node {
  bus: Bus;
  runner: SlaRunner;
  dir: string;
  transitions: () => number;
}

async function node(test: (i: number) => string): Promise<Node> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-sla-'));
  const bus = new Bus(silentLogger());
  const store = new MemoryStore({ capacity: 16 });
  const configs = Array.from({ length: SLAS }, (_, i) => config(`s${i}`, test(i)));
  const runner = new SlaRunner({ bus, store, clock: realClock, log: silentLogger(), dataDir: dir, intervalOf: () => 10_000, heartbeatOf: () => 20 }, configs);
  bus.subscribe('sla', runner.feed.handle);
  await runner.start();
  await runner.ready();
  return { bus, runner, dir, transitions: () => runner.set.stats().transitions };
}

async function close(n: Node): Promise<void> {
  await n.runner.stop();
  fs.rmSync(n.dir, { recursive: true, force: true });
}

/** throughput: evaluations per second, per round; every value passes (no state change after the first round). */
async function throughput(test: (i: number) => string): Promise<{ rates: number[]; cpuRates: number[]; heapPerSla: number }> {
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const n = await node(test);
  global.gc?.();
  const heapPerSla = (process.memoryUsage().heapUsed - heap0) / SLAS;
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let t = Date.now();
  // Warm up (the code optimized): each SLA's first evaluation (unknown → ok) is a state change.
  for (let w = 0; w < WARMUP; w++, t += 1000) for (let i = 0; i < SLAS; i++) n.bus.publish(message(i, t, 50));
  const before = n.runner.set.stats().evaluations;
  for (let r = 0; r < ROUNDS; r++) {
    t += 1000;
    const batch = Array.from({ length: SLAS }, (_, i) => message(i, t, (i + r) % 90));
    global.gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < SLAS; i++) n.bus.publish(batch[i]);
    rates.push(SLAS / ((performance.now() - t0) / 1000));
    const cpu = process.cpuUsage(cpu0);
    cpuRates.push(SLAS / ((cpu.user + cpu.system) / 1e6));
  }
  const evaluated = n.runner.set.stats().evaluations - before;
  if (evaluated < SLAS * ROUNDS) throw new Error(`only ${evaluated} evaluations of ${SLAS * ROUNDS}`);
  await close(n);
  return { rates, cpuRates, heapPerSla };
}

/** latency: ms from publishing a failing sample to the sla.state event of its SLA going to firing. */
async function latency(): Promise<number[]> {
  const n = await node((i) => `b${i}.value < 100`);
  let t = Date.now();
  for (let i = 0; i < SLAS; i++) n.bus.publish(message(i, t, 50));
  let sentAt = 0;
  let waiting = '';
  const out: number[] = [];
  n.bus.subscribe('probe', (m) => {
    const e = m.event;
    if (e && e.subject === waiting && e.data?.to === 'firing') {
      out.push(performance.now() - sentAt);
      waiting = '';
    }
  });
  for (let k = 0; k < PROBES; k++) {
    const i = (k * 7919) % SLAS;
    t = Math.max(t + 2, Date.now());
    waiting = `s${i}`;
    sentAt = performance.now();
    n.bus.publish(message(i, t, 500));
    if (waiting !== '') throw new Error(`no firing event for s${i}`);
    n.bus.publish(message(i, t + 1, 50));
    // Let timers and I/O run between probes, as on a node.
    if (k % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await close(n);
  return out;
}

export async function benchSla(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const [label, test] of [
    ['last value: b1.value < 100', (i: number) => `b${i}.value < 100`],
    ['window: avg(b1.value, 1m) < 100', (i: number) => `avg(b${i}.value, 1m) < 100`],
  ] as const) {
    const r = await throughput(test);
    rows.push([label, Math.round(median(r.cpuRates)), Math.round(median(r.rates)), Math.round(Math.min(...r.rates)), Math.round(Math.max(...r.rates)), Math.round(r.heapPerSla)]);
  }
  const lat = await latency();
  const evals = table(
    `SLA evaluations: ${SLAS} SLAs over ${SLAS} series, one bus message per block (3 samples), ${ROUNDS} rounds; one core (target ≥ 100,000/s)`,
    ['test', 'evaluations per CPU second (median)', 'per wall second (median)', 'wall min', 'wall max', 'heap bytes per SLA'],
    rows,
  );
  const us = (ms: number): number => Math.round(ms * 1000);
  const latRows = [[`${lat.length} probes, for: 0`, us(quantile(lat, 0.5)), us(quantile(lat, 0.99)), us(Math.max(...lat))]];
  const lats = table(
    `SLA latency: failing sample published on the bus → sla.state firing event (SLA log write included), ${SLAS} SLAs loaded (target p99 ≤ 20 ms)`,
    ['probes', 'p50 µs', 'p99 µs', 'max µs'],
    latRows,
  );
  return `${evals}\n${lats}`;
}
