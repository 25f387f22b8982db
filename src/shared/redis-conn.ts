import Redis from 'ioredis';
import { createError, errorMessage, RemonError } from '../errors';
import { Logger } from '../log';
import { redactUrl } from '../util/url';
import { closedError } from './common';
import { BatchText, sendBatch } from './redis-batch';
import { OpName, OPS } from './redis-scripts';
import { Spread, SpreadKey, SpreadUnit } from './redis-spread';
import type { Batch, Merge, Part, Unit } from './redis-units';

export { KeyCache, splitJson, splitRunning } from './redis-units';
export { SpreadKey } from './redis-spread';
export type { Spread } from './redis-spread';
export type { Merge, Part } from './redis-units';

/** RedisOptions: the server, the key prefix, and where to log connection changes. */
export interface RedisOptions {
  url: string;
  /** Prefix of every key and channel (default "remon:"), so several remon setups can share a server. */
  prefix?: string;
  log?: Logger;
  /** How long a command may take before it fails (default 5 s). */
  commandTimeoutMs?: number;
}

/**
 * Operations per batch at most, so one holds the server for a millisecond or so. A full
 * batch goes out at once, so the server works on it while the client makes the next.
 */
const MAX_BATCH = 1000;

/** globEscape quotes the characters SCAN's MATCH treats as wildcards. */
const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * RedisConn owns the command connection and, on first watch, a subscriber connection.
 * Operations made in the same tick go to the server as one batch script call (see
 * redis-scripts.ts and redis-batch.ts; one per MAX_BATCH operations), in the order they
 * were made on each key; the operations of one kind on one key are merged into one
 * (submit), so a burst of sets, gets, pushes, pops or increments costs Node and Redis about
 * one command per key, not per operation. The few plain commands (SCAN, HGETALL, MGET) go
 * through ioredis's auto-pipelining. It turns every failure into a
 * REMON_ERR_SHARED_BACKEND error. ioredis reconnects by itself; while the server is away,
 * operations fail at once instead of queueing, so a block that uses shared state reports the
 * outage as its failure instead of hanging.
 */
export class RedisConn {
  readonly client: Redis;
  readonly prefix: string;
  readonly where: string;
  /** The glob of this setup's watch channels, which batches name (see redis-scripts.ts). */
  private readonly watchPattern: string;
  private readonly log?: Logger;
  private subscriber?: Redis;
  private readonly channels = new Map<string, { listeners: Set<(message: string) => void>; ready: Promise<void> }>();
  private everReady = false;
  private down?: { since: Date; reason: string };
  private closed = false;
  /** The batch being filled (the ones before it in this tick are full and sent). */
  private current?: Batch;
  /**
   * The unit that last touched each key in this tick: only it may take more operations on
   * it. The keys of the batch's last unit, when a spread one, are recorded only when
   * something reads this or comes after it (recordTouches): a burst of gets or sets over
   * many buckets, alone in its batch, records none.
   */
  private lastTouch = new Map<string, Unit | SpreadUnit>();
  private flushing = false;

  constructor(options: RedisOptions) {
    this.prefix = options.prefix ?? 'remon:';
    this.log = options.log;
    this.where = redactUrl(options.url);
    this.watchPattern = `${globEscape(this.key('w:', ''))}*`;
    this.client = new Redis(options.url, {
      enableAutoPipelining: true,
      // A command sent while the connection is being (re)made fails after one retry
      // instead of waiting for ever.
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 3000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    this.client.on('ready', () => {
      this.everReady = true;
      if (this.down) this.log?.info({ redis: this.where, since: this.down.since.toISOString() }, 'shared redis reachable again');
      this.down = undefined;
    });
    this.client.on('error', (err: Error) => this.noteDown(err.message));
    this.client.on('close', () => this.noteDown('connection closed'));
  }

  /** key is a prefixed key: `key('s:', bucket)`. */
  key(kind: string, name: string): string {
    return `${this.prefix}${kind}${name}`;
  }

  /**
   * call performs one operation of redis-scripts.ts (its keys, then its arguments) as a
   * whole public method: it fails at once while the server is known to be away, and its
   * errors are RemonErrors naming `what`.
   */
  call(what: string, name: OpName, ...args: Array<string | number>): Promise<unknown> {
    const n = OPS[name].numberOfKeys;
    return this.submit(what, name, args.slice(0, n).map(String), args.slice(n));
  }

  /** op queues one operation of redis-scripts.ts inside run(), which checks and translates. */
  op(name: OpName, ...args: Array<string | number>): Promise<unknown> {
    const n = OPS[name].numberOfKeys;
    return this.submit(undefined, name, args.slice(0, n).map(String), args.slice(n));
  }

  /**
   * submit adds an operation to this tick's pipeline: `name` with its `keys` and `args` (a
   * fresh array: merging extends it);
   * `map` turns its reply (its share of a merged reply) into its result. With `what` it is
   * a whole public method (fails at once while the server is known to be away; errors name
   * `what`); without, it runs inside run(), which does both.
   *
   * The pipeline keeps the order of the operations on each key. An operation that can merge
   * (`merge`; `n` is its increment for a summing one) joins the unit that last touched its
   * keys when that unit merges the same way — nothing between them touched those keys, so
   * doing it there is the same as doing it after; other operations go to the end of the
   * last batch. Operations on different keys made in the same tick are concurrent (none has
   * returned), so any order among them is one their callers could have seen.
   */
  submit<T = unknown>(
    what: string | undefined,
    name: OpName,
    keys: readonly string[],
    args: Array<string | number>,
    merge?: Merge,
    map?: (reply: unknown) => T,
    n = 0,
  ): Promise<T> {
    if (what !== undefined) {
      const unusable = this.unusable(what);
      if (unusable) return Promise.reject(unusable);
    }
    this.recordTouches();
    const last = merge ? this.mergeTarget(merge, keys) : undefined;
    if (last) {
      const { fixed, sum } = last.merge!;
      if (sum) last.args[fixed] = Number(last.args[fixed]) + Number(args[fixed]);
      else for (let i = fixed; i < args.length; i++) last.args.push(args[i]);
      if (last.promise) {
        this.added(last.cmd);
        return last.promise as Promise<T>;
      }
    }
    let unit: Unit | undefined;
    const promise = new Promise<T>((resolve, reject) => {
      const part: Part = { what, n, map, resolve: resolve as (v: unknown) => void, reject };
      if (last) {
        last.parts.push(part);
        return;
      }
      const cmd = this.batch();
      unit = { name, keys, args, merge, parts: [part], cmd, seq: cmd.units.length };
      cmd.units.push(unit);
      for (const k of keys) this.lastTouch.set(k, unit);
    });
    if (unit && merge?.shared) unit.promise = promise;
    this.added((last ?? unit!).cmd);
    return promise;
  }

  /**
   * submitSpread adds an operation on one key to this tick's pipeline in a spread unit
   * (see redis-spread.ts): `k` is the key as its caller keeps it (its RESP text made once),
   * `item` (and `item2`) the operation's own arguments, `map` turns its share of the reply
   * into its result. It joins the batch's last unit of its kind unless
   * an operation made after that unit was placed touched the key (that one must run
   * first): the unit then runs it where it stands, which is the same as running it last,
   * as nothing after the unit touched the key. Operations on different keys made in the
   * same tick are concurrent, so running them together in one place is an order their
   * callers could have seen. A public method: fails at once while the server is known to
   * be away.
   */
  submitSpread<T = unknown>(spread: Spread, k: SpreadKey, item: string, item2?: string, map?: (share: unknown) => T): Promise<T> {
    const unusable = this.unusable(spread.what);
    if (unusable) return Promise.reject(unusable);
    const cmd = this.batch();
    const units = cmd.units;
    const key = k.key;
    let u = cmd.spreads?.[spread.id];
    if (u !== undefined && u.seq !== units.length - 1) {
      // Units came after it: it may take the operation only if none of them touched the key.
      this.recordTouches();
      const lt = this.lastTouch.get(key);
      if (lt !== undefined && lt.cmd === cmd && lt.seq > u.seq) u = undefined;
    }
    if (u === undefined) {
      this.recordTouches();
      u = new SpreadUnit(spread, cmd, units.length);
      units.push(u);
      (cmd.spreads ??= [])[spread.id] = u;
    }
    const joins = u.lastKey === key;
    u.add(k, item, item2);
    // Only the batch's last unit may leave its touches unrecorded.
    if (!joins && u.seq !== units.length - 1) {
      this.lastTouch.set(key, u);
      u.touched = u.keys.length;
    }
    if (joins && spread.shared) {
      this.added(cmd);
      return u.promise as Promise<T>;
    }
    const res = u.res;
    const promise = new Promise<T>((resolve) => {
      res[res.length] = resolve as (v: unknown) => void;
    });
    if (map) (u.maps ??= [])[res.length - 1] = map;
    if (spread.shared) u.promise = promise;
    this.added(cmd);
    return promise;
  }

  /**
   * recordTouches records the keys of the batch's last unit, when it is a spread unit that
   * has not yet: it is the last to touch each of them.
   */
  private recordTouches(): void {
    const units = this.current?.units;
    const last = units?.[units.length - 1];
    if (!(last instanceof SpreadUnit) || last.touched === last.keys.length) return;
    const keys = last.keys;
    for (let i = last.touched; i < keys.length; i++) this.lastTouch.set(keys[i], last);
    last.touched = keys.length;
  }

  /** batch is the batch being filled, made (and its send planned for the end of the tick) when there is none. */
  private batch(): Batch {
    let cmd = this.current;
    if (!cmd) {
      cmd = this.current = { units: [], weight: 0 };
      if (!this.flushing) {
        this.flushing = true;
        process.nextTick(() => this.flush());
      }
    }
    return cmd;
  }

  /** added counts an operation into a batch, and sends the batch when it is full. */
  private added(cmd: Batch): void {
    if (++cmd.weight >= MAX_BATCH) this.sendCurrent();
  }

  /**
   * mergeTarget: the unit an operation merging by `merge` on `keys` joins — the last to touch
   * them, in the batch being filled, merging the same way — or undefined.
   */
  private mergeTarget(merge: Merge, keys: readonly string[]): Unit | undefined {
    const last = this.lastTouch.get(keys[0]);
    if (last === undefined || last instanceof SpreadUnit) return undefined;
    return last.merge?.tag === merge.tag && last.cmd === this.current && this.onlyToucher(last, keys) ? last : undefined;
  }

  /** onlyToucher: whether the unit has these keys and is the last to touch each of them. */
  private onlyToucher(u: Unit, keys: readonly string[]): boolean {
    if (u.keys.length !== keys.length) return false;
    for (let i = 0; i < keys.length; i++) if (u.keys[i] !== keys[i] || (i > 0 && this.lastTouch.get(keys[i]) !== u)) return false;
    return true;
  }

  private flush(): void {
    this.flushing = false;
    this.sendCurrent();
    if (this.lastTouch.size > 0) this.lastTouch = new Map();
  }

  /**
   * sendCurrent sends the batch being filled. Batches are sent in the order they were
   * made, over one connection, so the operations on each key reach the server in order.
   */
  private sendCurrent(): void {
    const cmd = this.current;
    if (!cmd) return;
    this.current = undefined;
    const units = cmd.units;
    const text = new BatchText(this.watchPattern, this.prefix);
    for (const u of units) {
      if (u instanceof SpreadUnit) text.addSpread(u);
      else text.add(u.name, u.keys, u.args);
    }
    sendBatch(this.client, text).then(
      (replies) => {
        for (let i = 0; i < units.length; i++) {
          const u = units[i];
          const r = replies[i];
          if (u instanceof SpreadUnit) {
            if (r instanceof Error) u.fail(r, (err) => this.translate(u.spread.what, err));
            else u.settle(r, (err) => this.translate(u.spread.what, err));
          } else if (r instanceof Error) for (const p of u.parts) this.fail(p, r);
          else this.settle(u, r);
        }
      },
      (err) => {
        for (const u of units) {
          if (u instanceof SpreadUnit) u.fail(err, (e) => this.translate(u.spread.what, e));
          else for (const p of u.parts) this.fail(p, err);
        }
      },
    );
  }

  /** settle hands a unit's reply to its parts: a merged one split (see Merge). */
  private settle(u: Unit, reply: unknown): void {
    const parts = u.parts;
    const m = u.merge;
    if (m) return this.splitTo(parts, () => m.split(reply, parts, u.args));
    this.resolve(parts[0], reply);
  }

  /** splitTo resolves each part with its result from split, or rejects them all when split throws. */
  private splitTo(parts: readonly Part[], split: () => unknown[]): void {
    let results: unknown[];
    try {
      results = split();
    } catch (err) {
      for (const p of parts) p.reject(err);
      return;
    }
    for (let i = 0; i < parts.length; i++) this.resolve(parts[i], results[i]);
  }

  private resolve(p: Part, v: unknown): void {
    if (!p.map) return p.resolve(v);
    try {
      p.resolve(p.map(v));
    } catch (err) {
      p.reject(err);
    }
  }

  /**
   * run performs an operation: it fails at once while the server is known to be away, and
   * translates any error into a RemonError.
   */
  run<T>(what: string, op: () => Promise<T>): Promise<T> {
    const unusable = this.unusable(what);
    if (unusable) return Promise.reject(unusable);
    return op().catch((err: unknown) => {
      throw this.translate(what, err);
    });
  }

  private unusable(what: string): RemonError | undefined {
    if (this.closed) return closedError('redis');
    if (this.everReady && this.client.status !== 'ready') return this.unreachable(what);
    return undefined;
  }

  private fail(p: Part, err: unknown): void {
    p.reject(p.what === undefined ? err : this.translate(p.what, err));
  }

  /** scanNames lists the names after `kind` of the keys that exist, sorted. */
  async scanNames(kind: string): Promise<string[]> {
    const start = this.key(kind, '');
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${globEscape(start)}*`, 'COUNT', 1000);
      for (const k of keys) names.add(k.slice(start.length));
      cursor = next;
    } while (cursor !== '0');
    return [...names].sort();
  }

  /** subscribe adds a listener to a channel; the subscription is in place when it resolves. */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    if (!this.subscriber) {
      this.subscriber = this.client.duplicate({ enableAutoPipelining: false });
      this.subscriber.on('error', () => {}); // the command connection reports outages
      this.subscriber.on('message', (ch: string, message: string) => {
        for (const l of this.channels.get(ch)?.listeners ?? []) l(message);
      });
    }
    let entry = this.channels.get(channel);
    if (!entry) {
      const listeners = new Set<(message: string) => void>();
      const ready = this.subscriber.subscribe(channel).then(() => undefined);
      this.channels.set(channel, (entry = { listeners, ready }));
      // A failed SUBSCRIBE leaves nothing behind: the next watch of the channel tries again.
      ready.catch(() => {
        if (this.channels.get(channel) === entry) this.channels.delete(channel);
      });
    }
    // Every watcher of a channel waits for the one SUBSCRIBE that serves them all.
    await entry.ready;
    const e = entry;
    e.listeners.add(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      e.listeners.delete(listener);
      if (e.listeners.size === 0 && this.channels.get(channel) === e) {
        this.channels.delete(channel);
        this.subscriber?.unsubscribe(channel).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [this.client, this.subscriber]) {
      if (!c) continue;
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }
  }

  private noteDown(reason: string): void {
    if (this.closed) return;
    if (!this.down) {
      this.down = { since: new Date(), reason };
      this.log?.warn({ redis: this.where, err: reason }, 'shared redis unreachable; reconnecting');
    } else if (reason !== 'connection closed') {
      this.down.reason = reason;
    }
  }

  private unreachable(what: string, cause?: unknown): RemonError {
    const reason = this.down?.reason ?? (cause ? errorMessage(cause) : this.client.status);
    const since = this.down ? ` since ${this.down.since.toISOString()}` : '';
    return createError('REMON_ERR_SHARED_BACKEND', `${what}: redis at ${this.where} is unreachable${since} (${reason}); remon keeps reconnecting`, cause);
  }

  private translate(what: string, err: unknown): RemonError {
    if (err instanceof RemonError) return err;
    const name = (err as Error)?.name;
    // A reply error is the server refusing the command (e.g. WRONGTYPE); anything else is
    // the connection: closed, timed out, refused.
    if (name === 'ReplyError') return createError('REMON_ERR_SHARED_BACKEND', `${what}: redis at ${this.where} refused: ${errorMessage(err)}`, err);
    return this.unreachable(what, err);
  }
}
