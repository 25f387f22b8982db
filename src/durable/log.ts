import * as fs from 'node:fs';
import * as path from 'node:path';
import { createError, errorMessage, RemonError } from '../errors';
import { Logger } from '../log';
import { Committed, GroupCommit } from './commit';
import { fsyncDir, SEGMENT_MAGIC, segmentFile, writeAllSync, writeError } from './files';
import { frameHeader, frameInto, HEADER_BYTES, packFrames, Payload, payloadBytes } from './frame';
import { loadLog, OpenReport, Replay, Segment } from './open';
import { StepHook, writeSnapshot, writeSnapshotSync } from './snapshot';

export type { OpenReport, Replay, Segment } from './open';

/** DurableLogOptions: where the log lives and how it commits (defaults in brackets). */
export interface DurableLogOptions {
  dir: string;
  /** Base name of the log's files (see files.ts). */
  name: string;
  /** What the log is, for messages: "the heartbeat journal". */
  what: string;
  /** Start a new segment once the current one holds this many bytes [64 MiB]. */
  segmentBytes?: number;
  /** fdatasync each group commit before it resolves; fsync the directory when a segment is made [false]. */
  sync?: boolean;
  /** Files in dir that an earlier remon version wrote: warned about at open, never read. */
  legacy?: (file: string) => boolean;
  log?: Logger;
  /** Told each step of a compaction (crash tests kill the process there). */
  hook?: (step: CompactionStep) => void;
  /** Turns a failed group commit's REMON_ERR_DURABLE_WRITE into the caller's error (called once per failure). */
  commitError?: (err: Error) => Error;
}

/** CompactionStep names the points of a compaction, in order. */
export type CompactionStep = 'rotated' | Parameters<StepHook>[0] | 'dropped';

/** Records up to this size are framed by copying (one write(2)); larger ones go out with writev. */
const SMALL_RECORD = 64 * 1024;

/** LogStats: totals since open. */
export interface LogStats {
  batches: number;
  records: number;
  bytes: number;
  maxBatch: number;
  snapshots: number;
  failures: number;
}

/**
 * DurableLog is remon's one framed append-only log: the RRD journal, the heartbeat
 * journal, the memory shared backend's persistent buckets and the influx spool all sit on
 * it. Records are framed with checksums (frame.ts) in numbered segment files (files.ts).
 *
 * - appendSync / appendBatchSync: one write(2) before they return, so the record is in the
 *   kernel (durable against kill -9) when the call returns.
 * - append: group commit (commit.ts): the records of one tick, and those appended while a
 *   write is in flight, go out in one write (and one fdatasync with `sync`), then their
 *   promises resolve in order.
 * - open cuts a torn tail off the last segment (a record cut short or failing its CRC);
 *   damage earlier is skipped, counted and logged.
 * - rotate starts a new segment and returns its number, the mark: the segments before it
 *   may be dropped once what they hold is kept elsewhere (the RRD checkpoint), or covered
 *   by a snapshot (compact, compactSync); replay is the snapshot, then the segments after.
 * - consumer.ts reads records from a position and drops consumed segments (the spool).
 *
 * A failed write is taken back (the file truncated to its last whole record), so the
 * next one never follows half a record; if even that fails, the next write starts a new
 * segment. Failures throw REMON_ERR_DURABLE_WRITE naming the file and the errno.
 */
export class DurableLog<M = unknown> {
  readonly dir: string;
  readonly name: string;
  readonly segments: Segment[] = [];
  readonly stats: LogStats = { batches: 0, records: 0, bytes: 0, maxBatch: 0, snapshots: 0, failures: 0 };
  opened: OpenReport = { snapshotRecords: 0, records: 0, damaged: 0, damagedBytes: 0, cutBytes: 0, legacy: [] };
  readonly segmentBytes: number;
  /** A directory entry changed since the directory was last fsynced. */
  private dirDirty = false;
  private fd = -1;
  private active?: Segment;
  private nextSeq = 1;
  /** The active segment's end could not be restored after a failed write: start a new one. */
  private broken = false;
  private closed = false;
  private compacting?: Promise<void>;
  /** Where appendSync frames a small record. */
  private scratch = Buffer.allocUnsafe(4096);
  readonly commits: GroupCommit<M>;

  private constructor(readonly options: DurableLogOptions, onCommit?: (metas: M[]) => void) {
    this.dir = path.resolve(options.dir);
    this.name = options.name;
    this.segmentBytes = options.segmentBytes ?? 64 * 2 ** 20;
    this.commits = new GroupCommit<M>(this, !!options.sync, onCommit);
  }

  /** open reads the log in dir (made if missing), handing its records to replay. */
  static open<M = unknown>(options: DurableLogOptions, replay: Replay = {}, onCommit?: (metas: M[]) => void): DurableLog<M> {
    const log = new DurableLog<M>(options, onCommit);
    try {
      fs.mkdirSync(log.dir, { recursive: true });
      const loaded = loadLog(log.dir, log.name, options, replay);
      log.segments.push(...loaded.segments);
      log.nextSeq = loaded.nextSeq;
      log.opened = loaded.opened;
    } catch (err) {
      if (err instanceof RemonError) throw err;
      throw createError('REMON_ERR_DURABLE_READ', `cannot open ${options.what} in ${log.dir}: ${errorMessage(err)}`, err);
    }
    return log;
  }

  private check(): void {
    if (this.closed) throw createError('REMON_ERR_DURABLE_CLOSED', `${this.options.what} is closed`);
  }

  /** writable returns the active segment's descriptor, making a new segment when there is none. */
  writable(): number {
    if (this.active && !this.broken) return this.fd;
    if (this.active) this.rotate();
    const seq = this.nextSeq;
    const file = path.join(this.dir, segmentFile(this.name, seq));
    let fd = -1;
    try {
      fd = fs.openSync(file, 'ax');
      writeAllSync(fd, SEGMENT_MAGIC);
      if (this.options.sync) fsyncDir(this.dir); // its records count as durable only once its name is
      else this.dirDirty = true;
    } catch (err) {
      if (fd >= 0) fs.closeSync(fd);
      try { fs.rmSync(file, { force: true }); } catch { /* nothing was made */ }
      this.stats.failures++;
      throw writeError(file, err);
    }
    this.nextSeq = seq + 1;
    this.fd = fd;
    this.broken = false;
    this.active = { seq, file, bytes: SEGMENT_MAGIC.length, records: 0 };
    this.segments.push(this.active);
    return fd;
  }

  /** activeSegment is the segment being written, if any. */
  get activeSegment(): Segment | undefined {
    return this.active;
  }

  /**
   * nextWriteSeq is the segment the next append goes to (making it when needed): encoders
   * that name things once per segment (the RRD journal's series) start afresh when it changes.
   */
  nextWriteSeq(): number {
    this.check();
    this.writable();
    return this.active!.seq;
  }

  /**
   * appendSync writes one record; it is in the kernel when this returns. It returns the
   * payload's length in bytes. A small record (or text) is framed in a buffer kept for
   * it; a large one is written with its header in one writev, without a copy.
   */
  appendSync(payload: Payload): number {
    this.check();
    const fd = this.writable();
    const seg = this.active!;
    let len: number;
    let total: number;
    try {
      if (typeof payload !== 'string' && payload.length > SMALL_RECORD) {
        const head = frameHeader(payload);
        len = payload.length;
        total = head.length + len;
        const n = fs.writevSync(fd, [head, payload]);
        if (n < total) writeAllSync(fd, Buffer.concat([head, payload]).subarray(n));
      } else {
        const need = HEADER_BYTES + payloadBytes(payload);
        if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(Math.max(need, 2 * this.scratch.length));
        const b = this.scratch;
        len = typeof payload === 'string' ? b.write(payload, HEADER_BYTES, 'utf8') : (b.set(payload, HEADER_BYTES), payload.length);
        frameInto(b, 0, len);
        total = HEADER_BYTES + len;
        const n = fs.writeSync(fd, b, 0, total);
        if (n < total) writeAllSync(fd, b.subarray(n, total));
      }
    } catch (err) {
      this.takeBack(seg);
      throw writeError(seg.file, err);
    }
    this.wrote(seg, 1, total);
    return len;
  }

  /**
   * appendBatchSync writes records in order, filling segments up to segmentBytes (a record
   * that does not fit in a segment that has records goes to a new one). It returns how
   * many were written: all, or those before the failure, with the error.
   */
  appendBatchSync(payloads: readonly Payload[]): { written: number; error?: RemonError } {
    let i = 0;
    while (i < payloads.length) {
      let fd: number;
      try {
        this.check();
        fd = this.writable();
      } catch (err) {
        return { written: i, error: err as RemonError };
      }
      const seg = this.active!;
      const room = this.segmentBytes - seg.bytes;
      let j = i;
      let bytes = 0;
      while (j < payloads.length) {
        const n = HEADER_BYTES + payloadBytes(payloads[j]);
        if (bytes + n > room && (j > i || seg.records > 0)) break;
        bytes += n;
        j++;
      }
      if (j === i) {
        this.rotate(); // it does not fit in a segment that has records: a new one
        continue;
      }
      try {
        writeAllSync(fd, packFrames(payloads.slice(i, j)));
      } catch (err) {
        this.takeBack(seg);
        return { written: i, error: writeError(seg.file, err) };
      }
      this.wrote(seg, j - i, bytes);
      i = j;
    }
    return { written: i };
  }

  /** append is a group commit (commit.ts): it resolves once the records are written (and synced with `sync`). */
  append(payloads: Payload | readonly Payload[], meta?: M): Promise<void> {
    if (this.closed) return Promise.reject(createError('REMON_ERR_DURABLE_CLOSED', `${this.options.what} is closed`));
    return this.commits.append(payloads, meta);
  }

  /** appendThen is append with a callback (commit.ts appendThen): `done` hears the commit or its error. */
  appendThen(payloads: Payload | readonly Payload[], meta: M | undefined, done: Committed): void {
    if (this.closed) return done(createError('REMON_ERR_DURABLE_CLOSED', `${this.options.what} is closed`));
    this.commits.appendThen(payloads, meta, done);
  }

  /** wrote counts a successful write and rotates a full segment (never while async writes are out). */
  wrote(seg: Segment, records: number, bytes: number): void {
    seg.bytes += bytes;
    seg.records += records;
    const s = this.stats;
    s.batches++;
    s.records += records;
    s.bytes += bytes;
    s.maxBatch = Math.max(s.maxBatch, records);
    if (seg === this.active && seg.bytes >= this.segmentBytes && this.commits.quiet) this.rotate();
  }

  /** takeBack truncates the active segment to its last whole record after a failed write. */
  takeBack(seg: Segment): void {
    this.stats.failures++;
    if (seg !== this.active) return;
    try {
      fs.ftruncateSync(this.fd, seg.bytes);
    } catch {
      this.broken = true;
    }
  }

  /** markBroken makes the next write start a new segment (after a failed fdatasync). */
  markBroken(): void {
    if (this.active) this.broken = true;
  }

  /**
   * rotate closes the active segment and returns the mark: the number of the next segment.
   * Every record appended before the call is in a segment before the mark.
   */
  rotate(): number {
    if (this.active) {
      const fd = this.fd;
      this.fd = -1;
      this.active = undefined;
      this.broken = false;
      try { fs.closeSync(fd); } catch { /* closed already (abandon) */ }
    }
    return this.nextSeq;
  }

  /** dropBefore deletes the segments numbered below mark. */
  dropBefore(mark: number): void {
    while (this.segments.length > 0 && this.segments[0].seq < mark) this.dropSegment(this.segments[0].seq);
    if (this.options.sync) this.syncDir();
  }

  /** dropSegment deletes one segment (closing it first when it is the active one). */
  dropSegment(seq: number): void {
    const i = this.segments.findIndex((s) => s.seq === seq);
    if (i < 0) return;
    const seg = this.segments[i];
    if (seg === this.active) this.rotate();
    try {
      fs.rmSync(seg.file, { force: true });
    } catch (err) {
      throw writeError(seg.file, err);
    }
    this.segments.splice(i, 1);
    this.dirDirty = true;
  }

  /** syncDir fsyncs the directory if an entry changed since the last time. */
  syncDir(): void {
    if (!this.dirDirty) return;
    this.dirDirty = false;
    fsyncDir(this.dir);
  }

  /** datasync makes the active segment durable against power loss (and new names, with syncDir). */
  async datasync(): Promise<void> {
    if (this.fd >= 0) {
      const fd = this.fd;
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(writeError(this.active?.file ?? this.dir, err)) : resolve())));
    }
    this.syncDir();
  }

  /** datasyncSync is datasync, blocking. */
  datasyncSync(): void {
    if (this.fd >= 0) fs.fdatasyncSync(this.fd);
    this.syncDir();
  }

  /**
   * compact snapshots the state and drops the segments it covers. Once every write out is
   * committed (no new one starts meanwhile), it rotates and calls take() for the state as
   * of that point; the snapshot is then written atomically while appends go on.
   */
  compact(take: () => readonly Payload[]): Promise<void> {
    this.compacting ??= (async () => {
      let mark: number;
      let records: readonly Payload[];
      const unblock = await this.commits.block();
      try {
        this.check();
        mark = this.rotate();
        records = take();
      } finally {
        unblock();
      }
      const hook = this.options.hook;
      hook?.('rotated');
      await writeSnapshot(this.dir, this.name, mark, records, hook);
      this.dropBefore(mark);
      this.stats.snapshots++;
      hook?.('dropped');
    })().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  /** compactSync is compact for a log written with appendSync: records is the state now. */
  compactSync(records: readonly Payload[]): void {
    this.check();
    const mark = this.rotate();
    const hook = this.options.hook;
    hook?.('rotated');
    writeSnapshotSync(this.dir, this.name, mark, records, hook);
    this.dropBefore(mark);
    this.stats.snapshots++;
    hook?.('dropped');
  }

  /** idle resolves when no group commit is waiting to be written or synced. */
  idle(): Promise<void> {
    return this.commits.idle();
  }

  /** close lets queued appends and a compaction finish, then closes the log. */
  async close(): Promise<void> {
    await this.commits.idle();
    await this.compacting?.catch(() => undefined);
    await this.commits.idle();
    this.closeSync();
  }

  /** closeSync closes the log now (fsync first with `fsync`); later appends are refused. */
  closeSync(fsync = false): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (fsync) this.datasyncSync();
    } finally {
      this.rotate();
    }
  }

  /**
   * abandon stops using the log at once, as a crash would: queued appends are refused and
   * nothing more is written (tests play a node killed and restarted in one process).
   */
  abandon(): void {
    this.closed = true;
    this.commits.abandon(createError('REMON_ERR_DURABLE_CLOSED', `${this.options.what} is closed`));
    this.rotate();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** activeFd is the active segment's descriptor (commit.ts writes to it). */
  get activeFd(): number {
    return this.fd;
  }
}
