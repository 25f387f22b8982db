import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { silentLogger } from '../src/log';
import { freePort, tmpDir } from './helpers';
import { probeBlock, probeLog, resetProbeLog } from './probe-block';

/** raw sends one request with exactly the headers given (fetch would add and refuse some). */
function raw(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json: unknown = text;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode!, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('web guard: other origins, Host names, JSON writes', () => {
  let e: Engine;
  let port: number;

  before(async () => {
    port = await freePort();
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\nblocks:\n` +
      '  - { name: d, type: probe, mode: on-demand, value: 4 }\n  - { name: job, type: heartbeat, period: 1h }\n';
    e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger() });
    await e.start();
  });
  after(() => e.stop());
  beforeEach(resetProbeLog);

  const self = (): string => `127.0.0.1:${port}`;
  // [what, method, path, headers, body, status, error]
  const cases: Array<[string, string, string, () => Record<string, string>, string | undefined, number, RegExp]> = [
    ['a text/plain form post from another page (no token set)', 'POST', '/api/blocks/d/run',
      () => ({ 'content-type': 'text/plain', origin: 'http://127.0.0.1:9999', 'sec-fetch-site': 'same-site' }), 'x', 403, /another origin/],
    ['a text/plain post without Origin (an old browser)', 'POST', '/api/blocks/d/run', () => ({ 'content-type': 'text/plain' }), 'x', 415, /JSON body/],
    ['an urlencoded form post', 'POST', '/api/blocks/d/run', () => ({ 'content-type': 'application/x-www-form-urlencoded' }), 'a=1', 415, /JSON body/],
    ['a multipart form post', 'POST', '/api/blocks/d/run', () => ({ 'content-type': 'multipart/form-data; boundary=x' }), '--x--', 415, /JSON body/],
    ['a no-cors post without a body from another origin', 'POST', '/api/blocks/d/run', () => ({ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }), undefined, 403, /another origin/],
    ['a post from a sandboxed frame (Origin: null)', 'POST', '/api/blocks/d/run', () => ({ origin: 'null', 'content-type': 'application/json' }), '{}', 403, /another origin/],
    ['a JSON post from another port of the same host', 'POST', '/api/blocks/d/run',
      () => ({ origin: 'http://127.0.0.1:8000', 'content-type': 'application/json', 'sec-fetch-site': 'same-site' }), '{}', 403, /another origin/],
    ['a cross-site read with fetch', 'GET', '/api/blocks', () => ({ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'cors' }), undefined, 403, /another origin/],
    ['an <img> of a heartbeat URL on another page', 'GET', '/hb/job', () => ({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' }), undefined, 403, /another origin/],
    ['a link to a heartbeat URL followed from another site', 'GET', '/hb/job', () => ({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' }), undefined, 403, /another origin/],
    ['a DNS-rebinding name', 'GET', '/api/blocks', () => ({ host: `evil.example:${port}` }), undefined, 403, /loopback names only/],
    ['a rebinding name on a write', 'POST', '/api/blocks/d/run', () => ({ host: 'attacker.test', 'content-type': 'application/json' }), '{}', 403, /loopback names only/],
  ];
  for (const [what, method, path, headers, body, status, error] of cases) {
    it(`refuses ${what} with ${status}`, async () => {
      const res = await raw(port, method, path, headers(), body);
      assert.equal(res.status, status, JSON.stringify(res.json));
      assert.match(res.json.error, error);
      assert.equal(probeLog.runs.d, undefined, 'the block did not run');
    });
  }

  const allowed: Array<[string, string, string, () => Record<string, string>, string | undefined]> = [
    ['curl with no Origin and no body', 'POST', '/api/blocks/d/run', () => ({})],
    ['a JSON post of the node\'s own page', 'POST', '/api/blocks/d/run', () => ({ origin: `http://${self()}`, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json; charset=utf-8' }), '{}'],
    ['localhost as the Host name', 'POST', '/api/blocks/d/run', () => ({ host: `localhost:${port}`, 'content-type': 'application/json' }), '{}'],
    ['a link to the API followed from another site (a navigation)', 'GET', '/api/blocks/d', () => ({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' })],
    ['a typed-in URL', 'GET', '/api/blocks/d', () => ({ 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' })],
  ].map(([a, b, c, d, f]) => [a, b, c, d, f] as [string, string, string, () => Record<string, string>, string | undefined]);
  for (const [what, method, path, headers, body] of allowed) {
    it(`lets ${what} through`, async () => {
      const res = await raw(port, method, path, headers(), body);
      assert.equal(res.status, 200, JSON.stringify(res.json));
    });
  }

  it('a heartbeat signal from curl (no Origin) is taken', async () => {
    const res = await raw(port, 'POST', '/hb/job', { 'content-type': 'text/plain' }, 'done');
    assert.equal(res.status, 200);
    assert.equal(res.json.state, 'up');
  });
});

describe('web: what a hostile client found', () => {
  let e: Engine;
  let base: string;
  before(async () => {
    const port = await freePort();
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}", token: t0k }\nstorage: { kind: memory }\nblocks:\n` +
      '  - { name: good, type: probe, mode: on-demand, value: 9 }\n';
    e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger() });
    await e.start();
    await e.runNow('good');
    base = `http://127.0.0.1:${port}`;
  });
  after(() => e.stop());

  const bad: Array<[string, number, RegExp]> = [
    ['/api/series/good.value?from=-1&to=99999999999999999999', 400, /^from must be epoch milliseconds from 0 to 8640000000000000, got "-1"$/],
    ['/api/series/good.value?to=99999999999999999999', 400, /^to must be epoch milliseconds from 0 to 8640000000000000, got "99999999999999999999"$/],
    ['/api/series/good.value?from=1&from=2', 400, /^from is given 2 times; give it once$/],
    ['/api/series/good.value?step=NaN', 400, /^step must be milliseconds, more than 0 and at most 8640000000000000, got "NaN"$/],
    ['/api/series/good.value?from=1e3', 400, /^from must be epoch milliseconds from 0 to 8640000000000000, got "1e3"$/],
    ['/api/series/good.value?step=-5', 400, /^step must be milliseconds, more than 0/],
    [`/api/series/good.value?from=${'9'.repeat(60)}`, 400, /^from must be epoch milliseconds from 0 to 8640000000000000, got "9+\.\.\.$/],
    ['/api/series/good.value?points=0', 400, /^points must be a whole number from 1 to 10000, got "0"$/],
    ['/api/series/%E0%A4%A', 400, /./],
    ['/api/blocks/a%00b', 400, /^name: expected a block name/],
  ];
  for (const [url, status, error] of bad) {
    it(`answers ${url.slice(0, 70)} with ${status} and a reason`, async () => {
      const res = await fetch(`${base}${url}`);
      assert.equal(res.status, status);
      assert.match(((await res.json()) as { error: string }).error, error);
    });
  }

  it('bounds the answer to a huge range: at most 10,001 points, in a bounded size', async () => {
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 5; i++) {
      for (const step of ['', '&step=1']) {
        const res = await fetch(`${base}/api/series/good.value?from=0&to=40000000000000${step}`);
        assert.equal(res.status, 200);
        const text = await res.text();
        const data = JSON.parse(text) as { step: number; points: Array<[number, number | null]> };
        assert.ok(data.points.length <= 10_001, `${data.points.length} points`);
        assert.ok(text.length < 1_000_000, `${text.length} bytes`);
        assert.deepEqual(data.points.filter((p) => p[1] !== null).map((p) => p[1]), [9]);
        // Raw samples (there is one) without a step; a step of 1 ms is made 47 days.
        assert.equal(data.step, step ? 47 * 86_400_000 : 0);
      }
    }
    assert.ok(process.memoryUsage().rss - before < 100 * 2 ** 20, 'the node did not grow by 100 MB');
  });

  it('writes take JSON objects only; a bad body is a 400 with a reason, an oversize one 413', async () => {
    const auth = { authorization: 'Bearer t0k', 'content-type': 'application/json' };
    let res = await fetch(`${base}/api/heartbeats/x`, { method: 'POST', headers: auth, body: '{"period": ' });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: string }).error, /^the body is not valid JSON: /);
    res = await fetch(`${base}/api/heartbeats/x`, { method: 'POST', headers: auth, body: '[1,2]' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'expected a JSON object as the body');
    res = await fetch(`${base}/api/heartbeats/x`, { method: 'POST', headers: auth, body: JSON.stringify({ description: 'x'.repeat(70_000) }) });
    assert.equal(res.status, 413);
    res = await fetch(`${base}/api/reload`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
  });
});
