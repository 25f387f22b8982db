/**
 * The derive bus subscriber (src/derive/deriver.ts) on a real bus and memory store: how a
 * message's samples reach the derived series that read them (by name, whatever their
 * order), what a derived series publishes, and what a reload keeps.
 */
import { strict as assert } from 'node:assert';
import { Bus, BusMessage } from '../src/bus';
import { Deriver } from '../src/derive/deriver';
import type { DeriveConfig } from '../src/derive/section';
import { silentLogger } from '../src/log';
import { MemoryStore } from '../src/store/memory';
import type { Sample } from '../src/store/store';
import { FakeClock } from './fake-clock';

const T0 = Date.parse('2026-03-02T12:00:00Z');

/** result is a block's result message with its samples in the order given ([field, value] pairs). */
function result(block: string, t: number, fields: Array<[string, number]>): BusMessage {
  const samples: Sample[] = fields.map(([f, value]) => ({ series: `${block}.${f}`, t, value, kind: 'gauge', heartbeat: 20 }));
  return {
    result: { block, type: 'feed', ok: true, fields: Object.fromEntries(fields), message: '', startedAt: t, durationMs: 1, lagMs: 0, trigger: 'schedule' },
    samples,
  };
}

/** node is a bus with the store and a deriver subscribed, and what the deriver published. */
async function node(configs: DeriveConfig[]): Promise<{ bus: Bus; deriver: Deriver; derived: Sample[] }> {
  const bus = new Bus(silentLogger());
  const store = new MemoryStore();
  bus.subscribe('store', (m) => store.write(m.samples));
  const deriver = new Deriver({ bus, store, clock: new FakeClock(T0), log: silentLogger(), heartbeatOf: () => 20, intervalOf: () => 10_000 }, configs);
  bus.subscribe('derive', deriver.handle);
  const derived: Sample[] = [];
  bus.subscribe('seen', (m) => { if (!m.result) derived.push(...m.samples); });
  await deriver.start();
  return { bus, deriver, derived };
}

describe('derive: the bus subscriber', () => {
  const configs: DeriveConfig[] = [
    { name: 'web.ratio', expr: 'web.value / web.duration_ms' },
    { name: 'web.twice', expr: 'web.ratio * 2' },
    { name: 'db.last', expr: 'last(db.rows, 3)' },
  ];
  // [scenario, messages (block, seconds after T0, fields in order), derived samples: series → values in order]
  const scenarios: Array<[string, Array<[string, number, Array<[string, number]>]>, Record<string, number[]>]> = [
    ['samples reach a block\'s series by name, in whatever order they come', [
      ['web', 0, [['up', 1], ['duration_ms', 4], ['value', 8]]],
      ['web', 10, [['value', 9], ['up', 1], ['duration_ms', 3]]],
      ['web', 20, [['duration_ms', 2], ['value', 5]]],
    ], { 'web.ratio': [2, 3, 2.5], 'web.twice': [4, 6, 5] }],
    ['a block no series reads feeds none; another block feeds its own', [
      ['api', 0, [['up', 1], ['value', 8]]],
      ['db', 0, [['up', 1], ['rows', 7]]],
      ['db', 10, [['rows', 9], ['up', 0]]],
    ], { 'db.last': [7, 9] }],
    ['an input missing from a result keeps its last value; nothing is published while one has none', [
      ['web', 0, [['up', 1], ['value', 8]]],
      ['web', 10, [['up', 1], ['duration_ms', 2]]],
    ], { 'web.ratio': [4], 'web.twice': [8] }],
  ];
  for (const [name, messages, want] of scenarios) {
    it(name, async () => {
      const n = await node(configs);
      for (const [block, sec, fields] of messages) n.bus.publish(result(block, T0 + sec * 1000, fields));
      const got: Record<string, number[]> = {};
      for (const s of n.derived) (got[s.series] ??= []).push(s.value);
      assert.deepEqual(got, want);
      // Each derived sample is at the newest input time it was computed from, with its inputs' heartbeat.
      assert.ok(n.derived.every((s) => s.heartbeat === 20 && s.kind === 'gauge'));
    });
  }

  it('a reload keeps the counts and last value of unchanged series and starts changed ones afresh', async () => {
    const n = await node(configs);
    for (let i = 0; i < 3; i++) n.bus.publish(result('web', T0 + i * 10_000, [['up', 1], ['duration_ms', 2], ['value', 4 + i]]));
    n.bus.publish(result('db', T0, [['rows', 1]]));
    const before = Object.fromEntries(n.deriver.list().map((s) => [s.name, s]));
    assert.deepEqual([before['web.ratio'].evaluations, before['web.ratio'].value, before['db.last'].samples], [3, 3, 1]);
    await n.deriver.update([configs[0], { name: 'web.twice', expr: 'web.ratio * 3' }, { name: 'db.sum', expr: 'sum(db.rows, 3)' }, configs[2]]);
    const after = Object.fromEntries(n.deriver.list().map((s) => [s.name, s]));
    assert.deepEqual(
      Object.values(after).map((s) => [s.name, s.evaluations, s.samples, s.value, s.state]),
      [
        ['web.ratio', 3, 3, 3, 'ok'],
        ['web.twice', 0, 0, undefined, 'pending'],
        ['db.sum', 0, 0, undefined, 'pending'],
        ['db.last', 1, 1, 1, 'ok'],
      ],
    );
    n.bus.publish(result('web', T0 + 30_000, [['duration_ms', 2], ['value', 10]]));
    assert.deepEqual(n.derived.slice(-2).map((s) => [s.series, s.value]), [['web.ratio', 5], ['web.twice', 15]]);
    assert.equal(n.deriver.list().find((s) => s.name === 'web.ratio')!.evaluations, 4);
  });
});
