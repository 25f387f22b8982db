/**
 * Cluster benchmark (issue 14): three nodes as users run them (`remon run`, child
 * processes) on one redis-server, N no-op blocks (a dropped-in block type) every 10 s.
 * Measured: how long until the blocks are spread over the three nodes, the spread (blocks
 * per node), and after `kill -9` of one node: the takeover time (until the survivors hold
 * every block, from /api/cluster) against the target of 2× lease_ttl, and when the dead
 * node's blocks ran again on the survivors (p50 and max of each block's first run after the
 * kill; a taken block first runs within min(every, 5 s) of being taken, the scheduler's
 * first-run spread).
 *
 * Measured (30,000 blocks, lease_ttl 4s, on a shared 2-core machine): spread after 17.6 s,
 * 9405 / 10414 / 10181 blocks per node, takeover 4.87 s (target ≤ 8 s), the dead node's
 * blocks ran again after 6.97 s (p50) / 9.33 s (max).
 *
 *   BENCH_ONLY=cluster npm run bench
 *   BENCH_CLUSTER_BLOCKS=30000 BENCH_CLUSTER_TTL=4s node dist/bench/cluster.js
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDuration } from '../src/util/duration';
import { redisServerPath, startRedis } from '../test/shared-redis';
import { freePort, stop } from './node';
import { quantile, table } from './stats';

const BLOCKS = Number(process.env.BENCH_CLUSTER_BLOCKS ?? 30_000);
const TTL = process.env.BENCH_CLUSTER_TTL ?? '4s';
const TTL_MS = parseDuration(TTL)!;
const MAIN = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
const NAMES = ['alpha', 'beta', 'gamma'];

interface Node {
  name: string;
  url: string;
  child: ChildProcess;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} → ${res.status}`);
  return res.json();
}

async function waitUntil<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  if (process.env.BENCH_DEBUG) console.error(`${new Date().toISOString()} waiting: ${what}`);
  const end = Date.now() + ms;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** owned: the blocks each node runs now, when they cover all and none twice. */
async function owned(nodes: Node[]): Promise<Map<string, string[]> | undefined> {
  const s = await Promise.all(nodes.map((n) => getJson(`${n.url}/api/cluster`)));
  if (s.some((x) => x.members.length !== nodes.length)) return undefined;
  const all = s.flatMap((x) => x.blocks as string[]);
  if (all.length !== BLOCKS || new Set(all).size !== BLOCKS) return undefined;
  return new Map(s.map((x) => [x.node as string, x.blocks as string[]]));
}

async function startNode(dir: string, redisUrl: string, name: string): Promise<Node> {
  const port = await freePort();
  const d = path.join(dir, name);
  fs.mkdirSync(path.join(d, 'blocks', 'noop'), { recursive: true });
  fs.writeFileSync(path.join(d, 'blocks', 'noop', 'index.js'),
    "module.exports = { type: 'noop', description: 'does nothing', schema: { properties: {} }, create: () => ({ run: async () => ({ fields: { value: 1 } }) }) };\n");
  const lines = [
    `node: { name: ${name}, listen: "127.0.0.1:${port}", data: ./data, max_concurrency: 10000, block_dirs: [./blocks], log_level: warn }`,
    'storage: { kind: memory }',
    `shared: { kind: redis, url: "${redisUrl}" }`,
    `cluster: { lease_ttl: ${TTL} }`,
    'blocks:',
  ];
  for (let i = 0; i < BLOCKS; i++) lines.push(`  - { name: b${i}, type: noop, every: 10s }`);
  fs.writeFileSync(path.join(d, 'monitor.yaml'), lines.join('\n'));
  const child = spawn(process.execPath, [MAIN, 'run', path.join(d, 'monitor.yaml')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(`${name} up`, 120_000, async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : undefined));
  return { name, url, child };
}

/** benchCluster runs the benchmark and returns its table. */
export async function benchCluster(): Promise<string> {
  if (!redisServerPath()) return '## cluster\n\nskipped: redis-server is not installed\n';
  const redis = await startRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'remon-bench-cluster-'));
  const nodes: Node[] = [];
  try {
    const t0 = Date.now();
    for (const name of NAMES) nodes.push(await startNode(dir, redis.url, name));
    const spread = await waitUntil('the blocks spread', 60_000, () => owned(nodes));
    const spreadS = (Date.now() - t0) / 1000;
    const victim = nodes[1];
    const lost = spread.get(victim.name)!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const survivors = nodes.filter((n) => n !== victim);
    await waitUntil('the takeover', 10 * TTL_MS, () => owned(survivors));
    const takeoverMs = Date.now() - killedAt;
    // Each lost block's first run on a survivor after the kill.
    const firstRun = new Map<string, number>();
    const wanted = new Set(lost);
    await waitUntil('the lost blocks ran again', 10 * TTL_MS + 15_000, async () => {
      for (const n of survivors) {
        for (const b of await getJson(`${n.url}/api/blocks`) as Array<{ name: string; lastRun: string | null }>) {
          if (!wanted.has(b.name) || firstRun.has(b.name) || b.lastRun === null) continue;
          const t = Date.parse(b.lastRun);
          if (t > killedAt) firstRun.set(b.name, t - killedAt);
        }
      }
      return firstRun.size === lost.length ? true : undefined;
    });
    const gaps = [...firstRun.values()];
    const rows = [
      ['blocks (every 10 s) / nodes', `${BLOCKS} / 3`],
      ['lease_ttl', TTL],
      ['spread reached after start of the first node', `${spreadS.toFixed(1)} s`],
      ['blocks per node', NAMES.map((n) => `${n} ${spread.get(n)!.length}`).join(', ')],
      [`takeover after kill -9 of ${victim.name} (survivors hold all ${BLOCKS})`, `${(takeoverMs / 1000).toFixed(2)} s (target ≤ ${(2 * TTL_MS / 1000).toFixed(0)} s: ${takeoverMs <= 2 * TTL_MS ? 'met' : 'MISSED'})`],
      [`its ${lost.length} blocks ran again after the kill, p50 / max`, `${(quantile(gaps, 0.5) / 1000).toFixed(2)} s / ${(Math.max(...gaps) / 1000).toFixed(2)} s`],
    ];
    return table('cluster: 3 nodes on one redis-server, kill -9 of one', ['what', 'figure'], rows);
  } finally {
    // The killed one has exited already (stop would wait for an exit that came).
    for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) await stop(n.child);
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchCluster().then((t) => console.log(t), (err) => {
    console.error(err);
    process.exit(1);
  });
}
