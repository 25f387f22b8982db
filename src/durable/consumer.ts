import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createError, errorMessage } from '../errors';
import { SEGMENT_MAGIC } from './files';
import { scanFrames } from './frame';
import { DurableLog, Segment } from './log';

/**
 * ReadChunk is a run of records from position (seq, start) to (endSeq, end); parts says
 * how many records came from each segment.
 */
export interface ReadChunk<T = Buffer> {
  seq: number;
  start: number;
  endSeq: number;
  end: number;
  records: T[];
  parts: Array<{ seq: number; records: number }>;
}

/** Lost is what dropOldest dropped: records, bytes, and the segments they were in. */
export interface Lost {
  records: number;
  bytes: number;
  seqs: number[];
}

const READ_BYTES = 4 << 20;
const MAGIC = SEGMENT_MAGIC.length;

/**
 * LogConsumer reads a DurableLog from the front, the way the influx spool sends it: read
 * returns the records after the acknowledged position, ack moves the position and saves
 * it in `NAME.cursor` (so a restart resends at most the chunk that was out), segments
 * read to their end are deleted, and dropOldest drops whole segments from the front while
 * more than a cap of bytes is unread, reporting how many records were lost.
 *
 * The position is always in the first segment: everything before it was consumed.
 */
export class LogConsumer {
  private seq = -1;
  private offset = MAGIC;
  /** Records of segment `seq` before `offset`. */
  private consumed = 0;
  private readonly cursorFile: string;

  constructor(private readonly log: DurableLog) {
    this.cursorFile = path.join(log.dir, `${log.name}.cursor`);
    const cursor = readCursor(this.cursorFile);
    if (!cursor) return;
    for (const s of [...log.segments]) if (s.seq < cursor.seq) log.dropSegment(s.seq);
    const first = log.segments[0];
    if (first?.seq !== cursor.seq || cursor.offset <= MAGIC) return;
    // The cursor must fall between two records; if it does not, the segment is resent.
    const data = fs.readFileSync(first.file);
    let records = 0;
    let boundary = false;
    scanFrames(data, MAGIC, data.length, (_s, end) => {
      if (end > cursor.offset) return;
      records++;
      if (end === cursor.offset) boundary = true;
    });
    if (!boundary) return;
    this.seq = first.seq;
    this.offset = cursor.offset;
    this.consumed = records;
  }

  /** front is the first segment, with the position moved to it when it changed. */
  private front(): Segment | undefined {
    const first = this.log.segments[0];
    if (first && first.seq !== this.seq) {
      this.seq = first.seq;
      this.offset = MAGIC;
      this.consumed = 0;
    }
    return first;
  }

  /** pendingRecords counts records not yet acknowledged. */
  get pendingRecords(): number {
    const first = this.front();
    let n = first ? -this.consumed : 0;
    for (const s of this.log.segments) n += s.records;
    return n;
  }

  /** pendingBytes is the same in bytes of the segment files (headers included). */
  get pendingBytes(): number {
    const first = this.front();
    let n = first ? MAGIC - this.offset : 0;
    for (const s of this.log.segments) n += s.bytes - MAGIC;
    return n;
  }

  /**
   * removeConsumed deletes segments read to their end from the front (the one being
   * written too: the next append starts a new one), and the cursor when none is left.
   */
  removeConsumed(): void {
    for (let first = this.front(); first && this.offset >= first.bytes; first = this.front()) this.log.dropSegment(first.seq);
    if (this.log.segments.length === 0) fs.rmSync(this.cursorFile, { force: true });
  }

  /** read returns up to maxRecords records after the position (across segments), or undefined when all were read. */
  read(maxRecords: number): Promise<ReadChunk | undefined> {
    return this.readAs(maxRecords, (buf, start, end) => buf.subarray(start, end));
  }

  /** readText is read for records of UTF-8 text (the spool's lines), decoded without a Buffer per record. */
  readText(maxRecords: number): Promise<ReadChunk<string> | undefined> {
    return this.readAs(maxRecords, (buf, start, end) => buf.toString('utf8', start, end));
  }

  private async readAs<T>(maxRecords: number, decode: Decode<T>): Promise<ReadChunk<T> | undefined> {
    this.removeConsumed();
    const first = this.front();
    if (!first) return undefined;
    const chunk: ReadChunk<T> = { seq: first.seq, start: this.offset, endSeq: first.seq, end: this.offset, records: [], parts: [] };
    const max = Math.max(1, maxRecords);
    for (const seg of [...this.log.segments]) {
      const start = seg === first ? this.offset : MAGIC;
      if (start >= seg.bytes) continue;
      const got = await readSegment(seg, start, max - chunk.records.length, decode);
      for (const r of got.records) chunk.records.push(r);
      chunk.parts.push({ seq: seg.seq, records: got.records.length });
      chunk.endSeq = seg.seq;
      chunk.end = got.end;
      if (got.end < seg.bytes || chunk.records.length >= max) break;
    }
    return chunk.parts.length > 0 ? chunk : undefined;
  }

  /** ack marks a chunk consumed; false when it is not the one at the position (its segment was dropped). */
  async ack(chunk: ReadChunk<unknown>): Promise<boolean> {
    const first = this.front();
    if (!first || first.seq !== chunk.seq || this.offset !== chunk.start) return false;
    for (const s of [...this.log.segments]) if (s.seq < chunk.endSeq) this.log.dropSegment(s.seq);
    if (this.front()?.seq === chunk.endSeq) {
      this.offset = chunk.end;
      this.consumed += chunk.parts[chunk.parts.length - 1].records;
    }
    this.removeConsumed();
    await this.saveCursor();
    return true;
  }

  /** dropOldest drops whole segments from the front while more than maxBytes are unread (keeping the last). */
  dropOldest(maxBytes: number): Lost {
    const lost: Lost = { records: 0, bytes: 0, seqs: [] };
    while (this.pendingBytes > maxBytes && this.log.segments.length > 1) {
      const first = this.front()!;
      lost.records += first.records - this.consumed;
      lost.bytes += first.bytes - this.offset;
      lost.seqs.push(first.seq);
      this.log.dropSegment(first.seq);
    }
    return lost;
  }

  /** saveCursor writes the position (temporary file and rename: a crash leaves the old one or the new). */
  async saveCursor(): Promise<void> {
    const first = this.front();
    if (!first) {
      await fsp.rm(this.cursorFile, { force: true });
      return;
    }
    const tmp = `${this.cursorFile}.tmp`;
    await fsp.writeFile(tmp, `${first.seq} ${this.offset}\n`);
    await fsp.rename(tmp, this.cursorFile);
  }
}

type Decode<T> = (buf: Buffer, start: number, end: number) => T;

/** readSegment reads up to max whole records of a segment from byte start. */
async function readSegment<T>(seg: Segment, start: number, max: number, decode: Decode<T>): Promise<{ records: T[]; end: number }> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(seg.file, 'r');
    let want = Math.min(seg.bytes - start, READ_BYTES);
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, start);
      const records: T[] = [];
      const r = scanFrames(buf, 0, bytesRead, (s, e) => records.push(decode(buf, s, e)), max);
      if (records.length === 0 && want < seg.bytes - start) {
        want = seg.bytes - start; // one record longer than READ_BYTES
        continue;
      }
      // Nothing readable to the segment's end is damage: skipped, as a part of no records.
      return { records, end: start + (records.length === 0 ? want : r.end) };
    }
  } catch (err) {
    throw createError('REMON_ERR_DURABLE_READ', `cannot read ${seg.file}: ${errorMessage(err)}`, err);
  } finally {
    await fh?.close();
  }
}

function readCursor(file: string): { seq: number; offset: number } | undefined {
  try {
    const m = /^(\d+) (\d+)\n$/.exec(fs.readFileSync(file, 'utf8'));
    return m ? { seq: Number(m[1]), offset: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}
