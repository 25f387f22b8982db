/**
 * The shared backends as a node uses them: built from `shared:` in monitor.yaml, reached
 * from pipe steps (lock, with-lock, increment, set), and Redis going away under a running
 * node.
 */
import { strict as assert } from 'node:assert';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { createRedisShared } from '../src/shared/redis';
import { sleep, tmpDir, waitFor } from './helpers';
import { probeBlock, resetProbeLog } from './probe-block';
import { useRedis } from './shared-redis';

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

/** engineFor builds an engine (no web) from monitor.yaml text without node:. */
function engineFor(yaml: string, dataDir = tmpDir()): Engine {
  const loaded = loadConfig('monitor.yaml', { ...registry, text: `node: { data: ${dataDir} }\n${yaml}`, extraTypes: [probeBlock] });
  const e = new Engine({ ...loaded, log: silentLogger(), web: false });
  engines.push(e);
  return e;
}

describe('shared: config', () => {
  it('builds memory by default, and redis with its default url and prefix', () => {
    const blocks = 'blocks:\n  - { name: p, type: probe }\n';
    assert.deepEqual(loadConfig('m.yaml', { ...registry, text: blocks, extraTypes: [probeBlock] }).config.shared, { kind: 'memory', persistentBuckets: [] });
    const mem = loadConfig('m.yaml', { ...registry, text: `shared: { persistent_buckets: [keep] }\n${blocks}`, extraTypes: [probeBlock] }).config;
    assert.deepEqual(mem.shared, { kind: 'memory', persistentBuckets: ['keep'] });
    const redis = loadConfig('m.yaml', { ...registry, text: `shared: { kind: redis }\n${blocks}`, extraTypes: [probeBlock] }).config;
    assert.deepEqual(redis.shared, { kind: 'redis', url: 'redis://127.0.0.1:6379', prefix: 'remon:' });
  });

  it('compiles lock and with-lock steps with their durations', () => {
    const c = loadConfig('m.yaml', {
      ...registry,
      text: `blocks:
  - name: p
    type: probe
    pipe:
      - lock: { name: once-a-minute, ttl: 1m }
      - with-lock:
          name: report
          ttl: 30s
          wait: 2s
          steps: [ { increment: reports }, { run: q } ]
  - { name: q, type: probe, mode: on-demand }
`,
      extraTypes: [probeBlock],
    }).config;
    assert.deepEqual(c.blocks[0].pipe, [
      { kind: 'lock', name: 'once-a-minute', ttlMs: 60_000, waitMs: 0 },
      { kind: 'with-lock', name: 'report', ttlMs: 30_000, waitMs: 2000, steps: [{ kind: 'increment', counter: 'reports', by: 1 }, { kind: 'run', block: 'q' }] },
    ]);
  });

  it('checks run targets inside with-lock', () => {
    assert.throws(
      () => loadConfig('m.yaml', { ...registry, text: 'blocks:\n  - name: p\n    type: probe\n    pipe: [ { with-lock: { name: l, ttl: 1s, steps: [ { run: nosuch } ] } } ]\n', extraTypes: [probeBlock] }),
      (err: Error) => /blocks\[0\]\.pipe\[0\]\.with-lock\.steps\[0\]\.run: no block is named "nosuch"/.test(err.message),
    );
  });
});

describe('shared: pipe steps', () => {
  beforeEach(resetProbeLog);

  it('lock: the steps after it run at most once per ttl, and a held lock is not an error', async () => {
    const e = engineFor(`blocks:
  - name: p
    type: probe
    pipe:
      - increment: always
      - lock: { name: once, ttl: 300ms }
      - increment: guarded
`);
    for (let i = 0; i < 3; i++) await e.runOnce();
    assert.equal(await e.shared.counters.get('always'), 3);
    assert.equal(await e.shared.counters.get('guarded'), 1);
    await sleep(350);
    await e.runOnce();
    assert.equal(await e.shared.counters.get('guarded'), 2);
    assert.equal(e.blockStatus('p')!.pipeErrors, 0);
  });

  it('lock: when it is not taken only the rest of its own step list is skipped', async () => {
    const e = engineFor(`blocks:
  - name: p
    type: probe
    pipe:
      - if: "up == 1"
        then: [ { lock: { name: busy, ttl: 5s } }, { increment: inner } ]
      - increment: outer
`);
    await e.shared.locks.acquire('busy', { ttlMs: 5000 });
    await e.runOnce();
    assert.equal(await e.shared.counters.get('inner'), 0);
    assert.equal(await e.shared.counters.get('outer'), 1);
  });

  it('with-lock runs its steps while holding the lock, then releases it; a second holder waits or fails', async () => {
    const e = engineFor(`blocks:
  - name: a
    type: probe
    mode: on-demand
    pipe: [ { with-lock: { name: W, ttl: 5s, steps: [ { run: slow }, { increment: a_done } ] } } ]
  - name: impatient
    type: probe
    mode: on-demand
    pipe: [ { with-lock: { name: W, ttl: 5s, steps: [ { increment: impatient_done } ] } } ]
  - name: patient
    type: probe
    mode: on-demand
    pipe: [ { with-lock: { name: W, ttl: 5s, wait: 3s, steps: [ { increment: patient_done } ] } } ]
  - { name: slow, type: probe, mode: on-demand, sleep_ms: 300 }
`);
    await e.start();
    const a = e.runNow('a');
    await waitFor(() => e.shared.locks.isLocked('W'), 2000, 'a to hold W');
    await e.runNow('impatient');
    const patient = e.runNow('patient');
    await sleep(100);
    assert.equal(await e.shared.counters.get('patient_done'), 0, 'patient waits while a holds the lock');
    await a;
    await patient;
    await e.idle();
    assert.equal(await e.shared.counters.get('a_done'), 1);
    assert.equal(await e.shared.counters.get('impatient_done'), 0);
    assert.equal(await e.shared.counters.get('patient_done'), 1);
    assert.equal(await e.shared.locks.isLocked('W'), false);
    const s = e.blockStatus('impatient')!;
    assert.equal(s.pipeErrors, 1);
    assert.match(s.lastPipeError, /^with-lock: lock "W" could not be acquired at once \(wait 0\) \(held by \S+, token 1\)$/);
    assert.equal(e.blockStatus('a')!.pipeErrors, 0);
    assert.equal(e.blockStatus('patient')!.pipeErrors, 0);
  });

  it('with-lock whose steps outlast its ttl reports the lost lock on the block', async () => {
    const e = engineFor(`blocks:
  - name: a
    type: probe
    mode: on-demand
    pipe: [ { with-lock: { name: W, ttl: 100ms, steps: [ { run: slow } ] } } ]
  - { name: slow, type: probe, mode: on-demand, sleep_ms: 300 }
`);
    await e.start();
    await e.runNow('a');
    await e.idle();
    assert.equal(e.blockStatus('a')!.lastPipeError, 'with-lock: lock "W" ran out (ttl 100ms) before its steps finished; raise ttl');
  });

  it('a persistent bucket written by a set step is there after the node restarts', async () => {
    const dataDir = tmpDir();
    const yaml = `shared: { persistent_buckets: [last] }
blocks:
  - name: p
    type: probe
    value: 42
    pipe: [ { set: { bucket: last, key: p, value: "value" } }, { set: { bucket: scratch, key: p, value: "value" } } ]
`;
    const first = engineFor(yaml, dataDir);
    await first.runOnce();
    await first.stop();
    const second = engineFor(yaml, dataDir);
    assert.equal(await second.shared.state.get('last', 'p'), 42);
    assert.equal(await second.shared.state.get('scratch', 'p'), undefined);
  });
});

describe('shared: a node on redis', function () {
  const redis = useRedis();
  beforeEach(resetProbeLog);

  const redisYaml = (prefix: string, blocks: string): string => `shared: { kind: redis, url: "${redis.url}", prefix: "${prefix}" }\nblocks:\n${blocks}`;

  it('keeps counters on the server, where another node sees them; a lock step holds across nodes', async () => {
    const prefix = `steps${Date.now()}:`;
    const blocks = `  - name: p
    type: probe
    pipe: [ { increment: runs }, { lock: { name: once, ttl: 5s } }, { increment: guarded } ]
`;
    const alpha = engineFor(redisYaml(prefix, blocks));
    const beta = engineFor(redisYaml(prefix, blocks));
    assert.equal(alpha.shared.kind, 'redis');
    await alpha.runOnce();
    await beta.runOnce();
    const observer = createRedisShared({ url: redis.url, prefix });
    try {
      assert.equal(await observer.counters.get('runs'), 2);
      assert.equal(await observer.counters.get('guarded'), 1);
    } finally {
      await observer.close();
    }
  });

  it('while Redis is down, shared steps fail as pipe errors and the node runs on; they work again when it is back', async function () {
    this.timeout(30_000);
    const e = engineFor(redisYaml(`outage${Date.now()}:`, '  - { name: p, type: probe, every: 100ms, pipe: [ { increment: runs } ] }\n'));
    await e.start();
    await waitFor(async () => (await e.shared.counters.get('runs')) >= 2, 5000, 'counting');
    await redis.server.stop();
    await waitFor(() => e.blockStatus('p')!.pipeErrors >= 3, 5000, 'pipe errors');
    const s = e.blockStatus('p')!;
    assert.match(s.lastPipeError, new RegExp(`^increment: counter.incr: redis at ${redis.url.replace(/\./g, '\\.')} is unreachable`));
    assert.equal(s.status, 'ok', 'the probe itself still succeeds');
    const runs = s.runs;
    await sleep(300);
    assert.ok(e.blockStatus('p')!.runs > runs, 'the block keeps running');
    await redis.server.start();
    // The restarted server is empty (--save ''): counting starts again from 1.
    await waitFor(async () => (await e.shared.counters.get('runs').catch(() => 0)) >= 2, 10_000, 'counting again');
  });
});
