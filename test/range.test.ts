/**
 * resolveRange: what a client may ask of `GET /api/series/:name` and `series.fetch`, and
 * the step helpers every store bounds its answers with.
 */
import { strict as assert } from 'node:assert';
import { boundStep, niceStep, resolveRange, ResolvedRange, RangeQuery } from '../src/store/range';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TIME = 'epoch milliseconds from 0 to 8640000000000000';

describe('resolveRange', () => {
  const cases: Array<{ name: string; query: RangeQuery; limits?: { maxPoints?: number }; want: ResolvedRange | string }> = [
    { name: 'nothing given: the last hour to now, raw', query: {}, want: { from: NOW - HOUR, to: NOW, step: undefined, maxPoints: 10_000 } },
    { name: 'only to: the hour before it', query: { to: '7200000' }, want: { from: 3_600_000, to: 7_200_000, step: undefined, maxPoints: 10_000 } },
    { name: 'only to, early: from is not before 0', query: { to: '1000' }, want: { from: 0, to: 1000, step: undefined, maxPoints: 10_000 } },
    { name: 'only from: to now', query: { from: String(NOW - DAY) }, want: { from: NOW - DAY, to: NOW, step: undefined, maxPoints: 10_000 } },
    { name: 'all as URL text', query: { from: '1000', to: '61000', step: '10000' }, want: { from: 1000, to: 61_000, step: 10_000, maxPoints: 10_000 } },
    { name: 'JSON numbers', query: { from: 1000, to: 61_000, step: 10_000 }, want: { from: 1000, to: 61_000, step: 10_000, maxPoints: 10_000 } },
    { name: 'JSON null means not given', query: { from: null, to: null, step: null, points: null }, want: { from: NOW - HOUR, to: NOW, step: undefined, maxPoints: 10_000 } },
    { name: 'decimal text', query: { from: '1000.5', to: '2000.25', step: '2.5' }, want: { from: 1000.5, to: 2000.25, step: 2.5, maxPoints: 10_000 } },
    { name: 'from = to: one instant', query: { from: '5000', to: '5000' }, want: { from: 5000, to: 5000, step: undefined, maxPoints: 10_000 } },
    { name: 'the ends of the Date range', query: { from: '0', to: '8640000000000000' }, want: { from: 0, to: 8.64e15, step: undefined, maxPoints: 10_000 } },
    {
      name: 'from=0&to=40000000000000 with a 10 s step: the step is made coarser (47 days), not refused',
      query: { from: '0', to: '40000000000000', step: '10000' },
      want: { from: 0, to: 4e13, step: 47 * DAY, maxPoints: 10_000 },
    },
    { name: 'a step too fine for a day at 100 points: 15 minutes', query: { from: '0', to: String(DAY), step: '1000', points: '100' }, want: { from: 0, to: DAY, step: 15 * 60_000, maxPoints: 100 } },
    { name: 'points asks for fewer', query: { points: '50' }, want: { from: NOW - HOUR, to: NOW, step: undefined, maxPoints: 50 } },
    { name: 'the limit is the caller\'s', query: { points: '200' }, limits: { maxPoints: 200 }, want: { from: NOW - HOUR, to: NOW, step: undefined, maxPoints: 200 } },
    // Refused, each saying which parameter and what it may be.
    { name: 'from=-1', query: { from: '-1' }, want: `from must be ${TIME}, got "-1"` },
    { name: 'to=99999999999999999999', query: { to: '99999999999999999999' }, want: `to must be ${TIME}, got "99999999999999999999"` },
    { name: 'to just past the Date range', query: { to: '8640000000000001' }, want: `to must be ${TIME}, got "8640000000000001"` },
    { name: 'a JSON number past the Date range', query: { to: 1e300 }, want: `to must be ${TIME}, got 1e+300` },
    { name: 'NaN as text', query: { from: 'NaN' }, want: `from must be ${TIME}, got "NaN"` },
    { name: 'NaN as a JSON number', query: { from: NaN }, want: `from must be ${TIME}, got NaN` },
    { name: 'Infinity', query: { to: Infinity }, want: `to must be ${TIME}, got Infinity` },
    { name: 'an exponent: 1e3', query: { from: '1e3' }, want: `from must be ${TIME}, got "1e3"` },
    { name: 'a plus sign', query: { from: '+5' }, want: `from must be ${TIME}, got "+5"` },
    { name: 'hex', query: { from: '0x10' }, want: `from must be ${TIME}, got "0x10"` },
    { name: 'spaces', query: { from: ' 5' }, want: `from must be ${TIME}, got " 5"` },
    { name: 'an empty string', query: { from: '' }, want: `from must be ${TIME}, got ""` },
    { name: 'a date', query: { to: '2024-01-01' }, want: `to must be ${TIME}, got "2024-01-01"` },
    { name: 'repeated: from=1&from=2', query: { from: ['1', '2'] }, want: 'from is given 2 times; give it once' },
    { name: 'a JSON object', query: { to: { $gt: 1 } }, want: `to must be ${TIME}, got {"$gt":1}` },
    { name: 'a boolean', query: { step: true }, want: 'step must be milliseconds, more than 0 and at most 8640000000000000, got true' },
    { name: 'a long value is cut short', query: { from: 'x'.repeat(100) }, want: `from must be ${TIME}, got "${'x'.repeat(36)}...` },
    { name: 'step=0', query: { step: '0' }, want: 'step must be milliseconds, more than 0 and at most 8640000000000000, got "0"' },
    { name: 'step=-5', query: { step: '-5' }, want: 'step must be milliseconds, more than 0 and at most 8640000000000000, got "-5"' },
    { name: 'from after to', query: { from: '2000', to: '1000' }, want: 'from (2000) must not be after to (1000)' },
    { name: 'from after now, no to', query: { from: String(NOW + 1) }, want: `from (${NOW + 1}) must not be after to (${NOW})` },
    { name: 'points=0', query: { points: '0' }, want: 'points must be a whole number from 1 to 10000, got "0"' },
    { name: 'points above the limit', query: { points: '10001' }, want: 'points must be a whole number from 1 to 10000, got "10001"' },
    { name: 'points not whole', query: { points: '1.5' }, want: 'points must be a whole number from 1 to 10000, got "1.5"' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(resolveRange(c.query, NOW, c.limits), c.want);
    });
  }

  it('any accepted range asks for at most maxPoints + 1 buckets', () => {
    const ranges: Array<[number, number, number]> = [[0, 4e13, 1], [0, 8.64e15, 1], [123, 4567, 1], [1, 8.64e15 - 1, 7], [NOW - DAY, NOW, 10_000]];
    for (const [from, to, step] of ranges) {
      for (const points of [1, 7, 100, 10_000]) {
        const r = resolveRange({ from: String(from), to: String(to), step: String(step), points: String(points) }, NOW) as ResolvedRange;
        const first = Math.floor(from / r.step!) * r.step!;
        const n = Math.floor((to - first) / r.step!) + 1;
        assert.ok(n <= points + 1, `${from}..${to} at ${points} points: step ${r.step} gives ${n}`);
      }
    }
  });
});

describe('niceStep and boundStep', () => {
  const nice: Array<[number, number]> = [[0, 1], [1, 1], [3, 5], [501, 1000], [1001, 2000], [11_000, 15_000], [61_000, 120_000], [3_600_001, 2 * HOUR], [7 * HOUR, 12 * HOUR], [DAY + 1, 2 * DAY], [8 * DAY, 8 * DAY], [4e9, 47 * DAY]];
  for (const [ms, want] of nice) it(`niceStep(${ms}) is ${want}`, () => assert.equal(niceStep(ms), want));

  const bound: Array<{ name: string; args: [number, number, number | undefined, number]; want: number }> = [
    { name: 'a step that fits is kept, even an odd one', args: [0, 70_000, 7, 10_000], want: 7 },
    { name: 'exactly maxPoints buckets fit', args: [0, 100_000, 10, 10_000], want: 10 },
    { name: 'one ms more does not', args: [0, 100_001, 10, 10_000], want: 20 },
    { name: 'no step: the finest nice one', args: [0, HOUR, undefined, 10_000], want: 500 },
    { name: 'a coarser step asked for is kept', args: [0, HOUR, 3 * HOUR, 10], want: 3 * HOUR },
  ];
  for (const c of bound) it(`boundStep: ${c.name}`, () => assert.equal(boundStep(...c.args), c.want));
});
