import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/load';
import { applyOverride, differences, optionProblems, patchOverride, reduceOverride, toDef } from '../../src/heartbeat/options';
import { registry } from '../../src/registry';
import { heartbeatBlock } from './index';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('heartbeat block', () => {
  it('sample.yaml is a valid blocks list', () => {
    const { config } = loadConfig(path.join(ROOT, 'blocks', 'heartbeat', 'sample.yaml'), registry);
    assert.deepEqual(config.blocks.map((b) => [b.name, b.type]), [
      ['nightly-backup', 'heartbeat'], ['queue-worker', 'heartbeat'], ['etl', 'heartbeat'], ['legacy-sync', 'heartbeat'],
    ]);
  });

  it('is passive and has the options of the README', () => {
    assert.equal(heartbeatBlock.passive, true);
    assert.deepEqual(Object.keys(heartbeatBlock.schema.properties), ['period', 'schedule', 'tz', 'grace', 'max_runtime', 'paused', 'escalate', 'severity', 'labels']);
  });

  // [options, problems]
  const checks: Array<[Record<string, unknown>, Array<[string, string]>]> = [
    [{ period: '1d' }, []],
    [{ schedule: '@daily', tz: 'Asia/Kolkata', grace: '0s' }, []],
    [{}, [['', 'needs period (rolling, e.g. period: 1d) or schedule (cron, e.g. schedule: "0 3 * * *")']]],
    [{ period: '1d', schedule: '@daily' }, [['schedule', 'give either period (rolling) or schedule (cron), not both']]],
    [{ period: 3600 }, [['period', 'expected a duration like 30s, 5m, 1h or 1d; got 3600']]],
    [{ schedule: '0 3 * * * * *' }, [['schedule', 'is not a cron expression (7 fields; give 5 (minute hour day month weekday) or 6 (seconds first)); expected e.g. "0 3 * * *" or @daily']]],
    [{ period: '1h', paused: 'yes' }, [['paused', 'expected true or false']]],
  ];
  for (const [o, want] of checks) {
    it(`optionProblems(${JSON.stringify(o)})`, () => assert.deepEqual(optionProblems(o), want));
  }

  it('a runtime edit of period replaces schedule and tz, and shows as a difference until written back', () => {
    const file = { schedule: '0 3 * * *', tz: 'Europe/Berlin', grace: '30m' };
    const override = patchOverride({}, { period: '2h' });
    assert.deepEqual(override, { period: '2h', schedule: null, tz: null });
    const effective = applyOverride(file, override);
    assert.deepEqual(effective, { grace: '30m', period: '2h' });
    assert.deepEqual(differences(file, effective), [
      { key: 'period', file: null, runtime: '2h' },
      { key: 'schedule', file: '0 3 * * *', runtime: null },
      { key: 'tz', file: 'Europe/Berlin', runtime: null },
    ]);
    // monitor.yaml now says the same (120m is 2h): nothing is left to differ.
    assert.deepEqual(reduceOverride({ period: '120m', grace: '30m' }, override), {});
  });

  it('defaults grace to 1m and max_runtime to grace', () => {
    const d = toDef('x', { period: '1h' });
    assert.deepEqual([d.graceMs, d.maxRuntimeMs, d.paused, d.tz], [60_000, 60_000, false, undefined]);
    const c = toDef('y', { schedule: '0 3 * * *', grace: '10m', max_runtime: '2h' });
    assert.deepEqual([c.graceMs, c.maxRuntimeMs, c.tz, c.cron], [600_000, 7_200_000, 'UTC', '0 3 * * *']);
  });
});
