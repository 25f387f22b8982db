/**
 * Framing of the durable log: every record is
 *
 *   [header crc u32][length u32][payload crc u32][payload]      (little endian)
 *
 * The header CRC covers the length and the payload CRC, so a run of zero bytes (what a
 * crash can leave at the end of a file) is never a valid empty record, and a scan that
 * lost its way in damaged bytes finds the next record by checking 12-byte headers, never
 * checksumming payloads at random offsets: resynchronising stays linear in the bytes.
 */
import { crc32 } from 'node:zlib';

/** HEADER_BYTES is the size of a record's frame header. */
export const HEADER_BYTES = 12;

/** MAX_RECORD_BYTES bounds one record's payload; a longer length is damage. */
export const MAX_RECORD_BYTES = 1 << 30;

/** Payload is a record's bytes, or text stored as UTF-8. */
export type Payload = Uint8Array | string;

/** payloadBytes is a payload's length in bytes. */
export function payloadBytes(p: Payload): number {
  return typeof p === 'string' ? Buffer.byteLength(p) : p.length;
}

/** CRC-32 tables for slicing by 4: T[k][b] is the CRC of byte b followed by k zero bytes. */
const T = Array.from({ length: 4 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[0][n] = c;
}
for (let n = 0; n < 256; n++) for (let k = 1; k < 4; k++) T[k][n] = T[0][T[k - 1][n] & 0xff] ^ (T[k - 1][n] >>> 8);
const [T0, T1, T2, T3] = T;
/** Below this many bytes CRC-32 is computed here: cheaper than a call into zlib. */
const SHORT = 256;

/** crc is CRC-32 (zlib's) of buf[start..end). */
function crc(buf: Buffer, start: number, end: number): number {
  if (end - start >= SHORT) return crc32(buf.subarray(start, end));
  let c = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = T3[c & 0xff] ^ T2[(c >>> 8) & 0xff] ^ T1[(c >>> 16) & 0xff] ^ T0[c >>> 24];
  }
  for (; i < end; i++) c = T0[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** frameHeader returns the header for a payload written right after it. */
export function frameHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  h.writeUInt32LE(payload.length, 4);
  h.writeUInt32LE(crc32(payload), 8);
  h.writeUInt32LE(crc(h, 4, HEADER_BYTES), 0);
  return h;
}

/** frameInto writes a payload's header at `at` when the payload sits at `at + HEADER_BYTES` already. */
export function frameInto(buf: Buffer, at: number, length: number): void {
  buf.writeUInt32LE(length, at + 4);
  buf.writeUInt32LE(crc(buf, at + HEADER_BYTES, at + HEADER_BYTES + length), at + 8);
  buf.writeUInt32LE(crc(buf, at + 4, at + HEADER_BYTES), at);
}

/** packFrames frames payloads one after the other into one buffer. */
export function packFrames(payloads: readonly Payload[]): Buffer {
  let size = 0;
  for (const p of payloads) size += HEADER_BYTES + payloadBytes(p);
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of payloads) {
    const len = typeof p === 'string' ? buf.write(p, at + HEADER_BYTES, 'utf8') : (buf.set(p, at + HEADER_BYTES), p.length);
    frameInto(buf, at, len);
    at += HEADER_BYTES + len;
  }
  return buf;
}

/** frameLength is the payload length of a valid record at `at` (ending by `end`), or -1. */
export function frameLength(buf: Buffer, at: number, end: number): number {
  if (at + HEADER_BYTES > end || crc(buf, at + 4, at + HEADER_BYTES) !== buf.readUInt32LE(at)) return -1;
  const len = buf.readUInt32LE(at + 4);
  if (len > MAX_RECORD_BYTES || at + HEADER_BYTES + len > end) return -1;
  return crc(buf, at + HEADER_BYTES, at + HEADER_BYTES + len) === buf.readUInt32LE(at + 8) ? len : -1;
}

/** ScanResult: what a scan of framed bytes found. */
export interface ScanResult {
  /** Offset just after the last valid record. */
  end: number;
  records: number;
  /** Damaged stretches with valid records after them (skipped), and their bytes. */
  damaged: number;
  damagedBytes: number;
  /** Bytes after the last valid record that are no record (a torn or damaged tail). */
  tail: number;
}

/**
 * scanFrames walks the records in buf[from..to), calling each with a record's payload
 * bounds and offset, up to `limit` records. Damage is skipped by searching for the next
 * valid record; what follows the last valid record is reported as the tail.
 */
export function scanFrames(buf: Buffer, from: number, to: number, each?: (start: number, end: number, at: number) => void, limit = Infinity): ScanResult {
  const r: ScanResult = { end: from, records: 0, damaged: 0, damagedBytes: 0, tail: 0 };
  let at = from;
  while (at < to && r.records < limit) {
    const len = frameLength(buf, at, to);
    if (len >= 0) {
      each?.(at + HEADER_BYTES, at + HEADER_BYTES + len, at);
      at += HEADER_BYTES + len;
      r.records++;
      r.end = at;
      continue;
    }
    let next = at + 1;
    while (next < to && frameLength(buf, next, to) < 0) next++;
    if (next >= to) break;
    r.damaged++;
    r.damagedBytes += next - at;
    at = next;
  }
  r.tail = to - r.end;
  return r;
}
