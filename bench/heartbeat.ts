/**
 * Heartbeat benchmark (issue 5).
 *
 * 1. Signals accepted per second over HTTP, durably: a remon node (1000 heartbeats, the
 *    journal with group commit and fdatasync in a temporary directory on disk; storage
 *    memory, so the figure is the heartbeat path's) answers POST /hb/NAME from a load
 *    generator in another process over N keep-alive connections, each sending its next
 *    signal when the last is answered. The generator is wrk (one thread) when it is on
 *    PATH (`apt-get install wrk`), else a Node one (http.Agent keepAlive), which needs a
 *    core of its own and so lowers every figure. Reference: the same load against a bare
 *    Node http server that answers 200 at once (no routing, no journal). Every 200 counted
 *    is checked against the journal afterwards.
 * 2. Detection latency: 10,000 heartbeats with random deadlines (period 2-12 s, grace
 *    0-1 s), each signalled once; the time from its deadline + grace to its `down`
 *    event (as a listener sees it, after the journal commit).
 *
 * The ratio to the reference is taken in BENCH_ROUNDS rounds (default 5) at the largest
 * connection count, remon and the bare server alternating (which goes first alternates
 * too), and given as the median of the rounds' ratios: a machine shared with other work
 * moves both sides of a round alike. Rows are each side's median round.
 * BENCH_CPU_PROF=DIR runs the servers under `node --cpu-prof` with the profiles in DIR.
 *
 * Run it on an otherwise idle machine (it loads both cores):
 *   npm run build && BENCH_ONLY=heartbeat node dist/bench/index.js
 *   BENCH_SECONDS=5 BENCH_CONNS=256 BENCH_ROUNDS=7 node dist/bench/heartbeat.js
 *   BENCH_SECONDS=5 BENCH_CONNS=64,256 BENCH_LOAD=node node dist/bench/heartbeat.js
 */
import { execFile, execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { HeartbeatHub } from '../src/heartbeat/hub';
import { HbEvent } from '../src/heartbeat/types';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { median, quantile, table } from './stats';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Connection counts to measure remon at; the reference runs at the largest. */
const CONNS = (process.env.BENCH_CONNS ?? '64,256').split(',').map(Number);
const LOAD = process.env.BENCH_LOAD ?? (hasWrk() ? 'wrk' : 'node');
const HEARTBEATS = 1000;
const STORAGE = process.env.BENCH_STORAGE ?? 'memory';
const DETECT = Number(process.env.BENCH_DETECT ?? 10_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const CPU_PROF = process.env.BENCH_CPU_PROF;

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

interface Load {
  accepted: number;
  errors: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

interface LoadFigures {
  side: string;
  conns: number;
  accepted: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerSignal: number;
  journal?: string;
}

/** serveRemon runs a remon node with HEARTBEATS heartbeats and reports its port. */
async function serveRemon(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-hb-'));
  const lines = [`node: { listen: "127.0.0.1:${await freePort()}", data: ${dir}, log_level: silent }`, `storage: { kind: ${STORAGE} }`, 'blocks:'];
  for (let i = 0; i < HEARTBEATS; i++) lines.push(`  - { name: hb${i}, type: heartbeat, period: 1h }`);
  const loaded = loadConfig(path.join(dir, 'bench.yaml'), { ...registry, text: lines.join('\n') });
  const engine = new Engine({ ...loaded, log: silentLogger() });
  await engine.start();
  const hub = engine.hub('heartbeat') as HeartbeatHub;
  process.send!({ port: Number(new URL(engine.url!).port) });
  const cpu0 = process.cpuUsage();
  process.on('message', async () => {
    const cpu = process.cpuUsage(cpu0);
    const s = hub.stats().journal!;
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    const journal = `${s.records} records in ${s.batches} fdatasync'ed batches (mean ${(s.records / Math.max(1, s.batches)).toFixed(1)}, max ${s.maxBatch})`;
    process.send!({ journal, records: s.records, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** serveBare is the reference: Node's http server answering 200 at once. */
function serveBare(): void {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    });
  });
  const cpu0 = process.cpuUsage();
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => {
    const cpu = process.cpuUsage(cpu0);
    process.send!({ records: requests, cpuMs: (cpu.user + cpu.system) / 1000 }, () => process.exit(0));
  });
}

/** load sends signals over CONNS keep-alive connections for SECONDS (after a 1 s warm-up). */
async function nodeLoad(port: number, conns: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conns });
  let measuring = false;
  let accepted = 0;
  let errors = 0;
  const lat: number[] = [];
  let stop = false;
  let n = 0;
  const one = (): Promise<void> => new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port, agent, method: 'POST', path: `/hb/hb${n++ % HEARTBEATS}`, headers: { 'content-length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (measuring) {
          if (res.statusCode === 200) accepted++;
          else errors++;
          if ((accepted & 15) === 0) lat.push(performance.now() - t0);
        }
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end();
  });
  const worker = async (): Promise<void> => { while (!stop) await one(); };
  const workers = Array.from({ length: conns }, worker);
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  return { accepted, errors, seconds, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };
}

const WRK_SCRIPT = `local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/hb/hb" .. (n % ${HEARTBEATS}), nil, "")
end
`;

/** wrkLoad runs wrk (one thread) for a 1 s warm-up, then SECONDS, and reads its report. */
async function wrkLoad(port: number, conns: number): Promise<Load> {
  const script = path.join(os.tmpdir(), `remon-bench-hb-${process.pid}.lua`);
  fs.writeFileSync(script, WRK_SCRIPT);
  const run = (seconds: number): Promise<string> => new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', '-s', script, `http://127.0.0.1:${port}`], (err, out) => (err ? reject(err) : resolve(out)));
  });
  await run(1);
  const out = await run(SECONDS);
  fs.rmSync(script, { force: true });
  const ms = (v: string, unit: string): number => Number(v) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[unit];
  const total = /(\d+) requests in ([\d.]+)s/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const p = (q: string): number => {
    const m = new RegExp(`^\\s+${q}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    return m ? ms(m[1], m[2]) : NaN;
  };
  if (!total) throw new Error(`cannot read wrk's report:\n${out}`);
  const errors = Number(non2xx?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { accepted: Number(total[1]) - Number(non2xx?.[1] ?? 0), errors, seconds: Number(total[2]), p50Ms: p('50'), p99Ms: p('99') };
}

function child(args: string[], profile = false): { proc: ReturnType<typeof fork>; first: Promise<any> } {
  const execArgv = profile && CPU_PROF ? [...process.execArgv, '--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=${args[0]}-${Date.now()}.cpuprofile`] : process.execArgv;
  const proc = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const first = new Promise((resolve, reject) => {
    proc.once('message', resolve);
    proc.once('exit', (code) => code !== 0 && reject(new Error(`${args[0]} exited ${code}`)));
  });
  return { proc, first };
}

async function throughput(side: 'remon' | 'bare', conns: number): Promise<LoadFigures> {
  const server = child([side], true);
  const { port } = (await server.first) as { port: number };
  const r = LOAD === 'wrk' ? await wrkLoad(port, conns) : ((await child(['load', String(port), String(conns)]).first) as Load);
  const done = new Promise<any>((resolve) => server.proc.once('message', resolve));
  server.proc.send('stop');
  const final = await done;
  if (side === 'remon' && final.records < r.accepted) throw new Error(`only ${final.records} records journaled for ${r.accepted} accepted signals`);
  return {
    side: side === 'remon' ? 'remon node: /hb/NAME, journaled + fdatasync before 200' : 'bare Node http server answering 200 (reference)',
    conns,
    accepted: r.accepted,
    errors: r.errors,
    perSecond: r.accepted / r.seconds,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    cpuUsPerSignal: (final.cpuMs * 1000) / Math.max(1, final.records),
    journal: final.journal,
  };
}

/** detect: DETECT heartbeats with random deadlines; latency from deadline + grace to `down`. */
async function detect(): Promise<{ count: number; p50: number; p99: number; max: number; late: number; setupMs: number }> {
  const t0 = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-detect-'));
  const lines = [`node: { data: ${dir}, log_level: silent }`, 'blocks:'];
  const dueAfter: number[] = [];
  for (let i = 0; i < DETECT; i++) {
    const period = 2000 + Math.floor(Math.random() * 10_000);
    const grace = Math.floor(Math.random() * 1000);
    dueAfter.push(period + grace);
    lines.push(`  - { name: d${i}, type: heartbeat, period: ${period}ms, grace: ${grace}ms }`);
  }
  const loaded = loadConfig(path.join(dir, 'bench.yaml'), { ...registry, text: lines.join('\n') });
  const engine = new Engine({ ...loaded, log: silentLogger(), web: false });
  await engine.start();
  const hub = engine.hub('heartbeat') as HeartbeatHub;
  await Promise.all(Array.from({ length: DETECT }, (_, i) => hub.signal(`d${i}`, { kind: 'success' })));
  const setupMs = performance.now() - t0;
  const expected = new Map<string, number>();
  for (let i = 0; i < DETECT; i++) expected.set(`d${i}`, Date.parse(hub.get(`d${i}`)!.lastSuccess!) + dueAfter[i]);
  const latencies: number[] = [];
  let late = 0;
  await new Promise<void>((resolve) => {
    hub.on('event', (e: HbEvent) => {
      if (e.kind === 'late') late++;
      if (e.kind !== 'down') return;
      latencies.push(Date.now() - expected.get(e.name)!);
      if (latencies.length === DETECT) resolve();
    });
  });
  await engine.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { count: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: quantile(latencies, 1), late, setupMs };
}

/** middle is the round whose signals / s is the median of the rounds'. */
function middle(rounds: LoadFigures[]): LoadFigures {
  const sorted = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export async function benchHeartbeat(): Promise<string> {
  const rows: LoadFigures[] = [];
  const max = Math.max(...CONNS);
  for (const conns of CONNS) if (conns !== max) rows.push(await throughput('remon', conns));
  // Rounds at the largest count, the sides alternating (and which goes first, too).
  const remonRounds: LoadFigures[] = [];
  const bareRounds: LoadFigures[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const pair: Record<string, LoadFigures> = {};
    for (const side of round % 2 === 0 ? (['remon', 'bare'] as const) : (['bare', 'remon'] as const)) pair[side] = await throughput(side, max);
    remonRounds.push(pair.remon);
    bareRounds.push(pair.bare);
    ratios.push(pair.remon.perSecond / pair.bare.perSecond);
  }
  const r = middle(remonRounds);
  const b = middle(bareRounds);
  rows.push(r, b);
  const ratio = median(ratios);
  const best = Math.max(...rows.filter((x) => x !== b).map((x) => x.perSecond));
  const d = (await child(['detect']).first) as Awaited<ReturnType<typeof detect>>;
  return [
    table(
      `Heartbeat signals over HTTP: load from ${LOAD === 'wrk' ? 'wrk -t1' : 'a Node process (http.Agent keepAlive)'}, keep-alive connections, ${SECONDS} s after a 1 s warm-up, ${os.cpus().length} cores; at ${max} connections the median of ${ROUNDS} alternating rounds`,
      ['server', 'connections', 'accepted', 'errors', 'signals / s', 'p50 ms', 'p99 ms', 'server CPU µs / signal'],
      rows.map((f) => [f.side, f.conns, f.accepted, f.errors, f.perSecond, f.p50Ms, f.p99Ms, f.cpuUsPerSignal]),
    ),
    '',
    ...rows.filter((x) => x.journal).map((x) => `journal at ${x.conns} connections: ${x.journal}`),
    `rounds at ${max} connections, remon / bare: ${ratios.map((x) => `${x.toFixed(2)}×`).join(' ')}`,
    `targets: ≥ 10,000 durable signals / s: ${best >= 10_000 ? 'met' : 'MISSED'}; remon / bare reference at ${max} connections (median of ${ROUNDS} rounds' ratios) ≥ 0.7×: ${ratio.toFixed(2)}× ${ratio >= 0.7 ? 'met' : 'MISSED'}`,
    table(
      `Detection: ${d.count.toLocaleString('en')} heartbeats, periods 2-12 s, grace 0-1 s, each signalled once; deadline + grace → down event`,
      ['heartbeats', 'late events', 'latency p50 ms', 'latency p99 ms', 'latency max ms', 'setup ms'],
      [[d.count, d.late, d.p50, d.p99, d.max, d.setupMs]],
    ),
    '',
    `targets: p99 ≤ 1000 ms: ${d.p99 <= 1000 ? 'met' : 'MISSED'}`,
  ].join('\n');
}

if (require.main === module) {
  const [role, arg] = process.argv.slice(2);
  const done = (x: unknown): void => { process.send!(x, () => process.exit(0)); };
  const fail = (err: unknown): void => { console.error(err); process.exit(1); };
  if (role === 'remon') serveRemon().catch(fail);
  else if (role === 'bare') serveBare();
  else if (role === 'load') nodeLoad(Number(arg), Number(process.argv[4])).then(done, fail);
  else if (role === 'detect') detect().then(done, fail);
  else benchHeartbeat().then((t) => console.log(t), fail);
}
