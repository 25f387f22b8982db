import { createError } from '../errors';
import { checkInteger, checkName, compilePattern, decode, encode, matchEntry, newOwner, sortEntries } from './common';
import { KeyCache, Merge, RedisConn, RedisOptions, splitRunning, Spread, SpreadKey } from './redis-conn';
import { RedisLocks } from './redis-locks';
import { RedisQueues } from './redis-queues';
import { Counters, Json, SearchOptions, Shared, StateChange, StateEntry, StateStore, Unwatch } from './shared';

export type { RedisOptions };

/**
 * Merging: the gets made in the same tick are one function call for all buckets (see
 * RedisConn.submitSpread), a bucket's one HMGET (HGET for one), and so are the sets, a
 * bucket's one HSET (its sets share one promise: a set resolves to nothing); the increments
 * of a counter are one INCRBY (RedisConn.submit).
 */
const INCR: Merge = { tag: 'incr', fixed: 0, sum: true, split: splitRunning };
/** UNSET stands for a key that is not set in a split remonStateGets reply. */
const UNSET = Symbol('unset');

/**
 * splitGot splits remonStateGets's reply (see gotReply in redis-lua.ts): the flags (""
 * when every key was set, else "1" or "0" per get), then the values as JSON text in a few
 * pieces of an array's text without its brackets — one JSON.parse for them all.
 */
function splitGot(reply: unknown, n: number): unknown[] {
  const parts = reply as string[];
  const flags = parts[0];
  const values = JSON.parse(`[${parts.length === 2 ? parts[1] : parts.slice(1).join(',')}]`) as unknown[];
  if (values.length !== n) throw createError('REMON_ERR_SHARED_BACKEND', `state.get: redis answered ${values.length} values for ${n} gets`);
  if (flags !== '') for (let i = 0; i < n; i++) if (flags.charCodeAt(i) === 48 /* "0" */) values[i] = UNSET;
  return values;
}

/** got: a get's share of the split reply. */
const got = (e: unknown): Json | undefined => (e === UNSET ? undefined : (e as Json));

const GET: Spread = { id: 0, name: 'remonStateGets', what: 'state.get', split: splitGot, result: got };
const SET: Spread = { id: 1, name: 'remonStateSets', what: 'state.set', shared: true };


/** checkedValue checks a bucket and key name and encodes the value to store, or throws. */
function checkedValue(bucket: string, key: string, value: Json): string {
  checkName('bucket', bucket);
  checkName('key', key);
  return encode(value);
}

/**
 * RedisState: one hash per bucket; a change is published on the bucket's channel when
 * someone watches it. The gets made in the same tick are one remonStateGets, the sets one
 * remonStateSets, whatever the buckets.
 */
class RedisState implements StateStore {
  /** Per bucket: its hash (as a get's or set's group key, with its RESP text) and its channel. */
  private readonly keyCache = new KeyCache((bucket): { hash: string; group: SpreadKey; channel: string } => {
    const hash = this.c.key('s:', bucket);
    return { hash, group: new SpreadKey(hash), channel: this.c.key('w:', bucket) };
  });

  constructor(private readonly c: RedisConn) {}

  private hash(bucket: string): string {
    return this.keyCache.get(bucket).hash;
  }
  private channel(bucket: string): string {
    return this.keyCache.get(bucket).channel;
  }

  get(bucket: string, key: string, fallback?: Json): Promise<Json | undefined> {
    const map = fallback === undefined ? undefined : (e: unknown): Json | undefined => (e === UNSET ? fallback : (e as Json));
    return this.c.submitSpread(GET, this.keyCache.get(bucket).group, key, undefined, map) as Promise<Json | undefined>;
  }

  set(bucket: string, key: string, value: Json): Promise<void> {
    let text: string;
    try {
      text = checkedValue(bucket, key, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.c.submitSpread(SET, this.keyCache.get(bucket).group, key, text) as Promise<void>;
  }

  getSet(bucket: string, key: string, value: Json): Promise<Json | undefined> {
    return this.write('state.getSet', 'remonStateGetSet', bucket, key, value).then((old) => decode(old as string | null));
  }

  setIfAbsent(bucket: string, key: string, value: Json): Promise<boolean> {
    return this.write('state.setIfAbsent', 'remonStateSetNX', bucket, key, value).then((r) => r === 1);
  }

  delete(bucket: string, key: string): Promise<boolean> {
    return this.c.call('state.delete', 'remonStateDel', this.hash(bucket), key, this.channel(bucket)).then((r) => r === 1);
  }

  exists(bucket: string, key: string): Promise<boolean> {
    return this.c.call('state.exists', 'remonStateExists', this.hash(bucket), key).then((r) => r === 1);
  }

  keys(bucket: string): Promise<string[]> {
    return this.c.call('state.keys', 'remonStateKeys', this.hash(bucket)).then((r) => (r as string[]).sort());
  }

  /** write checks and encodes, then runs getSet's or setIfAbsent's script (which publish the change). */
  private write(what: string, op: 'remonStateGetSet' | 'remonStateSetNX', bucket: string, key: string, value: Json): Promise<unknown> {
    let text: string;
    try {
      text = checkedValue(bucket, key, value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.c.call(what, op, this.hash(bucket), key, text, this.channel(bucket));
  }

  buckets(): Promise<string[]> {
    return this.c.run('state.buckets', () => this.c.scanNames('s:'));
  }

  search(pattern: RegExp | string, options: SearchOptions = {}): Promise<StateEntry[]> {
    return this.c.run('state.search', async () => {
      const re = compilePattern(pattern);
      const buckets = options.bucket !== undefined ? [options.bucket] : await this.c.scanNames('s:');
      const out: StateEntry[] = [];
      for (const bucket of buckets) {
        const all = await this.c.client.hgetall(this.hash(bucket));
        for (const [key, text] of Object.entries(all)) if (matchEntry(re, bucket, key, text)) out.push({ bucket, key, value: decode(text)! });
      }
      sortEntries(out);
      return options.limit !== undefined ? out.slice(0, options.limit) : out;
    });
  }

  watch(bucket: string, key: string | undefined, listener: (change: StateChange) => void): Promise<Unwatch> {
    return this.c.run('state.watch', async () => {
      checkName('bucket', bucket);
      return this.c.subscribe(this.channel(bucket), (message) => {
        // One message carries the changes one operation (or one merged HSET) made, in order.
        for (const m of JSON.parse(message) as Array<{ key: string; value?: Json; deleted?: boolean }>) {
          if (key !== undefined && m.key !== key) continue;
          try {
            listener({ bucket, key: m.key, value: m.deleted ? undefined : m.value });
          } catch {
            // A watcher's failure is its own; the other watchers still hear of the change.
          }
        }
      });
    });
  }
}

/** RedisCounters: one string key per counter, changed with INCRBY. */
class RedisCounters implements Counters {
  constructor(private readonly c: RedisConn) {}

  get(name: string): Promise<number> {
    return this.c.call('counter.get', 'remonCounterGet', this.c.key('c:', name)).then((v) => Number(v ?? 0));
  }

  set(name: string, value: number): Promise<void> {
    try {
      checkName('counter', name);
      checkInteger('a counter value', value);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.c.call('counter.set', 'remonCounterSet', this.c.key('c:', name), value).then(() => undefined);
  }

  incr(name: string, n = 1): Promise<number> {
    try {
      checkName('counter', name);
      checkInteger('an increment', n);
    } catch (err) {
      return Promise.reject(err);
    }
    // The increments of one counter made in the same tick are one INCRBY; each caller gets
    // the value it would have seen alone (the batch runs atomically, so no one can tell).
    return this.c.submit('counter.incr', 'remonCounterIncr', [this.c.key('c:', name)], [n], INCR, undefined, n) as Promise<number>;
  }

  getIncr(name: string, n = 1): Promise<number> {
    return this.incr(name, n).then((v) => v - n);
  }

  all(): Promise<Record<string, number>> {
    return this.c.run('counter.all', async () => {
      const names = await this.c.scanNames('c:');
      if (names.length === 0) return {};
      const values = await this.c.client.mget(names.map((n) => this.c.key('c:', n)));
      const out: Record<string, number> = {};
      names.forEach((n, i) => {
        if (values[i] !== null) out[n] = Number(values[i]);
      });
      return out;
    });
  }
}

/**
 * createRedisShared builds the Redis backend (`shared.kind: redis`). It connects in the
 * background; operations made before the first connection wait for it (up to one retry),
 * and operations made while the server is away fail with REMON_ERR_SHARED_BACKEND.
 */
export function createRedisShared(options: RedisOptions): Shared {
  const c = new RedisConn(options);
  const owner = newOwner();
  return {
    kind: 'redis',
    owner,
    state: new RedisState(c),
    counters: new RedisCounters(c),
    locks: new RedisLocks(c, owner),
    queues: new RedisQueues(c),
    close: () => c.close(),
  };
}
