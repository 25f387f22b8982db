import { strict as assert } from 'node:assert';
import { resultSeries, SeriesNames } from '../src/engine/result';
import { MemoryStore } from '../src/store/memory';
import { seriesId } from '../src/store/series-ids';

describe('memory store', () => {
  it('keeps the newest samples of each series, oldest first, up to its capacity', async () => {
    const s = new MemoryStore({ capacity: 20 });
    for (let i = 0; i < 50; i++) s.write([{ series: 'a.v', t: i * 1000, value: i, kind: 'gauge' }]);
    const all = await s.fetch('a.v', { from: 0, to: 100_000 });
    assert.deepEqual(all.points.map((p) => p[1]), Array.from({ length: 20 }, (_, i) => 30 + i));
    assert.deepEqual(s.list(), ['a.v']);
  });

  it('fetch with a step averages each bucket and gives null where there is no sample', async () => {
    const s = new MemoryStore();
    s.write([
      { series: 'b.v', t: 10_000, value: 1, kind: 'gauge' },
      { series: 'b.v', t: 15_000, value: 3, kind: 'gauge' },
      { series: 'b.v', t: 30_000, value: 10, kind: 'gauge' },
    ]);
    const r = await s.fetch('b.v', { from: 10_000, to: 39_999, step: 10_000 });
    assert.deepEqual(r.points, [[10_000, 2], [20_000, null], [30_000, 10]]);
    assert.equal(r.step, 10_000);
  });

  it('an unknown series fetches as empty', async () => {
    assert.deepEqual(await new MemoryStore().fetch('x.y', { from: 0, to: 1 }), { name: 'x.y', step: 0, points: [] });
  });

  it('samples with and without a series id reach the same series, whichever came first', async () => {
    const s = new MemoryStore();
    // Ids of names made elsewhere first: this store sees high ids before low ones.
    for (let i = 0; i < 100; i++) seriesId(`other${i}.v`);
    s.write([{ series: 'c.v', t: 1000, value: 1, kind: 'gauge' }]);
    s.write([{ series: 'c.v', id: seriesId('c.v'), t: 2000, value: 2, kind: 'gauge' }]);
    s.write([{ series: 'd.v', id: seriesId('d.v'), t: 1000, value: 5, kind: 'gauge' }]);
    s.write([{ series: 'c.v', t: 3000, value: 3, kind: 'gauge' }, { series: 'd.v', t: 2000, value: 6, kind: 'gauge' }]);
    assert.deepEqual((await s.fetch('c.v', { from: 0, to: 10_000 })).points, [[1000, 1], [2000, 2], [3000, 3]]);
    assert.deepEqual((await s.fetch('d.v', { from: 0, to: 10_000 })).points, [[1000, 5], [2000, 6]]);
    assert.deepEqual(s.list(), ['c.v', 'd.v']);
  });

  it("a block's results carry the same id for the same series, and a store files them under their names", async () => {
    const names = new SeriesNames('web');
    const r = { block: 'web', type: 'http', ok: true, fields: { status: 200 }, message: '', startedAt: 5000, durationMs: 12, lagMs: 0, trigger: 'schedule' as const };
    const a = resultSeries(r, 20, names);
    const b = resultSeries({ ...r, startedAt: 6000, fields: { status: 503 } }, 20, names);
    assert.deepEqual(a.map((x) => x.series), ['web.up', 'web.duration_ms', 'web.status']);
    assert.deepEqual(a.map((x) => x.id), a.map((x) => seriesId(x.series)));
    assert.deepEqual(b.map((x) => x.id), a.map((x) => x.id));
    const s = new MemoryStore();
    s.write(a);
    s.write(b);
    assert.deepEqual((await s.fetch('web.status', { from: 0, to: 10_000 })).points, [[5000, 200], [6000, 503]]);
  });
});
