/**
 * Every store kind answers a bounded fetch (FetchOptions.maxPoints): a hostile range such as
 * from=0&to=40000000000000 gives at most maxPoints points (plus one), quickly, with the
 * exact averages of the data where it is, and twenty such requests leave the heap as it was.
 * The influx store runs against the real VictoriaMetrics the suite starts.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { silentLogger } from '../src/log';
import { InfluxStore } from '../src/store/influx';
import { MemoryStore } from '../src/store/memory';
import { RrdStore } from '../src/store/rrd/store';
import { FetchOptions, Sample, SeriesData, Store } from '../src/store/store';
import { tmpDir, waitFor } from './helpers';
import { requirePeer } from './peers';
import { startVictoriaMetrics, victoriaMetricsPath, VictoriaMetrics } from './store-influx-server';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOURS = 150 * 24;
/** The last sample, on the hour; samples are hourly before it, valued 0, 1, 2, ... */
const END = 472_222 * HOUR;
const HOSTILE = { from: 0, to: 4e13 };
const SERIES = 'bounds.value';

const samples: Sample[] = Array.from({ length: HOURS }, (_, h) => ({ series: SERIES, t: END - (HOURS - 1 - h) * HOUR, value: h, kind: 'gauge', heartbeat: 7200 }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapAfterGc is the heap in use once garbage is collected (twice: weak references need two rounds). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * A Kind is one store under test: how to open it filled with `samples`, the finest values
 * it holds (what its buckets average), and the time of the point a value at t falls in.
 */
interface Kind {
  name: string;
  open(): Promise<Store>;
  /** finest: [t, value] the store averages into buckets (the samples, or an RRD's rows). */
  finest(store: Store): Promise<Array<[number, number]>>;
  /** pointTime: the time of the point of step `step` whose bucket holds t. */
  pointTime(t: number, step: number): number;
  close?(): Promise<void>;
}

/** expected averages `finest` into buckets of `step`: point time → average. */
function expected(kind: Kind, finest: Array<[number, number]>, step: number): Map<number, number> {
  const sums = new Map<number, [number, number]>();
  for (const [t, v] of finest) {
    const p = kind.pointTime(t, step);
    const s = sums.get(p) ?? [0, 0];
    s[0] += v;
    s[1]++;
    sums.set(p, s);
  }
  return new Map([...sums].map(([t, [sum, n]]) => [t, sum / n]));
}

/** fetchTimed fetches and measures how long it took. */
async function fetchTimed(store: Store, options: FetchOptions): Promise<{ r: SeriesData; ms: number }> {
  const t0 = performance.now();
  const r = await store.fetch(SERIES, options);
  return { r, ms: performance.now() - t0 };
}

/** checkAverages: the known points are exactly the expected averages, every other point is null. */
function checkAverages(kind: Kind, finest: Array<[number, number]>, r: SeriesData, options: FetchOptions): void {
  const want = expected(kind, finest, r.step);
  const maxPoints = options.maxPoints ?? 10_000;
  assert.ok(r.points.length <= maxPoints + 1, `${r.points.length} points, at most ${maxPoints + 1} wanted`);
  assert.ok(r.points.length >= 1);
  const known = r.points.filter((p) => p[1] !== null);
  assert.deepEqual(new Map(known as Array<[number, number]>), want, `bucket averages at step ${r.step}`);
  for (let i = 1; i < r.points.length; i++) assert.equal(r.points[i][0] - r.points[i - 1][0], r.step, 'evenly spaced');
}

const memory: Kind = {
  name: 'memory',
  open: async () => {
    const s = new MemoryStore({ capacity: 8192 });
    s.write(samples);
    return s;
  },
  finest: async () => samples.map((s) => [s.t, s.value]),
  pointTime: (t, step) => Math.floor(t / step) * step,
};

const rrd: Kind = {
  name: 'rrd',
  open: async () => {
    const s = new RrdStore({ dir: tmpDir(), retention: ['1h:1y'], log: silentLogger(), flushIntervalMs: 3_600_000 });
    s.write(samples);
    await s.flush();
    return s;
  },
  // An hourly archive row ending at a sample's time holds that sample (the first may be unknown).
  finest: async (store) => {
    const r = await store.fetch(SERIES, { from: samples[0].t, to: END, step: HOUR });
    assert.equal(r.step, HOUR);
    const rows = r.points.filter((p) => p[1] !== null) as Array<[number, number]>;
    const want = samples.map((s) => [s.t, s.value]);
    assert.deepEqual(rows, want.slice(want.length - rows.length), 'hourly rows are the samples');
    assert.ok(rows.length >= HOURS - 1, `${rows.length} rows known`);
    return rows;
  },
  pointTime: (t, step) => Math.ceil(t / step) * step,
};

let vm: VictoriaMetrics | undefined;
const influx: Kind = {
  name: 'influx (VictoriaMetrics)',
  open: async () => {
    vm ??= await startVictoriaMetrics();
    const s = new InfluxStore({ url: vm.url, bucket: 'remon', node: `bounds-${process.pid}`, spoolDir: path.join(tmpDir(), 'spool'), flushIntervalMs: 100, log: silentLogger() });
    s.write(samples);
    await s.flush();
    await vm.sync();
    await waitFor(async () => (await s.fetch(SERIES, { from: samples[0].t, to: END })).points.length === HOURS, 15_000, 'the samples searchable');
    return s;
  },
  finest: async () => samples.map((s) => [s.t, s.value]),
  pointTime: (t, step) => Math.floor(t / step) * step,
  close: async () => {
    await vm?.stop();
    vm = undefined;
  },
};

for (const kind of [memory, rrd, influx]) {
  describe(`bounded fetch: ${kind.name} store`, function () {
    this.timeout(60_000);
    let store: Store;
    let finest: Array<[number, number]>;

    before(async function () {
      if (kind === influx) requirePeer(this, 'victoria-metrics', victoriaMetricsPath() !== undefined, 'apt-get install victoria-metrics');
      store = await kind.open();
      finest = await kind.finest(store);
    });

    after(async () => {
      await store?.close();
      await kind.close?.();
    });

    const scenarios: Array<{ name: string; options: FetchOptions; step: number }> = [
      { name: 'from=0&to=4e13 at a 1 h step: 47-day buckets', options: { ...HOSTILE, step: HOUR }, step: 47 * DAY },
      { name: 'from=0&to=4e13 without a step: the raw samples (they fit), or the RRD\'s rows in 47-day buckets', options: { ...HOSTILE }, step: kind === rrd ? 47 * DAY : 0 },
      { name: 'from=0&to=4e13, 500 points: 926-day buckets', options: { ...HOSTILE, maxPoints: 500 }, step: 926 * DAY },
      { name: 'a day step over the data (coarser than any archive): daily averages', options: { from: samples[0].t, to: END, step: DAY }, step: DAY },
      { name: 'a 1 h step over the data at 100 points: 2-day buckets', options: { from: samples[0].t, to: END, step: HOUR, maxPoints: 100 }, step: 2 * DAY },
    ];
    for (const s of scenarios) {
      it(`${s.name}, exact averages`, async () => {
        const { r, ms } = await fetchTimed(store, s.options);
        assert.equal(r.step, s.step);
        if (r.step === 0) assert.deepEqual(r.points, finest);
        else checkAverages(kind, finest, r, s.options);
        assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
      });
    }

    it('numbers no client should send: ±1e300 and ±Infinity mean all time, bounded; NaN or from > to, nothing', async () => {
      for (const options of [{ from: -1e300, to: 1e300 }, { from: -Infinity, to: Infinity, step: 1 }]) {
        const r = await store.fetch(SERIES, options);
        if (r.step === 0) assert.deepEqual(r.points, finest);
        else checkAverages(kind, finest, r, options);
      }
      for (const options of [{ from: NaN, to: END }, { from: 0, to: NaN }, { from: END, to: END - 1, step: HOUR }]) {
        assert.deepEqual((await store.fetch(SERIES, options)).points, [], JSON.stringify(options));
      }
    });

    it('has(name) says what list() says, for a series it has and one it has not', async () => {
      assert.equal(store.has(SERIES), true);
      assert.equal(store.list().includes(SERIES), true);
      assert.equal(store.has(`${SERIES}x`), false);
      assert.equal(store.list().includes(`${SERIES}x`), false);
    });

    it('raw samples when they fit in maxPoints (the RRD: its hourly rows)', async () => {
      const r = await store.fetch(SERIES, { from: samples[0].t, to: END });
      assert.deepEqual(r.points.filter((p) => p[1] !== null), finest);
    });

    it('a range far from the data: nulls only, bounded, fast', async () => {
      const options = { from: 3.9e13, to: 4e13, step: 1000 };
      const { r, ms } = await fetchTimed(store, options);
      assert.equal(r.step, 2 * DAY, 'the 1 s step made coarser: 1e12 ms at 10,000 points');
      assert.equal(r.points.length, Math.floor(4e13 / r.step) - Math.floor(3.9e13 / r.step) + 1);
      assert.ok(r.points.every((p) => p[1] === null), 'no values');
      assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
    });

    it('twenty from=0&to=4e13 requests: the heap grows by less than 4 MB', async () => {
      await store.fetch(SERIES, HOSTILE); // warm up
      const heap0 = heapAfterGc();
      const rss0 = process.memoryUsage.rss();
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) {
        const r = await store.fetch(SERIES, i % 2 ? HOSTILE : { ...HOSTILE, step: 1000 });
        assert.ok(r.points.length <= 10_001);
      }
      const ms = performance.now() - t0;
      const heapGrowth = (heapAfterGc() - heap0) / 2 ** 20;
      const rssGrowth = (process.memoryUsage.rss() - rss0) / 2 ** 20;
      console.log(`      ${kind.name}: 20 requests in ${Math.round(ms)} ms, heap +${heapGrowth.toFixed(2)} MB, rss +${rssGrowth.toFixed(1)} MB`);
      assert.ok(heapGrowth < 4, `heap grew by ${heapGrowth.toFixed(1)} MB`);
      assert.ok(rssGrowth < 32, `rss grew by ${rssGrowth.toFixed(1)} MB`);
      assert.ok(ms < 20_000, `took ${Math.round(ms)} ms`);
    });
  });
}
