import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { createError, errorMessage } from '../../errors';
import { FetchResult, fetchRows } from './fetch';
import { PendingRows } from './pending';
import { rrdStrtod } from './strtod';
import { Cf, CFS, DS_TYPES, lastDsText, RrdDef, RrdState, newState } from './types';
import { Updater } from './update';

/*
 * File layout (little-endian), sized like rrdtool's: a static header, two live-header
 * slots, then the archives, 8 bytes per row per DS.
 *
 *   static   "RRDREMON" u32 version, u32 step, u32 dsCnt, u32 rraCnt
 *            dsCnt × 48:  name[20] u8 type [3] u32 heartbeat f64 min f64 max [4]
 *            rraCnt × 24: u8 cf [3] u32 pdpCnt u32 rows [4] f64 xff
 *   live ×2  f64 seq u32 crc [4] f64 lastUp u32 lastUpUsec [4]
 *            dsCnt × 48:  lastDs[32] f64 pdpVal f64 unknSec
 *            rraCnt × dsCnt × 32: f64 cdpVal f64 unknPdp f64 primary f64 secondary
 *            rraCnt × 8:  u32 curRow [4]
 *   data     per archive: rows × dsCnt × f64, stored XOR the bits of NaN, so that the
 *            zero bytes of a new sparse file read as unknown and creating a file costs
 *            no writes however long its archives are
 *
 * A flush writes the rows first, then the live header into the slot not holding the
 * current one, with a higher sequence number and a CRC. Opening takes the valid slot with
 * the higher sequence, so a crash mid-write leaves the previous consistent state, which
 * the store's journal then brings forward again.
 *
 * The store makes its files in place (make): an open and one write of the header (static
 * part and live slot 0); the archives are not sized, as rows past the end of the file read
 * as zero bytes, which is unknown. A file cut short between the open and that write is
 * empty: opening it fails with REMON_ERR_RRD_UNFINISHED, and the store, whose journal
 * still holds the samples, makes it again. rrdtool-style `create` sizes the file whole.
 */
const MAGIC = 'RRDREMON';
const VERSION = 1;
const STATIC_HEAD = 24;
const DS_DEF = 48;
const RRA_DEF = 24;
const LIVE_HEAD = 32;
const LAST_DS = 32;
const PDP_PREP = LAST_DS + 16;
const CDP_PREP = 32;

/** Layout gives the byte offsets of a file's parts. */
class Layout {
  readonly staticLen: number;
  readonly liveLen: number;
  readonly dataStart: number;
  readonly rraStart: number[] = [];
  readonly size: number;
  constructor(readonly def: RrdDef) {
    const n = def.ds.length;
    const m = def.rra.length;
    this.staticLen = STATIC_HEAD + DS_DEF * n + RRA_DEF * m;
    this.liveLen = LIVE_HEAD + PDP_PREP * n + CDP_PREP * m * n + 8 * m;
    this.dataStart = this.staticLen + 2 * this.liveLen;
    let at = this.dataStart;
    for (const r of def.rra) {
      this.rraStart.push(at);
      at += r.rows * n * 8;
    }
    this.size = at;
  }
  slot(i: number): number {
    return this.staticLen + i * this.liveLen;
  }
}

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
  private readonly pending: PendingRows[];
  private readonly spill: Array<(row: number, values: Float64Array) => void>;
  private seq: number;
  private slot: number;
  private dirty = false;
  private static readonly updater = new Updater();

  /** The descriptor was opened for writing (not read-only, as on a read-only file system). */
  private writable = true;

  private constructor(public path: string, private fd: number, readonly def: RrdDef, readonly state: RrdState, seq: number, slot: number) {
    this.layout = new Layout(def);
    this.pending = def.rra.map((r) => new PendingRows(r.rows, def.ds.length));
    this.spill = def.rra.map((_, rra) => (row: number, values: Float64Array) => this.writeRowNow(rra, row, values));
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
    const file = new RrdFile(path, fd, def, newState(def, Math.floor(start)), 1, 0);
    const layout = file.layout;
    try {
      const head = Buffer.alloc(layout.staticLen + layout.liveLen);
      writeStatic(head, def);
      writeLive(head.subarray(layout.staticLen), def, file.state, 1);
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
      if (head.readUInt32LE(8) !== VERSION) throw new Error(`unsupported version ${head.readUInt32LE(8)}`);
      const staticLen = STATIC_HEAD + DS_DEF * head.readUInt32LE(16) + RRA_DEF * head.readUInt32LE(20);
      if (staticLen > head.length) {
        head = Buffer.alloc(staticLen);
        got = fs.readSync(fd, head, 0, staticLen, 0);
      }
      if (got < staticLen) throw new Error(`file is ${got} bytes, its definition alone is ${staticLen}`);
      const def = internDef(head.subarray(0, staticLen));
      const layout = new Layout(def);
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
      const file = new RrdFile(path, fd, def, best.state, best.seq, best.slot);
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

  private readonly sink = (rra: number, row: number, src: Float64Array, offset: number): void => {
    this.pending[rra].put(row, src, offset, this.spill[rra]);
  };

  /** fetch reads a range as rrd_fetch does, merging rows not yet flushed. */
  fetch(cf: Cf, start: number, end: number, step = 1): FetchResult {
    const cache = new Map<number, Float64Array>();
    const nDs = this.def.ds.length;
    return fetchRows(this.def, this.state, (rra, row, out, offset) => {
      if (this.pending[rra].get(row, out, offset)) return;
      let rows = cache.get(rra);
      if (!rows) {
        const bytes = Buffer.alloc(this.def.rra[rra].rows * nDs * 8);
        fs.readSync(this.handle(false), bytes, 0, bytes.length, this.layout.rraStart[rra]);
        rows = decodeRows(bytes);
        cache.set(rra, rows);
      }
      for (let d = 0; d < nDs; d++) out[offset + d] = rows[row * nDs + d];
    }, cf, start, end, step);
  }

  /** flush writes pending rows, then the live header into the other slot; fsync when asked. */
  flush(options: { sync?: boolean } = {}): void {
    if (!this.dirty) return;
    this.pending.forEach((p, rra) => p.drain((row, count, values) => {
      const buf = encodeRows(values.subarray(0, count * this.def.ds.length));
      fs.writeSync(this.handle(), buf, 0, buf.length, this.layout.rraStart[rra] + row * this.def.ds.length * 8);
    }));
    if (options.sync) fs.fdatasyncSync(this.handle());
    this.seq++;
    this.slot = 1 - this.slot;
    const live = writeLive(liveBuffer(this.layout.liveLen), this.def, this.state, this.seq);
    fs.writeSync(this.handle(), live, 0, live.length, this.layout.slot(this.slot));
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

  private writeRowNow(rra: number, row: number, values: Float64Array): void {
    const buf = encodeRows(values.subarray(0, this.def.ds.length));
    fs.writeSync(this.handle(), buf, 0, buf.length, this.layout.rraStart[rra] + row * this.def.ds.length * 8);
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

const NAN_HIGH_WORD = 0x7ff80000;

/** Scratch space for encodeRows and the live header, reused: every write is synchronous. */
let rowScratch = new Float64Array(512);
let rowWords = new Uint32Array(rowScratch.buffer);
let liveScratch = Buffer.alloc(4096);

/** encodeRows turns values into stored bytes (each value's bits XOR those of NaN), in scratch space valid until the next call. */
function encodeRows(values: Float64Array): Buffer {
  if (values.length > rowScratch.length) {
    rowScratch = new Float64Array(Math.max(values.length, rowScratch.length * 2));
    rowWords = new Uint32Array(rowScratch.buffer);
  }
  rowScratch.set(values);
  const words = rowWords;
  const end = values.length * 2;
  for (let i = 1; i < end; i += 2) words[i] ^= NAN_HIGH_WORD;
  return Buffer.from(rowScratch.buffer, 0, values.length * 8);
}

/** liveBuffer is zeroed scratch space for a live header of len bytes, valid until the next call. */
function liveBuffer(len: number): Buffer {
  if (len > liveScratch.length) liveScratch = Buffer.alloc(Math.max(len, liveScratch.length * 2));
  return liveScratch.subarray(0, len).fill(0);
}

/** decodeRows is the inverse of encodeRows (a zero row reads as NaN). */
function decodeRows(bytes: Buffer): Float64Array {
  const copy = new Uint8Array(bytes);
  const words = new Uint32Array(copy.buffer);
  for (let i = 1; i < words.length; i += 2) words[i] ^= NAN_HIGH_WORD;
  return new Float64Array(copy.buffer);
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

function writeStatic(b: Buffer, def: RrdDef): void {
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(VERSION, 8);
  b.writeUInt32LE(def.step, 12);
  b.writeUInt32LE(def.ds.length, 16);
  b.writeUInt32LE(def.rra.length, 20);
  let at = STATIC_HEAD;
  for (const d of def.ds) {
    b.write(d.name, at, 20, 'utf8');
    b.writeUInt8(DS_TYPES.indexOf(d.type), at + 20);
    b.writeUInt32LE(d.heartbeat, at + 24);
    b.writeDoubleLE(d.min, at + 28);
    b.writeDoubleLE(d.max, at + 36);
    at += DS_DEF;
  }
  for (const r of def.rra) {
    b.writeUInt8(CFS.indexOf(r.cf), at);
    b.writeUInt32LE(r.pdpCnt, at + 4);
    b.writeUInt32LE(r.rows, at + 8);
    b.writeDoubleLE(r.xff, at + 16);
    at += RRA_DEF;
  }
}

function readStatic(b: Buffer): RrdDef {
  const step = b.readUInt32LE(12);
  const n = b.readUInt32LE(16);
  const m = b.readUInt32LE(20);
  let at = STATIC_HEAD;
  const ds = [];
  for (let i = 0; i < n; i++, at += DS_DEF) {
    const raw = b.subarray(at, at + 20);
    const end = raw.indexOf(0);
    ds.push({
      name: raw.toString('utf8', 0, end < 0 ? 20 : end),
      type: DS_TYPES[b.readUInt8(at + 20)],
      heartbeat: b.readUInt32LE(at + 24),
      min: b.readDoubleLE(at + 28),
      max: b.readDoubleLE(at + 36),
    });
  }
  const rra = [];
  for (let i = 0; i < m; i++, at += RRA_DEF) {
    rra.push({ cf: CFS[b.readUInt8(at)], pdpCnt: b.readUInt32LE(at + 4), rows: b.readUInt32LE(at + 8), xff: b.readDoubleLE(at + 16) });
  }
  return { step, ds, rra };
}

/** writeLive fills b (zeroed, a live slot long) with the live header. */
function writeLive(b: Buffer, def: RrdDef, s: RrdState, seq: number): Buffer {
  const n = def.ds.length;
  b.writeDoubleLE(seq, 0);
  b.writeDoubleLE(s.lastUp, 16);
  b.writeUInt32LE(s.lastUpUsec, 24);
  let at = LIVE_HEAD;
  for (let i = 0; i < n; i++, at += PDP_PREP) {
    b.write(lastDsText(s, i).slice(0, LAST_DS - 2), at, LAST_DS - 1, 'latin1');
    b.writeDoubleLE(s.pdpVal[i], at + LAST_DS);
    b.writeDoubleLE(s.pdpUnknSec[i], at + LAST_DS + 8);
  }
  for (let c = 0; c < def.rra.length * n; c++, at += CDP_PREP) {
    b.writeDoubleLE(s.cdpVal[c], at);
    b.writeDoubleLE(s.cdpUnknPdp[c], at + 8);
    b.writeDoubleLE(s.cdpPrimary[c], at + 16);
    b.writeDoubleLE(s.cdpSecondary[c], at + 24);
  }
  for (let r = 0; r < def.rra.length; r++, at += 8) b.writeUInt32LE(s.curRow[r], at);
  b.writeUInt32LE(crc32(b.subarray(16)), 8);
  return b;
}

function readLive(b: Buffer, def: RrdDef): { seq: number; state: RrdState } | undefined {
  const seq = b.readDoubleLE(0);
  if (!(seq > 0) || b.readUInt32LE(8) !== crc32(b.subarray(16))) return undefined;
  const n = def.ds.length;
  const s = newState(def, 0);
  s.lastUp = b.readDoubleLE(16);
  s.lastUpUsec = b.readUInt32LE(24);
  let at = LIVE_HEAD;
  for (let i = 0; i < n; i++, at += PDP_PREP) {
    const raw = b.subarray(at, at + LAST_DS);
    const end = raw.indexOf(0);
    s.lastDs[i] = raw.toString('latin1', 0, end < 0 ? LAST_DS : end);
    s.lastDsNum[i] = s.lastDs[i][0] === 'U' ? NaN : rrdStrtod(s.lastDs[i]);
    s.pdpVal[i] = b.readDoubleLE(at + LAST_DS);
    s.pdpUnknSec[i] = b.readDoubleLE(at + LAST_DS + 8);
  }
  for (let c = 0; c < def.rra.length * n; c++, at += CDP_PREP) {
    s.cdpVal[c] = b.readDoubleLE(at);
    s.cdpUnknPdp[c] = b.readDoubleLE(at + 8);
    s.cdpPrimary[c] = b.readDoubleLE(at + 16);
    s.cdpSecondary[c] = b.readDoubleLE(at + 24);
  }
  for (let r = 0; r < def.rra.length; r++, at += 8) s.curRow[r] = b.readUInt32LE(at);
  return { seq, state: s };
}
