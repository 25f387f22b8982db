import { strict as assert } from 'node:assert';
import { Beat } from '../src/heartbeat/beat';
import { Journal } from '../src/heartbeat/journal';
import { signalRecord, signalText } from '../src/heartbeat/record';
import { Signal } from '../src/heartbeat/types';
import { toDef } from '../src/heartbeat/options';
import { cronSchedule } from '../src/heartbeat/schedule';
import { Deadlines } from '../src/clock';
import { FakeClock } from './fake-clock';
import { HOUR, iso, MIN, startHub } from './heartbeat-hub';

const T0 = Date.parse('2025-01-06T00:00:00Z');

describe('heartbeat schedules (cron across DST)', () => {
  // [what, cron, tz, from, the next deadlines]
  const cases: Array<[string, string, string, string, string[]]> = [
    ['daily 03:00 Berlin over spring forward: a 23 h day', '0 3 * * *', 'Europe/Berlin', '2025-03-28T12:00:00Z',
      ['2025-03-29T02:00:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T01:00:00.000Z']],
    ['daily 03:00 Berlin over fall back: a 25 h day', '0 3 * * *', 'Europe/Berlin', '2025-10-24T12:00:00Z',
      ['2025-10-25T01:00:00.000Z', '2025-10-26T02:00:00.000Z', '2025-10-27T02:00:00.000Z']],
    ['02:30 Berlin does not exist on spring-forward day: due at 03:00 CEST', '30 2 * * *', 'Europe/Berlin', '2025-03-29T12:00:00Z',
      ['2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z']],
    ['01:30 New York happens twice on fall-back day: due once', '30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z',
      ['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']],
    ['hourly in Berlin on fall-back day: the repeated 02:00 is due twice', '0 * * * *', 'Europe/Berlin', '2025-10-25T23:30:00Z',
      ['2025-10-26T00:00:00.000Z', '2025-10-26T01:00:00.000Z', '2025-10-26T02:00:00.000Z']],
    ['weekdays 09:00 UTC skip the weekend', '0 9 * * 1-5', 'UTC', '2025-01-03T10:00:00Z',
      ['2025-01-06T09:00:00.000Z', '2025-01-07T09:00:00.000Z']],
    ['6 fields: every 2 seconds', '*/2 * * * * *', 'UTC', '2025-01-06T00:00:00.500Z',
      ['2025-01-06T00:00:02.000Z', '2025-01-06T00:00:04.000Z']],
  ];
  for (const [what, cron, tz, from, want] of cases) {
    it(what, () => {
      const s = cronSchedule(cron, tz);
      const got: string[] = [];
      for (let t = Date.parse(from); got.length < want.length;) got.push(iso((t = s.next(t))));
      assert.deepEqual(got, want);
    });
  }

  it('next is strictly after a fire time itself', () => {
    const s = cronSchedule('0 3 * * *', 'UTC');
    assert.equal(iso(s.next(Date.parse('2025-01-06T03:00:00Z'))), '2025-01-07T03:00:00.000Z');
  });
});

describe('heartbeat deadlines heap', () => {
  it('fires 1000 items exactly at their times, in order, with one timer armed at a time', async () => {
    const clock = new FakeClock(T0);
    const got: Array<[number, number]> = [];
    const items = Array.from({ length: 1000 }, (_, i) => ({ i, alarm: Infinity, heapIndex: -1 }));
    const d = new Deadlines<(typeof items)[number]>(clock, (item, now) => got.push([item.i, now]));
    const due = items.map((_, i) => T0 + 1 + ((i * 7919) % 100_000));
    items.forEach((it, i) => d.set(it, due[i]));
    // Moving and removing alarms keeps the heap right.
    d.set(items[0], T0 + 5);
    due[0] = T0 + 5;
    d.delete(items[1]);
    await clock.advance(200_000);
    assert.equal(got.length, 999);
    for (const [i, now] of got) assert.equal(now, due[i], `item ${i}`);
    assert.deepEqual(got.map(([, now]) => now), [...got.map(([, now]) => now)].sort((a, b) => a - b));
    assert.equal(clock.maxArmed, 1);
    assert.equal(d.size, 0);
  });
});

describe('heartbeat state machine', () => {
  it('ignores a late finding that a success overtook (journaled in the same batch)', () => {
    const b = new Beat('j', toDef('j', { period: '1h', grace: '5m' }));
    b.apply({ k: 'seen', n: 'j', t: T0 });
    const late = b.decide(T0 + HOUR)!;
    assert.equal(late.k, 'late');
    b.apply({ k: 'ok', n: 'j', t: T0 + HOUR + 1 });
    assert.deepEqual(b.apply(late), {});
    assert.equal(b.state, 'up');
  });
});

describe('heartbeat signal records', () => {
  const cases: Array<[string, Signal]> = [
    ['a success', { kind: 'success' }],
    ['a start with a run id', { kind: 'start', rid: 'run-1.a:b_c' }],
    ['a failure with a body that needs escapes', { kind: 'fail', body: 'line "one"\n\ttab \\ é 🎉 \u0001 </script>' }],
    ['exit code 0 (a success)', { kind: 'exit', exitCode: 0 }],
    ['exit code 3 with a run id and a body', { kind: 'exit', exitCode: 3, rid: 'r', body: 'x' }],
    ['an empty body (none kept)', { kind: 'success', body: '' }],
  ];
  for (const [what, sig] of cases) {
    it(`writes ${what} as JSON.stringify would, and reads back the same record`, () => {
      const rec = signalRecord('job-1_A', T0 + 1, sig);
      assert.equal(signalText(rec), JSON.stringify(rec));
      assert.deepEqual(JSON.parse(signalText(rec)!), rec);
    });
  }

  it('leaves a time JSON cannot hold to JSON.stringify', () => {
    assert.equal(signalText(signalRecord('job', NaN, { kind: 'success' })), undefined);
  });
});

describe('heartbeat deadlines after many signals', () => {
  const scenarios: Array<{ name: string; yaml: string; steps: Array<[number, Signal]>; until: number; expect: Array<[string, number]> }> = [
    {
      name: 'successes that each move the deadline later: late and down count from the last one, exactly',
      yaml: '  - { name: job, type: heartbeat, period: 10s, grace: 2s }\n',
      steps: [[1000, { kind: 'success' }], [5000, { kind: 'success' }], [9000, { kind: 'success' }], [12_000, { kind: 'success' }]],
      until: 30_000,
      expect: [['up', 1000], ['late', 22_000], ['down', 24_000]],
    },
    {
      name: 'a start moves the alarm earlier than the deadline: down at max_runtime, exactly',
      yaml: '  - { name: etl, type: heartbeat, period: 1h, max_runtime: 1m }\n',
      steps: [[1000, { kind: 'success' }], [2000, { kind: 'success' }], [10_000, { kind: 'start' }]],
      until: 2 * MIN,
      expect: [['up', 1000], ['down', 70_000]],
    },
  ];
  for (const s of scenarios) {
    it(s.name, async () => {
      const h = await startHub(s.yaml, { clock: new FakeClock(T0) });
      let now = 0;
      const name = s.yaml.split('name: ')[1].split(',')[0];
      for (const [at, sig] of s.steps) {
        await h.advance(at - now);
        now = at;
        await h.hub.signal(name, sig);
      }
      await h.advance(s.until - now);
      assert.deepEqual(h.eventLog(), s.expect.map(([kind, at]) => [kind, iso(T0 + at)]));
      await h.hub.stop();
    });
  }
});

describe('heartbeat hub (fake clock)', () => {
  it('rolling period: late exactly at the deadline, down at deadline + grace, a miss per period, recovered on success', async () => {
    const h = await startHub('  - { name: job, type: heartbeat, period: 1h, grace: 5m }\n', { clock: new FakeClock(T0) });
    await h.advance(30 * MIN);
    assert.equal((await h.hub.signal('job', { kind: 'success' })).state, 'up');
    await h.advance(HOUR - 1);
    assert.deepEqual(h.eventLog(), [['up', '2025-01-06T00:30:00.000Z']]);
    await h.advance(5 * MIN + 1 + HOUR);
    await h.advance(5 * MIN);
    await h.hub.signal('job', { kind: 'success' });
    assert.deepEqual(h.eventLog(), [
      ['up', '2025-01-06T00:30:00.000Z'],
      ['late', '2025-01-06T01:30:00.000Z'],
      ['down', '2025-01-06T01:35:00.000Z'],
      ['missed', '2025-01-06T02:35:00.000Z'],
      ['recovered', '2025-01-06T02:40:00.000Z'],
    ]);
    assert.equal(h.events[2].message, 'down: no success since 2025-01-06T00:30:00.000Z; expected by 2025-01-06T01:30:00.000Z, grace 5m');
    assert.equal(h.events[4].message, 'recovered after being down for 1h5m');
    // Results: the series <name>.up, late_s, error_count (consecutive misses, reset on success).
    assert.deepEqual(h.results.map((r) => [r.ok, r.fields]), [
      [true, { late_s: 0, error_count: 0 }],
      [true, { late_s: 0, error_count: 0 }],
      [false, { late_s: 300, error_count: 1 }],
      [false, { late_s: 3900, error_count: 2 }],
      [true, { late_s: 4200, error_count: 0 }],
    ]);
    const v = h.hub.get('job')!;
    assert.equal(v.state, 'up');
    assert.equal(v.nextDeadline, '2025-01-06T03:40:00.000Z');
    assert.equal(v.downAt, '2025-01-06T03:45:00.000Z');
    await h.hub.stop();
  });

  it('a heartbeat that never reports is down after period + grace from when the node first saw it', async () => {
    const h = await startHub('  - { name: never, type: heartbeat, period: 10m, grace: 0s }\n', { clock: new FakeClock(T0) });
    await h.advance(10 * MIN);
    assert.deepEqual(h.eventLog(), [['down', '2025-01-06T00:10:00.000Z']]);
    assert.match(h.events[0].message, /^down: never reported; expected by 2025-01-06T00:10:00.000Z, grace 0s$/);
    await h.hub.stop();
  });

  it('cron with tz: daily 03:00 Berlin stays up across both DST changes and goes down at 03:00 + grace', async () => {
    const clock = new FakeClock(Date.parse('2025-03-28T12:00:00Z'));
    const h = await startHub('  - { name: nightly, type: heartbeat, schedule: "0 3 * * *", tz: Europe/Berlin, grace: 30m }\n', { clock });
    const deadlines: string[] = [];
    // The job reports 10 minutes after each run for four days around spring forward.
    for (let day = 0; day < 4; day++) {
      const due = h.hub.get('nightly')!.nextDeadline!;
      deadlines.push(due);
      await h.advanceTo(Date.parse(due) + 10 * MIN);
      await h.hub.signal('nightly', { kind: 'success' });
    }
    assert.deepEqual(deadlines, ['2025-03-29T02:00:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T01:00:00.000Z', '2025-04-01T01:00:00.000Z']);
    // Each night: late at 03:00 (the run is going), up at 03:10, within grace.
    assert.deepEqual(h.events.map((e) => e.kind), ['late', 'up', 'late', 'up', 'late', 'up', 'late', 'up']);
    assert.equal(h.events[1].message, 'up: success 10m late, within grace');
    // Jump to fall back; the job misses 03:00 CET on the 25-hour day.
    await h.hub.configure('nightly', { paused: true });
    await h.advanceTo('2025-10-25T12:00:00Z');
    await h.hub.configure('nightly', { paused: false });
    assert.equal(h.hub.get('nightly')!.nextDeadline, '2025-10-26T02:00:00.000Z');
    await h.advanceTo('2025-10-26T03:00:00Z');
    assert.deepEqual(h.eventLog().slice(-3), [['resumed', '2025-10-25T12:00:00.000Z'], ['late', '2025-10-26T02:00:00.000Z'], ['down', '2025-10-26T02:30:00.000Z']]);
    await h.hub.stop();
  });

  it('start measures run time; run ids pair overlapping runs; a run past max_runtime is down', async () => {
    const h = await startHub('  - { name: etl, type: heartbeat, period: 1d, grace: 1h, max_runtime: 30m }\n', { clock: new FakeClock(T0) });
    await h.hub.signal('etl', { kind: 'start', rid: 'r1' });
    await h.advance(10 * MIN);
    await h.hub.signal('etl', { kind: 'start', rid: 'r2' });
    await h.advance(10 * MIN);
    await h.hub.signal('etl', { kind: 'success', rid: 'r1' });
    await h.advance(5 * MIN);
    await h.hub.signal('etl', { kind: 'exit', exitCode: 0, rid: 'r2' });
    assert.deepEqual(h.results.map((r) => r.fields!.runtime_s), [1200, 900]);
    assert.deepEqual(h.hub.get('etl')!.signals.map((s) => [s.kind, s.rid, s.runtimeS, s.exitCode]), [
      ['exit', 'r2', 900, 0], ['success', 'r1', 1200, undefined], ['start', 'r2', undefined, undefined], ['start', 'r1', undefined, undefined],
    ]);
    // A start without a success: down at start + max_runtime, not at the period's deadline.
    await h.hub.signal('etl', { kind: 'start' });
    assert.deepEqual(h.hub.get('etl')!.running, [{ rid: null, since: '2025-01-06T00:25:00.000Z' }]);
    await h.advance(30 * MIN);
    assert.deepEqual(h.eventLog().slice(-1), [['down', '2025-01-06T00:55:00.000Z']]);
    assert.equal(h.events.at(-1)!.message, 'down: the run started at 2025-01-06T00:25:00.000Z did not finish within max_runtime 30m');
    await h.hub.stop();
  });

  it('fail and non-zero exit codes are down with the reason; exit 0 is a success', async () => {
    const h = await startHub('  - { name: b, type: heartbeat, period: 1h }\n', { clock: new FakeClock(T0) });
    await h.hub.signal('b', { kind: 'exit', exitCode: 0 });
    await h.hub.signal('b', { kind: 'exit', exitCode: 3, body: 'disk full\nmore lines' });
    await h.hub.signal('b', { kind: 'fail' });
    await h.hub.signal('b', { kind: 'success' });
    assert.deepEqual(h.results.map((r) => [r.ok, r.message ?? '', r.fields!.error_count, r.fields!.exit_code]), [
      [true, '', 0, undefined],
      [false, 'failed with exit code 3: disk full', 1, 3],
      [false, 'failed', 2, undefined],
      [true, '', 0, undefined],
    ]);
    assert.deepEqual(h.events.map((e) => e.kind), ['up', 'down', 'recovered']);
    await assert.rejects(h.hub.signal('b', { kind: 'exit', exitCode: 256 }), { code: 'REMON_ERR_HEARTBEAT_INVALID', message: 'exit codes are 0-255; got 256' });
    await assert.rejects(h.hub.signal('nope', { kind: 'success' }), { code: 'REMON_ERR_HEARTBEAT_UNKNOWN' });
    await assert.rejects(h.hub.signal('b', { kind: 'success', rid: 'has space' }), { code: 'REMON_ERR_HEARTBEAT_INVALID' });
    await h.hub.stop();
  });

  it('paused: no deadlines, signals still recorded; resumed: the next deadline counts from the resume', async () => {
    const h = await startHub('  - { name: p, type: heartbeat, period: 1h, grace: 1m }\n', { clock: new FakeClock(T0) });
    await h.hub.signal('p', { kind: 'success' });
    const paused = await h.hub.configure('p', { paused: true });
    assert.equal(paused.state, 'paused');
    assert.deepEqual(paused.differs, [{ key: 'paused', file: null, runtime: true }]);
    await h.advance(3 * 24 * HOUR);
    await h.hub.signal('p', { kind: 'fail' });
    assert.equal(h.hub.get('p')!.state, 'paused');
    assert.equal(h.hub.get('p')!.signals[0].kind, 'fail');
    const resumed = await h.hub.configure('p', { paused: false });
    assert.equal(resumed.state, 'up');
    assert.deepEqual(resumed.differs, []);
    assert.equal(resumed.nextDeadline, iso(T0 + 73 * HOUR));
    assert.deepEqual(h.events.map((e) => e.kind), ['up', 'edited', 'paused', 'edited', 'resumed']);
    await h.hub.stop();
  });

  it('restart: a deadline passed while the node was down fires at once, exactly once', async () => {
    const clock = new FakeClock(T0);
    const yaml = '  - { name: job, type: heartbeat, period: 1h, grace: 5m }\n';
    const first = await startHub(yaml, { clock });
    await first.hub.signal('job', { kind: 'success' });
    await first.advance(10 * MIN);
    await first.hub.stop();
    // The node is down from 00:10 to 02:20: deadlines 01:00 and 02:00 pass (with grace).
    const later = new FakeClock(T0 + 140 * MIN);
    const second = await startHub(yaml, { clock: later, dir: first.dir });
    await second.advance(0);
    assert.deepEqual(second.eventLog(), [['down', '2025-01-06T02:20:00.000Z']]);
    assert.match(second.events[0].message, /expected by 2025-01-06T01:00:00.000Z, grace 5m \(2 deadlines missed\)$/);
    assert.equal(second.hub.get('job')!.errorCount, 2);
    assert.equal(second.hub.get('job')!.downSince, '2025-01-06T01:05:00.000Z');
    // It fired once: a crash right after (no stop) and another start find it recorded.
    (second.hub as unknown as { journal: Journal }).journal.abandon();
    const third = await startHub(yaml, { clock: new FakeClock(T0 + 141 * MIN), dir: first.dir });
    await third.advance(0);
    assert.deepEqual(third.events, []);
    assert.equal(third.hub.get('job')!.state, 'down');
    assert.equal(third.hub.get('job')!.errorCount, 2);
    await third.hub.stop();
    await second.hub.stop();
  });

  it('one timer for 400 heartbeats: each goes down exactly at its deadline + grace', async () => {
    const clock = new FakeClock(T0);
    const yaml = Array.from({ length: 400 }, (_, i) => `  - { name: h${i}, type: heartbeat, period: ${1 + ((i * 37) % 600)}s, grace: ${i % 7}s }\n`).join('');
    const h = await startHub(yaml, { clock });
    await h.advance(700_000);
    const downs = h.events.filter((e) => e.kind === 'down');
    assert.equal(downs.length, 400);
    for (const e of downs) {
      const i = Number(e.name.slice(1));
      assert.equal(e.at, T0 + (1 + ((i * 37) % 600)) * 1000 + (i % 7) * 1000, e.name);
    }
    assert.equal(clock.maxArmed, 1, 'one timer armed at a time');
    await h.hub.stop();
  });

  it('remon config: creates a heartbeat at run time, edits one from monitor.yaml, keeps both across a restart', async () => {
    const clock = new FakeClock(T0);
    const yaml = '  - { name: job, type: heartbeat, period: 1h }\n';
    const h = await startHub(yaml, { clock });
    const created = await h.hub.configure('adhoc', { period: '15m', grace: '2m', description: 'made by hand' });
    assert.equal(created.source, 'runtime');
    assert.deepEqual(created.options, { period: '15m', grace: '2m', description: 'made by hand' });
    const edited = await h.hub.configure('job', { schedule: '0 4 * * *', tz: 'Europe/Berlin' });
    assert.deepEqual(edited.differs.map((d) => [d.key, d.file, d.runtime]), [['period', '1h', null], ['schedule', null, '0 4 * * *'], ['tz', null, 'Europe/Berlin']]);
    assert.equal(edited.schedule, 'cron 0 4 * * * (Europe/Berlin)');
    await assert.rejects(h.hub.configure('job', { period: 'soon' }), { code: 'REMON_ERR_HEARTBEAT_INVALID', message: 'period: expected a duration like 30s, 5m, 1h or 1d; got "soon"' });
    await assert.rejects(h.hub.configure('job', { colour: 'red' }), { code: 'REMON_ERR_HEARTBEAT_INVALID' });
    await assert.rejects(h.hub.configure('job', { tz: 'Mars/Olympus' }), /unknown time zone "Mars\/Olympus"/);
    await h.hub.stop();
    // Restart: both come back; once monitor.yaml says the same, job no longer differs.
    const again = await startHub('  - { name: job, type: heartbeat, schedule: "0 4 * * *", tz: Europe/Berlin }\n', { clock, dir: h.dir });
    assert.deepEqual(again.hub.list().map((v) => [v.name, v.source, v.differs.length, v.schedule]), [
      ['adhoc', 'runtime', 3, 'every 15m'],
      ['job', 'monitor.yaml', 0, 'cron 0 4 * * * (Europe/Berlin)'],
    ]);
    await again.hub.stop();
  });

  it('auto_create: the first signal to an unknown name creates it (period 1d, grace 1h)', async () => {
    const h = await startHub('  []\n', { clock: new FakeClock(T0), node: 'auto_create: true' });
    const [a, b] = await Promise.all([h.hub.signal('fresh', { kind: 'success' }), h.hub.signal('fresh', { kind: 'success' })]);
    assert.deepEqual([a.state, b.state], ['up', 'up']);
    const v = h.hub.get('fresh')!;
    assert.deepEqual([v.source, v.schedule, v.grace, v.signals.length], ['runtime', 'every 1d', '1h', 2]);
    assert.deepEqual(h.events.map((e) => e.kind), ['created', 'up']);
    await h.hub.stop();
  });
});
