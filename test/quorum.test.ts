import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, waitFor } from './helpers';
import { FedNode, startNodes, stopNodes } from './fed-harness';

interface Sla {
  name: string;
  state: string;
  message: string;
}

async function sla(node: FedNode, name: string): Promise<Sla> {
  const res = await fetch(`${node.url}/api/slas/${name}`);
  assert.equal(res.status, 200, `${node.name} /api/slas/${name}`);
  return (await res.json()) as Sla;
}

async function last(node: FedNode, series: string): Promise<number | null> {
  const res = await fetch(`${node.url}/api/series/${series}?from=${Date.now() - 60_000}`);
  if (res.status !== 200) return null;
  const points = ((await res.json()) as { points: Array<[number, number | null]> }).points.filter((p) => p[1] !== null);
  return points.length ? points[points.length - 1][1] : null;
}

describe('from: quorum: each listed node probes, hears the others over RPC, and an SLA needs 2 of 3 locations down', function () {
  this.timeout(90_000);
  let nodes: FedNode[] | undefined;
  after(() => stopNodes(nodes));

  it('three nodes on loopback, failures injected per node: one down is no alert, two down fire, a silent node counts as down', async () => {
    const flags = tmpDir('remon-quorum-');
    const fail = (name: string, on: boolean) => (on ? fs.writeFileSync(path.join(flags, `fail-${name}`), '') : fs.rmSync(path.join(flags, `fail-${name}`), { force: true }));
    const spec = (name: string) => ({
      name,
      blocks: `  - { name: homepage, type: shell, every: 1s, command: "test ! -e ${flags}/fail-${name}", from: [alpha, beta, gamma] }\n` +
        '  - { name: local, type: shell, every: 1s, command: "true" }',
      yaml: 'slas:\n  - { name: homepage-quorum, test: "homepage.locations_down < 2" }\n',
    });
    nodes = await startNodes([spec('alpha'), spec('beta'), spec('gamma')]);
    const [alpha, , gamma] = nodes;

    const state = async (n: FedNode, st: string, down: number) => waitFor(async () => {
      const s = await sla(n, 'homepage-quorum');
      return s.state === st && s.message === `homepage.locations_down (${down}) < 2` ? s : undefined;
    }, 15_000, `${n.name}: homepage-quorum ${st} with ${down} down`);

    // All three up: every listed node has every location up. (The nodes start one after
    // another; a node not started yet counts as down after 2× every, so alerts from before
    // this point are the start's, and are left out below.)
    for (const n of nodes) await state(n, 'ok', 0);
    const t0 = Date.now();
    const alertsSince = async (n: FedNode) => ((await (await fetch(`${n.url}/api/alerts`)).json()) as Array<{ sla: string; state: string; startedAt: string }>)
      .filter((a) => Date.parse(a.startedAt) > t0).map((a) => [a.sla, a.state]);
    assert.equal(await last(alpha, 'homepage.locations'), 3);
    assert.equal(await last(alpha, 'homepage.locations_up'), 3);
    assert.equal(await last(alpha, 'homepage.loc.gamma.up'), 1);

    // One location fails: seen everywhere, and no alert.
    fail('beta', true);
    await state(alpha, 'ok', 1);
    await state(gamma, 'ok', 1);
    assert.equal(await last(alpha, 'homepage.loc.beta.up'), 0);
    assert.equal(await last(alpha, 'homepage.loc.alpha.up'), 1);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await sla(alpha, 'homepage-quorum')).state, 'ok', 'still ok with one location down');
    assert.deepEqual(await alertsSince(alpha), []);
    assert.deepEqual(await alertsSince(gamma), []);

    // Two of three: it fires, on each node that computes it.
    fail('gamma', true);
    await state(alpha, 'firing', 2);
    await state(gamma, 'firing', 2);
    assert.deepEqual(await alertsSince(alpha), [['homepage-quorum', 'firing']]);

    // Recovery of one: ok again.
    fail('gamma', false);
    await state(alpha, 'ok', 1);

    // A node that goes silent (kill -9) counts as down within 2× every: with beta failing, that is 2.
    await gamma.proc.kill('SIGKILL');
    await state(alpha, 'firing', 2);
    assert.equal(await last(alpha, 'homepage.loc.gamma.up'), 0);
  });
});
