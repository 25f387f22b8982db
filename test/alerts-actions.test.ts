import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ActionConfig, actionsFromConfig, buildAction, SlaActions } from '../src/alerts/actions';
import type { Config } from '../src/config/types';
import { AlertsNode, MIN, nodesPerTest } from './alerts-harness';
import { startReceiver } from './alerts-receivers';
import { FakeClock } from './fake-clock';
import { tmpDir } from './helpers';

const T0 = Date.parse('2026-03-02T10:00:00Z');

const CONFIG = `
contacts:
  alice: { log: true }
escalations:
  default: { levels: [ { notify: [alice] } ], group_wait: 0s }
`;

/**
 * SLA actions (slas[].actions: a command or a webhook run when the SLA's alert fires),
 * bounded by cooldown and max_per_day, recorded on the alert with the values that
 * justified them. The SLA section is another subsystem's; these tests hand the alerts the
 * actions an SLA would have (AlertsPluginOptions.actions), and the commands really run.
 */
describe('alerts: SLA actions, within cooldown and max_per_day', function () {
  this.timeout(30_000);
  let node: AlertsNode | undefined;
  const start = nodesPerTest();

  const view = async (n: AlertsNode) => (await n.op('alerts.list'))[0];

  it('runs once per cooldown and never past max_per_day (in any 24 hours), across a restart', async () => {
    const out = tmpDir('remon-action-');
    const ran = path.join(out, 'ran');
    const restart: ActionConfig = buildAction({ run: `echo "$REMON_ALERT_SLA $REMON_ALERT_VALUE" >> ${ran}`, cooldown: '30m', max_per_day: 3 });
    const actions: SlaActions = (_c, sla) => (sla === 'web' ? [restart] : []);
    const clock = new FakeClock(T0);
    node = await start(CONFIG, { clock, actions });
    const dir = node.dir;
    // [minute, value]: the SLA fires with that value, and is ok again 5 minutes later.
    const firings: Array<[number, number]> = [[0, 0.1], [10, 0.2], [40, 0.3], [60, 0.4], [80, 0.5], [120, 0.6], [24 * 60 + 1, 0.7]];
    const statuses: string[] = [];
    for (const [minute, value] of firings) {
      await node.advanceTo(T0 + minute * MIN);
      if (minute === 60) {
        // The node restarts between runs: the cooldown and the daily count are on the alert log.
        await node.stop();
        node = await start(CONFIG, { clock, actions, dir });
      }
      node.sla('web', 'firing', { value, message: `web.fast_ratio (${value}) >= 0.8 failed for 1m` });
      await node.advance(MIN);
      const [act] = (await view(node)).actions;
      statuses.push(`${minute}m ${act.value} ${act.status}${act.detail && act.status !== 'ok' ? `: ${act.detail}` : ''}`);
      node.sla('web', 'ok');
      await node.advance(4 * MIN);
    }
    assert.deepEqual(statuses, [
      '0m 0.1 ok',
      '10m 0.2 cooldown: ran 10m ago; cooldown 30m',
      '40m 0.3 ok',
      '60m 0.4 cooldown: ran 20m ago; cooldown 30m',
      '80m 0.5 ok',
      '120m 0.6 cap: ran 3 times in the last 24h; max_per_day 3',
      '1441m 0.7 ok',
    ]);
    assert.equal(fs.readFileSync(ran, 'utf8'), 'web 0.1\nweb 0.3\nweb 0.5\nweb 0.7\n');
    const last = await view(node);
    assert.deepEqual(last.actions.map((a: Record<string, unknown>) => ({ ...a, at: undefined })), [
      { at: undefined, action: `run: echo "$REMON_ALERT_SLA $REMON_ALERT_VALUE" >> ${ran}`, status: 'ok', value: 0.7, message: 'web.fast_ratio (0.7) >= 0.8 failed for 1m', node: 'testnode' },
    ]);
    assert.ok(last.history.some((h: { what: string; message: string }) => h.what === 'action' && h.message === `run: echo "$REMON_ALERT_SLA $REMON_ALERT_VALUE" >> ${ran}: ok`));
  });

  it('a webhook action POSTs the action and the alert; a failing command is recorded as failed with its reason', async () => {
    const hook = await startReceiver('json');
    try {
      const actions: SlaActions = () => [buildAction({ webhook: `${hook.url}/scale` }), buildAction({ run: 'echo disk full >&2; exit 4' })];
      node = await start(CONFIG, { clock: new FakeClock(T0), actions });
      node.sla('queue', 'firing', { value: 1200, message: 'queue.depth (1200) < 1000 failed for 5m' });
      await node.advance(MIN);
      assert.deepEqual(hook.got.map((g) => [g.url, g.body.action, g.body.alert.sla, g.body.alert.value, g.body.alert.message]), [
        ['/scale', `webhook: ${hook.url}/scale`, 'queue', 1200, 'queue.depth (1200) < 1000 failed for 5m'],
      ]);
      const a = await view(node);
      assert.deepEqual(a.actions.map((x: { action: string; status: string; detail?: string }) => `${x.action}: ${x.status}${x.detail ? ` (${x.detail})` : ''}`), [
        `webhook: ${hook.url}/scale: ok`,
        'run: echo disk full >&2; exit 4: failed (exit code 4: disk full)',
      ]);
      assert.deepEqual([node.alerting.stats().actions, node.alerting.stats().actionFailures], [2, 1]);
    } finally {
      await hook.close();
    }
  });

  it('no action for a firing within the SLA\'s cooldown (notify false), nor for a silenced one', async () => {
    const out = tmpDir('remon-action-');
    const actions: SlaActions = () => [buildAction({ run: `touch ${out}/ran` })];
    node = await start(`${CONFIG}silences:\n  - { match: { team: web }, until: 2026-03-03T00:00:00Z }\n`, { clock: new FakeClock(T0), actions });
    node.sla('quiet', 'firing', { notify: false });
    node.sla('silenced', 'firing', { labels: { team: 'web' } });
    await node.advance(MIN);
    assert.equal(fs.existsSync(path.join(out, 'ran')), false);
    const byName = Object.fromEntries((await node.op('alerts.list')).map((a: { sla: string }) => [a.sla, a]));
    assert.deepEqual(byName.quiet.actions, []);
    assert.deepEqual(byName.silenced.actions.map((x: { status: string; detail: string }) => `${x.status}: ${x.detail}`), [
      'suppressed: silenced by yaml-1 (team=web) until 2026-03-03T00:00:00.000Z',
    ]);
  });
});

/**
 * actionsFromConfig, the alerts' default way to an SLA's actions: config.slas[].actions,
 * built by the SLA section or raw as written. It runs at every firing, so with 10,000
 * SLAs (BENCH_ONLY=alerts) it must not scan them all each time.
 */
describe('alerts: the SLAs\' actions from config.slas', () => {
  const restart = buildAction({ run: 'systemctl restart web', cooldown: '30m', max_per_day: 3 });
  const asConfig = (slas: unknown): Config => ({ slas } as unknown as Config);
  const scenarios: Array<{ name: string; slas: unknown; sla: string; want: ActionConfig[] }> = [
    { name: 'built by the section', slas: [{ name: 'db', actions: [] }, { name: 'web', actions: [restart] }], sla: 'web', want: [restart] },
    { name: 'raw as written', slas: [{ name: 'web', actions: [{ webhook: 'http://127.0.0.1:9/scale', cooldown: '5m' }] }], sla: 'web',
      want: [{ webhook: 'http://127.0.0.1:9/scale', cooldownMs: 300_000, timeoutMs: 60_000 }] },
    { name: 'an SLA without actions', slas: [{ name: 'web' }], sla: 'web', want: [] },
    { name: 'a name that is no SLA (a heartbeat)', slas: [{ name: 'web', actions: [restart] }], sla: 'backup', want: [] },
    { name: 'a node without slas:', slas: undefined, sla: 'web', want: [] },
    { name: 'the first of a repeated name', slas: [{ name: 'web', actions: [restart] }, { name: 'web', actions: [] }], sla: 'web', want: [restart] },
  ];
  for (const s of scenarios) {
    it(s.name, () => assert.deepEqual(actionsFromConfig(asConfig(s.slas), s.sla), s.want));
  }

  it('a reloaded config\'s actions, not the ones of the config before', () => {
    const before = asConfig([{ name: 'web', actions: [restart] }]);
    assert.deepEqual(actionsFromConfig(before, 'web'), [restart]);
    const after = asConfig([{ name: 'web', actions: [] }, { name: 'api', actions: [restart] }]);
    assert.deepEqual([actionsFromConfig(after, 'web'), actionsFromConfig(after, 'api')], [[], [restart]]);
    assert.deepEqual(actionsFromConfig(before, 'web'), [restart]);
  });

  it('50,000 SLAs: 50,000 lookups in well under a second (no scan of every SLA at each firing)', () => {
    const n = 50_000;
    const config = asConfig(Array.from({ length: n }, (_, i) => ({ name: `s${i}`, actions: i === n - 1 ? [restart] : [] })));
    const t0 = performance.now();
    let found = 0;
    for (let i = 0; i < n; i++) found += actionsFromConfig(config, `s${(i * 7919) % n}`).length;
    const ms = performance.now() - t0;
    assert.equal(found, 1);
    // A scan per lookup is n²/2 comparisons: seconds here.
    assert.ok(ms < 1000, `${Math.round(ms)} ms`);
  });
});
