import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';
import { HbRecord } from './types';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);

/** JournalOptions: where, and what to do with each committed record. */
export interface JournalOptions {
  dir: string;
  /** apply is called for each committed record, in journal order, before its append resolves. */
  apply(rec: HbRecord): void;
  /** state serializes everything applied so far, for a snapshot (see compact). */
  state(): unknown;
  /** Start a snapshot when the current segment is bigger than this (default 64 MiB). */
  compactBytes?: number;
  log?: Logger;
}

/** Stored is what open() read back: the last snapshot's state and the records after it. */
export interface Stored {
  state?: unknown;
  records: HbRecord[];
  /** Lines that could not be read (a write torn by a crash), skipped. */
  skipped: number;
}

/** JournalStats: how the group commit is doing. */
export interface JournalStats {
  batches: number;
  records: number;
  bytes: number;
  maxBatch: number;
  snapshots: number;
}

interface Waiter {
  rec: HbRecord;
  resolve(): void;
  reject(err: Error): void;
}

/** Batch is written records waiting for an fdatasync that covers them. */
interface Batch {
  waiters: Waiter[];
  durable: boolean;
  failed?: Error;
}

/** At most this many fdatasyncs in flight: the next batch is written while the last syncs. */
const MAX_SYNCS = 4;

const SEGMENT = /^journal-(\d{8})\.log$/;
const segmentName = (seq: number): string => `journal-${String(seq).padStart(8, '0')}.log`;

/**
 * Journal is the heartbeats' append-only log in node.data, with group commit: the records
 * appended in one tick (and while a write is in flight) are written together and made
 * durable with one fdatasync, then applied in order, then their appends resolve, so a
 * signal answered 200 survives kill -9. Commits are pipelined: writes are one after the
 * other, but the next batch is written while the previous one's fdatasync runs, and an
 * fdatasync makes every batch written before it durable. `compact` writes a snapshot of the applied state
 * atomically (temp file, fsync, rename, fsync of the directory) and only then deletes the
 * segments it covers; each start writes to a fresh segment, so a torn last line of the
 * previous one is only ever at its end, where replay skips it.
 */
export class Journal {
  private fd = -1;
  private seq = 0;
  private segmentBytes = 0;
  private queue: Waiter[] = [];
  private scheduled = false;
  /** A write() is in progress (writes are never concurrent: they must stay in order). */
  private writing = false;
  /** Written batches waiting for their fdatasync, in journal order. */
  private inFlight: Batch[] = [];
  private syncs = 0;
  /** Set while a snapshot switches segments: no write starts. */
  private blocked = false;
  private idleWaiters: Array<() => void> = [];
  private quietWaiters: Array<() => void> = [];
  private compacting?: Promise<void>;
  private closed = false;
  private claim?: DirClaim;
  private readonly compactBytes: number;
  readonly stats: JournalStats = { batches: 0, records: 0, bytes: 0, maxBatch: 0, snapshots: 0 };

  constructor(private readonly o: JournalOptions) {
    this.compactBytes = o.compactBytes ?? 64 * 2 ** 20;
  }

  /** open reads the snapshot and the segments after it, and starts a new segment. */
  async open(): Promise<Stored> {
    const dir = this.o.dir;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (err) {
      throw createError('REMON_ERR_HEARTBEAT_JOURNAL', `cannot use ${dir} for the heartbeat journal: ${errorMessage(err)}`, err);
    }
    this.claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the heartbeat journal');
    try {
      return this.load(dir);
    } catch (err) {
      this.claim.release();
      throw err;
    }
  }

  private load(dir: string): Stored {
    let state: unknown;
    let covered = 0;
    const snapFile = path.join(dir, 'snapshot.json');
    if (fs.existsSync(snapFile)) {
      try {
        const snap = JSON.parse(fs.readFileSync(snapFile, 'utf8')) as { version: number; seq: number; state: unknown };
        state = snap.state;
        covered = snap.seq;
      } catch (err) {
        throw createError('REMON_ERR_HEARTBEAT_JOURNAL',
          `cannot read ${snapFile}: ${errorMessage(err)}; move it away to start without the saved heartbeat state`, err);
      }
    }
    const records: HbRecord[] = [];
    let skipped = 0;
    let last = covered;
    for (const seq of this.segments()) {
      last = Math.max(last, seq);
      if (seq <= covered) continue;
      const lines = fs.readFileSync(path.join(dir, segmentName(seq)), 'utf8').split('\n');
      for (const line of lines) {
        if (line === '') continue;
        try {
          records.push(JSON.parse(line) as HbRecord);
        } catch {
          skipped++;
        }
      }
    }
    if (skipped) this.o.log?.warn({ dir, skipped }, 'heartbeat journal: skipped unreadable lines (a write cut short by a crash)');
    this.openSegment(last + 1);
    return { state, records, skipped };
  }

  /** append journals a record; it resolves once the record is durable and applied. */
  append(rec: HbRecord): Promise<void> {
    if (this.closed) return Promise.reject(createError('REMON_ERR_HEARTBEAT_JOURNAL', 'the heartbeat journal is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rec, resolve, reject });
      if (!this.scheduled && !this.writing) {
        this.scheduled = true;
        // Everything appended in this tick goes in the same batch.
        setImmediate(() => this.flush());
      }
    });
  }

  private get quiet(): boolean {
    return !this.writing && this.inFlight.length === 0 && this.syncs === 0;
  }

  /** idle resolves when nothing is waiting to be written, synced or applied. */
  idle(): Promise<void> {
    if (this.quiet && !this.scheduled && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    this.kick();
  }

  /** kick starts the next write when it may, and wakes whoever waits for quiet. */
  private kick(): void {
    if (!this.writing && !this.blocked && this.queue.length > 0 && this.syncs < MAX_SYNCS) void this.writeNext();
    if (!this.quiet) return;
    this.quietWaiters.splice(0).forEach((w) => w());
    if (this.queue.length === 0 && !this.scheduled) this.idleWaiters.splice(0).forEach((w) => w());
    if (this.segmentBytes > this.compactBytes && !this.compacting && !this.closed) void this.compact();
  }

  private async writeNext(): Promise<void> {
    const waiters = this.queue;
    this.queue = [];
    this.writing = true;
    let text = '';
    for (const w of waiters) text += `${JSON.stringify(w.rec)}\n`;
    const buf = Buffer.from(text);
    const fd = this.fd;
    try {
      let off = 0;
      while (off < buf.length) off += (await write(fd, buf, off, buf.length - off, null)).bytesWritten;
    } catch (err) {
      // Take back a partial write, so the next batch does not follow half a line (no
      // later write has started: writes are one at a time).
      try { fs.ftruncateSync(fd, this.segmentBytes); } catch { /* the disk is in trouble already */ }
      this.writing = false;
      this.fail(waiters, err);
      this.kick();
      return;
    }
    this.writing = false;
    this.segmentBytes += buf.length;
    const s = this.stats;
    s.batches++;
    s.records += waiters.length;
    s.bytes += buf.length;
    s.maxBatch = Math.max(s.maxBatch, waiters.length);
    const batch: Batch = { waiters, durable: false };
    this.inFlight.push(batch);
    this.syncs++;
    fdatasync(fd).then(
      () => {
        // Everything written before this fdatasync began is durable now.
        for (const b of this.inFlight) {
          b.durable = true;
          if (b === batch) break;
        }
      },
      (err) => {
        const e = this.error(err);
        for (const b of this.inFlight) {
          if (!b.durable) b.failed = e;
          if (b === batch) break;
        }
      },
    ).finally(() => {
      this.syncs--;
      this.drain();
      this.kick();
    });
    this.kick();
  }

  /** drain applies durable batches in journal order and resolves their appends. */
  private drain(): void {
    while (this.inFlight.length > 0 && (this.inFlight[0].durable || this.inFlight[0].failed)) {
      const b = this.inFlight.shift()!;
      if (b.failed) {
        for (const w of b.waiters) w.reject(b.failed);
        continue;
      }
      for (const w of b.waiters) {
        try {
          this.o.apply(w.rec);
        } catch (err) {
          this.o.log?.error({ err: errorMessage(err), record: w.rec.k, name: w.rec.n }, 'heartbeat record could not be applied');
        }
      }
      for (const w of b.waiters) w.resolve();
    }
  }

  private error(err: unknown): Error {
    const e = createError('REMON_ERR_HEARTBEAT_JOURNAL', `heartbeat journal write failed: ${errorMessage(err)}`, err);
    this.o.log?.error({ err: e.message }, 'heartbeat journal write failed');
    return e;
  }

  private fail(waiters: Waiter[], err: unknown): void {
    const e = this.error(err);
    for (const w of waiters) w.reject(e);
  }

  /**
   * compact snapshots the applied state and drops the segments it covers. The state is
   * taken between batches, when everything written has been applied; new records go to
   * a new segment meanwhile.
   */
  async compact(): Promise<void> {
    if (this.compacting) return this.compacting;
    this.compacting = (async () => {
      // Let what was written be synced and applied, start nothing new, then switch.
      this.blocked = true;
      let text: string;
      let covered: number;
      try {
        if (!this.quiet) await new Promise<void>((resolve) => this.quietWaiters.push(resolve));
        if (this.closed) return;
        covered = this.seq;
        text = JSON.stringify({ version: 1, seq: covered, savedAt: new Date().toISOString(), state: this.o.state() });
        this.openSegment(covered + 1);
      } finally {
        this.blocked = false;
        this.kick();
      }
      const dir = this.o.dir;
      const tmp = path.join(dir, 'snapshot.json.tmp');
      const fh = await fs.promises.open(tmp, 'w');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, path.join(dir, 'snapshot.json'));
      await syncDir(dir);
      for (const seq of this.segments()) if (seq <= covered) await fs.promises.rm(path.join(dir, segmentName(seq)), { force: true });
      this.stats.snapshots++;
    })()
      .catch((err) => this.o.log?.error({ err: errorMessage(err) }, 'heartbeat snapshot failed; the journal keeps everything'))
      .finally(() => {
        this.compacting = undefined;
      });
    return this.compacting;
  }

  /**
   * abandon stops using the journal at once, as a crash would: nothing queued is written,
   * later appends are refused, and the directory is free for another open (tests use it to
   * play a node killed and restarted within one process).
   */
  abandon(): void {
    this.closed = true;
    for (const w of this.queue.splice(0)) w.reject(createError('REMON_ERR_HEARTBEAT_JOURNAL', 'the heartbeat journal is closed'));
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.claim?.release();
  }

  /** close writes what is queued and closes the segment. */
  async close(): Promise<void> {
    await this.idle();
    if (this.compacting) await this.compacting;
    await this.idle();
    this.closed = true;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.claim?.release();
  }

  private segments(): number[] {
    return fs.readdirSync(this.o.dir).flatMap((f) => {
      const m = SEGMENT.exec(f);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);
  }

  private openSegment(seq: number): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.seq = seq;
    this.fd = fs.openSync(path.join(this.o.dir, segmentName(seq)), 'a');
    this.segmentBytes = 0;
    // The new file's name must be durable before records in it count as durable.
    const d = fs.openSync(this.o.dir, 'r');
    try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, 'r');
  try {
    await fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
