/**
 * MAX_WINDOW_SAMPLES bounds one window's memory (2 × 8 bytes a sample, 32 MiB at most):
 * past it the oldest samples go even when a window would still cover them.
 */
export const MAX_WINDOW_SAMPLES = 1 << 21;

/**
 * Windows are the recent history of the series an evaluation reads, kept in the one
 * Float64Array that holds all of that evaluation's state (see shape.ts), so that a sample
 * reaches one object: 10,000 derived series with a few objects each do not fit in a cache,
 * one array each nearly does.
 *
 * Window w (the offset of its header in the array, input × WINDOW_HEADER) has a header of
 * WINDOW_HEADER numbers — where its ring starts, the ring's head, the samples held, the
 * ring's mask (capacity − 1) and the last sample's heartbeat in ms (0: none) — and a ring
 * of (t ms, value) pairs side by side further on, oldest first, that grows by doubling
 * (grow makes the array again). A push evicts the samples no window reads any more: those
 * older than keepMs before the newest sample, beyond the newest keepCount. Values may be
 * NaN (unknown). Samples arrive in time order; one older than the newest is refused.
 *
 * Indexes are logical, 0 the oldest sample held; windowEnd(at) and startAfter give the
 * range of a window evaluated at `at`, [start, end).
 */
export const WINDOW_HEADER = 5;
const OFF = 0;
const HEAD = 1;
const SIZE = 2;
const MASK = 3;
const HB = 4;

/** What pushSample did. */
export const PUSHED = 1;
export const REFUSED = 0;
/** The ring is full: grow the array, then push again. */
export const FULL = -1;

/** initialCapacity: the ring a window starts with (a power of two; more than keepCount up to 16). */
export function initialCapacity(keepCount: number): number {
  const want = Math.min(MAX_WINDOW_SAMPLES, Math.max(4, keepCount + 1));
  return want <= 16 ? 2 ** Math.ceil(Math.log2(want)) : 16;
}

/** initWindow writes an empty window's header: its ring of `capacity` pairs at `off`. */
export function initWindow(d: Float64Array, w: number, off: number, capacity: number): void {
  d[w + OFF] = off;
  d[w + HEAD] = 0;
  d[w + SIZE] = 0;
  d[w + MASK] = capacity - 1;
  d[w + HB] = 0;
}

/** ringLength: the numbers a window's ring takes in the array. */
export function ringLength(d: Float64Array, w: number): number {
  return 2 * (d[w + MASK] + 1);
}

/** windowSize: the samples window w holds. */
export function windowSize(d: Float64Array, w: number): number {
  return d[w + SIZE];
}

/** heartbeatMs: the last sample's heartbeat hint (0: none); older than this, a value is stale. */
export function heartbeatMs(d: Float64Array, w: number): number {
  return d[w + HB];
}

/** tAt is the time of logical sample i (0 the oldest). */
export function tAt(d: Float64Array, w: number, i: number): number {
  return d[d[w + OFF] + (((d[w + HEAD] + i) & d[w + MASK]) << 1)];
}

/** vAt is the value of logical sample i. */
export function vAt(d: Float64Array, w: number, i: number): number {
  return d[d[w + OFF] + (((d[w + HEAD] + i) & d[w + MASK]) << 1) + 1];
}

/**
 * pushSample appends a sample to window w: PUSHED, REFUSED (older than the newest; nothing
 * kept) or FULL (nothing kept: grow the array and push again).
 */
export function pushSample(d: Float64Array, w: number, keepMs: number, keepCount: number, t: number, value: number, hbMs: number): number {
  const off = d[w + OFF];
  const mask = d[w + MASK];
  let head = d[w + HEAD];
  let size = d[w + SIZE];
  if (size > 0 && t < d[off + (((head + size - 1) & mask) << 1)]) return REFUSED;
  // Evict what no window reads: older than keepMs before t, beyond the newest keepCount.
  const horizon = t - keepMs;
  while (size >= keepCount && size > 0 && d[off + (head << 1)] <= horizon) {
    head = (head + 1) & mask;
    size--;
  }
  if (size === mask + 1) {
    if (size < MAX_WINDOW_SAMPLES) {
      d[w + HEAD] = head;
      d[w + SIZE] = size;
      return FULL;
    }
    head = (head + 1) & mask;
    size--;
  }
  const i = off + (((head + size) & mask) << 1);
  d[i] = t;
  d[i + 1] = value;
  d[w + HEAD] = head;
  d[w + SIZE] = size + 1;
  d[w + HB] = hbMs;
  return PUSHED;
}

/**
 * grow makes the array again with window `grown`'s ring twice as long: the numbers before
 * `ringsAt` (headers and other state) as they are, then every window's ring, oldest sample
 * first.
 */
export function grow(d: Float64Array, windows: number, ringsAt: number, grown: number): Float64Array {
  let length = ringsAt;
  for (let j = 0; j < windows; j++) length += ringLength(d, j * WINDOW_HEADER) * (j === grown ? 2 : 1);
  const out = new Float64Array(length);
  out.set(d.subarray(0, ringsAt));
  let off = ringsAt;
  for (let j = 0; j < windows; j++) {
    const w = j * WINDOW_HEADER;
    const size = d[w + SIZE];
    for (let k = 0; k < size; k++) {
      out[off + 2 * k] = tAt(d, w, k);
      out[off + 2 * k + 1] = vAt(d, w, k);
    }
    const capacity = (d[w + MASK] + 1) * (j === grown ? 2 : 1);
    out[w + OFF] = off;
    out[w + HEAD] = 0;
    out[w + MASK] = capacity - 1;
    off += 2 * capacity;
  }
  return out;
}

/** windowEnd is the number of samples at or before `at` (all of them, when none is newer). */
export function windowEnd(d: Float64Array, w: number, at: number): number {
  const n = d[w + SIZE];
  if (n === 0 || tAt(d, w, n - 1) <= at) return n;
  return firstAfter(d, w, at, 0, n);
}

/** startAfter is the first index in [0, end) whose time is after `from` (end when none is). */
export function startAfter(d: Float64Array, w: number, from: number, end: number): number {
  if (end === 0 || tAt(d, w, 0) > from) return 0;
  return firstAfter(d, w, from, 0, end);
}

/** firstAfter: the first index in [lo, hi) with time > x (hi when none), by bisection. */
function firstAfter(d: Float64Array, w: number, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (tAt(d, w, mid) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
