/**
 * The influx store against a real VictoriaMetrics started by the suite on loopback:
 * write through remon, read back through remon's fetch, outages, the spool cap, a bad URL,
 * and the engine writing block results with `storage.kind: influx`.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinBlockTypes } from '../blocks';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { InfluxStore, InfluxStoreOptions } from '../src/store/influx';
import { MemoryStore } from '../src/store/memory';
import { Sample } from '../src/store/store';
import { captureLog, freePort, sleep, tmpDir, waitFor, writeConfig } from './helpers';
import { requirePeer } from './peers';
import { requireSmallFs, SmallFs } from './small-fs';
import { startVictoriaMetrics, victoriaMetricsPath, VictoriaMetrics } from './store-influx-server';

let nodeSeq = 0;
/** uniqueNode keeps the tests' series apart on the one server. */
const uniqueNode = (what: string): string => `${what}-${process.pid}-${++nodeSeq}`;

describe('influx store (VictoriaMetrics)', function () {
  this.timeout(60_000);
  let vm: VictoriaMetrics;
  const stores: InfluxStore[] = [];

  before(async function () {
    requirePeer(this, 'victoria-metrics', victoriaMetricsPath() !== undefined, 'apt-get install victoria-metrics');
    vm = await startVictoriaMetrics();
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await vm?.stop();
  });

  /** open makes a store on the test server with quick timers; closed after the suite. */
  const open = (o: Partial<InfluxStoreOptions> & { node: string }): InfluxStore => {
    const s = new InfluxStore({
      url: vm.url,
      bucket: 'remon',
      spoolDir: path.join(tmpDir(), 'influx-spool'),
      flushIntervalMs: 100,
      retryMinMs: 100,
      retryMaxMs: 400,
      timeoutMs: 3000,
      log: silentLogger(),
      ...o,
    });
    stores.push(s);
    return s;
  };

  /** delivered waits until the server has acknowledged every line the store accepted. */
  const delivered = (s: InfluxStore) => waitFor(() => s.influxStatus().pending === 0 && s.influxStatus().state === 'ok', 15_000, 'delivery');

  /** close compares values as VictoriaMetrics stores them: decimal, about 12 significant digits. */
  const close = (a: number | null, b: number, what: string) => {
    assert.ok(a !== null && Math.abs(a - b) <= Math.abs(b) * 1e-12, `${what}: got ${a}, wrote ${b}`);
  };

  /** waitPoints polls a raw fetch until it has n points (VictoriaMetrics indexes new samples within a second or so). */
  const waitPoints = async (s: InfluxStore, name: string, from: number, to: number, n: number) => {
    await delivered(s);
    await vm.sync();
    return waitFor(async () => {
      const r = await s.fetch(name, { from, to });
      return r.points.length >= n ? r : undefined;
    }, 15_000, `${n} points of ${name}`);
  };

  /** samples: `count` samples of each series, irregularly spaced, ending a minute ago. */
  const makeSamples = (series: string[], count: number, end = Date.now() - 60_000): Sample[] => {
    const out: Sample[] = [];
    for (let i = 0; i < count; i++) {
      const t = end - (count - i) * 7_000 - (i % 5) * 613;
      series.forEach((name, k) => out.push({ series: name, t, value: k * 1000 + i * 0.25 + (i % 3 === 0 ? 1e-3 : 0), kind: 'gauge' }));
    }
    return out;
  };

  it('reads back through fetch exactly the values and timestamps it wrote', async () => {
    const node = uniqueNode('rw');
    const s = open({ node });
    const samples = makeSamples(['homepage.total_ms', 'homepage.up', 'nightly-backup.up'], 300);
    samples.push({ series: 'homepage.total_ms', t: samples[0].t + 1, value: 123.456789012, kind: 'gauge' });
    samples.push({ series: 'homepage.total_ms', t: samples[0].t + 2, value: -0.000123, kind: 'gauge' });
    s.write(samples);
    await s.flush();
    for (const name of ['homepage.total_ms', 'homepage.up', 'nightly-backup.up']) {
      const want = samples.filter((x) => x.series === name).map((x) => [x.t, x.value] as [number, number]).sort((a, b) => a[0] - b[0]);
      const from = want[0][0];
      const to = want[want.length - 1][0];
      const got = await waitPoints(s, name, from, to, want.length);
      assert.equal(got!.name, name);
      assert.deepEqual(got!.points.map((p) => p[0]), want.map((p) => p[0]), `${name}: timestamps, both ends included`);
      got!.points.forEach(([t, v], i) => close(v, want[i][1], `${name} at ${t}`));
      // A range inside: only the samples in [from, to].
      const mid = await s.fetch(name, { from: want[10][0], to: want[20][0] });
      assert.deepEqual(mid.points.map((p) => p[0]), want.slice(10, 21).map((p) => p[0]));
    }
    const st = s.influxStatus();
    assert.equal(st.state, 'ok');
    assert.equal(st.error, undefined);
    assert.equal(st.delivered, samples.length);
    assert.equal(st.accepted, samples.length);
  });

  it('fetch with a step gives the memory store\'s bucket averages, null where a bucket is empty', async () => {
    const node = uniqueNode('step');
    const s = open({ node });
    const memory = new MemoryStore({ capacity: 10_000 });
    const end = Math.floor(Date.now() / 60_000) * 60_000 - 120_000;
    const samples = makeSamples(['load.load1'], 200, end).filter((x, i) => i < 80 || i > 120); // a gap
    s.write(samples);
    memory.write(samples);
    await s.flush();
    const from = samples[0].t;
    const to = samples[samples.length - 1].t;
    await waitPoints(s, 'load.load1', from, to, samples.length);
    for (const step of [60_000, 10_000, 3_600_000]) {
      const want = await memory.fetch('load.load1', { from, to, step });
      const got = await s.fetch('load.load1', { from, to, step });
      assert.equal(got.step, step);
      assert.deepEqual(got.points.map((p) => p[0]), want.points.map((p) => p[0]), `step ${step}: bucket times`);
      got.points.forEach(([t, v], i) => {
        const w = want.points[i][1];
        if (w === null) assert.equal(v, null, `step ${step} at ${t}: empty bucket`);
        else assert.ok(v !== null && Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `step ${step} at ${t}: got ${v}, want ${w}`);
      });
      if (step === 10_000) assert.ok(want.points.some((p) => p[1] === null), 'the test has empty buckets');
    }
  });

  it('list() has the written series, and a new store finds them on the server; labels are tags', async () => {
    const node = uniqueNode('list');
    const labels = { dc: 'fra', env: 'prod' };
    const s = open({ node, labels });
    const names = ['disk_root.used_pct', 'disk.free', 'web-1.up'];
    s.write(makeSamples(names, 5));
    assert.deepEqual(s.list(), [...names].sort());
    await s.flush();
    await vm.sync();
    const again = open({ node, labels, blocks: ['disk_root', 'disk', 'web-1'] });
    await waitFor(async () => (await again.refresh()).length === 3, 15_000, 'the series list');
    assert.deepEqual(again.list(), [...names].sort());
    const series = await vm.series(`{node="${node}"}`);
    assert.deepEqual(
      series.map((x) => JSON.stringify(x)).sort(),
      ['disk_free', 'disk_root_used_pct', 'web-1_up'].map((n) => JSON.stringify({ __name__: n, dc: 'fra', env: 'prod', node })).sort(),
    );
    // Another node's series are not this node's.
    const other = open({ node: uniqueNode('other'), labels });
    assert.deepEqual(await other.refresh(), []);
  });

  it('loses nothing across a server outage: spools to disk, replays in order, empties the spool', async () => {
    const node = uniqueNode('outage');
    const { log, records } = captureLog();
    const s = open({ node, log });
    const names = Array.from({ length: 20 }, (_, i) => `b${i}.v`);
    const written: Sample[] = [];
    let t = Date.now() - 3_600_000;
    let running = true;
    const sampler = (async () => {
      while (running) {
        const batch = names.map((series, i) => ({ series, t, value: i + (t % 1000) / 1000, kind: 'gauge' as const }));
        t += 10;
        written.push(...batch);
        s.write(batch);
        await sleep(5);
      }
    })();
    await sleep(700);
    assert.equal(s.influxStatus().state, 'ok');
    await vm.stop();
    await waitFor(() => s.influxStatus().state === 'spooling', 5000, 'spooling');
    await sleep(1500);
    const down = s.influxStatus();
    assert.equal(down.error?.code, 'REMON_ERR_STORE_UNREACHABLE');
    assert.match(down.error!.message, new RegExp(`^cannot reach ${vm.url}: .*ECONNREFUSED`));
    await s.flush();
    assert.ok(s.spoolFiles().length > 0, 'the spool has segment files during the outage');
    assert.ok(s.influxStatus().spooledLines > 0);
    // What /api/store and /metrics show: degraded, why, and the lines held on disk.
    const shown = s.status();
    assert.equal(shown.state, 'degraded');
    assert.equal(shown.error?.code, 'REMON_ERR_STORE_UNREACHABLE');
    assert.ok(shown.gauges.spooled_lines > 0, JSON.stringify(shown));
    await vm.start();
    await sleep(700);
    running = false;
    await sampler;
    await s.flush();
    await waitFor(() => s.influxStatus().state === 'ok' && s.influxStatus().spooledLines === 0, 20_000, 'the spool to drain');
    assert.deepEqual(s.spoolFiles(), [], 'spool segments are removed after replay');
    // Nothing but the running node's LOCK is left.
    assert.deepEqual(fs.readdirSync(s.options.spoolDir), ['LOCK']);
    const st = s.influxStatus();
    assert.equal(st.error, undefined);
    assert.equal(s.status().state, 'ok');
    assert.equal(st.delivered, written.length);
    assert.equal(st.dropped + st.rejected, 0);

    // Count every point on the server.
    await vm.sync();
    const want = new Map<string, Map<number, number>>();
    for (const x of written) {
      const m = x.series.replace('.', '_');
      if (!want.has(m)) want.set(m, new Map());
      want.get(m)!.set(x.t, x.value);
    }
    let missing = Infinity;
    await waitFor(async () => {
      const got = await vm.exportSamples(`{node="${node}"}`);
      missing = 0;
      for (const [m, points] of want) {
        const have = new Map(got.get(m) ?? []);
        for (const [ts, v] of points) {
          const h = have.get(ts);
          if (h === undefined || Math.abs(h - v) > Math.abs(v) * 1e-12) missing++;
        }
      }
      return missing === 0;
    }, 15_000, 'every point on the server').catch(() => undefined);
    assert.equal(missing, 0, `${missing} of ${written.length} points missing`);
    const messages = records.map((r) => r.msg);
    assert.ok(messages.includes('influx writes go to the spool until the server takes them'), messages.join(', '));
    assert.ok(messages.includes('influx spool replayed; writing directly again'), messages.join(', '));
  });

  it('replays at start what an earlier run left in the spool', async () => {
    const node = uniqueNode('restart');
    const spoolDir = path.join(tmpDir(), 'influx-spool');
    const port = await freePort(); // nothing listens there
    const a = open({ node, spoolDir, url: `http://127.0.0.1:${port}` });
    const samples = makeSamples(['job.ok'], 50);
    a.write(samples);
    await a.close();
    assert.ok(fs.readdirSync(spoolDir).some((f) => f.endsWith('.log')), 'the first run left a spool');
    const b = open({ node, spoolDir });
    await waitFor(() => b.influxStatus().spooledLines === 0 && b.influxStatus().state === 'ok', 10_000, 'the replay');
    assert.equal(b.influxStatus().delivered, 50);
    const got = await waitPoints(b, 'job.ok', samples[0].t, samples[49].t, 50);
    got!.points.forEach(([t, v], i) => close(v, samples[i].value, `at ${t}`));
    assert.equal(got!.points.length, 50);
    assert.deepEqual(fs.readdirSync(spoolDir), ['LOCK']);
  });

  it('a full spool drops the oldest lines and logs how many; the newest reach the server', async () => {
    const node = uniqueNode('cap');
    const { log, records } = captureLog();
    await vm.stop();
    let s: InfluxStore;
    try {
      s = open({ node, log, bufferMaxBytes: 16 * 1024, retryMinMs: 50, retryMaxMs: 100 });
      const samples = makeSamples(['cap.v'], 1000); // about 60 bytes a line: 60 KB
      for (let i = 0; i < samples.length; i += 100) {
        s.write(samples.slice(i, i + 100));
        await s.flush();
      }
      const st = s.influxStatus();
      assert.ok(st.dropped > 500, `dropped ${st.dropped}`);
      assert.ok(st.spooledBytes <= 16 * 1024, `${st.spooledBytes} bytes spooled`);
      assert.equal(st.dropped + st.spooledLines, 1000);
      const drops = records.filter((r) => r.msg === 'influx spool full; dropped the oldest lines');
      assert.ok(drops.length > 0, 'a log line says lines were dropped');
      assert.equal(drops.reduce((sum, r) => sum + (r.lines as number), 0), st.dropped);
      assert.equal(drops[drops.length - 1].total, st.dropped);
      await vm.start();
      await waitFor(() => s.influxStatus().spooledLines === 0, 10_000, 'the replay');
      const kept = samples.slice(st.dropped);
      const got = await waitPoints(s, 'cap.v', samples[0].t, samples[999].t, kept.length);
      assert.deepEqual(got!.points.map((p) => p[0]), kept.map((x) => x.t), 'exactly the newest lines are kept');
    } finally {
      await vm.start().catch(() => undefined); // running already when all went well
    }
  });

  it('a spool on a full disk is a degraded state, not a crash; lines wait in memory and reach the server when space returns', async function () {
    requireSmallFs(this, 'influx spool full-disk test');
    const small = SmallFs.mount(4);
    let s: InfluxStore | undefined;
    try {
      const node = uniqueNode('full');
      await vm.stop();
      s = open({ node, spoolDir: path.join(small.dir, 'influx-spool') });
      const samples = makeSamples(['full.v'], 300);
      s.write(samples.slice(0, 100));
      await s.flush(); // spooled to disk
      assert.equal(s.influxStatus().spooledLines, 100, JSON.stringify(s.influxStatus()));
      assert.ok(s.spoolFiles().length > 0, 'spooled to disk');
      const filler = small.fill();
      for (let i = 100; i < 300; i += 20) {
        s.write(samples.slice(i, i + 20));
        await s.flush();
      }
      const down = s.status();
      assert.equal(down.state, 'degraded');
      assert.equal(down.error?.code, 'REMON_ERR_STORE_SPOOL');
      assert.match(down.error!.message, /^spool .*influx-spool: cannot write .*spool\.\d{12}\.log: ENOSPC: no space left on device/);
      assert.equal(s.influxStatus().spooledLines, 300, 'lines the disk refused wait in memory');
      assert.equal(s.influxStatus().dropped, 0);
      fs.rmSync(filler);
      await vm.start();
      await waitFor(() => s!.influxStatus().spooledLines === 0 && s!.influxStatus().state === 'ok', 15_000, 'the replay');
      assert.equal(s.status().state, 'ok');
      const got = await waitPoints(s, 'full.v', samples[0].t, samples[299].t, 300);
      assert.deepEqual(got!.points.map((p) => p[0]), samples.map((x) => x.t));
    } finally {
      await vm.start().catch(() => undefined); // running already when all went well
      await s?.close();
      small.unmount();
    }
  });

  it('an unreachable server is a coded error state, not a crash', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { log, records } = captureLog();
    const s = open({ node: uniqueNode('bad'), url, log });
    s.write(makeSamples(['x.y'], 10));
    await s.flush();
    await waitFor(() => s.influxStatus().error, 5000, 'the error state');
    const st = s.influxStatus();
    assert.equal(st.state, 'spooling');
    assert.equal(st.error?.code, 'REMON_ERR_STORE_UNREACHABLE');
    assert.match(st.error!.message, new RegExp(`^cannot reach ${url}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
    assert.equal(st.spooledLines, 10);
    await assert.rejects(s.fetch('x.y', { from: 0, to: Date.now() }), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'REMON_ERR_STORE_UNREACHABLE');
      assert.match(err.message, new RegExp(`^cannot reach ${url}: `));
      return true;
    });
    const warn = records.find((r) => r.msg === 'influx write failed');
    assert.equal(warn?.code, 'REMON_ERR_STORE_UNREACHABLE');
  });

  it('a read URL that is not a Prometheus API is REMON_ERR_STORE_QUERY', async () => {
    const s = open({ node: uniqueNode('q'), readUrl: `${vm.url}/no/such/prefix` });
    await assert.rejects(s.fetch('x.y', { from: 0, to: Date.now() }), { code: 'REMON_ERR_STORE_QUERY' });
  });

  it('the engine writes block results to the server with storage.kind: influx', async () => {
    const dir = tmpDir();
    const node = uniqueNode('engine');
    const file = writeConfig(
      `node: { name: ${node}, data: ./data }
storage:
  kind: influx
  url: ${vm.url}
  bucket: remon
  labels: { role: test }
  flush_interval: 100ms
blocks:
  - name: two
    type: shell
    every: 200ms
    command: echo 2
    parse: { regex: '^(?<value>\\d+)' }
`,
      dir,
    );
    const loaded = loadConfig(file, { ...registry, env: {}, extraTypes: [] });
    assert.equal(builtinBlockTypes.length > 0, true);
    const engine = new Engine({ ...loaded, log: silentLogger(), web: false });
    assert.ok(engine.store instanceof InfluxStore);
    const started = Date.now();
    await engine.start();
    await waitFor(() => engine.store.list().includes('two.value'), 5000, 'a result');
    await sleep(500);
    await engine.stop();
    await vm.sync();
    const reader = open({ node, labels: { role: 'test' } });
    const got = await waitFor(async () => {
      const r = await reader.fetch('two.value', { from: started - 1000, to: Date.now() });
      return r.points.length > 0 ? r : undefined;
    }, 15_000, 'the engine\'s samples');
    assert.ok(got!.points.every((p) => p[1] === 2));
    const up = await reader.fetch('two.up', { from: started - 1000, to: Date.now() });
    assert.equal(up.points.length, got!.points.length);
    assert.ok(fs.existsSync(path.join(dir, 'data', 'influx-spool')), 'the spool lives under node.data');
  });
});
