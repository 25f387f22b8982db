// How the sql block reads the values drivers return: keys as text, timestamps as epoch ms,
// numbers from numbers, bigints and numeric text (pg answers count(*) and numeric as text).

const NUMERIC = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;
/** Numbers below this are epoch seconds, above it epoch milliseconds (1e11 s is the year 5138). */
const SECONDS_BELOW = 1e11;

/** keyText is a key as text (undefined for NULL). */
export function keyText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  return String(v);
}

/**
 * timestampMs reads a timestamp: a Date (timestamp, timestamptz, DATETIME), a number of
 * epoch seconds or milliseconds, or text (ISO-8601 or a number); NaN when it is none.
 */
export function timestampMs(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return Math.abs(v) < SECONDS_BELOW ? v * 1000 : v;
  if (typeof v === 'bigint') return timestampMs(Number(v));
  if (typeof v === 'string') {
    if (NUMERIC.test(v)) return timestampMs(Number(v));
    return Date.parse(v);
  }
  return NaN;
}

/** numberOf is a value as a number, or undefined when it is not one (NULL, text, a date). */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}
