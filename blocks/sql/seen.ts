import * as fs from 'node:fs';
import { DurableLog } from '../../src/durable/log';
import { createError, errorMessage } from '../../src/errors';
import { Logger } from '../../src/log';
import { claimDir, DirClaim } from '../../src/util/dirlock';
import { BATCH_KEYS, decodeBatch, encodeBatch } from './batch';

/** SeenOptions: where the keys live, how long they are kept, the bucket of `<block>.new`. */
export interface SeenOptions {
  dir: string;
  keepMs: number;
  bucketMs: number;
  log?: Logger;
  /** Compact when the segments hold more than this and twice the state [8 MiB]. */
  compactBytes?: number;
}

/** Recorded is what one record() call did. */
export interface Recorded {
  /** Keys seen for the first time. */
  added: number;
  /** Rows whose timestamp is older than keep: neither recorded nor counted. */
  old: number;
  /** Rows without a usable key or timestamp. */
  bad: number;
}

/** Row is one (key, timestamp ms) pair from a key query. */
export type Row = readonly [string, number];

/** Recorder records the rows of one run as they arrive (SeenKeys.begin). */
export class Recorder {
  private keys: string[] = [];
  private ts = new Float64Array(1024);
  private readonly out: Recorded = { added: 0, old: 0, bad: 0 };
  private done = false;

  constructor(private readonly seen: SeenKeys, private readonly map: Map<string, number>, private readonly oldest: number) {}

  /** add looks a row's key up: a new one is kept (the first of two in one run sticks too). */
  add(key: string, t: number): void {
    if (this.done) return; // a row arriving after the run failed is not taken
    if (t !== t || t === Infinity || t === -Infinity) { this.out.bad++; return; }
    if (this.map.has(key)) return;
    if (t < this.oldest) { this.out.old++; return; }
    this.map.set(key, t);
    const n = this.keys.length;
    if (n === this.ts.length) {
      const grown = new Float64Array(2 * n);
      grown.set(this.ts);
      this.ts = grown;
    }
    this.ts[n] = t;
    this.keys.push(key);
  }

  /** commit writes the new keys (one write per BATCH_KEYS) and counts them in their buckets. */
  commit(): Recorded {
    if (this.done) throw createError('REMON_ERR_SQL_KEYS', 'the run was recorded already');
    this.done = true;
    const n = this.keys.length;
    if (n === 0) return this.out;
    const floor = this.seen.floor;
    try {
      this.seen.writeBatches(floor, this.keys, this.ts.subarray(0, n));
    } catch (err) {
      this.takeBack();
      throw createError('REMON_ERR_SQL_KEYS', `cannot record seen keys: ${errorMessage(err)}`, err);
    }
    this.seen.committed(floor, this.ts, n);
    this.out.added = n;
    return this.out;
  }

  /** abort takes the keys of the run back: they were not recorded, so they are new next run. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.takeBack();
  }

  private takeBack(): void {
    for (const k of this.keys) this.map.delete(k);
  }
}

/** At most this many buckets are handed out at once (an outage longer than that leaves a gap). */
export const MAX_DUE = 8640;

/**
 * SeenKeys is the sql block's record of the keys it has seen, each with the timestamp it
 * had the first time (later ones never replace it), on the durable log in
 * `<node.data>/blocks/<name>/`. Records, one write(2) each (in the kernel, so kill -9 loses
 * nothing recorded):
 *
 * - a batch of new keys with their timestamps (batch.ts). A key counts in the bucket of its
 *   timestamp, or in the first bucket after the batch's `floor` (the buckets handed out
 *   by then) when its own was handed out already: a late key is counted late, never lost.
 * - `E <mark>`: the buckets ending at or before mark were handed out (due()).
 * - a snapshot (compaction): `S <mark>` with the pending counts, then the keys in batches.
 *
 * Memory is bounded by `keep`: keys whose timestamp is older than now - keep are dropped
 * (prune) and rows that old are ignored, so the map holds the keys of one keep window.
 */
export class SeenKeys {
  private readonly keys = new Map<string, number>();
  /** Keys per bucket end, not handed out yet. */
  private readonly pending = new Map<number, number>();
  /** Buckets ending at or before this were handed out (0: none yet). */
  private mark = 0;
  private log?: DurableLog;
  private claim?: DirClaim;
  private bytesPerKey = 32;
  private lastPrune = 0;
  private newestTs = NaN;
  private readonly compactBytes: number;
  /** damaged counts records that could not be read at open (a torn tail is cut silently by the log). */
  damaged = 0;

  constructor(private readonly o: SeenOptions) {
    this.compactBytes = o.compactBytes ?? 8 * 2 ** 20;
  }

  /** size is the number of keys kept. */
  get size(): number {
    return this.keys.size;
  }

  /** newest is the newest first-seen timestamp kept (NaN when none): the query's `:since`. */
  newest(): number {
    return this.newestTs;
  }

  /** has tells whether a key was seen (and is still kept). */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  /** open reads the keys kept in dir. */
  open(): void {
    const dir = this.o.dir;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw createError('REMON_ERR_SQL_KEYS', `cannot use ${dir} for the seen keys: ${errorMessage(err)}`, err);
    }
    this.claim = claimDir(dir, 'REMON_ERR_DATA_IN_USE', 'the seen keys of an sql block');
    try {
      this.log = DurableLog.open(
        { dir, name: 'keys', what: 'the seen keys', log: this.o.log },
        { snapshot: (rec) => this.replay(rec), record: (rec) => this.replay(rec) },
      );
    } catch (err) {
      this.claim.release();
      throw createError('REMON_ERR_SQL_KEYS', errorMessage(err), err);
    }
    this.damaged += this.log.opened.damaged;
  }

  private replay(rec: Buffer): void {
    if (rec[0] === 66 /* B */) {
      const batch = decodeBatch(rec);
      if (!batch) { this.damaged++; return; }
      const { keys, ts, floor } = batch;
      for (let i = 0; i < keys.length; i++) {
        if (this.keys.has(keys[i])) continue;
        const t = ts[i];
        this.keys.set(keys[i], t);
        if (!(t <= this.newestTs)) this.newestTs = t;
        if (floor !== undefined) this.count(t, floor);
      }
      this.flushCount();
      return;
    }
    const [kind, a, b] = rec.toString('utf8').split(' ');
    if (kind === 'E') {
      this.handedOut(Number(a));
    } else if (kind === 'S') {
      this.mark = Number(a);
      this.pending.clear();
      for (const pair of b ? b.split(',') : []) {
        const [end, n] = pair.split(':').map(Number);
        this.pending.set(end, n);
      }
    } else {
      this.damaged++;
    }
  }

  /** The bucket count() adds to, until flushCount() (keys come mostly in time order). */
  private runEnd = NaN;
  private runN = 0;

  /** count adds a key of timestamp ts to its bucket, or to the first one after floor. */
  private count(ts: number, floor: number): void {
    const B = this.o.bucketMs;
    let end = Math.floor(ts / B) * B + B;
    if (end <= floor) end = floor + B;
    if (end === this.runEnd) { this.runN++; return; }
    this.flushCount();
    this.runEnd = end;
    this.runN = 1;
  }

  private flushCount(): void {
    if (this.runN > 0) this.pending.set(this.runEnd, (this.pending.get(this.runEnd) ?? 0) + this.runN);
    this.runEnd = NaN;
    this.runN = 0;
  }

  private handedOut(mark: number): void {
    if (!(mark > this.mark)) return;
    this.mark = mark;
    for (const end of this.pending.keys()) if (end <= mark) this.pending.delete(end);
  }

  /**
   * record records the keys not seen before (the first timestamp of a key sticks) in one
   * write; it returns how many were new. Rows older than keep are ignored.
   */
  record(rows: readonly Row[], now: number): Recorded {
    const r = this.begin(now);
    for (const [k, t] of rows) r.add(k, t);
    return r.commit();
  }

  /**
   * begin starts recording the rows of one run as they arrive (add), so that the keys are
   * looked up while the database is still sending; commit writes the new ones in one write
   * (or throws, taking them back), abort takes them back. One at a time.
   */
  begin(now: number): Recorder {
    return new Recorder(this, this.keys, now - this.o.keepMs);
  }

  /** committed is Recorder.commit's second half: the new keys' buckets and the newest timestamp. */
  committed(floor: number, ts: Float64Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const t = ts[i];
      this.count(t, floor);
      if (!(t <= this.newestTs)) this.newestTs = t;
    }
    this.flushCount();
    this.maybeCompact();
  }

  /** floor is the buckets handed out so far (a batch records it). */
  get floor(): number {
    return this.mark;
  }

  /** writeBatches appends the new keys of a run, BATCH_KEYS a record. */
  writeBatches(floor: number, keys: string[], ts: Float64Array): void {
    const log = this.mustLog();
    const n = keys.length;
    for (let i = 0; i < n; i += BATCH_KEYS) {
      const j = Math.min(n, i + BATCH_KEYS);
      log.appendSync(encodeBatch(floor, i === 0 && j === n ? keys : keys.slice(i, j), ts.subarray(i, j)));
    }
  }

  /**
   * due hands out the buckets ending in (last mark, upTo], oldest first, each with its
   * number of new keys (0 for none): recorded first, so a bucket is handed out at most
   * once, even across a kill -9. The first call, and one after an outage longer than
   * MAX_DUE buckets, start MAX_DUE buckets back (keys older than that are not counted).
   */
  due(upTo: number): Array<[number, number]> {
    const B = this.o.bucketMs;
    const end = Math.floor(upTo / B) * B;
    if (end <= this.mark) return [];
    // The first call (mark 0) and one after a long outage start MAX_DUE buckets back at most.
    const first = this.mark === 0 || (end - this.mark) / B > MAX_DUE ? end - (MAX_DUE - 1) * B : this.mark + B;
    this.mustLog().appendSync(`E ${end}`);
    const out: Array<[number, number]> = [];
    for (let t = first; t <= end; t += B) out.push([t, this.pending.get(t) ?? 0]);
    this.handedOut(end);
    return out;
  }

  /** prune drops keys older than keep (at most once per hundredth of keep). */
  prune(now: number): number {
    if (now - this.lastPrune < this.o.keepMs / 100) return 0;
    this.lastPrune = now;
    const oldest = now - this.o.keepMs;
    let n = 0;
    // forEach: no [key, ts] pair made per key (a for-of over the Map makes one).
    this.keys.forEach((ts, k) => {
      if (ts < oldest) { this.keys.delete(k); n++; }
    });
    return n;
  }

  private mustLog(): DurableLog {
    if (!this.log || this.log.isClosed) throw createError('REMON_ERR_SQL_KEYS', 'the seen keys are closed');
    return this.log;
  }

  /** maybeCompact writes a snapshot when the segments hold much more than the state. */
  private maybeCompact(): void {
    const log = this.log!;
    let bytes = 0;
    let records = 0;
    for (const s of log.segments) { bytes += s.bytes; records += s.records; }
    if (records > 0) this.bytesPerKey = Math.max(8, bytes / Math.max(1, this.keys.size));
    if (bytes < this.compactBytes || bytes < 2 * this.keys.size * this.bytesPerKey) return;
    this.compact();
  }

  /** compact writes the state as a snapshot and drops the segments it covers. */
  compact(): void {
    const pend = [...this.pending].map(([e, n]) => `${e}:${n}`).join(',');
    const payloads: Buffer[] = [Buffer.from(`S ${this.mark} ${pend}`)];
    let keys: string[] = [];
    let ts = new Float64Array(Math.min(BATCH_KEYS, this.keys.size));
    for (const [k, t] of this.keys) {
      ts[keys.length] = t;
      keys.push(k);
      if (keys.length === BATCH_KEYS) {
        payloads.push(encodeBatch(undefined, keys, ts));
        keys = [];
        ts = new Float64Array(BATCH_KEYS);
      }
    }
    if (keys.length > 0) payloads.push(encodeBatch(undefined, keys, ts));
    try {
      this.mustLog().compactSync(payloads);
    } catch (err) {
      this.o.log?.error({ err: errorMessage(err) }, 'seen keys snapshot failed; the log keeps everything');
    }
  }

  /** abandon stops at once, as a crash would (tests). */
  abandon(): void {
    this.log?.abandon();
    this.claim?.release();
    this.log = undefined;
  }

  /** close closes the log. */
  close(): void {
    try {
      this.log?.closeSync();
    } finally {
      this.claim?.release();
      this.log = undefined;
    }
  }
}
