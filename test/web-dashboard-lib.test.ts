import { strict as assert } from 'node:assert';
import * as path from 'node:path';

/** The built-in pages' shared helpers (web/lib/dashboard.js), plain CommonJS beside the pages. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(path.resolve(__dirname, '..', '..', 'web', 'lib', 'dashboard.js')) as {
  format(v: unknown): string;
  primaryField(fields: Record<string, number>): string;
  unitOf(field: string): { unit: string; title: string };
  thresholdsOf(test: string): Array<{ series: string; op: string; value: number }>;
};

describe('dashboard helpers (web/lib/dashboard.js)', () => {
  describe('thresholdsOf: the lines an SLA test draws on the graph of its series', () => {
    const scenarios: Array<[string, string, Array<[string, string, number]>]> = [
      ['a comparison', 'homepage.fast_ratio >= 0.8', [['homepage.fast_ratio', '>=', 0.8]]],
      ['the number first, turned around', '200 > api.total_ms', [['api.total_ms', '<', 200]]],
      ['% is modulo, not a percentage: no line', 'disk.used_pct < 90%', []],
      ['an equality (an objective\'s good test)', 'api.up == 1', [['api.up', '==', 1]]],
      ['between: two lines', 'queue.depth between 5 and 20', [['queue.depth', '>=', 5], ['queue.depth', '<=', 20]]],
      ['parts joined by and/or', 'a.x < 3 and b.y > -1.5 or c.z between 1 and 2', [['a.x', '<', 3], ['b.y', '>', -1.5], ['c.z', '>=', 1], ['c.z', '<=', 2]]],
      ['parts joined by && and ||', 'a.x <= 3 && b.y != 0 || c.z >= 2', [['a.x', '<=', 3], ['b.y', '!=', 0], ['c.z', '>=', 2]]],
      ['a function of a series: no line', 'avg(a.b, 5m) < 3', []],
      ['a count test: no line', 'count(orders.new, 3m) between 5 and 20', []],
      ['arithmetic: no line', 'a.b * 2 < 10', []],
      ['two series compared: no line', 'a.b < c.d', []],
    ];
    for (const [name, test, want] of scenarios) {
      it(`${name}: ${test}`, () => {
        assert.deepEqual(lib.thresholdsOf(test).map((t) => [t.series, t.op, t.value]), want);
      });
    }
  });

  it('primaryField: the first own field, else duration_ms, else up, else none', () => {
    assert.equal(lib.primaryField({ up: 1, duration_ms: 3, total_ms: 4, size_bytes: 9 }), 'total_ms');
    assert.equal(lib.primaryField({ up: 1, duration_ms: 3 }), 'duration_ms');
    assert.equal(lib.primaryField({ up: 0 }), 'up');
    assert.equal(lib.primaryField({}), '');
  });

  it('unitOf: fields of one unit share a graph; others have their own', () => {
    assert.deepEqual(['total_ms', 'ttfb_ms', 'used_pct', 'size_bytes', 'avail_kb', 'up', 'status', 'fast_ratio'].map((f) => lib.unitOf(f).unit),
      ['ms', 'ms', '%', 'bytes', 'bytes', 'up', '=status', '=fast_ratio']);
  });

  it('format: as the browser shows a value it updates (the client script\'s function)', () => {
    assert.deepEqual([12.345678, 0.000123456, 12345.6, 7, -2.5, null, undefined, true, 'x'].map(lib.format), ['12.35', '0.0001235', '12346', '7', '-2.5', '–', '–', 'true', 'x']);
  });
});
