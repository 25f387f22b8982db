/**
 * Histogram counts values (milliseconds) in exponential buckets, 10% wide, from 0.01 ms
 * to about an hour, so quantiles of scheduling lag cost O(1) memory however long the
 * node runs. quantile() returns a bucket's upper bound: within 10% of the true value.
 */
export class Histogram {
  private static readonly MIN = 0.01;
  private static readonly GROWTH = 1.1;
  private static readonly BUCKETS = 210;
  /** 1 / ln(GROWTH): a bucket is one log and one multiplication. */
  private static readonly PER_LN = 1 / Math.log(Histogram.GROWTH);
  private readonly counts = new Float64Array(Histogram.BUCKETS + 1);
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    const i = v <= Histogram.MIN ? 0 : Math.min(Histogram.BUCKETS, Math.ceil(Math.log(v / Histogram.MIN) * Histogram.PER_LN));
    this.counts[i]++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  /** quantile q in [0, 1]; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank && this.counts[i] > 0) return Math.min(this.max, Histogram.MIN * Histogram.GROWTH ** i);
    }
    return this.max;
  }
}
