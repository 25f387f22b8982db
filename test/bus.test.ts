import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Bus, BusMessage } from '../src/bus';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { registry } from '../src/registry';
import { createError } from '../src/errors';
import { silentLogger } from '../src/log';
import { freePort, sleep, tmpDir, waitFor } from './helpers';
import { probeBlock, resetProbeLog } from './probe-block';

/** capturingLogger is a real pino logger whose lines the test reads. */
function capturingLogger(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const out = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  return { log: pino({ level: 'info' }, out), lines };
}

/** watchRejections records unhandled rejections while a test runs. */
function watchRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const on = (reason: unknown): void => { seen.push(reason); };
  process.on('unhandledRejection', on);
  return { seen, stop: () => process.off('unhandledRejection', on) };
}

const msg = (n: number): BusMessage => ({ samples: [{ series: 'x.value', t: n, value: n, kind: 'gauge' }] });

describe('bus', () => {
  it('a subscriber that throws or rejects neither stops nor delays the others; each failure is counted, each kind logged once', async () => {
    const { log, lines } = capturingLogger();
    const rejections = watchRejections();
    try {
      const bus = new Bus(log);
      const before: number[] = [];
      const after: number[] = [];
      bus.subscribe('before', (m) => { before.push(m.samples[0].value); });
      bus.subscribe('thrower', (m) => { if (m.samples[0].value % 2 === 0) throw createError('REMON_ERR_EXPR_EVAL', `even ${m.samples[0].value}`); });
      bus.subscribe('rejecter', async () => { throw new TypeError('always'); });
      bus.subscribe('after', (m) => { after.push(m.samples[0].value); });
      for (let i = 1; i <= 10; i++) bus.publish(msg(i));
      // Delivered in the same tick, whatever the others did.
      assert.deepEqual(before, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.deepEqual(after, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await bus.drain();
      const stats = Object.fromEntries(bus.stats().subscribers.map((s) => [s.name, s]));
      assert.equal(bus.stats().published, 10);
      assert.deepEqual([stats.thrower.delivered, stats.thrower.failures], [5, 5]);
      assert.deepEqual([stats.rejecter.delivered, stats.rejecter.failures, stats.rejecter.pending], [10, 10, 0]);
      assert.equal(stats.thrower.lastError?.message, 'even 10');
      assert.equal(stats.rejecter.lastError?.message, 'always');
      assert.deepEqual([stats.after.failures, stats.after.delivered], [0, 10]);
      const logged = lines.filter((l) => l.msg === 'bus subscriber failed (further errors of this kind are counted only)');
      assert.deepEqual(logged.map((l) => [l.subscriber, l.kind, l.err]), [['thrower', 'REMON_ERR_EXPR_EVAL', 'even 2'], ['rejecter', 'TypeError', 'always']]);
      await sleep(10);
      assert.deepEqual(rejections.seen, []);
    } finally {
      rejections.stop();
    }
  });

  it('a slow subscriber does not hold up the others; past maxPending its deliveries are dropped and counted', async () => {
    const bus = new Bus(silentLogger());
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const fast: number[] = [];
    bus.subscribe('slow', () => gate, { maxPending: 3 });
    bus.subscribe('fast', (m) => { fast.push(m.samples[0].value); });
    for (let i = 1; i <= 5; i++) bus.publish(msg(i));
    assert.deepEqual(fast, [1, 2, 3, 4, 5]);
    let s = bus.subscriber('slow')!;
    assert.deepEqual([s.delivered, s.pending, s.dropped], [3, 3, 2]);
    assert.match(s.lastError!.message, /^3 deliveries pending; dropping until it catches up$/);
    let drained = false;
    const d = bus.drain().then(() => { drained = true; });
    await sleep(20);
    assert.equal(drained, false, 'drain waits for the slow deliveries');
    release();
    await d;
    s = bus.subscriber('slow')!;
    assert.equal(s.pending, 0);
    bus.publish(msg(6));
    assert.equal(bus.subscriber('slow')!.delivered, 4, 'delivers again once caught up');
  });

  it('unsubscribe stops deliveries; a name is unique', () => {
    const bus = new Bus();
    const got: number[] = [];
    const sub = bus.subscribe('a', (m) => { got.push(m.samples[0].value); });
    assert.throws(() => bus.subscribe('a', () => undefined), /a bus subscriber is named "a" already/);
    bus.publish(msg(1));
    sub.unsubscribe();
    bus.publish(msg(2));
    assert.deepEqual(got, [1]);
    assert.deepEqual(bus.stats().subscribers, []);
  });
});

describe('bus in the engine', () => {
  beforeEach(resetProbeLog);

  it('a throwing subscriber and a slow pipe leave the store, the other subscribers and the schedule untouched', async () => {
    const rejections = watchRejections();
    const port = await freePort();
    // tick runs every 50 ms; its pipe runs `slow` (300 ms) each time, so the pipe falls far
    // behind. Before the bus, the pipe held tick's run and tick missed most of its ticks.
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\nblocks:\n` +
      '  - { name: tick, type: probe, every: 50ms, value: 1, pipe: [ { run: slow }, { increment: piped } ] }\n' +
      '  - { name: slow, type: probe, mode: on-demand, sleep_ms: 300 }\n' +
      '  - { name: other, type: probe, every: 50ms, value: 2 }\n';
    const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger() });
    const seen: string[] = [];
    e.bus.subscribe('thrower', () => { throw new Error('subscriber bug'); });
    e.bus.subscribe('rejecter', async () => { throw new Error('async subscriber bug'); });
    e.bus.subscribe('watcher', (m) => { if (m.result) seen.push(m.result.block); });
    await e.start();
    try {
      await sleep(1200);
      const tick = e.blockStatus('tick')!;
      const other = e.blockStatus('other')!;
      // 1.2 s at 50 ms after a start offset under 50 ms: about 23 runs each, none missed.
      assert.equal(tick.missed, 0, 'the slow pipe made tick miss ticks');
      assert.ok(tick.runs >= 15, `tick ran ${tick.runs} times`);
      assert.ok(other.runs >= 15, `other ran ${other.runs} times`);
      assert.equal(other.missed, 0);
      // The store got every result of both, the watcher saw them all.
      const stored = (await e.store.fetch('tick.up', { from: 0, to: Date.now() + 1000 })).points.length;
      assert.ok(stored >= tick.runs - 1, `stored ${stored} of ${tick.runs}`);
      assert.ok(seen.filter((b) => b === 'tick').length >= tick.runs - 1);
      // The pipe did what it could, in order, and far fewer times than tick ran.
      const piped = await e.shared.counters.get('piped');
      assert.ok(piped >= 2 && piped < tick.runs / 2, `piped ${piped}, runs ${tick.runs}`);
      // Failures are shown on /api/bus and in /metrics.
      const bus = await (await fetch(`http://127.0.0.1:${port}/api/bus`)).json() as { subscribers: Array<{ name: string; failures: number; lastError?: { message: string } }> };
      const thrower = bus.subscribers.find((s) => s.name === 'thrower')!;
      assert.ok(thrower.failures >= 30, `thrower failures ${thrower.failures}`);
      assert.equal(thrower.lastError?.message, 'subscriber bug');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /^remon_bus_failures_total\{subscriber="thrower"\} [1-9]\d+$/m);
      assert.match(metrics, /^remon_bus_failures_total\{subscriber="store"\} 0$/m);
      assert.match(metrics, /^remon_bus_delivered_total\{subscriber="store"\} [1-9]\d+$/m);
    } finally {
      await e.stop();
      rejections.stop();
    }
    assert.deepEqual(rejections.seen, []);
  });

  it('a pipe that falls 100 results behind drops the newest, each a pipe error on its block', async () => {
    const text = `node: { data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n` +
      '  - { name: src, type: probe, mode: on-demand, pipe: [ { with-lock: { name: L, ttl: 10s, wait: 5s, steps: [ { increment: done } ] } } ] }\n';
    const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger(), web: false });
    await e.start();
    try {
      const held = await e.shared.locks.acquire('L', { ttlMs: 10_000 });
      for (let i = 0; i < 103; i++) await e.runNow('src');
      const s = e.blockStatus('src')!;
      assert.equal(s.pipeErrors, 3);
      assert.equal(s.lastPipeError, 'pipe: 100 results are waiting for this block\'s pipe; this one is dropped');
      await e.shared.locks.release(held);
      await e.idle();
      assert.equal(await e.shared.counters.get('done'), 100);
    } finally {
      await e.stop();
    }
  });

  it('a block that rejects outside its result is counted by the scheduler and logged, never unhandled', async () => {
    const rejections = watchRejections();
    const { log, lines } = capturingLogger();
    const text = `node: { data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n  - { name: p, type: probe, every: 30ms }\n`;
    const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log, web: false });
    // A bug in the engine's own handling of a result (here: recording it on the block's state) must not escape.
    const blocks = (e as unknown as { blocks: { record(): void } }).blocks;
    blocks.record = () => { throw new Error('state bug'); };
    await e.start();
    try {
      await waitFor(() => e.schedulerStats().errors >= 2, 2000, 'two failed runs');
      assert.ok(e.schedulerStats().runs >= 2);
      assert.ok(lines.some((l) => l.msg === 'a block run failed outside its result' && l.err === 'state bug'));
    } finally {
      await e.stop();
      rejections.stop();
    }
    assert.deepEqual(rejections.seen, []);
  });
});
