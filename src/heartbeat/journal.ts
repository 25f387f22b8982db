import * as fs from 'node:fs';
import type { Committed } from '../durable/commit';
import { DurableLog } from '../durable/log';
import { createError, errorMessage, RemonError } from '../errors';
import { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';
import { HbRecord } from './types';

/** JournalOptions: where, and what to do with each committed record. */
export interface JournalOptions {
  dir: string;
  /** apply is called for each committed record, in journal order, before its append resolves. */
  apply(rec: HbRecord): void;
  /** state serializes everything applied so far, for a snapshot (see compact). */
  state(): unknown;
  /** Start a snapshot when the segments hold more than this (default 64 MiB). */
  compactBytes?: number;
  log?: Logger;
}

/** Stored is what open() read back: the last snapshot's state and the records after it. */
export interface Stored {
  state?: unknown;
  records: HbRecord[];
  /** Records that could not be read (a write torn by a crash, damage), skipped. */
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

/** Files of the journal before the durable log: JSON lines and a JSON snapshot. */
const LEGACY = /^(journal-\d{8}\.log|snapshot\.json)$/;

/**
 * Journal is the heartbeats' journal in node.data, on the durable log (src/durable): a
 * record per signal or finding, as JSON, with group commit. The records appended in one
 * tick (and while a write is in flight) are written together and made durable with one
 * fdatasync, then applied in order, then their appends resolve, so a signal answered 200
 * survives kill -9. `compact` writes a snapshot of the applied state atomically and only
 * then deletes the segments it covers.
 */
export class Journal {
  private log?: DurableLog<HbRecord>;
  private claim?: DirClaim;
  private compacting?: Promise<void>;
  private readonly compactBytes: number;
  private readonly emptyStats: JournalStats = { batches: 0, records: 0, bytes: 0, maxBatch: 0, snapshots: 0 };

  constructor(private readonly o: JournalOptions) {
    this.compactBytes = o.compactBytes ?? 64 * 2 ** 20;
  }

  /** stats are the log's totals since open. */
  get stats(): JournalStats {
    return this.log?.stats ?? this.emptyStats;
  }

  /** open reads the snapshot and the records after it. */
  async open(): Promise<Stored> {
    const dir = this.o.dir;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (err) {
      throw createError('REMON_ERR_HEARTBEAT_JOURNAL', `cannot use ${dir} for the heartbeat journal: ${errorMessage(err)}`, err);
    }
    this.claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the heartbeat journal');
    const stored: Stored = { records: [], skipped: 0 };
    const parse = (rec: Buffer): unknown => {
      try {
        return JSON.parse(rec.toString('utf8'));
      } catch {
        stored.skipped++;
        return undefined;
      }
    };
    try {
      this.log = DurableLog.open<HbRecord>(
        {
          dir,
          name: 'journal',
          what: 'the heartbeat journal',
          sync: true,
          log: this.o.log,
          legacy: (f) => LEGACY.test(f),
          commitError: (err) => {
            this.o.log?.error({ err: errorMessage(err) }, 'heartbeat journal write failed');
            return createError('REMON_ERR_HEARTBEAT_JOURNAL', `heartbeat journal write failed: ${errorMessage(err)}`, err);
          },
        },
        {
          snapshot: (rec) => {
            stored.state = (parse(rec) as { state?: unknown } | undefined)?.state;
          },
          record: (rec) => {
            const r = parse(rec);
            if (r !== undefined) stored.records.push(r as HbRecord);
          },
        },
        (recs) => this.applied(recs),
      );
    } catch (err) {
      this.claim.release();
      throw createError('REMON_ERR_HEARTBEAT_JOURNAL', (err as RemonError).message, err);
    }
    stored.skipped += this.log.opened.damaged;
    if (stored.skipped) this.o.log?.warn({ dir, skipped: stored.skipped }, 'heartbeat journal: skipped unreadable records (a write cut short by a crash)');
    return stored;
  }

  private applied(recs: HbRecord[]): void {
    for (const rec of recs) {
      try {
        this.o.apply(rec);
      } catch (err) {
        this.o.log?.error({ err: errorMessage(err), record: rec.k, name: rec.n }, 'heartbeat record could not be applied');
      }
    }
    if (!this.compacting && this.log && !this.log.isClosed) {
      let bytes = 0;
      for (const s of this.log.segments) bytes += s.bytes;
      if (bytes > this.compactBytes) void this.compact();
    }
  }

  /**
   * append journals a record; it resolves once the record is durable and applied. `text`
   * is the record as JSON when the caller has it already (the hub writes a signal's).
   */
  append(rec: HbRecord, text?: string): Promise<void> {
    if (!this.log || this.log.isClosed) return Promise.reject(createError('REMON_ERR_HEARTBEAT_JOURNAL', 'the heartbeat journal is closed'));
    return this.log.append(text ?? JSON.stringify(rec), rec);
  }

  /** appendThen is append with a callback (the signals' hot path): `done` hears the commit or its error. */
  appendThen(rec: HbRecord, text: string | undefined, done: Committed): void {
    if (!this.log || this.log.isClosed) return done(createError('REMON_ERR_HEARTBEAT_JOURNAL', 'the heartbeat journal is closed'));
    this.log.appendThen(text ?? JSON.stringify(rec), rec, done);
  }

  /** idle resolves when nothing is waiting to be written, synced or applied. */
  idle(): Promise<void> {
    return this.log?.idle() ?? Promise.resolve();
  }

  /**
   * compact snapshots the applied state and drops the segments it covers. The state is
   * taken between batches, when everything written has been applied; new records go to
   * a new segment meanwhile. A failure is logged; the journal keeps everything.
   */
  compact(): Promise<void> {
    const log = this.log;
    if (!log) return Promise.resolve();
    this.compacting ??= log
      .compact(() => [JSON.stringify({ version: 2, savedAt: new Date().toISOString(), state: this.o.state() })])
      .catch((err) => {
        if (!log.isClosed) this.o.log?.error({ err: errorMessage(err) }, 'heartbeat snapshot failed; the journal keeps everything');
      })
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
    this.log?.abandon();
    this.claim?.release();
  }

  /** close writes what is queued and closes the segment. */
  async close(): Promise<void> {
    await this.log?.idle();
    if (this.compacting) await this.compacting;
    await this.log?.close();
    this.claim?.release();
  }
}
