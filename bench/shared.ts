/**
 * Shared-primitives benchmark (issue: shared state, counters, locks and queues). For each
 * primitive: operations per second on the memory backend and on the Redis backend (one
 * client, BENCH_SHARED_WINDOW operations in flight), beside `redis-benchmark -P 16` running
 * the Redis command the primitive comes down to, with the same value, on the same server.
 * The machine may be shared, so each Redis repetition of a primitive is followed at once by
 * its redis-benchmark run, and the ratio is the median of those side-by-side ratios; every
 * other figure is the median of BENCH_SHARED_REPS (5) repetitions.
 *
 *   node dist/bench/shared.js                 # 200,000 operations a repetition
 *   BENCH_SHARED_OPS=50000 BENCH_SHARED_REPS=3 node dist/bench/shared.js
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import { Shared } from '../src/shared/shared';
import { redisServerPath, startRedis } from '../test/shared-redis';
import { median, table } from './stats';

const OPS = Number(process.env.BENCH_SHARED_OPS ?? 200_000);
const WINDOW = Number(process.env.BENCH_SHARED_WINDOW ?? 2048);
const REPS = Number(process.env.BENCH_SHARED_REPS ?? 5);

interface Primitive {
  name: string;
  /**
   * The command redis-benchmark compares it with: what the primitive sends to Redis for one
   * operation (arguments as redis-benchmark takes them; __rand_int__ is 0..999).
   */
  versus?: string[];
  /** Prepare runs before the timed part (e.g. fill a queue to pop from). */
  prepare?: (s: Shared, n: number) => Promise<void>;
  op: (s: Shared, i: number) => Promise<unknown>;
  /** Operations are counted per call; a lock cycle is two (acquire, release). */
  opsPerCall?: number;
  /** Calls one after the other on Redis too (they depend on each other). */
  sequential?: boolean;
  /** Redis only (it shows how the backend behaves, the memory figure would say nothing new). */
  redisOnly?: boolean;
}

const payload = { block: 'homepage', ok: true, fields: { total_ms: 123, status: 200 } };
const text = JSON.stringify(payload);

const primitives: Primitive[] = [
  { name: 'counters.incr', versus: ['INCR', 'bench:c'], op: (s) => s.counters.incr('bench') },
  { name: 'state.set', versus: ['HSET', 'bench:h', 'k__rand_int__', text], op: (s, i) => s.state.set('bench', `k${i % 1000}`, payload) },
  {
    name: 'state.get',
    versus: ['HGET', 'bench:h', 'k__rand_int__'],
    prepare: async (s) => {
      for (let i = 0; i < 1000; i++) await s.state.set('bench', `k${i}`, payload);
    },
    op: (s, i) => s.state.get('bench', `k${i % 1000}`),
  },
  { name: 'queues.push', versus: ['RPUSH', 'bench:q', `|${text}`], op: (s) => s.queues.push('bench', payload) },
  {
    name: 'queues.popOldest',
    versus: ['LPOP', 'bench:q'],
    prepare: async (s, n) => {
      await inWindows(n, () => s.queues.push('bench-pop', payload));
    },
    op: (s) => s.queues.popOldest('bench-pop'),
  },
  // The same over 1000 buckets: the gets (or sets) made together are one function call in
  // the batch whatever their buckets, one HGET (HSET) per bucket inside.
  {
    name: 'state.set, 1000 buckets',
    // 1000 hashes of one field, as remon's buckets are.
    versus: ['HSET', 'bench:b__rand_int__', 'k', text],
    op: (s, i) => s.state.set(`b${i % 1000}`, 'k', payload),
    redisOnly: true,
  },
  {
    name: 'state.get, 1000 buckets',
    versus: ['HGET', 'bench:b__rand_int__', 'k'],
    prepare: async (s) => {
      for (let i = 0; i < 1000; i++) await s.state.set(`b${i}`, 'k', payload);
    },
    op: (s, i) => s.state.get(`b${i % 1000}`, 'k'),
    redisOnly: true,
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

/** Figures of one repetition: ops/s, and CPU µs per operation of this process and of the server. */
interface Run {
  rate: number;
  clientUs: number;
  serverUs?: number;
}

/** serverCpu reads the Redis server's CPU seconds so far (INFO cpu). */
async function serverCpu(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** once runs one repetition of a primitive on a fresh Shared. */
async function once(open: () => Shared, p: Primitive, sequential: boolean, admin?: Redis): Promise<Run> {
  const s = open();
  const calls = Math.ceil(OPS / (p.opsPerCall ?? 1));
  const ops = calls * (p.opsPerCall ?? 1);
  await p.prepare?.(s, OPS);
  const server0 = admin ? await serverCpu(admin) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (sequential || p.sequential) for (let i = 0; i < calls; i++) await p.op(s, i);
  else await inWindows(calls, (i) => p.op(s, i));
  const rate = ops / ((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const serverUs = admin ? ((await serverCpu(admin)) - server0) * 1e6 / ops : undefined;
  if (process.env.BENCH_VERBOSE) console.error(`${s.kind} ${p.name}: ${Math.round(rate)}/s`);
  await s.close();
  return { rate, clientUs: (cpu.user + cpu.system) / ops, serverUs };
}

/**
 * redisBenchmark runs `redis-benchmark -P 16` on one command (after an RPUSH run, an LPOP
 * has a list to pop from) and returns its requests/s.
 */
function redisBenchmark(port: number, command: string[]): number {
  const out = execFileSync('redis-benchmark', ['-q', '-P', '16', '-n', String(OPS), '-r', '1000', '-p', String(port), ...command], { encoding: 'utf8' });
  const m = /: ([\d.]+) requests per second/.exec(out.split(/[\r\n]+/).filter((l) => l.includes('requests per second')).pop() ?? '');
  if (!m) throw new Error(`redis-benchmark ${command[0]}: no figure in its output: ${out.slice(-200)}`);
  if (process.env.BENCH_VERBOSE) console.error(`redis-benchmark ${command[0]}: ${m[1]}/s`);
  return Number(m[1]);
}

interface RedisFigures {
  rate: number;
  clientUs: number;
  serverUs: number;
  reference?: number;
  /** redis-server CPU µs per command during the redis-benchmark run. */
  referenceServerUs?: number;
  ratio?: number;
}

export async function benchShared(): Promise<string> {
  let prefixN = 0;
  const memory = (): Shared => createMemoryShared();
  const memoryRates = new Map<string, number>();
  for (const p of primitives) {
    if (p.redisOnly) continue;
    const rates: number[] = [];
    for (let rep = 0; rep < REPS; rep++) rates.push((await once(memory, p, true)).rate);
    memoryRates.set(p.name, median(rates));
  }

  const notes: string[] = [];
  const redisFigures = new Map<string, RedisFigures>();
  if (redisServerPath()) {
    const server = await startRedis();
    const admin = new Redis(server.url);
    try {
      const redis = (): Shared => createRedisShared({ url: server.url, prefix: `bench${++prefixN}:` });
      const runs = new Map<string, Array<Run & { reference?: number; referenceServerUs?: number }>>(primitives.map((p) => [p.name, []]));
      // Repetition by repetition, each Redis run beside its redis-benchmark run.
      for (let rep = 0; rep < REPS; rep++) {
        for (const p of primitives) {
          const run = await once(redis, p, false, admin);
          let reference: number | undefined;
          let referenceServerUs: number | undefined;
          if (p.versus) {
            const before = await serverCpu(admin);
            reference = redisBenchmark(server.port, p.versus);
            referenceServerUs = ((await serverCpu(admin)) - before) * 1e6 / OPS;
          }
          runs.get(p.name)!.push({ ...run, reference, referenceServerUs });
        }
      }
      for (const [name, rs] of runs) {
        const refs = rs.flatMap((r) => (r.reference !== undefined ? [r.reference] : []));
        redisFigures.set(name, {
          rate: median(rs.map((r) => r.rate)),
          clientUs: median(rs.map((r) => r.clientUs)),
          serverUs: median(rs.map((r) => r.serverUs!)),
          reference: refs.length ? median(refs) : undefined,
          referenceServerUs: refs.length ? median(rs.map((r) => r.referenceServerUs!)) : undefined,
          ratio: refs.length ? median(rs.map((r) => r.rate / r.reference!)) : undefined,
        });
      }
    } finally {
      admin.disconnect();
      await server.stop();
    }
  } else {
    notes.push('redis-server is not installed: the Redis columns are empty (apt-get install redis-server redis-tools).');
  }

  const rows: Array<Array<string | number>> = [];
  const targets: string[] = [];
  for (const p of primitives) {
    const f = redisFigures.get(p.name);
    if (f?.ratio !== undefined) targets.push(`${p.name} ${f.ratio >= 0.5 ? 'met' : 'MISSED'} (${f.ratio.toFixed(2)})`);
    rows.push([
      p.name,
      memoryRates.get(p.name) ?? '-',
      f?.rate ?? '-',
      p.versus ? `${p.versus[0]} ${f?.reference ?? '-'}` : '(none)',
      f?.ratio ?? '-',
      f ? `${f.clientUs.toFixed(2)} / ${f.serverUs.toFixed(2)}` : '-',
      f?.referenceServerUs !== undefined ? f.referenceServerUs.toFixed(2) : '-',
    ]);
  }
  const incr = memoryRates.get('counters.incr')!;
  return [
    table(
      `Shared primitives: ops/s, median of ${REPS} runs of ${OPS.toLocaleString('en')} operations (memory: one at a time; redis: one client, ${WINDOW} in flight)`,
      ['primitive', 'memory ops/s', 'redis ops/s', 'redis-benchmark -P 16 (same server, same value)', 'redis / redis-benchmark', 'CPU µs/op: node / redis-server', 'redis-server CPU µs/op under redis-benchmark'],
      rows,
    ),
    '',
    `targets: memory counters.incr ≥ 1,000,000/s: ${incr >= 1_000_000 ? 'met' : 'MISSED'} (${Math.round(incr).toLocaleString('en')}); redis ≥ 0.5 × redis-benchmark: ${targets.join(', ') || 'not measured'}`,
    'On Redis the operations a node makes in one tick of its event loop go out as one pipeline (one EVALSHA of the batch script per 1000 operations, its arguments written as RESP text by remon), and the ones of one kind on one key become one command: the gets of a bucket one HMGET, its sets one HSET, the pushes to a queue one RPUSH, the pops one LPOP/RPOP with a count, the increments of a counter one INCRBY; each caller still gets its own result. The gets and the sets of a tick are moreover one function call for all their buckets (the "1000 buckets" rows: a bucket\'s hash, its key and value are all the call carries per operation, so the server spends a plain Lua HSET/HGET and the parsing of two or three arguments on each). What is left per operation is mostly the client\'s (the last two columns: CPU per operation of this process and of the server in the remon runs, and of the server under redis-benchmark): JSON encoding or decoding of the value (the memory backend pays it too), a promise, and its share of the batch text and of the reply, where redis-benchmark spends a fraction of a µs of client CPU per command; INCR carries no JSON.',
    ...notes,
  ].join('\n');
}

if (require.main === module) {
  benchShared().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
