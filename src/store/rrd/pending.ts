/**
 * PendingRows holds the rows of one archive written since the last flush. Updates write
 * consecutive rows, so they form one run (wrapping at the archive's end); its buffer
 * starts small and grows up to the archive's size. put() is on the ingest hot path: no
 * allocation, no division.
 */
export class PendingRows {
  private buf: Float64Array;
  private cap: number; // buffer capacity in rows
  private head = 0; // buffer slot of the first pending row
  private first = 0; // archive row of the first pending row
  private next = 0; // archive row that continues the run
  private count = 0;

  constructor(private readonly rows: number, private readonly nDs: number) {
    this.cap = Math.min(rows, 4);
    this.buf = new Float64Array(this.cap * nDs);
  }

  get size(): number {
    return this.count;
  }

  /** put records row `row` from src[offset..]; a row that does not continue the run first sends the run to `spill`. */
  put(row: number, src: Float64Array, offset: number, spill: (row: number, values: Float64Array) => void): void {
    if (this.count > 0 && row !== this.next) {
      this.drain((r, n, vals) => {
        for (let i = 0; i < n; i++) spill((r + i) % this.rows, vals.subarray(i * this.nDs, (i + 1) * this.nDs));
      });
    }
    if (this.count === 0) {
      this.first = row;
      this.head = 0;
    }
    if (this.count === this.cap) {
      if (this.cap < this.rows) this.grow(Math.min(this.rows, this.cap * 2));
      else {
        // The run covers the whole archive: the oldest pending row is overwritten.
        this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
        this.first = this.first + 1 === this.rows ? 0 : this.first + 1;
        this.count--;
      }
    }
    let slot = this.head + this.count;
    if (slot >= this.cap) slot -= this.cap;
    const nDs = this.nDs;
    const base = slot * nDs;
    for (let d = 0; d < nDs; d++) this.buf[base + d] = src[offset + d];
    this.count++;
    this.next = row + 1 === this.rows ? 0 : row + 1;
  }

  /** get copies a pending row into out; false when the row is not pending. */
  get(row: number, out: Float64Array, offset: number): boolean {
    if (this.count === 0) return false;
    const k = (row - this.first + this.rows) % this.rows;
    if (k >= this.count) return false;
    const slot = (this.head + k) % this.cap;
    for (let d = 0; d < this.nDs; d++) out[offset + d] = this.buf[slot * this.nDs + d];
    return true;
  }

  /** drain hands the run out as at most two contiguous pieces (split where the archive wraps) and empties it. */
  drain(write: (row: number, count: number, values: Float64Array) => void): void {
    if (this.count === 0) return;
    const flat = this.linear();
    const firstPart = Math.min(this.count, this.rows - this.first);
    write(this.first, firstPart, flat.subarray(0, firstPart * this.nDs));
    if (firstPart < this.count) write(0, this.count - firstPart, flat.subarray(firstPart * this.nDs));
    this.count = 0;
    this.head = 0;
  }

  private linear(): Float64Array {
    if (this.head + this.count <= this.cap) return this.buf.subarray(this.head * this.nDs, (this.head + this.count) * this.nDs);
    const out = new Float64Array(this.count * this.nDs);
    const tail = this.cap - this.head;
    out.set(this.buf.subarray(this.head * this.nDs), 0);
    out.set(this.buf.subarray(0, (this.count - tail) * this.nDs), tail * this.nDs);
    return out;
  }

  private grow(cap: number): void {
    const next = new Float64Array(cap * this.nDs);
    next.set(this.linear(), 0);
    this.buf = next;
    this.cap = cap;
    this.head = 0;
  }
}
