import * as fs from 'node:fs';
import * as path from 'node:path';
import { FieldKind } from '../../engine/result';
import { errorMessage } from '../../errors';
import { Logger } from '../../log';
import { claimDir, DirClaim } from '../../util/dirlock';
import { parseDuration } from '../../util/duration';
import { pointsLimit } from '../range';
import { FetchOptions, Sample, SeriesData, Store, StoreStatus } from '../store';
import { fetchBounded } from './bounded';
import { RrdFile } from './file';
import { Journal } from './journal';
import { CFS, DsType, RrdDef } from './types';

/** RrdStoreOptions: where files live, the archives each series gets, and write-back timing. */
export interface RrdStoreOptions {
  dir: string;
  /** step:span archives, e.g. ["10s:1d", "1m:30d", "1h:1y"]; each with AVERAGE, MIN, MAX, LAST. */
  retention: readonly string[];
  log: Logger;
  /** How often cached rows are written to the files (default 60 s); the journal covers the rest. */
  flushIntervalMs?: number;
  /** fdatasync files and journal at each checkpoint (survives power loss, costs I/O). */
  fsync?: boolean;
}

const SERIES = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
const DS_TYPE: Record<FieldKind, DsType> = {
  gauge: 'GAUGE',
  counter: 'COUNTER',
  derive: 'DERIVE',
  absolute: 'ABSOLUTE',
  dcounter: 'DCOUNTER',
  dderive: 'DDERIVE',
};

function validName(name: string): boolean {
  return SERIES.test(name) && !name.includes('..');
}

/** retentionDef turns storage.retention into an RRD definition for one series. */
export function retentionDef(retention: readonly string[], type: DsType, heartbeat: number): RrdDef {
  const archives = retention.map((r) => {
    const [stepText, spanText] = r.split(':');
    return { step: (parseDuration(stepText) ?? NaN) / 1000, span: (parseDuration(spanText.replace(/(\d+)y$/, (_, n) => `${Number(n) * 365}d`)) ?? NaN) / 1000 };
  });
  const step = Math.min(...archives.map((a) => a.step));
  const rra = archives.flatMap((a) => {
    const pdpCnt = Math.max(1, Math.round(a.step / step));
    const rows = Math.max(1, Math.round(a.span / (pdpCnt * step)));
    return CFS.map((cf) => ({ cf, xff: 0.5, pdpCnt, rows }));
  });
  return { step, ds: [{ name: 'value', type, heartbeat: Math.max(heartbeat, 2 * step), min: NaN, max: NaN }], rra };
}

/** Series is one series' file (once created) and its queue of updates not yet applied. */
class Series {
  file?: RrdFile;
  t = new Float64Array(4);
  v = new Float64Array(4);
  n = 0;
  constructor(readonly name: string, readonly kind: FieldKind, readonly heartbeat: number) {}
  push(t: number, v: number): void {
    if (this.n === this.t.length) {
      const t2 = new Float64Array(this.n * 2);
      const v2 = new Float64Array(this.n * 2);
      t2.set(this.t);
      v2.set(this.v);
      this.t = t2;
      this.v = v2;
    }
    this.t[this.n] = t;
    this.v[this.n++] = v;
  }
}

/**
 * RrdStore is the embedded store (`storage.kind: rrd`): one round-robin file per series
 * under `<data>/rrd/`, created on its first sample. It works as rrdcached does: write()
 * appends the batch to the journal (one write, before it returns) and queues each sample
 * on its series; queues are applied to the files in bulk, one file at a time, at each
 * checkpoint, and to one series whenever it is read, so a fetch sees the newest sample.
 */
export class RrdStore implements Store {
  private readonly series = new Map<string, Series>();
  private readonly known = new Set<string>();
  private readonly journal: Journal;
  private readonly timer: NodeJS.Timeout;
  /** Samples not applied: stale (not after the last update), bad names or rejected values. */
  dropped = 0;
  private accepted = 0;
  /** The last periodic checkpoint's failure, until one succeeds. */
  private failure?: { code: string; message: string; since: number };
  private warned = false;
  private readonly one: number[] = [0];
  private readonly defs = new Map<string, RrdDef>();
  private readonly claim: DirClaim;

  constructor(private readonly options: RrdStoreOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    // Before anything is read or removed: another node may be writing here.
    this.claim = claimDir(options.dir, 'REMON_ERR_DATA_IN_USE', 'the RRD store');
    try {
      for (const f of fs.readdirSync(options.dir)) {
        if (f.endsWith('.rrd')) this.known.add(f.slice(0, -4));
        else if (f.endsWith('.tmp')) fs.rmSync(path.join(options.dir, f), { force: true }); // a create cut short
      }
      this.journal = new Journal(path.join(options.dir, 'journal.log'));
      const replayed = this.journal.replay((sample) => this.queue(sample));
      if (replayed > 0) {
        options.log.info({ samples: replayed }, 'rrd journal replayed');
        this.checkpoint();
      }
    } catch (err) {
      this.claim.release();
      throw err;
    }
    this.timer = setInterval(() => {
      try {
        this.checkpoint();
        this.failure = undefined;
      } catch (err) {
        // The samples stay in the journal and the queues; the next checkpoint tries again.
        this.failure ??= { code: (err as { code?: string }).code ?? 'REMON_ERR_RRD_FILE', message: errorMessage(err), since: Date.now() };
        options.log.error({ err: errorMessage(err) }, 'rrd checkpoint failed');
      }
    }, options.flushIntervalMs ?? 60_000);
    this.timer.unref();
  }

  write(samples: readonly Sample[]): void {
    // Names are checked once, when their series is new; known ones pass at Map cost.
    let ok = samples;
    for (const s of samples) {
      if (this.series.has(s.series) || validName(s.series)) continue;
      ok = samples.filter((x) => this.series.has(x.series) || validName(x.series));
      this.dropped += samples.length - ok.length;
      break;
    }
    if (ok.length === 0) return;
    this.journal.append(ok);
    this.accepted += ok.length;
    for (const s of ok) this.queue(s);
  }

  /** fetch answers a series' averages, at most maxPoints points whatever the range (see fetchBounded). */
  async fetch(name: string, options: FetchOptions): Promise<SeriesData> {
    const step = options.step ?? 0;
    const entry = this.series.get(name) ?? (this.known.has(name) ? this.entry(name, 'gauge', 0) : undefined);
    if (!entry) return { name, step, points: [] };
    this.apply(entry);
    const file = entry.file ?? this.open(entry);
    if (!file) return { name, step, points: [] };
    return { name, ...fetchBounded(file, 'AVERAGE', options.from, options.to, options.step, pointsLimit(options)) };
  }

  /** list names every series with a file or with samples queued for one. */
  list(): string[] {
    const names = new Set(this.known);
    for (const name of this.series.keys()) names.add(name);
    return [...names].sort();
  }

  async flush(): Promise<void> {
    this.checkpoint();
  }

  status(): StoreStatus {
    let queued = 0;
    let unfiled = 0;
    for (const e of this.series.values()) {
      queued += e.n;
      if (!this.known.has(e.name)) unfiled++;
    }
    return {
      kind: 'rrd',
      state: this.failure ? 'degraded' : 'ok',
      where: this.options.dir,
      error: this.failure,
      counters: { accepted: this.accepted, dropped: this.dropped },
      gauges: { series: this.known.size + unfiled, queued },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    try {
      this.checkpoint();
      this.journal.close();
    } finally {
      this.claim.release();
    }
  }

  /** checkpoint applies every queue, writes every file's rows and header, then empties the journal. */
  checkpoint(): void {
    for (const entry of this.series.values()) {
      this.apply(entry);
      const f = entry.file;
      if (!f || !f.isDirty) continue;
      f.flush({ sync: this.options.fsync });
      f.release();
    }
    if (this.options.fsync) this.journal.sync();
    this.journal.reset();
  }

  private entry(name: string, kind: FieldKind, heartbeat: number): Series {
    let e = this.series.get(name);
    if (!e) this.series.set(name, (e = new Series(name, kind, heartbeat)));
    return e;
  }

  private queue(s: Sample): void {
    this.entry(s.series, s.kind, s.heartbeat ?? 0).push(s.t / 1000, s.value);
  }

  /** apply runs a series' queued updates through its file, in order. */
  private apply(e: Series): void {
    if (e.n === 0) return;
    const file = e.file ?? this.open(e, true);
    const n = e.n;
    e.n = 0;
    if (!file) {
      this.dropped += n;
      return;
    }
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
        this.reject(e.name, err);
      }
    }
  }

  /** open opens (or, with create, makes) a series' file. */
  private open(e: Series, create = false): RrdFile | undefined {
    const p = path.join(this.options.dir, `${e.name}.rrd`);
    try {
      if (this.known.has(e.name)) {
        e.file = RrdFile.open(p);
      } else if (create) {
        const type = DS_TYPE[e.kind] ?? 'GAUGE';
        const key = `${type}:${e.heartbeat}`;
        // One definition object per kind of series: the updater keys its plan on it.
        let def = this.defs.get(key);
        if (!def) this.defs.set(key, (def = retentionDef(this.options.retention, type, e.heartbeat)));
        e.file = RrdFile.create(p, def, Math.floor(e.t[0]) - 1);
        this.known.add(e.name);
      }
      e.file?.release();
      return e.file;
    } catch (err) {
      this.reject(e.name, err);
      return undefined;
    }
  }

  private reject(series: string, err: unknown): void {
    this.dropped++;
    if (!this.warned) {
      this.warned = true;
      this.options.log.warn({ series, err: errorMessage(err) }, 'rrd sample rejected (further ones are counted only)');
    }
  }
}
