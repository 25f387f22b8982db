import type { JsonSchema } from '../engine/block';
import { createError } from '../errors';
import { defineOp, noParams } from '../ops/operation';
import type { Json, LockInfo, StateEntry } from './shared';

/**
 * The shared-state operations: state, counters, locks and queues of the node's shared
 * backend (memory or redis), for JSON-RPC, the CLI and page scripts. Reads need no token,
 * writes do. Every answer is bounded: lists take a `limit` (a default and a maximum), and
 * a value written is at most VALUE_LIMIT bytes of JSON.
 */

/** VALUE_LIMIT: the largest value (as JSON text) state.set and queue.push take. */
export const VALUE_LIMIT = 64 * 1024;
/** LIST_DEFAULT and LIST_MAX bound the lists these operations answer. */
const LIST_DEFAULT = 1000;
const LIST_MAX = 10_000;

const name = (what: string): JsonSchema => ({ type: 'string', minLength: 1, maxLength: 200, 'x-expected': `a ${what} name (1-200 characters)` });
const key: JsonSchema = { type: 'string', minLength: 1, maxLength: 1000, 'x-expected': 'a key (1-1000 characters)' };
const limit = (max: number): JsonSchema => ({ type: 'integer', minimum: 1, maximum: max, 'x-expected': `a number from 1 to ${max}` });
const json: JsonSchema = { 'x-expected': 'any JSON value' };
const obj = (required: string[], properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', additionalProperties: false, required, properties });

/** checkSize refuses a value whose JSON text is over VALUE_LIMIT, before it reaches the backend. */
function checkSize(what: string, value: Json): void {
  const n = Buffer.byteLength(JSON.stringify(value) ?? '');
  if (n > VALUE_LIMIT) throw createError('REMON_ERR_OP_PARAMS', `${what} is ${n} bytes of JSON; at most ${VALUE_LIMIT} are taken`);
}

/** bounded keeps the first n of a list. */
const bounded = <T>(list: T[], n: number | undefined, dflt = LIST_DEFAULT): T[] => list.slice(0, n ?? dflt);

/** stateGet: one key's value; `exists` tells an unset key from a stored null. */
export const stateGet = defineOp<{ bucket: string; key: string }, { bucket: string; key: string; exists: boolean; value: Json }>({
  name: 'state.get',
  summary: 'The value of a key of a shared-state bucket: {bucket, key, exists, value} (value null when the key is not set).',
  params: obj(['bucket', 'key'], { bucket: name('bucket'), key }),
  write: false,
  handler: async ({ bucket, key: k }, { node }) => {
    const value = await node.shared.state.get(bucket, k);
    return { bucket, key: k, exists: value !== undefined, value: value ?? null };
  },
});

/** stateSet: set a key; watchers (the live `state` topic) hear of it. */
export const stateSet = defineOp<{ bucket: string; key: string; value: Json }, { bucket: string; key: string; value: Json }>({
  name: 'state.set',
  summary: `Set a key of a shared-state bucket to a JSON value (at most ${VALUE_LIMIT / 1024} kB): {bucket, key, value}.`,
  params: obj(['bucket', 'key', 'value'], { bucket: name('bucket'), key, value: json }),
  write: true,
  handler: async ({ bucket, key: k, value }, { node }) => {
    checkSize('value', value);
    await node.shared.state.set(bucket, k, value);
    return { bucket, key: k, value };
  },
});

/** stateDelete: remove a key; says whether it was there. */
export const stateDelete = defineOp<{ bucket: string; key: string }, { bucket: string; key: string; deleted: boolean }>({
  name: 'state.delete',
  summary: 'Remove a key of a shared-state bucket: {bucket, key, deleted} (false when it was not set).',
  params: obj(['bucket', 'key'], { bucket: name('bucket'), key }),
  write: true,
  handler: async ({ bucket, key: k }, { node }) => ({ bucket, key: k, deleted: await node.shared.state.delete(bucket, k) }),
});

/** stateKeys: a bucket's keys, sorted, at most `limit`. */
export const stateKeys = defineOp<{ bucket: string; limit?: number }, string[]>({
  name: 'state.keys',
  summary: `The keys of a bucket, sorted; at most limit (default ${LIST_DEFAULT}, up to ${LIST_MAX}).`,
  params: obj(['bucket'], { bucket: name('bucket'), limit: limit(LIST_MAX) }),
  write: false,
  handler: async ({ bucket, limit: n }, { node }) => bounded(await node.shared.state.keys(bucket), n),
});

/** stateBuckets: the buckets that hold a key, sorted. */
export const stateBuckets = defineOp<{ limit?: number }, string[]>({
  name: 'state.buckets',
  summary: `The buckets that hold at least one key, sorted; at most limit (default ${LIST_DEFAULT}, up to ${LIST_MAX}).`,
  params: obj([], { limit: limit(LIST_MAX) }),
  write: false,
  handler: async ({ limit: n }, { node }) => bounded(await node.shared.state.buckets(), n),
});

/**
 * stateSearch: entries whose bucket, key or JSON value matches a regular expression. It
 * needs the token though it reads: the caller's pattern runs on the node's thread, and a
 * pathological one (`(.*a){20}`) could hold it for minutes.
 */
export const stateSearch = defineOp<{ pattern: string; bucket?: string; limit?: number }, StateEntry[]>({
  name: 'state.search',
  summary: 'Entries [{bucket, key, value}] whose bucket, key or value as JSON matches the regular expression pattern, sorted; in one bucket if given; at most limit (default 100, up to 1000). Needs the token: the pattern runs on the node.',
  params: obj(['pattern'], { pattern: { type: 'string', minLength: 1, maxLength: 200 }, bucket: name('bucket'), limit: limit(1000) }),
  write: true,
  handler: ({ pattern, bucket, limit: n }, { node }) => node.shared.state.search(pattern, { bucket, limit: n ?? 100 }),
});

/** counterGet: a counter's value (0 when never set). */
export const counterGet = defineOp<{ name: string }, { name: string; value: number }>({
  name: 'counter.get',
  summary: 'A counter: {name, value} (0 when it was never set).',
  params: obj(['name'], { name: name('counter') }),
  write: false,
  handler: async ({ name: n }, { node }) => ({ name: n, value: await node.shared.counters.get(n) }),
});

const integer: JsonSchema = { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, 'x-expected': 'an integer' };

/** counterIncr: add `by` (default 1, may be negative); answers the new value. */
export const counterIncr = defineOp<{ name: string; by?: number }, { name: string; value: number }>({
  name: 'counter.incr',
  summary: 'Add by (default 1, may be negative) to a counter: {name, value} with the new value.',
  params: obj(['name'], { name: name('counter'), by: integer }),
  write: true,
  handler: async ({ name: n, by }, { node }) => ({ name: n, value: await node.shared.counters.incr(n, by ?? 1) }),
});

/** counterSet: set a counter. */
export const counterSet = defineOp<{ name: string; value: number }, { name: string; value: number }>({
  name: 'counter.set',
  summary: 'Set a counter: {name, value}.',
  params: obj(['name', 'value'], { name: name('counter'), value: integer }),
  write: true,
  handler: async ({ name: n, value }, { node }) => {
    await node.shared.counters.set(n, value);
    return { name: n, value };
  },
});

/** counterAll: every counter by name, at most `limit` (the first names in order). */
export const counterAll = defineOp<{ limit?: number }, Record<string, number>>({
  name: 'counter.all',
  summary: `Every counter that was set, {name: value}, in name order; at most limit (default ${LIST_DEFAULT}, up to ${LIST_MAX}).`,
  params: obj([], { limit: limit(LIST_MAX) }),
  write: false,
  handler: async ({ limit: n }, { node }) => {
    const all = await node.shared.counters.all();
    return Object.fromEntries(bounded(Object.keys(all).sort(), n).map((k) => [k, all[k]]));
  },
});

const ttl = (what: string, max: number): JsonSchema => ({ type: 'integer', minimum: what === 'ttl' ? 1 : 0, maximum: max, 'x-expected': `milliseconds from ${what === 'ttl' ? 1 : 0} to ${max}` });

/** lockAcquire: take a named lock for ttl_ms (waiting up to wait_ms); answers the grant, which lock.release takes back. */
export const lockAcquire = defineOp<{ name: string; ttl_ms: number; wait_ms?: number }, LockInfo>({
  name: 'lock.acquire',
  summary: 'Take a named lock for ttl_ms, waiting up to wait_ms (default 0: try once; at most 30 s): {name, token, owner, expiresAt}; 409 when it is held.',
  params: obj(['name', 'ttl_ms'], { name: name('lock'), ttl_ms: ttl('ttl', 7 * 24 * 3600_000), wait_ms: ttl('wait', 30_000) }),
  write: true,
  handler: async ({ name: n, ttl_ms, wait_ms }, { node }) => {
    const h = await node.shared.locks.acquire(n, { ttlMs: ttl_ms, waitMs: wait_ms ?? 0 });
    return { name: h.name, token: h.token, owner: h.owner, expiresAt: h.expiresAt };
  },
});

/** lockRelease: give a grant back (the answer of lock.acquire, or its name and token). */
export const lockRelease = defineOp<{ name: string; token: number; owner?: string; expiresAt?: number }, { name: string; released: true }>({
  name: 'lock.release',
  summary: "Release a lock grant: the answer of lock.acquire (name and token at least; owner defaults to this node's). 409 when the grant is no longer current.",
  params: obj(['name', 'token'], {
    name: name('lock'),
    token: { type: 'integer', minimum: 0 },
    owner: { type: 'string', maxLength: 300 },
    expiresAt: { type: 'number' },
  }),
  write: true,
  handler: async ({ name: n, token, owner, expiresAt }, { node }) => {
    await node.shared.locks.release({ name: n, token, owner: owner ?? node.shared.owner, expiresAt: expiresAt ?? Number.MAX_SAFE_INTEGER });
    return { name: n, released: true };
  },
});

/** lockList: the locks held now. */
export const lockList = defineOp<{ limit?: number }, LockInfo[]>({
  name: 'lock.list',
  summary: `The locks held now [{name, token, owner, expiresAt}], by name; at most limit (default ${LIST_DEFAULT}, up to ${LIST_MAX}).`,
  params: obj([], { limit: limit(LIST_MAX) }),
  write: false,
  handler: async ({ limit: n }, { node }) => bounded(await node.shared.locks.list(), n),
});

const queue = name('queue');

/** queuePush: append a message; past max_length the oldest are dropped. */
export const queuePush = defineOp<{ queue: string; message: Json; max_length?: number }, { queue: string; length: number }>({
  name: 'queue.push',
  summary: `Append a JSON message (at most ${VALUE_LIMIT / 1024} kB) to a queue; past max_length the oldest are dropped: {queue, length}.`,
  params: obj(['queue', 'message'], { queue, message: json, max_length: limit(1_000_000) }),
  write: true,
  handler: async ({ queue: q, message, max_length }, { node }) => {
    checkSize('message', message);
    const length = await node.shared.queues.push(q, message, max_length === undefined ? undefined : { maxLength: max_length });
    return { queue: q, length };
  },
});

/** queuePeek: the newest n messages, oldest first, without removing them. */
export const queuePeek = defineOp<{ queue: string; n?: number }, Json[]>({
  name: 'queue.peek',
  summary: 'Up to n (default 10, at most 1000) of the newest messages of a queue, oldest first, without removing them.',
  params: obj(['queue'], { queue, n: limit(1000) }),
  write: false,
  handler: ({ queue: q, n }, { node }) => node.shared.queues.peek(q, n ?? 10),
});

/** queueLength: how many messages a queue holds. */
export const queueLength = defineOp<{ queue: string }, { queue: string; length: number }>({
  name: 'queue.length',
  summary: 'How many messages a queue holds: {queue, length}.',
  params: obj(['queue'], { queue }),
  write: false,
  handler: async ({ queue: q }, { node }) => ({ queue: q, length: await node.shared.queues.length(q) }),
});

/** queueNames: the queues that hold messages. */
export const queueNames = defineOp<{ limit?: number }, string[]>({
  name: 'queue.names',
  summary: `The queues that hold messages, sorted; at most limit (default ${LIST_DEFAULT}, up to ${LIST_MAX}).`,
  params: obj([], { limit: limit(LIST_MAX) }),
  write: false,
  handler: async ({ limit: n }, { node }) => bounded(await node.shared.queues.names(), n),
});

/** queuePopOldest: remove and answer the oldest message. */
export const queuePopOldest = defineOp<{ queue: string }, { queue: string; empty: boolean; message: Json }>({
  name: 'queue.popOldest',
  summary: 'Remove the oldest message of a queue: {queue, empty, message} (empty true and message null when there was none).',
  params: obj(['queue'], { queue }),
  write: true,
  handler: async ({ queue: q }, { node }) => {
    const message = await node.shared.queues.popOldest(q);
    return { queue: q, empty: message === undefined, message: message ?? null };
  },
});

/** sharedStatus: which backend the node's shared state is. */
export const sharedInfo = defineOp({
  name: 'shared.info',
  summary: "The node's shared backend: {kind: memory|redis, owner}.",
  params: noParams,
  write: false,
  handler: (_p, { node }) => ({ kind: node.shared.kind, owner: node.shared.owner }),
});

/** sharedOps are the shared-state operations (the engine adds them, as it does the store's). */
export const sharedOps = [
  stateGet, stateSet, stateDelete, stateKeys, stateBuckets, stateSearch,
  counterGet, counterIncr, counterSet, counterAll,
  lockAcquire, lockRelease, lockList,
  queuePush, queuePeek, queueLength, queueNames, queuePopOldest,
  sharedInfo,
];
