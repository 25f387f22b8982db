import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ActionConfig, buildAction, SlaActions } from '../src/alerts/actions';
import { buildGuard, guardRefusal } from '../src/alerts/guard';
import { AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { FakeClock } from './fake-clock';
import { tmpDir } from './helpers';

const T0 = Date.parse('2026-03-02T10:00:00Z');

const CONFIG = `
contacts:
  alice: { log: true }
escalations:
  default: { levels: [ { notify: [alice] } ], group_wait: 0s }
`;

interface ActionView {
  at: string;
  action: string;
  status: string;
  value: unknown;
  message: string;
  detail?: string;
  guard?: Record<string, unknown>;
  node?: string;
  repeat?: boolean;
}

/**
 * Bounded actions (monscale): a guard read at each decision (shared state, a counter, a
 * series) with min/max bounds and a step, repeat each cooldown while the SLA fires, and
 * each decision recorded with what justified it. The node runs on a fake clock; the
 * commands really run and append to a file, so the runs are counted where they happened.
 */
describe('alerts: bounded actions (guard, step, repeat while firing)', function () {
  this.timeout(30_000);
  const start = nodesPerTest();
  let out = '';
  let ran = '';
  beforeEach(() => {
    out = tmpDir('remon-bounded-');
    ran = path.join(out, 'ran');
  });

  /** runs are the lines the action's command appended: the minute (from T0) it ran at. */
  const runs = (): string[] => (fs.existsSync(ran) ? fs.readFileSync(ran, 'utf8').trim().split('\n').filter(Boolean) : []);
  const command = (): string => `echo run >> ${ran}`;
  const actionsOf = async (n: AlertsNode): Promise<ActionView[]> => (await n.op('alerts.list'))[0].actions;
  const minuteOf = (iso: string): number => (Date.parse(iso) - T0) / MIN;
  const lines = (xs: ActionView[]): string[] => xs.map((x) => `${minuteOf(x.at)}m ${x.status}${x.detail && x.status !== 'ok' ? `: ${x.detail}` : ''}`);
  const only = (a: ActionConfig): SlaActions => (_c, sla) => (sla === 'web-slow' ? [a] : []);

  it('a scale-up runs once per cooldown while the SLA fires, and never past its max (step applied to the shared value)', async () => {
    const up = buildAction({ run: command(), cooldown: '10m', repeat: true, guard: { state: 'scaling/web_nodes', max: 5, step: 1 } });
    const node = await start(CONFIG, { clock: new FakeClock(T0), actions: only(up) });
    await node.op('state.set', { bucket: 'scaling', key: 'web_nodes', value: 2 });
    node.sla('web-slow', 'firing', { value: 0.41, message: 'web.fast_ratio (0.41) >= 0.8 failed for 1m' });
    await node.advance(55 * MIN);
    assert.equal(runs().length, 3, 'three runs: 2 → 3 → 4 → 5');
    assert.deepEqual((await node.op('state.get', { bucket: 'scaling', key: 'web_nodes' })).value, 5);
    const acts = await actionsOf(node);
    assert.deepEqual(lines(acts), [
      '0m ok', '10m ok', '20m ok',
      '30m guard: state scaling/web_nodes is 5; step +1 would make it 6, above max 5',
      '40m guard: state scaling/web_nodes is 5; step +1 would make it 6, above max 5',
      '50m guard: state scaling/web_nodes is 5; step +1 would make it 6, above max 5',
    ]);
    // The record shows the values that justified each decision: the guard's reading, its bound and step, the value after.
    assert.deepEqual(acts.map((a) => a.guard), [
      { source: 'state scaling/web_nodes', value: 2, max: 5, step: 1, after: 3 },
      { source: 'state scaling/web_nodes', value: 3, max: 5, step: 1, after: 4 },
      { source: 'state scaling/web_nodes', value: 4, max: 5, step: 1, after: 5 },
      { source: 'state scaling/web_nodes', value: 5, max: 5, step: 1 },
      { source: 'state scaling/web_nodes', value: 5, max: 5, step: 1 },
      { source: 'state scaling/web_nodes', value: 5, max: 5, step: 1 },
    ]);
    assert.deepEqual(acts.map((a) => [a.value, a.message, a.node, a.repeat ?? false]).slice(0, 2), [
      [0.41, 'web.fast_ratio (0.41) >= 0.8 failed for 1m', 'testnode', false],
      [0.41, 'web.fast_ratio (0.41) >= 0.8 failed for 1m', 'testnode', true],
    ]);
    const history = (await node.op('alerts.list'))[0].history.map((h: { what: string; message: string }) => `${h.what}: ${h.message}`);
    assert.ok(history.includes(`action: run: ${command()}: running (state scaling/web_nodes 2 → 3)`), history.join('\n'));
    assert.ok(history.includes(`action: run: ${command()}: guard (state scaling/web_nodes is 5; step +1 would make it 6, above max 5)`), history.join('\n'));
    // Someone scales down by hand: the next repeat sees room again.
    await node.op('state.set', { bucket: 'scaling', key: 'web_nodes', value: 4 });
    await node.advance(10 * MIN);
    assert.equal(runs().length, 4);
    // Resolved: no more repeats.
    node.sla('web-slow', 'ok');
    await node.advance(60 * MIN);
    assert.equal(runs().length, 4);
    assert.equal((await node.op('alerts.list'))[0].state, 'resolved');
    // Each run went onto the shared queue remon.actions with its guard reading.
    const queued = await node.op('queue.peek', { queue: 'remon.actions', n: 10 });
    assert.deepEqual(queued.map((m: { guard: { value: number; after: number }; sla: string }) => `${m.sla} ${m.guard.value}→${m.guard.after}`), [
      'web-slow 2→3', 'web-slow 3→4', 'web-slow 4→5', 'web-slow 4→5',
    ]);
  });

  it('a scale-down on a counter refuses at its min', async () => {
    const down = buildAction({ run: command(), cooldown: '5m', repeat: true, guard: { counter: 'web_nodes', min: 2, step: -1 } });
    const node = await start(CONFIG, { clock: new FakeClock(T0), actions: only(down) });
    await node.op('counter.set', { name: 'web_nodes', value: 4 });
    node.sla('web-slow', 'firing', { value: 0.02, message: 'web.load (0.02) > 0.2 failed for 10m' });
    await node.advance(16 * MIN);
    assert.equal(runs().length, 2);
    assert.equal((await node.op('counter.get', { name: 'web_nodes' })).value, 2);
    assert.deepEqual(lines(await actionsOf(node)), ['0m ok', '5m ok', '10m guard: counter web_nodes is 2; step -1 would make it 1, below min 2', '15m guard: counter web_nodes is 2; step -1 would make it 1, below min 2']);
  });

  it('without a step, max refuses at the bound and min at its own; a series guard reads the newest stored value', async () => {
    const up = buildAction({ run: command(), guard: { series: 'web.nodes', max: 3 } });
    const down = buildAction({ run: command(), guard: { series: 'web.nodes', min: 1 } });
    const node = await start(CONFIG, { clock: new FakeClock(T0), actions: (_c, sla) => (sla === 'up' ? [up] : sla === 'down' ? [down] : []) });
    node.engine.store.write([{ series: 'web.nodes', t: T0 - 30_000, value: 3, kind: 'gauge' }]);
    node.sla('up', 'firing');
    node.sla('down', 'firing');
    await node.advance(MIN);
    const byName = Object.fromEntries((await node.op('alerts.list')).map((a: { sla: string; actions: ActionView[] }) => [a.sla, a.actions]));
    assert.deepEqual(lines(byName.up), ['0m guard: series web.nodes is 3; at max 3']);
    assert.deepEqual(byName.up[0].guard, { source: 'series web.nodes', value: 3, max: 3 });
    assert.deepEqual(lines(byName.down), ['0m ok']);
    assert.equal(runs().length, 1);
  });

  it('guardRefusal: the bounds with and without a step', () => {
    const scenarios: Array<[string, Record<string, unknown>, number, string | undefined]> = [
      ['below max', { counter: 'n', max: 3 }, 2, undefined],
      ['at max', { counter: 'n', max: 3 }, 3, 'counter n is 3; at max 3'],
      ['above max', { counter: 'n', max: 3 }, 7, 'counter n is 7; at max 3'],
      ['above min', { state: 'b/n', min: 1 }, 2, undefined],
      ['at min', { state: 'n', min: 1 }, 1, 'state default/n is 1; at min 1'],
      ['step up to max', { counter: 'n', max: 3, step: 1 }, 2, undefined],
      ['step up past max', { counter: 'n', max: 3, step: 2 }, 2, 'counter n is 2; step +2 would make it 4, above max 3'],
      ['step down to min', { counter: 'n', min: 1, step: -1 }, 2, undefined],
      ['step down past min', { counter: 'n', min: 1, step: -1 }, 1, 'counter n is 1; step -1 would make it 0, below min 1'],
      ['both, inside', { series: 'w.n', min: 1, max: 3 }, 2, undefined],
    ];
    for (const [name, raw, value, want] of scenarios) assert.equal(guardRefusal(buildGuard(raw), value), want, name);
  });

  it('a guard that cannot be read refuses the action and says why', async () => {
    const scenarios: Array<[string, Record<string, unknown>, string]> = [
      ['unset', { state: 'web_nodes', max: 10, step: 1 }, 'guard not read, so not run: state default/web_nodes is not set'],
      ['text', { state: 'labels/web', max: 10 }, 'guard not read, so not run: state labels/web holds "many", not a number'],
      ['noseries', { series: 'web.nodes', max: 10 }, 'guard not read, so not run: series web.nodes has no stored values'],
      ['stale', { series: 'db.nodes', max: 10 }, 'guard not read, so not run: series db.nodes has no value in the last 15m'],
    ];
    const actions: SlaActions = (_c, sla) => {
      const s = scenarios.find((x) => x[0] === sla);
      return s ? [buildAction({ run: command(), guard: s[1] })] : [];
    };
    const node = await start(CONFIG, { clock: new FakeClock(T0), actions });
    await node.op('state.set', { bucket: 'labels', key: 'web', value: 'many' });
    node.engine.store.write([{ series: 'db.nodes', t: T0 - 20 * MIN, value: 2, kind: 'gauge' }]);
    for (const [sla] of scenarios) node.sla(sla, 'firing');
    await node.advance(MIN);
    const got = Object.fromEntries((await node.op('alerts.list')).map((a: { sla: string; actions: ActionView[] }) => [a.sla, a.actions.map((x) => `${x.status}: ${x.detail}`)]));
    for (const [sla, , want] of scenarios) assert.deepEqual(got[sla], [`guard: ${want}`], sla);
    assert.equal(runs().length, 0);
    assert.equal((await node.op('state.get', { bucket: 'default', key: 'web_nodes' })).exists, false, 'no step applied to a value that was not there');
  });

  it('repeats across a restart keep their cooldown (the last run is on the alert log)', async () => {
    const up = buildAction({ run: command(), cooldown: '10m', repeat: true });
    const clock = new FakeClock(T0);
    let node = await start(CONFIG, { clock, actions: only(up) });
    node.sla('web-slow', 'firing');
    await node.advance(4 * MIN);
    assert.equal(runs().length, 1);
    const dir = node.dir;
    await node.stop();
    node = await start(CONFIG, { clock, actions: only(up), dir });
    await node.advance(5 * MIN);
    assert.equal(runs().length, 1, 'not again within the cooldown after the restart');
    await node.advance(2 * MIN);
    assert.equal(runs().length, 2, 'again once the cooldown passed, the SLA still firing');
    assert.deepEqual(lines(await actionsOf(node)), ['0m ok', '10m ok']);
  });
});
