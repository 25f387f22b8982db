/**
 * Live benchmark (issue 13): how long a sample takes from the bus to 50 WebSocket clients
 * (target p95 ≤ 250 ms), and what the live hub costs the bus when nobody subscribes.
 *
 * A node (memory store, the rpc plugin) gets BENCH_LIVE_RATE block results per second (3
 * samples each: up, duration_ms, value) from BENCH_LIVE_BLOCKS blocks, published on its bus
 * in bursts every 20 ms for BENCH_LIVE_SECONDS, each stamped with the time it was
 * published. BENCH_LIVE_CLIENTS clients in another process (bench/live-clients.ts): half
 * subscribe to every block's results (the dashboard), half to the 15 series of 5 blocks (a
 * block page). Latency is arrival at the client minus the sample's time.
 *
 * Then, in one process, what the hub adds to a bus message: the bus alone, with the hub
 * and no subscription, with one series subscribed (messages per second, alternating rounds).
 * A round publishes one message per block 100 times over, so the samples are in the CPU
 * cache, as a node's freshly made ones are.
 *
 *   BENCH_ONLY=live npm run bench
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Bus, BusMessage } from '../src/bus';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { Result, resultSeries } from '../src/engine/result';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { LiveHub } from '../src/live/hub';
import { Outbox } from '../src/live/outbox';
import { rpcPlugin } from '../src/rpc/plugin';
import { createShared } from '../src/shared';
import { freePort } from './node';
import { median, quantile, table } from './stats';

const CLIENTS = Number(process.env.BENCH_LIVE_CLIENTS ?? 50);
const BLOCKS = Number(process.env.BENCH_LIVE_BLOCKS ?? 1000);
const RATE = Number(process.env.BENCH_LIVE_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_LIVE_SECONDS ?? 10);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function result(i: number, t: number): BusMessage {
  const r: Result = { block: `b${i % BLOCKS}`, type: 'probe', ok: true, fields: { value: i % 100 }, message: '', startedAt: t, durationMs: 0.5, lagMs: 0, trigger: 'schedule' };
  return { result: r, samples: resultSeries(r, 20) };
}

async function latency(): Promise<Array<Array<string | number>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-live-'));
  const text = `node: { data: ${dir}, listen: "127.0.0.1:${await freePort()}" }\nstorage: { kind: memory }\n`;
  const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text }), log: silentLogger(), plugins: [rpcPlugin()] });
  await e.start();
  const child = spawn(process.execPath, [path.join(__dirname, 'live-clients.js'), e.url!, String(CLIENTS), String(BLOCKS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const next = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));
  if ((await next()) !== 'ready') throw new Error('clients did not start');
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const perBurst = Math.max(1, Math.round((RATE * 20) / 1000));
  const end = Date.now() + SECONDS * 1000;
  let i = 0;
  while (Date.now() < end) {
    const t = Date.now();
    for (let k = 0; k < perBurst; k++) e.bus.publish(result(i++, t));
    await sleep(20);
  }
  await sleep(1000);
  loop.disable();
  const reply = next();
  child.stdin!.write('report\n');
  const got = JSON.parse(await reply) as { blocks: number[]; series: number[]; dropped: number };
  await e.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const row = (what: string, l: number[]): Array<string | number> => [what, l.length, quantile(l, 0.5), quantile(l, 0.95), quantile(l, 0.99), quantile(l, 1)];
  return [
    row(`blocks topic (${CLIENTS / 2} clients, all ${BLOCKS} blocks)`, got.blocks),
    row(`series topic (${CLIENTS / 2} clients, 15 series each)`, got.series),
    [`node event loop delay; events dropped: ${got.dropped}`, '', loop.percentile(50) / 1e6, loop.percentile(95) / 1e6, loop.percentile(99) / 1e6, loop.max / 1e6],
  ];
}

/**
 * idleCost: bus messages/s with no subscriber, with the live hub and no subscription, and
 * with the hub and one connection's subscription to one series (an outbox that is never
 * flushed: the cost of handing events on, not of sending them).
 */
async function idleCost(): Promise<Array<Array<string | number>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-live-'));
  const shared = createShared({ kind: 'memory', persistentBuckets: [] }, { dataDir: dir, log: silentLogger() });
  const bare = new Bus(silentLogger());
  const idle = new Bus(silentLogger());
  const idleHub = new LiveHub(shared.state);
  idle.subscribe('live', (m) => idleHub.handle(m));
  const one = new Bus(silentLogger());
  const oneHub = new LiveHub(shared.state);
  one.subscribe('live', (m) => oneHub.handle(m));
  const out = new Outbox({ send: () => undefined, buffered: () => 0, maxEvents: 1000, flushMs: 3_600_000 });
  await oneHub.subscribe(out, { topic: 'series', names: ['b7.value'] });
  // One message per block, published 100 times a round: what a node's fresh samples are, in the CPU cache.
  const msgs = Array.from({ length: BLOCKS }, (_x, i) => result(i, 1_700_000_000_000 + i));
  const REPEAT = 100;
  const buses = { 'bus, no subscriber': bare, 'bus + live hub, no subscription': idle, 'bus + live hub, 1 series subscribed': one };
  const rates = new Map<string, number[]>(Object.keys(buses).map((k) => [k, []]));
  const entries = Object.entries(buses);
  for (let r = 0; r < 15; r++) {
    for (const [name, bus] of r % 2 === 0 ? entries : [...entries].reverse()) {
      global.gc?.();
      const t0 = performance.now();
      for (let k = 0; k < REPEAT; k++) for (const m of msgs) bus.publish(m);
      rates.get(name)!.push((REPEAT * msgs.length) / ((performance.now() - t0) / 1000));
    }
  }
  out.close();
  await shared.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return [...rates].map(([name, r]) => [name, median(r), `${(1e9 / median(r)).toFixed(0)} ns`]);
}

export async function benchLive(): Promise<string> {
  const lat = await latency();
  const idle = await idleCost();
  return [
    table(`live: sample → WebSocket client latency, ms (${RATE} results/s = ${RATE * 3} samples/s for ${SECONDS}s; target p95 ≤ 250 ms)`, ['what', 'events', 'p50', 'p95', 'p99', 'max'], lat),
    table(`live: what the hub costs the bus (messages of 3 samples, ${BLOCKS} blocks; medians of 15 alternating rounds)`, ['bus', 'messages/s', 'per message'], idle),
  ].join('\n');
}
