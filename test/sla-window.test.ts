/**
 * An SLA's `during` (src/sla/window.ts) across both DST changes in two zones, on the fake
 * clock through a real SlaSet: the active window (`* 8-20 * * 1-5`, and one spanning the
 * night of the change) and the slots (hourly, and a fixed time in the skipped and in the
 * repeated hour).
 */
import { strict as assert } from 'node:assert';
import { ActiveWindow } from '../src/sla';
import { FakeClock } from './fake-clock';
import { harness, HOUR, Script } from './sla-harness';

const iso = (ms: number): string => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const at = (s: string): number => Date.parse(s);

interface WindowCase {
  name: string;
  cron: string;
  tz: string;
  from: string;
  to: string;
  /** `<UTC time> <state>` for each change. */
  expect: string[];
}

const weekdays = '* 8-20 * * 1-5';
const windowCases: WindowCase[] = [
  {
    name: 'Europe/Berlin, spring forward (Sun 29 Mar 2026): 08:00-21:00 is 07-20Z before, 06-19Z after', cron: weekdays, tz: 'Europe/Berlin',
    from: '2026-03-26T00:00Z', to: '2026-03-31T12:00Z',
    expect: ['2026-03-26T07:00Z ok', '2026-03-26T20:00Z inactive', '2026-03-27T07:00Z ok', '2026-03-27T20:00Z inactive',
      '2026-03-30T06:00Z ok', '2026-03-30T19:00Z inactive', '2026-03-31T06:00Z ok'],
  },
  {
    name: 'Europe/Berlin, fall back (Sun 25 Oct 2026): 06-19Z before, 07-20Z after', cron: weekdays, tz: 'Europe/Berlin',
    from: '2026-10-22T00:00Z', to: '2026-10-27T12:00Z',
    expect: ['2026-10-22T06:00Z ok', '2026-10-22T19:00Z inactive', '2026-10-23T06:00Z ok', '2026-10-23T19:00Z inactive',
      '2026-10-26T07:00Z ok', '2026-10-26T20:00Z inactive', '2026-10-27T07:00Z ok'],
  },
  {
    name: 'America/New_York, spring forward (Sun 8 Mar 2026): 13-02Z before, 12-01Z after', cron: weekdays, tz: 'America/New_York',
    from: '2026-03-05T03:00Z', to: '2026-03-10T18:00Z',
    expect: ['2026-03-05T13:00Z ok', '2026-03-06T02:00Z inactive', '2026-03-06T13:00Z ok', '2026-03-07T02:00Z inactive',
      '2026-03-09T12:00Z ok', '2026-03-10T01:00Z inactive', '2026-03-10T12:00Z ok'],
  },
  {
    name: 'America/New_York, fall back (Sun 1 Nov 2026): 12-01Z before, 13-02Z after', cron: weekdays, tz: 'America/New_York',
    from: '2026-10-29T03:00Z', to: '2026-11-03T18:00Z',
    expect: ['2026-10-29T12:00Z ok', '2026-10-30T01:00Z inactive', '2026-10-30T12:00Z ok', '2026-10-31T01:00Z inactive',
      '2026-11-02T13:00Z ok', '2026-11-03T02:00Z inactive', '2026-11-03T13:00Z ok'],
  },
  {
    name: 'Europe/Berlin, 01:00-04:00 on the night of spring forward: 2 hours (02:xx does not exist)', cron: '* 1-3 * * *', tz: 'Europe/Berlin',
    from: '2026-03-28T22:00Z', to: '2026-03-29T12:00Z', expect: ['2026-03-29T00:00Z ok', '2026-03-29T02:00Z inactive'],
  },
  {
    name: 'Europe/Berlin, 01:00-04:00 on the night of fall back: 4 hours (02:xx twice)', cron: '* 1-3 * * *', tz: 'Europe/Berlin',
    from: '2026-10-24T21:00Z', to: '2026-10-25T12:00Z', expect: ['2026-10-24T23:00Z ok', '2026-10-25T03:00Z inactive'],
  },
  {
    name: 'America/New_York, 01:00-02:00 on the night of fall back: 2 hours (01:xx twice)', cron: '* 1 * * *', tz: 'America/New_York',
    from: '2026-11-01T00:00Z', to: '2026-11-01T12:00Z', expect: ['2026-11-01T05:00Z ok', '2026-11-01T07:00Z inactive'],
  },
];

describe('SLA during: the active window across DST changes', () => {
  for (const c of windowCases) {
    it(c.name, async () => {
      const script = new Script();
      const h = harness([[{ name: 'w', during: { cron: c.cron, tz: c.tz } }, script]], {}, at(c.from));
      assert.equal(h.slas[0].state, 'inactive', 'a new SLA outside its window starts inactive');
      await h.clock.advanceTo(at(c.to));
      assert.deepEqual(h.transitions.map((tr) => `${iso(tr.at)} ${tr.to}`), c.expect);
      // Each opening evaluated the test then, and only then (no samples came).
      assert.deepEqual(script.calls.map(iso), c.expect.filter((e) => e.endsWith(' ok')).map((e) => e.split(' ')[0]));
      const closed = h.transitions.find((tr) => tr.to === 'inactive');
      assert.equal(closed?.message, `outside its window, cron ${c.cron} (${c.tz})`);
      h.set.stop();
    });
  }

  it('100 SLAs sharing a window: evaluations outside it are ignored; each closes and opens at the change', async () => {
    const clock = new FakeClock(at('2026-03-27T19:59Z'));
    const scripts = Array.from({ length: 100 }, () => new Script());
    const h = harness(scripts.map((s, i) => [{ name: `w${i}`, during: { cron: weekdays, tz: 'Europe/Berlin' } }, s]), {}, clock.now(), clock);
    assert.ok(h.slas.every((s) => s.state === 'unknown'), 'in the window, not evaluated yet');
    await h.clock.advanceTo(at('2026-03-27T20:30Z'));
    for (const sla of h.slas) sla.evaluate();
    assert.equal(scripts.reduce((n, s) => n + s.calls.length, 0), 0);
    assert.ok(h.transitions.every((tr) => tr.to === 'inactive' && iso(tr.at) === '2026-03-27T20:00Z'));
    assert.equal(h.transitions.length, 100);
    await h.clock.advanceTo(at('2026-03-30T06:30Z'));
    assert.ok(scripts.every((s) => s.calls.length === 1 && iso(s.calls[0]) === '2026-03-30T06:00Z'));
    assert.ok(h.slas.every((s) => s.state === 'ok'));
    h.set.stop();
  });

  it('ActiveWindow: a run longer than a day is looked at again, and stays active', () => {
    const w = new ActiveWindow({ cron: '* * * * *' });
    const t = at('2026-01-01T00:00Z');
    assert.equal(w.isActive(t), true);
    assert.equal(w.changeAfter(t), t + 24 * HOUR);
    assert.equal(w.isActive(t + 24 * HOUR), true);
  });
});

interface SlotCase {
  name: string;
  cron: string;
  tz: string;
  from: string;
  to: string;
  expect: string[];
  /** Slots per local calendar day, where it matters. */
  perDay?: Record<string, number>;
}

const hourly = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let t = at(from) + HOUR; t <= at(to); t += HOUR) out.push(iso(t));
  return out;
};

const slotCases: SlotCase[] = [
  { name: 'hourly, Europe/Berlin, spring forward: every real hour, 23 on the day', cron: '0 * * * *', tz: 'Europe/Berlin', from: '2026-03-28T20:00Z', to: '2026-03-30T02:00Z', expect: hourly('2026-03-28T20:00Z', '2026-03-30T02:00Z'), perDay: { '2026-03-29': 23 } },
  { name: 'hourly, Europe/Berlin, fall back: every real hour, 25 on the day (02:00 twice)', cron: '0 * * * *', tz: 'Europe/Berlin', from: '2026-10-24T20:00Z', to: '2026-10-26T02:00Z', expect: hourly('2026-10-24T20:00Z', '2026-10-26T02:00Z'), perDay: { '2026-10-25': 25 } },
  { name: 'hourly, America/New_York, spring forward: 23 on the day', cron: '0 * * * *', tz: 'America/New_York', from: '2026-03-08T02:00Z', to: '2026-03-09T08:00Z', expect: hourly('2026-03-08T02:00Z', '2026-03-09T08:00Z'), perDay: { '2026-03-08': 23 } },
  { name: 'hourly, America/New_York, fall back: 25 on the day (01:00 twice)', cron: '0 * * * *', tz: 'America/New_York', from: '2026-11-01T02:00Z', to: '2026-11-02T08:00Z', expect: hourly('2026-11-01T02:00Z', '2026-11-02T08:00Z'), perDay: { '2026-11-01': 25 } },
  {
    name: 'daily 02:30, Europe/Berlin: in the skipped hour it runs at 03:00 CEST; in the repeated one, once', cron: '30 2 * * *', tz: 'Europe/Berlin', from: '2026-03-27T00:00Z', to: '2026-03-31T00:00Z',
    expect: ['2026-03-27T01:30Z', '2026-03-28T01:30Z', '2026-03-29T01:00Z', '2026-03-30T00:30Z'],
  },
  {
    name: 'daily 02:30, Europe/Berlin, fall back: once, at the first 02:30', cron: '30 2 * * *', tz: 'Europe/Berlin', from: '2026-10-23T00:00Z', to: '2026-10-27T00:00Z',
    expect: ['2026-10-23T00:30Z', '2026-10-24T00:30Z', '2026-10-25T00:30Z', '2026-10-26T01:30Z'],
  },
  {
    name: 'daily 01:30, America/New_York, fall back: once, at the first 01:30 (EDT)', cron: '30 1 * * *', tz: 'America/New_York', from: '2026-10-30T00:00Z', to: '2026-11-03T00:00Z',
    expect: ['2026-10-30T05:30Z', '2026-10-31T05:30Z', '2026-11-01T05:30Z', '2026-11-02T06:30Z'],
  },
  {
    name: 'daily 02:30, America/New_York, spring forward: at 03:00 EDT', cron: '30 2 * * *', tz: 'America/New_York', from: '2026-03-06T00:00Z', to: '2026-03-10T00:00Z',
    expect: ['2026-03-06T07:30Z', '2026-03-07T07:30Z', '2026-03-08T07:00Z', '2026-03-09T06:30Z'],
  },
];

describe('SLA during: slots across DST changes', () => {
  for (const c of slotCases) {
    it(c.name, async () => {
      const script = new Script();
      const h = harness([[{ name: 's', mode: 'slots', during: { cron: c.cron, tz: c.tz } }, script]], {}, at(c.from));
      await h.clock.advanceTo(at(c.to));
      assert.deepEqual(script.calls.map(iso), c.expect);
      for (const [day, n] of Object.entries(c.perDay ?? {})) {
        const local = new Intl.DateTimeFormat('en-CA', { timeZone: c.tz, year: 'numeric', month: '2-digit', day: '2-digit' });
        assert.equal(script.calls.filter((t) => local.format(t) === day).length, n, `slots on ${day} in ${c.tz}`);
      }
      assert.equal(h.slas[0].watermark, script.calls[script.calls.length - 1]);
      assert.equal(h.slas[0].state, 'ok', 'the state holds between slots: a slots SLA is never inactive');
      h.set.stop();
    });
  }
});
