import { bulkOf, LEAD, pushBulk } from './redis-batch';
import type { OpName } from './redis-scripts';
import type { Batch } from './redis-units';

/**
 * Spread says how operations of one kind on different keys share one unit (see
 * RedisConn.submitSpread): each key's operations are a group of the unit's arguments —
 * the key, then each operation's items — and a last argument, the shape, gives the
 * operations per group ("3,1,2"), or is empty when each group has one (a burst over many
 * keys). So a burst over a thousand buckets is one function call in the batch script, not
 * a thousand, at two or three arguments an operation.
 *
 * The reply of such a call is the unit's, or, when the server refused some of its groups,
 * an array of "!" then one reply or error per group.
 */
export interface Spread {
  /** A small integer naming the kind: a batch has at most one open unit of each (Batch.spreads[id]). */
  id: number;
  name: OpName;
  /** The public method, named in errors. */
  what: string;
  /** The operations of one group share one promise: writes that resolve to nothing (no split, no result). */
  shared?: boolean;
  /** split turns a reply (the unit's, or one group's) into the results of its n operations, in order; without it each result is undefined. */
  split?: (reply: unknown, n: number) => unknown[];
  /** result turns an operation's share of the reply into its result, for the operations that bring no map of their own. */
  result?: (share: unknown) => unknown;
}

/**
 * SpreadKey is what a spread operation's caller keeps of a key (one per key, e.g. a
 * bucket's hash): the key, it as a RESP bulk string, and the first item of the key's last
 * group, made into RESP text with the key's once it comes a second time — so a hot bucket
 * and key, read or written again and again, cost no encoding, and one that changes costs
 * no string.
 */
export class SpreadKey {
  /** The first item of its last group, and the group's text up to it (made when it comes again; "" until then). */
  item: unknown = '';
  headText = '';
  /** bulk is `key` as a RESP bulk string. */
  readonly bulk: string;

  constructor(readonly key: string) {
    this.bulk = flat(bulkOf(key));
  }
}

/** flat is a concatenation made one string (V8 does so the first time a character is read), so a join copies it as one piece. */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

const LEAD_PIECES: string[] = new Array<string>(LEAD).fill('');

/**
 * SpreadUnit is a spread operation's call in a batch while it is filled: the RESP text of
 * its arguments (written as operations join, so sending it copies strings, and nothing is
 * encoded twice), its groups, and one resolver per caller. It makes no object per
 * operation: its text is pieces (strings the operation brought, or made once before) the
 * batch joins once, a caller is its place in `res` (and `maps`, the few that bring one),
 * and a caller that fails is resolved with its rejection. (Building the text by
 * concatenation instead would make several small strings an operation, which the garbage
 * collector copies while the batch fills.)
 */
export class SpreadUnit {
  /**
   * The RESP text of its arguments so far, as pieces; the shape comes when it is sent. The
   * first unit of a batch starts with LEAD empty pieces, for the batch's own text before
   * it: the batch then takes its pieces as they are (see BatchText.addSpread), which saves
   * copying thousands of them in the usual case of a burst of one kind.
   */
  private pieces: string[];
  /** Its arguments so far. */
  argc = 0;
  /** Each group's key, in order, and the last one's. */
  readonly keys: string[] = [];
  lastKey?: string;
  /** keys[0..touched) are recorded as touched by it (RedisConn.lastTouch). */
  touched = 0;
  /** Operations per group, made when a group gets a second one (until then each has one). */
  groups?: number[];
  readonly res: Array<(v: unknown) => void> = [];
  /** The callers' own maps of their share of the reply, by place (sparse). */
  maps?: Array<((share: unknown) => unknown) | undefined>;
  /** A shared spread's promise of its last group. */
  promise?: Promise<unknown>;

  constructor(
    readonly spread: Spread,
    readonly cmd: Batch,
    /** Its place in its batch: units with a higher one run after it. */
    readonly seq: number,
  ) {
    this.pieces = seq === 0 ? LEAD_PIECES.slice() : [];
  }

  /** leads: its pieces start with LEAD empty ones. */
  get leads(): boolean {
    return this.seq === 0;
  }

  /** add appends an operation's arguments, `item` and `item2` (when given), in the last group when it is `k`'s, else in a new group. */
  add(k: SpreadKey, item: string, item2: string | undefined): void {
    const key = k.key;
    const newGroup = this.lastKey !== key;
    const p = this.pieces;
    if (!newGroup) pushBulk(p, typeof item === 'string' ? item : String(item));
    else if (k.item === item) p.push(k.headText === '' ? (k.headText = flat(k.bulk + bulkOf(typeof item === 'string' ? item : String(item)))) : k.headText);
    else {
      k.item = item;
      k.headText = '';
      p.push(k.bulk);
      pushBulk(p, typeof item === 'string' ? item : String(item));
    }
    if (item2 !== undefined) pushBulk(p, item2);
    this.argc += (newGroup ? 2 : 1) + (item2 === undefined ? 0 : 1);
    if (newGroup) {
      this.lastKey = key;
      const keys = this.keys;
      keys[keys.length] = key;
      if (this.groups) this.groups[this.groups.length] = 1;
    } else {
      const g = (this.groups ??= this.keys.map(() => 1));
      g[g.length - 1]++;
    }
  }

  /** reject fails caller i (a resolver takes a rejected promise: no second function is kept per caller). */
  private reject(i: number, err: unknown): void {
    this.res[i](Promise.reject(err));
  }

  /** take hands over its pieces (the batch's has them now) and forgets them. */
  take(): string[] {
    const p = this.pieces;
    this.pieces = [];
    return p;
  }

  /** shape is its last argument: the operations per group, empty when each group has one. */
  shape(): string {
    return this.groups ? this.groups.join(',') : '';
  }

  /**
   * settle hands the reply to the callers, or, when the server refused some groups (an
   * array of "!" and a reply or error per group), each group its own; `failed` makes a
   * caller's error of a refusal.
   */
  settle(reply: unknown, failed: (err: unknown) => unknown): void {
    if (!Array.isArray(reply) || reply[0] !== '!') return this.splitTo(0, this.res.length, reply);
    // A shared group has one caller.
    const shared = this.spread.shared === true;
    let at = 0;
    for (let g = 0; g < this.keys.length; g++) {
      const n = this.groups?.[g] ?? 1;
      const callers = shared ? 1 : n;
      const r = reply[g + 1];
      if (r instanceof Error) for (let i = at; i < at + callers; i++) this.reject(i, failed(r));
      else this.splitTo(at, callers, r);
      at += callers;
    }
  }

  /** fail rejects every caller. */
  fail(err: unknown, failed: (err: unknown) => unknown): void {
    for (let i = 0; i < this.res.length; i++) this.reject(i, failed(err));
  }

  /** splitTo resolves callers from..from+callers with their results of a reply for them, or rejects them all when the split throws. */
  private splitTo(from: number, callers: number, reply: unknown): void {
    const split = this.spread.split;
    let results: unknown[] | undefined;
    if (split) {
      try {
        results = split(reply, callers);
      } catch (err) {
        for (let i = from; i < from + callers; i++) this.reject(i, err);
        return;
      }
    }
    const maps = this.maps;
    const result = this.spread.result;
    for (let i = 0; i < callers; i++) {
      const v = results?.[i];
      const m = maps?.[from + i] ?? result;
      if (!m) this.res[from + i](v);
      else {
        try {
          this.res[from + i](m(v));
        } catch (err) {
          this.reject(from + i, err);
        }
      }
    }
  }
}
