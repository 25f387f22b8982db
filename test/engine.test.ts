import { strict as assert } from 'node:assert';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { RemonError } from '../src/errors';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { FakeClock } from './fake-clock';
import { sleep, tmpDir, waitFor } from './helpers';
import { probeBlock, probeLog, resetProbeLog } from './probe-block';

function engineFor(blocksYaml: string): Engine {
  // The memory store keeps raw samples: these tests are about the engine, not the store.
  const text = `node: { data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n${blocksYaml}`;
  const loaded = loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] });
  return new Engine({ ...loaded, log: silentLogger(), web: false });
}

describe('engine', () => {
  beforeEach(resetProbeLog);

  it('turns a run into a Result and samples <block>.up, <block>.duration_ms and fields', async () => {
    const e = engineFor('  - { name: p, type: probe, value: 42 }\n');
    const [r] = await e.runOnce();
    await e.stop();
    assert.equal(r.ok, true);
    assert.equal(r.message, '');
    assert.deepEqual(r.fields, { value: 42 });
    assert.deepEqual(e.store.list(), ['p.duration_ms', 'p.up', 'p.value']);
    const up = await e.store.fetch('p.up', { from: 0, to: Date.now() + 1 });
    assert.deepEqual(up.points.map((p) => p[1]), [1]);
    const s = e.blockStatus('p')!;
    assert.equal(s.status, 'ok');
    assert.equal(s.fields.value, 42);
    assert.equal(s.fields.up, 1);
  });

  const failures: Array<[string, string, string]> = [
    ['a failed run', '{ name: p, type: probe, fail: "disk full" }', 'disk full'],
    ['a thrown error', '{ name: p, type: probe, throw: "kaput" }', 'kaput'],
    ['a timeout', '{ name: p, type: probe, sleep_ms: 5000, timeout: 200ms }', 'timed out after 200ms'],
    ['a block that ignores its abort signal', '{ name: p, type: probe, sleep_ms: 1500, ignore_abort: true, timeout: 100ms }', 'timed out after 100ms'],
  ];
  for (const [what, block, message] of failures) {
    it(`turns ${what} into a failed Result`, async () => {
      const e = engineFor(`  - ${block}\n`);
      const t0 = Date.now();
      const [r] = await e.runOnce();
      assert.ok(Date.now() - t0 < 1000, 'the result does not wait past the timeout');
      await e.stop();
      assert.equal(r.ok, false);
      assert.equal(r.message, message);
      assert.equal(e.blockStatus('p')!.status, 'fail');
      assert.equal(e.blockStatus('p')!.lastError, message);
      const up = await e.store.fetch('p.up', { from: 0, to: Date.now() + 1 });
      assert.deepEqual(up.points.map((p) => p[1]), [0]);
    });
  }

  it('a node just started shows every block within 5 s, whatever its interval (fake clock)', async () => {
    const text = `node: { data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n` +
      ['load: 10s', 'loopback: 10s', 'memory: 30s', 'disk: 1m', 'self: 15s', 'nightly: 1d'].map((b) => {
        const [name, every] = b.split(': ');
        return `  - { name: ${name}, type: probe, every: ${every} }\n`;
      }).join('');
    const loaded = loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] });
    const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
    const e = new Engine({ ...loaded, log: silentLogger(), web: false, clock });
    await e.start();
    const unknown = (): string[] => e.status().filter((b) => b.status === 'unknown').map((b) => b.name);
    assert.equal(unknown().length, 6);
    await clock.advance(5000, () => new Promise((r) => setImmediate(r)));
    await waitFor(() => unknown().length === 0, 2000, `every block to have run; still unknown: ${unknown()}`).catch(() => undefined);
    await e.stop();
    assert.deepEqual(unknown(), []);
  });

  it('never overlaps a block slower than its interval; skipped ticks show as missed', async () => {
    const e = engineFor('  - { name: slow, type: probe, every: 50ms, timeout: 1s, sleep_ms: 180 }\n');
    await e.start();
    await sleep(900);
    await e.stop();
    assert.equal(probeLog.maxConcurrent.slow, 1);
    const s = e.blockStatus('slow')!;
    assert.ok(s.runs >= 3 && s.runs <= 6, `runs ${s.runs}`);
    assert.ok(s.missed >= 6, `missed ${s.missed}`);
  });

  it('runs mode: once blocks at start, not on-demand ones, and runs on-demand ones when asked', async () => {
    const e = engineFor('  - { name: o, type: probe, mode: once }\n  - { name: d, type: probe, mode: on-demand, value: 7 }\n');
    await e.start();
    await sleep(100);
    assert.equal(probeLog.runs.o, 1);
    assert.equal(probeLog.runs.d, undefined);
    const r = await e.runNow('d');
    assert.equal(r.fields.value, 7);
    assert.equal(r.trigger, 'demand');
    await assert.rejects(e.runNow('nope'), (err: RemonError) => err.code === 'REMON_ERR_BLOCK_UNKNOWN');
    await e.stop();
    assert.equal(probeLog.runs.o, 1);
  });

  it('refuses an on-demand run of a block that is running', async () => {
    const e = engineFor('  - { name: d, type: probe, mode: on-demand, sleep_ms: 200 }\n');
    await e.start();
    const first = e.runNow('d');
    await assert.rejects(e.runNow('d'), (err: RemonError) => err.code === 'REMON_ERR_BLOCK_BUSY');
    assert.equal((await first).ok, true);
    await e.stop();
  });

  it('stop aborts runs in flight and waits for them', async () => {
    const e = engineFor('  - { name: long, type: probe, mode: on-demand, timeout: 10s, sleep_ms: 10000 }\n');
    await e.start();
    const run = e.runNow('long');
    await sleep(100);
    const t0 = Date.now();
    await e.stop();
    assert.ok(Date.now() - t0 < 1000, 'stop did not wait for the timeout');
    const r = await run;
    assert.equal(r.ok, false);
    assert.equal(r.message, 'aborted: the node is stopping');
    await assert.rejects(e.runNow('long'), (err: RemonError) => err.code === 'REMON_ERR_BLOCK_ABORTED');
  });

  it('skips disabled blocks', async () => {
    const e = engineFor('  - { name: on, type: probe }\n  - { name: off, type: probe, disabled: true }\n');
    const results = await e.runOnce();
    await e.stop();
    assert.deepEqual(results.map((r) => r.block), ['on']);
  });

  describe('pipe steps', () => {
    it('if/then/else chooses by a condition over the result fields', async () => {
      const e = engineFor(`  - name: p
    type: probe
    value: 250
    pipe:
      - if: "value > 200 && up == 1"
        then: [ { increment: slow } ]
        else: [ { increment: fast } ]
      - if: "missing_field > 1"
        then: [ { increment: never } ]
        else: [ { increment: { counter: absent, by: 5 } } ]
`);
      await e.runOnce();
      await e.runOnce();
      assert.equal(await e.shared.counters.get('slow'), 2);
      assert.equal(await e.shared.counters.get('fast'), 0);
      assert.equal(await e.shared.counters.get('never'), 0);
      assert.equal(await e.shared.counters.get('absent'), 10);
      await e.stop();
    });

    it('set stores the result, or an expression, in shared state', async () => {
      const e = engineFor(`  - name: p
    type: probe
    value: 3
    pipe:
      - set: last_p
      - set: { bucket: calc, key: doubled, value: "value * 2" }
`);
      const [r] = await e.runOnce();
      const stored = (await e.shared.state.get('default', 'last_p')) as Record<string, unknown>;
      assert.equal(stored.block, 'p');
      assert.equal(stored.ok, true);
      assert.deepEqual(stored.fields, { value: 3 });
      assert.equal(stored.time, new Date(r.startedAt).toISOString());
      assert.equal(await e.shared.state.get('calc', 'doubled'), 6);
      await e.stop();
    });

    it('queue pushes each result, dropping the oldest past max_length', async () => {
      const e = engineFor(`  - name: p
    type: probe
    fail: down
    pipe:
      - if: "up == 0"
        then: [ { queue: { queue: incidents, max_length: 2 } } ]
`);
      for (let i = 0; i < 3; i++) await e.runOnce();
      assert.equal(await e.shared.queues.length('incidents'), 2);
      const msg = (await e.shared.queues.popOldest('incidents')) as Record<string, unknown>;
      assert.equal(msg.message, 'down');
      assert.equal(msg.ok, false);
      await e.stop();
    });

    it('run feeds the result to another block as its input', async () => {
      const e = engineFor(`  - name: src
    type: probe
    value: 5
    pipe: [ { run: dst } ]
  - name: dst
    type: probe
    mode: on-demand
    value: 100
`);
      await e.start();
      await e.runNow('src');
      await e.idle();
      assert.equal(probeLog.runs.dst, 1);
      const input = probeLog.inputs.dst[0] as { block: string; fields: { value: number } };
      assert.equal(input.block, 'src');
      assert.equal(input.fields.value, 5);
      assert.equal(e.blockStatus('dst')!.fields.value, 105);
      assert.equal(e.blockStatus('src')!.pipeErrors, 0);
      await e.stop();
    });

    it('records a failing step on the block and carries on with the next', async () => {
      const e = engineFor(`  - name: src
    type: probe
    pipe: [ { run: busy }, { increment: after } ]
  - name: busy
    type: probe
    mode: on-demand
    sleep_ms: 300
`);
      await e.start();
      const busy = e.runNow('busy');
      await e.runNow('src');
      await busy;
      await e.idle();
      const s = e.blockStatus('src')!;
      assert.equal(s.pipeErrors, 1);
      assert.equal(s.lastPipeError, 'run: block "busy" is running already');
      assert.equal(await e.shared.counters.get('after'), 1);
      await e.stop();
    });
  });
});
