/**
 * The shared primitives blocks, pipe steps, pages and RPC coordinate with: state, counters,
 * locks and queues. Every method is asynchronous because a backend may be remote (Redis);
 * values are JSON, copied in and out, so no caller ever holds a reference into shared data.
 *
 * Both backends (memory.ts, redis.ts) keep the same semantics; test/shared.test.ts runs one
 * suite against each. Errors are RemonErrors: REMON_ERR_SHARED_BACKEND when the backend
 * cannot be reached or fails, REMON_ERR_SHARED_INVALID for a bad argument, and the lock
 * codes below.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** StateEntry is one key of a bucket and its value. */
export interface StateEntry {
  bucket: string;
  key: string;
  value: Json;
}

/** StateChange tells a watcher that a key was set (value) or deleted (value undefined). */
export interface StateChange {
  bucket: string;
  key: string;
  value: Json | undefined;
}

/** Unwatch ends a watch; calling it twice is harmless. */
export type Unwatch = () => void;

/** SearchOptions narrows a search to one bucket and caps the number of entries returned. */
export interface SearchOptions {
  bucket?: string;
  limit?: number;
}

/**
 * StateStore: buckets of keys holding JSON values. A bucket exists while it holds a key.
 * Buckets named persistent in the config survive a restart of the node.
 */
export interface StateStore {
  /** get returns the value, or `fallback` (default undefined) when the key is not set. */
  get(bucket: string, key: string, fallback?: Json): Promise<Json | undefined>;
  set(bucket: string, key: string, value: Json): Promise<void>;
  /** getSet sets the value and returns the previous one (undefined when there was none). */
  getSet(bucket: string, key: string, value: Json): Promise<Json | undefined>;
  /** setIfAbsent sets the value only when the key is not set, and says whether it did. */
  setIfAbsent(bucket: string, key: string, value: Json): Promise<boolean>;
  /** delete removes a key and says whether it was there. */
  delete(bucket: string, key: string): Promise<boolean>;
  exists(bucket: string, key: string): Promise<boolean>;
  /** keys of a bucket, sorted. */
  keys(bucket: string): Promise<string[]>;
  /** buckets that hold at least one key, sorted. */
  buckets(): Promise<string[]>;
  /**
   * search returns the entries whose bucket name, key, or value as JSON text matches the
   * regular expression, sorted by bucket and key. A string pattern is compiled with `new
   * RegExp`; an invalid one is REMON_ERR_SHARED_INVALID.
   */
  search(pattern: RegExp | string, options?: SearchOptions): Promise<StateEntry[]>;
  /**
   * watch calls `listener` after every change to the bucket (or to one key of it, when
   * `key` is given), whoever made it — on Redis, any node. The watch is in place when the
   * promise resolves. Changes made while a Redis backend is unreachable are not replayed.
   */
  watch(bucket: string, key: string | undefined, listener: (change: StateChange) => void): Promise<Unwatch>;
}

/** Counters: named integers; a counter that was never set is 0. */
export interface Counters {
  get(name: string): Promise<number>;
  set(name: string, value: number): Promise<void>;
  /** incr adds n (default 1, may be negative) and returns the new value. */
  incr(name: string, n?: number): Promise<number>;
  /** getIncr adds n (default 1) and returns the value before. */
  getIncr(name: string, n?: number): Promise<number>;
  /** all counters that were set or incremented, by name. */
  all(): Promise<Record<string, number>>;
}

/** LockOptions: how long a grant lasts (ttlMs) and how long to wait for one (waitMs). */
export interface LockOptions {
  ttlMs: number;
  /** 0 (the default) tries once. */
  waitMs?: number;
}

/**
 * LockHandle is one grant of a lock. `token` is the fencing token: it grows with every
 * grant of the same lock name, so whatever the holder protects can refuse writes that carry
 * a token lower than one it has seen (a holder that stalled past its ttl).
 */
export interface LockHandle {
  readonly name: string;
  readonly token: number;
  /** Who holds it: the node's owner id (host, pid and a random part). */
  readonly owner: string;
  /** When the grant ends unless extended (ms since the epoch, by this node's clock). */
  readonly expiresAt: number;
}

/** LockInfo describes a lock that is held now. */
export interface LockInfo {
  name: string;
  token: number;
  owner: string;
  expiresAt: number;
}

/**
 * Locks: named mutual exclusion with a time to live. A holder that dies or stalls loses the
 * lock when its ttl passes. Releasing (or extending) a grant that is no longer the current
 * one is REMON_ERR_SHARED_LOCK_NOT_HELD; not getting a lock within waitMs is
 * REMON_ERR_SHARED_LOCK_TIMEOUT.
 */
export interface Locks {
  acquire(name: string, options: LockOptions): Promise<LockHandle>;
  /** tryAcquire tries once and returns undefined when the lock is held. */
  tryAcquire(name: string, options: { ttlMs: number }): Promise<LockHandle | undefined>;
  /** extend gives a grant that is still current a new ttl, from now. */
  extend(handle: LockHandle, ttlMs: number): Promise<LockHandle>;
  release(handle: LockHandle): Promise<void>;
  isLocked(name: string): Promise<boolean>;
  /** list of held locks, sorted by name. */
  list(): Promise<LockInfo[]>;
}

/**
 * QueueOptions bound a queue when a message is pushed: past maxLength the oldest messages
 * are dropped; a message older than maxAgeMs is dropped from the oldest end by the next
 * operation on the queue (and is never returned).
 */
export interface QueueOptions {
  maxLength?: number;
  maxAgeMs?: number;
}

/** ConsumeOptions for a consumer group read. */
export interface ConsumeOptions {
  /** Messages at most (default 1). */
  count?: number;
  /** Wait this long for a message when there is none (default 0: return at once). */
  waitMs?: number;
  /**
   * A delivered message not acknowledged within this time (default 30 s) is delivered
   * again, to whichever consumer of the group reads next.
   */
  visibilityMs?: number;
}

/** Delivery is one message handed to a consumer of a group. */
export interface Delivery {
  /** The message id, for ack. Ids grow in push order. */
  id: string;
  message: Json;
  /** True when an earlier delivery of the message timed out unacknowledged. */
  redelivered: boolean;
}

/**
 * Queues: named FIFO message queues, read two ways.
 *
 * As a list: push, popOldest/popNewest (a pop removes the message from the list), peek,
 * length, all.
 *
 * As a work queue, by consumer groups: a queue's first group starts the queue's group log
 * with the messages the list holds then, and every later push is added to it too. Each
 * group reads the whole log (a group made later starts at its oldest entry); within a group
 * each message goes to one consumer, and again to a consumer of the group when it was not
 * acknowledged within its visibility timeout. Pops do not touch the log, and groups do not
 * touch the list. The log keeps maxLength entries at most, and drops what every group has
 * acknowledged.
 */
export interface Queues {
  /** push appends a message and returns the queue's length after it. */
  push(queue: string, message: Json, options?: QueueOptions): Promise<number>;
  popOldest(queue: string): Promise<Json | undefined>;
  popNewest(queue: string): Promise<Json | undefined>;
  /** peek reads up to n of the newest messages without removing them, oldest first. */
  peek(queue: string, n?: number): Promise<Json[]>;
  length(queue: string): Promise<number>;
  /** all messages, oldest first. */
  all(queue: string): Promise<Json[]>;
  /** names of the queues that hold messages, sorted. */
  names(): Promise<string[]>;
  /** consume reads messages for one consumer of a group: redeliveries first, then new ones. */
  consume(queue: string, group: string, consumer: string, options?: ConsumeOptions): Promise<Delivery[]>;
  /** ack acknowledges deliveries and returns how many were still awaiting acknowledgement. */
  ack(queue: string, group: string, ids: string | readonly string[]): Promise<number>;
  /** pending counts a group's delivered, unacknowledged messages. */
  pending(queue: string, group: string): Promise<number>;
}

/** Shared bundles the primitives of one backend. */
export interface Shared {
  readonly kind: 'memory' | 'redis';
  readonly state: StateStore;
  readonly counters: Counters;
  readonly locks: Locks;
  readonly queues: Queues;
  /** owner names this node in lock grants. */
  readonly owner: string;
  /**
   * close ends connections (Redis: operations after it fail) and closes the persistent
   * state files (memory: writes to persistent buckets after it fail).
   */
  close(): Promise<void>;
}
