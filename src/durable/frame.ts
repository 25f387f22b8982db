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

function header(h: Buffer, at: number, payload: Uint8Array): void {
  h.writeUInt32LE(payload.length, at + 4);
  h.writeUInt32LE(crc32(payload), at + 8);
  h.writeUInt32LE(crc32(h.subarray(at + 4, at + HEADER_BYTES)), at);
}

/** frameHeader returns the header for a payload written right after it. */
export function frameHeader(payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(HEADER_BYTES);
  header(h, 0, payload);
  return h;
}

/** frameInto writes a payload's header at `at` when the payload sits at `at + HEADER_BYTES` already. */
export function frameInto(buf: Buffer, at: number, length: number): void {
  header(buf, at, buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length));
}

/** packFrames frames payloads one after the other into one buffer. */
export function packFrames(payloads: readonly Uint8Array[]): Buffer {
  let size = 0;
  for (const p of payloads) size += HEADER_BYTES + p.length;
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (const p of payloads) {
    buf.set(p, at + HEADER_BYTES);
    frameInto(buf, at, p.length);
    at += HEADER_BYTES + p.length;
  }
  return buf;
}

/** frameLength is the payload length of a valid record at `at` (ending by `end`), or -1. */
export function frameLength(buf: Buffer, at: number, end: number): number {
  if (at + HEADER_BYTES > end || crc32(buf.subarray(at + 4, at + HEADER_BYTES)) !== buf.readUInt32LE(at)) return -1;
  const len = buf.readUInt32LE(at + 4);
  if (len > MAX_RECORD_BYTES || at + HEADER_BYTES + len > end) return -1;
  return crc32(buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len)) === buf.readUInt32LE(at + 8) ? len : -1;
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
