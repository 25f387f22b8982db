/**
 * Helpers both backends use, so that they check arguments and word errors the same way.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { createError, errorMessage, RemonError } from '../errors';
import { formatDuration } from '../util/duration';
import { Json, LockHandle, StateEntry } from './shared';

/** DEFAULT_VISIBILITY_MS: how long a consumer group delivery waits for its ack by default. */
export const DEFAULT_VISIBILITY_MS = 30_000;

/** encode turns a value into the JSON text a backend stores; undefined is not JSON. */
export function encode(value: Json): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw createError('REMON_ERR_SHARED_INVALID', `value is not JSON: ${errorMessage(err)}`, err);
  }
  if (text === undefined) throw createError('REMON_ERR_SHARED_INVALID', `value is not JSON (got ${typeof value})`);
  return text;
}

/** decode parses stored JSON text; undefined stays undefined. */
export function decode(text: string | null | undefined): Json | undefined {
  return text === null || text === undefined ? undefined : (JSON.parse(text) as Json);
}

/** checkName refuses empty names, which no backend can tell apart from a missing one. */
export function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name === '') throw createError('REMON_ERR_SHARED_INVALID', `${what} name must be a non-empty string`);
}

/** checkInteger refuses what a counter cannot hold exactly. */
export function checkInteger(what: string, n: number): void {
  if (!Number.isSafeInteger(n)) throw createError('REMON_ERR_SHARED_INVALID', `${what} must be an integer; got ${n}`);
}

/** checkTtl refuses a ttl that would grant nothing. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs < 1) throw createError('REMON_ERR_SHARED_INVALID', `lock ttl must be at least 1ms; got ${ttlMs}`);
}

/** checkQueueOptions refuses bounds that would keep nothing. */
export function checkQueueOptions(o: { maxLength?: number; maxAgeMs?: number }): void {
  if (o.maxLength !== undefined && !(Number.isSafeInteger(o.maxLength) && o.maxLength >= 1)) {
    throw createError('REMON_ERR_SHARED_INVALID', `queue maxLength must be an integer of at least 1; got ${o.maxLength}`);
  }
  if (o.maxAgeMs !== undefined && !(Number.isFinite(o.maxAgeMs) && o.maxAgeMs >= 1)) {
    throw createError('REMON_ERR_SHARED_INVALID', `queue maxAge must be at least 1ms; got ${o.maxAgeMs}`);
  }
}

/** compilePattern turns a search pattern into a RegExp without the g/y flags (test() state). */
export function compilePattern(pattern: RegExp | string): RegExp {
  if (pattern instanceof RegExp) return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  try {
    return new RegExp(pattern);
  } catch (err) {
    throw createError('REMON_ERR_SHARED_INVALID', `bad search pattern: ${errorMessage(err)}`, err);
  }
}

/** matchEntry tells whether a search pattern matches an entry's bucket, key or JSON text. */
export function matchEntry(re: RegExp, bucket: string, key: string, text: string): boolean {
  return re.test(bucket) || re.test(key) || re.test(text);
}

/** sortEntries orders search results by bucket, then key. */
export function sortEntries(entries: StateEntry[]): StateEntry[] {
  return entries.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** newOwner names this process in lock grants: host, pid and a random part. */
export function newOwner(): string {
  return `${os.hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/** lockTimeout is the error for a lock not granted within its wait. */
export function lockTimeout(name: string, waitMs: number, holder?: { owner: string; token: number }): RemonError {
  const by = holder ? ` (held by ${holder.owner}, token ${holder.token})` : '';
  const within = waitMs > 0 ? `within ${formatDuration(waitMs)}` : 'at once (wait 0)';
  return createError('REMON_ERR_SHARED_LOCK_TIMEOUT', `lock "${name}" could not be acquired ${within}${by}`);
}

/** notHeld is the error for releasing or extending a grant that is no longer current. */
export function notHeld(handle: LockHandle, current?: { token: number; owner: string }): RemonError {
  const expired = Date.now() >= handle.expiresAt;
  const why = !current
    ? expired ? 'its ttl ran out' : 'it was released'
    : current.token === handle.token
      ? `that grant belongs to ${current.owner}, not ${handle.owner}`
      : `it is held under token ${current.token} now${expired ? " (this grant's ttl ran out)" : ''}`;
  return createError('REMON_ERR_SHARED_LOCK_NOT_HELD', `lock "${handle.name}" is not held by token ${handle.token}: ${why}`);
}

/** sleep for ms, or less when the signal says stop. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** closedError is what an operation on a closed backend fails with. */
export function closedError(kind: string): RemonError {
  return createError('REMON_ERR_SHARED_BACKEND', `the ${kind} shared backend is closed`);
}
