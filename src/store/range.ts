/**
 * The range of a series fetch, from user input to a bounded request: resolveRange checks
 * `from`, `to`, `step` and `points` as they come from a URL or a JSON body, and the step
 * helpers pick a step coarse enough that an answer has at most maxPoints points. Stores use
 * the same helpers, so every store bounds an answer the same way before it allocates.
 */
import { DEFAULT_MAX_POINTS, FetchOptions } from './store';

/** MAX_TIME_MS is the largest time a range may name: the end of the JavaScript Date range. */
export const MAX_TIME_MS = 8.64e15;

/** RangeQuery is a fetch range as given: URL query strings, or anything from a JSON body. */
export interface RangeQuery {
  from?: unknown;
  to?: unknown;
  step?: unknown;
  points?: unknown;
}

/** RangeLimits: how many points an answer may have [DEFAULT_MAX_POINTS], the span without `from` [1 h]. */
export interface RangeLimits {
  maxPoints?: number;
  defaultSpanMs?: number;
}

/** ResolvedRange is a checked range: FetchOptions with maxPoints always set. */
export interface ResolvedRange extends FetchOptions {
  maxPoints: number;
}

const DECIMAL = /^-?\d{1,30}(\.\d{1,30})?$/;

/**
 * resolveRange checks a fetch range and fills its defaults, or returns why it is refused
 * (a message for an HTTP 400). from and to are epoch ms in [0, MAX_TIME_MS], step is ms
 * (> 0), points is a whole number in [1, limits.maxPoints]. Numbers may be JSON numbers or
 * decimal text ("1700000000000", "2.5"); exponents, signs other than "-", empty text and
 * repeated parameters (arrays) are refused; undefined and null mean "not given". Defaults:
 * to = now, from = to − defaultSpanMs (not before 0). A step that would give more than
 * maxPoints points is made coarser (see boundStep), not refused; without a step the store
 * answers raw samples, bounded the same way.
 */
export function resolveRange(query: RangeQuery, now: number, limits: RangeLimits = {}): ResolvedRange | string {
  const limit = limits.maxPoints ?? DEFAULT_MAX_POINTS;
  const time = `epoch milliseconds from 0 to ${MAX_TIME_MS}`;
  const from = parseParam('from', query.from, time, (x) => x >= 0 && x <= MAX_TIME_MS);
  if (typeof from === 'string') return from;
  const to = parseParam('to', query.to, time, (x) => x >= 0 && x <= MAX_TIME_MS);
  if (typeof to === 'string') return to;
  const step = parseParam('step', query.step, `milliseconds, more than 0 and at most ${MAX_TIME_MS}`, (x) => x > 0 && x <= MAX_TIME_MS);
  if (typeof step === 'string') return step;
  const points = parseParam('points', query.points, `a whole number from 1 to ${limit}`, (x) => Number.isInteger(x) && x >= 1 && x <= limit);
  if (typeof points === 'string') return points;
  const end = to ?? Math.min(MAX_TIME_MS, Math.max(0, now));
  const start = from ?? Math.max(0, end - (limits.defaultSpanMs ?? 3_600_000));
  if (start > end) return `from (${start}) must not be after to (${end})`;
  const maxPoints = points ?? limit;
  return { from: start, to: end, step: step === undefined ? undefined : boundStep(start, end, step, maxPoints), maxPoints };
}

/**
 * parseParam reads one numeric parameter: the number, undefined when absent, or the reason
 * it is refused (`<name> must be <rule>, got <value>`).
 */
function parseParam(name: string, v: unknown, rule: string, ok: (x: number) => boolean): number | undefined | string {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return `${name} is given ${v.length} times; give it once`;
  let x = NaN;
  if (typeof v === 'number') x = v;
  else if (typeof v === 'string' && DECIMAL.test(v)) x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) return `${name} must be ${rule}, got ${shown(v)}`;
  return x;
}

/** shown renders a refused value for a message, cut short: it may be anything a client sent. */
function shown(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? typeof v);
  } catch {
    s = typeof v;
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/**
 * storeRange is the part of a fetch's range a store answers: [from, to] clipped to
 * [0, MAX_TIME_MS], where every time and step is an exact integer count of ms; undefined
 * when that is empty or from/to are not numbers.
 */
export function storeRange(options: Pick<FetchOptions, 'from' | 'to'>): { from: number; to: number } | undefined {
  const from = Math.max(0, options.from);
  const to = Math.min(MAX_TIME_MS, options.to);
  return from <= to ? { from, to } : undefined;
}

/** pointsLimit is a FetchOptions' maxPoints made usable: a whole number ≥ 1, DEFAULT_MAX_POINTS when unset or not a number. */
export function pointsLimit(options: Pick<FetchOptions, 'maxPoints'>): number {
  const m = options.maxPoints;
  return m !== undefined && m >= 1 ? Math.floor(m) : DEFAULT_MAX_POINTS;
}

/**
 * boundStep is `step` when buckets of it over [from, to] number at most maxPoints (plus one
 * for alignment: (to − from) / step ≤ maxPoints), else the smallest niceStep that does. A
 * missing or non-positive step asks for the finest one that does. All in ms.
 */
export function boundStep(from: number, to: number, step: number | undefined, maxPoints: number): number {
  const s = step !== undefined && step > 0 ? step : 0;
  if (s > 0 && (to - from) <= s * maxPoints) return s;
  return Math.max(s, niceStep((to - from) / maxPoints));
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const LADDER = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY,
];

/** niceStep is the smallest step of at least `ms` a person reads easily: 1-2-5 ms, 1 s … 30 min, 1 h … 12 h, 1 d, 2 d, 7 d, then whole days. */
export function niceStep(ms: number): number {
  for (const s of LADDER) if (s >= ms) return s;
  return Math.ceil(ms / DAY) * DAY;
}
