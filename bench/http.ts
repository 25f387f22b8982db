/**
 * HTTP probe benchmark (issue: probe blocks). Probes per second of the http block, with all
 * its timing fields, against a bare Node http client loop doing the same requests (a new
 * connection each, the body read), both against a local server in a child process (so the
 * server has its own event loop). Sequential and with several probes in flight; plain
 * HTTP and HTTPS (when openssl can make a certificate). Each figure is the median of 3
 * trials; the sides alternate. Target: remon ≥ 0.8 of the bare loop.
 *
 *   node dist/bench/http.js
 *   BENCH_HTTP_SECONDS=5 BENCH_HTTP_CONCURRENCY=1,32 node dist/bench/http.js
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { httpBlock } from '../blocks/http';
import { silentLogger } from '../src/log';
import { createMemoryShared } from '../src/shared/memory';
import { hasOpenssl, makeCerts } from '../test/http-servers';
import { median, table } from './stats';

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 3);
const CONCURRENCY = (process.env.BENCH_HTTP_CONCURRENCY ?? '1,16').split(',').map(Number);
const TRIALS = 3;
const FIELDS = ['status', 'dns_ms', 'connect_ms', 'ttfb_ms', 'total_ms', 'size_bytes'];

/** The server: a fixed 200 with a small body, in its own process. */
const SERVER = `
const fs = require('fs');
const tls = process.argv[1];
const body = Buffer.from('{"status":"ok","node":"bench","uptime_s":1}');
const handler = (req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); };
const server = tls ? require('https').createServer({ cert: fs.readFileSync(tls + '/self.pem'), key: fs.readFileSync(tls + '/self.key') }, handler)
                   : require('http').createServer(handler);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

async function startServer(certDir?: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER, certDir ?? ''], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
  return { url: `${certDir ? 'https' : 'http'}://127.0.0.1:${port}/healthz`, stop: () => child.kill() };
}

type Probe = () => Promise<void>;

/** bareProbe: what a hand-written client does, a fresh connection per request, body read. */
function bareProbe(url: string): Probe {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return () => new Promise<void>((resolve, reject) => {
    const req = mod.request(u, { agent: false, rejectUnauthorized: false }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** remonProbe: one run of an http block with an expectation, checking it gave every field. */
function remonProbe(url: string): Probe {
  const log = silentLogger();
  const o = { name: 'b', url, tls_verify: false, expect: { status: 200, json: { '$.status': 'ok' } } };
  const block = httpBlock.create(o, { name: 'b', configDir: '.', dataDir: '.', log, emit: () => undefined });
  const shared = createMemoryShared();
  const want = url.startsWith('https') ? [...FIELDS, 'tls_ms', 'cert_days_left'] : FIELDS;
  return async () => {
    // A signal per run, as the engine's runner gives.
    const r = await block.run({ signal: new AbortController().signal, log, shared });
    if (r.ok === false) throw new Error(r.message);
    for (const f of want) if (!(f in (r.fields ?? {}))) throw new Error(`no ${f} field`);
  };
}

/** drive runs probe with `concurrency` in flight for SECONDS; probes per second and CPU ms per 1000. */
async function drive(probe: Probe, concurrency: number): Promise<{ rate: number; cpu: number }> {
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await probe();
      n++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rate: n / elapsed, cpu: ((cpu.user + cpu.system) / 1000 / n) * 1000 };
}

export async function benchHttp(): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-http-'));
  const kinds: Array<[string, string | undefined]> = [['http', undefined]];
  if (hasOpenssl()) {
    makeCerts(tmp);
    kinds.push(['https', tmp]);
  }
  const rows: Array<Array<string | number>> = [];
  const ratios: number[] = [];
  try {
    for (const [scheme, certDir] of kinds) {
      const server = await startServer(certDir);
      try {
        // Warm-up: JIT, and the server's first connections.
        await drive(bareProbe(server.url), 4);
        for (const c of CONCURRENCY) {
          const bare: Array<{ rate: number; cpu: number }> = [];
          const remon: Array<{ rate: number; cpu: number }> = [];
          for (let t = 0; t < TRIALS; t++) {
            bare.push(await drive(bareProbe(server.url), c));
            remon.push(await drive(remonProbe(server.url), c));
          }
          const b = median(bare.map((x) => x.rate));
          const r = median(remon.map((x) => x.rate));
          ratios.push(r / b);
          rows.push([`${scheme}, ${c} in flight`, b, r, r / b, median(bare.map((x) => x.cpu)), median(remon.map((x) => x.cpu))]);
        }
      } finally {
        server.stop();
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const worst = Math.min(...ratios);
  return [
    table(
      `HTTP probes per second against a local server (new connection per probe; median of ${TRIALS} × ${SECONDS} s; ${os.cpus().length} CPUs)`,
      ['probe', 'bare Node loop /s', 'remon http block /s', 'remon / bare', 'bare CPU ms / 1000', 'remon CPU ms / 1000'],
      rows,
    ),
    '',
    `remon's probes give status, dns/connect/ttfb/total ms, size (and tls_ms, cert_days_left for https) and check status and a JSON path.`,
    `target: remon ≥ 0.8 of the bare loop: ${worst >= 0.8 ? 'met' : 'MISSED'} (worst ${worst.toFixed(2)})`,
  ].join('\n');
}

if (require.main === module) {
  benchHttp().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
