/** RunWriter stores `count` consecutive rows from archive row `row`: values[from, from + count × width). */
export type RunWriter = (row: number, count: number, values: Float64Array, from: number) => void;

/** FIRST_ROWS is the rows a run's buffer holds at first (it grows past them; 10 min of a 10 s step). */
const FIRST_ROWS = 64;
const NONE = new Float64Array(0);

/**
 * Buffers of first size that drained runs gave back, by length. A checkpoint applies and
 * writes its files one after another, so a few buffers serve them all: a series holds
 * one only while it has rows not yet written, and a checkpoint allocates none.
 */
const spare = new Map<number, Float64Array[]>();

function take(length: number): Float64Array {
  return spare.get(length)?.pop() ?? new Float64Array(length);
}

function giveBack(buf: Float64Array): void {
  let list = spare.get(buf.length);
  if (!list) spare.set(buf.length, (list = []));
  if (list.length < 4) list.push(buf);
}

/**
 * PendingRows holds the rows of one row group (see layout.ts) written since the last
 * flush, each row `width` values wide: the n values of each member archive side by side,
 * at its column. Updates write consecutive rows, so they form one run (wrapping at the
 * group's end), which starts at slot 0 of its buffer. The members of a group write the
 * same rows in the same update (consecutive members at once, see RowSink): the first
 * to reach a row appends it, the others fill their columns of it. put() is on the ingest hot path: no allocation
 * (but a run's first row or its growth), no division.
 */
export class PendingRows {
  private buf: Float64Array = NONE;
  private first = 0; // archive row of the first pending row (in slot 0)
  private count = 0;
  private readonly firstLength: number;

  constructor(private readonly rows: number, private readonly width: number) {
    this.firstLength = Math.min(rows, FIRST_ROWS) * width;
  }

  /**
   * put records the n values src[offset..] from column col of archive row `row`. A row
   * already pending is written over; a row that neither is pending nor continues the run
   * first sends the run to `write`.
   */
  put(row: number, col: number, src: Float64Array, offset: number, n: number, write: RunWriter): void {
    let k = row - this.first;
    if (k < 0) k += this.rows;
    if (this.count === 0 || k > this.count) {
      if (this.count > 0) this.drain(write);
      if (this.buf === NONE) this.buf = take(this.firstLength);
      this.first = row;
      k = 0;
    }
    if (k === this.count) {
      if ((k + 1) * this.width > this.buf.length) this.grow();
      this.count++;
    }
    const base = k * this.width + col;
    for (let d = 0; d < n; d++) this.buf[base + d] = src[offset + d];
  }

  /** get copies the n values from column col of a pending row into out; false when the row is not pending. */
  get(row: number, col: number, out: Float64Array, offset: number, n: number): boolean {
    if (this.count === 0) return false;
    let k = row - this.first;
    if (k < 0) k += this.rows;
    if (k >= this.count) return false;
    const base = k * this.width + col;
    for (let d = 0; d < n; d++) out[offset + d] = this.buf[base + d];
    return true;
  }

  /** drain hands the run out as at most two contiguous pieces (split where the group wraps), empties it and lets its buffer go. */
  drain(write: RunWriter): void {
    if (this.count === 0) return;
    const firstPart = Math.min(this.count, this.rows - this.first);
    write(this.first, firstPart, this.buf, 0);
    if (firstPart < this.count) write(0, this.count - firstPart, this.buf, firstPart * this.width);
    this.count = 0;
    if (this.buf.length === this.firstLength) giveBack(this.buf);
    this.buf = NONE;
  }

  /** grow doubles the buffer, up to the whole group. */
  private grow(): void {
    const next = new Float64Array(Math.min(this.rows * this.width, this.buf.length * 2));
    next.set(this.buf.subarray(0, this.count * this.width));
    if (this.buf.length === this.firstLength) giveBack(this.buf);
    this.buf = next;
  }
}
