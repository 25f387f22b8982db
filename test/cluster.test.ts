import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, sleep, tmpDir, waitFor, writeConfig } from './helpers';
import { startHttpServer, TestServer } from './http-servers';
import { requirePeer } from './peers';
import { get, RemonNode } from './remon-node';
import { useRedis } from './shared-redis';
import { startVictoriaMetrics, victoriaMetricsPath, VictoriaMetrics } from './store-influx-server';

const TTL_MS = 2000;
const EVERY_MS = 500;
const NAMES = ['alpha', 'beta', 'gamma'] as const;
const BLOCKS = Array.from({ length: 12 }, (_, i) => `job${i}`);

/** Run is one line a block appended to the shared runs file: who ran which block when. */
interface Run {
  node: string;
  block: string;
  at: number;
}

/** Hook is one notification the webhook receiver took. */
interface Hook {
  sla: string;
  state: string;
  node: string;
}

/**
 * Three nodes as users run them (`remon run`, child processes) share one redis-server
 * (membership, slot leases, notification claims) and one VictoriaMetrics (their series).
 * Each of twelve blocks appends `node block time` to one file shared by the three, so the
 * test sees every run of every block whichever node made it.
 */
describe('cluster: three nodes share the blocks, survive kill -9, and notify once', function () {
  this.timeout(120_000);
  const redis = useRedis();
  let vm: VictoriaMetrics | undefined;
  let hook: TestServer | undefined;
  const hooks: Hook[] = [];
  const nodes = new Map<string, RemonNode>();
  const urls = new Map<string, string>();
  const dir = tmpDir('remon-cluster-');
  const runsFile = path.join(dir, 'runs.log');
  const flag = path.join(dir, 'site-down');

  const runs = (): Run[] => (fs.existsSync(runsFile) ? fs.readFileSync(runsFile, 'utf8') : '').split('\n').filter((l) => l.trim()).map((l) => {
    const [node, block, at] = l.trim().split(' ');
    return { node, block, at: Number(at) };
  });
  const status = (name: string) => get(`${urls.get(name)}/api/cluster`);

  /**
   * noDoubleRuns: no slot (interval) of any block ran twice, whichever nodes ran it. The
   * times are when the command's `date` ran, so a spawn delayed by a loaded machine makes one
   * gap short and the one before it long by as much: three runs in a row of one block must
   * span at least 1.5 intervals (two runs in one slot span about one), and two runs by
   * different nodes are never closer than half an interval.
   */
  const assertNoDoubleRuns = (all: Run[]): void => {
    for (const b of BLOCKS) {
      const mine = all.filter((r) => r.block === b).sort((x, y) => x.at - y.at);
      for (let i = 1; i < mine.length; i++) {
        const [p, q] = [mine[i - 1], mine[i]];
        const what = `${b} ran twice ${q.at - p.at}ms apart: ${p.node} at ${p.at}, ${q.node} at ${q.at}`;
        if (p.node !== q.node) assert.ok(q.at - p.at >= EVERY_MS / 2, what);
        if (i >= 2) assert.ok(q.at - mine[i - 2].at >= 1.5 * EVERY_MS, `${what} (${mine[i - 2].node} ran it at ${mine[i - 2].at})`);
      }
    }
  };
  before(async function () {
    this.timeout(30_000);
    requirePeer(this, 'victoria-metrics', victoriaMetricsPath() !== undefined, 'apt-get install victoria-metrics');
    vm = await startVictoriaMetrics();
    hook = await startHttpServer((_req, res, text) => {
      const a = JSON.parse(text).alert;
      hooks.push({ sla: a.sla, state: a.state, node: a.node });
      res.writeHead(200);
      res.end();
    });
    const prefix = `t${process.pid}:`;
    for (const name of NAMES) {
      const port = await freePort();
      urls.set(name, `http://127.0.0.1:${port}`);
      const blocks = BLOCKS.map((b) => `  - { name: ${b}, type: shell, every: ${EVERY_MS}ms, command: "echo ${name} ${b} $(date +%s%3N) >> ${runsFile}" }`);
      fs.mkdirSync(path.join(dir, name));
      const file = writeConfig(`node: { name: ${name}, listen: "127.0.0.1:${port}", data: ./data }
storage: { kind: influx, url: "${vm.url}", bucket: remon, flush_interval: 200ms }
shared: { kind: redis, url: "${redis.url}", prefix: "${prefix}" }
cluster: { lease_ttl: ${TTL_MS}ms, slots: 64 }
notify: { retry: 200ms, attempts: 3 }
contacts:
  ops: { webhook: "${hook.url}/ops" }
escalations:
  default:
    levels: [ { notify: [ops], after: 0s } ]
    group_wait: 0s
blocks:
${blocks.join('\n')}
  - { name: site, type: shell, every: ${EVERY_MS}ms, from: [alpha, beta, gamma], command: "test ! -e ${flag}" }
slas:
  - { name: site-up, test: "site.up == 1" }
`, path.join(dir, name));
      nodes.set(name, await RemonNode.start(file, urls.get(name)!));
    }
  });

  after(async () => {
    for (const n of nodes.values()) await n.kill('SIGKILL');
    await hook?.close();
    await vm?.stop();
  });

  it('each block runs on exactly one of the three nodes, and no block runs twice in an interval', async () => {
    await waitFor(async () => {
      const s = await Promise.all(NAMES.map(status));
      const owned = s.flatMap((x) => x.blocks as string[]);
      return s.every((x) => x.members.length === 3) && owned.length === BLOCKS.length && new Set(owned).size === BLOCKS.length;
    }, 15_000, 'the blocks split over three members');
    const s = await Promise.all(NAMES.map(status));
    for (const x of s) assert.ok(x.blocks.length > 0, `${x.node} runs some blocks (${JSON.stringify(s.map((y) => [y.node, y.blocks.length]))})`);
    const since = Date.now();
    await sleep(3000);
    const window = runs().filter((r) => r.at >= since);
    for (const b of BLOCKS) {
      const by = new Set(window.filter((r) => r.block === b).map((r) => r.node));
      const owner = s.find((x) => x.blocks.includes(b))!.node;
      assert.deepEqual([...by], [owner], `${b} ran on ${owner} only`);
      assert.ok(window.filter((r) => r.block === b).length >= 4, `${b} ran every ${EVERY_MS}ms`);
    }
    assertNoDoubleRuns(runs());
    const metrics = await (await fetch(`${urls.get('alpha')}/metrics`)).text();
    assert.match(metrics, /^remon_cluster_members 3$/m);
    assert.match(metrics, /^remon_cluster_member_slots\{member="beta"\} \d+$/m);
  });

  it('kill -9 of a node: its blocks run elsewhere within 2× lease_ttl (the gap measured), none twice', async () => {
    const before = await status('beta');
    assert.ok(before.blocks.length > 0);
    const killedAt = Date.now();
    assert.equal(await nodes.get('beta')!.kill('SIGKILL'), null);
    const resumed = new Map<string, number>();
    await waitFor(() => {
      for (const r of runs()) if (r.at > killedAt && r.node !== 'beta' && before.blocks.includes(r.block) && !resumed.has(r.block)) resumed.set(r.block, r.at);
      return resumed.size === before.blocks.length;
    }, 4 * TTL_MS, `beta's blocks ${before.blocks.join(', ')} resumed elsewhere`);
    const gaps = [...resumed.values()].map((t) => t - killedAt);
    const worst = Math.max(...gaps);
    console.log(`      failover after kill -9 (lease_ttl ${TTL_MS}ms): ${before.blocks.length} blocks, first runs elsewhere after ${Math.min(...gaps)}..${worst}ms`);
    assert.ok(worst <= 2 * TTL_MS, `the last of beta's blocks resumed ${worst}ms after kill -9; the bound is ${2 * TTL_MS}ms`);
    assert.ok(runs().filter((r) => r.node === 'beta' && r.at > killedAt + 100).length === 0, 'the dead node ran nothing');
    const s = await status('alpha');
    assert.deepEqual(s.members.map((m: { name: string }) => m.name), ['alpha', 'gamma']);
    assertNoDoubleRuns(runs());
  });

  it('the node returns: ownership rebalances to it without two nodes running a block in one interval', async () => {
    await nodes.get('beta')!.start();
    await waitFor(async () => {
      const s = await Promise.all(NAMES.map(status));
      const owned = s.flatMap((x) => x.blocks as string[]);
      return s.every((x) => x.members.length === 3) && s[1].blocks.length > 0 && owned.length === BLOCKS.length && new Set(owned).size === BLOCKS.length;
    }, 6 * TTL_MS, 'beta holds its share again');
    const since = Date.now();
    await sleep(2000);
    const s = await Promise.all(NAMES.map(status));
    const ranByBeta = new Set(runs().filter((r) => r.node === 'beta' && r.at >= since).map((r) => r.block));
    assert.deepEqual([...ranByBeta].sort(), [...s[1].blocks].sort(), 'beta runs exactly its blocks again');
    assertNoDoubleRuns(runs());
  });

  it('series from every node are in the shared store: any node shows every block, whoever ran it', async () => {
    await vm!.sync();
    const all = runs();
    for (const b of BLOCKS) {
      const data = await get(`${urls.get('gamma')}/api/series/${b}.up?from=${all[0].at - 1000}`);
      const ranBy = new Set(all.filter((r) => r.block === b).map((r) => r.node));
      assert.ok(data.points.length >= 4, `${b}.up (run by ${[...ranBy].join(', ')}) has ${data.points.length} points on gamma`);
    }
  });

  it('an SLA failing on all three nodes is notified once, and its resolution once', async () => {
    fs.writeFileSync(flag, '');
    await waitFor(async () => {
      const active = await Promise.all(NAMES.map(async (n) => (await get(`${urls.get(n)}/api/alerts?state=active`)) as unknown[]));
      return active.every((a) => (Array.isArray(a) ? a : (a as { alerts: unknown[] }).alerts).length === 1);
    }, 15_000, 'site-up firing on all three nodes');
    await waitFor(() => hooks.some((h) => h.state === 'firing'), 5000, 'the firing notification');
    await sleep(1500);
    assert.equal(hooks.filter((h) => h.sla === 'site-up' && h.state === 'firing').length, 1, `one firing notification: ${JSON.stringify(hooks)}`);
    fs.unlinkSync(flag);
    await waitFor(() => hooks.some((h) => h.state === 'resolved'), 15_000, 'the resolution');
    await sleep(1500);
    assert.equal(hooks.filter((h) => h.sla === 'site-up' && h.state === 'resolved').length, 1, `one resolution: ${JSON.stringify(hooks)}`);
  });
});
