import { strict as assert } from 'node:assert';
import { PeerView } from '../src/peers/federation';
import { tmpDir, waitFor, writeConfig } from './helpers';
import { FedNode, startNodes, stopNodes } from './fed-harness';
import { remon } from './remon-node';

async function peers(url: string): Promise<PeerView[]> {
  const res = await fetch(`${url}/api/peers`);
  assert.equal(res.status, 200);
  return (await res.json()) as PeerView[];
}

const byName = (list: PeerView[]): Record<string, PeerView> => Object.fromEntries(list.map((p) => [p.name, p]));

describe('federation: a node shows its peers\' blocks, SLAs and alerts labelled by node; a peer that is down shows as down', function () {
  this.timeout(60_000);
  let nodes: FedNode[] | undefined;
  after(() => stopNodes(nodes));

  it('three nodes on loopback: read over RPC with each peer\'s token, one killed → down, back → up', async () => {
    nodes = await startNodes([
      { name: 'alpha' },
      { name: 'beta', blocks: '  - { name: web, type: shell, every: 1s, command: "true" }', yaml: 'slas:\n  - { name: web-up, test: "web.up == 1" }\n' },
      { name: 'gamma', blocks: '  - { name: db, type: shell, every: 1s, command: "exit 3" }', yaml: 'slas:\n  - { name: db-up, test: "db.up == 1", severity: page }\n' },
    ]);
    const [alpha, beta] = nodes;

    const seen = (await waitFor(async () => {
      const v = byName(await peers(alpha.url));
      return v.beta?.state === 'up' && v.gamma?.alerts.length > 0 && v.beta.slas[0]?.state === 'ok' ? v : undefined;
    }, 15_000, 'beta and gamma up, with gamma\'s alert')) as Record<string, PeerView>;
    assert.deepEqual(Object.keys(seen).sort(), ['beta', 'gamma']);
    assert.deepEqual(seen.beta.blocks.map((b) => [b.node, b.name, b.status]), [['beta', 'web', 'ok']]);
    assert.deepEqual(seen.beta.slas.map((s) => [s.node, s.name, s.state]), [['beta', 'web-up', 'ok']]);
    assert.deepEqual(seen.gamma.blocks.map((b) => [b.node, b.name, b.status]), [['gamma', 'db', 'fail']]);
    assert.deepEqual(seen.gamma.slas.map((s) => [s.node, s.name, s.state]), [['gamma', 'db-up', 'firing']]);
    assert.deepEqual(seen.gamma.alerts.map((a) => [a.node, a.sla, a.state]), [['gamma', 'db-up', 'firing']]);
    assert.equal(seen.beta.node, 'beta');
    assert.equal(seen.beta.url, beta.url);
    assert.ok(!JSON.stringify(seen).includes('tok-'), 'no peer token in the API');

    // One peer by name, over REST and over `remon rpc`; an unknown one.
    const one = await (await fetch(`${alpha.url}/api/peers/gamma`)).json() as PeerView;
    assert.equal(one.state, 'up');
    const unknown = await fetch(`${alpha.url}/api/peers/zeta`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { error: 'no peer is named "zeta"; peers: beta, gamma', code: 'REMON_ERR_PEER_UNKNOWN' });
    const cli = remon(['rpc', 'peers.get', '{"name":"beta"}', '--url', alpha.url, '--compact']);
    assert.equal(cli.code, 0, cli.err);
    assert.equal(JSON.parse(cli.out).state, 'up');

    // The page: each peer, its rows labelled by node.
    let html = await (await fetch(`${alpha.url}/peers`)).text();
    assert.match(html, /id="peer-beta" data-peer="beta" data-state="up"/);
    assert.match(html, /<tr data-kind="block" data-name="web"><td data-label="node">beta<\/td>/);
    assert.match(html, /<tr data-kind="sla" data-name="db-up"><td data-label="node">gamma<\/td>/);
    assert.match(html, /<tr data-kind="alert" data-name="1"><td data-label="node">gamma<\/td><td>alert<\/td><td class="main">db-up<\/td>/);
    assert.match(await (await fetch(`${alpha.url}/`)).text(), /<a href="\/peers">Peers<\/a>/);

    // kill -9 beta: down, with the reason; gamma stays up; the page says so and is no error page.
    await beta.proc.kill('SIGKILL');
    const down = (await waitFor(async () => {
      const v = byName(await peers(alpha.url));
      return v.beta.state === 'down' ? v : undefined;
    }, 10_000, 'beta down')) as Record<string, PeerView>;
    assert.equal(down.gamma.state, 'up');
    assert.equal(down.beta.lastError?.code, 'REMON_ERR_RPC_UNREACHABLE');
    assert.match(down.beta.lastError!.message, new RegExp(`^cannot reach the node at ${beta.url}: ECONNREFUSED$`));
    assert.deepEqual(down.beta.blocks, [], 'nothing stale shown as current');
    const page = await fetch(`${alpha.url}/peers`);
    assert.equal(page.status, 200);
    html = await page.text();
    assert.match(html, /id="peer-beta" data-peer="beta" data-state="down"/);
    assert.match(html, /beta is down: cannot reach the node at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(html, /id="peer-gamma" data-peer="gamma" data-state="up"/);
    assert.match(alpha.proc.out, /"msg":"peer beta is down"/);
    const metrics = await (await fetch(`${alpha.url}/metrics`)).text();
    assert.match(metrics, /^remon_peer_up\{peer="beta"\} 0$/m);
    assert.match(metrics, /^remon_peer_up\{peer="gamma"\} 1$/m);

    // Back: up again, since later.
    await beta.proc.start();
    const back = (await waitFor(async () => {
      const v = byName(await peers(alpha.url));
      return v.beta.state === 'up' && v.beta.blocks.length === 1 ? v : undefined;
    }, 10_000, 'beta up again')) as Record<string, PeerView>;
    assert.ok(Date.parse(back.beta.since) > Date.parse(down.beta.since));
    assert.match(alpha.proc.out, /"msg":"peer beta is up again"/);
  });
});

describe('peers: config', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['a peer named like this node', 'node: { name: alpha }\npeers:\n  alpha: { url: "http://127.0.0.1:2002" }\nblocks: []\n', 2, /peers\.alpha: "alpha" is this node's own name \(node\.name\); list the other nodes/],
    ['a url with a path', 'node: { name: alpha }\npeers:\n  beta: { url: "http://127.0.0.1:2002/x" }\nblocks: []\n', 2, /peers\.beta\.url: .*http:\/\/HOST:PORT/],
    ['an unknown key', 'node: { name: alpha }\npeers:\n  beta: { url: "http://127.0.0.1:2002", tokn: x }\nblocks: []\n', 2, /tokn/],
    ['a quorum SLA over a from: block\'s series', 'node: { name: alpha }\npeers:\n  beta: { url: "http://127.0.0.1:2002" }\nblocks:\n  - { name: home, type: shell, command: "true", from: [alpha, beta] }\nslas:\n  - { name: q, test: "home.locations_down < 2 and home.loc.beta.up == 1" }\n', 0, /^$/],
    ['a quorum series of a block without from:', 'node: { name: alpha }\nblocks:\n  - { name: home, type: shell, command: "true" }\nslas:\n  - { name: q, test: "home.locations_down < 2" }\n', 2, /no series is named "home\.locations_down"/],
  ];
  for (const [name, text, code, err] of cases) {
    it(name, () => {
      const file = writeConfig(text, tmpDir());
      const r = remon(['check', file]);
      assert.equal(r.code, code, r.err + r.out);
      assert.match(r.err, err);
    });
  }
});
