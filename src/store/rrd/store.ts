import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isEnvironmental } from '../../durable/files';
import { FieldKind } from '../../engine/result';
import { createError, errorMessage } from '../../errors';
import { Logger } from '../../log';
import { claimDir, DirClaim } from '../../util/dirlock';
import { pointsLimit } from '../range';
import { FetchOptions, Sample, SeriesData, Store, StoreStatus } from '../store';
import { fetchBounded } from './bounded';
import { RrdFile } from './file';
import { Backlog } from './backlog';
import { Journal } from './journal';
import { DS_TYPE, retentionDef, Series, validName } from './series';
import { RrdDef } from './types';

export { retentionDef } from './series';

/** RrdStoreOptions: where files live, the archives each series gets, and write-back timing. */
export interface RrdStoreOptions {
  dir: string;
  /** step:span archives, e.g. ["10s:1d", "1m:30d", "1h:1y"]; each with AVERAGE, MIN, MAX, LAST. */
  retention: readonly string[];
  log: Logger;
  /** How often cached rows are written to the files (default 60 s); the journal covers the rest. */
  flushIntervalMs?: number;
  /** fdatasync files at each checkpoint and fsync the journal's directory (survives power loss, costs I/O). */
  fsync?: boolean;
  /** Samples held in memory while the journal cannot be written; past it the oldest are dropped (default 500,000). */
  backlogMax?: number;
  /** How often a store in trouble tries again: the journal at once, a failed checkpoint with backoff (default 1 s). */
  retryMs?: number;
  /**
   * A periodic checkpoint works in slices of about this many ms of the event loop, with
   * timers and I/O served between them (default 4): a checkpoint of 30,000 series takes
   * seconds of CPU, and must never hold the node for that long.
   */
  sliceMs?: number;
}

/** Pass is a checkpoint in progress, slice by slice: the journal mark it took and the series left. */
interface Pass {
  mark: number;
  todo: Series[];
  next: number;
  trouble?: unknown;
  startedAt: number;
}

/** Failure is a store's trouble as StoreStatus shows it. */
type Failure = { code: string; message: string; since: number };

function failure(err: unknown, previous?: Failure): Failure {
  const code = (err as { code?: string }).code ?? 'REMON_ERR_RRD_FILE';
  return { code, message: errorMessage(err), since: previous?.code === code ? previous.since : Date.now() };
}

/**
 * RrdStore is the embedded store (`storage.kind: rrd`): one round-robin file per series
 * under `<data>/rrd/`, created on its first sample. It works as rrdcached does: write()
 * appends the batch to the journal (one write, before it returns) and queues each sample
 * on its series; queues are applied to the files in bulk, one file at a time, at each
 * checkpoint, and to one series whenever it is read, so a fetch sees the newest sample.
 *
 * It fails loud and stays up: when the journal cannot be written (disk full, read-only,
 * I/O error) write() still returns, the store shows `degraded` with the reason, and the
 * samples wait in a bounded memory backlog (the oldest dropped past it, counted), to be
 * journaled first when a retry (every retryMs) succeeds. A file that cannot be made or
 * written keeps its samples queued and its journal segments; the checkpoint is retried.
 */
export class RrdStore implements Store {
  private readonly series = new Map<string, Series>();
  private readonly known = new Set<string>();
  private readonly journal: Journal;
  private readonly timer: NodeJS.Timeout;
  /** Samples not applied: stale (not after the last update), bad names, rejected values, or dropped from a full backlog. */
  dropped = 0;
  private accepted = 0;
  /** The last checkpoint's failure, until one succeeds. */
  private failure?: Failure;
  /** The journal's failure, until the backlog is journaled. */
  private journalFailure?: Failure;
  /** Samples accepted while the journal could not be written, oldest first. */
  private readonly backlog: Backlog;
  private retryTimer?: NodeJS.Timeout;
  private checkpointFailures = 0;
  private nextCheckpointTry = 0;
  private closed = false;
  private warned = false;
  /** The sliced checkpoint in progress, if any. */
  private pass?: Pass;
  private passTimer?: NodeJS.Immediate;
  private passes = 0;
  private lastPassMs = 0;
  private readonly one: number[] = [0];
  /** The entries of the samples of a write (kept, to be reused). */
  private refs: Series[] = [];
  private readonly defs = new Map<string, RrdDef>();
  private readonly claim: DirClaim;

  constructor(private readonly options: RrdStoreOptions) {
    this.backlog = new Backlog(options.backlogMax ?? 500_000);
    fs.mkdirSync(options.dir, { recursive: true });
    // Before anything is read or removed: another node may be writing here.
    this.claim = claimDir(options.dir, 'REMON_ERR_DATA_IN_USE', 'the RRD store');
    try {
      for (const f of fs.readdirSync(options.dir)) {
        if (f.endsWith('.rrd')) this.known.add(f.slice(0, -4));
        else if (f.endsWith('.tmp')) fs.rmSync(path.join(options.dir, f), { force: true }); // a create cut short
      }
      this.journal = new Journal(options.dir, (sample) => this.queue(sample), { log: options.log, sync: options.fsync });
      if (this.journal.replayed > 0) options.log.info({ samples: this.journal.replayed }, 'rrd journal replayed');
      if (this.journal.replayed > 0) this.tryCheckpoint();
    } catch (err) {
      this.claim.release();
      throw err;
    }
    this.timer = setInterval(() => this.startPass(), options.flushIntervalMs ?? 60_000);
    this.timer.unref();
  }

  /**
   * startPass begins a periodic checkpoint in slices (see sliceMs): the journal is rotated
   * (the mark), then each slice applies and writes series until its time is up and yields
   * to the event loop; when every series is written, the segments before the mark go.
   * Series that appear meanwhile have all their samples after the mark: the next pass.
   */
  private startPass(): void {
    if (this.pass || this.closed) return;
    this.pass = { mark: this.journal.rotate(), todo: [...this.series.values()], next: 0, startedAt: performance.now() };
    this.passTimer = setImmediate(() => this.slice());
  }

  /** slice writes series of the pass for about sliceMs; the last slice ends the pass. */
  private slice(): void {
    this.passTimer = undefined;
    const pass = this.pass;
    if (!pass || this.closed) return;
    const end = performance.now() + (this.options.sliceMs ?? 4);
    while (pass.next < pass.todo.length) {
      const trouble = this.writeSeries(pass.todo[pass.next++]);
      pass.trouble ??= trouble;
      if (performance.now() >= end) break;
    }
    if (pass.next < pass.todo.length) {
      this.passTimer = setImmediate(() => this.slice());
      return;
    }
    this.endPass(pass);
  }

  /** endPass drops the journal before the mark when every file was written, or records the trouble. */
  private endPass(pass: Pass): void {
    this.pass = undefined;
    this.passes++;
    this.lastPassMs = performance.now() - pass.startedAt;
    if (pass.trouble) this.checkpointFailed(pass.trouble);
    else {
      this.journal.dropBefore(pass.mark);
      this.checkpointWorked();
    }
  }

  /** finishPass completes a pass in progress at once (flush and close cannot wait for slices). */
  private finishPass(): void {
    const pass = this.pass;
    if (!pass) return;
    if (this.passTimer) clearImmediate(this.passTimer);
    this.passTimer = undefined;
    while (pass.next < pass.todo.length) pass.trouble ??= this.writeSeries(pass.todo[pass.next++]);
    this.endPass(pass);
  }

  /** tryCheckpoint runs a whole checkpoint at once; a failure becomes the store's state and is retried. */
  private tryCheckpoint(): boolean {
    try {
      this.checkpoint();
      this.checkpointWorked();
      return true;
    } catch (err) {
      this.checkpointFailed(err);
      return false;
    }
  }

  private checkpointWorked(): void {
    if (this.failure) this.options.log.info({ dir: this.options.dir }, 'rrd checkpoint works again');
    this.failure = undefined;
    this.checkpointFailures = 0;
  }

  /** checkpointFailed: the samples stay in the journal and the queues; a retry (with backoff) or the next checkpoint tries again. */
  private checkpointFailed(err: unknown): void {
    if (!this.failure || this.failure.code !== failure(err).code) this.options.log.error({ err: errorMessage(err) }, 'rrd checkpoint failed');
    this.failure = failure(err, this.failure);
    this.checkpointFailures++;
    this.nextCheckpointTry = Date.now() + Math.min(30_000, this.retryMs * 2 ** Math.min(10, this.checkpointFailures - 1));
    this.scheduleRetry();
  }

  private get retryMs(): number {
    return this.options.retryMs ?? 1000;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retry();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** retry journals the backlog, then retries a failed checkpoint when its backoff allows. */
  private retry(): void {
    if (this.closed) return;
    if (!this.backlog.empty) this.drainBacklog();
    if (this.failure && !this.journalFailure && Date.now() >= this.nextCheckpointTry) this.startPass();
    if (this.journalFailure || this.failure) this.scheduleRetry();
  }

  /** drainBacklog journals held samples, oldest first, and queues them; false when the journal still fails. */
  private drainBacklog(): boolean {
    const held = this.backlog.size;
    for (let batch = this.backlog.first(); batch !== undefined; batch = this.backlog.first()) {
      try {
        this.journal.append(batch, batch.map((s) => this.entry(s.series, s.kind, s.heartbeat ?? 0)));
      } catch (err) {
        this.journalFailed(err);
        return false;
      }
      this.backlog.shift();
      for (const s of batch) this.queue(s);
    }
    if (this.journalFailure) {
      const seconds = Math.round((Date.now() - this.journalFailure.since) / 1000);
      this.options.log.info({ dir: this.options.dir, samples: held, dropped: this.backlog.dropped, seconds }, 'rrd journal writable again; held samples journaled');
    }
    this.journalFailure = undefined;
    return true;
  }

  private journalFailed(err: unknown): void {
    if (!this.journalFailure) {
      this.options.log.error({ dir: this.options.dir, err: errorMessage(err) }, 'rrd journal cannot be written; samples are held in memory until it can');
    }
    this.journalFailure = failure(err, this.journalFailure);
    this.scheduleRetry();
  }

  /** hold keeps samples the journal could not take, dropping the oldest past backlogMax. */
  private hold(samples: readonly Sample[]): void {
    const before = this.backlog.dropped;
    const dropped = this.backlog.hold(samples);
    if (dropped > 0) {
      if (before === 0) this.options.log.error({ max: this.backlog.max, dropped }, 'rrd backlog full; dropping the oldest held samples (counted in dropped)');
      this.dropped += dropped;
    }
  }


  write(samples: readonly Sample[]): void {
    if (this.closed) return;
    // One lookup per sample: its series' entry, made (and the name checked) when it is new.
    let ok = samples;
    let refs = this.refs;
    if (refs.length < samples.length) refs = this.refs = new Array<Series>(samples.length);
    let n = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      let e = this.series.get(s.series);
      if (e === undefined) {
        if (!validName(s.series)) {
          if (ok === samples) ok = samples.slice(0, i);
          continue;
        }
        this.series.set(s.series, (e = new Series(s.series, s.kind, s.heartbeat ?? 0)));
      }
      if (ok !== samples) (ok as Sample[]).push(s);
      refs[n++] = e;
    }
    this.dropped += samples.length - n;
    if (n === 0) return;
    this.accepted += n;
    // While samples are held, new ones queue behind them: the journal keeps their order.
    if (this.backlog.empty) {
      try {
        this.journal.append(ok, refs);
      } catch (err) {
        this.journalFailed(err);
        this.hold(ok);
        return;
      }
      for (let i = 0; i < n; i++) {
        const s = ok[i];
        refs[i].push(s.t / 1000, s.value);
      }
      return;
    }
    this.hold(ok);
  }

  /** fetch answers a series' averages, at most maxPoints points whatever the range (see fetchBounded). */
  async fetch(name: string, options: FetchOptions): Promise<SeriesData> {
    const step = options.step ?? 0;
    const entry = this.series.get(name) ?? (this.known.has(name) ? this.entry(name, 'gauge', 0) : undefined);
    if (!entry) return { name, step, points: [] };
    this.apply(entry);
    const file = entry.file ?? this.open(entry);
    if (!(file instanceof RrdFile)) return { name, step, points: [] };
    return { name, ...fetchBounded(file, 'AVERAGE', options.from, options.to, options.step, pointsLimit(options)) };
  }

  /** list names every series with a file or with samples queued for one. */
  list(): string[] {
    const names = new Set(this.known);
    for (const name of this.series.keys()) names.add(name);
    return [...names].sort();
  }

  has(name: string): boolean {
    return this.known.has(name) || this.series.has(name);
  }

  /** flush journals held samples and runs a checkpoint; it rejects when either fails (the store keeps them). */
  async flush(): Promise<void> {
    if (!this.backlog.empty && !this.drainBacklog()) throw createError('REMON_ERR_DURABLE_WRITE', this.journalFailure!.message);
    this.finishPass();
    if (!this.tryCheckpoint()) throw createError('REMON_ERR_RRD_FILE', this.failure!.message);
  }

  status(): StoreStatus {
    let queued = 0;
    let unfiled = 0;
    for (const e of this.series.values()) {
      queued += e.n;
      if (!this.known.has(e.name)) unfiled++;
    }
    const error = this.journalFailure ?? this.failure;
    return {
      kind: 'rrd',
      state: error ? 'degraded' : 'ok',
      where: this.options.dir,
      error,
      counters: { accepted: this.accepted, dropped: this.dropped, checkpoints: this.passes },
      gauges: {
        series: this.known.size + unfiled, queued, backlog: this.backlog.size, journal_bytes: this.journal.bytes,
        checkpoint_ms: Math.round(this.lastPassMs), checkpoint_running: this.pass ? 1 : 0,
      },
    };
  }

  /** close journals what it can and writes the files; what still cannot be written is logged as lost. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
    try {
      this.finishPass();
      if (this.backlog.empty || this.drainBacklog()) this.tryCheckpoint();
      if (this.backlog.size > 0) this.options.log.error({ samples: this.backlog.size, err: this.journalFailure?.message }, 'rrd store closed with held samples the journal could not take; they are lost');
      this.closed = true;
      for (const e of this.series.values()) e.file?.release();
      this.journal.close();
    } finally {
      this.closed = true;
      this.claim.release();
    }
  }

  /**
   * checkpoint rotates the journal (the mark), applies every queue, writes every file's
   * rows and header, and then drops the journal segments before the mark. When a file
   * cannot be made or written, its samples stay queued and the segments stay: it throws.
   */
  checkpoint(): void {
    const mark = this.journal.rotate();
    let trouble: unknown;
    for (const entry of this.series.values()) trouble ??= this.writeSeries(entry);
    if (trouble) throw trouble;
    this.journal.dropBefore(mark);
  }

  /** writeSeries applies a series' queue and writes its file's rows and header; it returns what went wrong. */
  private writeSeries(entry: Series): unknown {
    let trouble = this.apply(entry);
    const f = entry.file;
    if (!f) return trouble;
    if (f.isDirty) {
      try {
        f.flush({ sync: this.options.fsync });
      } catch (err) {
        trouble ??= err;
      }
    }
    f.release();
    return trouble;
  }

  private entry(name: string, kind: FieldKind, heartbeat: number): Series {
    let e = this.series.get(name);
    if (!e) this.series.set(name, (e = new Series(name, kind, heartbeat)));
    return e;
  }

  private queue(s: Sample): void {
    this.entry(s.series, s.kind, s.heartbeat ?? 0).push(s.t / 1000, s.value);
  }

  /**
   * apply runs a series' queued updates through its file, in order. When the file cannot
   * be opened or made for a reason of the machine (no space, read-only), the queue stays
   * and the error is returned; a bad file drops the queue (counted).
   */
  private apply(e: Series): unknown {
    if (e.n === 0) return undefined;
    let file = e.file;
    if (!file) {
      const opened = this.open(e, true);
      if (opened instanceof RrdFile) file = opened;
      else if (opened !== undefined && isEnvironmental(opened)) return opened;
      else {
        this.dropped += e.n;
        e.n = 0;
        return undefined;
      }
    }
    const n = e.n;
    e.n = 0;
    const st = file.state;
    for (let i = 0; i < n; i++) {
      const t = e.t[i];
      const sec = Math.floor(t);
      if (sec < st.lastUp || (sec === st.lastUp && Math.trunc((t - sec) * 1e6) <= st.lastUpUsec)) {
        this.dropped++; // not after the last update: a replayed or a late sample
        continue;
      }
      this.one[0] = e.v[i];
      try {
        file.update(t, this.one);
      } catch (err) {
        this.dropped++;
        this.reject(e.name, err);
      }
    }
    return undefined;
  }

  /**
   * open opens (or, with create, makes) a series' file; on failure it returns the error.
   * With create it keeps the descriptor (the caller writes the file next and releases it).
   * A file whose making was cut short (REMON_ERR_RRD_UNFINISHED) is made again: the
   * journal still holds its samples, as no checkpoint finished with it.
   */
  private open(e: Series, create = false): RrdFile | unknown {
    const p = path.join(this.options.dir, `${e.name}.rrd`);
    try {
      if (this.known.has(e.name)) {
        try {
          e.file = RrdFile.open(p);
        } catch (err) {
          if (!create || (err as { code?: string }).code !== 'REMON_ERR_RRD_UNFINISHED') throw err;
          fs.rmSync(p, { force: true });
          e.file = this.make(e, p);
        }
      } else if (create) {
        e.file = this.make(e, p);
        this.known.add(e.name);
      }
      if (!create) e.file?.release();
      return e.file;
    } catch (err) {
      if (!isEnvironmental(err)) this.reject(e.name, err);
      return err;
    }
  }

  /** make starts a series' file (see RrdFile.make), starting just before its first queued sample. */
  private make(e: Series, p: string): RrdFile {
    const type = DS_TYPE[e.kind] ?? 'GAUGE';
    const key = `${type}:${e.heartbeat}`;
    // One definition object per kind of series: the updater keys its plan on it.
    let def = this.defs.get(key);
    if (!def) this.defs.set(key, (def = retentionDef(this.options.retention, type, e.heartbeat)));
    return RrdFile.make(p, def, Math.floor(e.t[0]) - 1);
  }

  private reject(series: string, err: unknown): void {
    if (!this.warned) {
      this.warned = true;
      this.options.log.warn({ series, err: errorMessage(err) }, 'rrd sample rejected (further ones are counted only)');
    }
  }
}
