/**
 * SLOs (src/sla/slo.ts, buckets.ts): the rolling counts by hand, the error budget's
 * arithmetic by hand, and the multi-window burn-rate alerts on synthetic error streams
 * through a real SlaSet on the fake clock, with the history rebuilt through the callback.
 */
import { strict as assert } from 'node:assert';
import { SlaSpec, Slo } from '../src/sla';
import { RollingCounts } from '../src/sla/buckets';
import { parseDuration } from '../src/util/duration';
import { harness, HOUR, MIN, rel, Script, SEC, T0 } from './sla-harness';

const DAY = 24 * HOUR;

describe('SLO: rolling counts', () => {
  it('sums per window, buckets leaving as time moves, old adds dropped (by hand)', () => {
    // 1-minute buckets, 5 kept; windows of 1, 3 and 5 buckets.
    const c = new RollingCounts(MIN, 5, [1, 3, 5]);
    const sums = (): string => [0, 1, 2].map((j) => `${c.goodIn(j)}/${c.badIn(j)}`).join(' ');
    c.add(0, 1, 0); // bucket 0
    c.add(61 * SEC, 0, 1); // bucket 1
    c.add(130 * SEC, 2, 2); // bucket 2
    assert.equal(sums(), '2/2 3/3 3/3');
    c.advance(3 * MIN); // bucket 3: 0 leaves the 3-window
    assert.equal(sums(), '0/0 2/3 3/3');
    c.add(70 * SEC, 5, 0); // back into bucket 1: in the 3- and 5-windows, not the 1-window
    assert.equal(sums(), '0/0 7/3 8/3');
    c.advance(5 * MIN + 1); // bucket 5: 0 leaves the 5-window, 1 and 2 the 3-window
    assert.equal(sums(), '0/0 0/0 7/3');
    assert.equal(c.add(0, 9, 9), false, 'bucket 0 is out of the ring');
    c.advance(20 * MIN); // a gap longer than the ring empties it
    assert.equal(sums(), '0/0 0/0 0/0');
  });
});

describe('SLO: the error budget (by hand)', () => {
  const cases: Array<{ name: string; target: number; good: number; bad: number; expect: number | undefined }> = [
    { name: 'no bad evaluation: all of it left', target: 0.999, good: 1_000_000, bad: 0, expect: 1 },
    { name: '99.95% good against 99.9%: half left', target: 0.999, good: 999_500, bad: 500, expect: 0.5 },
    { name: '99.9% good: none left', target: 0.999, good: 999_000, bad: 1000, expect: 0 },
    { name: '99.8% good: overspent, -100%', target: 0.999, good: 998_000, bad: 2000, expect: -1 },
    { name: '95% against 99%: five budgets spent, -400%', target: 0.99, good: 95, bad: 5, expect: -4 },
    { name: 'no evaluations: unknown', target: 0.999, good: 0, bad: 0, expect: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const slo = new Slo({ target: c.target, windowMs: 30 * DAY });
      slo.addCounts(T0, c.good, c.bad);
      const b = slo.budgetRemaining();
      if (c.expect === undefined) assert.equal(b, undefined);
      else assert.ok(Math.abs(b! - c.expect) < 1e-9, `${b} ≈ ${c.expect}`);
    });
  }

  it('only the objective window counts: bad evaluations 31 days old are forgotten', () => {
    const slo = new Slo({ target: 0.999, windowMs: 30 * DAY });
    slo.addCounts(T0 - 31 * DAY, 0, 100);
    slo.addCounts(T0, 100, 0);
    assert.equal(slo.budgetRemaining(), 1);
    slo.addCounts(T0 - 29 * DAY, 0, 1);
    assert.ok(Math.abs(slo.budgetRemaining()! - (1 - 1 / 101 / 0.001)) < 1e-9);
  });

  it('describes itself with rates and budget', () => {
    const slo = new Slo({ target: 0.999, windowMs: 30 * DAY });
    slo.addCounts(T0, 980, 20);
    slo.check(T0);
    assert.equal(slo.describe(), 'fast burn: 20.0× over 1h and 20.0× over 5m (above 14.4×); error budget -1900.0% left');
  });
});

/** A stream at one evaluation a second whose bad share is rate(t) exactly (the bad ones spread evenly). */
function stream(rate: (t: number) => number): (at: number) => boolean {
  let acc = 0;
  return (at) => {
    acc += rate(at);
    if (acc >= 1 - 1e-12) {
      acc -= 1;
      return false;
    }
    return true;
  };
}

interface BurnRun {
  transitions: string[];
  /** The burn alert shown at each hour mark (status). */
  burns: Map<number, string | undefined>;
  budget?: number;
}

/**
 * burnRun: an objective SLA (99.9% over 30 days) whose last 3 days are rebuilt as a
 * healthy 0.05% error stream, then evaluated live once a second for `hours` with the
 * error share `rate(t)`.
 */
async function burnRun(rate: (t: number) => number, hours: number, watch: number[] = []): Promise<BurnRun> {
  const script = new Script('api.up');
  script.fn = stream(rate);
  const spec: SlaSpec = { name: 'api-availability', objective: { target: 0.999, windowMs: 30 * DAY } };
  const rebuilt: string[] = [];
  const h = harness([[spec, script]], {
    rebuild: async (name, from, to, add) => {
      rebuilt.push(`${name}: ${(to - from) / DAY} days up to ${rel(to - T0)}`);
      for (let t = to - 3 * DAY; t < to; t += MIN) add(t, 60 * 0.9995, 60 * 0.0005);
    },
  });
  await h.set.ready();
  assert.deepEqual(rebuilt, ['api-availability: 30 days up to +0s']);
  const burns = new Map<number, string | undefined>();
  const sla = h.slas[0];
  for (let m = 0; m < hours * 60; m++) {
    const base = T0 + m * MIN;
    for (let s = 0; s < 60; s++) sla.evaluate(base + s * SEC);
    await h.clock.advanceTo(base + MIN);
    if (watch.includes(m)) burns.set(m, h.set.list()[0].burn);
  }
  const out = { transitions: h.transitions.map((tr) => `${rel(tr.at - T0)} ${tr.from}→${tr.to}${tr.burn ? ` ${tr.burn}` : ''}${tr.notify ? '!' : ''}`), burns, budget: h.set.list()[0].budgetRemaining };
  h.set.stop();
  return out;
}

/** The time of the first transition to firing, in minutes after the start. */
function firedAt(r: BurnRun): number {
  const f = r.transitions.find((t) => t.includes('→firing'));
  assert.ok(f, `fired: ${r.transitions.join(', ')}`);
  return minutesOf(f);
}

/** minutesOf reads the time of a rendered transition (`+1d12h ok→firing`) in minutes. */
function minutesOf(rendered: string): number {
  return parseDuration(rendered.slice(1).split(' ')[0])! / MIN;
}

describe('SLO: burn-rate alerts on a synthetic error stream (99.9% over 30 days, 3 days of history rebuilt)', function () {
  this.timeout(60_000);

  it('healthy (0.05% errors: half the budget rate) for 2 days: nothing fires', async () => {
    const r = await burnRun(() => 0.0005, 48);
    assert.deepEqual(r.transitions, ['+0s unknown→ok']);
    assert.ok(Math.abs(r.budget! - 0.5) < 0.01, `budget ${r.budget}`);
  });

  it('a total outage: fast burn fires within a minute; then slow, then ticket hold, and it ends ~6h later', async () => {
    // 10 minutes of total outage from +1h, healthy before and after.
    const r = await burnRun((t) => (t >= T0 + HOUR && t < T0 + HOUR + 10 * MIN ? 1 : 0.0005), 8, [65, 80, 120, 400, 479]);
    const fired = firedAt(r);
    assert.ok(fired > 60 && fired <= 61, `fired ${fired - 60} min into the outage`);
    assert.match(r.transitions[1], /→firing fast!$/);
    // The fast alert stops 5m after the outage (its short window); slow holds 30m, ticket 6h.
    assert.deepEqual([...r.burns.entries()], [[65, 'fast'], [80, 'slow'], [120, 'ticket'], [400, 'ticket'], [479, undefined]]);
    assert.equal(r.transitions.length, 3);
    const endMin = minutesOf(r.transitions[2]);
    assert.ok(endMin >= 60 + 10 + 6 * 60 - 10 && endMin <= 60 + 10 + 6 * 60 + 1, `ok again at ${r.transitions[2]}`);
    assert.match(r.transitions[2], /firing→ok!$/);
  });

  it('8× the budget rate (0.8% errors): slow burn fires after ~4.4 hours, never fast', async () => {
    const r = await burnRun(() => 0.008, 6);
    const fired = firedAt(r);
    // 6h window above 6×: 0.8% x + 0.05% (1 - x) > 0.6%  =>  x > 0.733: 4h24m.
    assert.ok(fired >= 4 * 60 + 15 && fired <= 4 * 60 + 35, `fired at ${fired} min`);
    assert.match(r.transitions[1], /→firing slow!$/);
  });

  it('1.5× the budget rate (0.15% errors): a ticket after ~36 hours, nothing sooner', async () => {
    const r = await burnRun(() => 0.0015, 40);
    const fired = firedAt(r);
    // 3d window above 1×: 0.05% (72h - t) + 0.15% t > 0.1% 72h  =>  t > 36h.
    assert.ok(fired >= 35 * 60 && fired <= 37 * 60, `fired at ${fired / 60} h`);
    assert.match(r.transitions[1], /→firing ticket!$/);
  });
});

describe('SLO: the rebuild', () => {
  it('while the counts are rebuilt, evaluations count but the state waits; a failing rebuild counts from now', async () => {
    let release!: () => void;
    const script = new Script('api.up');
    script.value = false;
    const spec: SlaSpec = { name: 'slo', objective: { target: 0.999, windowMs: 30 * DAY } };
    const h = harness([[spec, script]], {
      rebuild: (_n, _from, to, add) => new Promise<void>((r) => {
        release = () => {
          add(to - 30 * MIN, 1_000_000, 0);
          add(to, 5, 5); // at the start: counted live, not here
          r();
        };
      }),
    });
    h.slas[0].evaluate();
    assert.equal(h.slas[0].state, 'unknown');
    release();
    await h.set.ready();
    // One bad evaluation in a million and one: no alert; the 5/5 at the start was not taken.
    assert.deepEqual(h.rendered(), ['+0s unknown→ok']);
    assert.ok(Math.abs(h.set.list()[0].budgetRemaining! - (1 - 1 / 1_000_001 / 0.001)) < 1e-9);
    h.set.stop();

    const h2 = harness([[{ ...spec, name: 'slo2' }, script]], { rebuild: async () => { throw new Error('store down'); } });
    await h2.set.ready();
    h2.slas[0].evaluate();
    assert.deepEqual(h2.rendered(), ['+0s unknown→firing!']);
    assert.equal(h2.transitions[0].burn, 'fast');
    assert.equal(h2.set.stats().rebuildFailures, 1);
    h2.set.stop();
  });
});
