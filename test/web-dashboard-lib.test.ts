import { strict as assert } from 'node:assert';
import * as path from 'node:path';

/** The built-in pages' shared helpers (web/lib/dashboard.js), plain CommonJS beside the pages. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(path.resolve(__dirname, '..', '..', 'web', 'lib', 'dashboard.js')) as {
  format(v: unknown): string;
  primaryField(fields: Record<string, number>): string;
  unitOf(field: string): { unit: string; title: string };
  thresholdsOf(test: string): Array<{ series: string; op: string; value: number }>;
  safe(page: { rpc(m: string, p: unknown): Promise<unknown> }, method: string, params: unknown, fallback: unknown, also?: string[]): Promise<unknown>;
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

  describe('safe: an operation the node does not have is an empty part; any other failure is the page\'s', () => {
    const failing = (code: string) => ({ rpc: async () => { throw Object.assign(new Error(`failed with ${code}`), { code }); } });
    const scenarios: Array<[string, string, string[], 'fallback' | 'throws']> = [
      ['no such operation (a subsystem the node does not run)', 'REMON_ERR_OP_UNKNOWN', [], 'fallback'],
      ['the subsystem is not available', 'REMON_ERR_UNAVAILABLE', [], 'fallback'],
      ['the alert log failed', 'REMON_ERR_ALERT_LOG', [], 'throws'],
      ['a code the caller expects', 'REMON_ERR_HEARTBEAT_UNKNOWN', ['REMON_ERR_HEARTBEAT_UNKNOWN'], 'fallback'],
    ];
    for (const [name, code, also, want] of scenarios) {
      it(name, async () => {
        const got = lib.safe(failing(code), 'x.list', {}, 'FALLBACK', also);
        if (want === 'fallback') assert.equal(await got, 'FALLBACK');
        else await assert.rejects(got, { code, message: `failed with ${code}` });
      });
    }
    it('answers the result when the call works', async () => {
      assert.deepEqual(await lib.safe({ rpc: async () => [1, 2] }, 'x.list', {}, []), [1, 2]);
    });
  });
});
