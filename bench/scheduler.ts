/**
 * Scheduler benchmark (issue: engine core). N no-op blocks at a 10 s interval run through
 * the whole engine (runner, Result, state, store) for D seconds; beside it, the same
 * number of plain setInterval timers calling a no-op, the naive design, as a reference.
 * Each side runs in its own child process so RSS and CPU are its own; the two run at the
 * same time (BENCH_ROUNDS rounds, default 3), so other work on the machine loads both alike.
 *
 *   node dist/bench/scheduler.js             # 20,000 blocks, 60 s each side
 *   BENCH_BLOCKS=2000 BENCH_SECONDS=20 node dist/bench/scheduler.js
 *   BENCH_BLOCKS=2000 BENCH_EVERY_MS=200 BENCH_ROUNDS=1 node dist/bench/scheduler.js   # the same rate, hot in cache
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfigIsolated } from '../src/config/isolated';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { REGISTRY_MODULE } from '../src/registry';
import { median, quantile, table } from './stats';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const EVERY_MS = Number(process.env.BENCH_EVERY_MS ?? 10_000);

interface Figures {
  side: string;
  runs: number;
  missed: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  cpuMsPer1000: number;
  rssMb: number;
  setupMs: number;
}

/** writeNoopType puts a no-op user block type in a fresh block directory. */
function writeNoopType(dir: string): void {
  fs.mkdirSync(path.join(dir, 'noop'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'noop', 'index.js'),
    "module.exports = { type: 'noop', description: 'does nothing', schema: { properties: {} }, create: () => ({ run: async () => ({ fields: {} }) }) };\n",
  );
}

function sampleRss(): () => number {
  let max = 0;
  const t = setInterval(() => { max = Math.max(max, process.memoryUsage.rss()); }, 250);
  return () => { clearInterval(t); return Math.max(max, process.memoryUsage.rss()) / 2 ** 20; };
}

async function remonSide(): Promise<Figures> {
  // The same path as `remon run`: a monitor.yaml on disk, loaded in a worker thread, with
  // the no-op type as a user block type.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-'));
  writeNoopType(path.join(dir, 'blocks'));
  // The memory store: this measures the scheduler and engine; the RRD store has its own bench.
  const lines = ['node: { data: ./data, max_concurrency: 10000, block_dirs: [./blocks] }', 'storage: { kind: memory }', 'blocks:'];
  for (let i = 0; i < BLOCKS; i++) lines.push(`  - { name: b${i}, type: noop, every: ${EVERY_MS}ms }`);
  fs.writeFileSync(path.join(dir, 'monitor.yaml'), lines.join('\n'));
  const t0 = performance.now();
  const loaded = await loadConfigIsolated(path.join(dir, 'monitor.yaml'), { registryModule: REGISTRY_MODULE });
  const engine = new Engine({ ...loaded, log: silentLogger(), web: false });
  const lags: number[] = [];
  engine.bus.subscribe('bench', ({ result: r }) => { if (r) lags.push(r.lagMs); });
  const setupMs = performance.now() - t0;
  // Measure after a warm-up of one interval, so every block has run once.
  await engine.start();
  await new Promise((r) => setTimeout(r, EVERY_MS));
  lags.length = 0;
  const missed0 = engine.schedulerStats().missed;
  const rss = sampleRss();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const rssMb = rss();
  const missed = engine.schedulerStats().missed - missed0;
  await engine.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return figures('remon engine', lags, missed, cpu, rssMb, setupMs);
}

async function naiveSide(): Promise<Figures> {
  const t0 = performance.now();
  const lags: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  let measuring = false;
  for (let i = 0; i < BLOCKS; i++) {
    const offset = (i * EVERY_MS) / BLOCKS;
    let due = performance.now() + offset;
    setTimeout(() => {
      const tick = async (): Promise<void> => {
        const now = performance.now();
        if (measuring) lags.push(now - due);
        due += EVERY_MS;
        await Promise.resolve({ ok: true, fields: {} });
      };
      void tick();
      timers.push(setInterval(tick, EVERY_MS));
    }, offset);
  }
  const setupMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, EVERY_MS));
  measuring = true;
  const rss = sampleRss();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const rssMb = rss();
  timers.forEach(clearInterval);
  return figures('setInterval per block (reference)', lags, -1, cpu, rssMb, setupMs);
}

function figures(side: string, lags: number[], missed: number, cpu: NodeJS.CpuUsage, rssMb: number, setupMs: number): Figures {
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    side,
    runs: lags.length,
    missed,
    lagP50: quantile(lags, 0.5),
    lagP99: quantile(lags, 0.99),
    lagMax: quantile(lags, 1),
    cpuMsPer1000: (cpuMs / Math.max(1, lags.length)) * 1000,
    rssMb,
    setupMs,
  };
}

function runChild(side: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [side], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve(m as Figures));
    child.once('exit', (code) => code !== 0 && reject(new Error(`${side} exited ${code}`)));
  });
}

export async function benchScheduler(): Promise<string> {
  // Both sides run at once, each in its own process, so that a machine shared with other
  // work loads them alike; the CPU ratio is the median of the rounds' ratios.
  const rounds: Array<[Figures, Figures]> = [];
  for (let i = 0; i < ROUNDS; i++) {
    const [r, n] = await Promise.all([runChild('remon'), runChild('naive')]);
    rounds.push([r, n]);
  }
  const ratios = rounds.map(([r, n]) => r.cpuMsPer1000 / n.cpuMsPer1000);
  const cpuRatio = median(ratios);
  // The rows are the round whose ratio is the median.
  const [r, n] = rounds[ratios.indexOf([...ratios].sort((a, b) => a - b)[Math.floor((ratios.length - 1) / 2)])];
  const rows = [r, n];
  return [
    table(
      `Scheduler: ${BLOCKS.toLocaleString('en')} no-op blocks every ${EVERY_MS / 1000} s, measured over ${SECONDS} s after a warm-up of one interval; ` +
        `both sides at once, the median of ${ROUNDS} rounds`,
      ['side', 'runs', 'missed ticks', 'lag p50 ms', 'lag p99 ms', 'lag max ms', 'CPU ms / 1000 runs', 'RSS MB max', 'setup ms'],
      rows.map((f) => [f.side, f.runs, f.missed < 0 ? 'n/a (cannot tell)' : f.missed, f.lagP50, f.lagP99, f.lagMax, f.cpuMsPer1000, f.rssMb, f.setupMs]),
    ),
    '',
    `targets (issue 16): p99 lag ≤ 20 ms: ${r.lagP99 <= 20 ? 'met' : 'MISSED'}; no missed ticks: ${r.missed === 0 ? 'met' : 'MISSED'}; ` +
      `RSS ≤ 600 MB: ${r.rssMb <= 600 ? 'met' : 'MISSED'}; CPU per run ≤ 2× the reference: ${cpuRatio <= 2 ? 'met' : 'MISSED'}; ` +
      `setup (config load to the engine built) ≤ 3 s: ${r.setupMs <= 3000 ? 'met' : 'MISSED'}`,
    `ratios remon / reference: CPU per run ${cpuRatio.toFixed(2)}× (rounds: ${ratios.map((x) => `${x.toFixed(2)}×`).join(' ')}), p99 lag ${(r.lagP99 / n.lagP99).toFixed(2)}×`,
  ].join('\n');
}

if (require.main === module) {
  const side = process.argv[2];
  if (side === 'remon' || side === 'naive') {
    (side === 'remon' ? remonSide() : naiveSide()).then((f) => { process.send!(f); process.exit(0); }, (err) => { console.error(err); process.exit(1); });
  } else {
    benchScheduler().then((t) => console.log(t), (err) => { console.error(err); process.exit(1); });
  }
}
