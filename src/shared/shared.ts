/**
 * The shared primitives blocks, pipe steps, pages and RPC coordinate with. Every method is
 * asynchronous because a backend may be remote (Redis); values are JSON.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** StateStore: buckets of keys holding JSON values. */
export interface StateStore {
  get(bucket: string, key: string, fallback?: Json): Promise<Json | undefined>;
  set(bucket: string, key: string, value: Json): Promise<void>;
  delete(bucket: string, key: string): Promise<boolean>;
  keys(bucket: string): Promise<string[]>;
  buckets(): Promise<string[]>;
}

/** Counters: named integers; a new counter is 0. */
export interface Counters {
  get(name: string): Promise<number>;
  set(name: string, value: number): Promise<void>;
  /** incr adds n (default 1) and returns the new value. */
  incr(name: string, n?: number): Promise<number>;
  all(): Promise<Record<string, number>>;
}

/** QueueOptions bounds a queue: the oldest messages are dropped past maxLength. */
export interface QueueOptions {
  maxLength?: number;
}

/** Queues: named FIFO message queues. */
export interface Queues {
  push(queue: string, message: Json, options?: QueueOptions): Promise<number>;
  popOldest(queue: string): Promise<Json | undefined>;
  popNewest(queue: string): Promise<Json | undefined>;
  /** peek reads up to n of the newest messages without removing them, oldest first. */
  peek(queue: string, n?: number): Promise<Json[]>;
  length(queue: string): Promise<number>;
}

/** Shared bundles the primitives of one backend. */
export interface Shared {
  readonly kind: string;
  readonly state: StateStore;
  readonly counters: Counters;
  readonly queues: Queues;
  close(): Promise<void>;
}
