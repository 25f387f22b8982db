import * as fs from 'node:fs';
import * as path from 'node:path';
import { Config } from '../../config/types';
import { ErrorCode, RemonError } from '../../errors';
import { Logger } from '../../log';
import { claimDir, DirClaim } from '../../util/dirlock';
import { redactUrl } from '../../util/url';
import { FetchOptions, Sample, SeriesData, Store, StoreStatus } from '../store';
import { LineEncoder, metricName, seriesOfMetric, tagSet } from './line';
import { PromqlReader } from './promql';
import { classify, isLoopbackUrl, Sender } from './sender';
import { Chunk, Spool, spoolFiles } from './spool';

export { spoolFiles } from './spool';

/** InfluxStoreOptions: the server, this node's tags, the spool, and tuning (defaults in brackets). */
export interface InfluxStoreOptions {
  /** Base URL of the InfluxDB-v2 write API (InfluxDB 2/3, VictoriaMetrics). */
  url: string;
  token?: string;
  org?: string;
  bucket: string;
  /** Tag `node` on every line. */
  node: string;
  /**
   * Read every node's series, not only this node's (a cluster: a block's samples come from
   * whichever node held its lease; at any time one node writes them).
   */
  readAllNodes?: boolean;
  /** More tags on every line. */
  labels?: Readonly<Record<string, string>>;
  /** Base URL of the Prometheus query API for fetch and list [url]. */
  readUrl?: string;
  /** Directory of the on-disk buffer. */
  spoolDir: string;
  /** Spool size cap in bytes [256 MiB]. */
  bufferMaxBytes?: number;
  /** Spool segment size [bufferMaxBytes/16, 1 KiB..16 MiB]. */
  segmentBytes?: number;
  /** A partial batch is sent after this long [1000 ms]. */
  flushIntervalMs?: number;
  /** Lines per request [5000]. */
  batchSize?: number;
  /** Requests in flight at most [4]. */
  maxInflight?: number;
  /** Request timeout [10 s]. */
  timeoutMs?: number;
  /** Gzip request bodies [true unless url is a loopback address]. */
  gzip?: boolean;
  /** Retry backoff of spool replay: first and longest delay [500 ms, 30 s], with jitter. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Block names, to map server metric names back to series names (see seriesOfMetric). */
  blocks?: readonly string[];
  log: Logger;
}

/** InfluxStatus is the store's state for status pages and tests. */
export interface InfluxStatus {
  /** ok: writing straight to the server; spooling: buffering on disk and replaying. */
  state: 'ok' | 'spooling';
  url: string;
  /** The last failure, until a write succeeds again. */
  error?: { code: ErrorCode; message: string; since: number };
  /** Lines (one per sample) accepted by write(). */
  accepted: number;
  /** Lines the server acknowledged. */
  delivered: number;
  /** Lines that went through the spool (since start). */
  spooled: number;
  /** Lines the server rejected as malformed (HTTP 400), dropped. */
  rejected: number;
  /** Lines dropped from a full spool, or lost to a spool error. */
  dropped: number;
  /** Lines not yet delivered: in memory for a batch, in requests in flight, in the spool. */
  pending: number;
  inflight: number;
  spooledLines: number;
  spooledBytes: number;
}

export const DEFAULT_BUFFER_MAX_BYTES = 256 * 2 ** 20;

/**
 * InfluxStore writes samples as line protocol to an InfluxDB-v2-write-compatible server and
 * reads them back with PromQL (see docs/storage-influx.md).
 *
 * Writes: `write` encodes samples into lines (never blocks); full batches, and every
 * flushIntervalMs the rest, go out through the Sender with up to maxInflight requests in
 * flight. When a request fails for a reason a retry may cure (unreachable, 5xx, 401/404:
 * the server or its config may come back), the store switches to spooling: the failed
 * lines and everything written after them go to the on-disk Spool, and one replay loop
 * sends the spool oldest first, retrying with exponential backoff, until it is empty;
 * then writes go straight to the server again. So a server outage costs disk, not data,
 * until the spool reaches its cap (then the oldest lines are dropped and logged). A
 * backlog in memory (a server slower than the sample rate) spills to the spool the same way.
 * Lines the server rejects as malformed are dropped and counted. When an earlier run left
 * lines in the spool, the store starts in spooling mode, so they go out before new ones.
 */
export class InfluxStore implements Store {
  private readonly sender: Sender;
  private readonly reader: PromqlReader;
  private readonly spool: Spool;
  private readonly encoder: LineEncoder;
  private readonly log: Logger;
  private readonly batchSize: number;
  /** Lines per replay request: larger than a batch, since replay sends one request at a time. */
  private readonly replayBatch: number;
  private readonly maxInflight: number;
  private readonly maxPending: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly blocks: readonly string[];
  private readonly known = new Set<string>();
  private lastLookup = 0;
  private lookingUp?: Promise<string[]>;
  private readonly timer: NodeJS.Timeout;
  private mode: 'direct' | 'spooling' = 'direct';
  private pending: string[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private inflightLines = 0;
  private replaying?: Promise<void>;
  private syncing?: Promise<void>;
  private wake?: () => void;
  private closing = false;
  private closed?: Promise<void>;
  private outage?: { since: number; reason: string };
  private error?: { code: ErrorCode; message: string; since: number };
  private lastErrorLog = 0;
  private readonly counts = { accepted: 0, delivered: 0, rejected: 0, spooled: 0 };
  private readonly claim: DirClaim;

  constructor(readonly options: InfluxStoreOptions) {
    this.log = options.log.child({ store: 'influx' });
    // First: another node may be spooling here. The Spool's constructor only takes options.
    fs.mkdirSync(options.spoolDir, { recursive: true });
    this.claim = claimDir(options.spoolDir, 'REMON_ERR_DATA_IN_USE', 'the influx spool');
    this.batchSize = options.batchSize ?? 5000;
    this.replayBatch = Math.min(this.batchSize * 4, 50_000);
    this.maxInflight = options.maxInflight ?? 4;
    this.maxPending = Math.max(100_000, this.batchSize * this.maxInflight * 4);
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
    this.blocks = options.blocks ?? [];
    const timeoutMs = options.timeoutMs ?? 10_000;
    const labels = options.labels ?? {};
    this.encoder = new LineEncoder(tagSet(options.node, labels));
    this.sender = new Sender({
      url: options.url,
      token: options.token,
      org: options.org ?? '',
      bucket: options.bucket,
      maxLines: Math.max(this.batchSize, this.replayBatch),
      maxSockets: this.maxInflight + 1,
      timeoutMs,
      gzip: options.gzip ?? !isLoopbackUrl(options.url),
      log: this.log,
    });
    this.reader = new PromqlReader({
      url: options.readUrl ?? options.url,
      token: options.token,
      timeoutMs,
      match: options.readAllNodes ? { ...labels } : { node: options.node, ...labels },
    });
    this.spool = new Spool({
      dir: options.spoolDir,
      maxBytes: options.bufferMaxBytes ?? DEFAULT_BUFFER_MAX_BYTES,
      segmentBytes: options.segmentBytes,
      onDrop: (lines, bytes) => this.dropped(lines, bytes),
      log: this.log,
      onError: (err, lost) => {
        this.fail(err);
        if (lost > 0) this.log.error({ code: err.code, lines: lost, err: err.message }, 'influx spool failed; lines lost');
      },
    });
    this.timer = setInterval(() => this.tick(), options.flushIntervalMs ?? 1000);
    this.timer.unref();
    // Lines an earlier run left in the spool go out first, before new ones.
    if (spoolFiles(options.spoolDir).length > 0) this.startSpooling('lines left in the spool by an earlier run', false);
  }

  write(samples: readonly Sample[]): void {
    if (this.closing) return;
    const direct = this.mode === 'direct';
    for (const s of samples) {
      const line = this.encoder.encode(s);
      if (line === undefined) continue;
      this.counts.accepted++;
      if (!this.known.has(s.series)) this.known.add(s.series);
      if (direct) this.pending.push(line);
      else {
        this.spool.appendOne(line);
        this.counts.spooled++;
      }
    }
    if (!direct) {
      if (this.spool.pendingBytes > 1 << 20) this.syncSpool();
      return;
    }
    if (this.pending.length >= this.batchSize) this.pump(false);
    if (this.pending.length > this.maxPending) this.startSpooling('the server is slower than the sample rate');
  }

  async fetch(name: string, options: FetchOptions): Promise<SeriesData> {
    return this.reader.fetch(name, metricName(name), options);
  }

  /** list: series written through this store, and this node's series found on the server at start. */
  list(): string[] {
    return [...this.known].sort();
  }

  has(name: string): boolean {
    return this.known.has(name);
  }

  /**
   * lookup: a name not written through this store is looked for on the server, at most once
   * a second (a cluster's node shows series that other nodes wrote since it started).
   */
  async lookup(name: string): Promise<boolean> {
    if (this.known.has(name)) return true;
    const now = Date.now();
    if (now - this.lastLookup >= 1000) {
      this.lastLookup = now;
      this.lookingUp ??= this.refresh().finally(() => (this.lookingUp = undefined));
    }
    if (this.lookingUp) await this.lookingUp.catch(() => undefined);
    return this.known.has(name);
  }

  /** refresh asks the server for this node's series (seen in the last 30 days) and adds them to list(). */
  async refresh(): Promise<string[]> {
    const names = await this.reader.names(Date.now() - 30 * 86_400_000);
    for (const n of names) this.known.add(seriesOfMetric(n, this.blocks));
    return this.list();
  }

  /** flush resolves when every line accepted so far is delivered or written to the spool and fsynced. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.mode === 'direct') this.pump(true);
      if (this.inflight.size === 0) break;
      await Promise.race(this.inflight);
    }
    await this.spool.sync(true).catch(() => undefined);
  }

  /** close flushes, stops the replay (the spool keeps what is left for the next start) and frees sockets. */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<void> {
    await this.flush();
    this.closing = true;
    clearInterval(this.timer);
    this.wake?.();
    this.sender.abort();
    await this.replaying;
    await this.spool.close().catch(() => undefined);
    this.claim.release();
    await this.sender.close();
    const left = this.spool.undeliveredLines;
    if (left > 0) this.log.info({ lines: left, dir: this.options.spoolDir }, 'influx spool kept for the next start');
  }

  status(): StoreStatus {
    const d = this.influxStatus();
    return {
      kind: 'influx',
      state: d.state === 'ok' && !d.error ? 'ok' : 'degraded',
      where: redactUrl(d.url),
      error: d.error,
      counters: { accepted: d.accepted, delivered: d.delivered, spooled: d.spooled, rejected: d.rejected, dropped: d.dropped },
      gauges: { pending: d.pending, spooled_lines: d.spooledLines, spooled_bytes: d.spooledBytes },
    };
  }

  /** influxStatus: the influx store's own figures (status() is what every store shows). */
  influxStatus(): InfluxStatus {
    return {
      state: this.mode === 'direct' ? 'ok' : 'spooling',
      url: this.options.url,
      error: this.error,
      ...this.counts,
      dropped: this.spool.dropped,
      pending: this.pending.length + this.inflightLines + this.spool.undeliveredLines,
      inflight: this.inflightLines,
      spooledLines: this.spool.undeliveredLines,
      spooledBytes: this.spool.undeliveredBytes,
    };
  }

  /** spoolFiles lists the spool's segment files (tests). */
  spoolFiles(): string[] {
    return this.spool.files.map((f) => path.basename(f));
  }

  private tick(): void {
    if (this.mode === 'direct') this.pump(true);
    else if (this.spool.pendingBytes > 0) this.syncSpool();
  }

  /** syncSpool writes spooled lines to disk in the background, one pass at a time. */
  private syncSpool(): void {
    this.syncing ??= this.spool.sync().catch(() => undefined).finally(() => {
      this.syncing = undefined;
    });
  }

  /** pump starts requests for pending lines: full batches, or also a partial one when forced. */
  private pump(force: boolean): void {
    while (this.mode === 'direct' && this.inflight.size < this.maxInflight && this.pending.length > 0) {
      if (!force && this.pending.length < this.batchSize) return;
      const lines = this.pending.length <= this.batchSize ? this.pending : this.pending.slice(0, this.batchSize);
      this.pending = lines === this.pending ? [] : this.pending.slice(this.batchSize);
      this.sendDirect(lines);
    }
  }

  private sendDirect(lines: string[]): void {
    this.inflightLines += lines.length;
    const p: Promise<void> = this.sender.send(lines).then(
      () => {
        this.counts.delivered += lines.length;
        this.recovered();
      },
      (err: unknown) => {
        const e = classify(err, this.options.url, 'write', lines.length);
        if (e.code === 'REMON_ERR_STORE_REJECTED') return this.rejected(e, lines.length);
        this.fail(e);
        this.spool.append(lines);
        this.counts.spooled += lines.length;
        this.startSpooling(e.message);
      },
    );
    this.inflight.add(p);
    void p.finally(() => {
      this.inflight.delete(p);
      this.inflightLines -= lines.length;
      if (this.mode === 'direct' && this.pending.length >= this.batchSize) this.pump(false);
    });
  }

  /** startSpooling routes pending and future lines to the spool and starts the replay loop. */
  private startSpooling(reason: string, outage = true): void {
    if (this.mode === 'spooling') return;
    this.mode = 'spooling';
    if (outage) this.outage = { since: Date.now(), reason };
    this.spool.append(this.pending);
    this.counts.spooled += this.pending.length;
    this.pending = [];
    if (outage) this.log.warn({ url: this.options.url, reason, dir: this.options.spoolDir }, 'influx writes go to the spool until the server takes them');
    this.startReplay();
  }

  private startReplay(): void {
    this.replaying ??= this.replay().finally(() => {
      this.replaying = undefined;
    });
  }

  /** replay sends the spool oldest first until it is empty, then switches to direct writes. */
  private async replay(): Promise<void> {
    let attempt = 0;
    let sent = 0;
    const first = this.outage === undefined; // the start-up pass: lines of an earlier run
    while (!this.closing) {
      let chunk: Chunk | undefined;
      try {
        chunk = await this.spool.read(this.replayBatch);
      } catch (err) {
        this.fail(classify(err, this.options.spoolDir, 'write'));
        await this.sleep(this.backoff(++attempt));
        continue;
      }
      if (!chunk) {
        if (!this.spool.empty) continue; // lines arrived while reading
        if (this.closing) return;
        if (sent > 0 || this.outage) {
          const seconds = this.outage ? Math.round((Date.now() - this.outage.since) / 1000) : 0;
          this.log.info({ url: this.options.url, lines: sent, seconds, restored: first ? this.spool.restored : undefined }, 'influx spool replayed; writing directly again');
        }
        this.outage = undefined;
        this.mode = 'direct';
        this.pump(false);
        return;
      }
      try {
        await this.sender.send(chunk.lines);
      } catch (err) {
        if (this.closing) {
          // close() cut the request short; the chunk stays in the spool for the next start.
          await this.spool.release(chunk);
          return;
        }
        const e = classify(err, this.options.url, 'write', chunk.lines.length);
        if (e.code === 'REMON_ERR_STORE_REJECTED') {
          await this.spool.ack(chunk);
          this.rejected(e, chunk.lines.length);
          continue;
        }
        await this.spool.release(chunk);
        this.fail(e);
        await this.sleep(this.backoff(++attempt));
        continue;
      }
      await this.spool.ack(chunk);
      this.counts.delivered += chunk.lines.length;
      sent += chunk.lines.length;
      attempt = 0;
      this.recovered();
    }
  }

  /** backoff: retryMinMs doubling per failed attempt up to retryMaxMs, with ±25% jitter. */
  private backoff(attempt: number): number {
    const base = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(30, attempt - 1));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  /** fail records a failure as the store's error state; logged on the first of a run and then once a minute. */
  private fail(err: RemonError): void {
    const now = Date.now();
    const fresh = this.error?.code !== err.code;
    this.error = { code: err.code, message: err.message, since: fresh ? now : this.error!.since };
    if (fresh || now - this.lastErrorLog >= 60_000) {
      this.lastErrorLog = now;
      this.log.warn({ code: err.code, err: err.message, spooled: this.spool.undeliveredLines }, 'influx write failed');
    }
  }

  private recovered(): void {
    this.error = undefined;
  }

  private rejected(err: RemonError, lines: number): void {
    this.counts.rejected += lines;
    this.log.warn({ code: err.code, lines, err: err.message }, 'influx server rejected lines');
  }

  /** dropped logs lines dropped from a full spool (one line per spool write pass that dropped). */
  private dropped(lines: number, bytes: number): void {
    const maxBytes = this.options.bufferMaxBytes ?? DEFAULT_BUFFER_MAX_BYTES;
    this.log.warn({ lines, bytes, max_bytes: maxBytes, total: this.spool.dropped }, 'influx spool full; dropped the oldest lines');
  }
}

/** createInfluxStore builds the store from `storage: { kind: influx, ... }`. */
export function createInfluxStore(config: Config, log: Logger): InfluxStore {
  const s = config.storage.influx;
  if (!s) throw new Error('createInfluxStore: storage.kind is not influx');
  const store = new InfluxStore({
    url: s.url,
    token: s.token,
    org: s.org,
    bucket: s.bucket,
    node: config.node.name,
    readAllNodes: config.cluster !== undefined,
    labels: s.labels,
    readUrl: s.readUrl,
    spoolDir: path.join(config.node.data, 'influx-spool'),
    bufferMaxBytes: Math.round(s.bufferMaxMb * 2 ** 20),
    flushIntervalMs: s.flushIntervalMs,
    batchSize: s.batchSize,
    blocks: config.blocks.map((b) => b.name),
    log,
  });
  store.refresh().catch((err: RemonError) => log.debug({ code: err.code, err: err.message }, 'influx series list not read'));
  return store;
}
