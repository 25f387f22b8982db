import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { RunOutput } from '../../src/engine/block';
import { silentLogger } from '../../src/log';
import { registry } from '../../src/registry';
import { createMemoryShared } from '../../src/shared/memory';
import { tmpDir, writeConfig } from '../../test/helpers';
import { CertFiles, closedPort, hasOpenssl, makeCerts, startHttpServer, startSilentServer, TestServer } from '../../test/http-servers';
import { requirePeer } from '../../test/peers';
import { loadConfig } from '../../src/config/load';
import { Engine } from '../../src/engine/engine';
import { httpBlock, HttpOptions } from './index';

type Opts = Omit<HttpOptions, 'name'>;

const DAY = 86_400_000;
let dir: string;

/** assertDeclared: a run gave only fields the type declares (httpBlock.fields, which remon check uses). */
function assertDeclared(fields: Record<string, number>): void {
  const declared = httpBlock.fields!({ name: 'h', url: 'http://x/' })!;
  for (const f of Object.keys(fields)) assert.ok(declared.includes(f), `${f} is not in ${declared.join(', ')}`);
}

async function run(options: Opts, signal?: AbortSignal): Promise<RunOutput & { fields: Record<string, number> }> {
  assert.deepEqual(httpBlock.check!({ name: 'h', ...options }), [], 'the test config must be valid');
  const log = silentLogger();
  const block = httpBlock.create({ name: 'h', ...options }, { name: 'h', configDir: dir, dataDir: dir, log, emit: () => undefined });
  const out = await block.run({ signal: signal ?? new AbortController().signal, log, shared: createMemoryShared() });
  await block.close?.();
  return { ...out, fields: out.fields ?? {} };
}

/** api answers the routes the tests use. */
function api(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
  const u = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void => {
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  const json = (v: unknown, status = 200): void => send(status, JSON.stringify(v), { 'content-type': 'application/json' });
  const m = /^\/redirect\/(\d+)$/.exec(u.pathname);
  if (m) {
    const n = Number(m[1]);
    if (n === 0) return send(200, 'arrived');
    return send(Number(u.searchParams.get('code') ?? 302), '', { location: `/redirect/${n - 1}${u.search}` });
  }
  switch (u.pathname) {
    case '/':
      return send(200, 'Welcome to the test server');
    case '/echo':
      return json({ method: req.method, headers: req.headers, body, remotePort: req.socket.remotePort });
    case '/status':
      return send(Number(u.searchParams.get('code')), 'status page');
    case '/api':
      return json({ data: { status: 'degraded', 'dotted.key': 7, items: [1, 2, 3] }, count: 2, name: 'web-01', ok: true, none: null });
    case '/slow-headers':
      setTimeout(() => send(200, 'late'), Number(u.searchParams.get('ms')));
      return;
    case '/slow-body': {
      const chunks = Number(u.searchParams.get('chunks'));
      const gap = Number(u.searchParams.get('gap'));
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': chunks * 10 });
      let sent = 0;
      const tick = (): void => {
        if (res.destroyed) return;
        res.write('0123456789');
        if (++sent === chunks) res.end();
        else setTimeout(tick, gap);
      };
      tick();
      return;
    }
    case '/cut':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100 });
      res.write('0123456789', () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    case '/big':
      return send(200, `${'x'.repeat(5000)}needle`);
    case '/gzip':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync('compressed hello'));
      return;
    case '/to-other-origin':
      return send(302, '', { location: `${u.searchParams.get('to')}/echo` });
    default:
      return send(404, 'not found');
  }
}

describe('http block', () => {
  before(() => {
    dir = tmpDir('remon-http-');
  });

  it('sample.yaml is a valid blocks list', () => {
    const file = path.resolve(__dirname, '..', '..', '..', 'blocks', 'http', 'sample.yaml');
    const { config } = loadConfig(file, { ...registry, env: { API_TOKEN: 't', SEARCH_PASSWORD: 'p' } });
    assert.deepEqual(config.blocks.map((b) => b.name), ['homepage', 'api-health', 'search', 'intranet', 'staging']);
    assert.ok(config.blocks.every((b) => b.type === 'http'));
  });

  describe('against a local server', () => {
    let server: TestServer;
    before(async () => {
      server = await startHttpServer(api);
    });
    after(() => server.close());

    it('gives status, timings and size, and shows the response as output', async () => {
      const r = await run({ url: `${server.url}/` });
      assert.equal(r.ok, true, r.message);
      const f = r.fields;
      assert.deepEqual(Object.keys(f).sort(), ['connect_ms', 'dns_ms', 'redirects', 'size_bytes', 'status', 'total_ms', 'ttfb_ms']);
      assert.equal(f.status, 200);
      assert.equal(f.size_bytes, 'Welcome to the test server'.length);
      assert.equal(f.dns_ms, 0, 'an IP address needs no lookup');
      assert.equal(f.redirects, 0);
      for (const k of ['connect_ms', 'ttfb_ms', 'total_ms']) assert.ok(f[k] >= 0 && f[k] < 5000, `${k} = ${f[k]}`);
      assert.ok(f.connect_ms + f.ttfb_ms <= f.total_ms + 0.01, `phases ${f.connect_ms} + ${f.ttfb_ms} exceed total ${f.total_ms}`);
      assert.match(r.output!, /^HTTP\/1\.1 200 OK\ncontent-type: text\/plain\ncontent-length: 26\n[^]*\n\nWelcome to the test server$/);
      assertDeclared(f);
    });

    it('resolves a host name (dns_ms) and reports the phase timings', async () => {
      const r = await run({ url: `http://localhost:${server.port}/` });
      assert.equal(r.ok, true, r.message);
      assert.ok(r.fields.dns_ms >= 0 && r.fields.dns_ms < 5000, `dns_ms ${r.fields.dns_ms}`);
    });

    it('uses a new connection for every run (no keep-alive between runs)', async () => {
      const ports = new Set<number>();
      for (let i = 0; i < 3; i++) {
        const r = await run({ url: `${server.url}/echo`, expect: { json: { '$.remotePort': '> 0' } } });
        assert.equal(r.ok, true, r.message);
        const echoed = JSON.parse(r.output!.split('\n\n')[1]);
        assert.equal(echoed.headers.connection, 'close');
        ports.add(echoed.remotePort);
      }
      assert.equal(ports.size, 3);
    });

    it('sends the method, headers and a text body', async () => {
      await run({ url: `${server.url}/echo`, method: 'PUT', headers: { 'X-Trace': 'abc', 'Content-Type': 'text/plain' }, body: 'hello' });
      const seen = server.requests[server.requests.length - 1];
      assert.deepEqual([seen.method, seen.headers['x-trace'], seen.headers['content-type'], seen.headers['content-length'], seen.body],
        ['PUT', 'abc', 'text/plain', '5', 'hello']);
      assert.equal(seen.headers['user-agent'], 'remon');
    });

    it('sends a mapping body as JSON', async () => {
      await run({ url: `${server.url}/echo`, method: 'POST', body: { a: 1, b: ['x'] } });
      const seen = server.requests[server.requests.length - 1];
      assert.deepEqual([seen.headers['content-type'], seen.body], ['application/json', '{"a":1,"b":["x"]}']);
    });

    it('sends basic and bearer authentication', async () => {
      await run({ url: `${server.url}/echo`, basic_auth: { username: 'alice', password: 's3cret' } });
      assert.equal(server.requests[server.requests.length - 1].headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
      await run({ url: `${server.url}/echo`, bearer_token: 'tok-123' });
      assert.equal(server.requests[server.requests.length - 1].headers.authorization, 'Bearer tok-123');
    });

    it('fails an unexpected status with what it saw', async () => {
      const r = await run({ url: `${server.url}/status?code=503`, expect: { status: 200 } });
      assert.deepEqual([r.ok, r.message, r.fields.status], [false, 'status 503, expected 200', 503]);
      const dflt = await run({ url: `${server.url}/nowhere` });
      assert.deepEqual([dflt.ok, dflt.message], [false, 'status 404, expected 2xx or 3xx']);
      const ranged = await run({ url: `${server.url}/status?code=418`, expect: { status: ['200-299', '400-499'] } });
      assert.equal(ranged.ok, true, ranged.message);
    });

    it('checks body, headers and JSON paths', async () => {
      const good = await run({
        url: `${server.url}/api`,
        expect: {
          body: { regex: '"name":"web-\\d+"' },
          headers: { 'content-type': 'application/json' },
          json: { '$.count': '>= 2', '$.data.items[-1]': 3, '$.data["dotted.key"]': '== 7', '$.ok': true },
        },
      });
      assert.equal(good.ok, true, good.message);
      const bad = await run({ url: `${server.url}/api`, expect: { json: { '$.data.status': 'ok', '$.count': '>= 3' } } });
      assert.equal(bad.ok, false);
      assert.equal(bad.message, 'json $.data.status is "degraded", expected "ok"; json $.count is 2, expected >= 3');
      assert.equal(bad.fields.status, 200);
    });

    it('fails max_ms on a slow answer', async () => {
      const r = await run({ url: `${server.url}/slow-headers?ms=150`, expect: { max_ms: 50 } });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^total_ms \d+(\.\d)?, expected at most 50$/);
      assert.ok(r.fields.ttfb_ms >= 140, `ttfb_ms ${r.fields.ttfb_ms}`);
    });

    it('times slow bodies: total_ms covers the whole body, ttfb_ms only the wait', async () => {
      const r = await run({ url: `${server.url}/slow-body?chunks=5&gap=100` });
      assert.equal(r.ok, true, r.message);
      assert.equal(r.fields.size_bytes, 50);
      assert.ok(r.fields.total_ms >= 390, `total_ms ${r.fields.total_ms}`);
      assert.ok(r.fields.ttfb_ms < r.fields.total_ms - 300, `ttfb_ms ${r.fields.ttfb_ms} vs total ${r.fields.total_ms}`);
    });

    it('times out while reading a slow body, saying how far it got', async () => {
      const r = await run({ url: `${server.url}/slow-body?chunks=50&gap=100`, timeout: '1s' });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^timed out after 1s reading the body \(status 200, \d+ bytes so far\)$/);
      assert.equal(r.fields.status, 200);
      assert.ok(r.fields.size_bytes > 0 && r.fields.size_bytes < 500, `size_bytes ${r.fields.size_bytes}`);
      // The block gives up 50 ms before the run's timeout (a loaded machine may make it later).
      assert.ok(r.fields.total_ms >= 900 && r.fields.total_ms < 1500, `total_ms ${r.fields.total_ms}`);
    });

    it('reports a connection closed mid-response', async () => {
      const r = await run({ url: `${server.url}/cut` });
      assert.equal(r.ok, false);
      assert.equal(r.message, `connection closed by 127.0.0.1:${server.port} after 10 of 100 bytes of the body (status 200)`);
      assert.deepEqual([r.fields.status, r.fields.size_bytes], [200, 10]);
    });

    it('counts the whole body but checks only max_body bytes', async () => {
      const r = await run({ url: `${server.url}/big`, max_body: 1000, expect: { body: 'needle' } });
      assert.equal(r.ok, false);
      assert.equal(r.fields.size_bytes, 5006);
      assert.match(r.message!, /^body does not contain "needle" \(it starts with "x{57}\.\.\."\) \(only the first 1000 of 5006 bytes are checked; see max_body\)$/);
      const whole = await run({ url: `${server.url}/big`, expect: { body: 'needle' } });
      assert.equal(whole.ok, true, whole.message);
    });

    it('decodes a gzip body for the checks, and counts the bytes on the wire', async () => {
      const r = await run({ url: `${server.url}/gzip`, headers: { 'accept-encoding': 'gzip' }, expect: { body: 'compressed hello' } });
      assert.equal(r.ok, true, r.message);
      assert.equal(r.fields.size_bytes, zlib.gzipSync('compressed hello').length);
    });

    describe('redirects', () => {
      it('follows them, reporting the final response and the count', async () => {
        const r = await run({ url: `${server.url}/redirect/3`, expect: { body: 'arrived' } });
        assert.equal(r.ok, true, r.message);
        assert.deepEqual([r.fields.status, r.fields.redirects], [200, 3]);
        assert.match(r.output!, /^→ redirect 302 → http:\/\/127\.0\.0\.1:\d+\/redirect\/2\n→ redirect 302 → .*\/redirect\/1\n→ redirect 302 → .*\/redirect\/0\nHTTP\/1\.1 200 OK/);
      });

      it('does not follow them with follow_redirects: false', async () => {
        const r = await run({ url: `${server.url}/redirect/3`, follow_redirects: false });
        assert.equal(r.ok, true, r.message);
        assert.deepEqual([r.fields.status, r.fields.redirects], [302, 0]);
        const strict = await run({ url: `${server.url}/redirect/3`, follow_redirects: false, expect: { status: 200 } });
        assert.equal(strict.message, 'status 302, expected 200');
      });

      it('fails past max_redirects', async () => {
        const r = await run({ url: `${server.url}/redirect/3`, max_redirects: 2 });
        assert.equal(r.ok, false);
        assert.equal(r.message, `too many redirects (more than 2); the last one, status 302, went to ${server.url}/redirect/0`);
        assert.deepEqual([r.fields.status, r.fields.redirects], [302, 2]);
      });

      it('turns a POST into a GET on 303, and keeps it on 307', async () => {
        await run({ url: `${server.url}/redirect/1?code=303`, method: 'POST', body: 'data' });
        const seen = server.requests.slice(-2).map((q) => [q.method, q.body]);
        assert.deepEqual(seen, [['POST', 'data'], ['GET', '']]);
        await run({ url: `${server.url}/redirect/1?code=307`, method: 'POST', body: 'data' });
        assert.deepEqual(server.requests.slice(-2).map((q) => [q.method, q.body]), [['POST', 'data'], ['POST', 'data']]);
      });

      it('does not send credentials to another origin', async () => {
        const other = await startHttpServer(api);
        try {
          const r = await run({ url: `${server.url}/to-other-origin?to=${encodeURIComponent(other.url)}`, bearer_token: 'secret' });
          assert.equal(r.ok, true, r.message);
          assert.equal(server.requests[server.requests.length - 1].headers.authorization, 'Bearer secret');
          assert.equal(other.requests.length, 1);
          assert.equal(other.requests[0].headers.authorization, undefined);
        } finally {
          await other.close();
        }
      });
    });

    it('stops at once when the run is aborted', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('aborted: the node is stopping')), 100);
      const started = Date.now();
      const r = await run({ url: `${server.url}/slow-headers?ms=5000` }, ac.signal);
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
      assert.deepEqual([r.ok, r.message], [false, 'aborted: the node is stopping (waiting for the response (request sent))']);
    });
  });

  describe('failing servers', () => {
    it('times out on a server that never answers, saying in which phase', async () => {
      const silent = await startSilentServer();
      try {
        const started = Date.now();
        const r = await run({ url: `${silent.url}/`, timeout: '500ms' });
        const took = Date.now() - started;
        assert.equal(r.ok, false);
        assert.equal(r.message, 'timed out after 500ms waiting for the response (request sent)');
        assert.ok(took >= 450 && took < 1500, `took ${took} ms`);
        assert.ok(r.fields.connect_ms >= 0, 'the connection was made and timed');
        assert.equal(r.fields.status, undefined);
        assert.ok(r.fields.total_ms >= 450 && r.fields.total_ms < 1000, `total_ms ${r.fields.total_ms}`);
      } finally {
        await silent.close();
      }
    });

    it('reports a refused connection', async () => {
      const port = await closedPort();
      const r = await run({ url: `http://127.0.0.1:${port}/` });
      assert.deepEqual([r.ok, r.message], [false, `connection refused by 127.0.0.1:${port}`]);
    });

    it('reports a server that closes without answering', async () => {
      const server = await startHttpServer((req) => req.socket.destroy());
      try {
        const r = await run({ url: `${server.url}/` });
        assert.deepEqual([r.ok, r.message], [false, `connection closed by 127.0.0.1:${server.port} before a response`]);
      } finally {
        await server.close();
      }
    });

    it('reports a host name that does not resolve', async () => {
      const r = await run({ url: 'http://no-such-host.invalid/' });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^cannot resolve no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/);
    });
  });

  describe('https', () => {
    let certs: CertFiles;
    let selfServer: TestServer;
    let caServer: TestServer;
    before(async function () {
      requirePeer(this, 'openssl', hasOpenssl(), 'apt-get install openssl');
      fs.mkdirSync(path.join(dir, 'certs'), { recursive: true });
      certs = makeCerts(path.join(dir, 'certs'), 30, 45);
      selfServer = await startHttpServer(api, { cert: fs.readFileSync(certs.selfCert, 'utf8'), key: fs.readFileSync(certs.selfKey, 'utf8') });
      caServer = await startHttpServer(api, { cert: fs.readFileSync(certs.leafCert, 'utf8'), key: fs.readFileSync(certs.leafKey, 'utf8') });
    });
    after(async () => {
      await selfServer?.close();
      await caServer?.close();
    });

    it('refuses a self-signed certificate with verification on', async () => {
      const r = await run({ url: `${selfServer.url}/` });
      assert.equal(r.ok, false);
      assert.equal(r.message, "TLS: the server's certificate is self-signed; trust it with ca: or set tls_verify: false (DEPTH_ZERO_SELF_SIGNED_CERT)");
      assert.ok(r.fields.connect_ms >= 0);
      assert.equal(r.fields.status, undefined);
    });

    it('takes it with tls_verify: false, timing TLS and reporting the days the certificate has left', async () => {
      const before = Date.now();
      const r = await run({ url: `${selfServer.url}/`, tls_verify: false, expect: { body: 'Welcome' } });
      assert.equal(r.ok, true, r.message);
      assert.ok(r.fields.tls_ms > 0, `tls_ms ${r.fields.tls_ms}`);
      const want = (certs.selfValidTo - before) / DAY;
      assert.ok(Math.abs(r.fields.cert_days_left - want) < 0.01, `cert_days_left ${r.fields.cert_days_left}, expected ${want}`);
      assert.ok(r.fields.cert_days_left > 29 && r.fields.cert_days_left <= 30);
      assertDeclared(r.fields);
    });

    it('fails cert_min_days with the days it saw', async () => {
      const r = await run({ url: `${selfServer.url}/`, tls_verify: false, expect: { cert_min_days: 60 } });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^certificate expires in (29\.\d|30) days, expected at least 60$/);
    });

    it('trusts a custom CA given as a path relative to monitor.yaml', async () => {
      const r = await run({ url: `${caServer.url}/`, ca: 'certs/ca.pem' });
      assert.equal(r.ok, true, r.message);
      const want = (certs.leafValidTo - Date.now()) / DAY;
      assert.ok(Math.abs(r.fields.cert_days_left - want) < 0.01, `cert_days_left ${r.fields.cert_days_left}, expected ${want}`);
    });

    it('refuses a certificate from an unknown CA', async () => {
      const r = await run({ url: `${caServer.url}/` });
      assert.equal(r.ok, false);
      assert.equal(r.message,
        "TLS: the server's certificate is signed by an unknown issuer; trust the issuer with ca: or set tls_verify: false (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
    });

    it('refuses a self-signed certificate even with an unrelated ca', async () => {
      const r = await run({ url: `${selfServer.url}/`, ca: 'certs/ca.pem' });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^TLS: the server's certificate is self-signed/);
    });

    it('says when the ca file cannot be used', async () => {
      const r = await run({ url: `${caServer.url}/`, ca: 'certs/missing.pem' });
      assert.equal(r.ok, false);
      assert.match(r.message!, /^cannot use ca certs\/missing\.pem: ENOENT: no such file or directory/);
    });
  });

  describe('in the engine', () => {
    it('a timeout reports the phase, not just the engine\'s "timed out"', async () => {
      const silent = await startSilentServer();
      const text = `node: { data: ${dir}/data }\nstorage: { kind: memory }\nblocks:\n  - { name: slow, type: http, mode: on-demand, timeout: 500ms, url: "${silent.url}/" }\n`;
      const engine = new Engine({ ...loadConfig(path.join(dir, 'monitor.yaml'), { ...registry, text }), log: silentLogger(), web: false });
      try {
        await engine.start();
        const r = await engine.runNow('slow');
        assert.deepEqual([r.ok, r.message], [false, 'timed out after 500ms waiting for the response (request sent)']);
        assert.ok(r.fields.connect_ms >= 0);
      } finally {
        await engine.stop();
        await silent.close();
      }
    });
  });

  describe('in monitor.yaml with remon once', () => {
    it('runs an http block and prints its fields', async () => {
      const server = await startHttpServer(api);
      try {
        const file = writeConfig(`blocks:
  - name: homepage
    type: http
    url: ${server.url}/api
    expect: { status: 200, json: { "$.count": ">= 3" } }
`);
        const main = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
        const child = spawn(process.execPath, [main, 'once', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => { out += c; });
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        assert.equal(code, 1, out);
        const [r] = JSON.parse(out);
        assert.deepEqual([r.block, r.type, r.ok, r.message, r.fields.status], ['homepage', 'http', false, 'json $.count is 2, expected >= 3', 200]);
        assert.ok(r.fields.total_ms > 0);
      } finally {
        await server.close();
      }
    });
  });
});
