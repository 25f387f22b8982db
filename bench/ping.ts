/**
 * Ping benchmark (issue 4): 1,000 targets pinged once a second for 20 s — real hosts, the
 * 1,000 addresses of one target namespace that the benchmark creates (test/netns-hosts.ts),
 * probed from a client namespace, so nothing outside the namespaces is touched. Sides, each
 * in its own process inside the client namespace, measured after a warm-up:
 *
 *   remon          1,000 ping blocks (count 1, every 1s) through the whole engine (scheduler,
 *                  runner, results, memory store), all through the one shared raw socket;
 *   shared socket  the same probes straight through the shared pinger, no engine: what the
 *                  socket part costs;
 *   spawn ping     `ping -n -c 1 -W 1 ADDR` spawned per target per second, as Uptime Kuma's
 *                  ping monitor does (a target whose last ping has not exited skips a tick).
 *
 * CPU is process.cpuUsage() of the side's process, plus for the spawn side the CPU of its
 * exited children (getrusage(RUSAGE_CHILDREN), read from /proc/self/stat).
 *
 * CPU is shown with its system (kernel) part: sendto, recvfrom, wake-ups, and the packets'
 * way through the stack (on veth the target's reply is mostly made in the sender's time).
 *
 *   node dist/bench/ping.js                     # 1,000 targets, 20 s per side
 *   BENCH_PING_TARGETS=200 BENCH_PING_SECONDS=5 node dist/bench/ping.js
 *   BENCH_PING_SIDES=remon,fping BENCH_PING_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node dist/bench/ping.js
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sharedPinger } from '../blocks/ping/pinger';
import { loadConfigIsolated } from '../src/config/isolated';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { REGISTRY_MODULE } from '../src/registry';
import { NetnsLab, netnsUnavailable } from '../test/netns-hosts';
import { table } from './stats';

const TARGETS = Number(process.env.BENCH_PING_TARGETS ?? 1000);
const SECONDS = Number(process.env.BENCH_PING_SECONDS ?? 20);
const WARMUP_MS = 3000;
/** BENCH_PING_ROUNDS: rounds of every side, alternating [3]. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_PING_ROUNDS ?? 3));
const SIDES = ['remon', 'socket', 'fping', 'spawn'] as const;
type Side = (typeof SIDES)[number];
/** BENCH_PING_SIDES=remon,spawn runs only those sides (the ratio needs remon and spawn). */
const ONLY = process.env.BENCH_PING_SIDES?.split(',') ?? [...SIDES];

interface Figures {
  side: string;
  seconds: number;
  sent: number;
  received: number;
  /** Ticks a target skipped because its previous probe was still running (spawn side). */
  skipped: number;
  cpuS: number;
  /** The part of cpuS spent in the kernel (system time): sendto, recvfrom, wake-ups, and the packets' way through the stack. */
  sysS: number;
}

/** Cpu: CPU seconds so far, all and in the kernel. */
interface Cpu {
  cpuS: number;
  sysS: number;
}

/** targetAddresses are the benchmark's hosts: 10.1.<1+i/250>.<1+i%250>. */
function targetAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** childrenCpuS is the CPU seconds of this process's exited, reaped children (utime + stime). */
function childrenCpuS(): Cpu {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted from the state field (3).
  const sys = Number(fields[17 - 3]) / 100; // USER_HZ, 100 on Linux
  return { cpuS: Number(fields[16 - 3]) / 100 + sys, sysS: sys };
}

const ownCpuS = (): Cpu => {
  const u = process.cpuUsage();
  return { cpuS: (u.user + u.system) / 1e6, sysS: u.system / 1e6 };
};

/** measure runs `load` (already started) for the warm-up, then measures SECONDS of it. */
async function measure(side: string, counts: () => { sent: number; received: number; skipped: number }, cpuS: () => Cpu): Promise<Figures> {
  await sleep(WARMUP_MS);
  const c0 = counts();
  const cpu0 = cpuS();
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const c1 = counts();
  return {
    side,
    seconds: (performance.now() - t0) / 1000,
    sent: c1.sent - c0.sent,
    received: c1.received - c0.received,
    skipped: c1.skipped - c0.skipped,
    ...(({ cpuS: c, sysS: s }) => ({ cpuS: c - cpu0.cpuS, sysS: s - cpu0.sysS }))(cpuS()),
  };
}

async function remonSide(addrs: string[]): Promise<Figures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-ping-'));
  const lines = ['node: { data: ./data, max_concurrency: 5000 }', 'storage: { kind: memory }', 'blocks:'];
  addrs.forEach((a, i) => lines.push(`  - { name: p${i}, type: ping, every: 1s, host: ${a}, count: 1 }`));
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), lines.join('\n'));
  const loaded = await loadConfigIsolated(path.join(dir, 'monitor.yaml'), { registryModule: REGISTRY_MODULE });
  const engine = new Engine({ ...loaded, log: silentLogger(), web: false });
  let sent = 0;
  let received = 0;
  engine.bus.subscribe('bench', ({ result: r }) => {
    if (!r) return;
    sent += r.fields.sent ?? 0;
    received += r.fields.received ?? 0;
  });
  await engine.start();
  const f = await measure('remon: 1 ping block per target, shared socket', () => ({ sent, received, skipped: engine.schedulerStats().missed }), ownCpuS);
  await engine.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return f;
}

async function socketSide(addrs: string[]): Promise<Figures> {
  const pinger = sharedPinger();
  let sent = 0;
  let received = 0;
  let stop = false;
  const loops = addrs.map(async (a, i) => {
    await sleep((i * 1000) / addrs.length);
    const start = performance.now();
    for (let k = 1; !stop; k++) {
      const s = pinger.session(4);
      sent++;
      if ('rtt' in (await s.probe(a, 56, 900))) received++;
      s.release();
      await sleep(start + k * 1000 - performance.now());
    }
  });
  const f = await measure('shared socket alone (no engine)', () => ({ sent, received, skipped: 0 }), ownCpuS);
  stop = true;
  await Promise.all(loops);
  return f;
}

async function spawnSide(addrs: string[]): Promise<Figures> {
  let sent = 0;
  let received = 0;
  let skipped = 0;
  const timers: NodeJS.Timeout[] = [];
  addrs.forEach((a, i) => {
    let busy = false;
    const tick = (): void => {
      if (busy) { skipped++; return; }
      busy = true;
      sent++;
      const child = spawn('ping', ['-n', '-c', '1', '-W', '1', a], { stdio: 'ignore' });
      child.on('error', () => { busy = false; });
      child.on('exit', (code) => { busy = false; if (code === 0) received++; });
    };
    timers.push(setTimeout(() => { tick(); timers.push(setInterval(tick, 1000)); }, (i * 1000) / addrs.length));
  });
  const f = await measure('spawn `ping -c 1` per target (Uptime Kuma)', () => ({ sent, received, skipped }), () => {
    const own = ownCpuS();
    const children = childrenCpuS();
    return { cpuS: own.cpuS + children.cpuS, sysS: own.sysS + children.sysS };
  });
  timers.forEach((t) => clearTimeout(t));
  await sleep(1500); // let the last pings exit
  return f;
}

/** procCpuS is the CPU seconds (utime + stime, and stime) of a live process, from /proc/PID/stat. */
function procCpuS(pid: number): Cpu {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const sys = Number(fields[15 - 3]) / 100; // USER_HZ, 100 on Linux
    return { cpuS: Number(fields[14 - 3]) / 100 + sys, sysS: sys };
  } catch {
    return { cpuS: NaN, sysS: NaN };
  }
}

/**
 * fpingSide runs Debian's fping in loop mode on the same targets, one packet per target per
 * second (-p 1000), as fast a send loop as it allows (-i 1), quiet (-q: no output while it
 * runs, so printing costs it nothing): the reference a ping tool people run. fping's totals
 * come from its summary at exit; the window's share of them is taken by time.
 */
async function fpingSide(addrs: string[]): Promise<Figures> {
  const started = performance.now();
  const child = spawn('fping', ['-l', '-q', '-p', '1000', '-i', '1', '-t', '900', ...addrs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let summary = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => { summary += chunk; });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const f = await measure('fping -l -p 1000 on the same targets', () => ({ sent: 0, received: 0, skipped: 0 }), () => procCpuS(child.pid!));
  const elapsed = performance.now() - started;
  child.kill('SIGINT');
  await exited;
  let sent = 0;
  let received = 0;
  for (const m of summary.matchAll(/xmt\/rcv\/%loss = (\d+)\/(\d+)/g)) { sent += Number(m[1]); received += Number(m[2]); }
  const share = (f.seconds * 1000) / elapsed;
  return { ...f, sent: Math.round(sent * share), received: Math.round(received * share) };
}

/** runSide runs one side in its own process inside the client namespace. */
function runSide(lab: NetnsLab, side: Side): Promise<Figures> {
  return new Promise((resolve, reject) => {
    // BENCH_PING_NODE_ARGS: extra node flags for the sides' processes (e.g. --cpu-prof --cpu-prof-dir=DIR).
    const nodeArgs = process.env.BENCH_PING_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    execFile('ip', ['netns', 'exec', lab.client, process.execPath, ...nodeArgs, __filename, side], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${side} side failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Figures);
    });
  });
}

/** benchPing: see the top of this file. */
export async function benchPing(): Promise<string> {
  const title = `Ping: ${TARGETS.toLocaleString('en')} targets (addresses of a namespace host), each pinged once a second, measured over ${SECONDS} s after a ${WARMUP_MS / 1000} s warm-up; each side's median of ${ROUNDS} rounds`;
  const why = netnsUnavailable();
  if (why) return `\n### ${title}\n\nskipped: ${why}`;
  const lab = NetnsLab.create([{ name: 'hosts', extraV4: targetAddresses(TARGETS) }]);
  // Rounds alternate the sides (a shared machine's load moves); each side's row is its
  // median round by CPU per packet, and the remon / fping ratio the median of the rounds'.
  const rounds: Figures[][] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const round: Figures[] = [];
      for (const side of SIDES) if (ONLY.includes(side)) round.push(await runSide(lab, side));
      rounds.push(round);
    }
  } finally {
    lab.destroy();
  }
  const perPacket = (f: Figures): number => f.cpuS / Math.max(1, f.sent);
  const medianOf = <T>(xs: T[], key: (x: T) => number): T => [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)];
  const rows = rounds[0].map((_, i) => medianOf(rounds.map((round) => round[i]), perPacket));
  const roundRatios = rounds.map((round) => {
    const a = round.find((f) => f.side.startsWith('remon'));
    const b = round.find((f) => f.side.startsWith('fping'));
    return a && b ? perPacket(a) / perPacket(b) : NaN;
  });
  const remon = rows.find((f) => f.side.startsWith('remon'));
  const spawned = rows.find((f) => f.side.startsWith('spawn'));
  const fping = rows.find((f) => f.side.startsWith('fping'));
  const perK = (f: Figures): number => (f.cpuS / Math.max(1, f.sent)) * 1e6; // CPU ms per 1000 packets
  const ratio = remon && spawned ? perK(spawned) / perK(remon) : NaN;
  const vsFping = medianOf(roundRatios, (x) => x);
  return [
    table(title, ['side', 'packets sent', 'replies', 'loss %', 'skipped ticks', 'CPU s', 'of which system s', 'CPU % of a core', 'CPU ms / 1000 packets'],
      rows.map((f) => [f.side, f.sent, f.received, f.sent ? (100 * (f.sent - f.received)) / f.sent : 0, f.skipped, f.cpuS, f.sysS, (100 * f.cpuS) / f.seconds, perK(f)])),
    '',
    !remon || !spawned ? '' : `CPU per packet, spawn / remon: ${ratio.toFixed(1)}× (target ≥ 10×: ${ratio >= 10 ? 'met' : 'MISSED'})` +
      (spawned.sent < remon.sent * 0.95 ? `; the spawn side sent ${((100 * spawned.sent) / Math.max(1, remon.sent)).toFixed(0)}% of remon's packets: it could not keep up` : ''),
    !remon || !fping ? '' : `CPU per packet, remon / fping: ${vsFping.toFixed(2)}×, median of ${ROUNDS} alternating rounds (${roundRatios.map((x) => x.toFixed(2)).join(', ')}) (target ≤ 2×: ${vsFping <= 2 ? 'met' : 'MISSED'})` +
      (fping.sent < remon.sent * 0.95 ? `; fping sent ${((100 * fping.sent) / Math.max(1, remon.sent)).toFixed(0)}% of remon's packets in the window (its -i 1 send loop is its limit)` : ''),
  ].join('\n');
}

if (require.main === module) {
  const side = process.argv[2] as Side | undefined;
  if (side && (SIDES as readonly string[]).includes(side)) {
    const addrs = targetAddresses(TARGETS);
    const run = { remon: remonSide, socket: socketSide, fping: fpingSide, spawn: spawnSide }[side];
    run(addrs).then((f) => { process.stdout.write(`${JSON.stringify(f)}\n`); process.exit(0); }, (err) => { console.error(err); process.exit(1); });
  } else {
    benchPing().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
  }
}
