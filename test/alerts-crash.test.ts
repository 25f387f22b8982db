import { strict as assert } from 'node:assert';
import type { ServerResponse } from 'node:http';
import { freePort, sleep, waitFor, writeConfig } from './helpers';
import { startHttpServer, TestServer } from './http-servers';
import { get, RemonNode } from './remon-node';

type Mode = 'ok' | 'fail' | 'hold';

/** Got is one request a receiver saw: which contact, which notification, and how it was answered (0: never). */
interface Got {
  path: string;
  key: string;
  state: string;
  level: number;
  status: number;
}

/** CountingReceiver takes remon's webhook on /first, /second, /flaky; each path answers 200, 503, or never. */
async function countingReceiver(): Promise<{ server: TestServer; got: Got[]; mode: Record<string, Mode>; held: ServerResponse[] }> {
  const got: Got[] = [];
  const mode: Record<string, Mode> = {};
  const held: ServerResponse[] = [];
  const server = await startHttpServer((req, res, text) => {
    const a = JSON.parse(text).alert;
    const m = mode[req.url ?? ''] ?? 'ok';
    const g: Got = { path: req.url ?? '', key: a.key, state: a.state, level: a.level, status: 0 };
    got.push(g);
    if (m === 'hold') {
      held.push(res);
      return;
    }
    g.status = m === 'ok' ? 200 : 503;
    res.writeHead(g.status);
    res.end();
  });
  return { server, got, mode, held };
}

/**
 * An alert survives `kill -9` of the node, and every notification is sent exactly once:
 * the node runs as a user runs it (`remon run`, a child process), a heartbeat that fails
 * raises the alert, and the node is killed with SIGKILL at the moments that matter (a
 * delivery waiting for its answer, a receiver failing between retries, a level waiting on
 * the clock, right after the resolution went out). The receiver counts what it took.
 */
describe('alerts: kill -9 of the node loses no notification and repeats none', function () {
  this.timeout(60_000);
  let node: RemonNode | undefined;
  let recv: Awaited<ReturnType<typeof countingReceiver>> | undefined;
  after(async () => {
    await node?.kill('SIGKILL');
    await recv?.server.close();
  });

  it('with SIGKILL during a delivery, during retries, while level 2 waits and after the resolution', async () => {
    recv = await countingReceiver();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const hook = recv.server.url;
    const file = writeConfig(`node: { listen: "127.0.0.1:${port}", data: ./data, name: crashnode }
storage: { kind: memory }
notify: { retry: 200ms, retry_max: 400ms, attempts: 100 }
contacts:
  first: { webhook: "${hook}/first" }
  second: { webhook: "${hook}/second" }
  flaky: { webhook: "${hook}/flaky" }
escalations:
  default:
    levels:
      - { notify: [first, flaky], after: 0s }
      - { notify: [second], after: 4s }
    group_wait: 0s
blocks:
  - { name: job, type: heartbeat, period: 1h }
`);
    const sent = (path: string): Got[] => recv!.got.filter((g) => g.path === path && g.status === 200);
    const outcomes = async (): Promise<string[]> => (await get(`${url}/api/alerts/1`)).notifications.map((n: { contact: string; kind: string; outcome: string }) => `${n.contact} ${n.kind} ${n.outcome}`);

    recv.mode['/first'] = 'hold';
    recv.mode['/flaky'] = 'fail';
    node = await RemonNode.start(file, url);
    assert.equal((await fetch(`${url}/hb/job/fail`, { method: 'POST' })).status, 200);
    // first has the notification but has not answered; flaky refused it twice; second waits for level 2.
    await waitFor(() => recv!.got.some((g) => g.path === '/first') && recv!.got.filter((g) => g.path === '/flaky').length >= 2, 10_000, 'the first deliveries');
    assert.deepEqual(await outcomes(), ['first firing pending', 'flaky firing pending']);
    assert.equal(await node.kill('SIGKILL'), null);

    recv.mode['/first'] = 'ok';
    recv.mode['/flaky'] = 'ok';
    await node.start();
    await waitFor(async () => (await outcomes()).join() === 'first firing sent,flaky firing sent,second firing sent', 15_000, 'level 1 again and level 2');
    assert.equal(await node.kill('SIGKILL'), null);

    await node.start();
    await sleep(1000);
    assert.equal((await fetch(`${url}/hb/job`, { method: 'POST' })).status, 200);
    await waitFor(async () => (await outcomes()).filter((o) => o.endsWith('resolved sent')).length === 3, 10_000, 'the resolution to all three');
    assert.equal(await node.kill('SIGKILL'), null);

    await node.start();
    await sleep(1500);
    const taken = (path: string): string[] => sent(path).map((g) => `${g.state} L${g.level} ${g.key}`);
    assert.deepEqual(taken('/first'), ['firing L1 1:1:0:1|first|webhook', 'resolved L0 1:resolved|first|webhook']);
    assert.deepEqual(taken('/flaky'), ['firing L1 1:1:0:1|flaky|webhook', 'resolved L0 1:resolved|flaky|webhook']);
    assert.deepEqual(taken('/second'), ['firing L2 1:1:0:2|second|webhook', 'resolved L0 1:resolved|second|webhook']);
    // What the receivers saw besides: the request first never answered (the node died
    // waiting; sent again after the restart with the same key), and flaky's refusals.
    assert.deepEqual(recv.got.filter((g) => g.status !== 200).map((g) => `${g.path} ${g.status}`).filter((x, i, all) => all.indexOf(x) === i), ['/first 0', '/flaky 503']);
    assert.equal(recv.got.filter((g) => g.path === '/first' && g.status === 0).length, 1);

    const alert = await get(`${url}/api/alerts/1`);
    assert.equal(alert.state, 'resolved');
    assert.equal(alert.sla, 'job');
    assert.equal(alert.source, 'heartbeat');
    assert.deepEqual(alert.history.filter((h: { what: string }) => ['firing', 'notify', 'resolved'].includes(h.what)).map((h: { what: string; message: string }) => `${h.what}: ${h.message.replace(/after [\dhms]+/, 'after N')}`), [
      'firing: heartbeat job failed',
      'notify: firing level 1 to first, flaky',
      'notify: firing level 2 to second',
      'resolved: after N: heartbeat job is up',
      'notify: resolved to first, flaky, second',
    ]);
  });
});
