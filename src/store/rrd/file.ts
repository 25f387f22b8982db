import * as fs from 'node:fs';
import { createError, errorMessage } from '../../errors';
import { FetchResult, fetchRows } from './fetch';
import { decodeRows, encodeRows, Layout, MAGIC, readLive, readStatic, staticLength, STATIC_HEAD, VERSION, VERSIONS, writeLive, writeStatic } from './layout';
import { PendingRows, RunWriter } from './pending';
import { Cf, RrdDef, RrdState, newState } from './types';
import { Updater } from './update';

/*
 * The file format is in layout.ts. A flush writes the rows first (one write per row group
 * with pending rows: per retention step, its four CFs side by side), then the live header
 * into the slot not holding the current one, with a higher sequence number and a CRC.
 * Opening takes the valid slot with the higher sequence, so a crash mid-write leaves the
 * previous consistent state, which the store's journal then brings forward again.
 *
 * The store makes its files in place (make): an open and one write of the header (static
 * part and live slot 0); the archives are not sized, as rows past the end of the file read
 * as zero bytes, which is unknown. A file cut short between the open and that write is
 * empty: opening it fails with REMON_ERR_RRD_UNFINISHED, and the store, whose journal
 * still holds the samples, makes it again. rrdtool-style `create` sizes the file whole.
 */

/** validateDef checks a definition as rrd_create does; throws REMON_ERR_RRD_CREATE. */
export function validateDef(def: RrdDef): void {
  const bad = (m: string): never => {
    throw createError('REMON_ERR_RRD_CREATE', m);
  };
  if (!Number.isInteger(def.step) || def.step < 1) bad(`step must be a positive number of seconds (got ${def.step})`);
  if (def.ds.length === 0) bad('you must define at least one Data Source');
  if (def.rra.length === 0) bad('you must define at least one Round Robin Archive');
  const names = new Set<string>();
  for (const d of def.ds) {
    if (!/^[-A-Za-z0-9_]{1,19}$/.test(d.name)) bad(`invalid DS name "${d.name}": 1 to 19 characters of A-Z a-z 0-9 _ -`);
    if (names.has(d.name)) bad(`Duplicate DS name: ${d.name}`);
    names.add(d.name);
    if (!Number.isInteger(d.heartbeat) || d.heartbeat < 1) bad(`DS ${d.name}: heartbeat must be a positive number of seconds`);
    if (!Number.isNaN(d.min) && !Number.isNaN(d.max) && d.min >= d.max) bad(`DS ${d.name}: min must be less than max in DS definition`);
  }
  for (const r of def.rra) {
    if (!(r.xff >= 0 && r.xff < 1)) bad(`RRA ${r.cf}: xff must be in [0, 1)`);
    if (!Number.isInteger(r.pdpCnt) || r.pdpCnt < 1) bad(`RRA ${r.cf}: steps must be a positive integer`);
    if (!Number.isInteger(r.rows) || r.rows < 1) bad(`RRA ${r.cf}: rows must be a positive integer`);
  }
}

/**
 * RrdFile is one round-robin database file: the definition and live state in memory,
 * rows on disk, and the rows of updates not yet flushed in memory (fetch sees them).
 */
export class RrdFile {
  private readonly layout: Layout;
  /** Per row group: its rows not yet written, and what writes a run of them. */
  private readonly pending: PendingRows[];
  private readonly writers: RunWriter[];
  private seq: number;
  private slot: number;
  private dirty = false;
  private static readonly updater = new Updater();

  /** The descriptor was opened for writing (not read-only, as on a read-only file system). */
  private writable = true;

  /** formatVersion is the file's format (layout.ts): 1 as remon wrote it before format 2, or 2. */
  get formatVersion(): number {
    return this.layout.version;
  }

  private constructor(public path: string, private fd: number, readonly def: RrdDef, readonly state: RrdState, seq: number, slot: number, layout: Layout) {
    this.layout = layout;
    this.pending = layout.groups.map((g) => new PendingRows(g.rows, g.width));
    this.writers = layout.groups.map((_, g) => (row: number, count: number, values: Float64Array, from: number) => this.writeRun(g, row, count, values, from));
    this.seq = seq;
    this.slot = slot;
  }

  /**
   * create writes a new file with every row unknown; refuses to overwrite unless asked.
   * The file is built under a temporary name and renamed into place, so a crash never
   * leaves a half-created file.
   */
  static create(path: string, def: RrdDef, start: number, options: { overwrite?: boolean } = {}): RrdFile {
    validateDef(def);
    if (options.overwrite === false && fs.existsSync(path)) {
      throw createError('REMON_ERR_RRD_FILE', `creating '${path}': File exists`);
    }
    const tmp = `${path}.${process.pid}.tmp`;
    const file = RrdFile.make(tmp, def, start, 'w+', path);
    try {
      fs.ftruncateSync(file.fd, file.layout.size);
      fs.renameSync(tmp, path);
    } catch (err) {
      // A full disk or a read-only remount: leave nothing half made behind.
      file.release();
      fs.rmSync(tmp, { force: true });
      throw createError('REMON_ERR_RRD_FILE', `cannot create ${path}: ${errorMessage(err)}`, err);
    }
    file.path = path;
    return file;
  }

  /**
   * make starts a new file in place (flags 'wx+': it must not exist) with every row unknown:
   * its header is written, its archives left past the end (see the layout note). The file
   * keeps its descriptor open until released. Errors name `shownAs`; a failed make leaves
   * no file.
   */
  static make(path: string, def: RrdDef, start: number, flags = 'wx+', shownAs = path): RrdFile {
    validateDef(def);
    let fd: number;
    try {
      fd = fs.openSync(path, flags);
    } catch (err) {
      throw createError('REMON_ERR_RRD_FILE', `cannot create ${shownAs}: ${errorMessage(err)}`, err);
    }
    const layout = new Layout(def, VERSION);
    const file = new RrdFile(path, fd, def, newState(def, Math.floor(start)), 1, 0, layout);
    try {
      const head = Buffer.alloc(layout.staticLen + layout.liveLen);
      writeStatic(head, def, VERSION);
      writeLive(def, file.state, 1, layout.liveLen).copy(head, layout.staticLen, 0, layout.liveLen);
      fs.writeSync(fd, head, 0, head.length, 0);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(path, { force: true });
      throw createError('REMON_ERR_RRD_FILE', `cannot create ${shownAs}: ${errorMessage(err)}`, err);
    }
    return file;
  }

  /** open reads a file's definition and its newest consistent live header. */
  static open(path: string): RrdFile {
    let fd: number;
    let writable = true;
    try {
      ({ fd, writable } = openFile(path));
    } catch (err) {
      throw createError('REMON_ERR_RRD_FILE', `opening '${path}': ${osReason(err)}`, err);
    }
    try {
      // One read holds the whole header of any usual definition (4 KiB; more is read after),
      // into a buffer kept for it: nothing read from it is kept (see readLive, internDef).
      let head = HEAD_SCRATCH.fill(0);
      let got = fs.readSync(fd, head, 0, head.length, 0);
      if (got === 0) {
        fs.closeSync(fd);
        throw createError('REMON_ERR_RRD_UNFINISHED', `${path}: its making was cut short (no header)`);
      }
      if (got < STATIC_HEAD || head.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a remon RRD file');
      const version = head.readUInt32LE(8);
      if (!VERSIONS.includes(version)) throw new Error(`unsupported version ${version}`);
      const staticLen = staticLength(head);
      if (staticLen > head.length) {
        head = Buffer.alloc(staticLen);
        got = fs.readSync(fd, head, 0, staticLen, 0);
      }
      if (got < staticLen) throw new Error(`file is ${got} bytes, its definition alone is ${staticLen}`);
      const def = internDef(head.subarray(0, staticLen));
      const layout = new Layout(def, version);
      if (layout.dataStart > head.length) {
        head = Buffer.alloc(layout.dataStart);
        got = fs.readSync(fd, head, 0, layout.dataStart, 0);
      }
      // A made file ends after its first live slot until rows are written past it.
      const minimum = layout.staticLen + layout.liveLen;
      if (got < minimum) throw new Error(`file is ${got} bytes, its header alone is ${minimum}`);
      let best: { seq: number; state: RrdState; slot: number } | undefined;
      for (const slot of [0, 1]) {
        const at = layout.slot(slot);
        const live = readLive(head.subarray(at, at + layout.liveLen), def);
        if (live && (!best || live.seq > best.seq)) best = { ...live, slot };
      }
      if (!best) throw new Error('no valid live header');
      const misplaced = layout.misplaced(best.state);
      if (misplaced) throw new Error(misplaced);
      const file = new RrdFile(path, fd, def, best.state, best.seq, best.slot, layout);
      file.writable = writable;
      return file;
    } catch (err) {
      if ((err as { code?: string }).code === 'REMON_ERR_RRD_UNFINISHED') throw err;
      fs.closeSync(fd);
      throw createError('REMON_ERR_RRD_FILE', `${path}: ${errorMessage(err)}`, err);
    }
  }

  /** update applies one update; rows go to memory until flush. */
  update(time: number, values: ReadonlyArray<string | number>): void {
    RrdFile.updater.update(this.def, this.state, time, values, this.sink);
    this.dirty = true;
  }

  /** sink puts the rows an update completes where they go: consecutive archives of one row group are consecutive columns, one put. */
  private readonly sink = (rra: number, count: number, row: number, src: Float64Array, offset: number): void => {
    const { groupOf, columnOf } = this.layout;
    const nDs = this.def.ds.length;
    for (let r = rra, end = rra + count; r < end; ) {
      const g = groupOf[r];
      let e = r + 1;
      while (e < end && groupOf[e] === g) e++;
      this.pending[g].put(row, columnOf[r], src, offset + (r - rra) * nDs, (e - r) * nDs, this.writers[g]);
      r = e;
    }
  };

  /** fetch reads a range as rrd_fetch does, merging rows not yet flushed. */
  fetch(cf: Cf, start: number, end: number, step = 1): FetchResult {
    return fetchRows(this.def, this.state, this.readRows, cf, start, end, step);
  }

  /**
   * readRows copies count rows of archive rra from row first on (wrapping) into out from
   * row at: the rows not yet flushed from memory, the others read from the file, one read
   * per contiguous piece (at most two).
   */
  private readonly readRows = (rra: number, first: number, count: number, out: Float64Array, at: number): void => {
    const g = this.layout.groupOf[rra];
    const col = this.layout.columnOf[rra];
    const { rows, width } = this.layout.groups[g];
    const nDs = this.def.ds.length;
    const pending = this.pending[g];
    for (let k = 0; k < count; ) {
      const row = first + k < rows ? first + k : first + k - rows;
      const n = Math.min(count - k, rows - row);
      const values = readScratch(this.handle(false), this.layout.rowAt(g, row), n * width);
      for (let j = 0, o = (at + k) * nDs; j < n; j++, o += nDs) {
        if (pending.get(row + j, col, out, o, nDs)) continue;
        for (let d = 0, v = j * width + col; d < nDs; d++) out[o + d] = values[v + d];
      }
      k += n;
    }
  };

  /** flush writes pending rows, then the live header into the other slot; fsync when asked. */
  flush(options: { sync?: boolean } = {}): void {
    if (!this.dirty) return;
    for (let g = 0; g < this.pending.length; g++) this.pending[g].drain(this.writers[g]);
    if (options.sync) fs.fdatasyncSync(this.handle());
    this.seq++;
    this.slot = 1 - this.slot;
    const live = writeLive(this.def, this.state, this.seq, this.layout.liveLen);
    fs.writeSync(this.handle(), live, 0, this.layout.liveLen, this.layout.slot(this.slot));
    if (options.sync) fs.fdatasyncSync(this.handle());
    this.dirty = false;
  }

  /** close flushes and closes the file descriptor (release without the flush). */
  close(): void {
    this.flush();
    this.release();
  }

  /** release closes the descriptor; the next read or write opens it again. */
  release(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** isDirty: updates not yet flushed. */
  get isDirty(): boolean {
    return this.dirty;
  }

  /** handle is the open descriptor; one opened read-only (a read-only file system) is reopened to write. */
  private handle(write = true): number {
    if (this.fd >= 0 && write && !this.writable) this.release();
    if (this.fd < 0) {
      try {
        ({ fd: this.fd, writable: this.writable } = write ? { fd: fs.openSync(this.path, 'r+'), writable: true } : openFile(this.path));
      } catch (err) {
        throw createError('REMON_ERR_RRD_FILE', `opening '${this.path}': ${osReason(err)}`, err);
      }
    }
    return this.fd;
  }

  /** headerSize is the bytes before the first archive. */
  get headerSize(): number {
    return this.layout.dataStart;
  }

  /** writeRun writes count rows of group g from archive row `row`: one write. */
  private writeRun(g: number, row: number, count: number, values: Float64Array, from: number): void {
    const n = count * this.layout.groups[g].width;
    fs.writeSync(this.handle(), encodeRows(values, from, n), 0, n * 8, this.layout.rowAt(g, row));
  }
}

/** STRERROR words the errors of opening a file as C's strerror does, so messages read as rrdtool's. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  EMFILE: 'Too many open files',
};

/** osReason is an OS error as strerror words it (Node's own message for codes not listed). */
function osReason(err: unknown): string {
  const code = (err as { code?: string })?.code;
  return (code && STRERROR[code]) ?? errorMessage(err);
}

/** openFile opens a file to read and write, or only to read where the file system is read-only. */
function openFile(path: string): { fd: number; writable: boolean } {
  try {
    return { fd: fs.openSync(path, 'r+'), writable: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EROFS') throw err;
    return { fd: fs.openSync(path, 'r'), writable: false };
  }
}

/** HEAD_SCRATCH is where open reads a header (a fresh buffer per open cost a GC every few thousand). */
const HEAD_SCRATCH = Buffer.alloc(4096);

/** Reads of fetches go to scratch space kept up to this size (larger ones to space of their own). */
const READ_KEPT = 1 << 20;
let readSpace = new Float64Array(0);

/**
 * readScratch reads n stored values from position into scratch space, decoded, valid until
 * the next call; values past the end of the file (a file not sized) read as zero bytes:
 * unknown.
 */
function readScratch(fd: number, position: number, n: number): Float64Array {
  let values: Float64Array;
  if (n * 8 > READ_KEPT) values = new Float64Array(n);
  else {
    if (readSpace.length < n) readSpace = new Float64Array(Math.min(READ_KEPT / 8, Math.max(n, readSpace.length * 2)));
    values = readSpace.subarray(0, n);
  }
  const got = fs.readSync(fd, values, 0, n * 8, position);
  if (got < n * 8) new Uint8Array(values.buffer, values.byteOffset + got, n * 8 - got).fill(0);
  return decodeRows(values);
}

const defs = new Map<string, RrdDef>();
/** internDef shares one RrdDef among files with the same header (the updater keys its plan on it). */
function internDef(staticBuf: Buffer): RrdDef {
  const key = staticBuf.toString('latin1');
  let def = defs.get(key);
  if (!def) {
    def = readStatic(staticBuf);
    if (defs.size > 1000) defs.clear();
    defs.set(key, def);
  }
  return def;
}
