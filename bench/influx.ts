/**
 * Influx store benchmark (issue 3): points/s written to a VictoriaMetrics on loopback, and
 * points lost across a server restart.
 *
 * - remon: InfluxStore.write() (no gzip: the server is on loopback) of engine-shaped batches (3 samples of one block per call,
 *   10,000 series) as fast as the store takes them (the producer waits while more than
 *   50,000 points are undelivered), for BENCH_SECONDS; the rate counts points the server
 *   acknowledged, up to the end of the final flush.
 * - reference: plain node:http POSTs of pre-built line-protocol batches (5,000 lines, no
 *   gzip, 4 in flight, keep-alive) to the same write endpoint: the server's own ceiling
 *   for this client machine.
 * - restart: remon paced at 100,000 points/s; the server is stopped (SIGTERM) for 3 s and
 *   started again on the same data; afterwards every (series, timestamp) is looked up on
 *   the server.
 *
 *   node dist/bench/influx.js                     # 20 s per run, median of 3
 *   BENCH_SECONDS=5 BENCH_RUNS=1 node dist/bench/influx.js
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { silentLogger } from '../src/log';
import { InfluxStore } from '../src/store/influx';
import { Sample } from '../src/store/store';
import { tmpDir } from '../test/helpers';
import { startVictoriaMetrics, victoriaMetricsPath, VictoriaMetrics } from '../test/store-influx-server';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BLOCKS = 3334; // × 3 series = 10,002 series
const FIELDS = ['up', 'duration_ms', 'value'];
const TARGET = 100_000;

interface Run {
  points: number;
  seconds: number;
  rate: number;
  cpuMsPer100k: number;
  spooled: number;
  lost: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** batchFor is one engine-shaped write(): a block's result of round r, at t0 + r·10 ms. */
function batchFor(block: number, t: number, round: number): Sample[] {
  return FIELDS.map((f, i) => ({ series: `b${block}.${f}`, t, value: i === 0 ? 1 : (block % 97) + round / 8, kind: 'gauge' as const }));
}

function openStore(vm: VictoriaMetrics, node: string): InfluxStore {
  return new InfluxStore({ url: vm.url, bucket: 'bench', node, spoolDir: path.join(tmpDir('remon-bench-'), 'influx-spool'), log: silentLogger() });
}

async function drained(store: InfluxStore, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (store.influxStatus().pending > 0 || store.influxStatus().state !== 'ok') {
    if (Date.now() > end) throw new Error(`the store did not drain: ${JSON.stringify(store.influxStatus())}`);
    await sleep(20);
  }
}

/** distinctOnServer counts the distinct (series, timestamp) samples of a node on the server, once the count settles. */
async function distinctOnServer(vm: VictoriaMetrics, node: string): Promise<number> {
  await vm.sync();
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const got = await vm.exportSamples(`{node="${node}"}`);
    let n = 0;
    for (const list of got.values()) n += new Set(list.map((p) => p[0])).size;
    if (n === last) return n;
    last = n;
    await sleep(300);
  }
  return last;
}

async function remonRun(vm: VictoriaMetrics, runNo: number): Promise<Run> {
  const node = `bench-remon-${runNo}`;
  const store = openStore(vm, node);
  const t0 = Date.now() - 3_600_000;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + SECONDS * 1000;
  let round = 0;
  let points = 0;
  while (performance.now() < stopAt) {
    const t = t0 + round * 10;
    for (let b = 0; b < BLOCKS; b++) {
      store.write(batchFor(b, t, round));
      points += FIELDS.length;
      if (b % 500 === 499 && store.influxStatus().pending > 50_000) {
        while (store.influxStatus().pending > 25_000) await sleep(1);
      }
    }
    round++;
    await new Promise((r) => setImmediate(r));
  }
  await store.flush();
  await drained(store);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const st = store.influxStatus();
  await store.close();
  const onServer = await distinctOnServer(vm, node);
  return { points, seconds, rate: st.delivered / seconds, cpuMsPer100k: ((cpu.user + cpu.system) / 1000 / points) * 100_000, spooled: st.spooled, lost: points - onServer };
}

async function referenceRun(vm: VictoriaMetrics, runNo: number): Promise<Run> {
  // Pre-built: 200 batches of 5,000 lines (1,000,000 points), posted round-robin.
  const node = `bench-ref-${runNo}`;
  const t0 = Date.now() - 3_600_000;
  const batches: Array<{ body: Buffer; lines: number }> = [];
  let lines: string[] = [];
  for (let round = 0; batches.length < 200; round++) {
    for (let b = 0; b < BLOCKS && batches.length < 200; b++) {
      for (const [i, f] of FIELDS.entries()) lines.push(`b${b},node=${node} ${f}=${i === 0 ? 1 : (b % 97) + round / 8} ${t0 + round * 10}`);
      if (lines.length >= 5000) {
        batches.push({ body: Buffer.from(lines.join('\n')), lines: lines.length });
        lines = [];
      }
    }
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const url = new URL('/api/v2/write?org=&bucket=bench&precision=ms', vm.url);
  const post = (body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const stopAt = start + SECONDS * 1000;
  let next = 0;
  let points = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < stopAt) {
      const batch = batches[next++ % batches.length];
      await post(batch.body);
      points += batch.lines;
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { points, seconds, rate: points / seconds, cpuMsPer100k: ((cpu.user + cpu.system) / 1000 / points) * 100_000, spooled: 0, lost: NaN };
}

/** restartRun: 100,000 points/s paced, the server down for 3 s in the middle. */
async function restartRun(vm: VictoriaMetrics): Promise<Run & { replaySeconds: number; catchUpSeconds: number }> {
  const node = 'bench-restart';
  const store = openStore(vm, node);
  const t0 = Date.now() - 3_600_000;
  const seconds = Math.max(9, Math.min(SECONDS, 15));
  const start = performance.now();
  let points = 0;
  let round = 0;
  const producer = (async () => {
    // 100 ms ticks of 10,000 points.
    while (performance.now() - start < seconds * 1000) {
      const due = start + round * 100;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const t = t0 + round * 10;
      for (let b = 0; b < BLOCKS; b++) store.write(batchFor(b, t, round));
      points += BLOCKS * FIELDS.length;
      round++;
    }
  })();
  const downAt = (seconds * 1000 - 3000) / 2;
  await sleep(downAt);
  await vm.stop();
  await sleep(3000);
  await vm.start();
  const back = performance.now();
  let catchUpSeconds = NaN;
  const watch = (async () => {
    while (store.influxStatus().state !== 'ok') await sleep(10);
    catchUpSeconds = (performance.now() - back) / 1000;
  })();
  await producer;
  await watch;
  const replayStart = performance.now();
  await store.flush();
  await drained(store);
  const replaySeconds = (performance.now() - replayStart) / 1000;
  const st = store.influxStatus();
  await store.close();
  const onServer = await distinctOnServer(vm, node);
  return {
    points,
    seconds: (performance.now() - start) / 1000,
    rate: points / seconds,
    cpuMsPer100k: NaN,
    spooled: st.spooled,
    lost: points - onServer,
    replaySeconds,
    catchUpSeconds,
  };
}

export async function benchInflux(): Promise<string> {
  if (!victoriaMetricsPath()) return '\n### Influx store\n\nskipped: victoria-metrics is not installed (apt-get install victoria-metrics)';
  const remon: Run[] = [];
  const ref: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    for (const side of ['remon', 'ref'] as const) {
      const vm = await startVictoriaMetrics();
      try {
        if (side === 'remon') remon.push(await remonRun(vm, i));
        else ref.push(await referenceRun(vm, i));
      } finally {
        await vm.stop();
      }
    }
  }
  const vm = await startVictoriaMetrics();
  let restart: Run & { replaySeconds: number; catchUpSeconds: number };
  try {
    restart = await restartRun(vm);
  } finally {
    await vm.stop();
  }
  const med = (runs: Run[], k: keyof Run): number => median(runs.map((r) => r[k] as number));
  const rRate = med(remon, 'rate');
  const refRate = med(ref, 'rate');
  const lostMax = Math.max(...remon.map((r) => r.lost));
  return [
    table(
      `Influx store → VictoriaMetrics on loopback: 10,002 series, ${SECONDS} s per run, median of ${RUNS}`,
      ['side', 'points/s', 'runs (points/s)', 'CPU ms / 100k points (this process)', 'spooled', 'lost'],
      [
        ['remon InfluxStore.write (influxdb-client, batches of 5,000, ≤4 in flight)', rRate, remon.map((r) => Math.round(r.rate)).join(' / '), med(remon, 'cpuMsPer100k'), med(remon, 'spooled'), lostMax],
        ['plain node:http, pre-built 5,000-line bodies, 4 in flight (reference)', refRate, ref.map((r) => Math.round(r.rate)).join(' / '), med(ref, 'cpuMsPer100k'), '-', '-'],
      ],
    ),
    table(
      'Server restart: 100,000 points/s paced, server stopped (SIGTERM) for 3 s and started again on the same data',
      ['points written', 'spooled (outage + catch-up)', 'server back → spool replayed, s', 'flush + drain after the last write, s', 'points lost'],
      [[restart.points, restart.spooled, restart.catchUpSeconds, restart.replaySeconds, restart.lost]],
    ),
    '',
    `targets: ≥ ${TARGET.toLocaleString('en')} points/s sustained: ${rRate >= TARGET ? 'met' : 'MISSED'}; nothing lost across a restart: ${restart.lost === 0 ? 'met' : 'MISSED'}; nothing lost in the throughput runs: ${lostMax === 0 ? 'met' : 'MISSED'}`,
    `ratio remon / reference: ${(rRate / refRate).toFixed(2)}× points/s`,
  ].join('\n');
}

if (require.main === module) {
  benchInflux().then(
    (t) => {
      console.log(t);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
