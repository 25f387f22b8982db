/**
 * The files of a durable log named NAME in its directory:
 *
 *   NAME.000000000001.log   segments, oldest first: an 8-byte magic, then framed records
 *   NAME.snapshot           the state covering every segment before its mark (snapshot.ts)
 *   NAME.cursor             how far a consumer got: "SEQ OFFSET\n" (consumer.ts)
 *
 * and the few file-system steps every part of the log takes.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createError, errorMessage, RemonError } from '../errors';

/** SEGMENT_MAGIC starts every segment file (format version 1). */
export const SEGMENT_MAGIC = Buffer.from('RMNLOG\x00\x01', 'latin1');

/** segmentFile is the file name of segment `seq`. */
export function segmentFile(name: string, seq: number): string {
  return `${name}.${String(seq).padStart(12, '0')}.log`;
}

/** listSegments lists the segment numbers found in dir, ascending. */
export function listSegments(dir: string, name: string): number[] {
  const prefix = `${name}.`;
  const out: number[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.startsWith(prefix) || !f.endsWith('.log')) continue;
    const digits = f.slice(prefix.length, -4);
    if (/^\d{12}$/.test(digits)) out.push(Number(digits));
  }
  return out.sort((a, b) => a - b);
}

/** fsyncDir makes the directory's entries (files made, renamed, removed) durable. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncDirAsync is fsyncDir off the event loop. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** writeAllSync writes every byte of buf at the file's end (O_APPEND) or position. */
export function writeAllSync(fd: number, buf: Uint8Array, position?: number): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, position === undefined ? null : position + off);
}

/** ioCode is the errno code (ENOSPC, EROFS, EIO, ...) of an error or of its causes. */
export function ioCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && !e.code.startsWith('REMON_ERR_')) return e.code;
  }
  return undefined;
}

/**
 * ENVIRONMENT_CODES are failures of the machine, not of the data: they pass when space
 * returns, the file system is writable again, or the device recovers.
 */
const ENVIRONMENT_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'ENOMEM', 'EAGAIN', 'EBUSY']);

/** isEnvironmental: the error is the disk's or the system's (retry later), not bad data. */
export function isEnvironmental(err: unknown): boolean {
  const code = ioCode(err);
  return code !== undefined && ENVIRONMENT_CODES.has(code);
}

/** writeError is REMON_ERR_DURABLE_WRITE for a failed write, naming the file and the errno. */
export function writeError(file: string, err: unknown): RemonError {
  return createError('REMON_ERR_DURABLE_WRITE', `cannot write ${file}: ${errorMessage(err)}`, err);
}

/** dirOf is the directory a log's files live in, absolute. */
export function dirOf(dir: string): string {
  return path.resolve(dir);
}
