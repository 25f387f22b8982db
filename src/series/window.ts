/**
 * MAX_WINDOW_SAMPLES bounds one window's memory (2 × 8 bytes a sample, 32 MiB at most):
 * past it the oldest samples go even when a window would still cover them.
 */
export const MAX_WINDOW_SAMPLES = 1 << 21;

/**
 * Window is the recent history of one series: a ring of (t ms, value) pairs side by side
 * in one typed array (one object to reach, the pair in one cache line), oldest first, that
 * grows by doubling. A push evicts the samples no window reads any more:
 * those older than `keepMs` before the newest sample, beyond the newest `keepCount`. Values
 * may be NaN (a sample whose value is unknown). Samples arrive in time order; one older
 * than the newest is refused (push returns false).
 *
 * Indexes are logical, 0 the oldest sample kept; `end(at)` and `start*` give the range of
 * a window evaluated at `at`, [start, end).
 */
export class Window {
  /** Pairs: the time of ring slot k at 2k, its value at 2k + 1. */
  private d: Float64Array;
  private mask: number;
  private head = 0;
  /** Samples held. */
  size = 0;
  /** The last sample's heartbeat hint in ms (0: none): older than this, a value is stale. */
  heartbeatMs = 0;

  constructor(
    /** Samples within this many ms of the newest are kept. */
    readonly keepMs: number,
    /** At least this many samples are kept (1: the last value). */
    readonly keepCount: number,
  ) {
    const want = Math.min(MAX_WINDOW_SAMPLES, Math.max(4, keepCount + 1));
    const cap = want <= 16 ? 2 ** Math.ceil(Math.log2(want)) : 16;
    this.d = new Float64Array(2 * cap);
    this.mask = cap - 1;
  }

  /** push appends a sample; false (and nothing kept) when it is older than the newest. */
  push(t: number, value: number): boolean {
    const d = this.d;
    if (this.size > 0 && t < d[((this.head + this.size - 1) & this.mask) << 1]) return false;
    // Evict what no window reads: older than keepMs before t, beyond the newest keepCount.
    const horizon = t - this.keepMs;
    while (this.size >= this.keepCount && this.size > 0 && this.d[this.head << 1] <= horizon) {
      this.head = (this.head + 1) & this.mask;
      this.size--;
    }
    if (this.size === this.mask + 1) {
      if (this.size >= MAX_WINDOW_SAMPLES) {
        this.head = (this.head + 1) & this.mask;
        this.size--;
      } else {
        this.grow();
      }
    }
    const i = ((this.head + this.size) & this.mask) << 1;
    this.d[i] = t;
    this.d[i + 1] = value;
    this.size++;
    return true;
  }

  private grow(): void {
    const n = (this.mask + 1) * 2;
    const d = new Float64Array(2 * n);
    for (let k = 0; k < this.size; k++) {
      const j = ((this.head + k) & this.mask) << 1;
      d[2 * k] = this.d[j];
      d[2 * k + 1] = this.d[j + 1];
    }
    this.d = d;
    this.mask = n - 1;
    this.head = 0;
  }

  /** tAt is the time of logical sample i (0 the oldest). */
  tAt(i: number): number {
    return this.d[((this.head + i) & this.mask) << 1];
  }

  /** vAt is the value of logical sample i. */
  vAt(i: number): number {
    return this.d[(((this.head + i) & this.mask) << 1) + 1];
  }

  /** newest is the time of the newest sample, -Infinity when there is none. */
  newest(): number {
    return this.size === 0 ? -Infinity : this.tAt(this.size - 1);
  }

  /** end is the number of samples at or before `at` (all of them, when none is newer). */
  end(at: number): number {
    const n = this.size;
    if (n === 0 || this.tAt(n - 1) <= at) return n;
    return this.firstAfter(at, 0, n);
  }

  /** startAfter is the first index in [0, end) whose time is after `from` (end when none is). */
  startAfter(from: number, end: number): number {
    if (end === 0 || this.tAt(0) > from) return 0;
    return this.firstAfter(from, 0, end);
  }

  /** firstAfter: the first index in [lo, hi) with time > x (hi when none), by bisection. */
  private firstAfter(x: number, lo: number, hi: number): number {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tAt(mid) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** clear drops every sample (a rebuild starts over). */
  clear(): void {
    this.head = 0;
    this.size = 0;
  }
}
