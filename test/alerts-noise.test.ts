import { strict as assert } from 'node:assert';
import { ALICE_THEN_BOB, AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { FakeClock } from './fake-clock';

const T0 = Date.parse('2026-03-02T10:00:00Z');

/** Less noise: silences (monitor.yaml and API), depends_on, grouping; and heartbeats as alert sources. */
const CONFIG = `${ALICE_THEN_BOB}  grouped:
    levels:
      - { notify: [alice], after: 0s }
      - { notify: [bob], after: 10m }
    group_wait: 30s
silences:
  - { match: { team: web }, until: 2026-03-02T10:30:00Z, comment: deploy }
blocks:
  - { name: backup, type: heartbeat, period: 1h, grace: 5m, escalate: web, labels: { team: ops } }
`;

type Step = [seconds: number, what: (n: AlertsNode) => Promise<unknown> | void];

interface Scenario {
  name: string;
  steps: Step[];
  until: number;
  /** `contact@MM:SS sla:state:Llevel,...` for each notification, in the order they went out. */
  told: string[];
}

const fire = (sla: string, data: Record<string, unknown> = {}) => (n: AlertsNode) => n.sla(sla, 'firing', { escalate: 'web', ...data });
const ok = (sla: string) => (n: AlertsNode) => n.sla(sla, 'ok', { escalate: 'web' });

const scenarios: Scenario[] = [
  {
    name: 'a silence in monitor.yaml holds a matching alert; when it ends escalation starts at level 1',
    steps: [[0, fire('homepage', { labels: { team: 'web' } })]],
    until: 60 * 60,
    told: ['alice@30:00 homepage:firing:L1', 'bob@40:00 homepage:firing:L2'],
  },
  {
    name: 'an alert the silence does not match is told at once',
    steps: [[0, fire('db', { labels: { team: 'db' } })]],
    until: 60 * 60,
    told: ['alice@00:00 db:firing:L1', 'bob@10:00 db:firing:L2'],
  },
  {
    name: 'a silence made over the API holds level 2; expiring it starts escalation over',
    steps: [
      [0, fire('db')],
      [5 * 60, (n) => n.op('silences.create', { match: { sla: 'db' }, for: '1h', comment: 'looking into it', by: 'alice' })],
      [20 * 60, (n) => n.op('silences.expire', { id: 's1' })],
    ],
    until: 60 * 60,
    told: ['alice@00:00 db:firing:L1', 'alice@20:00 db:firing:L1', 'bob@30:00 db:firing:L2'],
  },
  {
    name: 'depends_on: a host behind a firing gateway is not paged; when the gateway resolves it is',
    steps: [
      [0, fire('gateway')],
      [60, fire('host', { depends_on: ['gateway'] })],
      [15 * 60, ok('gateway')],
    ],
    until: 60 * 60,
    told: [
      'alice@00:00 gateway:firing:L1',
      'bob@10:00 gateway:firing:L2',
      'alice@15:00 gateway:resolved:L0',
      'bob@15:00 gateway:resolved:L0',
      'alice@15:00 host:firing:L1',
      'bob@25:00 host:firing:L2',
    ],
  },
  {
    name: 'depends_on: a gateway that fires after its host holds the host\'s next level',
    steps: [
      [0, fire('host', { depends_on: ['gateway'] })],
      [5 * 60, fire('gateway')],
      [20 * 60, ok('gateway')],
    ],
    until: 60 * 60,
    told: [
      'alice@00:00 host:firing:L1',
      'alice@05:00 gateway:firing:L1',
      'bob@15:00 gateway:firing:L2',
      'alice@20:00 gateway:resolved:L0',
      'bob@20:00 gateway:resolved:L0',
      'alice@20:00 host:firing:L1',
      'bob@30:00 host:firing:L2',
    ],
  },
  {
    name: 'grouping: alerts of one escalation firing within group_wait go out as one notification',
    steps: [
      [0, fire('a', { escalate: 'grouped' })],
      [10, fire('b', { escalate: 'grouped' })],
      [20, fire('c', { escalate: 'grouped' })],
      [40, fire('d', { escalate: 'grouped' })],
    ],
    until: 12 * 60,
    told: [
      'alice@00:30 a:firing:L1,b:firing:L1,c:firing:L1',
      'alice@01:10 d:firing:L1',
      'bob@10:30 a:firing:L2,b:firing:L2,c:firing:L2',
      'bob@11:10 d:firing:L2',
    ],
  },
  {
    name: 'grouping: other escalations are other groups',
    steps: [
      [0, fire('a', { escalate: 'grouped' })],
      [5, fire('b')],
    ],
    until: 60,
    told: ['alice@00:05 b:firing:L1', 'alice@00:30 a:firing:L1'],
  },
  {
    name: 'grouping: an alert resolved while its firing waits in the group: nobody hears of either',
    steps: [
      [0, fire('a', { escalate: 'grouped' })],
      [10, fire('b', { escalate: 'grouped' })],
      [20, (n) => n.sla('a', 'ok', { escalate: 'grouped' })],
    ],
    until: 60,
    told: ['alice@00:30 b:firing:L1'],
  },
  {
    name: 'grouping: an alert acknowledged while its firing waits in the group: nobody hears of either',
    steps: [
      [0, fire('a', { escalate: 'grouped' })],
      [10, (n) => n.op('alerts.ack', { id: '1', by: 'carol' })],
    ],
    until: 60,
    told: [],
  },
  {
    name: 'a heartbeat that misses its deadline raises an alert, and its next success resolves it',
    steps: [[80 * 60, (n) => n.op('heartbeat.send', { name: 'backup' })]],
    until: 90 * 60,
    told: ['alice@65:00 backup:firing:L1', 'bob@75:00 backup:firing:L2', 'alice@80:00 backup:resolved:L0', 'bob@80:00 backup:resolved:L0'],
  },
  {
    name: 'a heartbeat that fails raises an alert at once',
    steps: [[60, (n) => n.op('heartbeat.send', { name: 'backup', kind: 'fail' })], [3 * 60, (n) => n.op('heartbeat.send', { name: 'backup' })]],
    until: 10 * 60,
    told: ['alice@01:00 backup:firing:L1', 'alice@03:00 backup:resolved:L0'],
  },
];

function told(n: AlertsNode): string[] {
  const mmss = (ms: number): string => `${String(Math.floor(ms / MIN)).padStart(2, '0')}:${String(Math.floor((ms % MIN) / 1000)).padStart(2, '0')}`;
  return n.told.map((x) => `${x.contact}@${mmss(x.at - T0)} ${x.n.alerts.map((a) => `${a.sla}:${a.state}:L${a.level}`).join(',')}`);
}

describe('alerts: silences, depends_on, grouping, heartbeats on the fake clock', () => {
  let node: AlertsNode | undefined;
  const start = nodesPerTest();

  for (const s of scenarios) {
    it(s.name, async () => {
      node = await start(CONFIG, { clock: new FakeClock(T0) });
      let at = 0;
      for (const [t, what] of s.steps) {
        await node.advance((t - at) * 1000);
        at = t;
        await what(node);
        await node.advance(0);
      }
      await node.advance((s.until - at) * 1000);
      assert.deepEqual(told(node), s.told);
    });
  }

  it('a held alert says why, in the API and in its history', async () => {
    node = await start(CONFIG, { clock: new FakeClock(T0) });
    node.sla('gateway', 'firing', { escalate: 'web' });
    node.sla('host', 'firing', { escalate: 'web', depends_on: ['gateway'] });
    node.sla('homepage', 'firing', { escalate: 'web', labels: { team: 'web' } });
    await node.advance(MIN);
    const byName = Object.fromEntries((await node.op('alerts.list')).map((a: { sla: string }) => [a.sla, a]));
    assert.equal(byName.host.suppressed, 'inhibited: gateway is firing (depends_on)');
    assert.equal(byName.homepage.suppressed, 'silenced by yaml-1 (team=web) until 2026-03-02T10:30:00.000Z: deploy');
    assert.equal(byName.gateway.suppressed, null);
    assert.deepEqual(byName.homepage.history.map((h: { what: string; message: string }) => `${h.what}: ${h.message}`), [
      'firing: homepage firing',
      'held: not told: silenced by yaml-1 (team=web) until 2026-03-02T10:30:00.000Z: deploy',
    ]);
    const sil = await node.op('silences.list');
    assert.deepEqual(sil.map((x: { id: string; active: boolean; matchText: string }) => [x.id, x.active, x.matchText]), [['yaml-1', true, 'team=web']]);
    assert.equal((await node.op('alerts.list'))[0].level, 0);
  });

  it('a silence made over the API is kept across a restart of the node', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    const s = await node.op('silences.create', { match: { sla: ['db', 'api'] }, until: '2026-03-02T12:00:00Z', comment: 'maintenance', by: 'carol' });
    assert.deepEqual({ ...s }, {
      id: 's1', match: { sla: ['db', 'api'] }, matchText: 'sla=db|api', from: null, until: '2026-03-02T12:00:00.000Z', comment: 'maintenance',
      by: 'carol', source: 'api', active: true, expiredAt: null,
    });
    const dir = node.dir;
    await node.stop();
    node = await start(CONFIG, { clock, dir });
    node.sla('api', 'firing', { escalate: 'web' });
    await node.advance(30 * MIN);
    const api = (): string[] => told(node!).filter((l) => l.includes(' api:'));
    assert.deepEqual(api(), []);
    await node.advanceTo('2026-03-02T12:00:00Z');
    assert.deepEqual(api(), ['alice@120:00 api:firing:L1']);
  });
});
