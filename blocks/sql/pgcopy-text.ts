// COPY's text format, read from the bytes: a row is its fields joined by tabs and ended by
// a newline; `\N` is NULL; a backslash escapes (`\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`,
// octal `\123`, hex `\x41`, any other character as itself), so a raw tab or newline is
// always a separator. Only the key and ts columns are read.
import { pgTimestamp, pgTimestampAt } from './pgtime';
import { timestampMs } from './values';

/** TsKind: how a ts column's text is read: `pg` PostgreSQL's timestamp text, `text` as timestampMs reads a value's text. */
export type TsKind = 'pg' | 'text';

/** KeyRowSink takes each row's key (undefined for NULL) and ts in epoch ms (NaN when unusable). */
export interface KeyRowSink {
  keyRow(key: string | undefined, ts: number): void;
}

const TAB = 9;
const NL = 10;
const BACKSLASH = 92;

/** isNull: the field b[s, e) is `\N`. */
const isNull = (b: Buffer, s: number, e: number): boolean => e - s === 2 && b[s] === BACKSLASH && b[s + 1] === 78;

const ESCAPES: Record<number, number> = { 98: 8, 102: 12, 110: 10, 114: 13, 116: 9, 118: 11 };

const octal = (c: number): boolean => c >= 48 && c <= 55;
const hexValue = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);

/** unescape is the text of the escaped field b[s, e) (escapes stand for bytes, then read as UTF-8). */
export function unescape(b: Buffer, s: number, e: number): string {
  const out = Buffer.allocUnsafe(e - s);
  let n = 0;
  for (let i = s; i < e; i++) {
    let c = b[i];
    if (c === BACKSLASH && i + 1 < e) {
      c = b[++i];
      if (octal(c)) {
        let v = c - 48;
        for (let k = 0; k < 2 && i + 1 < e && octal(b[i + 1]); k++) v = v * 8 + b[++i] - 48;
        c = v & 0xff;
      } else if (c === 120 /* x */ && i + 1 < e && hexValue(b[i + 1]) >= 0) {
        let v = hexValue(b[++i]);
        if (i + 1 < e && hexValue(b[i + 1]) >= 0) v = v * 16 + hexValue(b[++i]);
        c = v;
      } else {
        c = ESCAPES[c] ?? c;
      }
    }
    out[n++] = c;
  }
  return out.toString('utf8', 0, n);
}

/** Latin1: Buffer's own latin1Slice (what toString('latin1') calls after its checks): a key of ASCII bytes read without them. */
interface Latin1 {
  latin1Slice(start: number, end: number): string;
}

/** KeyRowReader reads the key (column ki) and ts (column ti) of COPY text rows of ncols columns into a sink. */
export class KeyRowReader {
  private readonly last: number;
  /** tsAtEnd: ts is a timestamp in the last column, read to the row's end without looking for a tab. */
  private readonly tsAtEnd: boolean;

  constructor(private readonly ki: number, private readonly ti: number, ncols: number, private readonly ts: TsKind, private readonly sink: KeyRowSink) {
    this.last = Math.max(ki, ti);
    this.tsAtEnd = ts === 'pg' && ti === ncols - 1;
  }

  /** row reads the row in b[start, end), the newline at its end included or not. */
  row(b: Buffer, start: number, end: number): void {
    if (end > start && b[end - 1] === NL) end--;
    let key: string | undefined;
    let ts = NaN;
    let s = start;
    for (let col = 0; ; col++) {
      if (col === this.ti && this.tsAtEnd) {
        ts = pgTimestampAt(b, s, end); // `\N` (NULL) is no timestamp: NaN
        break;
      }
      // escaped: a backslash in the field; wide: a byte past ASCII (the text is read as UTF-8).
      let escaped = false;
      let wide = false;
      let i = s;
      for (; i < end; i++) {
        const c = b[i];
        if (c === TAB) break;
        if (c > 127) wide = true;
        else if (c === BACKSLASH) { escaped = true; i++; }
      }
      if (i > end) i = end;
      if (col === this.ki) {
        key = escaped ? (isNull(b, s, i) ? undefined : unescape(b, s, i)) : wide ? b.toString('utf8', s, i) : (b as unknown as Latin1).latin1Slice(s, i);
      } else if (col === this.ti) {
        ts = this.time(b, s, i, escaped);
      }
      if (col === this.last || i >= end) break;
      s = i + 1;
    }
    this.sink.keyRow(key, ts);
  }

  private time(b: Buffer, s: number, e: number, escaped: boolean): number {
    if (!escaped && this.ts === 'pg') return pgTimestampAt(b, s, e);
    if (escaped && isNull(b, s, e)) return NaN;
    const t = escaped ? unescape(b, s, e) : b.toString('utf8', s, e);
    return this.ts === 'pg' ? pgTimestamp(t) : timestampMs(t);
  }
}
