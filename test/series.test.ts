import { strict as assert } from 'node:assert';
import { evaluate, parse, SCALAR_FUNCTION_NAMES } from '../src/expr';
import { compileSeries, formatValue, SeriesResult } from '../src/series';

const T = 1_700_000_000_000;
const s = (sec: number): number => T + sec * 1000;

/** Feed: per series, samples [seconds after T, value, heartbeat s?]. */
type Feed = Record<string, Array<[number, number, number?]>>;

/** run compiles src, pushes the feed (each series in order) and evaluates at `at` seconds after T. */
function run(src: string, feed: Feed, at: number): SeriesResult {
  const e = compileSeries(src).instantiate();
  for (const [series, samples] of Object.entries(feed)) for (const [t, v, hb] of samples) e.push(series, s(t), v, hb);
  return e.evaluate(s(at));
}

// s: 1 4 2 8 5 7 at 0..50 s, heartbeat 20 s.
const S: Feed = { s: [[0, 1, 20], [10, 4, 20], [20, 2, 20], [30, 8, 20], [40, 5, 20], [50, 7, 20]] };
const WITH_NAN: Feed = { s: [...S.s, [60, NaN, 20]] };
// s as above and u: 10 20 30 at 25, 35, 45 s.
const SU: Feed = { ...S, u: [[25, 10], [35, 20], [45, 30]] };

describe('series: window functions against hand-computed values', () => {
  // [name, expression, feed, evaluated at (s after T), value]
  const cases: Array<[string, string, Feed, number, number | boolean | undefined]> = [
    ['avg over a duration: the samples in (at − 30s, at]', 'avg(s, 30s)', S, 50, 20 / 3],
    ['avg over a count: the last 3 samples', 'avg(s, 3)', S, 50, 20 / 3],
    ['a duration window excludes its start', 'avg(s, 50s)', S, 50, 26 / 5],
    ['a duration window one second longer includes it', 'avg(s, 51s)', S, 50, 27 / 6],
    ['min', 'min(s, 30s)', S, 50, 5],
    ['max', 'max(s, 30s)', S, 50, 8],
    ['sum', 'sum(s, 30s)', S, 50, 20],
    ['count over a duration', 'count(s, 30s)', S, 50, 3],
    ['count over more samples than there are', 'count(s, 20)', S, 50, 6],
    ['last', 'last(s, 30s)', S, 50, 7],
    ['delta: last minus first', 'delta(s, 30s)', S, 50, -1],
    ['delta over a count', 'delta(s, 6)', S, 50, 6],
    ['rate: delta per second', 'rate(s, 30s)', S, 50, -0.05],
    ['rate over a count', 'rate(s, 6)', S, 50, 0.12],
    ['stddev (population)', 'stddev(s, 30s)', S, 50, Math.sqrt(14) / 3],
    ['stddev of one sample is 0', 'stddev(s, 5s)', S, 50, 0],
    ['percentile 50, between ranks', 'percentile(s, 50, 1m)', S, 50, 4.5],
    ['percentile 95, interpolated', 'percentile(s, 95, 1m)', S, 50, 7.75],
    ['percentile 0 is the minimum', 'percentile(s, 0, 1m)', S, 50, 1],
    ['percentile 100 is the maximum', 'percentile(s, 100, 1m)', S, 50, 8],
    ['fraction over a duration', 'fraction(s > 4, 1m)', S, 50, 0.5],
    ['fraction over a count', 'fraction(s > 4, 4)', S, 50, 0.75],
    ['fraction with arithmetic in the condition', 'fraction(abs(s - 5) <= 1, 1m)', S, 50, 1 / 3],
    ['fraction with between', 'fraction(s between 2 and 5, 1m)', S, 50, 0.5],
    ['ewma, per sample', 'ewma(s, 0.5)', S, 50, 6.03125],
    ['ewma with alpha 1 is the last value', 'ewma(s, 1)', S, 50, 7],
    ['a bare name is the last value', 's', S, 50, 7],
    // across series: each read at the same time
    ['arithmetic across series and windows', 'avg(s, 30s) - min(u, 2)', SU, 50, 20 / 3 - 20],
    ['a ratio of two sums', 'sum(u, 1m) / sum(s, 1m)', SU, 50, 60 / 27],
    ['a comparison across series', 'max(s, 3) > last(u, 1m) / 4', SU, 50, true],
    ['a comparison across series, false', 's * 4 >= u', SU, 50, false],
    ['one series without a sample in its window makes it unknown', 'avg(s, 30s) + avg(u, 5s)', SU, 50, undefined],
    ['a bare name within its heartbeat', 's', S, 70, 7],
    // evaluated before the newest sample: only samples at or before `at` count
    ['a duration window at an earlier time', 'avg(s, 1m)', S, 25, 7 / 3],
    ['a count window at an earlier time', 'avg(s, 6)', S, 25, 7 / 3],
    // edge cases
    ['an empty duration window is unknown', 'avg(s, 5s)', S, 59, undefined],
    ['count of an empty window is 0', 'count(s, 5s)', S, 59, 0],
    ['count of a series without samples is 0', 'count(nothing, 1m)', S, 50, 0],
    ['delta of one sample is unknown', 'delta(s, 5s)', S, 50, undefined],
    ['rate of one sample is unknown', 'rate(s, 5s)', S, 50, undefined],
    ['a stale last value is unknown', 's', S, 71, undefined],
    ['a count window whose newest sample is stale is unknown', 'avg(s, 3)', S, 71, undefined],
    ['a duration window does not go stale: its samples are in time', 'avg(s, 1m)', S, 71, 5.5],
    ['ewma of a stale series is unknown', 'ewma(s, 0.5)', S, 71, undefined],
    ['without a heartbeat a value never goes stale', 's', { s: [[0, 3]] }, 86_400, 3],
    ['a NaN sample makes the last value unknown', 's', WITH_NAN, 60, undefined],
    ['a NaN sample is skipped by avg', 'avg(s, 30s)', WITH_NAN, 60, 6],
    ['a NaN sample is not counted', 'count(s, 30s)', WITH_NAN, 60, 2],
    ['a NaN sample is left out of fraction', 'fraction(s > 5, 30s)', WITH_NAN, 60, 0.5],
    ['a window of only NaN is unknown', 'avg(s, 1)', WITH_NAN, 60, undefined],
    ['ewma skips a NaN sample', 'ewma(s, 1)', WITH_NAN, 60, 7],
  ];
  for (const [name, src, feed, at, want] of cases) {
    it(`${name}: ${src} at +${at}s → ${want}`, () => {
      const got = run(src, feed, at).value;
      if (typeof want === 'number' && typeof got === 'number') assert.ok(Math.abs(got - want) < 1e-12, `${got} ≠ ${want}`);
      else assert.equal(got, want);
    });
  }

  it('counts events, not samples, over an event series (the sql block\'s <block>.new)', () => {
    const events = (series: string): boolean => series === 'orders.new';
    // New orders per 1m bucket, stamped at each bucket's end: 4, 0, 3, 9; evaluated after each.
    const buckets: Array<[number, number]> = [[60, 4], [120, 0], [180, 3], [240, 9]];
    const along = (src: string, options = {}): Array<number | boolean | undefined> => {
      const e = compileSeries(src, options).instantiate();
      return buckets.map(([t, v]) => { e.push('orders.new', s(t), v); return e.evaluate(s(t)).value; });
    };
    assert.deepEqual(along('count(orders.new, 3m)', { events }), [4, 4, 7, 12]);
    assert.deepEqual(along('count(orders.new, 3m) between 5 and 20', { events }), [false, false, true, true]);
    assert.deepEqual(along('count(orders.new, 3m)'), [1, 2, 3, 3], 'without events, count() counts samples');
    assert.deepEqual(along('count(orders.new, 2)', { events }), [1, 2, 2, 2], 'a window of samples still counts samples');
    const e = compileSeries('count(orders.new, 3m)', { events }).instantiate();
    e.push('orders.new', s(60), 4);
    assert.equal(e.evaluate(s(600)).value, undefined, 'an empty window is unknown: an event series has a sample per bucket, so none is no data');
  });

  it('drops a sample older than the newest of its series', () => {
    const e = compileSeries('count(s, 1m)').instantiate();
    e.push('s', s(10), 1);
    e.push('s', s(5), 1);
    e.push('s', s(10), 2);
    assert.equal(e.evaluate(s(10)).value, 2);
  });

  it('keeps what its windows need and no more, however long it runs', () => {
    const e = compileSeries('avg(s, 10s) + count(s, 5)').instantiate();
    for (let i = 0; i < 100_000; i++) e.push('s', s(i), i);
    // (99,989 .. 99,999] holds 10 samples; the count window of 5 is inside it.
    assert.equal(e.evaluate(s(99_999)).value, (99_990 + 99_999) / 2 + 5);
  });
});

describe('series: unknown inputs and Kleene logic', () => {
  const feed: Feed = { y: [[0, 1]] };
  // x has no sample; y is 1.
  const cases: Array<[string, boolean | number | undefined]> = [
    ['x > 1 and y == 0', false],
    ['y == 0 and x > 1', false],
    ['x > 1 and y == 1', undefined],
    ['x > 1 or y == 1', true],
    ['x > 1 or y == 0', undefined],
    ['not x > 1', undefined],
    ['not y == 0', true],
    ['x + 1', undefined],
    ['x * 0', undefined],
    ['y / 0', undefined],
    ['y % 0', undefined],
    ['x == x', undefined],
    ['exists(x)', false],
    ['exists(y)', true],
    ['exists(x + y)', false],
    ['y between 1 and 2', true],
    ['y between 2 and 3', false],
    ['y not between 2 and 3', true],
    ['x between 1 and 2', undefined],
    ['y between x and 2', undefined],
    ['abs(x)', undefined],
    ['round(y / 3, 2)', 0.33],
    ['-y', -1],
    ['y == true', true],
    ['(y > 0) + (y > 5)', 1],
    ['true and y', true],
  ];
  for (const [src, want] of cases) {
    it(`${src} → ${want === undefined ? 'unknown' : want}`, () => assert.equal(run(src, feed, 0).value, want));
  }
});

describe('series: messages show the values seen', () => {
  const cases: Array<[string, string, Feed, number, string]> = [
    ['a ratio below its goal', 'homepage.fast_ratio >= 0.8', { 'homepage.fast_ratio': [[0, 0.65]] }, 0, 'homepage.fast_ratio (0.65) >= 0.8'],
    ['a count check', 'count(orders.new, 3m) between 5 and 20', { 'orders.new': [[0, 1], [60, 1], [120, 1]] }, 150, 'count(orders.new, 3m) (3) between 5 and 20'],
    ['a series without a sample', 'homepage.total_ms < 200', {}, 0, 'homepage.total_ms (unknown: no sample) < 200'],
    ['a stale series', 's > 1', S, 125, 's (unknown: last sample 1m15s ago) > 1'],
    ['an empty window', 'avg(s, 5s) > 1', S, 59, 'avg(s, 5s) (unknown: no sample in 5s) > 1'],
    ['too few samples', 'delta(s, 5s) > 0', S, 50, 'delta(s, 5s) (unknown: 1 sample in 5s, needs 2) > 0'],
    ['a NaN value', 's > 0', WITH_NAN, 60, 's (unknown: not a number) > 0'],
    ['Holt-Winters still learning', "holt_winters(s, 'prediction', 4) > 0", { s: S.s.slice(0, 3) }, 20, "holt_winters(s, 'prediction', 4) (unknown: learning, 3 of 5 samples) > 0"],
    ['words, parentheses where needed', '(a > 1 || b > 1) && !c', { a: [[0, 0]], b: [[0, 2]], c: [[0, 0]] }, 0, '(a (0) > 1 or b (2) > 1) and not c (0)'],
    ['arithmetic keeps its grouping', '-a * (b + 1) / 2', { a: [[0, 2]], b: [[0, 3]] }, 0, '-a (2) * (b (3) + 1) / 2'],
    ['a name in backquotes', '`web-1.up` == 1', { 'web-1.up': [[0, 1]] }, 0, '`web-1.up` (1) == 1'],
    ['functions quote their arguments', 'fraction(homepage.total_ms < 200, 20) >= 0.8', { 'homepage.total_ms': [[0, 150], [10, 300]] }, 10, 'fraction(homepage.total_ms < 200, 20) (0.5) >= 0.8'],
    ['scalar functions show the values inside', 'abs(a - b) < 1', { a: [[0, 2]], b: [[0, 3.5]] }, 0, 'abs(a (2) - b (3.5)) < 1'],
    ['not between', 'a not between 1 and 3', { a: [[0, 2]] }, 0, 'not a (2) between 1 and 3'],
    ['values to 6 significant digits', 'a / 3 > 0', { a: [[0, 1.0000001]] }, 0, 'a (1) / 3 > 0'],
  ];
  for (const [name, src, feed, at, want] of cases) {
    it(`${name}: ${want}`, () => assert.equal(run(src, feed, at).message, want));
  }

  it('renders the message when read, from the values of that evaluation', () => {
    const e = compileSeries('a > 1').instantiate();
    e.push('a', s(0), 0.5);
    const first = e.evaluate(s(0));
    e.push('a', s(1), 3);
    const second = e.evaluate(s(1));
    assert.equal(first.message, 'a (0.5) > 1');
    assert.equal(second.message, 'a (3) > 1');
    assert.deepEqual(JSON.parse(JSON.stringify(first)), { value: false, message: 'a (0.5) > 1' });
  });

  it('valueAt gives the value without a result object; lastMessage renders that evaluation', () => {
    const e = compileSeries('a > 1').instantiate();
    e.push('a', s(0), 3);
    assert.equal(e.valueAt(s(0)), 1);
    assert.equal(e.lastMessage(), 'a (3) > 1');
    assert.ok(Number.isNaN(e.valueAt(s(0) + 86_400_000 * 400)) === false, 'no heartbeat: never stale');
    const f = compileSeries('a / b').instantiate();
    f.push('a', s(0), 3);
    assert.ok(Number.isNaN(f.valueAt(s(0))));
    assert.equal(f.lastMessage(), 'a (3) / b (unknown: no sample)');
  });

  const values: Array<[number, string]> = [[180, '180'], [0.65, '0.65'], [1 / 3, '0.333333'], [123456.789, '123457'], [1234567.5, '1234568'], [-2.5e-7, '-2.5e-7']];
  for (const [v, want] of values) it(`formatValue(${v}) → ${want}`, () => assert.equal(formatValue(v), want));
});

describe('series: compiling', () => {
  it('lists inputs in order of use, the history each needs, and the type', () => {
    const e = compileSeries("avg(a, 5m) + avg(a, 20) + ewma(b, 0.5) + holt_winters(c, 'prediction', 10) > c");
    assert.deepEqual(e.inputs, ['a', 'b', 'c']);
    // ewma(b, 0.5): 20 samples make the start weigh < 1e-6; holt_winters with β = 1/288: 3972.
    assert.deepEqual(Object.fromEntries(e.needs), { a: { ms: 300_000, count: 20 }, b: { ms: 0, count: 20 }, c: { ms: 0, count: 3972 } });
    assert.equal(compileSeries("holt_winters(c, 'prediction', 100, 0.5, 0.5, 0.5)").needs.get('c')!.count, 2000);
    assert.equal(e.type, 'boolean');
    assert.equal(compileSeries('a * 2').type, 'number');
  });

  it('compiles a tree too, its source written back', () => {
    const e = compileSeries(parse('avg(a, 5m) > 1 && not b', { durations: true }));
    assert.equal(e.source, 'avg(a, 5m) > 1 and not b');
  });

  it('instances keep their own windows', () => {
    const e = compileSeries('count(a, 1m)');
    const one = e.instantiate();
    const two = e.instantiate();
    one.push('a', s(0), 1);
    assert.equal(one.evaluate(s(0)).value, 1);
    assert.equal(two.evaluate(s(0)).value, 0);
  });

  it('expressions that differ only in their series share compiled code but keep their own windows, state and messages', () => {
    const a = compileSeries('ewma(a, 0.5) + avg(a, 30s) > 3').instantiate();
    const b = compileSeries('ewma(b, 0.5) + avg(b, 30s) > 3').instantiate();
    for (const [t, v] of [[0, 1], [10, 2], [20, 3]]) {
      a.push('a', s(t), v);
      b.push('b', s(t), 10 * v);
    }
    // a: ewma 1 → 1.5 → 2.25; avg over (0s, 30s] is that of 2 and 3 (the sample at 0 is out).
    const r = a.evaluate(s(30));
    assert.deepEqual({ value: r.value, message: r.message }, { value: true, message: 'ewma(a, 0.5) (2.25) + avg(a, 30s) (2.5) > 3' });
    assert.equal(b.evaluate(s(30)).message, 'ewma(b, 0.5) (22.5) + avg(b, 30s) (25) > 3');
  });

  it('pushInput(i, …) is push for the i-th input', () => {
    const e = compileSeries('avg(a, 1m) - last(b, 1m)');
    const byName = e.instantiate();
    const byIndex = e.instantiate();
    assert.deepEqual(e.inputs, ['a', 'b']);
    for (let i = 0; i < 20; i++) {
      byName.push('a', s(i), i);
      byName.push('b', s(i), 100 - i);
      byIndex.pushInput(0, s(i), i);
      byIndex.pushInput(1, s(i), 100 - i);
    }
    assert.equal(byIndex.evaluate(s(19)).value, byName.evaluate(s(19)).value);
    assert.equal(byIndex.evaluate(s(19)).value, 9.5 - 81);
  });

  it('windows of several inputs grow side by side; the Holt-Winters and ewma state before them is kept', () => {
    // Both holt_winters calls share one model in the whole expression.
    const parts = ["holt_winters(a, 'prediction', 4)", "holt_winters(a, 'failures', 4)", 'ewma(b, 0.5)', 'count(a, 10m)', 'sum(b, 10m)'];
    const whole = compileSeries(parts.join(' + ')).instantiate();
    const alone = parts.map((p) => compileSeries(p).instantiate());
    for (let i = 0; i < 300; i++) {
      // b every 10 s, a every 3 s: the windows fill and grow at different times.
      const a = 50 + 10 * Math.sin(i / 2);
      for (const e of [whole, alone[0], alone[1], alone[3]]) e.push('a', s(3 * i), i % 60 >= 45 ? a + 40 : a); // bursts the model flags
      if (i % 3 === 0) for (const e of [whole, alone[2], alone[4]]) e.push('b', s(3 * i), i);
      const at = s(3 * i);
      const want = alone.map((e) => e.valueAt(at)).reduce((x, y) => x + y);
      const got = whole.valueAt(at);
      assert.ok(Object.is(got, want), `at ${3 * i}s: ${got}, want ${want}`);
    }
    // 10 minutes hold 200 samples of a and 60 of b.
    assert.equal(alone[3].valueAt(s(897)), 200);
  });

  it('restricts functions per use', () => {
    assert.throws(() => compileSeries('avg(a, 5m)', { functions: new Set(['abs']) }), { code: 'REMON_ERR_EXPR_SYNTAX', reason: 'unknown function "avg"; known functions: abs' });
  });

  // [source, 0-based position, reason]
  const errors: Array<[string, number, string]> = [
    ['avg(x)', 0, 'avg() takes a series and a window: avg(homepage.total_ms, 5m) or avg(homepage.total_ms, 20)'],
    ['avg(x, 0)', 7, 'a window of samples is a whole number from 1 to 1000000; got 0'],
    ['avg(x, 2.5)', 7, 'a window of samples is a whole number from 1 to 1000000; got 2.5'],
    ['avg(x, 0s)', 7, 'a window must be longer than 0s; got 0s'],
    ['avg(x, 500d)', 7, 'a window is at most 400d long; got 500d'],
    ['avg(x, 5x)', 7, '"5x" is not a duration; write a number and a unit: 500ms, 30s, 5m, 2h, 1d or 1w'],
    ['avg(x, 5min)', 7, '"5min" is not a duration; write a number and a unit: 500ms, 30s, 5m, 2h, 1d or 1w'],
    ['avg(x, y)', 7, 'the window of avg() must be a duration like 5m or a number of samples like 20; got y'],
    ['avg(x + 1, 5m)', 4, 'the first argument of avg() must be a series name, e.g. avg(homepage.total_ms, ...); to use an expression, derive a series from it first'],
    ['max(a, b, c)', 0, 'max() takes a series and a window: max(homepage.total_ms, 5m) or max(homepage.total_ms, 20)'],
    ['percentile(x, 101, 5m)', 14, 'percentile() takes a percentile between 0 and 100; got 101'],
    ['percentile(x, 5m)', 0, 'percentile() takes a series, a percentile and a window: percentile(homepage.total_ms, 95, 5m)'],
    ['fraction(a < b, 20)', 9, 'the condition of fraction() is tested on each sample of one series; it reads 2: a, b'],
    ['fraction(1 < 2, 20)', 9, 'the condition of fraction() must read one series, e.g. fraction(homepage.total_ms < 200, 20)'],
    ['fraction(avg(a, 5m) > 1, 20)', 9, 'the condition of fraction() is tested on each sample; it cannot call avg()'],
    ['ewma(a, 0)', 8, 'ewma() takes a smoothing factor above 0 and at most 1; got 0'],
    ["holt_winters(a, 'predict', 288)", 16, "the output of holt_winters() is 'prediction', 'deviation' or 'failures'; got 'predict'"],
    ["holt_winters(a, 'prediction', 1)", 30, 'holt_winters() takes a season of 2 to 100000 samples (a whole number); got 1'],
    ["holt_winters(a, 'prediction', 10, 1)", 34, 'holt_winters() takes an alpha between 0 and 1 (both excluded); got 1'],
    ['holt_winters(a)', 0, "holt_winters() takes a series, an output ('prediction', 'deviation' or 'failures'), a season in samples and optionally alpha, beta and gamma: holt_winters(homepage.total_ms, 'prediction', 288)"],
    ['a + "x"', 4, "text ('x') is not a value of a series; only holt_winters() takes text, as its output"],
    ['a == null', 5, 'null is not a value of a series; exists(x) tells whether x has a value'],
    ['a =~ "x"', 2, '=~ matches text; the values of series are numbers'],
    ['5m > a', 0, 'a duration (5m) is a window, the last argument of a function such as avg(x, 5m)'],
    ['round(a, 1, 2)', 0, 'round() takes a value and optionally the digits to keep: round(x, 2)'],
    ['avgg(a, 5m)', 0, 'unknown function "avgg"; known functions: abs, avg, ceil, count, delta, ewma, exists, floor, fraction, holt_winters, last, max, min, percentile, rate, round, stddev, sum'],
    ['a between 1', 11, 'expected "and" between the bounds of "between" (x between 5 and 20), found the end of the expression'],
    ['a < b between 1 and 2', 6, 'comparisons cannot be chained; write "a between b and c" on a value, not on a comparison'],
  ];
  for (const [src, pos, reason] of errors) {
    it(`rejects ${JSON.stringify(src)} at column ${pos + 1}`, () => {
      assert.throws(() => compileSeries(src), (err: Error & { code?: string; pos?: number; reason?: string }) => {
        assert.equal(err.code, 'REMON_ERR_EXPR_SYNTAX');
        assert.equal(err.reason, reason);
        assert.equal(err.pos, pos);
        return true;
      });
    });
  }
});

describe('expr: durations and between', () => {
  it('reads duration literals only when asked (series expressions), so pipe conditions parse as before', () => {
    assert.deepEqual(parse('avg(x, 1h30m)', { durations: true }), {
      kind: 'call', fn: 'avg', pos: 0, args: [{ kind: 'ident', name: 'x', pos: 4 }, { kind: 'dur', ms: 5_400_000, text: '1h30m', pos: 7 }],
    });
    assert.throws(() => parse('x > 5m', { functions: SCALAR_FUNCTION_NAMES }), { reason: 'expected an operator or the end of the expression, found "m"' });
    assert.deepEqual(parse('1e3 + 2.5', { durations: true }), parse('1e3 + 2.5'));
  });

  const scalar: Array<[string, boolean]> = [
    ['load1 between 2 and 3', true],
    ['load1 between 3 and 4', false],
    ['load1 not between 3 and 4', true],
    ['missing between 1 and 2', false],
    ['load1 between 2 and 3 and up == 1', true],
    ['between == 1', true],
  ];
  for (const [src, want] of scalar) {
    it(`pipe conditions have between too: ${src} → ${want}`, () => {
      const fields: Record<string, number> = { load1: 2.5, up: 1, between: 1 };
      assert.equal(evaluate(parse(src, { functions: SCALAR_FUNCTION_NAMES }), (n) => fields[n]), want);
    });
  }
});
