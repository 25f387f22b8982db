import { strict as assert } from 'node:assert';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Job, Scheduler } from '../src/engine/scheduler';
import { FakeClock } from './fake-clock';
import { sleep } from './helpers';

function job(id: string, everyMs: number, run: (lag: number) => Promise<unknown>, extra: Partial<Job> = {}): Job {
  return { id, everyMs, run, ...extra };
}

describe('scheduler', () => {
  it('spreads runs over the interval by a hash of the name (the phase), the same every time', () => {
    const s = new Scheduler();
    const offsets = Array.from({ length: 200 }, (_, i) => s.offsetOf(job(`block-${i}`, 10_000, async () => {})));
    assert.ok(offsets.every((o) => o >= 0 && o < 10_000));
    // Not all at once: 200 names land in many distinct 1-second slots.
    assert.ok(new Set(offsets.map((o) => Math.floor(o / 1000))).size >= 9);
    const again = new Scheduler();
    assert.deepEqual(offsets, Array.from({ length: 200 }, (_, i) => again.offsetOf(job(`block-${i}`, 10_000, async () => {}))));
    // Long intervals keep a phase within a minute; short ones within their interval.
    const daily = Array.from({ length: 200 }, (_, i) => s.offsetOf(job(`block-${i}`, 86_400_000, async () => {})));
    assert.ok(daily.every((o) => o < 60_000) && new Set(daily.map((o) => Math.floor(o / 6000))).size >= 9);
    // First runs: within 5 s whatever the interval, still spread over it.
    for (const every of [1000, 10_000, 60_000, 86_400_000]) {
      const first = Array.from({ length: 200 }, (_, i) => s.firstOffsetOf(job(`block-${i}`, every, async () => {})));
      const window = Math.min(every, 5000);
      assert.ok(first.every((o) => o >= 0 && o < window), `every ${every}: ${Math.max(...first)}`);
      assert.ok(new Set(first.map((o) => Math.floor(o / (window / 5)))).size === 5, `every ${every}: spread over the window`);
    }
  });

  const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('a new node runs every block within 5 s, spread and within maxConcurrency, then on its phase (fake clock)', async () => {
    const clock = new FakeClock(1_000_000);
    const s = new Scheduler({ clock, maxConcurrency: 8 });
    const t0 = clock.now();
    // Blocks as a node has them: intervals from 10 s to a day.
    const everies = [10_000, 15_000, 30_000, 60_000, 300_000, 3_600_000, 86_400_000];
    const dues = new Map<string, number[]>();
    let running = 0;
    let maxRunning = 0;
    const jobs = Array.from({ length: 140 }, (_, i) => job(`block-${i}`, everies[i % everies.length], async (lag) => {
      dues.get(`block-${i}`)!.push(clock.now() - lag);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => { clock.setTimer(r, 200); });
      running--;
    }));
    for (const j of jobs) {
      dues.set(j.id, []);
      s.add(j);
    }
    s.start();
    await clock.advance(5000, settle);
    const firsts = jobs.map((j) => dues.get(j.id)![0]);
    assert.ok(firsts.every((t) => t !== undefined && t - t0 < 5000), `not run in the first 5 s: ${jobs.filter((j) => dues.get(j.id)!.length === 0).length}`);
    assert.ok(new Set(firsts.map((t) => Math.floor((t - t0) / 500))).size >= 9, 'first runs spread over the 5 s, not all at once');
    assert.ok(maxRunning <= 8, `${maxRunning} in flight`);
    assert.equal(maxRunning, 8, 'the burst did fill the slots');

    await clock.advance(15 * 60_000, settle);
    const stopped = s.stop();
    await clock.advance(1000, settle); // the runs in flight finish; stop waits for them
    await stopped;
    for (const j of jobs) {
      const [first, ...later] = dues.get(j.id)!;
      assert.equal(first, t0 + s.firstOffsetOf(j));
      if (j.everyMs > 300_000) continue;
      const phase = t0 + s.offsetOf(j);
      assert.ok(later.length >= 2, j.id);
      // Every later run is on the phase, and the second comes ½ to 1½ intervals after the first.
      assert.ok(later.every((t) => (t - phase) % j.everyMs === 0), `${j.id} every ${j.everyMs}: ${later.map((t) => t - t0)}`);
      assert.ok(later[0] - first >= j.everyMs / 2 && later[0] - first < 1.5 * j.everyMs, `${j.id}: ${first - t0}, ${later[0] - t0}`);
      assert.ok(later.slice(1).every((t, k) => t - later[k] === j.everyMs), j.id);
    }
    assert.equal(s.stats().missed, 0);
  });

  it('a block added while the node runs (reload) runs within 5 s too, then on its phase from then (fake clock)', async () => {
    const clock = new FakeClock(1_000_000);
    const s = new Scheduler({ clock, coalesceMs: 0 });
    s.start();
    await clock.advance(123_456, settle);
    const starts: number[] = [];
    const j = job('added-later', 3_600_000, async () => { starts.push(clock.now()); });
    const t1 = clock.now();
    s.add(j);
    await clock.advance(3 * 3_600_000, settle);
    await s.stop();
    assert.ok(s.firstOffsetOf(j) < 5000);
    assert.deepEqual(starts.map((t) => t - t1), [s.firstOffsetOf(j), s.offsetOf(j) + 3_600_000, s.offsetOf(j) + 7_200_000]);
  });

  it('runs a job every interval with small start lag', async () => {
    const s = new Scheduler();
    const starts: number[] = [];
    const lags: number[] = [];
    // The machine may stall the whole process now and then (a shared VM): a timer of
    // libuv's own, watched side by side, says by how much, and only that much is excused.
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    s.add(job('a', 50, async (lag) => { starts.push(Date.now()); lags.push(lag); }));
    s.start();
    await sleep(560);
    await s.stop();
    loop.disable();
    const stall = loop.max / 1e6;
    assert.ok(starts.length >= 9 && starts.length <= 12, `ran ${starts.length} times in 560 ms at 50 ms`);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)];
    assert.ok(median >= 45 && median <= 56, `median gap ${median} (gaps ${gaps})`);
    assert.ok(gaps.every((g) => g >= 35 - stall && g <= 70 + stall), `gaps ${gaps}, the event loop stalled up to ${stall.toFixed(1)} ms`);
    assert.ok(Math.max(...lags) < 30 + stall, `lags ${lags}, the event loop stalled up to ${stall.toFixed(1)} ms`);
    assert.equal(s.stats().missed, 0);
  });

  // The rest run on the fake clock: they are about the scheduler's logic, not timers.
  function onFakeClock(options: { maxConcurrency?: number; spreadMs?: number; coalesceMs?: number } = {}): { s: Scheduler; clock: FakeClock } {
    const clock = new FakeClock(1_000_000);
    return { s: new Scheduler({ ...options, clock }), clock };
  }
  /** after resolves when the fake clock has moved ms further (a run that takes time). */
  const after = (clock: FakeClock, ms: number): Promise<void> => new Promise((r) => { clock.setTimer(r, ms); });

  it('runs at exact multiples of the interval after the hashed offset, with no lag (fake clock)', async () => {
    const { s, clock } = onFakeClock({ coalesceMs: 0 });
    const starts: number[] = [];
    const lags: number[] = [];
    const j = job('exact', 50, async (lag) => { starts.push(clock.now()); lags.push(lag); });
    s.add(j);
    s.start();
    const t0 = clock.now();
    await clock.advance(1000, settle);
    await s.stop();
    const offset = s.offsetOf(j);
    const expected = Array.from({ length: Math.floor((1000 - offset) / 50) + 1 }, (_, k) => t0 + offset + 50 * k);
    assert.deepEqual(starts, expected);
    assert.ok(lags.every((l) => l === 0), `lags ${lags}`);
    assert.deepEqual([s.stats().runs, s.stats().missed], [expected.length, 0]);
  });

  it('starts the runs due within one 4 ms step in one wake-up, never early and less than a step late (fake clock)', async () => {
    const { s, clock } = onFakeClock();
    const starts = new Map<string, number[]>();
    const jobs = Array.from({ length: 1000 }, (_, i) => job(`p${i}`, 1000, async () => { starts.get(`p${i}`)!.push(clock.monotonic()); }));
    jobs.forEach((j) => { starts.set(j.id, []); s.add(j); });
    s.start();
    const t0 = clock.monotonic();
    await clock.advance(10_000, settle);
    const firedBefore = clock.fired.length;
    await clock.advance(5_000, settle);
    await s.stop();
    // Steady state (after the first runs): each run on its phase, at most 3 ms after it.
    let runs = 0;
    for (const j of jobs) {
      const due = (k: number): number => t0 + s.offsetOf(j) + 1000 * k;
      for (const at of starts.get(j.id)!.filter((t) => t >= t0 + 10_000)) {
        const k = Math.ceil((at - 3 - t0 - s.offsetOf(j)) / 1000);
        assert.ok(at >= due(k) && at - due(k) < 4, `${j.id} started at ${at - t0}, due at ${due(k) - t0}`);
        assert.equal(at % 4, 0, `${j.id} started off the 4 ms grid at ${at}`);
        runs++;
      }
    }
    assert.ok(runs >= 4900, `runs ${runs}`);
    // 1,000 runs a second over 5 s woke the scheduler at most 250 times a second.
    assert.ok(clock.fired.length - firedBefore <= 5 * 250 + 2, `wake-ups ${clock.fired.length - firedBefore}`);
  });

  it('never overlaps a job slower than its interval and counts the skipped ticks (fake clock)', async () => {
    const { s, clock } = onFakeClock({ spreadMs: 1 });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let missed = 0;
    s.add(job('slow', 40, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await after(clock, 130);
      running--;
    }, { onMissed: (n) => { missed += n; } }));
    s.start();
    await clock.advance(1000, settle);
    const stopped = s.stop();
    await clock.advance(200, settle); // the last run finishes; stop waits for it
    await stopped;
    assert.equal(maxRunning, 1);
    // Ticks at 0, 40, ..., 1000 (26); runs start at 0, 160, ..., 960 (the first tick after
    // each 130 ms run): 7 ran, every tick between is missed.
    assert.equal(runs, 7);
    assert.equal(missed, 26 - 7);
    assert.equal(s.stats().missed, missed);
    assert.equal(running, 0, 'stop waited for the run in flight');
  });

  it('keeps at most maxConcurrency runs in flight; queued runs start as slots free up and show their wait as lag (fake clock)', async () => {
    const { s, clock } = onFakeClock({ maxConcurrency: 3, spreadMs: 1 });
    let running = 0;
    let maxRunning = 0;
    const lags: number[] = [];
    for (let i = 0; i < 10; i++) {
      s.add(job(`j${i}`, 10_000, async (lag) => {
        running++;
        lags.push(lag);
        maxRunning = Math.max(maxRunning, running);
        await after(clock, 30);
        running--;
      }));
    }
    s.start();
    await clock.advance(500, settle);
    await s.stop();
    assert.equal(lags.length, 10);
    assert.equal(maxRunning, 3);
    assert.deepEqual(lags.sort((a, b) => a - b), [0, 0, 0, 30, 30, 30, 60, 60, 60, 90]);
    assert.equal(s.stats().lagMaxMs, 90);
  });

  it('skips a tick while the job says it is busy (an on-demand run is going) (fake clock)', async () => {
    const { s, clock } = onFakeClock({ spreadMs: 1 });
    let busy = true;
    let runs = 0;
    s.add(job('b', 30, async () => { runs++; }, { busy: () => busy }));
    s.start();
    await clock.advance(100, settle);
    assert.equal(runs, 0);
    assert.equal(s.stats().missed, 4);
    busy = false;
    await clock.advance(100, settle);
    await s.stop();
    assert.equal(runs, 3);
    assert.equal(s.stats().missed, 4);
  });

  it('counts the ticks a blocked event loop swallowed as missed, and keeps the phase (fake clock)', async () => {
    const { s, clock } = onFakeClock({ spreadMs: 1 });
    const starts: number[] = [];
    s.add(job('p', 100, async () => { starts.push(clock.now()); }));
    s.start();
    const t0 = clock.now();
    await clock.advance(250, settle); // runs at 0, 100, 200
    clock.jump(1000); // the loop was blocked for a second
    await clock.advance(0, settle);
    await clock.advance(100, settle);
    await s.stop();
    assert.deepEqual(starts.map((t) => t - t0), [0, 100, 200, 1250, 1300]);
    assert.equal(s.stats().missed, 9);
  });

  it('survives a job that throws synchronously or rejects, and reports it; a run that resolves with a value is no error (fake clock)', async () => {
    const errors: string[] = [];
    const clock = new FakeClock(0);
    const s = new Scheduler({ clock, spreadMs: 1, onError: (id, err) => errors.push(`${id}: ${(err as Error).message}`) });
    let calls = 0;
    s.add(job('t', 20, () => { calls++; throw new Error('boom'); }));
    s.add(job('r', 20, async () => { calls++; throw new Error('bang'); }));
    s.add(job('v', 20, async () => { calls++; return { ok: true }; }));
    s.start();
    await clock.advance(110, settle);
    await s.stop();
    assert.equal(calls, 18);
    assert.equal(s.stats().errors, 12);
    assert.deepEqual([...new Set(errors)].sort(), ['r: bang', 't: boom']);
  });

  it('remove takes a job off the schedule; a run in flight finishes (fake clock)', async () => {
    const { s, clock } = onFakeClock({ spreadMs: 1 });
    let runs = 0;
    s.add(job('x', 10, async () => { runs++; }));
    s.start();
    await clock.advance(35, settle);
    s.remove('x');
    assert.equal(s.has('x'), false);
    await clock.advance(100, settle);
    await s.stop();
    assert.equal(runs, 4);
    assert.equal(clock.armed, 0, 'no timer left armed');
  });
});
