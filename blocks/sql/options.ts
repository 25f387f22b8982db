import { DEFAULT_EVERY_MS, DEFAULT_TIMEOUT_MS } from '../../src/config/build';
import { durationSchema, JsonSchema } from '../../src/engine/block';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { DriverName } from './driver';

/** SqlOptions: the block's keys in monitor.yaml (see README.md). */
export interface SqlOptions {
  name: string;
  every?: string;
  timeout?: string;
  url: string;
  query: string;
  keys?: boolean;
  keep?: string;
  bucket?: string;
  max_rows?: number;
}

export const DEFAULT_KEEP_MS = 5 * 86_400_000;
export const DEFAULT_MAX_ROWS = 1_000_000;
/** KEY_FIELDS: what a key query emits besides up and duration_ms. */
export const KEY_FIELDS = ['new', 'rows', 'seen', 'keys', 'old', 'query_ms'] as const;

const SCHEMES: Record<string, DriverName> = { 'postgres:': 'postgres', 'postgresql:': 'postgres', 'mysql:': 'mysql', 'mariadb:': 'mysql' };

/** driverOf is the driver a url's scheme names, or undefined when it names none. */
export function driverOf(url: string): DriverName | undefined {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(url);
  return m ? SCHEMES[m[0].toLowerCase()] : undefined;
}

/** secretsOf lists the url's password as written and decoded (what redact hides). */
export function secretsOf(url: string): string[] {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@?#]*?:([^/@?#]*)@/.exec(url);
  if (!m || m[1] === '') return [];
  const out = new Set([m[1]]);
  try { out.add(decodeURIComponent(m[1])); } catch { /* not %-encoded */ }
  return [...out].filter((s) => s.length > 0);
}

/** redactor returns a function that replaces the url's password by *** in any text. */
export function redactor(url: string): (text: string) => string {
  const secrets = secretsOf(url).sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (t) => t;
  return (t) => {
    let out = t;
    for (const s of secrets) out = out.split(s).join('***');
    return out;
  };
}

/** shownUrl is the url as messages show it: scheme, user, host, port, database; password and parameters left out. */
export function shownUrl(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)(?:([^/@?#:]*)(?::[^/@?#]*)?@)?([^?#]*)/.exec(url);
  return m ? `${m[1]}${m[2] ? `${m[2]}@` : ''}${m[3]}` : '(url)';
}

/** bucketMs is the bucket of `<block>.new`: `bucket`, or the block's interval (`every`). */
export function bucketMs(o: Pick<SqlOptions, 'every' | 'bucket'>): number {
  return (o.bucket && parseDuration(o.bucket)) || (o.every && parseDuration(o.every)) || DEFAULT_EVERY_MS;
}

/** runTimeoutMs is the run's timeout as the engine computes it from the common keys. */
export function runTimeoutMs(o: Pick<SqlOptions, 'every' | 'timeout'>): number {
  const every = (o.every && parseDuration(o.every)) || DEFAULT_EVERY_MS;
  return (o.timeout && parseDuration(o.timeout)) || Math.min(DEFAULT_TIMEOUT_MS, every);
}

/**
 * queryTimeoutMs is how long a query may take before it is cancelled on the server: the
 * run's timeout less a margin for the cancel to land and the run to report it.
 */
export function queryTimeoutMs(o: Pick<SqlOptions, 'every' | 'timeout'>): number {
  const run = runTimeoutMs(o);
  return Math.max(50, run - Math.min(1000, Math.max(100, run * 0.1)));
}

/** SINCE: where a query takes the newest timestamp seen (the last run's progress). */
export const SINCE = /:since\b/g;

export const schema: { properties: Record<string, JsonSchema>; required: string[] } = {
  required: ['url', 'query'],
  properties: {
    url: {
      type: 'string',
      minLength: 1,
      'x-expected': 'a database URL like postgres://user:${DB_PASSWORD}@host:5432/db or mysql://user:${DB_PASSWORD}@host:3306/db',
      description: 'postgres://, postgresql://, mysql:// or mariadb:// URL; put the password in ${VAR}. It is never logged or shown.',
    },
    query: {
      type: 'string',
      minLength: 1,
      'x-expected': 'an SQL query, e.g. SELECT id AS key, created_at AS ts FROM orders WHERE created_at > :since',
      description: 'A key query returning columns key and ts, or a query whose numeric columns (first row) become fields. :since is the newest timestamp seen.',
    },
    keys: { type: 'boolean', description: 'true: a key query (columns key, ts); false: numeric fields; default: a key query when the columns are key and ts.' },
    keep: durationSchema('5d or 12h', 'How long seen keys are remembered (default 5d).'),
    bucket: durationSchema('10s or 1m', 'Time bucket of <block>.new (default: every). On the RRD store keep it equal to every, a multiple of the finest retention step.'),
    max_rows: { type: 'integer', minimum: 1, maximum: 100_000_000, description: 'A result with more rows fails the run (default 1,000,000).' },
  },
};

/** check: the problems schema validation cannot see, as [option path, message]. */
export function check(o: SqlOptions): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (driverOf(o.url) === undefined) {
    problems.push(['url', `expected a postgres://, postgresql://, mysql:// or mariadb:// URL; got "${shownUrl(o.url)}"`]);
  } else {
    try {
      new URL(o.url.replace(/^[a-z]+:/i, 'http:'));
    } catch {
      problems.push(['url', `is not a valid URL: "${shownUrl(o.url)}"`]);
    }
  }
  const keep = o.keep === undefined ? DEFAULT_KEEP_MS : parseDuration(o.keep);
  const bucket = o.bucket === undefined ? undefined : parseDuration(o.bucket);
  if (keep === 0) problems.push(['keep', 'must be more than 0']);
  if (bucket === 0) problems.push(['bucket', 'must be more than 0']);
  else if (bucket !== undefined && bucket % 1000 !== 0) problems.push(['bucket', 'must be whole seconds']);
  if (keep && bucket && bucket > keep) problems.push(['bucket', `is longer than keep (${formatDuration(keep)}); keep must hold at least one bucket`]);
  if (o.keys === false && (o.keep !== undefined || o.bucket !== undefined)) {
    problems.push([o.keep !== undefined ? 'keep' : 'bucket', 'has no effect with keys: false (a numeric query records no keys)']);
  }
  return problems;
}
