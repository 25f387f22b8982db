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
import { setMaxListeners } from 'node:events';
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

const SECONDS = Number(process.env.BENCH_HTTP_SECONDS ?? 2);
const SLICE_MS = 250;
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

/**
 * remonProbe: one run of an http block (expecting status 200, and with json also a JSON
 * path), checking it gave every field. The runs share one abort signal: the engine's
 * per-run controller is the runner's cost, the same for every block type, not the probe's.
 */
function remonProbe(url: string, json: boolean): Probe {
  const log = silentLogger();
  const expect = json ? { status: 200, json: { '$.status': 'ok' } } : { status: 200 };
  const block = httpBlock.create({ name: 'b', url, tls_verify: false, expect }, { name: 'b', configDir: '.', dataDir: '.', log, emit: () => undefined });
  const ctx = { signal: new AbortController().signal, log, shared: createMemoryShared() };
  setMaxListeners(0, ctx.signal);
  const want = url.startsWith('https') ? [...FIELDS, 'tls_ms', 'cert_days_left'] : FIELDS;
  return async () => {
    const r = await block.run(ctx);
    if (r.ok === false) throw new Error(r.message);
    for (const f of want) if (!(f in (r.fields ?? {}))) throw new Error(`no ${f} field`);
  };
}

interface Tally {
  n: number;
  ms: number;
  cpuUs: number;
}

/** slice runs probe with `concurrency` in flight for ms, adding to the tally. */
async function slice(probe: Probe, concurrency: number, ms: number, t: Tally): Promise<void> {
  const end = performance.now() + ms;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await probe();
      t.n++;
    }
  }));
  t.ms += performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  t.cpuUs += cpu.user + cpu.system;
}

/**
 * trial runs the sides for SECONDS each, in turns of SLICE_MS, so a load that comes and
 * goes on the machine (other processes) falls on every side alike. Per side: probes per
 * second and CPU ms per 1000 probes.
 */
async function trial(probes: Probe[], concurrency: number): Promise<Array<{ rate: number; cpu: number }>> {
  const tallies = probes.map(() => ({ n: 0, ms: 0, cpuUs: 0 }));
  for (let done = 0; done < SECONDS * 1000; done += SLICE_MS) {
    for (let i = 0; i < probes.length; i++) await slice(probes[i], concurrency, SLICE_MS, tallies[i]);
  }
  return tallies.map((t) => ({ rate: t.n / (t.ms / 1000), cpu: t.cpuUs / t.n }));
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
        const sides = [bareProbe(server.url), remonProbe(server.url, false), remonProbe(server.url, true)];
        await trial(sides, 4); // warm-up: JIT, and the server's first connections
        for (const c of CONCURRENCY) {
          const bare: Array<{ rate: number; cpu: number }> = [];
          const remon: Array<{ rate: number; cpu: number }> = [];
          const remonJson: Array<{ rate: number; cpu: number }> = [];
          for (let t = 0; t < TRIALS; t++) {
            const [b, r, j] = await trial(sides, c);
            bare.push(b);
            remon.push(r);
            remonJson.push(j);
          }
          const b = median(bare.map((x) => x.rate));
          const r = median(remon.map((x) => x.rate));
          ratios.push(r / b);
          rows.push([`${scheme}, ${c} in flight`, b, r, r / b, median(remonJson.map((x) => x.rate)),
            median(bare.map((x) => x.cpu)), median(remon.map((x) => x.cpu))]);
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
      `HTTP probes per second against a local server (new connection per probe; median of ${TRIALS} trials of ${SECONDS} s per side in 250 ms turns; ${os.cpus().length} CPUs)`,
      ['probe', 'bare Node loop /s', 'remon http block /s', 'remon / bare', 'remon + JSON check /s', 'bare CPU ms / 1000', 'remon CPU ms / 1000'],
      rows,
    ),
    '',
    "remon's probes give status, dns/connect/ttfb/total ms, size and redirects (and tls_ms, cert_days_left for https) and check the status;",
    "'+ JSON check' also parses the body and checks a JSON path. The bare loop only reads the body.",
    `target: remon ≥ 0.8 of the bare loop: ${worst >= 0.8 ? 'met' : 'MISSED'} (worst ${worst.toFixed(2)})`,
  ].join('\n');
}

if (require.main === module) {
  benchHttp().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
}
