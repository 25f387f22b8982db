/**
 * The shared primitives (state, counters, locks, queues): one suite of semantics run
 * against both backends, and the Redis server going away under a client. Redis is a real
 * redis-server the suite starts on a free loopback port and stops after. Concurrency and
 * crashes: shared-crash.test.ts.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { RemonError } from '../src/errors';
import { createMemoryShared } from '../src/shared/memory';
import { createRedisShared } from '../src/shared/redis';
import { BATCH_SCRIPT } from '../src/shared/redis-scripts';
import { Json, Shared, StateChange } from '../src/shared/shared';
import { sleep, waitFor } from './helpers';
import { useRedis } from './shared-redis';

/** code checks a rejection's RemonError code (and message, when given). */
function code(expected: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.equal((err as RemonError).code, expected, String(err));
    if (message) assert.match((err as Error).message, message);
    return true;
  };
}

/** Backend opens a fresh, empty Shared (s) and a second client on the same data (peer). */
interface Backend {
  name: 'memory' | 'redis';
  open(): { s: Shared; peer: Shared };
}

const opened: Shared[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const memoryBackend: Backend = {
  name: 'memory',
  open() {
    const s = createMemoryShared();
    opened.push(s);
    return { s, peer: s };
  },
};

let prefixes = 0;
function redisBackend(url: string): Backend {
  return {
    name: 'redis',
    open() {
      const prefix = `t${process.pid}.${++prefixes}:`;
      const s = createRedisShared({ url, prefix });
      const peer = createRedisShared({ url, prefix });
      opened.push(s, peer);
      return { s, peer };
    },
  };
}

/** semantics: the behaviour both backends share. */
function semantics(backend: () => Backend): void {
  const open = (): { s: Shared; peer: Shared } => backend().open();

  describe('state', () => {
    it('get gives the fallback for a missing key, and a copy of what was set', async () => {
      const { s, peer } = open();
      assert.equal(await s.state.get('b', 'missing'), undefined);
      assert.equal(await s.state.get('b', 'missing', 7), 7);
      const v = { a: [1, 2], s: 'x/y "q"', n: null };
      await s.state.set('b', 'k', v);
      v.a.push(3);
      const got = (await peer.state.get('b', 'k', 'unused')) as { a: number[] };
      assert.deepEqual(got, { a: [1, 2], s: 'x/y "q"', n: null });
      got.a.push(9);
      assert.deepEqual(await s.state.get('b', 'k'), { a: [1, 2], s: 'x/y "q"', n: null });
      // Values are JSON on both backends: a Date is stored as its ISO text.
      await s.state.set('b', 'd', new Date(0) as unknown as Json);
      assert.equal(await s.state.get('b', 'd'), '1970-01-01T00:00:00.000Z');
    });

    it('getSet returns the previous value; setIfAbsent sets only the first time', async () => {
      const { s } = open();
      assert.equal(await s.state.getSet('b', 'k', 1), undefined);
      assert.equal(await s.state.getSet('b', 'k', { two: 2 }), 1);
      assert.deepEqual(await s.state.get('b', 'k'), { two: 2 });
      assert.equal(await s.state.setIfAbsent('b', 'n', 'first'), true);
      assert.equal(await s.state.setIfAbsent('b', 'n', 'second'), false);
      assert.equal(await s.state.get('b', 'n'), 'first');
    });

    it('delete and exists; keys and buckets list what holds keys, sorted', async () => {
      const { s } = open();
      await s.state.set('zeta', 'b', 1);
      await s.state.set('zeta', 'a', 2);
      await s.state.set('alpha', 'x', false);
      assert.deepEqual(await s.state.keys('zeta'), ['a', 'b']);
      assert.deepEqual(await s.state.buckets(), ['alpha', 'zeta']);
      assert.equal(await s.state.exists('alpha', 'x'), true);
      assert.equal(await s.state.delete('alpha', 'x'), true);
      assert.equal(await s.state.delete('alpha', 'x'), false);
      assert.equal(await s.state.exists('alpha', 'x'), false);
      assert.deepEqual(await s.state.buckets(), ['zeta']);
      assert.deepEqual(await s.state.keys('alpha'), []);
    });

    it('search matches bucket names, keys or values, and can be narrowed to a bucket or a count', async () => {
      const { s } = open();
      await s.state.set('hosts', 'web1', { status: 'up' });
      await s.state.set('hosts', 'db1', { status: 'down' });
      await s.state.set('alerts', 'web-slow', 3);
      await s.state.set('other', 'x', 'nothing');
      const keys = (entries: Array<{ bucket: string; key: string }>) => entries.map((e) => `${e.bucket}/${e.key}`);
      assert.deepEqual(keys(await s.state.search(/^web/)), ['alerts/web-slow', 'hosts/web1']);
      assert.deepEqual(await s.state.search('"down"'), [{ bucket: 'hosts', key: 'db1', value: { status: 'down' } }]);
      assert.deepEqual(keys(await s.state.search('^hosts$')), ['hosts/db1', 'hosts/web1']);
      assert.deepEqual(keys(await s.state.search(/web/g, { bucket: 'hosts' })), ['hosts/web1']);
      assert.deepEqual(keys(await s.state.search('', { limit: 2 })), ['alerts/web-slow', 'hosts/db1']);
      await assert.rejects(s.state.search('(unclosed'), code('REMON_ERR_SHARED_INVALID', /bad search pattern/));
    });

    it('refuses a value that is not JSON and an empty name with REMON_ERR_SHARED_INVALID', async () => {
      const { s } = open();
      await assert.rejects(s.state.set('b', 'k', undefined as unknown as Json), code('REMON_ERR_SHARED_INVALID', /not JSON/));
      const loop: Record<string, unknown> = {};
      loop.self = loop;
      await assert.rejects(s.state.set('b', 'k', loop as Json), code('REMON_ERR_SHARED_INVALID', /not JSON/));
      await assert.rejects(s.state.set('', 'k', 1), code('REMON_ERR_SHARED_INVALID', /bucket name/));
      assert.equal(await s.state.exists('b', 'k'), false);
    });

    it('watch reports sets and deletes of a bucket, or of one key, by any client, until unwatched', async () => {
      const { s, peer } = open();
      const all: StateChange[] = [];
      const one: StateChange[] = [];
      const unAll = await s.state.watch('w', undefined, (c) => all.push(c));
      const unOne = await s.state.watch('w', 'k1', (c) => one.push(c));
      await peer.state.set('w', 'k1', 1);
      await peer.state.set('w', 'k2', { x: 2 });
      await peer.state.getSet('w', 'k1', 3);
      await peer.state.setIfAbsent('w', 'k1', 4); // no change
      await peer.state.delete('w', 'k2');
      await peer.state.delete('w', 'k2'); // no change
      await peer.state.set('other', 'k1', 5);
      await waitFor(() => all.length >= 4, 2000, 'four changes');
      await sleep(50);
      assert.deepEqual(all, [
        { bucket: 'w', key: 'k1', value: 1 },
        { bucket: 'w', key: 'k2', value: { x: 2 } },
        { bucket: 'w', key: 'k1', value: 3 },
        { bucket: 'w', key: 'k2', value: undefined },
      ]);
      assert.deepEqual(one, [all[0], all[2]]);
      unAll();
      unOne();
      unOne();
      await peer.state.set('w', 'k1', 6);
      await sleep(100);
      assert.equal(all.length, 4);
      assert.equal(one.length, 2);
    });
  });

  describe('counters', () => {
    it('a new counter is 0; incr returns the new value, getIncr the old one; set; all', async () => {
      const { s, peer } = open();
      assert.equal(await s.counters.get('c'), 0);
      assert.equal(await s.counters.incr('c'), 1);
      assert.equal(await peer.counters.incr('c', 5), 6);
      assert.equal(await s.counters.incr('c', -2), 4);
      assert.equal(await s.counters.getIncr('c'), 4);
      assert.equal(await s.counters.getIncr('c', 10), 5);
      assert.equal(await peer.counters.get('c'), 15);
      await s.counters.set('b', 100);
      assert.deepEqual(await s.counters.all(), { b: 100, c: 15 });
    });

    it('refuses a fractional increment or value with REMON_ERR_SHARED_INVALID', async () => {
      const { s } = open();
      await s.counters.incr('c', 2);
      await assert.rejects(s.counters.incr('c', 0.5), code('REMON_ERR_SHARED_INVALID', /integer/));
      await assert.rejects(s.counters.set('c', 1.5), code('REMON_ERR_SHARED_INVALID', /integer/));
      assert.equal(await s.counters.get('c'), 2);
    });
  });

  describe('locks', () => {
    it('a grant has a fencing token that grows with every grant; a held lock is not granted again', async () => {
      const { s, peer } = open();
      const a = await s.locks.acquire('L', { ttlMs: 5000 });
      assert.equal(a.name, 'L');
      assert.equal(a.owner, s.owner);
      assert.ok(a.expiresAt > Date.now() + 4000 && a.expiresAt <= Date.now() + 5000);
      await assert.rejects(peer.locks.acquire('L', { ttlMs: 5000 }), code('REMON_ERR_SHARED_LOCK_TIMEOUT', /^lock "L" could not be acquired at once \(wait 0\) \(held by .*, token \d+\)$/));
      assert.equal(await peer.locks.tryAcquire('L', { ttlMs: 5000 }), undefined);
      assert.equal(await peer.locks.isLocked('L'), true);
      assert.deepEqual((await peer.locks.list()).map((l) => [l.name, l.token, l.owner]), [['L', a.token, s.owner]]);
      await s.locks.release(a);
      assert.equal(await peer.locks.isLocked('L'), false);
      assert.deepEqual(await peer.locks.list(), []);
      const b = await peer.locks.acquire('L', { ttlMs: 5000 });
      const c = await peer.locks.acquire('other', { ttlMs: 5000 });
      assert.ok(b.token > a.token, `token ${b.token} after ${a.token}`);
      assert.deepEqual((await s.locks.list()).map((l) => l.name), ['L', 'other']);
      await peer.locks.release(b);
      await peer.locks.release(c);
    });

    it('a bounded wait gets the lock when its holder releases it, and times out when it does not', async () => {
      const { s, peer } = open();
      const a = await s.locks.acquire('W', { ttlMs: 10_000 });
      const t0 = Date.now();
      setTimeout(() => void s.locks.release(a), 150);
      const b = await peer.locks.acquire('W', { ttlMs: 10_000, waitMs: 3000 });
      const waited = Date.now() - t0;
      assert.ok(waited >= 140 && waited < 1000, `waited ${waited} ms`);
      const t1 = Date.now();
      await assert.rejects(s.locks.acquire('W', { ttlMs: 1000, waitMs: 200 }), code('REMON_ERR_SHARED_LOCK_TIMEOUT', /could not be acquired within 200ms/));
      const gaveUp = Date.now() - t1;
      assert.ok(gaveUp >= 190 && gaveUp < 1000, `gave up after ${gaveUp} ms`);
      await peer.locks.release(b);
    });

    it('a holder that dies loses the lock after its ttl; its late release is REMON_ERR_SHARED_LOCK_NOT_HELD', async () => {
      const { s, peer } = open();
      const a = await s.locks.acquire('T', { ttlMs: 150 });
      // The holder never releases, as if it had died: the next one gets the lock at ttl.
      const t0 = Date.now();
      const b = await peer.locks.acquire('T', { ttlMs: 5000, waitMs: 3000 });
      assert.ok(Date.now() - t0 < 1000);
      assert.ok(b.token > a.token);
      await assert.rejects(s.locks.release(a), code('REMON_ERR_SHARED_LOCK_NOT_HELD', new RegExp(`^lock "T" is not held by token ${a.token}: it is held under token ${b.token} now \\(this grant's ttl ran out\\)$`)));
      await assert.rejects(s.locks.extend(a, 1000), code('REMON_ERR_SHARED_LOCK_NOT_HELD'));
      await peer.locks.release(b);
      const c = await s.locks.acquire('T2', { ttlMs: 50 });
      await sleep(80);
      assert.equal(await s.locks.isLocked('T2'), false);
      await assert.rejects(s.locks.release(c), code('REMON_ERR_SHARED_LOCK_NOT_HELD', /its ttl ran out/));
    });

    it("releasing someone else's grant, or one released already, is REMON_ERR_SHARED_LOCK_NOT_HELD", async () => {
      const { s, peer } = open();
      const a = await s.locks.acquire('R', { ttlMs: 5000 });
      await assert.rejects(peer.locks.release({ ...a, token: a.token + 1 }), code('REMON_ERR_SHARED_LOCK_NOT_HELD'));
      await assert.rejects(peer.locks.release({ ...a, owner: 'someone-else' }), code('REMON_ERR_SHARED_LOCK_NOT_HELD', /belongs to/));
      assert.equal(await s.locks.isLocked('R'), true);
      await s.locks.release(a);
      await assert.rejects(s.locks.release(a), code('REMON_ERR_SHARED_LOCK_NOT_HELD', /it was released/));
    });

    it('extend keeps a grant past its first ttl', async () => {
      const { s, peer } = open();
      const a = await s.locks.acquire('E', { ttlMs: 200 });
      await sleep(100);
      const longer = await s.locks.extend(a, 500);
      assert.equal(longer.token, a.token);
      assert.ok(longer.expiresAt > a.expiresAt);
      await sleep(200); // past the first ttl
      assert.equal(await peer.locks.tryAcquire('E', { ttlMs: 100 }), undefined);
      await s.locks.release(longer);
      await assert.rejects(s.locks.acquire('E', { ttlMs: 0 }), code('REMON_ERR_SHARED_INVALID', /ttl/));
    });
  });

  describe('queues', () => {
    it('messages come out oldest or newest first; peek and all read without removing', async () => {
      const { s, peer } = open();
      for (const i of [1, 2, 3, 4]) assert.equal(await s.queues.push('q', { i }), i);
      assert.deepEqual(await peer.queues.peek('q', 2), [{ i: 3 }, { i: 4 }]);
      assert.deepEqual(await peer.queues.all('q'), [{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
      assert.equal(await peer.queues.length('q'), 4);
      assert.deepEqual(await s.queues.popOldest('q'), { i: 1 });
      assert.deepEqual(await s.queues.popNewest('q'), { i: 4 });
      assert.deepEqual(await peer.queues.all('q'), [{ i: 2 }, { i: 3 }]);
      assert.deepEqual(await s.queues.names(), ['q']);
      assert.deepEqual(await s.queues.popOldest('q'), { i: 2 });
      assert.deepEqual(await s.queues.popNewest('q'), { i: 3 });
      assert.equal(await s.queues.popOldest('q'), undefined);
      assert.equal(await s.queues.popNewest('q'), undefined);
      assert.deepEqual(await s.queues.names(), []);
      assert.deepEqual(await s.queues.peek('never'), []);
      assert.equal(await s.queues.length('never'), 0);
    });

    it('past maxLength the oldest messages are dropped', async () => {
      const { s } = open();
      for (let i = 1; i <= 5; i++) await s.queues.push('bounded', i, { maxLength: 3 });
      assert.deepEqual(await s.queues.all('bounded'), [3, 4, 5]);
      await assert.rejects(s.queues.push('bounded', 6, { maxLength: 0 }), code('REMON_ERR_SHARED_INVALID', /maxLength/));
    });

    it('a message older than its maxAge is dropped and never returned', async () => {
      const { s } = open();
      await s.queues.push('aging', 'old', { maxAgeMs: 100 });
      await s.queues.push('aging', 'kept');
      assert.equal(await s.queues.length('aging'), 2);
      await sleep(150);
      assert.equal(await s.queues.length('aging'), 1);
      assert.deepEqual(await s.queues.all('aging'), ['kept']);
      await s.queues.push('gone', 1, { maxAgeMs: 100 });
      await sleep(150);
      assert.equal(await s.queues.popNewest('gone'), undefined);
      assert.deepEqual(await s.queues.consume('gone', 'g', 'c'), []);
    });

    it('a consumer group hands each message to one consumer; an acknowledged one is not delivered again', async () => {
      const { s, peer } = open();
      for (let n = 0; n < 6; n++) await s.queues.push('jobs', { n });
      const a = await s.queues.consume('jobs', 'workers', 'a', { count: 4 });
      const b = await peer.queues.consume('jobs', 'workers', 'b', { count: 4 });
      assert.deepEqual(a.map((d) => d.message), [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      assert.deepEqual(b.map((d) => d.message), [{ n: 4 }, { n: 5 }]);
      assert.ok([...a, ...b].every((d) => !d.redelivered));
      assert.equal(await s.queues.pending('jobs', 'workers'), 6);
      assert.equal(await s.queues.ack('jobs', 'workers', a.map((d) => d.id)), 4);
      assert.equal(await s.queues.ack('jobs', 'workers', a[0].id), 0);
      assert.equal(await peer.queues.pending('jobs', 'workers'), 2);
      assert.equal(await peer.queues.ack('jobs', 'workers', b.map((d) => d.id)), 2);
      assert.deepEqual(await s.queues.consume('jobs', 'workers', 'a', { count: 10 }), []);
      assert.equal(await s.queues.pending('jobs', 'workers'), 0);
      // A group reads the queue; it does not empty it for list readers.
      assert.equal(await s.queues.length('jobs'), 6);
      assert.equal(await s.queues.pending('jobs', 'nobody'), 0);
    });

    it('every group gets every message, including those pushed before it first read', async () => {
      const { s, peer } = open();
      await s.queues.push('events', 'e1');
      const first = await s.queues.consume('events', 'audit', 'x', { count: 10 });
      await s.queues.push('events', 'e2');
      const audit = [...first, ...(await s.queues.consume('events', 'audit', 'x', { count: 10 }))];
      const mail = await peer.queues.consume('events', 'mail', 'y', { count: 10 });
      assert.deepEqual(audit.map((d) => d.message), ['e1', 'e2']);
      assert.deepEqual(mail.map((d) => d.message), ['e1', 'e2']);
    });

    it('pops do not take messages from groups, and groups do not take them from the list', async () => {
      const { s, peer } = open();
      await s.queues.push('both', 'm1');
      await s.queues.push('both', 'm2');
      assert.deepEqual((await s.queues.consume('both', 'g', 'c')).map((d) => d.message), ['m1']);
      assert.equal(await peer.queues.popOldest('both'), 'm1');
      assert.equal(await peer.queues.popOldest('both'), 'm2');
      assert.deepEqual((await s.queues.consume('both', 'g', 'c')).map((d) => d.message), ['m2']);
      await s.queues.push('both', 'm3');
      assert.deepEqual((await s.queues.consume('both', 'g', 'c')).map((d) => d.message), ['m3']);
      assert.deepEqual(await s.queues.all('both'), ['m3']);
    });

    it('a group made later starts at the oldest message another group has not acknowledged', async () => {
      const { s, peer } = open();
      for (const m of ['m1', 'm2', 'm3']) await s.queues.push('log', m);
      const first = await s.queues.consume('log', 'early', 'c', { count: 10 });
      await s.queues.ack('log', 'early', first.slice(0, 2).map((d) => d.id)); // m3 stays pending
      await s.queues.consume('log', 'early', 'c'); // nothing new; the log drops m1 and m2
      await s.queues.push('log', 'm4');
      assert.deepEqual((await peer.queues.consume('log', 'late', 'c', { count: 10 })).map((d) => d.message), ['m3', 'm4']);
    });

    it('an unacknowledged message is delivered again after its visibility timeout, and acknowledged once', async () => {
      const { s, peer } = open();
      await s.queues.push('work', 'task');
      const [first] = await s.queues.consume('work', 'g', 'c1', { visibilityMs: 150 });
      assert.deepEqual(await peer.queues.consume('work', 'g', 'c2', { visibilityMs: 150 }), []);
      await sleep(200);
      const again = await peer.queues.consume('work', 'g', 'c2', { visibilityMs: 150 });
      assert.deepEqual(again, [{ id: first.id, message: 'task', redelivered: true }]);
      assert.equal(await peer.queues.ack('work', 'g', again[0].id), 1);
      assert.equal(await s.queues.ack('work', 'g', first.id), 0, 'the late ack of the timed-out delivery acknowledges nothing');
      await sleep(200);
      assert.deepEqual(await s.queues.consume('work', 'g', 'c3', { visibilityMs: 150 }), []);
    });

    it('consume with a wait returns as soon as a message arrives, or nothing when the wait ends', async () => {
      const { s, peer } = open();
      setTimeout(() => void peer.queues.push('inbox', 'hi'), 100);
      const t0 = Date.now();
      const got = await s.queues.consume('inbox', 'g', 'c', { waitMs: 3000 });
      const took = Date.now() - t0;
      assert.deepEqual(got.map((d) => d.message), ['hi']);
      assert.ok(took >= 90 && took < 1000, `took ${took} ms`);
      const t1 = Date.now();
      assert.deepEqual(await s.queues.consume('inbox', 'g', 'c', { waitMs: 150 }), []);
      assert.ok(Date.now() - t1 >= 140);
    });
  });

  // Operations made together (in one tick, none awaited) are concurrent; on Redis the ones of
  // one kind on one key go out as one command. Each must still behave as if made one after
  // the other, in the order they were made, and get its own result.
  describe('operations made together', () => {
    it('state: sets, gets and the other operations on a bucket keep their order; each get is its own copy', async () => {
      const { s, peer } = open();
      const seen: StateChange[] = [];
      await peer.state.watch('t', undefined, (c) => seen.push(c));
      const r = await Promise.all([
        s.state.get('t', 'k', 'none'),
        s.state.set('t', 'k', 1),
        s.state.get('t', 'k'),
        s.state.set('t', 'k', 2),
        s.state.set('t', 'j', { a: 1 }),
        s.state.getSet('t', 'k', 3),
        s.state.get('t', 'k'),
        s.state.set('t', 'n', null),
        s.state.get('t', 'n', 'fallback'),
        s.state.get('t', 'missing', null),
        s.state.set('t', 'k', 4),
        s.state.set('t', 'k', 5),
        s.state.delete('t', 'j'),
        s.state.get('t', 'j', 'gone'),
        s.state.get('other', 'k', 'x'),
      ]);
      assert.deepEqual(r, ['none', undefined, 1, undefined, undefined, 2, 3, undefined, null, null, undefined, undefined, true, 'gone', 'x']);
      await s.state.set('t', 'o', { deep: [1] });
      const [a, b] = await Promise.all([peer.state.get('t', 'o'), peer.state.get('t', 'o')]);
      assert.deepEqual(a, { deep: [1] });
      assert.notEqual(a, b);
      await waitFor(() => seen.length >= 9, 2000, 'nine changes');
      await sleep(50);
      assert.deepEqual(seen, [
        { bucket: 't', key: 'k', value: 1 },
        { bucket: 't', key: 'k', value: 2 },
        { bucket: 't', key: 'j', value: { a: 1 } },
        { bucket: 't', key: 'k', value: 3 },
        { bucket: 't', key: 'n', value: null },
        { bucket: 't', key: 'k', value: 4 },
        { bucket: 't', key: 'k', value: 5 },
        { bucket: 't', key: 'j', value: undefined },
        { bucket: 't', key: 'o', value: { deep: [1] } },
      ]);
    });

    it('state over many buckets: sets and gets of each bucket keep their order among the other operations on it', async () => {
      const { s, peer } = open();
      const seen: StateChange[] = [];
      await peer.state.watch('b3', undefined, (c) => seen.push(c));
      const buckets = Array.from({ length: 20 }, (_, i) => `b${i}`);
      const r = await Promise.all([
        ...buckets.map((b) => s.state.get(b, 'k', 'none')),
        ...buckets.map((b, i) => s.state.set(b, 'k', i)),
        s.state.getSet('b3', 'k', 'three'),
        ...buckets.map((b) => s.state.get(b, 'k')),
        s.state.delete('b5', 'k'),
        s.state.set('b3', 'k', 'again'),
        ...buckets.map((b) => s.state.get(b, 'k', 'gone')),
      ]);
      const n = buckets.length;
      assert.deepEqual(r.slice(0, n), buckets.map(() => 'none'), 'the first gets see nothing yet');
      assert.deepEqual(r.slice(n, 2 * n), buckets.map(() => undefined));
      assert.equal(r[2 * n], 3, 'getSet sees the set made before it');
      assert.deepEqual(r.slice(2 * n + 1, 3 * n + 1), buckets.map((_, i) => (i === 3 ? 'three' : i)));
      assert.equal(r[3 * n + 1], true);
      assert.deepEqual(r.slice(3 * n + 3), buckets.map((_, i) => (i === 3 ? 'again' : i === 5 ? 'gone' : i)));
      await waitFor(() => seen.length >= 3, 2000, 'three changes of b3');
      await sleep(50);
      assert.deepEqual(seen, [
        { bucket: 'b3', key: 'k', value: 3 },
        { bucket: 'b3', key: 'k', value: 'three' },
        { bucket: 'b3', key: 'k', value: 'again' },
      ]);
    });

    it('state over many buckets: every value comes back exactly, whatever its text or size, beside keys that are not set', async () => {
      const { s, peer } = open();
      const big = 'x'.repeat(20_000);
      const kinds: Json[] = [
        'plain', 'é à ü', '日本語', 'emoji 😀 and a lone \ud800 surrogate', 'quote " backslash \\ newline \n tab \t', '',
        0, -1.5e-7, 12345678901234, true, false, null, [], {}, [1, [2, [3, null]]], { nested: { 'ké y': ['ü', 1] } },
        big, { big, n: 1 }, Array.from({ length: 300 }, (_, i) => `item ${i} ✓`),
      ];
      // Each bucket's key changes with the bucket, and some buckets get two keys one after the other.
      const n = 300;
      const key = (i: number): string => (i % 3 === 0 ? 'k' : `key ${i % 7} ✓`);
      const value = (i: number): Json => kinds[i % kinds.length];
      await Promise.all(Array.from({ length: n }, (_, i) => s.state.set(`rt${i}`, key(i), value(i))));
      await Promise.all(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? s.state.set(`rt${i}`, 'second', value(i + 1)) : undefined)));
      const expect = (i: number, k: string): Json | undefined => (k === key(i) ? value(i) : k === 'second' && i % 5 === 0 ? value(i + 1) : undefined);
      // Gets over all buckets, with keys set and not, and a bucket read twice in a row with two keys.
      const asks: Array<[number, string]> = [];
      for (let i = 0; i < n; i++) {
        asks.push([i, key(i)]);
        if (i % 4 === 0) asks.push([i, i % 5 === 0 ? 'second' : 'never set']);
        if (i % 10 === 0) asks.push([i, key(i)]);
      }
      const got = await Promise.all(asks.map(([i, k]) => peer.state.get(`rt${i}`, k)));
      asks.forEach(([i, k], at) => assert.deepEqual(got[at], expect(i, k), `rt${i}/${k}`));
      // With fallbacks, the unset keys give theirs and a stored null stays null.
      const withFallback = await Promise.all(asks.map(([i, k]) => peer.state.get(`rt${i}`, k, 'fallback')));
      asks.forEach(([i, k], at) => assert.deepEqual(withFallback[at], expect(i, k) === undefined ? 'fallback' : expect(i, k), `rt${i}/${k} with a fallback`));
      assert.deepEqual(await peer.state.get('rt0', 'k'), value(0));
    });

    it('queues: pushes and pops keep their order and each gets its own length or message', async () => {
      const { s, peer } = open();
      const r = await Promise.all([
        s.queues.push('m', 'a'),
        s.queues.push('m', 'b'),
        s.queues.push('m', 'c'),
        s.queues.popOldest('m'),
        s.queues.popNewest('m'),
        s.queues.push('m', 'd'),
        s.queues.popOldest('m'),
        s.queues.popOldest('m'),
        s.queues.popOldest('m'),
        s.queues.popNewest('m'),
        s.queues.push('m', 'e', { maxLength: 2 }),
        s.queues.push('m', 'f', { maxLength: 2 }),
        s.queues.push('m', 'g', { maxLength: 2 }),
        s.queues.length('m'),
      ]);
      assert.deepEqual(r, [1, 2, 3, 'a', 'c', 2, 'b', 'd', undefined, undefined, 1, 2, 2, 2]);
      assert.deepEqual(await peer.queues.all('m'), ['f', 'g']);
      // A queue longer than a push's maxLength is cut down to it by that push.
      await Promise.all([1, 2, 3, 4, 5].map((i) => s.queues.push('long', i)));
      assert.deepEqual(await Promise.all([s.queues.push('long', 6, { maxLength: 3 }), s.queues.push('long', 7, { maxLength: 3 })]), [3, 3]);
      assert.deepEqual(await peer.queues.all('long'), [5, 6, 7]);
    });

    it('queues: pushes to a queue with a group, or with a maxAge, reach the group and expire', async () => {
      const { s, peer } = open();
      assert.deepEqual(await s.queues.consume('gq', 'g', 'c'), []);
      assert.deepEqual(await Promise.all([s.queues.push('gq', 1), s.queues.push('gq', 2), s.queues.push('gq', 3, { maxAgeMs: 60_000 })]), [1, 2, 3]);
      assert.deepEqual((await peer.queues.consume('gq', 'g', 'c', { count: 10 })).map((d) => d.message), [1, 2, 3]);
      assert.deepEqual(await Promise.all([s.queues.push('age', 'short', { maxAgeMs: 100 }), s.queues.push('age', 'long', { maxAgeMs: 60_000 }), s.queues.push('age', 'short2', { maxAgeMs: 100 })]), [1, 2, 3]);
      await sleep(150);
      assert.deepEqual(await Promise.all([s.queues.popOldest('age'), s.queues.popOldest('age'), s.queues.popNewest('age')]), ['long', undefined, undefined]);
    });

    it('counters: increments, gets and sets of a counter keep their order', async () => {
      const { s } = open();
      const r = await Promise.all([
        s.counters.incr('c'),
        s.counters.incr('c', 2),
        s.counters.get('c'),
        s.counters.incr('c', -1),
        s.counters.set('c', 10),
        s.counters.getIncr('c', 5),
        s.counters.incr('c'),
        s.counters.incr('other', 7),
      ]);
      assert.deepEqual(r, [1, 3, 3, 2, undefined, 10, 16, 7]);
    });
  });
}
describe('shared: memory backend', () => {
  semantics(() => memoryBackend);
});

describe('shared: redis backend', function () {
  const redis = useRedis();
  let url = '';
  before(() => {
    url = redis.url;
  });

  semantics(() => redisBackend(url));

  it('operations of one kind on one key made together go to the server as one command', async () => {
    const { s } = redisBackend(url).open();
    await s.state.set('warm', 'k', 0); // the script is loaded
    const admin = new Redis(url);
    try {
      await admin.config('RESETSTAT');
      const n = 100;
      const range = Array.from({ length: n }, (_, i) => i);
      await Promise.all(range.map((i) => s.state.set('b', `k${i}`, i)));
      assert.deepEqual(await Promise.all(range.map((i) => s.state.get('b', `k${i}`))), range);
      assert.deepEqual(await Promise.all(range.map((i) => s.queues.push('q', i))), range.map((i) => i + 1));
      assert.deepEqual(await Promise.all(range.map(() => s.queues.popOldest('q'))), range);
      await Promise.all(range.map(() => s.counters.incr('c')));
      const stats = await admin.info('commandstats');
      const calls = (cmd: string): number => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
      assert.deepEqual(
        ['evalsha', 'hset', 'hmget', 'rpush', 'lpop', 'incrby'].map((c) => [c, calls(c)]),
        [['evalsha', 5], ['hset', 1], ['hmget', 1], ['rpush', 1], ['lpop', 1], ['incrby', 1]],
      );
    } finally {
      admin.disconnect();
    }
  });

  it('the gets and the sets made together over many buckets are one function call each in the batch, a command per bucket inside', async () => {
    const { s } = redisBackend(url).open();
    await s.state.set('warm', 'k', 0);
    const admin = new Redis(url);
    const monitor = await admin.monitor();
    const sent: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0].toLowerCase() === 'evalsha') sent.push(args);
    });
    try {
      await admin.config('RESETSTAT');
      const buckets = Array.from({ length: 300 }, (_, i) => `m${i}`);
      await Promise.all(buckets.map((b, i) => s.state.set(b, 'k', i)));
      assert.deepEqual(await Promise.all(buckets.map((b) => s.state.get(b, 'k'))), buckets.map((_, i) => i));
      await waitFor(() => sent.length >= 2, 2000, 'the two batches to be seen');
      // Each batch names its operation once: one call for the 300 buckets.
      assert.deepEqual(sent.map((args) => args.filter((a) => a.startsWith('remonState'))), [['remonStateSets'], ['remonStateGets']]);
      const stats = await admin.info('commandstats');
      const calls = (cmd: string): number => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
      assert.deepEqual(['hset', 'hget', 'hmget'].map((c) => [c, calls(c)]), [['hset', 300], ['hget', 300], ['hmget', 0]]);
    } finally {
      monitor.disconnect();
      admin.disconnect();
    }
  });

  it('a bucket the server refuses (not a hash) fails only its own gets and sets made together with others', async () => {
    const prefix = `wt${process.pid}:`;
    const s = createRedisShared({ url, prefix });
    opened.push(s);
    const admin = new Redis(url);
    try {
      await admin.set(`${prefix}s:bad`, 'a string, not a hash');
      const r = await Promise.allSettled([
        s.state.set('a', 'k', 1),
        s.state.set('bad', 'k', 2),
        s.state.set('bad', 'j', 3),
        s.state.set('c', 'k', 4),
        s.state.get('a', 'k'),
        s.state.get('bad', 'k'),
        s.state.get('c', 'k'),
      ]);
      assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual([4, 6].map((i) => (r[i] as PromiseFulfilledResult<unknown>).value), [1, 4]);
      for (const [i, what] of [[1, 'state.set'], [2, 'state.set'], [5, 'state.get']] as const) {
        code('REMON_ERR_SHARED_BACKEND', new RegExp(`^${what}: redis at .* refused: WRONGTYPE`))((r[i] as PromiseRejectedResult).reason);
      }
      assert.equal(await admin.get(`${prefix}s:bad`), 'a string, not a hash', 'the refused bucket is as it was');
      // One operation per bucket (the plain loop), a watched bucket among them: the refusal
      // fails only its own, and each change is published once.
      const seen: StateChange[] = [];
      const watcher = createRedisShared({ url, prefix });
      opened.push(watcher);
      await watcher.state.watch('c', undefined, (ch) => seen.push(ch));
      const one = await Promise.allSettled([s.state.set('a', 'k', 5), s.state.set('bad', 'k', 6), s.state.set('c', 'k', 7), s.state.get('a', 'k'), s.state.get('bad', 'k'), s.state.get('c', 'k')]);
      assert.deepEqual(one.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual([3, 5].map((i) => (one[i] as PromiseFulfilledResult<unknown>).value), [5, 7]);
      await waitFor(() => seen.length >= 1, 2000, 'the change of c');
      await sleep(50);
      assert.deepEqual(seen, [{ bucket: 'c', key: 'k', value: 7 }]);
    } finally {
      admin.disconnect();
    }
  });

  it('a watch hears the writes of its own prefix, even one with glob characters, and not those of another', async () => {
    const prefix = `w*[${process.pid}]?:`;
    const writer = createRedisShared({ url, prefix });
    const watcher = createRedisShared({ url, prefix });
    const other = createRedisShared({ url, prefix: `w-${process.pid}:` });
    opened.push(writer, watcher, other);
    const seen: StateChange[] = [];
    await watcher.state.watch('b', undefined, (c) => seen.push(c));
    // A batch that writes an unwatched bucket first, the watched one after.
    await Promise.all([writer.state.set('a', 'k', 1), writer.state.set('b', 'k', 2), writer.state.delete('b', 'k'), other.state.set('b', 'k', 3)]);
    await waitFor(async () => seen.length >= 2, 5000, 'the changes');
    await sleep(100);
    assert.deepEqual(seen, [{ bucket: 'b', key: 'k', value: 2 }, { bucket: 'b', key: 'k', value: undefined }]);
  });

  it('after SCRIPT FLUSH, a burst of operations still runs, in order, and loads the script again', async () => {
    const { s } = redisBackend(url).open();
    await s.counters.incr('flush');
    const admin = new Redis(url);
    try {
      await admin.script('FLUSH');
      // More than one batch's worth, all on one counter, one queue and one bucket.
      const n = 2500;
      const range = Array.from({ length: n }, (_, i) => i);
      const [incrs, pushes] = await Promise.all([
        Promise.all(range.map(() => s.counters.incr('flush'))),
        Promise.all(range.map((i) => s.queues.push('flushq', i))),
        Promise.all(range.map((i) => s.state.set('flushb', 'k', i))),
      ]);
      assert.deepEqual(incrs, range.map((i) => i + 2));
      assert.deepEqual(pushes, range.map((i) => i + 1));
      assert.equal(await s.state.get('flushb', 'k'), n - 1);
      assert.deepEqual(await s.queues.peek('flushq', 3), [n - 3, n - 2, n - 1]);
      const [loaded] = (await admin.script('EXISTS', createHash('sha1').update(BATCH_SCRIPT).digest('hex'))) as number[];
      assert.equal(loaded, 1);
    } finally {
      admin.disconnect();
    }
  });

  it('while Redis is down operations fail at once with REMON_ERR_SHARED_BACKEND; when it is back they work again and watches resume', async function () {
    this.timeout(30_000);
    const { s, peer } = redisBackend(url).open();
    await s.counters.incr('before');
    const seen: StateChange[] = [];
    await s.state.watch('live', undefined, (c) => seen.push(c));
    await redis.server.stop();
    await waitFor(async () => (await s.counters.incr('x').then(() => false, () => true)), 5000, 'the outage to show');
    const t0 = Date.now();
    await assert.rejects(s.counters.incr('during'), code('REMON_ERR_SHARED_BACKEND', new RegExp(`^counter.incr: redis at ${url.replace(/[.]/g, '\\.')} is unreachable since \\S+ \\(.+\\); remon keeps reconnecting$`)));
    await assert.rejects(s.state.set('b', 'k', 1), code('REMON_ERR_SHARED_BACKEND'));
    await assert.rejects(s.locks.acquire('L', { ttlMs: 1000, waitMs: 5000 }), code('REMON_ERR_SHARED_BACKEND'));
    await assert.rejects(s.queues.consume('q', 'g', 'c', { waitMs: 5000 }), code('REMON_ERR_SHARED_BACKEND'));
    assert.ok(Date.now() - t0 < 500, `failing took ${Date.now() - t0} ms`);
    await redis.server.start();
    // The same client reconnects by itself (the restarted server is empty: --save '').
    await waitFor(async () => (await s.counters.incr('after').then(() => true, () => false)), 10_000, 'reconnection');
    assert.equal(await s.counters.get('after'), 1);
    // The watch made before the outage is in place again.
    await waitFor(async () => {
      await peer.state.set('live', 'k', 'back').catch(() => {});
      return seen.length > 0;
    }, 10_000, 'the watch to hear changes again');
    assert.deepEqual(seen[0], { bucket: 'live', key: 'k', value: 'back' });
  });
});
