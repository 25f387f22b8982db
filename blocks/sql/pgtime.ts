// PostgreSQL's text of a timestamp (`2026-12-02 10:00:00.123456+01`, ISO DateStyle) read
// as epoch ms without a Date, from a string (node-postgres's rows) or straight from the
// bytes of a COPY row (pgcopy.ts). A timestamp without time zone is UTC. Other text (BC,
// infinity, a year past 9999, another DateStyle) goes to Date.parse (NaN when it is none).

/** PG_TIMESTAMP, PG_TIMESTAMPTZ: the type oids whose text pgTimestamp reads. */
export const PG_TIMESTAMP = 1114;
export const PG_TIMESTAMPTZ = 1184;

const digits = (s: string, i: number, n: number): number => {
  let v = 0;
  for (let j = i; j < i + n; j++) {
    const c = s.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
};

const digitsAt = (b: Uint8Array, i: number, n: number): number => {
  let v = 0;
  for (let j = i; j < i + n; j++) {
    const c = b[j] - 48;
    if (!(c >= 0 && c <= 9)) return NaN;
    v = v * 10 + c;
  }
  return v;
};

/** DAYS_BEFORE: the days of a (non-leap) year before each month. */
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/**
 * utcMs is Date.UTC for years 1..9999 and fields in range (what PostgreSQL prints), without
 * Date.UTC's call; NaN when a field is not a number or out of range (the caller falls back).
 */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 && s <= 60 && y >= 1)) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const yy = y - 1;
  // Days from 0001-01-01 to the first of year y, less those to 1970-01-01 (719162).
  let days = yy * 365 + Math.floor(yy / 4) - Math.floor(yy / 100) + Math.floor(yy / 400) - 719162;
  days += DAYS_BEFORE[mo - 1] + (leap && mo > 2 ? 1 : 0) + d - 1;
  return ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000;
}

/** pgTimestamp reads PostgreSQL's text of a timestamp as epoch ms (see the file's comment). */
export function pgTimestamp(s: string): number {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(10) !== 32) return Date.parse(s);
  let ms = utcMs(digits(s, 0, 4), digits(s, 5, 2), digits(s, 8, 2), digits(s, 11, 2), digits(s, 14, 2), digits(s, 17, 2));
  if (ms !== ms) return Date.parse(s);
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    let f = 0;
    let scale = 100;
    for (i++; i < s.length; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      f += c * scale;
      scale /= 10;
    }
    ms += Math.floor(f);
  }
  if (i < s.length) {
    const sign = s.charCodeAt(i) === 45 ? -1 : s.charCodeAt(i) === 43 ? 1 : 0;
    if (sign === 0) return Date.parse(s);
    const h = digits(s, i + 1, 2);
    const m = s.length >= i + 6 ? digits(s, i + 4, 2) : 0;
    const sec = s.length >= i + 9 ? digits(s, i + 7, 2) : 0;
    ms -= sign * ((h * 60 + m) * 60 + sec) * 1000;
  }
  return ms;
}

/** pgTimestampSlow is pgTimestamp of the bytes' text (a form pgTimestampAt does not read itself). */
function pgTimestampSlow(b: Uint8Array, start: number, end: number): number {
  return pgTimestamp(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8'));
}

/** pgTimestampAt is pgTimestamp of the text in b[start, end), read from the bytes (one function, no call made on the usual text: its doubles stay unboxed). */
export function pgTimestampAt(b: Uint8Array, start: number, end: number): number {
  if (end - start < 19 || b[start + 4] !== 45 || b[start + 10] !== 32 || b[start + 13] !== 58 || b[start + 16] !== 58) return pgTimestampSlow(b, start, end);
  // Each digit less 48; `bad` goes negative when one of them is not 0-9 (c | (9 - c) < 0).
  const y0 = b[start] - 48, y1 = b[start + 1] - 48, y2 = b[start + 2] - 48, y3 = b[start + 3] - 48;
  const mo0 = b[start + 5] - 48, mo1 = b[start + 6] - 48, d0 = b[start + 8] - 48, d1 = b[start + 9] - 48;
  const h0 = b[start + 11] - 48, h1 = b[start + 12] - 48, mi0 = b[start + 14] - 48, mi1 = b[start + 15] - 48;
  const s0 = b[start + 17] - 48, s1 = b[start + 18] - 48;
  const bad = y0 | (9 - y0) | y1 | (9 - y1) | y2 | (9 - y2) | y3 | (9 - y3) | mo0 | (9 - mo0) | mo1 | (9 - mo1) | d0 | (9 - d0) | d1 | (9 - d1)
    | h0 | (9 - h0) | h1 | (9 - h1) | mi0 | (9 - mi0) | mi1 | (9 - mi1) | s0 | (9 - s0) | s1 | (9 - s1);
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const mo = mo0 * 10 + mo1;
  const d = d0 * 10 + d1;
  const h = h0 * 10 + h1;
  const mi = mi0 * 10 + mi1;
  const sec = s0 * 10 + s1;
  if (bad < 0 || !(y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 24 && mi <= 59 && sec <= 60)) return pgTimestampSlow(b, start, end);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const yy = y - 1;
  let days = yy * 365 + ((yy / 4) | 0) - ((yy / 100) | 0) + ((yy / 400) | 0) - 719162;
  days += DAYS_BEFORE[mo - 1] + (leap && mo > 2 ? 1 : 0) + d - 1;
  let ms = ((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000;
  let i = start + 19;
  if (i < end && b[i] === 46) {
    let f = 0;
    let digits = 0;
    for (i++; i < end; i++) {
      const c = b[i] - 48;
      if (c < 0 || c > 9) break;
      if (digits++ < 3) f = f * 10 + c;
    }
    for (; digits < 3; digits++) f *= 10;
    ms += f;
  }
  if (i < end) {
    const sign = b[i] === 45 ? -1 : b[i] === 43 ? 1 : 0;
    if (sign === 0 || end < i + 3) return pgTimestampSlow(b, start, end);
    const oh0 = b[i + 1] - 48, oh1 = b[i + 2] - 48;
    const om0 = end >= i + 6 ? b[i + 4] - 48 : 0, om1 = end >= i + 6 ? b[i + 5] - 48 : 0;
    const os0 = end >= i + 9 ? b[i + 7] - 48 : 0, os1 = end >= i + 9 ? b[i + 8] - 48 : 0;
    if ((oh0 | (9 - oh0) | oh1 | (9 - oh1) | om0 | (9 - om0) | om1 | (9 - om1) | os0 | (9 - os0) | os1 | (9 - os1)) < 0) return pgTimestampSlow(b, start, end);
    const oh = oh0 * 10 + oh1, om = om0 * 10 + om1, os = os0 * 10 + os1;
    ms -= sign * ((oh * 60 + om) * 60 + os) * 1000;
  }
  return ms;
}
