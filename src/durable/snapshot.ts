/**
 * Snapshots of a durable log. `NAME.snapshot` holds
 *
 *   [magic 8][mark u32][records u32][framed records...]
 *
 * and stands for every segment numbered below `mark`. It is replaced atomically: written
 * to NAME.snapshot.tmp, fsynced, renamed over NAME.snapshot, and the directory fsynced;
 * only then may the segments it covers be deleted. A crash at any step leaves either the
 * old snapshot with all its segments, or the new one (and segments it covers, ignored).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createError, errorMessage } from '../errors';
import { fsyncDir, fsyncDirAsync, writeAllSync, writeError } from './files';
import { packFrames, Payload, scanFrames } from './frame';

const MAGIC = Buffer.from('RMNSNP\x00\x01', 'latin1');
const HEAD = 16;

/** Snapshot is what a snapshot file holds. */
export interface Snapshot {
  mark: number;
  records: Buffer[];
}

/** snapshotFile is the snapshot's path. */
export function snapshotFile(dir: string, name: string): string {
  return path.join(dir, `${name}.snapshot`);
}

function encode(mark: number, records: readonly Payload[]): Buffer {
  const head = Buffer.alloc(HEAD);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(mark, 8);
  head.writeUInt32LE(records.length, 12);
  return Buffer.concat([head, packFrames(records)]);
}

/** StepHook is told each step of a snapshot replacement (crash tests kill the process there). */
export type StepHook = (step: 'snapshot-tmp-written' | 'snapshot-renamed') => void;

/** writeSnapshotSync replaces the snapshot atomically, blocking. */
export function writeSnapshotSync(dir: string, name: string, mark: number, records: readonly Payload[], hook?: StepHook): void {
  const file = snapshotFile(dir, name);
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAllSync(fd, encode(mark, records));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    hook?.('snapshot-tmp-written');
    fs.renameSync(tmp, file);
    fsyncDir(dir);
    hook?.('snapshot-renamed');
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw writeError(file, err);
  }
}

/** writeSnapshot replaces the snapshot atomically, off the event loop. */
export async function writeSnapshot(dir: string, name: string, mark: number, records: readonly Payload[], hook?: StepHook): Promise<void> {
  const file = snapshotFile(dir, name);
  const tmp = `${file}.tmp`;
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await fh.writeFile(encode(mark, records));
      await fh.sync();
    } finally {
      await fh.close();
    }
    hook?.('snapshot-tmp-written');
    await fsp.rename(tmp, file);
    await fsyncDirAsync(dir);
    hook?.('snapshot-renamed');
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(file, err);
  }
}

/**
 * readSnapshot reads the snapshot, or undefined when there is none. A damaged snapshot
 * is REMON_ERR_DURABLE_READ: it was fsynced before it was renamed into place, so damage
 * means the disk lost it, and starting without the state it holds must be a choice.
 */
export function readSnapshot(dir: string, name: string): Snapshot | undefined {
  const file = snapshotFile(dir, name);
  fs.rmSync(`${file}.tmp`, { force: true }); // a replacement cut short
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw createError('REMON_ERR_DURABLE_READ', `cannot read ${file}: ${errorMessage(err)}`, err);
  }
  const bad = (why: string) => createError('REMON_ERR_DURABLE_READ', `${file} is damaged (${why}); move it away to start without the state it holds`);
  if (data.length < HEAD || !data.subarray(0, 8).equals(MAGIC)) throw bad('no snapshot header');
  const records: Buffer[] = [];
  const r = scanFrames(data, HEAD, data.length, (start, end) => records.push(data.subarray(start, end)));
  if (r.damaged > 0 || r.tail > 0 || records.length !== data.readUInt32LE(12)) throw bad(`${records.length} of ${data.readUInt32LE(12)} records readable`);
  return { mark: data.readUInt32LE(8), records };
}
