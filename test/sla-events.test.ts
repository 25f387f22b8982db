/**
 * What comes out of an SLA (src/sla/events.ts): the line a person reads for each kind of
 * state change, the `sla.state` event the alerts consume (/work/notes/sla-event.md), and
 * the samples of `sla.<name>.ok` and `.budget_remaining`, on a real bus.
 */
import { strict as assert } from 'node:assert';
import { Bus, BusMessage } from '../src/bus';
import { publishTo, SlaSpec, TestEval, transitionEvent, transitionMessage } from '../src/sla';
import { harness, HOUR, MIN, T0 } from './sla-harness';

/** ratio is `homepage.fast_ratio >= 0.8` over a value the test sets (undefined: no data). */
class Ratio implements TestEval {
  v: number | undefined = 0.9;
  evaluate(): { value: boolean | undefined; message: string } {
    const v = this.v;
    return { value: v === undefined ? undefined : v >= 0.8, message: `homepage.fast_ratio (${v ?? 'no data'}) >= 0.8` };
  }
}

const fast: SlaSpec = { name: 'homepage-fast', forMs: MIN, cooldownMs: 10 * MIN, severity: 'page', labels: { team: 'web' }, escalate: 'web-team', dependsOn: ['gateway-up'] };

interface Case {
  name: string;
  spec: SlaSpec;
  /** [minutes after t0, ratio] evaluated in order; the message checked is the last transition's. */
  steps: Array<[number, number | undefined]>;
  until: number;
  expect: string;
}

const cases: Case[] = [
  { name: 'pending', spec: fast, steps: [[0, 0.9], [1, 0.65]], until: 1.5, expect: 'homepage-fast pending: homepage.fast_ratio (0.65) >= 0.8 failed; fires if it still fails 1m after it began' },
  { name: 'firing once `for` passed', spec: fast, steps: [[0, 0.9], [1, 0.65]], until: 3, expect: 'homepage-fast firing: homepage.fast_ratio (0.65) >= 0.8 failed for 1m' },
  { name: 'firing at once (for 0)', spec: { ...fast, forMs: 0 }, steps: [[0, 0.65]], until: 1, expect: 'homepage-fast firing: homepage.fast_ratio (0.65) >= 0.8 failed' },
  { name: 'ok after firing', spec: fast, steps: [[0, 0.65], [6, 0.85]], until: 7, expect: 'homepage-fast ok: homepage.fast_ratio (0.85) >= 0.8 passes again (was firing for 5m)' },
  {
    name: 'firing again within the cooldown', spec: { ...fast, forMs: 0 }, steps: [[0, 0.65], [1, 0.9], [3, 0.7]], until: 4,
    expect: 'homepage-fast firing: homepage.fast_ratio (0.7) >= 0.8 failed; not notified again within the 10m cooldown (last notified 3m ago)',
  },
  { name: 'unknown', spec: fast, steps: [[0, 0.9], [1, undefined]], until: 2, expect: 'homepage-fast unknown: homepage.fast_ratio (no data) >= 0.8' },
  {
    name: 'no data counted as failing', spec: { ...fast, forMs: 0, noData: 'fail' }, steps: [[0, 0.9], [1, undefined]], until: 2,
    expect: 'homepage-fast firing: homepage.fast_ratio (no data) >= 0.8 failed; no data counts as failing',
  },
  {
    name: 'the window closing on a firing SLA', spec: { ...fast, forMs: 0, during: { cron: '* 12-13 * * *', tz: 'Europe/Berlin' } }, steps: [[0, 0.5]], until: 3 * 60,
    expect: 'homepage-fast inactive: outside its window, cron * 12-13 * * * (Europe/Berlin); was firing for 2h',
  },
];

describe('SLA events: messages', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const ratio = new Ratio();
      const h = harness([[c.spec, ratio]]);
      for (const [m, v] of c.steps) {
        await h.at(m * MIN);
        ratio.v = v;
        h.slas[0].evaluate();
      }
      await h.at(c.until * MIN);
      assert.equal(transitionMessage(h.transitions[h.transitions.length - 1], c.spec), c.expect);
      h.set.stop();
    });
  }
});

describe('SLA events: the sla.state event and the samples, on a bus', () => {
  it('a firing is one bus message: the event (as the alerts contract says) and sla.<name>.ok = 0', async () => {
    const bus = new Bus();
    const got: BusMessage[] = [];
    bus.subscribe('test', (m) => { got.push(m); });
    const ratio = new Ratio();
    const h = harness([[fast, ratio]], { ...publishTo(bus), sampleEveryMs: 10_000 });
    h.slas[0].evaluate();
    ratio.v = 0.65;
    await h.at(MIN);
    h.slas[0].evaluate();
    await h.at(3 * MIN);
    const events = got.filter((m) => m.event);
    assert.deepEqual(events.map((m) => m.event!.message), [
      'homepage-fast ok: homepage.fast_ratio (0.9) >= 0.8 passes',
      'homepage-fast pending: homepage.fast_ratio (0.65) >= 0.8 failed; fires if it still fails 1m after it began',
      'homepage-fast firing: homepage.fast_ratio (0.65) >= 0.8 failed for 1m',
    ]);
    const firing = events[2];
    assert.deepEqual(firing.event, {
      kind: 'sla.state', subject: 'homepage-fast', at: T0 + 2 * MIN, message: 'homepage-fast firing: homepage.fast_ratio (0.65) >= 0.8 failed for 1m',
      data: {
        from: 'pending', to: 'firing', since: T0 + 2 * MIN, notify: true, severity: 'page', labels: { team: 'web' }, escalate: 'web-team',
        depends_on: ['gateway-up'], value: false, cause: 'for',
      },
    });
    assert.deepEqual(firing.samples, [{ series: 'sla.homepage-fast.ok', t: T0 + 2 * MIN, value: 0, kind: 'gauge' }]);
    assert.deepEqual(events[0].samples, [{ series: 'sla.homepage-fast.ok', t: T0, value: 1, kind: 'gauge' }]);
    h.set.stop();
  });

  it('defaults: severity page, no labels, no dependencies; unknown value is null; no ok sample while unknown', async () => {
    const bus = new Bus();
    const got: BusMessage[] = [];
    bus.subscribe('test', (m) => { got.push(m); });
    const ratio = new Ratio();
    const h = harness([[{ name: 'bare' }, ratio]], publishTo(bus));
    h.slas[0].evaluate();
    ratio.v = undefined;
    h.slas[0].evaluate();
    assert.deepEqual(got[1].event?.data, { from: 'ok', to: 'unknown', since: T0, notify: false, severity: 'page', labels: {}, depends_on: [], value: null, cause: 'evaluation' });
    assert.deepEqual(got[1].samples, []);
    h.set.stop();
  });

  it('an objective SLA: the event names the burn, and the budget goes with sla.<name>.ok', async () => {
    const spec: SlaSpec = { name: 'api-availability', objective: { target: 0.999, windowMs: 30 * 24 * HOUR } };
    const up = { value: true as boolean, evaluate() { return { value: this.value, message: `api.up (${this.value ? 1 : 0}) == 1` }; } };
    const h = harness([[spec, up]]);
    for (let i = 0; i < 970; i++) h.slas[0].evaluate(T0 + i);
    up.value = false;
    for (let i = 970; i < 1000; i++) h.slas[0].evaluate(T0 + i);
    // The ticket alert holds from the first bad evaluation (1 in 971: 1.03×), slow from the
    // 6th (6 in 976: 6.1×), fast from the 15th (15 in 985: 15.2×).
    assert.deepEqual(h.transitions.map((t) => `${t.at - T0} ${t.from}→${t.to} ${t.burn ?? ''}${t.notify ? '!' : ''}`), ['0 unknown→ok ', '970 ok→firing ticket!', '975 firing→firing slow!', '984 firing→firing fast!']);
    assert.deepEqual(h.transitions.map((t) => transitionEvent(t, spec).message).slice(1), [
      'api-availability firing: ticket burn: 1.03× over 3d and 1.03× over 6h (above 1×); error budget -3.0% left',
      'api-availability firing: slow burn: 6.15× over 6h and 6.15× over 30m (above 6×); error budget -514.8% left; worse than the ticket burn it fired with',
      'api-availability firing: fast burn: 15.2× over 1h and 15.2× over 5m (above 14.4×); error budget -1422.8% left; worse than the slow burn it fired with',
    ]);
    const tr = h.transitions[3];
    const event = transitionEvent(tr, spec);
    assert.deepEqual([event.data?.burn, event.data?.escalated_from, event.data?.since, event.data?.cause], ['fast', 'slow', T0 + 970, 'burn']);
    assert.equal(h.set.list()[0].burn, 'fast');
    const bus = new Bus();
    const got: BusMessage[] = [];
    bus.subscribe('test', (m) => { got.push(m); });
    publishTo(bus).onTransition(tr, h.slas[0]);
    assert.deepEqual(got[0].samples.map((s) => [s.series, Number(s.value.toFixed(4))]), [['sla.api-availability.ok', 0], ['sla.api-availability.budget_remaining', -29]]);
    h.set.stop();
  });
});
