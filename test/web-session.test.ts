import { strict as assert } from 'node:assert';
import * as net from 'node:net';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { freePort, tmpDir } from './helpers';
import { probeBlock, resetProbeLog } from './probe-block';

async function node(token?: string): Promise<Engine> {
  const port = await freePort();
  const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}"${token ? `, token: ${token}` : ''} }\nstorage: { kind: memory }\nblocks:\n  - { name: d, type: probe, mode: on-demand }\n`;
  const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger() });
  await e.start();
  return e;
}

const json = { 'content-type': 'application/json' };

describe('web: the browser session (token asked once, kept in a cookie)', function () {
  this.timeout(20_000);
  let e: Engine;
  beforeEach(resetProbeLog);
  afterEach(async () => { await e?.stop(); });

  it('a wrong token is refused; the right one sets an HttpOnly, SameSite=Strict cookie that authorizes writes', async () => {
    e = await node('s3cret');
    const run = (cookie?: string) => fetch(`${e.url}/api/blocks/d/run`, { method: 'POST', headers: cookie ? { cookie } : {} });
    assert.equal((await run()).status, 401);
    const wrong = await fetch(`${e.url}/api/login`, { method: 'POST', headers: json, body: JSON.stringify({ token: 'guess' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);
    const bad = await fetch(`${e.url}/api/login`, { method: 'POST', headers: json, body: '{"token": 5}' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json() as { error: string }).error, /expected a JSON body \{"token"/);

    const ok = await fetch(`${e.url}/api/login`, { method: 'POST', headers: json, body: JSON.stringify({ token: 's3cret' }) });
    assert.equal(ok.status, 200);
    const setCookie = ok.headers.get('set-cookie')!;
    assert.match(setCookie, /^remon_session=[A-Za-z0-9_-]{20,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.ok(!setCookie.includes('s3cret'), 'the cookie does not hold the token itself');
    const cookie = setCookie.split(';')[0];
    assert.equal((await run(cookie)).status, 200);
    assert.deepEqual(await (await fetch(`${e.url}/api/session`, { headers: { cookie } })).json(), { token_required: true, authorized: true });
    assert.deepEqual(await (await fetch(`${e.url}/api/session`)).json(), { token_required: true, authorized: false });
    assert.equal((await run('remon_session=forged-value-forged-value')).status, 401);

    const out = await fetch(`${e.url}/api/logout`, { method: 'POST', headers: { cookie } });
    assert.match(out.headers.get('set-cookie')!, /^remon_session=; .*Max-Age=0$/);
  });

  it('without a token every browser may write, and login says so', async () => {
    e = await node();
    const r = await fetch(`${e.url}/api/login`, { method: 'POST', headers: json, body: JSON.stringify({ token: 'x' }) });
    assert.deepEqual(await r.json(), { token_required: false, authorized: true });
  });

  it('an upgrade no route takes is answered 404 and closed; one from another origin 403', async () => {
    e = await node();
    const port = Number(new URL(e.url!).port);
    const ask = (origin?: string) => new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${origin ? `Origin: ${origin}\r\n` : ''}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      });
      let got = '';
      s.on('data', (c) => (got += c));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(await ask(), /^HTTP\/1\.1 404 Not Found[\s\S]*no upgrade for \/nowhere$/);
    assert.match(await ask('http://evil.example'), /^HTTP\/1\.1 403 Forbidden[\s\S]*another origin$/);
  });
});
