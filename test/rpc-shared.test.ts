import { strict as assert } from 'node:assert';
import type { Engine } from '../src/engine/engine';
import { post, req, rpcNode } from './rpc-client';

/**
 * The shared-state operations over POST /rpc, on a node with a token: each scenario is a
 * list of calls and the answer each gives (a result, or an error code and message).
 */
describe('rpc: shared state, counters, locks and queues', function () {
  this.timeout(20_000);
  let e: Engine;
  const auth = { authorization: 'Bearer tk' };
  before(async () => { e = await rpcNode({ token: 'tk' }); });
  after(async () => { await e?.stop(); });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = async (method: string, params?: unknown): Promise<any> => (await post(e.url!, req(1, method, params), auth)).json;

  type Step = [string, unknown, { result?: unknown; code?: number; message?: string | RegExp }];
  const scenarios: Array<[string, Step[]]> = [
    ['state: set, get, keys, buckets, search, delete', [
      ['state.get', { bucket: 'cfg', key: 'mode' }, { result: { bucket: 'cfg', key: 'mode', exists: false, value: null } }],
      ['state.set', { bucket: 'cfg', key: 'mode', value: { on: true, n: [1, 2] } }, { result: { bucket: 'cfg', key: 'mode', value: { on: true, n: [1, 2] } } }],
      ['state.set', { bucket: 'cfg', key: 'nothing', value: null }, { result: { bucket: 'cfg', key: 'nothing', value: null } }],
      ['state.get', { bucket: 'cfg', key: 'mode' }, { result: { bucket: 'cfg', key: 'mode', exists: true, value: { on: true, n: [1, 2] } } }],
      ['state.get', { bucket: 'cfg', key: 'nothing' }, { result: { bucket: 'cfg', key: 'nothing', exists: true, value: null } }],
      ['state.keys', { bucket: 'cfg' }, { result: ['mode', 'nothing'] }],
      ['state.keys', { bucket: 'cfg', limit: 1 }, { result: ['mode'] }],
      ['state.buckets', {}, { result: ['cfg'] }],
      ['state.search', { pattern: '"on":true' }, { result: [{ bucket: 'cfg', key: 'mode', value: { on: true, n: [1, 2] } }] }],
      ['state.search', { pattern: '(' }, { code: -32602, message: /^bad search pattern: / }],
      ['state.delete', { bucket: 'cfg', key: 'mode' }, { result: { bucket: 'cfg', key: 'mode', deleted: true } }],
      ['state.delete', { bucket: 'cfg', key: 'mode' }, { result: { bucket: 'cfg', key: 'mode', deleted: false } }],
      ['state.set', { bucket: 'cfg', key: 'big', value: 'x'.repeat(70_000) }, { code: -32602, message: 'value is 70002 bytes of JSON; at most 65536 are taken' }],
      ['state.set', { bucket: '', key: 'k', value: 1 }, { code: -32602, message: /^bucket: / }],
      ['state.set', { bucket: 'cfg', key: 'k' }, { code: -32602, message: /value/ }],
    ]],
    ['counters: incr, get, set, all', [
      ['counter.get', { name: 'hits' }, { result: { name: 'hits', value: 0 } }],
      ['counter.incr', { name: 'hits' }, { result: { name: 'hits', value: 1 } }],
      ['counter.incr', { name: 'hits', by: -5 }, { result: { name: 'hits', value: -4 } }],
      ['counter.set', { name: 'other', value: 10 }, { result: { name: 'other', value: 10 } }],
      ['counter.all', {}, { result: { hits: -4, other: 10 } }],
      ['counter.all', { limit: 1 }, { result: { hits: -4 } }],
      ['counter.incr', { name: 'hits', by: 1.5 }, { code: -32602, message: /^by: / }],
    ]],
    ['locks: acquire, held elsewhere, list, release', [
      ['lock.acquire', { name: 'deploy', ttl_ms: 60_000 }, { result: { name: 'deploy', token: 1 } }],
      ['lock.acquire', { name: 'deploy', ttl_ms: 60_000 }, { code: -32009, message: /^lock "deploy" could not be acquired at once \(wait 0\) \(held by .+, token 1\)$/ }],
      ['lock.list', {}, { result: [{ name: 'deploy', token: 1 }] }],
      ['lock.release', { name: 'deploy', token: 2 }, { code: -32009, message: /^lock "deploy" is not held by token 2: it is held under token 1 now$/ }],
      ['lock.release', { name: 'deploy', token: 1 }, { result: { name: 'deploy', released: true } }],
      ['lock.list', {}, { result: [] }],
      ['lock.acquire', { name: 'deploy', ttl_ms: 0 }, { code: -32602, message: /^ttl_ms: / }],
    ]],
    ['queues: push, peek, length, names, popOldest', [
      ['queue.push', { queue: 'jobs', message: { n: 1 } }, { result: { queue: 'jobs', length: 1 } }],
      ['queue.push', { queue: 'jobs', message: { n: 2 } }, { result: { queue: 'jobs', length: 2 } }],
      ['queue.push', { queue: 'jobs', message: { n: 3 }, max_length: 2 }, { result: { queue: 'jobs', length: 2 } }],
      ['queue.peek', { queue: 'jobs', n: 5 }, { result: [{ n: 2 }, { n: 3 }] }],
      ['queue.length', { queue: 'jobs' }, { result: { queue: 'jobs', length: 2 } }],
      ['queue.names', {}, { result: ['jobs'] }],
      ['queue.popOldest', { queue: 'jobs' }, { result: { queue: 'jobs', empty: false, message: { n: 2 } } }],
      ['queue.popOldest', { queue: 'jobs' }, { result: { queue: 'jobs', empty: false, message: { n: 3 } } }],
      ['queue.popOldest', { queue: 'jobs' }, { result: { queue: 'jobs', empty: true, message: null } }],
      ['queue.peek', { queue: 'jobs', n: 5000 }, { code: -32602, message: /^n: / }],
    ]],
  ];

  for (const [name, steps] of scenarios) {
    it(name, async () => {
      for (const [method, params, want] of steps) {
        const a = await call(method, params);
        const what = `${method} ${JSON.stringify(params).slice(0, 80)} → ${JSON.stringify(a).slice(0, 300)}`;
        if (want.code !== undefined) {
          assert.equal(a.error?.code, want.code, what);
          if (typeof want.message === 'string') assert.equal(a.error.message, want.message, what);
          else if (want.message) assert.match(a.error.message, want.message, what);
          continue;
        }
        assert.ok(!a.error, what);
        // Objects are compared on the keys the step names (a lock's owner and expiry vary).
        const pick = (got: unknown, exp: unknown): unknown => {
          if (Array.isArray(exp) && Array.isArray(got)) return got.map((g, i) => pick(g, exp[i]));
          if (exp && typeof exp === 'object' && got && typeof got === 'object' && !Array.isArray(exp)) {
            return Object.fromEntries(Object.keys(exp).map((k) => [k, (got as Record<string, unknown>)[k]]));
          }
          return got;
        };
        assert.deepEqual(method.startsWith('lock.') ? pick(a.result, want.result) : a.result, want.result, what);
      }
    });
  }

  it('a lock is released with the grant lock.acquire answered, and its owner is the node', async () => {
    const grant = (await call('lock.acquire', { name: 'g', ttl_ms: 10_000 })).result;
    assert.equal(grant.owner, e.shared.owner);
    assert.ok(grant.expiresAt > Date.now() + 9000);
    assert.deepEqual((await call('lock.release', grant)).result, { name: 'g', released: true });
  });

  it('every write (and state.search) needs the token; reads do not', async () => {
    // state.search too: the caller's regular expression runs on the node's thread.
    const writes = ['state.set', 'state.delete', 'state.search', 'counter.incr', 'counter.set', 'lock.acquire', 'lock.release', 'queue.push', 'queue.popOldest'];
    for (const m of writes) {
      const r = await post(e.url!, req(1, m, {}));
      assert.equal(r.json.error?.code, -32001, m);
    }
    for (const m of ['state.buckets', 'counter.all', 'lock.list', 'queue.names', 'shared.info']) {
      const r = await post(e.url!, req(1, m, {}));
      assert.ok(!r.json.error, `${m}: ${JSON.stringify(r.json)}`);
    }
  });
});
