import Redis from 'ioredis';
import { createError, errorMessage, RemonError } from '../errors';
import { Logger } from '../log';
import { redactUrl } from '../util/url';
import { closedError } from './common';
import { BatchText, sendBatch } from './redis-batch';
import { OpName, OPS } from './redis-scripts';
import type { Batch, Merge, Part, Spread, Unit } from './redis-units';

export { KeyCache, splitJson, splitRunning } from './redis-units';
export type { Merge, Part, Spread } from './redis-units';

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
  /** The unit that last touched each key in this tick: only it may take more operations on it. */
  private lastTouch = new Map<string, Unit>();
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
   * (see Spread): `head` are the key's arguments (written once per group), `item` (and
   * `item2`) the operation's own. It joins the batch's last unit of its kind unless an operation made
   * after that unit was placed touched the key (that one must run first): the unit then
   * runs it where it stands, which is the same as running it last, as nothing after the
   * unit touched the key. Operations on different keys made in the same tick are
   * concurrent, so running them together in one place is an order their callers could
   * have seen. A public method (`what`): fails at once while the server is known to be away.
   */
  submitSpread<T = unknown>(
    what: string,
    name: OpName,
    key: string,
    head: ReadonlyArray<string | number>,
    spread: Spread,
    map: ((reply: unknown) => T) | undefined,
    item: string | number,
    item2?: string | number,
  ): Promise<T> {
    const unusable = this.unusable(what);
    if (unusable) return Promise.reject(unusable);
    const cmd = this.batch();
    let unit = cmd.spreads?.get(spread.tag);
    if (unit) {
      const lt = this.lastTouch.get(key);
      if (lt !== undefined && lt.cmd === cmd && lt.seq > unit.seq) unit = undefined;
    }
    if (!unit) {
      unit = { name, keys: [], args: [], parts: [], cmd, seq: cmd.units.length, spread, groups: [] };
      cmd.units.push(unit);
      (cmd.spreads ??= new Map()).set(spread.tag, unit);
    }
    const u = unit;
    const args = u.args;
    const groups = u.groups!;
    if (u.lastKey === key) {
      groups[groups.length - 1]++;
      u.uneven = true;
      args.push(item);
      if (item2 !== undefined) args.push(item2);
      if (spread.shared) {
        this.added(cmd);
        return u.promise as Promise<T>;
      }
    } else {
      u.lastKey = key;
      for (let i = 0; i < head.length; i++) args.push(head[i]);
      args.push(item);
      if (item2 !== undefined) args.push(item2);
      groups.push(1);
      this.lastTouch.set(key, u);
    }
    const promise = new Promise<T>((resolve, reject) => {
      u.parts.push({ what, n: 0, map, resolve: resolve as (v: unknown) => void, reject });
    });
    if (spread.shared) u.promise = promise;
    this.added(cmd);
    return promise;
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
    return last && last.merge?.tag === merge.tag && last.cmd === this.current && this.onlyToucher(last, keys) ? last : undefined;
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
    this.lastTouch = new Map();
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
      // A spread unit's last argument is its shape (see Spread).
      if (u.groups) u.args.push(u.uneven ? u.groups.join(',') : '');
      text.add(u.name, u.keys, u.args);
    }
    sendBatch(this.client, text).then(
      (replies) => units.forEach((u, i) => (replies[i] instanceof Error ? u.parts.forEach((p) => this.fail(p, replies[i])) : this.settle(u, replies[i]))),
      (err) => units.forEach((u) => u.parts.forEach((p) => this.fail(p, err))),
    );
  }

  /** settle hands a unit's reply to its parts: a merged one split (see Merge), a spread one per group (see Spread). */
  private settle(u: Unit, reply: unknown): void {
    const parts = u.parts;
    const m = u.merge;
    if (m) return this.splitTo(parts, () => m.split(reply, parts, u.args));
    const spread = u.spread;
    if (!spread) return this.resolve(parts[0], reply);
    if (!Array.isArray(reply)) return this.splitTo(parts, () => spread.split(reply, parts));
    // Some groups were refused: a reply or an error per group (a shared group has one part).
    let at = 0;
    u.groups!.forEach((n, g) => {
      const mine = parts.slice(at, (at += spread.shared ? 1 : n));
      const r = reply[g];
      if (r instanceof Error) for (const p of mine) this.fail(p, r);
      else this.splitTo(mine, () => spread.split(r, mine));
    });
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
