import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { loadConfig } from '../src/config/load';
import { createDerivePlugin } from '../src/derive';
import { Engine } from '../src/engine/engine';
import { Job, Scheduler } from '../src/engine/scheduler';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { compileSeries } from '../src/series';
import { FakeClock } from './fake-clock';
import { feedBlock, feeds } from './feed-block';
import { body, freePort, tmpDir, writeConfig } from './helpers';

const STEP = 10_000;
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Node is a real engine on a fake clock with the derive plugin, its feed blocks driven by the test. */
interface Node {
  engine: Engine;
  clock: FakeClock;
  url: string;
  file: string;
}

async function startNode(text: string, clock: FakeClock, file = writeConfig(text)): Promise<Node> {
  const load = () => loadConfig(file, { ...registry, extraTypes: [feedBlock] });
  const engine = new Engine({ ...load(), log: silentLogger(), clock, plugins: [createDerivePlugin()], loadConfig: async () => load() });
  await engine.start();
  const listen = /listen: "([^"]+)"/.exec(fs.readFileSync(file, 'utf8'))![1];
  return { engine, clock, url: `http://${listen}`, file };
}

/** points fetches a series over HTTP, as a user would: [t, value] pairs, nulls left out. */
async function points(n: Node, series: string, from: number, to: number): Promise<Array<[number, number]>> {
  const res = await fetch(`${n.url}/api/series/${series}?from=${from}&to=${to}`);
  assert.equal(res.status, 200, `${series}: ${res.status}`);
  const data = await body(res) as { points: Array<[number, number | null]> };
  return data.points.filter((p): p is [number, number] => p[1] !== null);
}

function close(got: number, want: number, what: string, tolerance = 1e-9): void {
  assert.ok(Math.abs(got - want) <= tolerance * Math.max(1, Math.abs(want)), `${what}: got ${got}, want ${want}`);
}

describe('derive: derived series on a running node', () => {
  it('computes, publishes, stores and serves derived series as their inputs get samples; unknown is a gap, never 0', async () => {
    const port = await freePort();
    const T0 = Date.parse('2026-03-02T10:00:00Z');
    const clock = new FakeClock(T0);
    const head = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\nblocks:\n  - { name: web, type: feed, every: 10s }\n  - { name: db, type: feed, every: 10s }\n`;
    const derive = [
      'derive:',
      '  - { name: web.fast_pct, expr: "web.fast_ratio * 100" }', // listed before the series it reads
      '  - { name: web.fast_ratio, expr: "fraction(web.value < 200, 4)" }',
      '  - { name: web.inverse, expr: "1 / (web.value - 100)" }',
      '  - { name: web.sum, expr: "web.value + db.value" }',
    ].join('\n');
    feeds.web = [150, 250, 100, 300, 120, 180];
    feeds.db = [1, 2];
    const n = await startNode(`${head}${derive}\n`, clock);
    try {
      for (let i = 0; i < 7; i++) await clock.advance(STEP, settle);
      const to = clock.now();
      const web = await points(n, 'web.value', T0, to);
      assert.deepEqual(web.map((p) => p[1]), [150, 250, 100, 300, 120, 180]);
      const at = web.map((p) => p[0]);

      // fraction over the last 4 samples: 1/1, 1/2, 2/3, 2/4, (100, 120 of 250 100 300 120) 2/4, (100 120 180 of 4) 3/4
      const ratio = await points(n, 'web.fast_ratio', T0, to);
      assert.deepEqual(ratio.map((p) => p[0]), at, 'a derived sample has its input sample\'s time');
      ratio.forEach((p, i) => close(p[1], [1, 0.5, 2 / 3, 0.5, 0.5, 0.75][i], `web.fast_ratio[${i}]`));
      // A derived series of a derived series, evaluated in the same pass whatever the config order.
      const pct = await points(n, 'web.fast_pct', T0, to);
      assert.deepEqual(pct.map((p) => p[0]), at);
      pct.forEach((p, i) => close(p[1], [100, 50, 200 / 3, 50, 50, 75][i], `web.fast_pct[${i}]`));
      // 1 / (100 − 100) is unknown: no point at all at that time, not a 0.
      const inverse = await points(n, 'web.inverse', T0, to);
      assert.deepEqual(inverse.map((p) => p[0]), [at[0], at[1], at[3], at[4], at[5]]);
      inverse.forEach((p, i) => close(p[1], [1 / 50, 1 / 150, 1 / 200, 1 / 20, 1 / 80][i], `web.inverse[${i}]`));
      // db reports twice, then nothing: 20 s (two intervals) after its last sample its value is unknown.
      const db = await points(n, 'db.value', T0, to);
      assert.equal(db.length, 2);
      const sum = await points(n, 'web.sum', T0, to);
      assert.ok(sum.length >= 2, `web.sum has ${sum.length} points`);
      for (const [t] of sum) assert.ok(t <= db[1][0] + 20_000, `web.sum at ${t - T0} ms after db went stale at ${db[1][0] + 20_000 - T0}`);

      const list = await body(await fetch(`${n.url}/api/derive`)) as Array<Record<string, unknown>>;
      const byName = new Map(list.map((d) => [d.name, d]));
      assert.deepEqual([...byName.keys()], ['web.fast_pct', 'web.fast_ratio', 'web.inverse', 'web.sum']);
      const s = byName.get('web.sum')!;
      assert.equal(s.state, 'unknown');
      assert.equal(s.value, undefined);
      assert.match(s.message as string, /^web\.value \(180\) \+ db\.value \(unknown: last sample \d+s ago\)$/);
      assert.equal(byName.get('web.fast_ratio')!.message, 'fraction(web.value < 200, 4) (0.75)');
      assert.deepEqual(byName.get('web.inverse')!.inputs, ['web.value']);
      assert.equal(byName.get('web.inverse')!.unknown, 1);

      const names = await body(await fetch(`${n.url}/api/series`)) as string[];
      for (const d of ['web.fast_pct', 'web.fast_ratio', 'web.inverse', 'web.sum']) assert.ok(names.includes(d), `${d} listed in /api/series`);
      const metrics = await (await fetch(`${n.url}/metrics`)).text();
      assert.match(metrics, /^remon_derive_series 4$/m);
      assert.match(metrics, /^remon_derive_unknown_total [1-9]\d*$/m);
      const published = Number(/^remon_derive_samples_total (\d+)$/m.exec(metrics)![1]);
      const evaluations = Number(/^remon_derive_evaluations_total (\d+)$/m.exec(metrics)![1]);
      assert.equal(published, ratio.length + pct.length + inverse.length + sum.length);
      assert.ok(evaluations > published);
    } finally {
      await n.engine.stop();
    }
  });

  it('a reload adds and changes derived series, their windows read back from the store; unchanged ones keep theirs', async () => {
    const port = await freePort();
    const T0 = Date.parse('2026-03-02T12:00:00Z');
    const clock = new FakeClock(T0);
    const head = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\nblocks:\n  - { name: web, type: feed, every: 10s }\nderive:\n`;
    const values = [5, 9, 2, 7, 4, 8, 6];
    feeds.web = values.slice(0, 6);
    const n = await startNode(`${head}  - { name: web.avg3, expr: "avg(web.value, 3)" }\n  - { name: web.kept, expr: "ewma(web.value, 0.5)" }\n`, clock);
    try {
      for (let i = 0; i < 6; i++) await clock.advance(STEP, settle);
      fs.writeFileSync(n.file, `${head}  - { name: web.avg3, expr: "max(web.value, 3)" }\n  - { name: web.kept, expr: "ewma(web.value, 0.5)" }\n  - { name: web.sum5, expr: "sum(web.value, 5)" }\n`);
      await n.engine.reload();
      feeds.web.push(values[6]);
      await clock.advance(STEP, settle);
      const to = clock.now();
      const last = async (s: string): Promise<number> => (await points(n, s, T0, to)).at(-1)![1];
      // Six samples before the reload, one after: each reads history it did not see live.
      assert.equal(await last('web.avg3'), Math.max(4, 8, 6));
      assert.equal(await last('web.sum5'), 9 + 2 + 7 + 4 + 8 + 6 - 9);
      let ewma = NaN;
      for (const v of values) ewma = Number.isNaN(ewma) ? v : 0.5 * v + 0.5 * ewma;
      close(await last('web.kept'), ewma, 'web.kept');
    } finally {
      await n.engine.stop();
    }
  });
});

describe('derive: right after a restart (rrd store)', () => {
  // The block's runs fall on the store's 10 s step (its phase is chosen so), so the store's
  // rows hold the samples as they were; a window rebuilt from them is the window before.
  const block = 'app';
  const job: Job = { id: block, everyMs: STEP, run: async () => undefined };
  const exprs: Record<string, string> = {
    'app.avg': 'avg(app.value, 1m)',
    'app.low': 'fraction(app.value < 50, 10)',
    'app.ewma': 'ewma(app.value, 0.3)',
    'app.p90': 'percentile(app.value, 90, 2m)',
    'app.rate': 'rate(app.value, 5)',
    'app.sd': 'stddev(app.value, 10)',
    'app.z': '(app.value - app.avg) / app.sd',
    'app.hw': "holt_winters(app.value, 'prediction', 6)",
    'app.band': "holt_winters(app.value, 'deviation', 6)",
  };

  it('the first evaluation after a restart is what the node would have computed had it not stopped', async function () {
    this.timeout(60_000);
    const scheduler = new Scheduler();
    const offset = scheduler.offsetOf(job);
    assert.equal(scheduler.firstOffsetOf(job), offset, 'the first run is on the phase too');
    const T0 = Math.ceil(Date.parse('2026-03-02T14:00:00Z') / STEP) * STEP - offset;
    const clock = new FakeClock(T0);
    const port = await freePort();
    const derive = Object.entries(exprs).map(([name, expr]) => `  - { name: ${name}, expr: "${expr}" }`).join('\n');
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: rrd }\nblocks:\n  - { name: ${block}, type: feed, every: 10s }\nderive:\n${derive}\n`;
    const file = writeConfig(text);
    let seed = 11;
    const value = (): number => Math.round(((seed = (seed * 48271) % 2147483647) / 2147483647) * 10000) / 100;
    const fed = Array.from({ length: 61 }, value);
    feeds[block] = [...fed];

    let n = await startNode(text, clock, file);
    for (let i = 0; i < 60; i++) await clock.advance(STEP, settle);
    const before = await points(n, 'app.value', T0, clock.now());
    // A new RRD file starts one second before its first sample, so that sample makes no
    // row (as with rrdtool): the store holds the 59 after it.
    assert.equal(before.length, 59);
    before.forEach(([, v], i) => close(v, fed[i + 1], `row ${i}`));
    before.forEach(([t]) => assert.equal(t % STEP, 0, 'samples on the step'));
    await n.engine.stop();

    // Restarted 10 s later, on the same phase: its first run is two intervals after the last
    // (at most the heartbeat: a longer gap makes the RRD's row there unknown, as rrdtool's).
    await clock.advance(STEP);
    assert.equal(clock.now(), T0 + 61 * STEP);
    n = await startNode(text, clock, file);
    try {
      await clock.advance(offset, settle);
      await clock.advance(1, settle);
      const to = clock.now();
      const after = await points(n, 'app.value', T0, to);
      // 61 rows: the gap's row holds the next sample's value (a gauge's value holds back to the last update).
      assert.equal(after.length, 61);
      const t61 = after[60][0];
      assert.equal(t61, before[58][0] + 2 * STEP);
      const times = [...fed.slice(0, 60).map((_, i) => T0 + offset + i * STEP), t61];

      // The reference: each expression fed every sample, as a node that never stopped
      // (holt_winters: from the store's first row on, as it has no earlier history).
      const reference = new Map<string, number | undefined>();
      const runs = new Map(Object.entries(exprs).map(([name, expr]) => [name, compileSeries(expr).instantiate()]));
      const order = ['app.avg', 'app.sd', 'app.low', 'app.ewma', 'app.p90', 'app.rate', 'app.hw', 'app.band', 'app.z'];
      fed.forEach((v, i) => {
        const t = times[i];
        for (const name of order) {
          const run = runs.get(name)!;
          if (i > 0 || (name !== 'app.hw' && name !== 'app.band')) run.push('app.value', t, v, 20);
          const r = run.evaluate(t);
          const x = typeof r.value === 'number' ? r.value : undefined;
          if (x !== undefined) for (const other of runs.values()) other.push(name, t, x, 20);
          reference.set(name, x);
        }
      });
      // Tolerances: the store's rows are the samples to an ulp or so; an ewma is rebuilt
      // from the samples whose weight is above 1e-6 (39 at α = 0.3), so the ones before may
      // move it by 1e-6 of the values' range (0 to 100).
      const tolerance = (name: string): number => (name === 'app.ewma' ? 1e-4 : 1e-9);
      const list = await body(await fetch(`${n.url}/api/derive`)) as Array<{ name: string; at: number; value: number; evaluations: number }>;
      for (const name of order) {
        const want = reference.get(name);
        assert.notEqual(want, undefined, `${name}: the reference is known`);
        const d = list.find((x) => x.name === name)!;
        assert.equal(d.evaluations, 1, `${name}: evaluated once since the restart`);
        assert.equal(d.at, t61);
        close(d.value, want!, `${name} right after the restart`, tolerance(name));
        const stored = (await points(n, name, t61 - STEP, to)).find((p) => p[0] === t61);
        assert.ok(stored, `${name}: stored at the first run after the restart`);
        close(stored[1], want!, `${name} as stored`, tolerance(name));
      }
    } finally {
      await n.engine.stop();
    }
  });
});
