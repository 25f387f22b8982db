/**
 * Whole-node benchmark (issues: seams, speed): the node as a user runs it. `remon run` in a
 * child process with the default store (rrd), N no-op blocks (a dropped-in block type)
 * every 10 s, and this process polling GET /healthz every 100 ms, for D seconds (two RRD
 * checkpoints happen in 150 s). Measured: /healthz answer time (p50, p99, max), the
 * scheduler's start lag (p99, from /api/scheduler), missed ticks, and the node's RSS
 * (min and max over the run, sampled each second after the first interval).
 * Reference, side by side: a bare Node HTTP server in a child process, polled the same
 * way, says how much of an answer time is the machine's own noise.
 *
 *   BENCH_ONLY=node npm run bench
 *   BENCH_NODE_BLOCKS=2000,10000 BENCH_NODE_SECONDS=150 node dist/bench/node.js
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { quantile, table } from './stats';

const SIZES = (process.env.BENCH_NODE_BLOCKS ?? '2000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_NODE_SECONDS ?? 150);
const POLL_MS = 100;
const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

interface Figures {
  what: string;
  p50: number;
  p99: number;
  max: number;
  lagP99?: number;
  missed?: number;
  rssMin?: number;
  rssMax?: number;
  /** RSS (MB) at each quarter of the run, to tell growth from swings. */
  rssQuarters?: number[];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** get answers a GET's status and body, or rejects. */
function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** freePort asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** poll asks GET /healthz every POLL_MS for ms, and returns each answer's time (a slow answer delays the next ask, as a monitor's would). */
async function poll(port: number, ms: number): Promise<number[]> {
  const times: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await get(port, '/healthz');
    if (r.status !== 200) throw new Error(`/healthz answered ${r.status}`);
    const took = performance.now() - t0;
    times.push(took);
    await new Promise((res) => setTimeout(res, Math.max(0, POLL_MS - took)));
  }
  return times;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitUp(port: number, child: ChildProcess, what: string): Promise<void> {
  const end = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await get(port, '/healthz')).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`${what} did not answer within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** stop ends a child process: SIGTERM, then SIGKILL after a minute. */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(); // exited, or killed by a signal
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
  });
}

async function remonSide(blocks: number): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-node-'));
  fs.mkdirSync(path.join(dir, 'blocks', 'noop'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'blocks', 'noop', 'index.js'),
    "module.exports = { type: 'noop', description: 'does nothing', schema: { properties: {} }, create: () => ({ run: async () => ({ fields: { value: 1 } }) }) };\n");
  const port = await freePort();
  const lines = [`node: { listen: "127.0.0.1:${port}", data: ./data, max_concurrency: 10000, block_dirs: [./blocks], log_level: warn }`, 'blocks:'];
  for (let i = 0; i < blocks; i++) lines.push(`  - { name: b${i}, type: noop, every: 10s }`);
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), lines.join('\n'));
  const child = spawn(process.execPath, [MAIN, 'run', path.join(dir, 'monitor.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitUp(port, child, 'remon');
    // Warm up: every block has run once (first runs fall within 5 s), series are created.
    await new Promise((r) => setTimeout(r, 12_000));
    const before = JSON.parse((await get(port, '/api/scheduler')).body) as { missed: number };
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(rssOf(child.pid!)), 1000);
    const times = await poll(port, SECONDS * 1000);
    clearInterval(sampler);
    const s = JSON.parse((await get(port, '/api/scheduler')).body) as { missed: number; lagP99Ms: number };
    return {
      what: `remon, ${blocks} no-op blocks every 10 s, rrd store`,
      p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times),
      lagP99: s.lagP99Ms, missed: s.missed - before.missed, rssMin: Math.min(...rss), rssMax: Math.max(...rss),
      rssQuarters: [1, 2, 3, 4].map((q) => rss[Math.min(rss.length - 1, Math.floor((q * rss.length) / 4) - 1)]),
    };
  } finally {
    await stop(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function referenceSide(): Promise<Figures> {
  const port = await freePort();
  const code = `require('http').createServer((q, s) => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"status":"ok"}'); }).listen(${port}, '127.0.0.1');`;
  const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
  try {
    await waitUp(port, child, 'the reference server');
    const times = await poll(port, Math.min(SECONDS, 30) * 1000);
    return { what: 'reference: a bare Node HTTP server', p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: Math.max(...times) };
  } finally {
    await stop(child);
  }
}

export async function benchNode(): Promise<string> {
  const rows: Figures[] = [await referenceSide()];
  for (const n of SIZES) rows.push(await remonSide(n));
  return table(
    `whole node: /healthz polled every ${POLL_MS} ms for ${SECONDS} s (targets at 10,000 blocks: /healthz p99 ≤ 20 ms, max ≤ 100 ms; lag p99 ≤ 20 ms; RSS flat within 10%)`,
    ['node', '/healthz p50 ms', 'p99 ms', 'max ms', 'lag p99 ms', 'missed ticks', 'RSS min–max MB', 'RSS at ¼ ½ ¾ end'],
    rows.map((f) => [f.what, f.p50, f.p99, f.max, f.lagP99 ?? '', f.missed ?? '', f.rssMin === undefined ? '' : `${Math.round(f.rssMin)}–${Math.round(f.rssMax!)}`,
      f.rssQuarters ? f.rssQuarters.map(Math.round).join(' ') : '']),
  );
}

if (require.main === module) benchNode().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
