import { strict as assert } from 'node:assert';
import { AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { FakeClock } from './fake-clock';

/**
 * Who is told when a level names schedule:primary: a weekly rotation handing off on
 * Mondays at 09:00 Berlin time (alice from 2026-03-02, then bob, alice, ...), an override
 * (carol, all of 31 March in Berlin), and a weekend layer (dave) on top. Europe/Berlin
 * moves its clocks from 02:00 to 03:00 on Sunday 29 March 2026, so the handoff of Monday
 * 30 March is at 07:00Z where the week before it was at 08:00Z.
 */
const CONFIG = `
contacts:
  alice: { log: true }
  bob: { log: true }
  carol: { log: true }
  dave: { log: true }
schedules:
  primary:
    tz: Europe/Berlin
    layers:
      - { every: 1w, handoff: "mon 09:00", start: 2026-03-02, people: [alice, bob] }
      - { every: 1w, handoff: "sat 00:00", people: [dave], days: [sat, sun] }
    overrides:
      - { person: carol, from: 2026-03-31T00:00, to: 2026-04-01T00:00 }
escalations:
  oncall:
    levels:
      - { notify: [schedule:primary], after: 0s }
      - { notify: [schedule:primary], after: 10m }
    group_wait: 0s
`;

interface Scenario {
  name: string;
  /** When the SLA fires (UTC). */
  at: string;
  /** Contacts told at level 1 and level 2 (10 minutes later). */
  told: [string, string];
}

const scenarios: Scenario[] = [
  { name: 'winter: one minute before Monday\'s 09:00 CET handoff (07:59Z) it is still alice', at: '2026-03-23T07:59:00Z', told: ['alice', 'bob'] },
  { name: 'winter: at 09:00 CET (08:00Z) bob takes over', at: '2026-03-23T08:00:00Z', told: ['bob', 'bob'] },
  { name: 'after the DST change: at 08:59 CEST (06:59Z) it is still bob', at: '2026-03-30T06:59:00Z', told: ['bob', 'alice'] },
  { name: 'after the DST change: at 09:00 CEST (07:00Z, an hour earlier in UTC) alice takes over', at: '2026-03-30T07:00:00Z', told: ['alice', 'alice'] },
  { name: 'at 07:30Z on 30 March it is alice (a rotation counted in UTC would still say bob)', at: '2026-03-30T07:30:00Z', told: ['alice', 'alice'] },
  { name: 'the override: carol is on call all of 31 March in Berlin, from 22:00Z the day before', at: '2026-03-30T22:00:00Z', told: ['carol', 'carol'] },
  { name: 'one minute before the override starts it is alice, and level 2 goes to carol', at: '2026-03-30T21:55:00Z', told: ['alice', 'carol'] },
  { name: 'the override ends at midnight Berlin time (22:00Z): level 2 goes back to alice', at: '2026-03-31T21:55:00Z', told: ['carol', 'alice'] },
  { name: 'autumn: clocks go back on 25 October; at 07:55Z on Monday 26th (08:55 CET) it is still bob, then alice at 08:00Z', at: '2026-10-26T07:55:00Z', told: ['bob', 'alice'] },
  { name: 'the weekend layer: dave on Saturday, over the weekly rotation', at: '2026-03-28T12:00:00Z', told: ['dave', 'dave'] },
  { name: 'the weekend layer ends at Monday 00:00 Berlin: level 2 goes to the weekly rotation (bob)', at: '2026-03-29T21:55:00Z', told: ['dave', 'bob'] },
];

describe('alerts: on-call schedules on the fake clock', () => {
  let node: AlertsNode | undefined;
  const start = nodesPerTest();

  for (const s of scenarios) {
    it(s.name, async () => {
      const t0 = Date.parse(s.at);
      node = await start(CONFIG, { clock: new FakeClock(t0) });
      node.sla('db', 'firing', { escalate: 'oncall' });
      await node.advance(30 * MIN);
      assert.deepEqual(node.tells(t0), [`${s.told[0]}@00:00 L1: db firing`, `${s.told[1]}@10:00 L2: db firing`]);
    });
  }

  it('GET /api/oncall says who, from which layer or override, and until when', async () => {
    node = await start(CONFIG, { clock: new FakeClock(Date.parse('2026-03-30T06:00:00Z')) });
    const at = async (t: string) => (await node!.op('oncall.list', { at: t }))[0];
    assert.deepEqual(await at('2026-03-30T06:00:00Z'), { schedule: 'primary', tz: 'Europe/Berlin', person: 'bob', from: 0, until: '2026-03-30T07:00:00.000Z' });
    assert.deepEqual(await at('2026-03-30T12:00:00Z'), { schedule: 'primary', tz: 'Europe/Berlin', person: 'alice', from: 0, until: '2026-03-30T22:00:00.000Z' });
    assert.deepEqual(await at('2026-03-31T12:00:00Z'), { schedule: 'primary', tz: 'Europe/Berlin', person: 'carol', from: 'override', until: '2026-03-31T22:00:00.000Z' });
    assert.deepEqual(await at('2026-03-28T12:00:00Z'), { schedule: 'primary', tz: 'Europe/Berlin', person: 'dave', from: 1, until: '2026-03-29T22:00:00.000Z' });
    // Without at: the node's clock.
    assert.equal((await node.op('oncall.list'))[0].person, 'bob');
  });
});
