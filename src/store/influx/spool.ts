import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createError, errorMessage, RemonError } from '../../errors';

/** SpoolOptions: where the spool lives and how big it may grow. */
export interface SpoolOptions {
  dir: string;
  /** Undelivered bytes kept at most; past it, the oldest segments are dropped. */
  maxBytes: number;
  /** Segment file size (default maxBytes/16, between 1 KiB and 16 MiB). */
  segmentBytes?: number;
  /** Called once per write pass that dropped old lines to stay under maxBytes. */
  onDrop?: (lines: number, bytes: number) => void;
  /** Called when the spool cannot be written or read (the lines concerned are lost). */
  onError?: (err: RemonError, lostLines: number) => void;
}

/** Chunk is a run of spooled lines handed out for delivery; ack or release it. */
export interface Chunk {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly lines: string[];
}

interface Segment {
  seq: number;
  file: string;
  /** Bytes in the file. */
  size: number;
  lines: number;
  /** Bytes and lines at the front that were delivered. */
  doneOffset: number;
  doneLines: number;
}

const SEGMENT = /^seg-(\d{12})\.lp$/;
const CURSOR = 'cursor';
const READ_BYTES = 4 << 20;

/**
 * Spool is the influx store's bounded on-disk buffer: append-only segment files of line
 * protocol (`seg-000000000001.lp`, ...) under one directory, read back oldest first. Lines
 * are buffered in memory by `append` and written by `sync` (and by `read`, so that the
 * order is kept); a `cursor` file records how far the oldest segment was delivered, so a
 * restart resends at most one chunk. Fully delivered segments are deleted. When the
 * undelivered bytes exceed maxBytes, whole segments are dropped, oldest first, and counted.
 *
 * Every file operation runs through one queue, so the methods may be called at any time.
 */
export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private segments: Segment[] = [];
  private active?: { seg: Segment; fh: fsp.FileHandle };
  private tail: string[] = [];
  private tailBytes = 0;
  private reading?: Chunk & { orphan?: boolean };
  private nextSeq = 1;
  private dirty = false;
  /** A segment file was created or deleted since the directory was last fsynced. */
  private dirDirty = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Lines found on disk at open (left by an earlier run). */
  restored = 0;
  /** Lines dropped to stay under maxBytes, or lost to a spool error. */
  dropped = 0;

  constructor(private readonly options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = Math.max(1, options.maxBytes);
    this.segmentBytes = options.segmentBytes ?? Math.min(16 << 20, Math.max(1024, Math.floor(this.maxBytes / 16)));
    void this.serial(() => this.open()).catch((err) => this.report(err, 0));
  }

  /** undeliveredLines counts lines not yet acknowledged, in memory and on disk. */
  get undeliveredLines(): number {
    let n = this.tail.length;
    for (const s of this.segments) n += s.lines - s.doneLines;
    return n;
  }

  /** undeliveredBytes is the same in bytes (memory lines approximated by their length). */
  get undeliveredBytes(): number {
    let n = this.tailBytes;
    for (const s of this.segments) n += s.size - s.doneOffset;
    return n;
  }

  get empty(): boolean {
    return this.undeliveredLines === 0;
  }

  /** files lists the segment files on disk (for tests and status). */
  get files(): string[] {
    return this.segments.map((s) => s.file);
  }

  /** append queues lines (without '\n') for the spool; they reach disk on the next sync or read. */
  append(lines: readonly string[]): void {
    if (this.closed) return;
    for (const l of lines) {
      this.tail.push(l);
      this.tailBytes += l.length + 1;
    }
  }

  /** appendOne is append for a single line. */
  appendOne(line: string): void {
    if (this.closed) return;
    this.tail.push(line);
    this.tailBytes += line.length + 1;
  }

  /** pendingBytes: bytes appended but not yet written to disk. */
  get pendingBytes(): number {
    return this.tailBytes;
  }

  /** sync writes appended lines to disk, enforces the size cap, and with durable fsyncs. */
  sync(durable = false): Promise<void> {
    return this.serial(async () => {
      await this.writeTail();
      if (durable && this.dirty && this.active) {
        await this.active.fh.datasync();
        this.dirty = false;
      }
      if (durable && this.dirDirty) {
        // New segment files are only durable once their directory entry is.
        this.dirDirty = false;
        const dir = await fsp.open(this.dir, 'r');
        await dir.sync().finally(() => dir.close());
      }
    });
  }

  /** read returns the oldest undelivered lines (at most maxLines), or undefined when there are none. */
  read(maxLines: number): Promise<Chunk | undefined> {
    return this.serial(async () => {
      await this.writeTail();
      await this.removeDelivered();
      const seg = this.segments.find((s) => s.doneOffset < s.size);
      if (!seg) return undefined;
      const chunk = await this.readFrom(seg, Math.max(1, maxLines));
      this.reading = chunk;
      return chunk;
    });
  }

  /** ack marks a chunk delivered (or rejected for good): its lines leave the spool. */
  ack(chunk: Chunk): Promise<void> {
    return this.serial(async () => {
      const reading = this.reading;
      this.reading = undefined;
      const seg = this.segments.find((s) => s.seq === chunk.seq);
      if (!seg || (reading === chunk && reading.orphan) || seg.doneOffset !== chunk.start) return;
      seg.doneOffset = chunk.end;
      seg.doneLines += chunk.lines.length;
      await this.removeDelivered();
      await this.writeCursor();
    });
  }

  /** release gives a chunk back after a failed delivery; it is read again next time. */
  release(chunk: Chunk): Promise<void> {
    return this.serial(async () => {
      const reading = this.reading;
      this.reading = undefined;
      if (reading === chunk && reading.orphan) {
        // Its segment was dropped for space while the chunk was out; now it is lost too.
        this.dropped += chunk.lines.length;
        this.options.onDrop?.(chunk.lines.length, chunk.end - chunk.start);
      }
    });
  }

  /** close writes what is buffered, fsyncs, and closes the segment file. */
  close(): Promise<void> {
    const p = this.serial(async () => {
      await this.writeTail();
      if (this.active) {
        if (this.dirty) await this.active.fh.datasync();
        await this.active.fh.close();
        this.active = undefined;
      }
    });
    this.closed = true;
    return p;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private report(err: unknown, lost: number): void {
    const e = err instanceof RemonError ? err : createError('REMON_ERR_STORE_SPOOL', `spool ${this.dir}: ${errorMessage(err)}`, err);
    this.dropped += lost;
    this.options.onError?.(e, lost);
  }

  private async open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    const cursor = await readCursor(path.join(this.dir, CURSOR));
    const names = (await fsp.readdir(this.dir)).filter((n) => SEGMENT.test(n)).sort();
    for (const name of names) {
      const seq = Number(SEGMENT.exec(name)![1]);
      const file = path.join(this.dir, name);
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      if (cursor && seq < cursor.seq) {
        await fsp.rm(file, { force: true });
        continue;
      }
      let buf = await fsp.readFile(file);
      const lastNl = buf.lastIndexOf(10);
      if (lastNl !== buf.length - 1) {
        // A write cut short (crash, full disk): keep the whole lines.
        await fsp.truncate(file, lastNl + 1);
        buf = buf.subarray(0, lastNl + 1);
      }
      const seg: Segment = { seq, file, size: buf.length, lines: countNewlines(buf, 0, buf.length), doneOffset: 0, doneLines: 0 };
      if (cursor && seq === cursor.seq && cursor.offset <= buf.length && (cursor.offset === 0 || buf[cursor.offset - 1] === 10)) {
        seg.doneOffset = cursor.offset;
        seg.doneLines = countNewlines(buf, 0, cursor.offset);
      }
      this.segments.push(seg);
      this.restored += seg.lines - seg.doneLines;
    }
    await this.removeDelivered();
  }

  /** writeTail moves buffered lines to the segment files, rotating them at segmentBytes. */
  private async writeTail(): Promise<void> {
    if (this.tail.length === 0) return;
    const lines = this.tail;
    this.tail = [];
    this.tailBytes = 0;
    let written = 0;
    try {
      let i = 0;
      while (i < lines.length) {
        const active = await this.activeSegment();
        const room = this.segmentBytes - active.seg.size;
        let piece = '';
        let bytes = 0;
        const first = i;
        while (i < lines.length) {
          const n = Buffer.byteLength(lines[i]) + 1;
          if (bytes + n > room && i > first) break;
          if (bytes + n > room && active.seg.size > 0) break; // start a fresh segment for it
          piece += lines[i] + '\n';
          bytes += n;
          i++;
        }
        if (i === first) {
          await this.rotate();
          continue;
        }
        await writeAll(active.fh, Buffer.from(piece));
        active.seg.size += bytes;
        active.seg.lines += i - first;
        written = i;
        this.dirty = true;
        if (active.seg.size >= this.segmentBytes) await this.rotate();
      }
    } catch (err) {
      // Whatever did not reach the file is lost; keep the file whole for the next write.
      if (this.active) await this.active.fh.truncate(this.active.seg.size).catch(() => undefined);
      this.report(err, lines.length - written);
    }
    await this.enforceCap();
  }

  private async activeSegment(): Promise<{ seg: Segment; fh: fsp.FileHandle }> {
    if (this.active) return this.active;
    await fsp.mkdir(this.dir, { recursive: true });
    const seq = this.nextSeq++;
    const file = path.join(this.dir, `seg-${String(seq).padStart(12, '0')}.lp`);
    const fh = await fsp.open(file, 'a');
    this.dirDirty = true;
    const seg: Segment = { seq, file, size: 0, lines: 0, doneOffset: 0, doneLines: 0 };
    this.segments.push(seg);
    this.active = { seg, fh };
    return this.active;
  }

  private async rotate(): Promise<void> {
    if (!this.active) return;
    const { fh } = this.active;
    this.active = undefined;
    if (this.dirty) await fh.datasync();
    this.dirty = false;
    await fh.close();
  }

  /** enforceCap drops the oldest segments while the undelivered bytes exceed maxBytes. */
  private async enforceCap(): Promise<void> {
    let lines = 0;
    let bytes = 0;
    while (this.undeliveredBytes > this.maxBytes && this.segments.length > 1) {
      const seg = this.segments.shift()!;
      let lost = seg.lines - seg.doneLines;
      if (this.reading && this.reading.seq === seg.seq) {
        // Lines out for delivery are counted when they fail (release), not now.
        this.reading.orphan = true;
        lost -= this.reading.lines.length;
      }
      lines += lost;
      bytes += seg.size - seg.doneOffset;
      if (this.active?.seg === seg) await this.rotate();
      await fsp.rm(seg.file, { force: true });
    }
    if (lines > 0 || bytes > 0) {
      this.dropped += lines;
      this.options.onDrop?.(lines, bytes);
      await this.writeCursor();
    }
  }

  /** removeDelivered deletes segments whose lines were all delivered. */
  private async removeDelivered(): Promise<void> {
    let changed = false;
    while (this.segments.length > 0) {
      const seg = this.segments[0];
      if (seg.doneOffset < seg.size) break;
      if (this.active?.seg === seg) {
        if (this.tail.length > 0) break;
        await this.rotate();
      }
      this.segments.shift();
      await fsp.rm(seg.file, { force: true });
      changed = true;
    }
    if (changed && this.segments.length === 0) await fsp.rm(path.join(this.dir, CURSOR), { force: true });
  }

  private async writeCursor(): Promise<void> {
    const file = path.join(this.dir, CURSOR);
    const first = this.segments[0];
    if (!first) {
      await fsp.rm(file, { force: true });
      return;
    }
    await fsp.writeFile(`${file}.tmp`, `${first.seq} ${first.doneOffset}\n`);
    await fsp.rename(`${file}.tmp`, file);
  }

  private async readFrom(seg: Segment, maxLines: number): Promise<Chunk> {
    const fh = await fsp.open(seg.file, 'r');
    try {
      let want = Math.min(seg.size - seg.doneOffset, READ_BYTES);
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, seg.doneOffset);
        // Cut after the maxLines-th newline, or after the last one in what was read.
        let end = -1;
        let n = 0;
        for (let i = buf.indexOf(10, 0); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) {
          end = i + 1;
          if (++n === maxLines) break;
        }
        if (end === -1) {
          if (want >= seg.size - seg.doneOffset) throw createError('REMON_ERR_STORE_SPOOL', `spool segment ${seg.file} ends without a newline`);
          want = seg.size - seg.doneOffset; // one line longer than READ_BYTES
          continue;
        }
        const lines = buf.toString('utf8', 0, end - 1).split('\n');
        return { seq: seg.seq, start: seg.doneOffset, end: seg.doneOffset + end, lines };
      }
    } finally {
      await fh.close();
    }
  }
}

async function writeAll(fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, from); i !== -1 && i < to; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

async function readCursor(file: string): Promise<{ seq: number; offset: number } | undefined> {
  try {
    const m = /^(\d+) (\d+)\n$/.exec(await fsp.readFile(file, 'utf8'));
    return m ? { seq: Number(m[1]), offset: Number(m[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/** spoolFiles lists the segment files in a spool directory (tests, tools). */
export function spoolFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
  } catch {
    return [];
  }
}
