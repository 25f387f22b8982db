import { strict as assert } from 'node:assert';
import { ALICE_THEN_BOB, AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { FakeClock } from './fake-clock';

const T0 = Date.parse('2026-03-02T10:00:00Z');

const CONFIG = `${ALICE_THEN_BOB}  web-repeat:
    levels:
      - { notify: [alice], after: 0s }
      - { notify: [bob], after: 10m }
    repeat: 1
    group_wait: 0s
  web-ack:
    levels:
      - { notify: [alice], after: 0s }
      - { notify: [bob], after: 10m }
    ack_timeout: 30m
    group_wait: 0s
`;

/** A scenario: what happens to the SLA homepage and when (minutes from T0), and the notifications expected. */
interface Scenario {
  name: string;
  escalate: string;
  steps: Array<[number, 'ack' | 'ok' | 'firing']>;
  until: number;
  told: string[];
}

const scenarios: Scenario[] = [
  {
    name: 'not acknowledged: level 1 at once, level 2 after 10m, then nothing more',
    escalate: 'web',
    steps: [[0, 'firing']],
    until: 120,
    told: ['alice@00:00 L1: homepage firing', 'bob@10:00 L2: homepage firing'],
  },
  {
    name: 'acknowledged at 5m: no level 2; alice hears of the ack',
    escalate: 'web',
    steps: [[0, 'firing'], [5, 'ack']],
    until: 120,
    told: ['alice@00:00 L1: homepage firing', 'alice@05:00 L0: homepage acknowledged'],
  },
  {
    name: 'ack_timeout: an ack 30m old without a resolution resumes escalation from level 1',
    escalate: 'web-ack',
    steps: [[0, 'firing'], [5, 'ack']],
    until: 120,
    told: ['alice@00:00 L1: homepage firing', 'alice@05:00 L0: homepage acknowledged', 'alice@35:00 L1: homepage firing', 'bob@45:00 L2: homepage firing'],
  },
  {
    name: 'ack_timeout does not fire once the alert resolved',
    escalate: 'web-ack',
    steps: [[0, 'firing'], [5, 'ack'], [20, 'ok']],
    until: 120,
    told: ['alice@00:00 L1: homepage firing', 'alice@05:00 L0: homepage acknowledged', 'alice@20:00 L0: homepage resolved'],
  },
  {
    name: 'repeat 1: the levels run once more, a gap after the last one',
    escalate: 'web-repeat',
    steps: [[0, 'firing']],
    until: 180,
    told: ['alice@00:00 L1: homepage firing', 'bob@10:00 L2: homepage firing', 'alice@20:00 L1: homepage firing', 'bob@30:00 L2: homepage firing'],
  },
  {
    name: 'resolved before level 2: only alice was told, and she hears it resolved',
    escalate: 'web',
    steps: [[0, 'firing'], [3, 'ok']],
    until: 60,
    told: ['alice@00:00 L1: homepage firing', 'alice@03:00 L0: homepage resolved'],
  },
];

describe('alerts: escalation on the fake clock', () => {
  let node: AlertsNode | undefined;
  const start = nodesPerTest();

  for (const s of scenarios) {
    it(s.name, async () => {
      const clock = new FakeClock(T0);
      node = await start(CONFIG, { clock });
      let minute = 0;
      for (const [at, what] of s.steps) {
        await node.advance((at - minute) * MIN);
        minute = at;
        if (what === 'ack') {
          const [a] = await node.op('alerts.list', { state: 'active' });
          await node.op('alerts.ack', { id: a.id, by: 'alice' });
        } else {
          node.sla('homepage', what, { escalate: s.escalate });
        }
        await node.advance(0);
      }
      await node.advance((s.until - minute) * MIN);
      assert.deepEqual(node.tells(T0), s.told);
    });
  }

  it('a reload applies at once to firing alerts: a level moved later, a contact added', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    node.sla('homepage', 'firing', { escalate: 'web' });
    await node.advance(5 * MIN);
    await node.reload(CONFIG.replace('- { notify: [bob], after: 10m }\n    group_wait: 0s\n  web-repeat', '- { notify: [bob, carol], after: 20m }\n    group_wait: 0s\n  web-repeat').replace('  bob: { log: true }', '  bob: { log: true }\n  carol: { log: true }'));
    await node.advance(60 * MIN);
    assert.deepEqual(node.tells(T0), ['alice@00:00 L1: homepage firing', 'bob@20:00 L2: homepage firing', 'carol@20:00 L2: homepage firing']);
  });

  it('a resolved notice says how long the incident lasted', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    node.sla('homepage', 'firing', { escalate: 'web', message: 'homepage.fast_ratio (0.65) >= 0.8 failed for 1m', value: 0.65 });
    await node.advance(12 * MIN + 30_000);
    node.sla('homepage', 'ok', { escalate: 'web', message: 'homepage.fast_ratio (0.95) >= 0.8' });
    await node.advance(0);
    const resolved = node.told.find((t) => t.n.alerts[0].state === 'resolved')!;
    assert.equal(resolved.n.alerts[0].duration_s, 750);
    const { title } = await import('../src/notify/payload');
    assert.equal(title(resolved.n), '[RESOLVED] homepage after 12m30s');
    const [a] = await node.op('alerts.list');
    assert.equal(a.state, 'resolved');
    assert.deepEqual(a.history.map((h: { what: string; message: string }) => `${h.what}: ${h.message}`), [
      'firing: homepage.fast_ratio (0.65) >= 0.8 failed for 1m',
      'notify: firing level 1 to alice',
      'notify: firing level 2 to bob',
      'resolved: after 12m30s: homepage.fast_ratio (0.95) >= 0.8',
      'notify: resolved to alice, bob',
    ]);
  });

  it('one alert per SLA and label set: a second firing event adds none; other labels make another', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    node.sla('api', 'firing', { escalate: 'web', labels: { region: 'eu' } });
    node.sla('api', 'firing', { escalate: 'web', labels: { region: 'eu' } });
    node.sla('api', 'firing', { escalate: 'web', labels: { region: 'us' } });
    await node.advance(MIN);
    const list = await node.op('alerts.list');
    assert.deepEqual(list.map((a: { labels: Record<string, string> }) => a.labels.region), ['us', 'eu']);
    // Both went to alice in the same tick: one notification (group_wait 0s groups a tick).
    assert.deepEqual(node.tells(T0), ['alice@00:00 L1: api,api firing']);
  });

  it('pending is kept but not told; unknown is not a resolution', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    node.sla('db', 'pending', { escalate: 'web' });
    await node.advance(MIN);
    assert.equal(node.told.length, 0);
    assert.equal((await node.op('alerts.list'))[0].state, 'pending');
    node.sla('db', 'firing', { escalate: 'web' });
    node.sla('db', 'unknown', { escalate: 'web' });
    await node.advance(MIN);
    const [a] = await node.op('alerts.list');
    assert.equal(a.state, 'firing');
    assert.deepEqual(node.tells(T0), ['alice@01:00 L1: db firing']);
  });

  it('a firing within the SLA\'s cooldown (notify false) is kept and shown, and nobody is told', async () => {
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock });
    node.sla('db', 'firing', { escalate: 'web', notify: false });
    await node.advance(30 * MIN);
    assert.equal(node.told.length, 0);
    const [a] = await node.op('alerts.list');
    assert.equal(a.suppressed, "fired within its SLA's cooldown: nobody is told");
  });
});
