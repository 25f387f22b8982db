/**
 * The shared backends under concurrency and crashes: processes (test/shared-worker.ts)
 * incrementing one counter and contending for one lock, consumer-group workers killed with
 * SIGKILL mid-batch, and a node killed with SIGKILL while it writes persistent state. Redis
 * is a real redis-server the suite starts on a free loopback port.
 */
import { strict as assert } from 'node:assert';
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RemonError } from '../src/errors';
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import { Delivery, Shared } from '../src/shared/shared';
import { sleep, tmpDir, waitFor } from './helpers';
import { useRedis } from './shared-redis';
import type { Job, Report } from './shared-worker';

const WORKER = path.join(__dirname, 'shared-worker.js');

/** code checks a thrown RemonError's code (and message, when given). */
function code(expected: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.equal((err as RemonError).code, expected, String(err));
    if (message) assert.match((err as Error).message, message);
    return true;
  };
}

const opened: Shared[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function memory(): Shared {
  const s = createMemoryShared();
  opened.push(s);
  return s;
}

/** GroupLog records, per message number, who got it and what their acks said. */
class GroupLog {
  readonly got = new Map<number, string[]>();
  readonly acked = new Map<number, Array<{ consumer: string; result: number }>>();
  redelivered = 0;
  readonly killed = new Set<string>();

  noteGot(consumer: string, ns: number[], redelivered: number): void {
    for (const n of ns) this.got.set(n, [...(this.got.get(n) ?? []), consumer]);
    this.redelivered += redelivered;
  }

  noteAcked(consumer: string, ns: number[], results: number[]): void {
    ns.forEach((n, i) => this.acked.set(n, [...(this.acked.get(n) ?? []), { consumer, result: results[i] }]));
  }

  /**
   * check: every message was delivered; none was acknowledged twice; a message went to
   * more than one consumer only when each earlier one was killed before acknowledging it.
   */
  check(total: number, batch: number): void {
    const missing = [];
    for (let n = 0; n < total; n++) if (!this.got.has(n)) missing.push(n);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} messages never delivered`);
    let repeated = 0;
    for (const [n, consumers] of this.got) {
      const acks = this.acked.get(n) ?? [];
      assert.ok(acks.filter((a) => a.result === 1).length <= 1, `message ${n} acknowledged twice: ${JSON.stringify(acks)}`);
      if (consumers.length > 1) {
        repeated++;
        const unkilled = consumers.filter((c) => !this.killed.has(c));
        assert.ok(unkilled.length <= 1, `message ${n} went to live consumers ${unkilled.join(', ')}`);
        for (const c of consumers.slice(0, -1)) {
          assert.ok(this.killed.has(c) || !acks.some((a) => a.consumer === c), `message ${n} redelivered although ${c} acknowledged it`);
        }
      }
    }
    assert.ok(repeated <= this.killed.size * batch, `${repeated} messages delivered twice, with ${this.killed.size} kills of batches of ${batch}`);
    assert.ok(this.redelivered > 0, 'no kill left a message to redeliver');
  }
}

/** Worker is a forked test/shared-worker.ts. */
interface Worker {
  child: ChildProcess;
  reports: Report[];
  exited: Promise<number | null>;
}

function startWorker(job: Job, onReport?: (r: Report) => void): Worker {
  const child = fork(WORKER, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: Report[] = [];
  child.on('message', (m) => {
    reports.push(m as Report);
    onReport?.(m as Report);
  });
  // Exited once the process is gone and every report it sent has been read.
  const disconnected = new Promise<void>((resolve) => child.once('disconnect', () => resolve()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))).then(async (c) => {
    await disconnected;
    return c;
  });
  return { child, reports, exited };
}

/** runTogether starts workers, lets them go at once, and waits for all to finish. */
async function runTogether(jobs: Job[]): Promise<Worker[]> {
  const workers = jobs.map((j) => startWorker(j));
  await waitFor(() => workers.every((w) => w.reports.some((r) => r.kind === 'ready')), 20_000, 'workers ready');
  for (const w of workers) w.child.send('go');
  const codes = await Promise.all(workers.map((w) => w.exited));
  assert.deepEqual(codes, jobs.map(() => 0), 'every worker exits 0');
  return workers;
}

/** checkSections: no lost update under the lock, and each holder saw a lower token before it. */
function checkSections(sections: Array<{ token: number; previous: number | null }>, counted: number): void {
  assert.equal(counted, sections.length, 'every read-modify-write under the lock kept its update');
  for (const s of sections) assert.ok(s.previous === null || s.previous < s.token, `token ${s.token} came after ${s.previous}`);
  const tokens = sections.map((s) => s.token).sort((a, b) => a - b);
  assert.equal(new Set(tokens).size, tokens.length, 'every grant has its own token');
}
describe('shared: memory backend under concurrency and crashes', () => {

  it('10 concurrent tasks × 10,000 increments give exactly 100,000', async () => {
    const s = memory();
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 10_000; i++) {
        await s.counters.incr('hits');
        if (i % 1000 === 0) await sleep(0); // interleave the tasks
      }
    }));
    assert.equal(await s.counters.get('hits'), 100_000);
  });

  it('10 tasks contending for a lock never overlap, checked with the fencing tokens', async () => {
    const s = memory();
    const sections: Array<{ token: number; previous: number | null }> = [];
    await Promise.all(Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 20; i++) {
        const h = await s.locks.acquire('L', { ttlMs: 5000, waitMs: 10_000 });
        const v = await s.counters.get('sections');
        const previous = (await s.state.getSet('fence', 'L', h.token)) as number | null;
        await sleep(Math.random() * 2);
        await s.counters.set('sections', v + 1);
        sections.push({ token: h.token, previous: previous ?? null });
        await s.locks.release(h);
      }
    }));
    checkSections(sections, await s.counters.get('sections'));
    assert.equal(sections.length, 200);
  });

  it('a consumer group delivers each of 20,000 messages once while consumers are abandoned mid-batch', async () => {
    const s = memory();
    const total = 20_000;
    const batch = 100;
    for (let n = 0; n < total; n++) await s.queues.push('work', { n });
    const log = new GroupLog();
    const held = new Set<number>();
    let next = 0;
    let reads = 0;
    // A consumer "dies" (stops without acknowledging its batch) on every 20th read, 8 times.
    const consumer = async (): Promise<void> => {
      for (;;) {
        const name = `c${next++}`;
        for (;;) {
          const ds: Delivery[] = await s.queues.consume('work', 'g', name, { count: batch, visibilityMs: 150, waitMs: 300 });
          if (ds.length === 0) return;
          const ns = ds.map((d) => (d.message as { n: number }).n);
          log.noteGot(name, ns, ds.filter((d) => d.redelivered).length);
          if (++reads % 20 === 7 && log.killed.size < 8) {
            log.killed.add(name);
            ns.forEach((n) => held.add(n));
            break;
          }
          log.noteAcked(name, ns, await Promise.all(ds.map((d) => s.queues.ack('work', 'g', d.id))));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, consumer));
    assert.equal(log.killed.size, 8);
    assert.ok(held.size > 0);
    for (const n of held) assert.ok(log.got.get(n)!.length >= 2, `message ${n}, held by an abandoned consumer, was delivered again`);
    assert.equal(await s.queues.pending('work', 'g'), 0);
    log.check(total, batch);
  });

  describe('persistent buckets', () => {
    it('survive a restart; other buckets do not', async () => {
      const dataDir = tmpDir();
      const a = createMemoryShared({ dataDir, persistentBuckets: ['keep'] });
      await a.state.set('keep', 'k1', { v: 1 });
      await a.state.set('keep', 'k2', 'two');
      await a.state.delete('keep', 'k2');
      await a.state.set('keep', 'k3', [3]);
      await a.state.set('scratch', 'k', 1);
      await a.counters.incr('c');
      await a.close();
      const b = createMemoryShared({ dataDir, persistentBuckets: ['keep'] });
      opened.push(b);
      assert.deepEqual(await b.state.keys('keep'), ['k1', 'k3']);
      assert.deepEqual(await b.state.get('keep', 'k1'), { v: 1 });
      assert.deepEqual(await b.state.buckets(), ['keep']);
      assert.equal(await b.counters.get('c'), 0);
    });

    it('keep every value through journal compaction', async () => {
      const dataDir = tmpDir();
      const a = createMemoryShared({ dataDir, persistentBuckets: ['big'] });
      const blob = 'x'.repeat(1000);
      // ~3 MB of journal: compaction runs at least once on the way.
      for (let i = 0; i < 3000; i++) await a.state.set('big', `k${i % 100}`, { i, blob });
      await a.close();
      const files = fs.readdirSync(path.join(dataDir, 'shared')).sort();
      assert.equal(files.filter((f) => f.endsWith('.log')).length, 1, files.join(' '));
      const b = createMemoryShared({ dataDir, persistentBuckets: ['big'] });
      opened.push(b);
      assert.equal((await b.state.keys('big')).length, 100);
      assert.deepEqual(await b.state.get('big', 'k99'), { i: 2999, blob });
      assert.deepEqual(await b.state.get('big', 'k0'), { i: 2900, blob });
    });

    it('kill -9 of the node loses no write it had acknowledged', async function () {
      this.timeout(30_000);
      const dataDir = tmpDir();
      const bucket = 'journal';
      // The worker's op i sets k(i % 50) to {op: i}, or deletes it when i % 7 == 0, and
      // reports i once the write was acknowledged. want: the op of each key's last
      // acknowledged write (null: deleted or never written).
      const want = new Map<string, number | null>();
      const effect = (op: number): number | null => (op % 7 === 0 ? null : op);
      let next = 0;
      for (let round = 0; round < 3; round++) {
        let acked = next - 1;
        const w = startWorker({ mode: 'persist', dataDir, bucket, start: next }, (r) => {
          if (r.kind !== 'wrote') return;
          acked = r.op;
          want.set(`k${r.op % 50}`, effect(r.op));
        });
        await waitFor(() => acked - next > 200, 20_000, 'writes');
        await sleep(Math.random() * 100);
        w.child.kill('SIGKILL');
        await w.exited;
        // Reopen as the restarted node would. The one write in flight when the kill came
        // (op acked + 1) may or may not have landed; every acknowledged one must be there.
        const s = createMemoryShared({ dataDir, persistentBuckets: [bucket] });
        const inFlight = acked + 1;
        for (let k = 0; k < 50; k++) {
          const key = `k${k}`;
          const got = ((await s.state.get(bucket, key)) as { op: number } | undefined)?.op ?? null;
          const expected = want.get(key) ?? null;
          if (k === inFlight % 50 && got === effect(inFlight)) want.set(key, got);
          else assert.equal(got, expected, `${key} after kill ${round + 1} (last acknowledged op ${acked})`);
        }
        await s.close();
        next = inFlight + 1;
      }
    });

    it('a second live process cannot open the same data directory', async () => {
      const dataDir = tmpDir();
      const w = startWorker({ mode: 'persist', dataDir, bucket: 'b', start: 0 });
      try {
        await waitFor(() => w.reports.some((r) => r.kind === 'wrote'), 10_000, 'the worker writing');
        assert.throws(() => createMemoryShared({ dataDir, persistentBuckets: ['b'] }), code('REMON_ERR_SHARED_BACKEND', /in use by process \d+; two nodes cannot share one node.data/));
      } finally {
        w.child.kill('SIGKILL');
        await w.exited;
      }
      // Its LOCK is stale now: the directory opens.
      const s = createMemoryShared({ dataDir, persistentBuckets: ['b'] });
      await s.close();
    });
  });
});

describe('shared: redis backend under concurrency and crashes', function () {
  const redis = useRedis();
  let url = '';
  before(() => {
    url = redis.url;
  });


  it('10 processes × 10,000 increments give exactly 100,000', async function () {
    this.timeout(60_000);
    const prefix = `incr${Date.now()}:`;
    await runTogether(Array.from({ length: 10 }, () => ({ mode: 'incr' as const, url, prefix, counter: 'hits', times: 10_000 })));
    const s = createRedisShared({ url, prefix });
    opened.push(s);
    assert.equal(await s.counters.get('hits'), 100_000);
  });

  it('10 processes contending for a lock never overlap, checked with the fencing tokens', async function () {
    this.timeout(60_000);
    const prefix = `lock${Date.now()}:`;
    const workers = await runTogether(Array.from({ length: 10 }, () => ({ mode: 'lock' as const, url, prefix, lock: 'L', times: 20 })));
    const sections = workers.flatMap((w) => w.reports.filter((r): r is Extract<Report, { kind: 'section' }> => r.kind === 'section'));
    const s = createRedisShared({ url, prefix });
    opened.push(s);
    assert.equal(sections.length, 200);
    checkSections(sections, await s.counters.get('L:sections'));
  });

  it('a consumer group delivers each of 100,000 messages once while consumers are SIGKILLed and restarted', async function () {
    this.timeout(90_000);
    const prefix = `group${Date.now()}:`;
    const s = createRedisShared({ url, prefix });
    opened.push(s);
    const total = 100_000;
    const batch = 200;
    for (let n = 0; n < total; n += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => s.queues.push('work', { n: n + i })));
    }
    assert.equal(await s.queues.length('work'), total);
    const log = new GroupLog();
    const live = new Map<string, Worker>();
    /** Messages a consumer held, unacknowledged, when it was killed. */
    const held = new Set<number>();
    let started = 0;
    const kill = async (name: string): Promise<void> => {
      const w = live.get(name)!;
      live.delete(name);
      log.killed.add(name);
      w.child.kill('SIGKILL');
      await w.exited;
      spawnConsumer();
    };
    const spawnConsumer = (): void => {
      const consumer = `c${started++}`;
      const w = startWorker({ mode: 'consume', url, prefix, queue: 'work', group: 'g', consumer, count: batch, visibilityMs: 1000 }, (r) => {
        if (r.kind === 'got') {
          log.noteGot(r.consumer, r.ns, r.redelivered.length);
          if (r.dying) {
            r.ns.forEach((n) => held.add(n));
            void kill(r.consumer);
          }
        }
        if (r.kind === 'acked') log.noteAcked(r.consumer, r.ns, r.results);
      });
      live.set(consumer, w);
    };
    for (let i = 0; i < 4; i++) spawnConsumer();
    // Six kills: three of a consumer known to hold a batch it has not acknowledged, three
    // at whatever point a random consumer is in.
    for (let k = 0; k < 6; k++) {
      await waitFor(() => log.got.size >= (k + 1) * 8000 && live.size === 4, 30_000, 'progress');
      const names = [...live.keys()];
      const name = names[Math.floor(Math.random() * names.length)];
      if (k % 2 === 0) {
        const before = log.killed.size;
        live.get(name)!.child.send('die');
        await waitFor(() => log.killed.size > before, 30_000, 'the dying consumer to report its batch');
      } else {
        await kill(name);
      }
    }
    await waitFor(async () => log.got.size === total && (await s.queues.pending('work', 'g')) === 0, 60_000, 'every message delivered and acknowledged');
    for (const w of live.values()) w.child.kill('SIGKILL');
    await Promise.all([...live.values()].map((w) => w.exited));
    assert.deepEqual(await s.queues.consume('work', 'g', 'late', { count: 10, visibilityMs: 0 }), []);
    log.check(total, batch);
    assert.ok(held.size > 0);
    for (const n of held) assert.ok(log.got.get(n)!.length >= 2, `message ${n}, held by a killed consumer, was delivered again`);
  });
});
