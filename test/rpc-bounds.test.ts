import { strict as assert } from 'node:assert';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Engine } from '../src/engine/engine';
import { defineOp, noParams } from '../src/ops/operation';
import { rpcPlugin } from '../src/rpc/plugin';
import { waitFor } from './helpers';
import { post, req, RpcClient, rpcNode } from './rpc-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Hostile WebSocket clients: garbage, oversized messages, too many subscriptions, names,
 * calls or connections, and a client that stops reading. Each gets a clear error or is cut
 * off; the node keeps serving the others, and what it holds for a client stays bounded.
 */
describe('rpc: bounds for hostile clients', function () {
  this.timeout(30_000);
  let e: Engine;
  const plugin = rpcPlugin({ maxConnections: 4, limits: { subscriptions: 3, inFlight: 2, maxEvents: 200, slowBytes: 64 * 1024 } });
  const open: RpcClient[] = [];
  const client = async (): Promise<RpcClient> => {
    const c = await RpcClient.open(e.url!);
    open.push(c);
    return c;
  };
  before(async () => { e = await rpcNode({ plugin }); });
  after(async () => { await e?.stop(); });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await waitFor(() => plugin.installed[0].sockets.connections.size === 0, 2000, 'connections closed');
  });

  const garbage: Array<[string, string | Buffer, number, string | RegExp]> = [
    ['text that is not JSON', '{"jsonrpc":', -32700, /^parse error: /],
    ['a binary message', Buffer.from([1, 2, 3]), -32700, 'parse error: binary messages are not JSON-RPC; send text'],
    ['null', 'null', -32600, 'invalid request: expected an object {"jsonrpc": "2.0", "method", "params", "id"}, got null'],
    ['no jsonrpc member', '{"id":1,"method":"node.info"}', -32600, 'invalid request: "jsonrpc" must be "2.0"'],
    ['a method that is a number', '{"jsonrpc":"2.0","id":1,"method":1}', -32600, 'invalid request: "method" must be a non-empty string'],
    ['an id that is an object', '{"jsonrpc":"2.0","id":{},"method":"node.info"}', -32600, 'invalid request: "id" must be a string, a number or null'],
    ['an unknown method', '{"jsonrpc":"2.0","id":1,"method":"x.y"}', -32601, 'no operation is named "x.y"'],
    ['params that fail the schema', '{"jsonrpc":"2.0","id":1,"method":"counter.get","params":{"name":5}}', -32602, /^name: /],
    ['a batch of 101', JSON.stringify(Array.from({ length: 101 }, (_x, i) => req(i, 'node.info'))), -32600, 'invalid request: a batch holds at most 100 calls; this one has 101'],
    ['an empty batch', '[]', -32600, 'invalid request: an empty batch'],
    ['JSON nested 100,000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, -32600, /^invalid request: /],
    ['a prototype key in params', '{"jsonrpc":"2.0","id":1,"method":"counter.get","params":{"__proto__":{"name":"x"}}}', -32602, /^params: /],
  ];
  for (const [what, message, code, error] of garbage) {
    it(`${what}: error ${code}, and the connection keeps working`, async () => {
      const c = await client();
      c.ws.send(message);
      const a = await c.next((m) => (Array.isArray(m) ? m[0] : m)?.error);
      const one = Array.isArray(a) ? a[0] : a;
      assert.equal(one.error.code, code, JSON.stringify(one));
      if (typeof error === 'string') assert.equal(one.error.message, error);
      else assert.match(one.error.message, error);
      assert.ok((await c.call('node.info')).result, 'the connection still answers');
    });
  }

  it('an operation that throws an uncoded error or answers what is not JSON: -32603 "internal error", and the node goes on', async () => {
    e.ops.add(
      defineOp({ name: 'test.bigint', summary: 'answers a BigInt', params: noParams, write: false, handler: () => ({ n: 1n }) }),
      defineOp({ name: 'test.throws', summary: 'throws', params: noParams, write: false, handler: () => { throw new TypeError('x is undefined'); } }),
    );
    const c = await client();
    for (const method of ['test.bigint', 'test.throws']) {
      c.ws.send(JSON.stringify(req(9, method)));
      const got = await c.next((m) => m.error);
      assert.deepEqual(got.error, { code: -32603, message: 'internal error' }, method);
      const viaPost = await post(e.url!, req(9, method));
      assert.equal(viaPost.json.error.code, -32603, method);
      assert.equal(viaPost.json.error.message, 'internal error', method);
    }
    assert.ok((await c.call('node.info')).result);
  });

  it('a message over 256 kB closes that connection (1009); other clients are served', async () => {
    const big = await client();
    const other = await client();
    big.ws.send(JSON.stringify(req(1, 'state.set', { bucket: 'b', key: 'k', value: 'x'.repeat(300 * 1024) })));
    await waitFor(() => big.closed, 2000, 'the close');
    assert.equal(big.closed!.code, 1009);
    assert.ok((await other.call('node.info')).result);
  });

  it('more subscriptions than the bound: error -32029 naming it; unsubscribing makes room', async () => {
    const c = await client();
    const subs = [];
    for (let i = 0; i < 3; i++) subs.push((await c.result('live.subscribe', { topic: 'events' })).subscription);
    const a = await c.call('live.subscribe', { topic: 'events' });
    assert.deepEqual(a.error, {
      code: -32029,
      message: 'this connection has 3 subscriptions, the most it may hold; unsubscribe from one first',
      data: { code: 'REMON_ERR_RPC_LIMIT' },
    });
    await c.result('live.unsubscribe', { subscription: subs[0] });
    assert.ok((await c.result('live.subscribe', { topic: 'events' })).subscription);
  });

  it('more than 5,000 names on one connection: refused, in one subscription or over several', async () => {
    const c = await client();
    const names = (n: number, p: string) => Array.from({ length: n }, (_x, i) => `${p}${i}.v`);
    assert.equal((await c.call('live.subscribe', { topic: 'series', names: names(5001, 'a') })).error.message, 'live.subscribe: names has 5001 names; at most 5000');
    assert.ok((await c.result('live.subscribe', { topic: 'series', names: names(4000, 'a') })).subscription);
    const over = await c.call('live.subscribe', { topic: 'blocks', names: names(1001, 'b').map((n) => n.replace('.v', '')) });
    assert.equal(over.error.message, 'this connection would subscribe to 5001 names; at most 5000 over all its subscriptions');
    assert.ok((await c.result('live.subscribe', { topic: 'blocks', names: ['b1'] })).subscription);
  });

  it('more calls in flight than the bound: the extra one is answered -32029 at once', async () => {
    await post(e.url!, req(1, 'lock.acquire', { name: 'L', ttl_ms: 60_000 }));
    const c = await client();
    const waits = [c.call('lock.acquire', { name: 'L', ttl_ms: 1000, wait_ms: 400 }), c.call('lock.acquire', { name: 'L', ttl_ms: 1000, wait_ms: 400 })];
    const third = await c.call('node.info');
    assert.deepEqual(third.error, { code: -32029, message: 'too many calls in flight on this connection (at most 2 messages at once); wait for answers', data: { code: 'REMON_ERR_RPC_LIMIT' } });
    for (const w of await Promise.all(waits)) assert.equal(w.error.code, -32009);
    assert.ok((await c.call('node.info')).result, 'answered again once the others finished');
  });

  it('more connections than the bound: the upgrade is answered 503', async () => {
    for (let i = 0; i < 4; i++) await client();
    await assert.rejects(RpcClient.open(e.url!), /upgrade refused: HTTP 503/);
  });

  it('a client that stops reading: the node holds a bounded amount, drops the oldest, and tells it {dropped: n} once it reads', async () => {
    const c = await client();
    const reader = await client();
    const { subscription } = await c.result('live.subscribe', { topic: 'events' });
    const control = (await reader.result('live.subscribe', { topic: 'events' })).subscription;
    const socket = (c.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    const conn = [...plugin.installed[0].sockets.connections][0];
    const text = 'x'.repeat(1000);
    let published = 0;
    let maxHeld = 0;
    let maxBuffered = 0;
    // 200 rounds of 150 events (fewer than the 200 an outbox holds), a flush apart: about
    // 33 MB of notifications for a client that reads none, and for one that reads them all.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 150; i++) e.bus.publish({ samples: [], event: { kind: 'load.test', subject: String(published++), at: round, message: text } });
      maxHeld = Math.max(maxHeld, conn.stats.held);
      maxBuffered = Math.max(maxBuffered, conn.stats.buffered);
      await sleep(22);
    }
    assert.ok(conn.stats.dropped > 0, 'events were dropped');
    assert.ok(maxHeld <= 200, `held at most maxEvents: ${maxHeld}`);
    // Unsent bytes stay under slowBytes plus one flush (200 events of ~1.1 kB).
    assert.ok(maxBuffered > 64 * 1024, `the client's buffers filled: ${maxBuffered} bytes unsent at most`);
    assert.ok(maxBuffered <= 64 * 1024 + 200 * 1200, `buffered ${maxBuffered} bytes`);
    await waitFor(() => reader.events(control).length === published, 10_000, 'every event at the client that reads');
    assert.ok(reader.events(control).every((ev) => (ev as { dropped?: number }).dropped === undefined), 'the reading client lost none');
    socket.resume();
    const last = String(published - 1);
    await waitFor(() => c.events(subscription).some((ev) => (ev as { subject?: string }).subject === last), 10_000, 'the newest event');
    const got = c.events(subscription) as Array<{ subject?: string; dropped?: number }>;
    const dropped = got.filter((ev) => ev.dropped !== undefined).reduce((n, ev) => n + ev.dropped!, 0);
    const delivered = got.filter((ev) => ev.subject !== undefined);
    assert.equal(delivered.length + dropped, published, 'every event was either delivered or counted as dropped');
    assert.equal(dropped, conn.stats.dropped);
    assert.ok(delivered.length < published / 2, `most were dropped: ${delivered.length} of ${published} delivered`);
    // Kept events are in order, newest last.
    const order = delivered.map((ev) => Number(ev.subject));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
    assert.ok((await c.call('node.info')).result, 'the connection still answers');
  });
});

describe('rpc: clients that do not answer pings', function () {
  this.timeout(20_000);
  let e: Engine;
  before(async () => { e = await rpcNode({ rpc: { pingMs: 100 } }); });
  after(async () => { await e?.stop(); });

  it('are cut off after a missed ping; clients that answer stay', async () => {
    const mute = new WebSocket(`${e.url!.replace(/^http/, 'ws')}/rpc`, { autoPong: false });
    await new Promise((resolve) => mute.once('open', resolve));
    const live = await RpcClient.open(e.url!);
    const closed = await new Promise<number>((resolve) => mute.once('close', (code) => resolve(code)));
    assert.equal(closed, 1006, 'cut off, without a close handshake');
    assert.ok((await live.call('node.info')).result, 'the client that answers pings is still served');
    assert.equal(live.closed, undefined);
    live.close();
  });
});
