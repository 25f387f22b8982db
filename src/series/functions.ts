import { tAt, vAt } from './window';

/** WindowFnName is a function over the samples of one window. */
export type WindowFnName = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'last' | 'delta' | 'rate' | 'stddev';

/**
 * Reducer computes over samples [start, end) of window w of state array d (window.ts);
 * NaN when it cannot (no known value, or too few). Samples whose value is NaN (unknown)
 * are skipped by all of them.
 */
export type Reducer = (d: Float64Array, w: number, start: number, end: number) => number;

/** REDUCERS by name; `needs` is how many known values each needs for an answer. */
export const REDUCERS: Record<WindowFnName, { fn: Reducer; needs: number }> = {
  avg: { fn: avg, needs: 1 },
  min: { fn: min, needs: 1 },
  max: { fn: max, needs: 1 },
  sum: { fn: sum, needs: 1 },
  count: { fn: count, needs: 0 },
  last: { fn: last, needs: 1 },
  delta: { fn: delta, needs: 2 },
  rate: { fn: rate, needs: 2 },
  stddev: { fn: stddev, needs: 1 },
};

/** knownSeen: how many known values the last sumKnown call added (no allocation for a second result). */
let knownSeen = 0;

/** sumKnown adds the known values of [start, end) and leaves their number in knownSeen. */
function sumKnown(d: Float64Array, w: number, start: number, end: number): number {
  let s = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) { s += v; n++; }
  }
  knownSeen = n;
  return s;
}

function avg(d: Float64Array, w: number, start: number, end: number): number {
  const s = sumKnown(d, w, start, end);
  return knownSeen === 0 ? NaN : s / knownSeen;
}

function min(d: Float64Array, w: number, start: number, end: number): number {
  let m = Infinity;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) { n++; if (v < m) m = v; }
  }
  return n === 0 ? NaN : m;
}

function max(d: Float64Array, w: number, start: number, end: number): number {
  let m = -Infinity;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) { n++; if (v > m) m = v; }
  }
  return n === 0 ? NaN : m;
}

function sum(d: Float64Array, w: number, start: number, end: number): number {
  const s = sumKnown(d, w, start, end);
  return knownSeen === 0 ? NaN : s;
}

/**
 * countEvents is count() over an event series (SeriesOptions.events): each sample holds a
 * number of events (the sql block's `<block>.new`: new keys per bucket, 0 for none), so it
 * adds the known values. A window without a sample is unknown, not 0: an event series has
 * a sample for every bucket, so none means no data (the block did not run, or failed).
 */
export function countEvents(d: Float64Array, w: number, start: number, end: number): number {
  let s = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) { s += v; n++; }
  }
  return n === 0 ? NaN : s;
}

/** count counts known values: 0 for an empty window, never unknown. */
function count(d: Float64Array, w: number, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) n++;
  }
  return n;
}

function last(d: Float64Array, w: number, start: number, end: number): number {
  for (let i = end - 1; i >= start; i--) {
    const v = vAt(d, w, i);
    if (v === v) return v;
  }
  return NaN;
}

/** firstKnown is the index of the first known value in [start, end), or end. */
function firstKnown(d: Float64Array, w: number, start: number, end: number): number {
  let i = start;
  while (i < end && Number.isNaN(vAt(d, w, i))) i++;
  return i;
}

/** lastKnown is the index of the last known value in [start, end), or start - 1. */
function lastKnown(d: Float64Array, w: number, start: number, end: number): number {
  let i = end - 1;
  while (i >= start && Number.isNaN(vAt(d, w, i))) i--;
  return i;
}

/** delta is the last known value minus the first (no extrapolation, no counter resets). */
function delta(d: Float64Array, w: number, start: number, end: number): number {
  const a = firstKnown(d, w, start, end);
  const b = lastKnown(d, w, start, end);
  return b > a ? vAt(d, w, b) - vAt(d, w, a) : NaN;
}

/** rate is delta per second between the first and the last known sample. */
function rate(d: Float64Array, w: number, start: number, end: number): number {
  const a = firstKnown(d, w, start, end);
  const b = lastKnown(d, w, start, end);
  if (b <= a) return NaN;
  const dt = tAt(d, w, b) - tAt(d, w, a);
  return dt > 0 ? ((vAt(d, w, b) - vAt(d, w, a)) * 1000) / dt : NaN;
}

/** stddev is the population standard deviation (two passes, for accuracy). */
function stddev(d: Float64Array, w: number, start: number, end: number): number {
  const mean = avg(d, w, start, end);
  if (mean !== mean) return NaN;
  let s = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) { const d = v - mean; s += d * d; n++; }
  }
  return Math.sqrt(s / n);
}

/**
 * percentile is the p-th percentile (0–100) of the known values, interpolated linearly
 * between the closest ranks (rank p/100 × (n − 1), as numpy and Prometheus'
 * quantile_over_time do). It selects the two ranks rather than sorting (the same values,
 * and the same result: ±0 compare equal, and an interpolation from −0 gives +0 either way).
 * `scratch` is reused between calls; the grown one is returned in scratch.buf.
 */
export function percentile(d: Float64Array, w: number, start: number, end: number, p: number, scratch: { buf: Float64Array }): number {
  if (scratch.buf.length < end - start) scratch.buf = new Float64Array(Math.max(end - start, scratch.buf.length * 2));
  const buf = scratch.buf;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = vAt(d, w, i);
    if (v === v) buf[n++] = v;
  }
  if (n === 0) return NaN;
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const a = select(buf, n, lo);
  if (lo + 1 >= n) return a + (a - a) * (rank - lo);
  // After select, the values past lo are the larger ones: the next rank is their least.
  let b = buf[lo + 1];
  for (let i = lo + 2; i < n; i++) if (buf[i] < b) b = buf[i];
  return a + (b - a) * (rank - lo);
}

/**
 * select reorders a[0, n) so that a[k] is the value sorting would put there, the values
 * before it no larger and those after no smaller (Hoare's quickselect), and returns it.
 */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const x = a[i];
        a[i] = a[j];
        a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** knownCount counts the known values in [start, end) (for the reason of an unknown). */
export const knownCount = count;
