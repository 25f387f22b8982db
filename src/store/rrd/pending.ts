/** RunWriter stores `count` consecutive rows from archive row `row`: values[from, from + count × width). */
export type RunWriter = (row: number, count: number, values: Float64Array, from: number) => void;

/**
 * PendingRows holds the rows of one row group (see layout.ts) written since the last
 * flush, each row `width` values wide: the n values of each member archive side by side,
 * at its column. Updates write consecutive rows, so they form one run (wrapping at the
 * group's end), which starts at slot 0 of a buffer that starts small and grows up to the
 * group's size. The members of a group write the same rows in the same update, one after
 * the other: the first to reach a row appends it, the others fill their column of it.
 * put() is on the ingest hot path: no allocation, no division.
 */
export class PendingRows {
  private buf: Float64Array;
  private cap: number; // buffer capacity in rows
  private first = 0; // archive row of the first pending row (in slot 0)
  private count = 0;

  constructor(private readonly rows: number, private readonly width: number, private readonly n: number) {
    this.cap = Math.min(rows, 4);
    this.buf = new Float64Array(this.cap * width);
  }

  get size(): number {
    return this.count;
  }

  /**
   * put records the n values src[offset..] at column col of archive row `row`. A row
   * already pending is written over; a row that neither is pending nor continues the run
   * first sends the run to `write`.
   */
  put(row: number, col: number, src: Float64Array, offset: number, write: RunWriter): void {
    let k = row - this.first;
    if (k < 0) k += this.rows;
    if (k > this.count || this.count === 0) {
      if (this.count > 0) this.drain(write);
      this.first = row;
      k = 0;
    }
    if (k === this.count) {
      if (this.count === this.cap) this.grow(Math.min(this.rows, this.cap * 2));
      this.count++;
    }
    const base = k * this.width + col;
    for (let d = 0; d < this.n; d++) this.buf[base + d] = src[offset + d];
  }

  /** get copies column col of a pending row into out; false when the row is not pending. */
  get(row: number, col: number, out: Float64Array, offset: number): boolean {
    if (this.count === 0) return false;
    let k = row - this.first;
    if (k < 0) k += this.rows;
    if (k >= this.count) return false;
    const base = k * this.width + col;
    for (let d = 0; d < this.n; d++) out[offset + d] = this.buf[base + d];
    return true;
  }

  /** drain hands the run out as at most two contiguous pieces (split where the group wraps) and empties it. */
  drain(write: RunWriter): void {
    if (this.count === 0) return;
    const firstPart = Math.min(this.count, this.rows - this.first);
    write(this.first, firstPart, this.buf, 0);
    if (firstPart < this.count) write(0, this.count - firstPart, this.buf, firstPart * this.width);
    this.count = 0;
  }

  private grow(cap: number): void {
    const next = new Float64Array(cap * this.width);
    next.set(this.buf.subarray(0, this.count * this.width));
    this.buf = next;
    this.cap = cap;
  }
}
