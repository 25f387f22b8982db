import { strict as assert } from 'node:assert';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Job, Scheduler } from '../src/engine/scheduler';
import { sleep } from './helpers';

function job(id: string, everyMs: number, run: (lag: number) => Promise<unknown>, extra: Partial<Job> = {}): Job {
  return { id, everyMs, run, ...extra };
}

describe('scheduler', () => {
  it('spreads first runs over the interval by a hash of the name, the same every time', () => {
    const s = new Scheduler();
    const offsets = Array.from({ length: 200 }, (_, i) => s.offsetOf(job(`block-${i}`, 10_000, async () => {})));
    assert.ok(offsets.every((o) => o >= 0 && o < 10_000));
    // Not all at once: 200 names land in many distinct 1-second slots.
    assert.ok(new Set(offsets.map((o) => Math.floor(o / 1000))).size >= 9);
    const again = new Scheduler();
    assert.deepEqual(offsets, Array.from({ length: 200 }, (_, i) => again.offsetOf(job(`block-${i}`, 10_000, async () => {}))));
    // Long intervals spread over at most a minute, so a new node shows data soon.
    assert.ok(s.offsetOf(job('x', 86_400_000, async () => {})) < 60_000);
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

  it('never overlaps a job slower than its interval and counts the skipped ticks', async () => {
    const s = new Scheduler();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let missed = 0;
    s.add(job('slow', 40, async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(130);
      running--;
    }, { onMissed: (n) => { missed += n; } }));
    s.start();
    await sleep(700);
    await s.stop();
    assert.equal(maxRunning, 1);
    assert.ok(runs >= 3 && runs <= 6, `runs ${runs}`);
    assert.ok(missed >= 8, `missed ${missed}`);
    assert.equal(s.stats().missed, missed);
    assert.equal(running, 0, 'stop waited for the run in flight');
  });

  it('keeps at most maxConcurrency runs in flight and starts the rest as slots free up', async () => {
    const s = new Scheduler({ maxConcurrency: 3, spreadMs: 1 });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    for (let i = 0; i < 10; i++) {
      s.add(job(`j${i}`, 10_000, async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(30);
        running--;
      }));
    }
    s.start();
    await sleep(250);
    await s.stop();
    assert.equal(runs, 10);
    assert.equal(maxRunning, 3);
    assert.ok(s.stats().lagMaxMs >= 90, 'queued runs show their wait as lag');
  });

  it('skips a tick while the job says it is busy (an on-demand run is going)', async () => {
    const s = new Scheduler({ spreadMs: 1 });
    let busy = true;
    let runs = 0;
    s.add(job('b', 30, async () => { runs++; }, { busy: () => busy }));
    s.start();
    await sleep(100);
    assert.equal(runs, 0);
    busy = false;
    await sleep(100);
    await s.stop();
    assert.ok(runs >= 2);
    assert.ok(s.stats().missed >= 2);
  });

  it('survives a job that throws synchronously or rejects', async () => {
    const s = new Scheduler({ spreadMs: 1 });
    let calls = 0;
    s.add(job('t', 20, () => { calls++; throw new Error('boom'); }));
    s.add(job('r', 20, async () => { calls++; throw new Error('boom'); }));
    s.start();
    await sleep(120);
    await s.stop();
    assert.ok(calls >= 6, `calls ${calls}`);
  });
});
