import * as fs from 'node:fs';
import * as path from 'node:path';
import { LogConsumer, ReadChunk } from '../../durable/consumer';
import { DurableLog } from '../../durable/log';
import { createError, errorMessage, RemonError } from '../../errors';
import { Logger } from '../../log';

/** SpoolOptions: where the spool lives and how big it may grow. */
export interface SpoolOptions {
  dir: string;
  /** Undelivered bytes kept at most; past it, the oldest segments are dropped. */
  maxBytes: number;
  /** Segment file size (default maxBytes/16, between 1 KiB and 16 MiB). */
  segmentBytes?: number;
  /** Called once per write pass that dropped old lines to stay under maxBytes. */
  onDrop?: (lines: number, bytes: number) => void;
  /** Called when the spool cannot be written or read, with the lines lost (0: kept in memory for a retry). */
  onError?: (err: RemonError, lostLines: number) => void;
  log?: Logger;
}

/** Chunk is a run of spooled lines handed out for delivery; ack or release it. */
export interface Chunk {
  readonly seq: number;
  readonly start: number;
  readonly end: number;
  readonly lines: string[];
}

interface Reading {
  chunk: Chunk;
  at: ReadChunk<string>;
  /** Lines of the chunk whose segments were dropped for space while it was out. */
  orphaned: number;
}

/** Segment files of the spool before the durable log: plain line protocol, and their cursor. */
const LEGACY_SEGMENT = /^seg-(\d{12})\.lp$/;
const LEGACY_CURSOR = 'cursor';

/**
 * Spool is the influx store's bounded on-disk buffer, on the durable log (src/durable)
 * named `spool`: one record per line of line protocol, read back oldest first. Lines are
 * buffered in memory by `append` and written by `sync` (and by `read`, so that the order
 * is kept); the log's consumer records how far delivery got, so a restart resends at most
 * one chunk. Fully delivered segments are deleted. When the undelivered bytes exceed
 * maxBytes, whole segments are dropped, oldest first, and counted. When the disk refuses
 * a write (full, read-only), the lines stay in memory (within maxBytes) for the next pass.
 *
 * Every file operation runs through one queue, so the methods may be called at any time.
 */
export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private log?: DurableLog;
  private consumer?: LogConsumer;
  private tail: string[] = [];
  private tailBytes = 0;
  private reading?: Reading;
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
    void this.serial(async () => this.open()).catch((err) => this.report(err, 0));
  }

  /** undeliveredLines counts lines not yet acknowledged, in memory and on disk. */
  get undeliveredLines(): number {
    return this.tail.length + (this.consumer?.pendingRecords ?? 0);
  }

  /** undeliveredBytes is the same in bytes (on disk: of the segment files; in memory: line lengths). */
  get undeliveredBytes(): number {
    return this.tailBytes + (this.consumer?.pendingBytes ?? 0);
  }

  get empty(): boolean {
    return this.undeliveredLines === 0;
  }

  /** files lists the segment files on disk (for tests and status). */
  get files(): string[] {
    return this.log?.segments.map((s) => s.file) ?? [];
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
      if (durable) await this.log?.datasync();
    });
  }

  /** read returns the oldest undelivered lines (at most maxLines), or undefined when there are none. */
  read(maxLines: number): Promise<Chunk | undefined> {
    return this.serial(async () => {
      await this.writeTail();
      const at = await this.consumer?.readText(Math.max(1, maxLines));
      if (!at) return undefined;
      const chunk: Chunk = { seq: at.seq, start: at.start, end: at.end, lines: at.records };
      this.reading = { chunk, at, orphaned: 0 };
      return chunk;
    });
  }

  /** ack marks a chunk delivered (or rejected for good): its lines leave the spool. */
  ack(chunk: Chunk): Promise<void> {
    return this.serial(async () => {
      const reading = this.reading;
      this.reading = undefined;
      if (reading?.chunk !== chunk || reading.orphaned > 0) return;
      // A cursor the disk refuses costs a resend after a restart, not a failed delivery.
      await this.consumer?.ack(reading.at).catch((err) => this.report(err, 0));
    });
  }

  /** release gives a chunk back after a failed delivery; it is read again next time. */
  release(chunk: Chunk): Promise<void> {
    return this.serial(async () => {
      const reading = this.reading;
      this.reading = undefined;
      if (reading?.chunk === chunk && reading.orphaned > 0) {
        // Its segments were dropped for space while the chunk was out; now they are lost too.
        this.dropped += reading.orphaned;
        this.options.onDrop?.(reading.orphaned, chunk.end - chunk.start);
      }
    });
  }

  /** close writes what is buffered, fsyncs, and closes the segment file. */
  close(): Promise<void> {
    const p = this.serial(async () => {
      await this.writeTail();
      if (!this.log) return;
      await this.log.datasync();
      this.log.closeSync();
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
    const e = err instanceof RemonError && err.code === 'REMON_ERR_STORE_SPOOL' ? err : createError('REMON_ERR_STORE_SPOOL', `spool ${this.dir}: ${errorMessage(err)}`, err);
    this.dropped += lost;
    this.options.onError?.(e, lost);
  }

  private open(): void {
    this.log = DurableLog.open({ dir: this.dir, name: 'spool', what: 'the influx spool', segmentBytes: this.segmentBytes });
    this.consumer = new LogConsumer(this.log);
    this.importLegacy();
    this.restored = this.consumer.pendingRecords;
  }

  /**
   * importLegacy moves lines an earlier remon version left in its spool files (plain line
   * protocol, `seg-N.lp`, and a `cursor`) into the log, and removes those files.
   */
  private importLegacy(): void {
    const files = fs.readdirSync(this.dir).filter((f) => LEGACY_SEGMENT.test(f)).sort();
    if (files.length === 0) return;
    const m = /^(\d+) (\d+)\n$/.exec(fs.existsSync(path.join(this.dir, LEGACY_CURSOR)) ? fs.readFileSync(path.join(this.dir, LEGACY_CURSOR), 'utf8') : '');
    let imported = 0;
    for (const f of files) {
      const seq = Number(LEGACY_SEGMENT.exec(f)![1]);
      const text = fs.readFileSync(path.join(this.dir, f), 'utf8');
      const from = m && seq === Number(m[1]) ? Number(m[2]) : 0;
      const lines = m && seq < Number(m[1]) ? [] : text.slice(0, text.lastIndexOf('\n') + 1).slice(from).split('\n').slice(0, -1);
      const r = this.log!.appendBatchSync(lines);
      if (r.error) throw r.error;
      imported += lines.length;
      fs.rmSync(path.join(this.dir, f));
    }
    fs.rmSync(path.join(this.dir, LEGACY_CURSOR), { force: true });
    this.options.log?.warn({ dir: this.dir, files, lines: imported }, 'influx spool files of an earlier remon version found; their lines were moved into the new spool');
  }

  /** writeTail moves buffered lines to the log; what the disk refuses stays buffered. */
  private async writeTail(): Promise<void> {
    if (this.tail.length === 0) return;
    const lines = this.tail;
    this.tail = [];
    this.tailBytes = 0;
    if (!this.log) {
      this.report(createError('REMON_ERR_STORE_SPOOL', `spool ${this.dir} is not open`), lines.length);
      return;
    }
    const r = this.log.appendBatchSync(lines);
    if (r.error) {
      this.tail = r.written === 0 ? lines : lines.slice(r.written);
      for (const l of this.tail) this.tailBytes += l.length + 1;
      this.report(r.error, 0);
    }
    await this.enforceCap();
  }

  /** enforceCap drops the oldest segments (then the oldest lines in memory) while the undelivered bytes exceed maxBytes. */
  private async enforceCap(): Promise<void> {
    const lost = this.consumer!.dropOldest(Math.max(0, this.maxBytes - this.tailBytes));
    let lines = lost.records;
    let bytes = lost.bytes;
    const reading = this.reading;
    if (reading) {
      // Lines out for delivery are counted when they fail (release), not now.
      let out = 0;
      for (const p of reading.at.parts) if (lost.seqs.includes(p.seq)) out += p.records;
      reading.orphaned += out;
      lines -= out;
    }
    while (this.tailBytes > this.maxBytes && this.tail.length > 0) {
      const l = this.tail.shift()!;
      this.tailBytes -= l.length + 1;
      lines++;
      bytes += l.length + 1;
    }
    if (lines > 0 || bytes > 0) {
      this.dropped += lines;
      this.options.onDrop?.(lines, bytes);
      await this.consumer!.saveCursor().catch((err) => this.report(err, 0));
    }
  }
}

/** spoolFiles lists the segment files in a spool directory (tests, tools). */
export function spoolFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => /^spool\.\d{12}\.log$/.test(n) || LEGACY_SEGMENT.test(n)).sort();
  } catch {
    return [];
  }
}
