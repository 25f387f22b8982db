import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { INTERRUPTED } from '../src/alerts/action-runner';
import { freePort, sleep, tmpDir, waitFor, writeConfig } from './helpers';
import { get, RemonNode } from './remon-node';
import { useRedis } from './shared-redis';

/** ActRecord is one action decision as GET /api/alerts shows it. */
interface ActRecord {
  at: string;
  status: string;
  detail?: string;
  node?: string;
  guard?: { value: number | null; after?: number };
}

const COOLDOWN_MS = 2000;

/** rpc calls a node's JSON-RPC method and gives the result. */
async function rpc(url: string, method: string, params: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${url}/rpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { error?: unknown; result?: any };
  assert.equal(body.error, undefined, JSON.stringify(body.error));
  return body.result;
}

/** lines reads a file of lines appended by the action (`node epoch-ms`); none yet: []. */
function lines(file: string): Array<{ node: string; at: number }> {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => {
    const [node, at] = l.trim().split(' ');
    return { node, at: Number(at) };
  });
}

/** decisions are every node's action decisions of its alerts, oldest first. */
async function decisions(urls: string[]): Promise<ActRecord[]> {
  const all: ActRecord[] = [];
  for (const url of urls) for (const a of await get(`${url}/api/alerts`)) all.push(...(a.actions as ActRecord[]));
  return all.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

/**
 * Two nodes as users run them (`remon run`, child processes) share one redis-server and a
 * cluster; each probes the same site (from: both) so the SLA fires on both. The scaling
 * action (repeat each 2 s, guard: the shared counter web_nodes, max 3, step +1) appends
 * `node time` to one file, so every run is counted whichever node made it.
 */
describe('bounded actions in a cluster: two nodes on a real Redis run each decision once', function () {
  this.timeout(90_000);
  const redis = useRedis();
  const dir = tmpDir('remon-actions-cluster-');
  const runsFile = path.join(dir, 'runs.log');
  const flag = path.join(dir, 'site-down');
  const nodes: RemonNode[] = [];
  const urls: string[] = [];

  before(async function () {
    this.timeout(30_000);
    const prefix = `t${process.pid}a:`;
    for (const name of ['alpha', 'beta']) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      fs.mkdirSync(path.join(dir, name));
      const file = writeConfig(`node: { name: ${name}, listen: "127.0.0.1:${port}", data: ./data }
storage: { kind: memory }
shared: { kind: redis, url: "${redis.url}", prefix: "${prefix}" }
cluster: { lease_ttl: 2s, slots: 16 }
blocks:
  - { name: site, type: shell, every: 300ms, from: [alpha, beta], command: "test ! -e ${flag}" }
slas:
  - name: site-up
    test: site.up == 1
    actions:
      - run: "echo $REMON_ALERT_NODE $(date +%s%3N) >> ${runsFile}"
        cooldown: ${COOLDOWN_MS}ms
        repeat: true
        guard: { counter: web_nodes, max: 3, step: 1 }
`, path.join(dir, name));
      nodes.push(await RemonNode.start(file, urls[urls.length - 1]));
    }
  });

  after(async () => {
    for (const n of nodes) await n.kill('SIGKILL');
  });

  it('the SLA fires on both nodes; the action runs once per cooldown cluster-wide and stops at its max', async () => {
    fs.writeFileSync(flag, '');
    await waitFor(async () => (await Promise.all(urls.map(async (u) => (await get(`${u}/api/alerts?state=active`)).length))).every((n) => n === 1), 15_000, 'site-up firing on both nodes');
    await waitFor(() => lines(runsFile).length >= 3, 20_000, 'three runs');
    await sleep(3 * COOLDOWN_MS);
    const runs = lines(runsFile);
    assert.equal(runs.length, 3, `three runs (0 → 3), no more: ${JSON.stringify(runs)}`);
    assert.equal((await rpc(urls[0], 'counter.get', { name: 'web_nodes' })).value, 3);
    const all = await decisions(urls);
    const ran = all.filter((d) => d.status === 'ok');
    assert.equal(ran.length, 3, JSON.stringify(all, null, 1));
    assert.deepEqual(ran.map((d) => [d.guard?.value, d.guard?.after]), [[0, 1], [1, 2], [2, 3]]);
    for (let i = 1; i < ran.length; i++) {
      const gap = Date.parse(ran[i].at) - Date.parse(ran[i - 1].at);
      assert.ok(gap >= COOLDOWN_MS, `runs ${gap}ms apart (cooldown ${COOLDOWN_MS}ms): ${JSON.stringify(ran)}`);
    }
    // The other decisions were declined, each saying why: the other node ran it, the cooldown, the max.
    const declined = all.filter((d) => d.status !== 'ok');
    assert.ok(declined.length > 0);
    for (const d of declined) assert.match(`${d.status}: ${d.detail}`, /^(elsewhere: (alpha|beta) ran it for this firing|cooldown: ran .* ago( on (alpha|beta))?; cooldown 2s|guard: counter web_nodes is 3; step \+1 would make it 4, above max 3)/);
    assert.ok(declined.some((d) => d.status === 'guard'), 'refused at max');
    // Both nodes ran it or declined it: every decision was taken on the shared record.
    assert.deepEqual(new Set(all.map((d) => d.node)), new Set(['alpha', 'beta']));
    // The runs are on the shared queue remon.actions, visible from either node.
    const queued = await rpc(urls[1], 'queue.peek', { queue: 'remon.actions', n: 10 });
    assert.deepEqual(queued.map((m: { guard: { after: number } }) => m.guard.after), [1, 2, 3]);
  });

  it('a later firing (after the resolution) is refused at max too: the count is the cluster\'s', async () => {
    fs.unlinkSync(flag);
    await waitFor(async () => (await Promise.all(urls.map(async (u) => (await get(`${u}/api/alerts?state=active`)).length))).every((n) => n === 0), 15_000, 'resolved on both nodes');
    await rpc(urls[0], 'counter.set', { name: 'web_nodes', value: 2 });
    fs.writeFileSync(flag, '');
    await waitFor(() => lines(runsFile).length >= 4, 15_000, 'a fourth run (2 → 3)');
    await sleep(2 * COOLDOWN_MS);
    assert.equal(lines(runsFile).length, 4);
    assert.equal((await rpc(urls[1], 'counter.get', { name: 'web_nodes' })).value, 3);
  });
});

/**
 * A node killed with SIGKILL right after an action ran does not run it again within its
 * cooldown when it comes back, and repeats it after the cooldown while the SLA fires.
 */
describe('bounded actions: kill -9 does not rerun within the cooldown', function () {
  this.timeout(60_000);
  let node: RemonNode | undefined;
  after(async () => {
    await node?.kill('SIGKILL');
  });

  it('kill -9 after a run, restart at once: the next run comes a cooldown after the first', async () => {
    const dir = tmpDir('remon-actions-crash-');
    const runsFile = path.join(dir, 'runs.log');
    const flag = path.join(dir, 'site-down');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const cooldown = 4000;
    const file = writeConfig(`node: { name: crashy, listen: "127.0.0.1:${port}", data: ./data }
storage: { kind: memory }
blocks:
  - { name: site, type: shell, every: 300ms, command: "test ! -e ${flag}" }
slas:
  - name: site-up
    test: site.up == 1
    actions:
      - { run: "echo crashy $(date +%s%3N) >> ${runsFile}", cooldown: ${cooldown}ms, repeat: true }
`, dir);
    node = await RemonNode.start(file, url);
    fs.writeFileSync(flag, '');
    await waitFor(() => lines(runsFile).length === 1, 15_000, 'the first run');
    assert.equal(await node.kill('SIGKILL'), null);
    await node.start();
    await waitFor(() => lines(runsFile).length >= 2, 20_000, 'the run after the cooldown');
    await sleep(500);
    const runs = lines(runsFile);
    assert.equal(runs.length, 2, JSON.stringify(runs));
    // The first run may have been killed before its end was recorded: then it says so.
    const ok = (await decisions([url])).filter((d) => d.status === 'ok' || (d.status === 'failed' && d.detail === INTERRUPTED));
    assert.equal(ok.length, 2, JSON.stringify(ok));
    const gap = Date.parse(ok[1].at) - Date.parse(ok[0].at);
    assert.ok(gap >= cooldown, `the second run came ${gap}ms after the first; cooldown ${cooldown}ms`);
  });
});
