import * as fs from 'node:fs';
import { errorMessage } from '../errors';
import { writeError } from './files';
import { frameInto, HEADER_BYTES, Payload } from './frame';
import type { DurableLog, Segment } from './log';

/** Committed hears that its records are durable (no error) or will never be (the error). */
export type Committed = (err?: Error) => void;

interface Waiter<M> {
  meta: M | undefined;
  done: Committed;
}

/** Batch is one write's records, waiting for the fdatasync that covers them. */
interface Batch<M> {
  waiters: Waiter<M>[];
  durable: boolean;
  failed?: Error;
}

/** At most this many fdatasyncs in flight: the next batch is written while the last one syncs. */
const MAX_SYNCS = 4;

/**
 * Batches up to this size are written from the loop itself: a write(2) into the page cache
 * takes tens of µs, while a trip through the thread pool waits for a free core (on a busy
 * machine, milliseconds), and every signal in the batch waits with it. Larger batches
 * (an RRD flush) go through the pool so that the loop is never held for long.
 */
const SYNC_WRITE_BYTES = 64 * 1024;

/** A batch buffer starts at this size, and one grown past KEEP_BYTES is not kept for reuse. */
const FIRST_BYTES = 64 * 1024;
const KEEP_BYTES = 1024 * 1024;

/** writeAsync writes buf[off..end) (or what the kernel takes of it) at the file's end. */
function writeAsync(fd: number, buf: Buffer, off: number, end: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, end - off, null, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * GroupCommit is DurableLog.append: the records appended in one tick, and those appended
 * while a write is in flight, go out in one write(2); with `sync` each write is followed
 * by an fdatasync. Commits are pipelined: writes are one after the other, but the next
 * batch is written while earlier ones sync, and an fdatasync makes every batch written
 * before it durable. Batches commit in order: onCommit gets a batch's metas (the caller
 * applies them), then the batch's promises resolve.
 *
 * A record is framed into the pending batch's buffer when it is appended, so a batch goes
 * out as the bytes already there: no list of payloads, no second pass to pack them. Two
 * buffers take turns, one filling while the other is being written.
 */
export class GroupCommit<M> {
  private queue: Waiter<M>[] = [];
  private scheduled = false;
  /** A write is in progress (writes are never concurrent: they must stay in order). */
  private writing = false;
  private inFlight: Batch<M>[] = [];
  private syncs = 0;
  /** Set while a compaction switches segments: no write starts. */
  private blocked = false;
  private broken = false;
  private idleWaiters: Array<() => void> = [];
  private quietWaiters: Array<() => void> = [];
  /** The pending batch: its framed records in buf[0..bytes). */
  private buf: Buffer = Buffer.allocUnsafe(FIRST_BYTES);
  private bytes = 0;
  private records = 0;
  /** The other buffer, free while no write is out. */
  private spare?: Buffer;

  constructor(
    private readonly log: DurableLog<M>,
    private readonly sync: boolean,
    private readonly onCommit?: (metas: M[]) => void,
  ) {}

  /** quiet: nothing is being written or synced. */
  get quiet(): boolean {
    return !this.writing && this.inFlight.length === 0 && this.syncs === 0;
  }

  append(payloads: Payload | readonly Payload[], meta: M | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => this.appendThen(payloads, meta, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * appendThen is append with a callback instead of a promise: `done` is called once, after
   * onCommit has applied the batch, or with the error that failed it. The heartbeat signals
   * come this way: no promise, no resolvers, no reaction per record.
   */
  appendThen(payloads: Payload | readonly Payload[], meta: M | undefined, done: Committed): void {
    if (typeof payloads === 'string' || payloads instanceof Uint8Array) this.frame(payloads);
    else for (const p of payloads) this.frame(p);
    this.queue.push({ meta, done });
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      // Everything appended in this tick goes in the same batch.
      setImmediate(this.onImmediate);
    }
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.kick();
  };

  /** frame appends one record, framed, to the pending batch. */
  private frame(p: Payload): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room = HEADER_BYTES + (typeof p === 'string' ? 3 * p.length : p.length);
    if (this.bytes + room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.bytes + room));
      this.buf.copy(bigger, 0, 0, this.bytes);
      this.buf = bigger;
    }
    const at = this.bytes;
    const len = typeof p === 'string' ? this.buf.write(p, at + HEADER_BYTES, 'utf8') : (this.buf.set(p, at + HEADER_BYTES), p.length);
    frameInto(this.buf, at, len);
    this.bytes = at + HEADER_BYTES + len;
    this.records++;
  }

  /** takeBatch hands out the pending batch's bytes and starts the next batch in the other buffer. */
  private takeBatch(): { buf: Buffer; bytes: number; records: number } {
    const batch = { buf: this.buf, bytes: this.bytes, records: this.records };
    this.buf = this.spare ?? Buffer.allocUnsafe(FIRST_BYTES);
    this.spare = undefined;
    this.bytes = 0;
    this.records = 0;
    return batch;
  }

  /** release takes a written batch's buffer back for the batch after next. */
  private release(buf: Buffer): void {
    if (buf.length <= KEEP_BYTES) this.spare = buf;
  }

  /** idle resolves when nothing is waiting to be written, synced or committed. */
  idle(): Promise<void> {
    if (this.quiet && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** block waits until every write out is committed and starts none until unblocked. */
  async block(): Promise<() => void> {
    this.blocked = true;
    if (!this.quiet) await new Promise<void>((resolve) => this.quietWaiters.push(resolve));
    return () => {
      this.blocked = false;
      this.kick();
    };
  }

  /** abandon refuses everything queued. */
  abandon(err: Error): void {
    this.bytes = 0;
    this.records = 0;
    for (const w of this.queue.splice(0)) this.tell(w, err);
  }

  /** kick starts the next write when it may, and wakes whoever waits for quiet. */
  private kick(): void {
    if (!this.writing && !this.blocked && this.queue.length > 0 && this.syncs < MAX_SYNCS && !(this.broken && this.syncs > 0)) {
      const active = this.log.activeSegment;
      // A full segment is closed only when no fdatasync is out on it.
      if (this.syncs === 0 && active && active.bytes >= this.log.segmentBytes) this.log.rotate();
      if (this.broken && this.syncs === 0) {
        this.broken = false;
        this.log.markBroken();
      }
      this.writeNext().catch((err: unknown) => this.log.options.log?.error({ log: this.log.options.what, err: errorMessage(err) }, 'group commit failed'));
    }
    if (!this.quiet) return;
    this.quietWaiters.splice(0).forEach((w) => w());
    if (this.queue.length === 0 && !this.scheduled) this.idleWaiters.splice(0).forEach((w) => w());
  }

  private async writeNext(): Promise<void> {
    const waiters = this.queue;
    this.queue = [];
    this.writing = true;
    const { buf, bytes, records } = this.takeBatch();
    let seg: Segment;
    let fd: number;
    try {
      fd = this.log.writable();
      seg = this.log.activeSegment!;
    } catch (err) {
      this.release(buf);
      return this.failed(waiters, err as Error);
    }
    try {
      let off = 0;
      if (bytes <= SYNC_WRITE_BYTES) while (off < bytes) off += fs.writeSync(fd, buf, off, bytes - off);
      else while (off < bytes) off += await writeAsync(fd, buf, off, bytes);
    } catch (err) {
      // Take back a partial write, so the next batch does not follow half a record.
      this.log.takeBack(seg);
      return this.failed(waiters, writeError(seg.file, err));
    } finally {
      this.release(buf);
    }
    this.log.wrote(seg, records, bytes);
    const batch: Batch<M> = { waiters, durable: !this.sync };
    this.inFlight.push(batch);
    if (this.sync) {
      this.syncs++;
      fs.fdatasync(fd, (err) => {
        if (err) {
          // The kernel may have dropped the pages it could not write: what follows goes
          // to a new segment, and every batch this sync should have covered fails.
          this.broken = true;
          const e = this.error(writeError(seg.file, err));
          for (const b of this.inFlight) {
            if (!b.durable) b.failed = e;
            if (b === batch) break;
          }
        } else {
          // Everything written before this fdatasync began is durable now.
          for (const b of this.inFlight) {
            b.durable = true;
            if (b === batch) break;
          }
        }
        this.syncs--;
        this.drain();
        this.kick();
      });
    }
    this.writing = false;
    this.drain();
    this.kick();
  }

  /** tell calls a waiter's callback; one that throws is logged, and the others still hear. */
  private tell(w: Waiter<M>, err?: Error): void {
    try {
      w.done(err);
    } catch (e) {
      this.log.options.log?.error({ log: this.log.options.what, err: errorMessage(e) }, 'a commit callback threw');
    }
  }

  private failed(waiters: Waiter<M>[], err: Error): void {
    this.writing = false;
    const e = this.error(err);
    for (const w of waiters) this.tell(w, e);
    this.kick();
  }

  private error(err: Error): Error {
    return this.log.options.commitError?.(err) ?? err;
  }

  /** drain commits written (and synced) batches in order: onCommit, then their promises. */
  private drain(): void {
    while (this.inFlight.length > 0 && (this.inFlight[0].durable || this.inFlight[0].failed)) {
      const b = this.inFlight.shift()!;
      if (b.failed) {
        for (const w of b.waiters) this.tell(w, b.failed);
        continue;
      }
      if (this.onCommit) {
        const metas: M[] = [];
        for (const w of b.waiters) if (w.meta !== undefined) metas.push(w.meta);
        try {
          this.onCommit(metas);
        } catch (err) {
          this.log.options.log?.error({ log: this.log.options.what, err: errorMessage(err) }, 'committed records could not be applied');
        }
      }
      for (const w of b.waiters) this.tell(w);
    }
  }
}
