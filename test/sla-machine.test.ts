/**
 * SLA tests' state machine (src/sla) on the fake clock, through a real SlaSet and the one
 * deadline service: for, keep_firing_for, cooldown (and flapping), no_data each way,
 * values that are not booleans, a test that throws, re-checks, the latency of a state
 * change, and the state kept across a restart.
 */
import { strict as assert } from 'node:assert';
import { SlaSpec } from '../src/sla';
import { captureLog, tmpDir } from './helpers';
import { harness, MIN, render, Script, SEC, T0 } from './sla-harness';

type Step = [number, number | boolean | undefined | 'throw'];

interface Case {
  name: string;
  spec: Partial<SlaSpec>;
  steps: Step[];
  until: number;
  expect: string[];
}

const flap = (n: number, last: boolean | undefined = undefined): Step[] => {
  const steps: Step[] = Array.from({ length: n }, (_, i) => [i * MIN, i % 2 === 1]);
  if (last !== undefined) steps.push([n * MIN, last]);
  return steps;
};

const cases: Case[] = [
  { name: 'for 0: the failing evaluation fires at once', spec: {}, steps: [[0, true], [10 * SEC, false]], until: MIN, expect: ['+0s unknown→ok', '+10s ok→firing!'] },
  {
    name: 'for 1m: pending, then firing when the minute has passed with no evaluation', spec: { forMs: MIN },
    steps: [[0, true], [10 * SEC, false]], until: 5 * MIN, expect: ['+0s unknown→ok', '+10s ok→pending', '+1m10s pending→firing!'],
  },
  {
    name: 'for 1m: a pass within the minute ends the pending', spec: { forMs: MIN },
    steps: [[0, true], [10 * SEC, false], [40 * SEC, false], [50 * SEC, true]], until: 5 * MIN, expect: ['+0s unknown→ok', '+10s ok→pending', '+50s pending→ok'],
  },
  {
    name: 'for 1m: failing evaluations every 30s fire at the due time, between two of them', spec: { forMs: MIN },
    steps: [[0, true], [10 * SEC, false], [40 * SEC, false], [70 * SEC, false], [100 * SEC, false]], until: 5 * MIN,
    expect: ['+0s unknown→ok', '+10s ok→pending', '+1m10s pending→firing!'],
  },
  {
    name: 'keep_firing_for 2m: stays firing after it passes, ok 2m later with no evaluation', spec: { keepFiringForMs: 2 * MIN },
    steps: [[0, false], [3 * MIN, true]], until: 10 * MIN, expect: ['+0s unknown→firing!', '+5m firing→ok!'],
  },
  {
    name: 'keep_firing_for 2m: a failure meanwhile starts it over', spec: { keepFiringForMs: 2 * MIN },
    steps: [[0, false], [3 * MIN, true], [4 * MIN, false], [4.5 * MIN, true]], until: 10 * MIN, expect: ['+0s unknown→firing!', '+6m30s firing→ok!'],
  },
  {
    name: 'keep_firing_for 2m: counted from the first pass, not the last', spec: { keepFiringForMs: 2 * MIN },
    steps: [[0, false], [1 * MIN, true], [2 * MIN, true], [2.5 * MIN, true]], until: 10 * MIN, expect: ['+0s unknown→firing!', '+3m firing→ok!'],
  },
  {
    name: 'cooldown 10m, flapping every minute: each firing is a change, notified once per 10m', spec: { cooldownMs: 10 * MIN },
    steps: flap(13), until: 14 * MIN,
    expect: [
      '+0s unknown→firing!', '+1m firing→ok!', '+2m ok→firing', '+3m firing→ok', '+4m ok→firing', '+5m firing→ok', '+6m ok→firing', '+7m firing→ok',
      '+8m ok→firing', '+9m firing→ok', '+10m ok→firing!', '+11m firing→ok!', '+12m ok→firing',
    ],
  },
  {
    name: 'cooldown 10m with keep_firing_for 2m: the flapping is one firing', spec: { cooldownMs: 10 * MIN, keepFiringForMs: 2 * MIN },
    steps: flap(13, true), until: 20 * MIN, expect: ['+0s unknown→firing!', '+15m firing→ok!'],
  },
  {
    name: 'cooldown 10m with for 1m: flapping faster than `for` never fires', spec: { cooldownMs: 10 * MIN, forMs: MIN },
    steps: flap(4).map(([t, v]) => [t / 2, v]), until: 5 * MIN,
    expect: ['+0s unknown→pending', '+30s pending→ok', '+1m ok→pending', '+1m30s pending→ok'],
  },
  {
    name: 'no_data unknown (default): a missing value is unknown', spec: {},
    steps: [[0, true], [MIN, undefined], [2 * MIN, true]], until: 3 * MIN, expect: ['+0s unknown→ok', '+1m ok→unknown', '+2m unknown→ok'],
  },
  { name: 'no_data ok: a missing value passes', spec: { noData: 'ok' }, steps: [[0, true], [MIN, undefined], [2 * MIN, true]], until: 3 * MIN, expect: ['+0s unknown→ok'] },
  {
    name: 'no_data fail with for 1m: a missing value fails, and fires a minute later', spec: { noData: 'fail', forMs: MIN },
    steps: [[0, true], [MIN, undefined]], until: 5 * MIN, expect: ['+0s unknown→ok', '+1m ok→pending', '+2m pending→firing!'],
  },
  {
    name: 'unknown while firing: kept for keep_firing_for, then unknown (not a resolution); ok after it is', spec: { keepFiringForMs: MIN },
    steps: [[0, false], [MIN, undefined], [3 * MIN, true]], until: 5 * MIN, expect: ['+0s unknown→firing!', '+2m firing→unknown', '+3m unknown→ok!'],
  },
  {
    name: 'numbers: 0 fails, other numbers pass, NaN is unknown', spec: {},
    steps: [[0, 5], [MIN, 0], [2 * MIN, NaN], [3 * MIN, -1]], until: 4 * MIN, expect: ['+0s unknown→ok', '+1m ok→firing!', '+2m firing→unknown', '+3m unknown→ok!'],
  },
  { name: 'a test that throws is unknown', spec: {}, steps: [[0, true], [MIN, 'throw'], [2 * MIN, true]], until: 3 * MIN, expect: ['+0s unknown→ok', '+1m ok→unknown', '+2m unknown→ok'] },
];

describe('SLA state machine: for, keep_firing_for, cooldown, no_data', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const script = new Script();
      const h = harness([[{ name: 's', ...c.spec }, script]]);
      for (const [t, v] of c.steps) {
        await h.at(t);
        script.throws = v === 'throw' ? 'boom' : undefined;
        if (v !== 'throw') script.value = v;
        h.slas[0].evaluate();
      }
      await h.at(c.until);
      assert.deepEqual(h.rendered(), c.expect);
      // Time-driven changes happen on the deadline service, at their due time: nothing else armed a timer.
      for (const tr of h.transitions) if (tr.cause !== 'evaluation') assert.ok(h.clock.fired.includes(tr.at), `${render(tr, T0)} at a fired timer`);
      h.set.stop();
    });
  }

  it('a transition carries the evaluation that caused it: message, value, cause, no-data flag, time failing', async () => {
    const script = new Script('orders.new');
    const h = harness([[{ name: 's', forMs: MIN, noData: 'fail' }, script]]);
    script.value = undefined;
    h.slas[0].evaluate();
    await h.at(2 * MIN);
    const fired = h.transitions[1];
    assert.deepEqual(
      { from: fired.from, to: fired.to, at: fired.at, previousSince: fired.previousSince, cause: fired.cause, message: fired.message, value: fired.value, noData: fired.noData, failingForMs: fired.failingForMs, notify: fired.notify },
      { from: 'pending', to: 'firing', at: T0 + MIN, previousSince: T0, cause: 'for', message: 'orders.new (no data) >= 1', value: undefined, noData: true, failingForMs: MIN, notify: true },
    );
    h.set.stop();
  });

  it('a test that throws: its error is the message, counted and logged once', async () => {
    const { log, records } = captureLog();
    const script = new Script();
    const h = harness([[{ name: 's' }, script]], { log });
    h.slas[0].evaluate();
    script.throws = 'series gone';
    h.slas[0].evaluate();
    h.slas[0].evaluate();
    assert.deepEqual(h.rendered(), ['+0s unknown→ok', '+0s ok→unknown']);
    assert.equal(h.transitions[1].message, 'evaluation failed: series gone');
    assert.equal(h.set.stats().errors, 2);
    assert.deepEqual(h.set.list()[0].lastError, { message: 'evaluation failed: series gone', at: T0 });
    assert.equal(records.filter((r) => r.msg === 'SLA test evaluation failed (further failures are counted)').length, 1);
    h.set.stop();
  });

  it('latency: with for 0, a failing evaluation changes the state within the same call, no timer involved', () => {
    const script = new Script();
    const h = harness([[{ name: 's' }, script]]);
    h.slas[0].evaluate();
    const armed = h.clock.set;
    script.value = false;
    h.slas[0].evaluate();
    // Synchronously: no await between the call and these checks.
    assert.deepEqual(h.rendered(), ['+0s unknown→ok', '+0s ok→firing!']);
    assert.equal(h.slas[0].state, 'firing');
    assert.equal(h.clock.set, armed, 'no timer set on the way');
    h.set.stop();
  });

  it('everyMs: re-evaluated with no sample, only when no evaluation came meanwhile', async () => {
    const script = new Script();
    const h = harness([[{ name: 's', everyMs: MIN }, script]]);
    await h.at(30 * SEC);
    h.slas[0].evaluate();
    script.value = false;
    await h.at(3 * MIN + 1);
    assert.deepEqual(script.calls.map((t) => t - T0), [30 * SEC, 2 * MIN, 3 * MIN]);
    assert.deepEqual(h.rendered(), ['+30s unknown→ok', '+2m ok→firing!']);
    h.set.stop();
  });

  it('removing an SLA ends its firing (notified) with cause removed; quiet removal says nothing', async () => {
    const a = new Script();
    const b = new Script();
    a.value = b.value = false;
    const h = harness([[{ name: 'a' }, a], [{ name: 'b' }, b]]);
    h.slas.forEach((s) => s.evaluate());
    await h.at(MIN);
    assert.equal(h.set.remove('a'), true);
    assert.equal(h.set.remove('b', true), true);
    assert.deepEqual(h.rendered(), ['+0s unknown→firing!', '+0s unknown→firing!', '+1m firing→inactive!']);
    assert.equal(h.transitions[2].cause, 'removed');
    assert.equal(h.transitions[2].message, 'removed from the configuration');
    assert.equal(h.set.size, 0);
  });

  it('periodic samples: at most one per sampleEveryMs while evaluated; a transition starts the period over', async () => {
    const times: number[] = [];
    const script = new Script();
    const h = harness([[{ name: 's' }, script]], { sampleEveryMs: 10 * SEC, onSample: (_sla, at) => times.push(at - T0) });
    for (let t = 0; t <= 30 * SEC; t += SEC) {
      await h.at(t);
      script.value = t !== 15 * SEC;
      h.slas[0].evaluate();
    }
    // The changes at +0s (unknown→ok), +15s (ok→firing) and +16s (firing→ok) carry their own samples.
    assert.deepEqual(times, [10 * SEC, 26 * SEC]);
    h.set.stop();
  });

  it('bad specs are refused with a coded error naming the SLA', () => {
    const h = harness([]);
    const bad: Array<[Partial<SlaSpec>, string]> = [
      [{ mode: 'slots' }, 'SLA "x": slots need `during` (the cron of the slots)'],
      [{ objective: { target: 99.9, windowMs: 1 } }, 'SLA "x": objective target 99.9 must be above 0 and below 1 (99.9% is 0.999)'],
      [{ forMs: -1 }, 'SLA "x": forMs must be 0 or more'],
      [{ during: { cron: '* * *' } }, 'SLA "x": during: CronPattern: invalid configuration format (\'* * *\'), exactly five, six, or seven space separated parts are required.'],
    ];
    for (const [spec, message] of bad) assert.throws(() => h.set.add({ name: 'x', ...spec }, new Script()), { code: 'REMON_ERR_SLA_INVALID', message });
    h.set.add({ name: 'x' }, new Script());
    assert.throws(() => h.set.add({ name: 'x' }, new Script()), { code: 'REMON_ERR_SLA_INVALID', message: 'SLA "x": an SLA is named "x" already' });
    h.set.stop();
  });
});

describe('SLA state across a restart (the SLA log)', () => {
  it('a firing SLA comes back firing since it fired, and its cooldown is remembered', async () => {
    const dir = tmpDir();
    const script = new Script();
    const spec: SlaSpec = { name: 's', cooldownMs: 10 * MIN };
    const h = harness([[spec, script]], { dir });
    script.value = false;
    h.slas[0].evaluate();
    h.set.abandon(); // kill -9
    await h.clock.advance(2 * MIN);
    const script2 = new Script();
    const h2 = harness([[spec, script2]], { dir }, T0, h.clock);
    assert.equal(h2.slas[0].state, 'firing');
    assert.equal(h2.slas[0].since, T0);
    for (const v of [true, false]) {
      script2.value = v;
      h2.slas[0].evaluate();
    }
    assert.deepEqual(h2.rendered(), ['+2m firing→ok!', '+2m ok→firing']);
    h2.set.stop();
  });

  it('a pending SLA comes back pending; time alone does not fire it until an evaluation finds it still failing', async () => {
    const dir = tmpDir();
    const script = new Script();
    const spec: SlaSpec = { name: 's', forMs: 5 * MIN };
    const h = harness([[spec, script]], { dir });
    script.value = false;
    h.slas[0].evaluate();
    h.set.abandon();
    await h.clock.advance(MIN);
    const h2 = harness([[spec, script]], { dir }, T0, h.clock);
    await h2.at(20 * MIN);
    assert.deepEqual(h2.rendered(), []);
    h2.slas[0].evaluate();
    assert.deepEqual(h2.rendered(), ['+20m pending→firing!']);
    assert.equal(h2.transitions[0].failingForMs, 20 * MIN);
    h2.set.stop();
  });

  it('two sets cannot share one SLA log', () => {
    const dir = tmpDir();
    const h = harness([], { dir });
    assert.throws(() => harness([], { dir }), { code: 'REMON_ERR_DATA_IN_USE' });
    h.set.stop();
  });
});
