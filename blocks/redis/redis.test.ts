import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import Redis from 'ioredis';
import { loadConfig } from '../../src/config/load';
import { BlockInstance, RunOutput } from '../../src/engine/block';
import { silentLogger } from '../../src/log';
import { registry } from '../../src/registry';
import { createMemoryShared } from '../../src/shared/memory';
import { useRedis } from '../../test/shared-redis';
import { parseInfo } from './reader';
import { redisBlock, RedisBlockOptions } from './index';

type Opts = Omit<RedisBlockOptions, 'name'>;

function create(options: Opts): BlockInstance {
  assert.deepEqual(redisBlock.check!({ name: 'q', ...options }), [], 'the test config must be valid');
  return redisBlock.create({ name: 'q', ...options }, { name: 'q', configDir: '/', dataDir: '/', log: silentLogger(), emit: () => undefined });
}

async function run(block: BlockInstance, signal?: AbortSignal): Promise<RunOutput & { fields: Record<string, number> }> {
  const out = await block.run({ signal: signal ?? new AbortController().signal, log: silentLogger(), shared: createMemoryShared() });
  return { ...out, fields: out.fields ?? {} };
}

describe('redis block', () => {
  it('sample.yaml is a valid blocks list', () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'blocks', 'redis', 'sample.yaml');
    const { config } = loadConfig(file, { ...registry, env: { REDIS_PASSWORD: 'not-shown' } });
    assert.deepEqual(config.blocks.map((b) => [b.name, b.type]), [['queues', 'redis'], ['cache', 'redis']]);
    assert.deepEqual(redisBlock.fields!(config.blocks[0].options as unknown as RedisBlockOptions), ['jobs', 'mail', 'events', 'workers', 'delayed', 'processed', 'failed_total']);
  });

  // [options, problems]
  const checks: Array<[string, Record<string, unknown>, Array<[string, string]>]> = [
    ['a list', { url: 'redis://127.0.0.1:6379/0', lists: { jobs: 'queue:jobs' } }, []],
    ['nothing to read', { url: 'redis://127.0.0.1:6379' }, [['', 'reads nothing; give lists, streams, sets, zsets, keys, hashes or info (e.g. lists: { jobs: queue:jobs })']]],
    ['a bad database', { url: 'redis://127.0.0.1:6379/jobs', info: ['used_memory'] }, [['url', 'the database after the host must be a number (e.g. /0); got "/jobs"']]],
    ['a field twice', { url: 'redis://h', lists: { n: 'a' }, streams: { n: 'b' } }, [['streams.n', 'field name "n" is used by lists.n too; series would clash']]],
    ['a reserved field', { url: 'redis://h', keys: { up: 'a' } }, [['keys.up', 'field name "up" is the block\'s own series; choose another']]],
    ['a bad field name', { url: 'redis://h', lists: { 'a-b': 'x' } }, [['lists.a-b', 'field name "a-b" must be letters, digits and _ (not starting with a digit)']]],
  ];
  for (const [name, o, want] of checks) it(`check: ${name}`, () => assert.deepEqual(redisBlock.check!({ name: 'q', ...o } as RedisBlockOptions), want));

  it('parseInfo reads every section', () => {
    const m = parseInfo('# Server\r\nredis_version:7.0.15\r\n\r\n# Memory\r\nused_memory:1024\r\n');
    assert.equal(m.get('redis_version'), '7.0.15');
    assert.equal(m.get('used_memory'), '1024');
  });

  describe('against redis-server', () => {
    const redis = useRedis();
    let client: Redis;
    let block: BlockInstance | undefined;
    before(function () {
      if (!redis.server) this.skip();
      client = new Redis(redis.url, { lazyConnect: false });
    });
    after(async () => {
      client?.disconnect();
    });
    afterEach(async () => {
      await block?.close?.();
      block = undefined;
      await client.flushall();
    });

    it("reads a list's length after pushes, a stream's length, sizes, numbers and INFO fields", async () => {
      block = create({
        url: `${redis.url}/0`,
        lists: { jobs: 'queue:jobs', idle: 'queue:none' },
        streams: { events: 'stream:events', quiet: 'stream:none' },
        sets: { workers: 'workers' },
        zsets: { delayed: 'delayed' },
        keys: { processed: 'stats:processed' },
        hashes: { pending: { key: 'stats', field: 'pending' } },
        info: ['connected_clients', 'used_memory'],
      });
      await client.rpush('queue:jobs', 'a', 'b', 'c');
      await client.xadd('stream:events', '*', 'k', 'v');
      await client.xadd('stream:events', '*', 'k', 'w');
      await client.sadd('workers', 'w1', 'w2');
      await client.zadd('delayed', 1, 'x');
      await client.set('stats:processed', '42.5');
      await client.hset('stats', 'pending', '7');
      const first = await run(block);
      assert.equal(first.message, undefined);
      assert.equal(first.ok, true);
      assert.deepEqual({ ...first.fields, connected_clients: undefined, used_memory: undefined }, {
        jobs: 3, idle: 0, events: 2, quiet: 0, workers: 2, delayed: 1, processed: 42.5, pending: 7, connected_clients: undefined, used_memory: undefined,
      });
      // The test's client and the block's are connected.
      assert.ok(first.fields.connected_clients >= 2, `connected_clients ${first.fields.connected_clients}`);
      assert.ok(first.fields.used_memory > 0);
      await client.rpush('queue:jobs', 'd', 'e');
      await client.lpop('queue:jobs');
      assert.equal((await run(block)).fields.jobs, 4);
    });

    it('a GET of a key that does not exist is no value, and a GET of a list says what the key holds', async () => {
      block = create({ url: redis.url, lists: { jobs: 'queue:jobs' }, keys: { done: 'stats:done', wrong: 'queue:jobs' } });
      await client.rpush('queue:jobs', 'a');
      const out = await run(block);
      assert.equal(out.ok, false);
      assert.deepEqual(out.fields, { jobs: 1 });
      assert.equal(out.message,
        `redis ${redis.url}: keys.done: no value (key "stats:done" does not exist); keys.wrong: key "queue:jobs" holds a list, not a string (GET refused it)`);
    });

    it('a value that is not a number, and an INFO field that does not exist or is text', async () => {
      block = create({ url: redis.url, keys: { v: 'version' }, info: ['no_such_field', 'redis_version'] });
      await client.set('version', 'v1.2');
      const out = await run(block);
      assert.equal(out.ok, false);
      assert.match(out.message!, /keys\.v: not a number: "v1\.2"; info no_such_field: INFO has no field "no_such_field"; info redis_version: not a number: "\d+\.\d+\.\d+"$/);
    });

    it('a server that is down is a failed run saying what was seen; it reconnects when the server is back', async function () {
      this.timeout(30_000);
      block = create({ url: redis.url, lists: { jobs: 'queue:jobs' } });
      await client.rpush('queue:jobs', 'a', 'b');
      assert.equal((await run(block)).fields.jobs, 2);
      await redis.server.stop();
      try {
        const down = await run(block, AbortSignal.timeout(5000));
        assert.equal(down.ok, false);
        assert.match(down.message!, new RegExp(`^cannot reach redis at redis://127\\.0\\.0\\.1:${redis.server.port}: .*(ECONNREFUSED|closed)`));
      } finally {
        await redis.server.start();
      }
      await client.rpush('queue:jobs', 'x');
      // ioredis retries within 2s; each run waits for the next attempt's outcome.
      let back: RunOutput | undefined;
      for (let i = 0; i < 20 && !back?.ok; i++) {
        back = await run(block, AbortSignal.timeout(5000));
        if (!back.ok) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(back?.ok, true, back?.message);
      assert.deepEqual(back?.fields, { jobs: 1 });
    });

    it('a wrong password is a failed run that never shows the password', async () => {
      await client.config('SET', 'requirepass', 'right-secret');
      try {
        block = create({ url: redis.url, password: 'wrong-secret', lists: { jobs: 'queue:jobs' } });
        const out = await run(block, AbortSignal.timeout(5000));
        assert.equal(out.ok, false);
        assert.match(out.message!, /WRONGPASS|invalid password/i);
        assert.ok(!out.message!.includes('wrong-secret') && !out.message!.includes('right-secret'));
        await block.close?.();
        block = create({ url: redis.url.replace('redis://', 'redis://:right-secret@'), lists: { jobs: 'queue:jobs' } });
        const ok = await run(block, AbortSignal.timeout(5000));
        assert.equal(ok.ok, true, ok.message);
      } finally {
        await client.config('SET', 'requirepass', '');
      }
    });
  });
});
