/**
 * A child process for the shared-backend concurrency tests (test/shared.test.ts). It gets
 * its job as JSON in argv[2], reports over IPC, and is killed with SIGKILL by some tests.
 * Reports that must survive a kill are sent with a callback and awaited: once the callback
 * has run, the bytes are in the parent's pipe.
 */
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import { Shared } from '../src/shared/shared';

export type Job =
  | { mode: 'incr'; url: string; prefix: string; counter: string; times: number }
  | { mode: 'lock'; url: string; prefix: string; lock: string; times: number }
  | { mode: 'consume'; url: string; prefix: string; queue: string; group: string; consumer: string; count: number; visibilityMs: number }
  | { mode: 'persist'; dataDir: string; bucket: string; start: number };

/** Report is what a worker sends its parent. */
export type Report =
  | { kind: 'ready' }
  | { kind: 'done'; value?: unknown }
  | { kind: 'section'; token: number; previous: number | null }
  | { kind: 'got'; consumer: string; ns: number[]; redelivered: number[]; dying?: boolean }
  | { kind: 'acked'; consumer: string; ns: number[]; results: number[] }
  | { kind: 'wrote'; op: number };

const send = (r: Report): Promise<void> => new Promise((resolve, reject) => process.send!(r, (err: Error | null) => (err ? reject(err) : resolve())));

async function incr(s: Shared, job: Extract<Job, { mode: 'incr' }>): Promise<void> {
  // 100 increments in flight at a time: concurrent within the process as well as across.
  for (let i = 0; i < job.times; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, job.times - i) }, () => s.counters.incr(job.counter)));
  }
}

async function lock(s: Shared, job: Extract<Job, { mode: 'lock' }>): Promise<void> {
  for (let i = 0; i < job.times; i++) {
    const h = await s.locks.acquire(job.lock, { ttlMs: 5000, waitMs: 30_000 });
    // A read-modify-write that loses updates if two holders overlap, and a fencing check
    // the way a protected store would do it: the previous writer's token must be lower.
    const v = await s.counters.get(`${job.lock}:sections`);
    const previous = (await s.state.getSet('fence', job.lock, h.token)) as number | null;
    await new Promise((r) => setTimeout(r, Math.random() * 2));
    await s.counters.set(`${job.lock}:sections`, v + 1);
    await send({ kind: 'section', token: h.token, previous: previous ?? null });
    await s.locks.release(h);
  }
}

async function consume(s: Shared, job: Extract<Job, { mode: 'consume' }>): Promise<never> {
  // Told 'die', the worker reports its next batch as dying and never acknowledges it: the
  // parent kills it then, knowing it held those messages.
  let dying = false;
  process.on('message', (m) => {
    if (m === 'die') dying = true;
  });
  for (;;) {
    const ds = await s.queues.consume(job.queue, job.group, job.consumer, { count: job.count, visibilityMs: job.visibilityMs, waitMs: 200 });
    if (ds.length === 0) continue;
    const ns = ds.map((d) => (d.message as { n: number }).n);
    const redelivered = ds.filter((d) => d.redelivered).map((d) => (d.message as { n: number }).n);
    if (dying) {
      await send({ kind: 'got', consumer: job.consumer, ns, redelivered, dying: true });
      await new Promise(() => {});
    }
    await send({ kind: 'got', consumer: job.consumer, ns, redelivered });
    const results = await Promise.all(ds.map((d) => s.queues.ack(job.queue, job.group, d.id)));
    await send({ kind: 'acked', consumer: job.consumer, ns, results });
  }
}

async function persist(s: Shared, job: Extract<Job, { mode: 'persist' }>): Promise<never> {
  // Op i sets key k(i % 50) to {op: i}, except every 7th op, which deletes it. Each op is
  // reported only after its promise resolved: that is the acknowledgement.
  for (let op = job.start; ; op++) {
    const key = `k${op % 50}`;
    if (op % 7 === 0) await s.state.delete(job.bucket, key);
    else await s.state.set(job.bucket, key, { op });
    await send({ kind: 'wrote', op });
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as Job;
  const s = job.mode === 'persist'
    ? createMemoryShared({ dataDir: job.dataDir, persistentBuckets: [job.bucket] })
    : createRedisShared({ url: job.url, prefix: job.prefix });
  await send({ kind: 'ready' });
  // Start together: the parent says go once every worker is ready.
  if (job.mode === 'incr' || job.mode === 'lock') await new Promise((r) => process.once('message', r));
  switch (job.mode) {
    case 'incr':
      await incr(s, job);
      break;
    case 'lock':
      await lock(s, job);
      break;
    case 'consume':
      await consume(s, job);
      break;
    case 'persist':
      await persist(s, job);
      break;
  }
  await s.close();
  await send({ kind: 'done' });
  process.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
