/**
 * Journal keeps the memory backend's persistent buckets under `<node.data>/shared/`, on
 * the durable log (src/durable) named `state`:
 *
 *   state.snapshot          every key of the persistent buckets, one record each
 *   state.<seq>.log         every change since, one record each: a JSON array
 *                           ["s",bucket,key,value] or ["d",bucket,key]
 *   LOCK                    the pid of the process that has the directory open
 *
 * A change is written (one write(2), before the in-memory change and before the caller's
 * promise resolves), so a process killed with SIGKILL loses nothing it had acknowledged:
 * the bytes are in the kernel. (A machine crash can lose what the kernel had not yet
 * written out; compaction fsyncs.) When the changes outgrow the snapshot they are
 * compacted: a new segment is started and a snapshot covering the ones before it replaces
 * the old one atomically; then they are deleted. A torn last record is cut at open.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DurableLog } from '../durable/log';
import { createError, errorMessage } from '../errors';
import { Logger } from '../log';
import { claimDir, DirClaim } from '../util/dirlock';

/** BucketData is the memory backend's state: bucket → key → value as JSON text. */
export type BucketData = Map<string, Map<string, string>>;

const MIN_COMPACT_BYTES = 1 << 20;
/** Files of the journal before the durable log: a JSON snapshot and JSON-lines generations. */
const LEGACY = /^state\.(json|\d+\.journal)$/;

/** Journal is the persistent buckets' log (see the top of this file). */
export class Journal {
  private closed = false;
  private snapshotBytes = 0;
  /** Bytes written since the last snapshot, and the size at which the next one is tried. */
  private bytes = 0;
  private compactAt = MIN_COMPACT_BYTES;

  private constructor(
    private readonly dir: string,
    private readonly claim: DirClaim,
    private readonly data: BucketData,
    private readonly persistent: ReadonlySet<string>,
    private readonly log: Logger | undefined,
    private readonly dl: DurableLog,
  ) {}

  /**
   * open locks `dir`, loads the snapshot and replays the changes into `data` (persistent
   * buckets only), writes a fresh snapshot, and returns the journal to append to.
   */
  static open(dir: string, data: BucketData, persistent: ReadonlySet<string>, log?: Logger): Journal {
    const abs = path.resolve(dir);
    try {
      fs.mkdirSync(abs, { recursive: true });
    } catch (err) {
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot create ${abs}: ${errorMessage(err)}`, err);
    }
    const claim = claimDir(abs, 'REMON_ERR_SHARED_BACKEND', 'shared state');
    try {
      const dropped = new Set<string>();
      const replay = (rec: Buffer): void => applyOp(JSON.parse(rec.toString('utf8')) as unknown[], data, persistent, dropped);
      const dl = DurableLog.open({ dir: abs, name: 'state', what: 'the shared state journal', log, legacy: (f) => LEGACY.test(f) }, { snapshot: replay, record: replay });
      for (const bucket of dropped) log?.warn({ bucket }, 'shared state: bucket is no longer persistent; its saved keys are dropped');
      const j = new Journal(abs, claim, data, persistent, log, dl);
      j.compact();
      return j;
    } catch (err) {
      claim.release();
      if ((err as { code?: string }).code === 'REMON_ERR_SHARED_BACKEND') throw err;
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot load shared state from ${abs}: ${errorMessage(err)}`, err);
    }
  }

  /** set records a change of a persistent bucket; it has reached the kernel when it returns. */
  set(bucket: string, key: string, text: string): void {
    this.append(`["s",${JSON.stringify(bucket)},${JSON.stringify(key)},${text}]`);
  }

  delete(bucket: string, key: string): void {
    this.append(`["d",${JSON.stringify(bucket)},${JSON.stringify(key)}]`);
  }

  /** close fsyncs and closes the journal and unlocks the directory. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.dl.closeSync(true);
    } finally {
      this.claim.release();
    }
  }

  private append(op: string): void {
    if (this.closed) throw createError('REMON_ERR_SHARED_BACKEND', 'the memory shared backend is closed');
    try {
      this.bytes += this.dl.appendSync(op);
    } catch (err) {
      throw createError('REMON_ERR_SHARED_BACKEND', `cannot write the shared state journal in ${this.dir}: ${errorMessage(err)}`, err);
    }
    // Data is applied after the write, so a snapshot now would miss this change; the
    // caller compacts through maybeCompact after applying it.
  }

  /** maybeCompact rewrites the snapshot when the changes have grown past it. */
  maybeCompact(): void {
    if (this.bytes > Math.max(this.compactAt, 2 * this.snapshotBytes)) this.compact();
  }

  /** compact writes a snapshot of the persistent buckets; a failure is logged and tried again later. */
  private compact(): void {
    const records: string[] = [];
    let size = 0;
    for (const [bucket, keys] of this.data) {
      if (!this.persistent.has(bucket)) continue;
      const b = JSON.stringify(bucket);
      for (const [k, v] of keys) {
        const rec = `["s",${b},${JSON.stringify(k)},${v}]`;
        size += rec.length;
        records.push(rec);
      }
    }
    try {
      this.dl.compactSync(records);
    } catch (err) {
      // The changes are all still there; try again after as much again has been written.
      this.compactAt = this.bytes + MIN_COMPACT_BYTES;
      this.log?.warn({ dir: this.dir, err: errorMessage(err) }, 'shared state snapshot failed; the journal keeps every change');
      return;
    }
    this.bytes = 0;
    this.compactAt = MIN_COMPACT_BYTES;
    this.snapshotBytes = size;
    this.log?.debug({ dir: this.dir, keys: records.length, bytes: size }, 'shared state snapshot written');
  }
}

/** applyOp applies one recorded change to data (persistent buckets only). */
function applyOp(op: unknown[], data: BucketData, persistent: ReadonlySet<string>, dropped: Set<string>): void {
  const bucket = op[1] as string;
  const key = op[2] as string;
  if (!persistent.has(bucket)) {
    dropped.add(bucket);
    return;
  }
  if (op[0] === 's') {
    let b = data.get(bucket);
    if (!b) data.set(bucket, (b = new Map()));
    b.set(key, JSON.stringify(op[3]));
  } else if (op[0] === 'd') {
    const b = data.get(bucket);
    b?.delete(key);
    if (b?.size === 0) data.delete(bucket);
  }
}
