/**
 * RollingCounts keeps good and bad counts in time buckets of `widthMs` (aligned on the
 * epoch), the newest `size` of them in a ring, and a running sum for each of a few windows
 * (a whole number of buckets, the newest one included, which is still filling). Adding is
 * O(windows); so is moving to a new bucket; a window's sums are read in O(1). Memory is
 * 16 bytes a bucket, whatever the rate of evaluations.
 *
 * Counts may be fractions (a rebuild from consolidated data adds shares of a step).
 */
export class RollingCounts {
  private readonly good: Float64Array;
  private readonly bad: Float64Array;
  private readonly goodSum: Float64Array;
  private readonly badSum: Float64Array;
  /** Absolute index (t / widthMs) of the newest bucket; -Infinity before the first add. */
  private cur = -Infinity;

  /** windows are lengths in buckets, each at most size. */
  constructor(readonly widthMs: number, readonly size: number, readonly windows: readonly number[]) {
    this.good = new Float64Array(size);
    this.bad = new Float64Array(size);
    this.goodSum = new Float64Array(windows.length);
    this.badSum = new Float64Array(windows.length);
    for (const w of windows) if (!(w >= 1 && w <= size)) throw new RangeError(`window of ${w} buckets in a ring of ${size}`);
  }

  /** add counts at time t; false when t is older than the ring keeps (dropped). */
  add(t: number, good: number, bad: number): boolean {
    const idx = Math.floor(t / this.widthMs);
    if (idx > this.cur) this.advanceTo(idx);
    const age = this.cur - idx;
    if (age >= this.size) return false;
    const slot = mod(idx, this.size);
    this.good[slot] += good;
    this.bad[slot] += bad;
    const ws = this.windows;
    for (let j = 0; j < ws.length; j++) {
      if (age < ws[j]) {
        this.goodSum[j] += good;
        this.badSum[j] += bad;
      }
    }
    return true;
  }

  /** advance moves the ring to time t: buckets that left a window stop counting in it. */
  advance(t: number): void {
    const idx = Math.floor(t / this.widthMs);
    if (idx > this.cur) this.advanceTo(idx);
  }

  /** goodIn and badIn are window j's sums (as of the last add or advance). */
  goodIn(j: number): number {
    return this.goodSum[j] > 0 ? this.goodSum[j] : 0;
  }

  badIn(j: number): number {
    return this.badSum[j] > 0 ? this.badSum[j] : 0;
  }

  private advanceTo(idx: number): void {
    const n = this.size;
    const ws = this.windows;
    if (idx - this.cur >= n) {
      this.good.fill(0);
      this.bad.fill(0);
      this.goodSum.fill(0);
      this.badSum.fill(0);
      this.cur = idx;
      return;
    }
    for (let k = this.cur + 1; k <= idx; k++) {
      // Bucket k enters every window; bucket k - w leaves window w (it is still in the ring).
      for (let j = 0; j < ws.length; j++) {
        const leaving = mod(k - ws[j], n);
        this.goodSum[j] -= this.good[leaving];
        this.badSum[j] -= this.bad[leaving];
      }
      const slot = mod(k, n);
      this.good[slot] = 0;
      this.bad[slot] = 0;
    }
    this.cur = idx;
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
