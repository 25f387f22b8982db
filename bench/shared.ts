/**
 * Shared-primitives benchmark (issue: shared state, counters, locks and queues). For each
 * primitive: operations per second on the memory backend and on the Redis backend (one
 * client, BENCH_SHARED_WINDOW operations in flight, batched per tick), beside
 * `redis-benchmark -q -P 16` for the nearest Redis command on the same server. Each figure
 * is the median of 3 repetitions.
 *
 *   node dist/bench/shared.js                 # 200,000 operations a repetition
 *   BENCH_SHARED_OPS=50000 node dist/bench/shared.js
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import { Shared } from '../src/shared/shared';
import { redisServerPath, startRedis } from '../test/shared-redis';
import { median, table } from './stats';

const OPS = Number(process.env.BENCH_SHARED_OPS ?? 200_000);
const WINDOW = Number(process.env.BENCH_SHARED_WINDOW ?? 2048);
const REPS = 3;

interface Primitive {
  name: string;
  /** The redis-benchmark test (-t) it is compared with, if any. */
  versus?: string;
  /** Prepare runs before the timed part (e.g. fill a queue to pop from). */
  prepare?: (s: Shared, n: number) => Promise<void>;
  op: (s: Shared, i: number) => Promise<unknown>;
  /** Operations are counted per call; a lock cycle is two (acquire, release). */
  opsPerCall?: number;
  /** Calls one after the other on Redis too (they depend on each other). */
  sequential?: boolean;
}

const payload = { block: 'homepage', ok: true, fields: { total_ms: 123, status: 200 } };

const primitives: Primitive[] = [
  { name: 'counters.incr', versus: 'INCR', op: (s) => s.counters.incr('bench') },
  { name: 'state.set', versus: 'SET', op: (s, i) => s.state.set('bench', `k${i % 1000}`, payload) },
  {
    name: 'state.get',
    versus: 'GET',
    prepare: async (s) => {
      for (let i = 0; i < 1000; i++) await s.state.set('bench', `k${i}`, payload);
    },
    op: (s, i) => s.state.get('bench', `k${i % 1000}`),
  },
  { name: 'queues.push', versus: 'LPUSH', op: (s) => s.queues.push('bench', payload) },
  {
    name: 'queues.popOldest',
    versus: 'LPOP',
    prepare: async (s, n) => {
      await inWindows(n, (i) => s.queues.push('bench-pop', { i }));
    },
    op: (s) => s.queues.popOldest('bench-pop'),
  },
  {
    name: 'locks.acquire + release',
    // Distinct lock names, so the figure is the primitive's cost and not contention.
    op: async (s, i) => s.locks.release(await s.locks.acquire(`bench${i}`, { ttlMs: 10_000 })),
    opsPerCall: 2,
  },
  {
    name: 'queues.consume + ack (batches of 100)',
    prepare: async (s, n) => {
      await inWindows(n, (i) => s.queues.push('bench-group', { i }));
    },
    // One consumer reading batch after batch, as a worker would.
    sequential: true,
    op: async (s) => {
      const ds = await s.queues.consume('bench-group', 'g', 'c', { count: 100 });
      await s.queues.ack('bench-group', 'g', ds.map((d) => d.id));
    },
    opsPerCall: 100,
  },
];

/**
 * inWindows runs n calls, WINDOW at a time: each of WINDOW loops starts the next call when
 * its last one is done, so the backend always has work while replies are handled.
 */
async function inWindows(n: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(WINDOW, n) }, async () => {
    while (next < n) await call(next++);
  }));
}

async function measure(open: () => Shared, p: Primitive, sequential: boolean): Promise<number> {
  const rates: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const s = open();
    const calls = Math.ceil(OPS / (p.opsPerCall ?? 1));
    await p.prepare?.(s, OPS);
    const t0 = performance.now();
    if (sequential || p.sequential) for (let i = 0; i < calls; i++) await p.op(s, i);
    else await inWindows(calls, (i) => p.op(s, i));
    const seconds = (performance.now() - t0) / 1000;
    rates.push((calls * (p.opsPerCall ?? 1)) / seconds);
    if (process.env.BENCH_VERBOSE) console.error(`${s.kind} ${p.name}: ${Math.round(rates[rates.length - 1])}/s`);
    await s.close();
  }
  return median(rates);
}

/** redisBenchmark runs redis-benchmark -P 16 and returns requests/s by test name. */
function redisBenchmark(port: number): Record<string, number> {
  const rates: Record<string, number[]> = {};
  for (let rep = 0; rep < REPS; rep++) {
    const out = execFileSync('redis-benchmark', ['-q', '-P', '16', '-t', 'incr,set,get,lpush,lpop', '-n', '200000', '-p', String(port)], { encoding: 'utf8' });
    for (const line of out.split(/[\r\n]+/)) {
      const m = /^(\w+)(?: \([^)]*\))?: ([\d.]+) requests per second/.exec(line.trim());
      if (m) (rates[m[1]] ??= []).push(Number(m[2]));
    }
  }
  return Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, median(v)]));
}

export async function benchShared(): Promise<string> {
  let prefixN = 0;
  const memory = (): Shared => createMemoryShared();
  const rows: Array<Array<string | number>> = [];
  const memoryRates = new Map<string, number>();
  for (const p of primitives) memoryRates.set(p.name, await measure(memory, p, true));

  const notes: string[] = [];
  let redisRates = new Map<string, number>();
  let reference: Record<string, number> = {};
  if (redisServerPath()) {
    const server = await startRedis();
    try {
      const redis = (): Shared => createRedisShared({ url: server.url, prefix: `bench${++prefixN}:` });
      redisRates = new Map();
      for (const p of primitives) redisRates.set(p.name, await measure(redis, p, false));
      reference = redisBenchmark(server.port);
    } finally {
      await server.stop();
    }
  } else {
    notes.push('redis-server is not installed: the Redis columns are empty (apt-get install redis-server redis-tools).');
  }

  const targets: string[] = [];
  for (const p of primitives) {
    const r = redisRates.get(p.name);
    const ref = p.versus ? reference[p.versus] : undefined;
    const ratio = r !== undefined && ref ? r / ref : undefined;
    if (ratio !== undefined) targets.push(`${p.name} ${ratio >= 0.5 ? 'met' : 'MISSED'} (${ratio.toFixed(2)})`);
    rows.push([p.name, memoryRates.get(p.name)!, r ?? '-', p.versus ? `${p.versus} ${ref ?? '-'}` : '(none)', ratio ?? '-']);
  }
  const incr = memoryRates.get('counters.incr')!;
  return [
    table(
      `Shared primitives: ops/s, median of ${REPS} runs of ${OPS.toLocaleString('en')} operations (memory: one at a time; redis: one client, ${WINDOW} in flight)`,
      ['primitive', 'memory ops/s', 'redis ops/s', 'redis-benchmark -P 16 (same server)', 'redis / redis-benchmark'],
      rows,
    ),
    '',
    `targets: memory counters.incr ≥ 1,000,000/s: ${incr >= 1_000_000 ? 'met' : 'MISSED'} (${Math.round(incr).toLocaleString('en')}); redis ≥ 0.5 × redis-benchmark: ${targets.join(', ') || 'not measured'}`,
    'remon does more per operation than the raw command: each runs as a Lua function in a batch script (one EVALSHA per tick), state.set is HSET + PUBLISH (watchers), pushes and pops check expiry markers, and every value is JSON. Increments of one counter in the same tick are combined into one INCRBY.',
    ...notes,
  ].join('\n');
}

if (require.main === module) {
  benchShared().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
