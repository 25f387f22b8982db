import { strict as assert } from 'node:assert';
import type { Engine } from '../src/engine/engine';
import { waitFor } from './helpers';
import { post, req, RpcClient, rpcNode } from './rpc-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rpc: the WebSocket /rpc and live subscriptions', function () {
  this.timeout(20_000);
  let e: Engine;
  let c: RpcClient;
  before(async () => { e = await rpcNode({ token: 'tk' }); });
  after(async () => { await e?.stop(); });
  beforeEach(async () => { c = await RpcClient.open(e.url!, { authorization: 'Bearer tk' }); });
  afterEach(() => c?.close());

  it('answers calls and batches as POST /rpc does', async () => {
    const a = await c.call('node.info');
    assert.equal(a.result.blocks, 1);
    c.ws.send(JSON.stringify([req('x', 'counter.incr', { name: 'w' }), req('y', 'no.such')]));
    const batch = await c.next((m) => Array.isArray(m));
    assert.deepEqual(batch[0], { jsonrpc: '2.0', id: 'x', result: { name: 'w', value: 1 } });
    assert.equal(batch[1].error.code, -32601);
  });

  it('series: the samples of the subscribed names, {name, t, value}, within moments of the run', async () => {
    const { subscription } = await c.result('live.subscribe', { topic: 'series', names: ['d.value', 'other.x'] });
    assert.match(subscription, /^\w+$/);
    const ran = await c.result('blocks.run', { name: 'd' });
    await waitFor(() => c.events(subscription).length >= 1, 2000, 'the sample of d.value');
    assert.deepEqual(c.events(subscription), [{ name: 'd.value', t: ran.startedAt, value: 7 }]);
    // Sent within moments of the sample's publication (the outbox flushes 20 ms after it).
    const arrived = c.live.get(subscription)![0].at;
    assert.ok(arrived - (ran.startedAt + ran.durationMs) < 250, `${arrived - (ran.startedAt + ran.durationMs)} ms after the run ended`);
    const note = c.messages.find((m) => (m as { method?: string }).method === 'live') as Record<string, unknown>;
    assert.deepEqual(Object.keys(note), ['jsonrpc', 'method', 'params']);
    assert.deepEqual(Object.keys(note.params as object), ['subscription', 'events']);
  });

  it('blocks: every result, {block, t, ok, message, fields, duration_ms}; a named subscription hears only its blocks', async () => {
    const all = (await c.result('live.subscribe', { topic: 'blocks' })).subscription;
    const other = (await c.result('live.subscribe', { topic: 'blocks', names: ['nope'] })).subscription;
    const ran = await c.result('blocks.run', { name: 'd' });
    await waitFor(() => c.events(all).length >= 1, 2000, 'the result of d');
    assert.deepEqual(c.events(all), [{ block: 'd', t: ran.startedAt, ok: true, message: '', fields: { value: 7 }, duration_ms: ran.durationMs }]);
    await sleep(60);
    assert.deepEqual(c.events(other), []);
  });

  it('events: node events, filtered by kind', async () => {
    const sla = (await c.result('live.subscribe', { topic: 'events', kinds: ['sla.state'] })).subscription;
    const every = (await c.result('live.subscribe', { topic: 'events' })).subscription;
    e.bus.publish({ samples: [], event: { kind: 'alert.state', subject: 'a', at: 1, message: 'alert 1 firing' } });
    e.bus.publish({ samples: [], event: { kind: 'sla.state', subject: 's', at: 2, message: 's firing', data: { to: 'firing' } } });
    await waitFor(() => c.events(every).length === 2 && c.events(sla).length === 1, 2000, 'both events');
    assert.deepEqual(c.events(sla), [{ kind: 'sla.state', subject: 's', at: 2, message: 's firing', data: { to: 'firing' } }]);
    assert.deepEqual(c.events(every).map((x) => (x as { kind: string }).kind), ['alert.state', 'sla.state']);
  });

  it('events of one tick go out together: one notification per subscription', async () => {
    const sub = (await c.result('live.subscribe', { topic: 'events' })).subscription;
    for (let i = 0; i < 50; i++) e.bus.publish({ samples: [], event: { kind: 'x.y', subject: String(i), at: i, message: '' } });
    await waitFor(() => c.events(sub).length === 50, 2000, '50 events');
    const notes = c.messages.filter((m) => (m as { method?: string }).method === 'live');
    assert.equal(notes.length, 1);
  });

  it('state: changes of a bucket (or one key), deletes marked deleted', async () => {
    const bucket = (await c.result('live.subscribe', { topic: 'state', bucket: 'ui' })).subscription;
    const key = (await c.result('live.subscribe', { topic: 'state', bucket: 'ui', key: 'b' })).subscription;
    await post(e.url!, [req(1, 'state.set', { bucket: 'ui', key: 'a', value: 1 }), req(2, 'state.set', { bucket: 'ui', key: 'b', value: { x: 'y' } }),
      req(3, 'state.delete', { bucket: 'ui', key: 'a' }), req(4, 'state.set', { bucket: 'other', key: 'a', value: 0 })], { authorization: 'Bearer tk' });
    await waitFor(() => c.events(bucket).length === 3, 2000, 'three changes');
    assert.deepEqual(c.events(bucket), [
      { bucket: 'ui', key: 'a', value: 1 },
      { bucket: 'ui', key: 'b', value: { x: 'y' } },
      { bucket: 'ui', key: 'a', value: null, deleted: true },
    ]);
    assert.deepEqual(c.events(key), [{ bucket: 'ui', key: 'b', value: { x: 'y' } }]);
  });

  it('unsubscribe: no more events; an unknown id says unsubscribed false', async () => {
    const sub = (await c.result('live.subscribe', { topic: 'events' })).subscription;
    assert.deepEqual(await c.result('live.unsubscribe', { subscription: sub }), { subscription: sub, unsubscribed: true });
    assert.deepEqual(await c.result('live.unsubscribe', { subscription: sub }), { subscription: sub, unsubscribed: false });
    e.bus.publish({ samples: [], event: { kind: 'x.y', subject: 's', at: 1, message: '' } });
    await sleep(80);
    assert.deepEqual(c.events(sub), []);
  });

  it('a closed connection leaves no subscription behind', async () => {
    await c.result('live.subscribe', { topic: 'series', names: ['d.value'] });
    await c.result('live.subscribe', { topic: 'state', bucket: 'gone' });
    const metrics = async () => (await (await fetch(`${e.url}/metrics`)).text()).split('\n').filter((l) => /^remon_(rpc_connections|live_subscriptions)/.test(l));
    assert.deepEqual(await metrics(), [
      'remon_rpc_connections 1',
      'remon_live_subscriptions{topic="series"} 1', 'remon_live_subscriptions{topic="blocks"} 0',
      'remon_live_subscriptions{topic="events"} 0', 'remon_live_subscriptions{topic="state"} 1',
    ]);
    c.close();
    await waitFor(async () => (await metrics()).every((l) => l.endsWith(' 0')), 2000, 'no connection and no subscription');
  });

  const refused: Array<[string, unknown, number, string | RegExp]> = [
    ['an unknown topic', { topic: 'weather' }, -32602, 'live.subscribe: topic must be one of series, blocks, events, state; got "weather"'],
    ['series without names', { topic: 'series' }, -32602, 'live.subscribe: names must be a non-empty list of series names'],
    ['a bad series name', { topic: 'series', names: ['ok.name', 'bad name'] }, -32602, 'live.subscribe: names[1] is not a series name: "bad name"'],
    ['a key of another topic', { topic: 'blocks', bucket: 'x' }, -32602, 'live.subscribe: the blocks topic takes "names", not "bucket"'],
    ['state without a bucket', { topic: 'state' }, -32602, 'live.subscribe: bucket must be a bucket name (1-200 characters)'],
    ['unsubscribe without an id', null, -32602, 'live.unsubscribe: subscription must be the id live.subscribe answered'],
  ];
  for (const [what, params, code, message] of refused) {
    it(`${what}: error ${code}`, async () => {
      const a = params === null ? await c.call('live.unsubscribe', {}) : await c.call('live.subscribe', params);
      assert.equal(a.error.code, code);
      if (typeof message === 'string') assert.equal(a.error.message, message);
      else assert.match(a.error.message, message);
    });
  }
});

describe('rpc: the WebSocket takes the rights of its upgrade request', function () {
  this.timeout(20_000);
  let e: Engine;
  before(async () => { e = await rpcNode({ token: 'tk' }); });
  after(async () => { await e?.stop(); });

  it('no token: reads and subscriptions work, writes answer -32001; the session cookie authorizes', async () => {
    const anon = await RpcClient.open(e.url!);
    assert.ok((await anon.call('node.info')).result);
    assert.ok((await anon.call('live.subscribe', { topic: 'events' })).result.subscription);
    assert.equal((await anon.call('counter.incr', { name: 'x' })).error.code, -32001);
    anon.close();
    const login = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"tk"}' });
    const browser = await RpcClient.open(e.url!, { cookie: login.headers.get('set-cookie')!.split(';')[0] });
    assert.deepEqual((await browser.call('counter.incr', { name: 'x' })).result, { name: 'x', value: 1 });
    browser.close();
  });

  it('another origin is refused at the upgrade (403)', async () => {
    await assert.rejects(RpcClient.open(e.url!, { origin: 'http://evil.example' }), /upgrade refused: HTTP 403/);
  });
});
