import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { post, req, rpcNode } from './rpc-client';
import { resetProbeLog } from './probe-block';

describe('rpc: JSON-RPC 2.0 over POST /rpc', function () {
  this.timeout(20_000);
  let e: Engine;
  before(async () => { resetProbeLog(); e = await rpcNode(); });
  after(async () => { await e?.stop(); });

  it('a single call answers {jsonrpc, id, result}', async () => {
    const r = await post(e.url!, req(1, 'node.info'));
    assert.equal(r.status, 200);
    assert.equal(r.json.jsonrpc, '2.0');
    assert.equal(r.json.id, 1);
    assert.equal(r.json.result.blocks, 1);
    assert.equal(r.json.result.store, 'memory');
  });

  it('a batch answers in order, skips notifications, and answers a bad element without stopping the others', async () => {
    const r = await post(e.url!, [
      req('a', 'blocks.list'),
      { jsonrpc: '2.0', method: 'counter.incr', params: { name: 'notified' } },
      req('b', 'no.such'),
      { jsonrpc: '1.0', id: 'c', method: 'node.info' },
      5,
      req('d', 'counter.get', { name: 'notified' }),
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.map((a: { id: unknown }) => a.id), ['a', 'b', 'c', null, 'd']);
    assert.equal(r.json[0].result[0].name, 'd');
    assert.deepEqual(r.json[1].error, { code: -32601, message: 'no operation is named "no.such"', data: { code: 'REMON_ERR_OP_UNKNOWN' } });
    assert.deepEqual(r.json[2].error, { code: -32600, message: 'invalid request: "jsonrpc" must be "2.0"', data: { code: 'REMON_ERR_RPC_INVALID' } });
    assert.equal(r.json[3].error.message, 'invalid request: expected an object {"jsonrpc": "2.0", "method", "params", "id"}, got number');
    // The notification ran before the call after it.
    assert.deepEqual(r.json[4].result, { name: 'notified', value: 1 });
  });

  it('a message of notifications only is answered 204, and they run', async () => {
    const r = await post(e.url!, [{ jsonrpc: '2.0', method: 'counter.incr', params: { name: 'quiet', by: 5 } }]);
    assert.equal(r.status, 204);
    assert.equal(r.json, undefined);
    assert.equal((await post(e.url!, req(1, 'counter.get', { name: 'quiet' }))).json.result.value, 5);
  });

  const refused: Array<[string, unknown, number, number, RegExp]> = [
    ['not JSON', '{"jsonrpc": "2.0", "method"', 400, -32700, /^parse error: /],
    ['an empty batch', [], 400, -32600, /^invalid request: an empty batch$/],
    ['a batch of 101', Array.from({ length: 101 }, (_x, i) => req(i, 'node.info')), 400, -32600, /^invalid request: a batch holds at most 100 calls; this one has 101$/],
    ['a body over 256 kB', req(1, 'state.set', { bucket: 'b', key: 'k', value: 'x'.repeat(300 * 1024) }), 413, -32600, /^invalid request: the body is larger than 256 kB$/],
  ];
  for (const [what, body, status, code, message] of refused) {
    it(`${what}: HTTP ${status}, error ${code}, id null`, async () => {
      const r = await post(e.url!, body);
      assert.equal(r.status, status);
      assert.equal(r.json.id, null);
      assert.equal(r.json.error.code, code);
      assert.match(r.json.error.message, message);
    });
  }

  const callErrors: Array<[string, unknown, number, string, string | RegExp]> = [
    ['an unknown method', req(1, 'nope.nope'), -32601, 'REMON_ERR_OP_UNKNOWN', 'no operation is named "nope.nope"'],
    ['params that fail the schema', req(1, 'blocks.get', { name: 'bad name!' }), -32602, 'REMON_ERR_OP_PARAMS', /^name: /],
    ['an unknown key', req(1, 'node.info', { extra: 1 }), -32602, 'REMON_ERR_OP_PARAMS', /extra/],
    ['params by position', req(1, 'blocks.get', ['d']), -32602, 'REMON_ERR_OP_PARAMS', 'blocks.get takes params by name (an object), not a list'],
    ['params that are a string', req(1, 'blocks.get', 'd'), -32600, 'REMON_ERR_RPC_INVALID', 'invalid request: "params" must be an object (params by name)'],
    ['an unknown block', req(1, 'blocks.get', { name: 'zz' }), -32004, 'REMON_ERR_BLOCK_UNKNOWN', 'no block is named "zz"'],
    ['a subscription over POST', req(1, 'live.subscribe', { topic: 'series', names: ['d.value'] }), -32005, 'REMON_ERR_RPC_TRANSPORT',
      'live.subscribe works over the WebSocket /rpc only: subscriptions need a connection to send their events on'],
  ];
  for (const [what, body, code, remonCode, message] of callErrors) {
    it(`${what}: HTTP 200, error ${code} with data.code ${remonCode}`, async () => {
      const r = await post(e.url!, body);
      assert.equal(r.status, 200);
      assert.equal(r.json.id, 1);
      assert.equal(r.json.error.code, code);
      assert.equal(r.json.error.data.code, remonCode);
      if (typeof message === 'string') assert.equal(r.json.error.message, message);
      else assert.match(r.json.error.message, message);
    });
  }

  it('GET /rpc is 405 with Allow: POST', async () => {
    const res = await fetch(`${e.url}/rpc`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32600);
  });

  it('a body that is not JSON is refused by the Guard (415) before RPC sees it', async () => {
    const res = await fetch(`${e.url}/rpc`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(res.status, 415);
  });
});

describe('rpc: docs/http.md names every method', () => {
  it('each operation is in the Routes table or the RPC methods table, and each method there exists', async () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'http.md'), 'utf8');
    const section = (heading: string) => doc.split(/^#{2,3} /m).find((s) => s.startsWith(`${heading}\n`))!;
    const spans = (text: string, col: number) => text.split('\n').filter((l) => l.startsWith('| `'))
      .flatMap((l) => [...(l.replace(/\\\|/g, '/').split('|')[col] ?? '').matchAll(/`([a-z]+\.[a-zA-Z]+)`/g)].map((m) => m[1]));
    const methods = spans(section('Methods'), 1);
    const named = new Set([...spans(section('Routes'), 2), ...methods]);
    const e = await rpcNode({ plugins: registry.plugins });
    try {
      const ops = e.ops.list().map((o) => o.name);
      assert.deepEqual(ops.filter((n) => !named.has(n)), [], 'operations the docs do not name');
      assert.deepEqual(methods.filter((m) => !ops.includes(m)), [], 'methods the docs name that do not exist');
      assert.ok(methods.length >= 19);
    } finally {
      await e.stop();
    }
  });
});

describe('rpc: writes need the token', function () {
  this.timeout(20_000);
  let e: Engine;
  before(async () => { e = await rpcNode({ token: 's3cret' }); });
  after(async () => { await e?.stop(); });

  it('a write without the token: 401 with WWW-Authenticate and error -32001; reads need none', async () => {
    const r = await post(e.url!, req(7, 'counter.incr', { name: 'c' }));
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(r.json, {
      jsonrpc: '2.0', id: 7,
      error: { code: -32001, message: 'missing or wrong bearer token (Authorization: Bearer <node.token>)', data: { code: 'REMON_ERR_OP_UNAUTHORIZED' } },
    });
    assert.equal((await post(e.url!, req(1, 'counter.get', { name: 'c' }))).status, 200);
  });

  it('in a batch the refused write is its own error; the answer is 200', async () => {
    const r = await post(e.url!, [req(1, 'counter.incr', { name: 'c' }), req(2, 'counter.get', { name: 'c' })]);
    assert.equal(r.status, 200);
    assert.equal(r.json[0].error.code, -32001);
    assert.deepEqual(r.json[1].result, { name: 'c', value: 0 });
  });

  it('the bearer token and the browser session cookie both authorize', async () => {
    assert.deepEqual((await post(e.url!, req(1, 'counter.incr', { name: 'c' }), { authorization: 'Bearer s3cret' })).json.result, { name: 'c', value: 1 });
    const login = await fetch(`${e.url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"s3cret"}' });
    const cookie = login.headers.get('set-cookie')!.split(';')[0];
    assert.deepEqual((await post(e.url!, req(1, 'counter.incr', { name: 'c' }), { cookie })).json.result, { name: 'c', value: 2 });
    assert.equal((await post(e.url!, req(1, 'counter.incr', { name: 'c' }), { authorization: 'Bearer wrong' })).status, 401);
  });
});
