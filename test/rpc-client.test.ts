import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { alertsPlugin } from '../src/alerts/plugin';
import { createDerivePlugin } from '../src/derive';
import type { RemonError } from '../src/errors';
import { RpcClient, RpcSession, rpcCodeOfError } from '../src/rpc/client';
import { rpcPlugin } from '../src/rpc/plugin';
import { createSlaPlugin } from '../src/sla';
import { freePort, waitFor } from './helpers';
import { PagesNode, startPagesNode } from './pages-harness';

/** Caller is one transport of the client: POST /rpc or the WebSocket session. */
type Caller = (method: string, params?: Record<string, unknown>) => Promise<unknown>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Check = (r: any, ctx: Record<string, unknown>) => void;

const PAGE = `module.exports = { rpc: { 'guest.sign': { write: true, params: { type: 'object', required: ['who'], properties: { who: { type: 'string' } } },
  handler: async (p, page) => ({ signed: p.who, by: page.name }) } } };`;

/**
 * STEPS: one round trip per public method, in an order where each one's effect is seen
 * by a later step (a set then a get, a push then a pop, a run then a fetch).
 */
const STEPS: Array<[string, Record<string, unknown> | ((ctx: Record<string, unknown>) => Record<string, unknown>), Check]> = [
  ['node.info', {}, (r) => assert.equal(r.name, 'pagenode')],
  ['node.health', {}, (r) => assert.equal(r.status, 'ok')],
  ['state.set', { bucket: 'b', key: 'k', value: { n: 1 } }, (r) => assert.deepEqual(r, { bucket: 'b', key: 'k', value: { n: 1 } })],
  ['state.get', { bucket: 'b', key: 'k' }, (r) => assert.deepEqual(r, { bucket: 'b', key: 'k', exists: true, value: { n: 1 } })],
  ['state.keys', { bucket: 'b' }, (r) => assert.deepEqual(r, ['k'])],
  ['state.buckets', {}, (r) => assert.deepEqual(r, ['b'])],
  ['state.search', { pattern: 'k*', bucket: 'b' }, (r) => assert.deepEqual(r, [{ bucket: 'b', key: 'k', value: { n: 1 } }])],
  ['state.delete', { bucket: 'b', key: 'k' }, (r) => assert.deepEqual(r, { bucket: 'b', key: 'k', deleted: true })],
  ['counter.incr', { name: 'c', by: 3 }, (r) => assert.deepEqual(r, { name: 'c', value: 3 })],
  ['counter.set', { name: 'c', value: 10 }, (r) => assert.deepEqual(r, { name: 'c', value: 10 })],
  ['counter.get', { name: 'c' }, (r) => assert.deepEqual(r, { name: 'c', value: 10 })],
  ['counter.all', {}, (r) => assert.deepEqual(r, { c: 10 })],
  ['lock.acquire', { name: 'L', ttl_ms: 60_000 }, (r, ctx) => { assert.equal(typeof r.token, 'number'); ctx.lock = r; }],
  ['lock.list', {}, (r) => assert.deepEqual(r.map((l: { name: string }) => l.name), ['L'])],
  ['lock.release', (ctx) => ({ name: 'L', token: (ctx.lock as { token: number }).token }), (r) => assert.deepEqual(r, { name: 'L', released: true })],
  ['queue.push', { queue: 'q', message: { job: 1 } }, (r) => assert.deepEqual(r, { queue: 'q', length: 1 })],
  ['queue.length', { queue: 'q' }, (r) => assert.deepEqual(r, { queue: 'q', length: 1 })],
  ['queue.peek', { queue: 'q' }, (r) => assert.deepEqual(r, [{ job: 1 }])],
  ['queue.names', {}, (r) => assert.deepEqual(r, ['q'])],
  ['queue.popOldest', { queue: 'q' }, (r) => assert.deepEqual(r, { queue: 'q', empty: false, message: { job: 1 } })],
  ['blocks.list', {}, (r) => assert.deepEqual(r.map((b: { name: string }) => b.name).sort(), ['alpha', 'beta'])],
  ['blocks.get', { name: 'alpha' }, (r) => assert.equal(r.name, 'alpha')],
  ['blocks.run', { name: 'alpha' }, (r) => assert.equal(r.fields.value, 7)],
  ['series.list', {}, (r) => assert.deepEqual(r, ['alpha.duration_ms', 'alpha.up', 'alpha.value', 'sla.alpha-small.ok'])],
  ['series.fetch', { name: 'alpha.value' }, (r) => assert.deepEqual(r.points.map((p: [number, number | null]) => p[1]), [7])],
  ['slas.list', {}, (r) => assert.deepEqual(r.map((s: { name: string; state: string }) => [s.name, s.state]), [['alpha-small', 'firing']])],
  ['slas.get', { name: 'alpha-small' }, (r) => assert.equal(r.message, 'alpha.value (7) > 100')],
  ['alerts.list', {}, (r, ctx) => {
    assert.deepEqual(r.map((a: { sla: string; state: string }) => [a.sla, a.state]), [['alpha-small', 'firing']]);
    ctx.alert = r[0].id;
  }],
  ['alerts.ack', (ctx) => ({ id: ctx.alert }), (r) => assert.equal(r.state, 'acknowledged')],
  ['heartbeats.configure', { name: 'job', period: '1m' }, (r) => assert.deepEqual([r.name, r.state], ['job', 'new'])],
  ['heartbeat.send', { name: 'job' }, (r) => assert.deepEqual(r, { name: 'job', state: 'up' })],
  ['heartbeats.get', { name: 'job' }, (r) => assert.equal(r.state, 'up')],
  ['guest.sign', { who: 'ann' }, (r) => assert.deepEqual(r, { signed: 'ann', by: 'guest' })],
];

/** PUBLIC: the methods the issue names, each of which must be in STEPS. */
const PUBLIC = ['state.get', 'state.set', 'state.keys', 'state.delete', 'counter.get', 'counter.incr', 'counter.set', 'lock.acquire', 'lock.release', 'queue.push',
  'queue.popOldest', 'queue.length', 'series.fetch', 'series.list', 'blocks.list', 'blocks.run', 'slas.list', 'alerts.list', 'alerts.ack', 'heartbeat.send', 'node.info', 'guest.sign'];

describe('rpc client: a round trip of every public method, over HTTP and over the WebSocket', function () {
  this.timeout(30_000);
  let n: PagesNode | undefined;
  afterEach(async () => {
    await n?.stop();
    n = undefined;
  });

  it('the steps cover every method the issue names', () => {
    assert.deepEqual(PUBLIC.filter((m) => !STEPS.some(([s]) => s === m)), []);
  });

  for (const transport of ['http', 'ws'] as const) {
    it(`${transport}: each method answers what a user expects, with the token in a header`, async () => {
      n = await startPagesNode({
        token: 's3cret',
        files: { 'guest.js': PAGE },
        blocks: '  - { name: alpha, type: probe, mode: on-demand, value: 7 }\n  - { name: beta, type: probe, mode: on-demand }',
        yaml: 'slas:\n  - { name: alpha-small, test: "alpha.value > 100", severity: page }\n',
        plugins: [createDerivePlugin(), createSlaPlugin(), alertsPlugin(), rpcPlugin()],
      });
      const client = new RpcClient({ url: n.url, token: 's3cret' });
      const session = transport === 'ws' ? client.session() : undefined;
      const call: Caller = session ? (m, p) => session.call(m, p) : (m, p) => client.call(m, p);
      const ctx: Record<string, unknown> = {};
      try {
        for (const [method, params, check] of STEPS) {
          const p = typeof params === 'function' ? params(ctx) : params;
          if (method === 'alerts.list') await waitFor(async () => ((await call('alerts.list', {})) as unknown[]).length > 0 || undefined, 10_000, 'an alert');
          let r: unknown;
          try {
            r = await call(method, p);
          } catch (err) {
            assert.fail(`${method}: ${(err as Error).message}`);
          }
          try {
            check(r, ctx);
          } catch (err) {
            assert.fail(`${method} answered ${JSON.stringify(r).slice(0, 300)}: ${(err as Error).message}`);
          }
        }
      } finally {
        session?.close();
      }
    });
  }

  it('errors are RemonErrors with the node\'s code and the JSON-RPC code, over both transports', async () => {
    n = await startPagesNode({ token: 's3cret', plugins: [rpcPlugin()] });
    const good = new RpcClient({ url: n.url, token: 's3cret' });
    const anon = new RpcClient({ url: n.url });
    const session = good.session();
    const cases: Array<[string, () => Promise<unknown>, string, number, string | RegExp]> = [
      ['http: unknown method', () => good.call('no.such'), 'REMON_ERR_OP_UNKNOWN', -32601, 'no operation is named "no.such"'],
      ['ws: unknown method', () => session.call('no.such'), 'REMON_ERR_OP_UNKNOWN', -32601, 'no operation is named "no.such"'],
      ['http: bad params', () => good.call('blocks.get', { name: 'bad name!' }), 'REMON_ERR_OP_PARAMS', -32602, /^name: /],
      ['ws: unknown block', () => session.call('blocks.get', { name: 'zz' }), 'REMON_ERR_BLOCK_UNKNOWN', -32004, 'no block is named "zz"'],
      ['http: no token for a write', () => anon.call('counter.incr', { name: 'c' }), 'REMON_ERR_OP_UNAUTHORIZED', -32001, /bearer token/],
      ['http: a subscription', () => good.call('live.subscribe', { topic: 'blocks' }), 'REMON_ERR_RPC_TRANSPORT', -32005, /WebSocket/],
    ];
    try {
      for (const [name, run, code, rpc, message] of cases) {
        const err = await run().then(() => assert.fail(`${name}: no error`), (e: RemonError) => e);
        assert.equal(err.code, code, name);
        assert.equal(rpcCodeOfError(err), rpc, name);
        if (typeof message === 'string') assert.equal(err.message, message, name);
        else assert.match(err.message, message, name);
      }
      const batch = await good.batch([{ method: 'counter.incr', params: { name: 'b' } }, { method: 'no.such' }, { method: 'counter.get', params: { name: 'b' } }]);
      assert.deepEqual(batch.map((b) => (b.ok ? b.result : b.error.code)), [{ name: 'b', value: 1 }, 'REMON_ERR_OP_UNKNOWN', { name: 'b', value: 1 }]);
      const down = new RpcClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
      await assert.rejects(down.call('node.info'), { code: 'REMON_ERR_RPC_UNREACHABLE', message: /^cannot reach the node at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/ });
    } finally {
      session.close();
    }
  });

  it('the token never goes in a URL: it is the Authorization header of POST /rpc and of the upgrade', async () => {
    const seen: Array<{ url: string; auth?: string; upgrade: boolean }> = [];
    const server = http.createServer((req, res) => {
      seen.push({ url: req.url!, auth: req.headers.authorization, upgrade: false });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":1,"result":42}');
    });
    server.on('upgrade', (req, socket) => {
      seen.push({ url: req.url!, auth: req.headers.authorization, upgrade: true });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const client = new RpcClient({ url, token: 'tok3n' });
    assert.equal(await client.call('node.info'), 42);
    const s = client.session({ backoff: { minMs: 10, maxMs: 20 } });
    await waitFor(() => seen.some((x) => x.upgrade), 5000, 'an upgrade');
    await assert.rejects(s.opened(200), { code: 'REMON_ERR_RPC_UNREACHABLE', message: /HTTP 503/ });
    s.close();
    server.close();
    assert.deepEqual(seen.slice(0, 2).map((x) => [x.url, x.auth, x.upgrade]), [['/rpc', 'Bearer tok3n', false], ['/rpc', 'Bearer tok3n', true]]);
  });

  it('a session reconnects after the node restarts and its subscriptions deliver again; a call while it is away fails as unreachable after its timeout', async () => {
    n = await startPagesNode({ token: 's3cret', plugins: [rpcPlugin()] });
    const port = Number(new URL(n.url).port);
    const states: string[] = [];
    const session = new RpcSession({ url: n.url, token: 's3cret', timeoutMs: 1500, backoff: { minMs: 20, maxMs: 200 }, onState: (s) => states.push(s) });
    const events: unknown[] = [];
    try {
      await session.opened();
      await session.subscribe({ topic: 'blocks', names: ['alpha'] }, (ev) => events.push(...ev));
      await session.call('blocks.run', { name: 'alpha' });
      await waitFor(() => events.length >= 1 || undefined, 5000, 'a blocks event');
      await n.stop();
      await waitFor(() => session.state === 'connecting' || undefined, 5000, 'the session to see the node gone');
      await assert.rejects(session.call('node.info'), { code: 'REMON_ERR_RPC_UNREACHABLE', message: `node.info: no answer from ${n.url} within 1.5s` });
      // The same port again: a new node.
      n = await startPagesNode({ token: 's3cret', plugins: [rpcPlugin()], port });
      await session.opened(5000);
      const before = events.length;
      await waitFor(async () => {
        await session.call('blocks.run', { name: 'alpha' });
        return events.length > before || undefined;
      }, 5000, 'a blocks event after the reconnect');
      assert.deepEqual(states.filter((s, i) => s !== states[i - 1]).slice(0, 3), ['open', 'connecting', 'open']);
    } finally {
      session.close();
    }
  });

  it('a session is bounded: calls past maxQueued are refused, not held', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const session = new RpcSession({ url, maxQueued: 2, timeoutMs: 1000, backoff: { minMs: 50, maxMs: 100 } });
    const a = session.call('node.info');
    const b = session.call('node.info');
    await assert.rejects(session.call('node.info'), { code: 'REMON_ERR_RPC_LIMIT', message: `node.info: 2 calls are waiting on the session to ${url}, the most it holds` });
    await assert.rejects(a, { code: 'REMON_ERR_RPC_UNREACHABLE', message: `node.info: no answer from ${url} within 1s` });
    await assert.rejects(b, { code: 'REMON_ERR_RPC_UNREACHABLE' });
    session.close();
  });
});
