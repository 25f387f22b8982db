import { strict as assert } from 'node:assert';
import { MemoryStore } from '../src/store/memory';

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
});
