/**
 * Opening a durable log: read the snapshot and the segments after its mark, hand every
 * record to the replay, cut a torn tail off the last segment, and count (and log) damage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Logger } from '../log';
import { listSegments, SEGMENT_MAGIC, segmentFile } from './files';
import { scanFrames } from './frame';
import { readSnapshot } from './snapshot';

/** Replay receives what open() reads: the snapshot's records, then every record after it. */
export interface Replay {
  snapshot?(rec: Buffer): void;
  record?(rec: Buffer, seq: number, offset: number): void;
}

/** Segment is one segment file; bytes counts the whole file (magic included). */
export interface Segment {
  seq: number;
  file: string;
  bytes: number;
  records: number;
}

/** OpenReport: what open() found. */
export interface OpenReport {
  snapshotRecords: number;
  records: number;
  /** Damaged stretches skipped, and torn tails cut away. */
  damaged: number;
  damagedBytes: number;
  cutBytes: number;
  /** Files of an earlier format found in the directory (not read). */
  legacy: string[];
}

/** Loaded is what loadLog found: the segments kept, the next segment's number, the report. */
export interface Loaded {
  segments: Segment[];
  nextSeq: number;
  opened: OpenReport;
}

/** LoadOptions: what loadLog needs of the log's options. */
export interface LoadOptions {
  what: string;
  legacy?: (file: string) => boolean;
  log?: Logger;
}

/** loadLog reads the log NAME in dir (which exists). */
export function loadLog(dir: string, name: string, options: LoadOptions, replay: Replay): Loaded {
  const opened: OpenReport = { snapshotRecords: 0, records: 0, damaged: 0, damagedBytes: 0, cutBytes: 0, legacy: [] };
  const warn = (fields: Record<string, unknown>, msg: string): void => options.log?.warn({ log: options.what, dir, ...fields }, msg);
  if (options.legacy) opened.legacy = fs.readdirSync(dir).filter(options.legacy).sort();
  for (const file of opened.legacy) warn({ file: path.join(dir, file) }, 'file of an earlier remon version found; this version does not read it (left in place)');
  const snap = readSnapshot(dir, name);
  const mark = snap?.mark ?? 0;
  for (const rec of snap?.records ?? []) replay.snapshot?.(rec);
  opened.snapshotRecords = snap?.records.length ?? 0;
  const segments: Segment[] = [];
  let nextSeq = Math.max(1, mark);
  const seqs = listSegments(dir, name);
  for (const [i, seq] of seqs.entries()) {
    const file = path.join(dir, segmentFile(name, seq));
    nextSeq = Math.max(nextSeq, seq + 1);
    if (seq < mark) {
      fs.rmSync(file, { force: true }); // covered by the snapshot: a compaction cut short
      continue;
    }
    const seg = loadSegment(file, seq, i === seqs.length - 1, replay, opened, warn);
    if (seg) segments.push(seg);
  }
  if (opened.damaged > 0) warn({ damaged: opened.damaged, bytes: opened.damagedBytes, cut: opened.cutBytes }, 'damaged records skipped');
  return { segments, nextSeq, opened };
}

function loadSegment(file: string, seq: number, last: boolean, replay: Replay, o: OpenReport, warn: (fields: Record<string, unknown>, msg: string) => void): Segment | undefined {
  const data = fs.readFileSync(file);
  const magic = SEGMENT_MAGIC.length;
  if (data.length < magic && last && SEGMENT_MAGIC.subarray(0, data.length).equals(data)) {
    fs.rmSync(file, { force: true }); // made, but cut short before its first record
    return undefined;
  }
  if (data.length < magic || !data.subarray(0, magic).equals(SEGMENT_MAGIC)) {
    fs.renameSync(file, `${file}.unreadable`);
    warn({ file: `${file}.unreadable` }, 'segment without a valid header set aside; its records are not read');
    o.damaged++;
    o.damagedBytes += data.length;
    return undefined;
  }
  const r = scanFrames(data, magic, data.length, replay.record && ((start, end, at) => replay.record!(data.subarray(start, end), seq, at)));
  o.records += r.records;
  o.damaged += r.damaged;
  o.damagedBytes += r.damagedBytes;
  let bytes = data.length;
  if (r.tail > 0) {
    o.damaged++;
    if (last) {
      // A torn tail: the write a crash cut short. Cut it, so new records follow whole ones.
      fs.truncateSync(file, r.end);
      o.cutBytes += r.tail;
      bytes = r.end;
    } else {
      o.damagedBytes += r.tail;
    }
  }
  return { seq, file, bytes, records: r.records };
}
