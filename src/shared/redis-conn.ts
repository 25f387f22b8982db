import Redis from 'ioredis';
import { createError, errorMessage, RemonError } from '../errors';
import { Logger } from '../log';
import { closedError } from './common';
import { BATCH_SCRIPT, OpName, OPS } from './redis-scripts';

/** RedisOptions: the server, the key prefix, and where to log connection changes. */
export interface RedisOptions {
  url: string;
  /** Prefix of every key and channel (default "remon:"), so several remon setups can share a server. */
  prefix?: string;
  log?: Logger;
  /** How long a command may take before it fails (default 5 s). */
  commandTimeoutMs?: number;
}

type BatchFn = (...args: Array<string | number>) => Promise<unknown[]>;

interface QueuedOp {
  /** For call(): the operation's name in error messages (op() leaves errors to run()). */
  what?: string;
  name: OpName;
  args: Array<string | number>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Operations per EVALSHA at most, so one batch holds the server for a millisecond or so. */
const MAX_BATCH = 512;

/** globEscape quotes the characters SCAN's MATCH treats as wildcards. */
const globEscape = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');

/**
 * RedisConn owns the command connection and, on first watch, a subscriber connection.
 * Operations (op) made in the same tick go to the server as one batch script call (see
 * redis-scripts.ts), in the order they were made; batches and the few plain commands
 * share round trips through ioredis's auto-pipelining. It turns every failure into a
 * REMON_ERR_SHARED_BACKEND error. ioredis reconnects by itself; while the server is away,
 * operations fail at once instead of queueing, so a block that uses shared state reports the
 * outage as its failure instead of hanging.
 */
export class RedisConn {
  readonly client: Redis;
  readonly prefix: string;
  readonly where: string;
  private readonly log?: Logger;
  private subscriber?: Redis;
  private readonly channels = new Map<string, { listeners: Set<(message: string) => void>; ready: Promise<void> }>();
  private everReady = false;
  private down?: { since: Date; reason: string };
  private closed = false;
  private queued: QueuedOp[] = [];
  private readonly increments = new Map<string, { op: QueuedOp; parts: Array<{ n: number; resolve: (v: number) => void; reject: (err: unknown) => void }> }>();
  private flushing = false;

  constructor(options: RedisOptions) {
    this.prefix = options.prefix ?? 'remon:';
    this.log = options.log;
    this.where = redactUrl(options.url);
    this.client = new Redis(options.url, {
      enableAutoPipelining: true,
      // A command sent while the connection is being (re)made fails after one retry
      // instead of waiting for ever.
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 3000,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    });
    this.client.defineCommand('remonBatch', { lua: BATCH_SCRIPT });
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
    const unusable = this.unusable(what);
    if (unusable) return Promise.reject(unusable);
    return this.queue(what, name, args);
  }

  /** op queues one operation inside run(), which checks and translates. */
  op(name: OpName, ...args: Array<string | number>): Promise<unknown> {
    return this.queue(undefined, name, args);
  }

  private queue(what: string | undefined, name: OpName, args: Array<string | number>): Promise<unknown> {
    if (name === 'remonCounterIncr') return this.incr(what, String(args[0]), Number(args[1]));
    // Anything else on a counter ends the increments of it that can be combined.
    if (name === 'remonCounterGet' || name === 'remonCounterSet') this.increments.delete(String(args[0]));
    return new Promise((resolve, reject) => this.enqueue({ what, name, args, resolve, reject }));
  }

  /**
   * incr combines the increments of one counter made in the same tick into one INCRBY and
   * hands each caller the value it would have seen one at a time. The batch runs atomically,
   * so no other client can tell; a get or set of the counter in between starts a new one.
   */
  private incr(what: string | undefined, key: string, n: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const merged = this.increments.get(key);
      if (merged) {
        merged.parts.push({ n, resolve, reject });
        merged.op.args[1] = Number(merged.op.args[1]) + n;
        return;
      }
      const parts = [{ n, resolve, reject }];
      const op: QueuedOp = {
        what,
        name: 'remonCounterIncr',
        args: [key, n],
        resolve: (total) => {
          let v = Number(total) - Number(op.args[1]);
          for (const p of parts) p.resolve((v += p.n));
        },
        reject: (err) => parts.forEach((p) => p.reject(err)),
      };
      this.increments.set(key, { op, parts });
      this.enqueue(op);
    });
  }

  private enqueue(op: QueuedOp): void {
    this.queued.push(op);
    if (!this.flushing) {
      this.flushing = true;
      process.nextTick(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    this.increments.clear();
    const all = this.queued;
    this.queued = [];
    for (let i = 0; i < all.length; i += MAX_BATCH) this.send(all.slice(i, i + MAX_BATCH));
  }

  private send(batch: QueuedOp[]): void {
    const ops: Array<Array<string | number>> = [];
    for (const o of batch) ops.push([o.name, OPS[o.name].numberOfKeys, ...o.args.map(String)]);
    (this.client as unknown as { remonBatch: BatchFn }).remonBatch(0, JSON.stringify(ops)).then(
      (replies) => batch.forEach((o, i) => (replies[i] instanceof Error ? this.fail(o, replies[i]) : o.resolve(replies[i]))),
      (err) => batch.forEach((o) => this.fail(o, err)),
    );
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

  private fail(o: QueuedOp, err: unknown): void {
    o.reject(o.what === undefined ? err : this.translate(o.what, err));
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

/** redactUrl drops a password from a redis:// URL for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
