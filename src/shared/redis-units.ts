import type { OpName } from './redis-scripts';
import type { SpreadUnit } from './redis-spread';

// The units a RedisConn batches operations into, and how merged replies are split.

/**
 * Merge says how operations of one kind on one key become one: the arguments after the
 * first `fixed` ones are appended, or (`sum`) the argument at `fixed` is added up; and how
 * the merged reply is split into one result per operation, in order.
 */
export interface Merge {
  tag: string;
  fixed: number;
  sum?: boolean;
  /**
   * Every operation merged in shares the first one's promise: for writes that resolve to
   * nothing, so a burst of them costs one promise, not one each.
   */
  shared?: boolean;
  split: (reply: unknown, parts: readonly Part[], args: ReadonlyArray<string | number>) => unknown[];
}

/**
 * splitJson: the reply is the JSON text of an array, one element per operation (fewer when
 * the last ones got nothing) — one JSON.parse instead of one reply string per operation.
 */
export const splitJson = (reply: unknown): unknown[] => (reply === null ? [] : (JSON.parse(reply as string) as unknown[]));

/** splitRunning: the reply is a total after adding every operation's n (INCRBY); each gets the value it would have seen alone. */
export function splitRunning(reply: unknown, parts: readonly Part[], args: ReadonlyArray<string | number>): unknown[] {
  let v = Number(reply) - Number(args[0]);
  return parts.map((p) => (v += p.n));
}

/**
 * KeyCache makes the keys of a name (a bucket's hash and channel, a queue's list, marker and
 * log) once, so a hot name costs no string building; it forgets them all past `max` names.
 */
export class KeyCache<T> {
  private readonly map = new Map<string, T>();
  constructor(
    private readonly make: (name: string) => T,
    private readonly max = 10_000,
  ) {}

  get(name: string): T {
    let v = this.map.get(name);
    if (v === undefined) {
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(name, (v = this.make(name)));
    }
    return v;
  }
}

/** Part is one caller waiting on (its share of) a unit's reply. */
export interface Part {
  what?: string;
  /** For a summing merge: this operation's increment. */
  n: number;
  /** Turns this operation's share of the reply into its result. */
  map?: (reply: unknown) => unknown;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

/** Unit is one entry of a tick's pipeline: one operation, or several merged into one. */
export interface Unit {
  name: OpName;
  keys: readonly string[];
  /** Its own arguments, which merging extends. */
  args: Array<string | number>;
  merge?: Merge;
  parts: Part[];
  cmd: Batch;
  /** Its place in its batch: units with a higher one run after it. */
  seq: number;
  /** A shared merge's one promise. */
  promise?: Promise<unknown>;
}

/** Batch is one call of the batch script. */
export interface Batch {
  units: Array<Unit | SpreadUnit>;
  /** Operations in it, merged ones counted one by one. */
  weight: number;
  /** The last spread unit of each kind in it (by Spread.id), which operations of that kind join when they may. */
  spreads?: SpreadUnit[];
}
