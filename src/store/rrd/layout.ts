import { crc32 } from 'node:zlib';
import { rrdStrtod } from './strtod';
import { CFS, DS_TYPES, lastDsText, newState, RrdDef, RrdState } from './types';

/*
 * The file format (little-endian), sized like rrdtool's: a static header, two live-header
 * slots, then the archives' rows, 8 bytes per row per DS.
 *
 *   static   "RRDREMON" u32 version, u32 step, u32 dsCnt, u32 rraCnt
 *            dsCnt × 48:  name[20] u8 type [3] u32 heartbeat f64 min f64 max [4]
 *            rraCnt × 24: u8 cf [3] u32 pdpCnt u32 rows [4] f64 xff
 *   live ×2  f64 seq u32 crc [4] f64 lastUp u32 lastUpUsec [4]
 *            dsCnt × 48:  lastDs[32] f64 pdpVal f64 unknSec
 *            rraCnt × dsCnt × 32: f64 cdpVal f64 unknPdp f64 primary f64 secondary
 *            rraCnt × 8:  u32 curRow [4]
 *   data     row groups, each rows × width f64, stored XOR the bits of NaN, so that the
 *            zero bytes of a new sparse file read as unknown and creating a file costs
 *            no writes however long its archives are
 *
 * A row group is the archives whose rows advance together. Version 2 (what new files get)
 * puts the archives of the same steps per row and row count in one group, in definition
 * order, each row holding every member's values side by side (AVERAGE, MIN, MAX, LAST of a
 * retention step in 4 × dsCnt values): an update writes the same rows of each, so a
 * checkpoint writes one contiguous run per group instead of one per archive. Its archives
 * always point at the same row; a file where they do not is refused. Version 1 (remon
 * before it) has one group per archive, in definition order: it is read and updated in
 * place, as it is.
 */
export const MAGIC = 'RRDREMON';
/** VERSION is the version new files get; open reads this one and 1. */
export const VERSION = 2;
export const VERSIONS: readonly number[] = [1, 2];
export const STATIC_HEAD = 24;
export const DS_DEF = 48;
export const RRA_DEF = 24;
const LIVE_HEAD = 32;
const LAST_DS = 32;
const PDP_PREP = LAST_DS + 16;
const CDP_PREP = 32;

/** RowGroup is archives stored row by row side by side: rows × width values from start. */
export interface RowGroup {
  start: number;
  rows: number;
  /** Values per row: dsCnt per member archive. */
  width: number;
  /** The member archives, in definition order (and their order in a row). */
  rras: number[];
}

/** Layout gives the byte offsets of a file's parts for its version. */
export class Layout {
  readonly staticLen: number;
  readonly liveLen: number;
  readonly dataStart: number;
  readonly size: number;
  readonly groups: RowGroup[] = [];
  /** Per archive: its group, and the index of its first value in the group's row. */
  readonly groupOf: number[] = [];
  readonly columnOf: number[] = [];

  constructor(readonly def: RrdDef, readonly version: number) {
    const n = def.ds.length;
    const m = def.rra.length;
    this.staticLen = STATIC_HEAD + DS_DEF * n + RRA_DEF * m;
    this.liveLen = LIVE_HEAD + PDP_PREP * n + CDP_PREP * m * n + 8 * m;
    this.dataStart = this.staticLen + 2 * this.liveLen;
    def.rra.forEach((r, i) => {
      let g = version === 1 ? -1 : this.groups.findIndex((x) => def.rra[x.rras[0]].pdpCnt === r.pdpCnt && x.rows === r.rows);
      if (g < 0) g = this.groups.push({ start: 0, rows: r.rows, width: 0, rras: [] }) - 1;
      const group = this.groups[g];
      this.groupOf.push(g);
      this.columnOf.push(group.width);
      group.rras.push(i);
      group.width += n;
    });
    let at = this.dataStart;
    for (const g of this.groups) {
      g.start = at;
      at += g.rows * g.width * 8;
    }
    this.size = at;
  }

  slot(i: number): number {
    return this.staticLen + i * this.liveLen;
  }

  /** rowAt is the byte offset of a group's row. */
  rowAt(group: number, row: number): number {
    const g = this.groups[group];
    return g.start + row * g.width * 8;
  }

  /** misplaced names a group whose archives point at different rows (a file no remon writes), if any. */
  misplaced(s: RrdState): string | undefined {
    for (const g of this.groups) {
      const row = s.curRow[g.rras[0]];
      if (g.rras.some((r) => s.curRow[r] !== row)) return `archives ${g.rras.join(', ')} share their rows but are at rows ${g.rras.map((r) => s.curRow[r]).join(', ')}`;
    }
    return undefined;
  }
}

/** staticLength is the length of the static header whose first STATIC_HEAD bytes are b. */
export function staticLength(b: Buffer): number {
  return STATIC_HEAD + DS_DEF * b.readUInt32LE(16) + RRA_DEF * b.readUInt32LE(20);
}

const NAN_HIGH_WORD = 0x7ff80000;

/** Scratch space for encodeRows and the live header, reused: every write is synchronous. */
let rowScratch = new Float64Array(512);
let rowWords = new Uint32Array(rowScratch.buffer);
let rowBytes = Buffer.from(rowScratch.buffer);
let liveView = new DataView(new ArrayBuffer(4096));
let liveBytes = Buffer.from(liveView.buffer);
/** What the CRC of the last live header length covered (bytes 16 to its end), kept: most files have one length. */
let crcSpan = liveBytes.subarray(16, 16);

/**
 * encodeRows turns values[from, from + n) into stored bytes (each value's bits XOR those of
 * NaN): the first n × 8 bytes of the buffer returned, scratch space valid until the next call.
 */
export function encodeRows(values: Float64Array, from: number, n: number): Buffer {
  if (n > rowScratch.length) {
    rowScratch = new Float64Array(Math.max(n, rowScratch.length * 2));
    rowWords = new Uint32Array(rowScratch.buffer);
    rowBytes = Buffer.from(rowScratch.buffer);
  }
  const words = rowWords;
  for (let i = 0; i < n; i++) rowScratch[i] = values[from + i];
  const end = n * 2;
  for (let i = 1; i < end; i += 2) words[i] ^= NAN_HIGH_WORD;
  return rowBytes;
}

/** decodeRows is the inverse of encodeRows (a zero row reads as NaN), in place. */
export function decodeRows(values: Float64Array): Float64Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  for (let i = 1; i < words.length; i += 2) words[i] ^= NAN_HIGH_WORD;
  return values;
}

export function writeStatic(b: Buffer, def: RrdDef, version: number): void {
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(version, 8);
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

export function readStatic(b: Buffer): RrdDef {
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

/**
 * writeLive encodes the live header of a file whose slot is len bytes long: the first len
 * bytes of the buffer returned, scratch space valid until the next call. (It runs once per
 * file per checkpoint: DataView and byte stores of every byte, padding included, so the
 * scratch needs no clearing; no allocation.)
 */
export function writeLive(def: RrdDef, s: RrdState, seq: number, len: number): Buffer {
  if (len > liveBytes.length) {
    liveView = new DataView(new ArrayBuffer(Math.max(len, liveBytes.length * 2)));
    liveBytes = Buffer.from(liveView.buffer);
  }
  if (crcSpan.buffer !== liveBytes.buffer || crcSpan.length !== len - 16) crcSpan = liveBytes.subarray(16, len);
  const v = liveView;
  const b = liveBytes;
  const n = def.ds.length;
  v.setFloat64(0, seq, true);
  v.setUint32(12, 0, true);
  v.setFloat64(16, s.lastUp, true);
  v.setUint32(24, s.lastUpUsec, true);
  v.setUint32(28, 0, true);
  let at = LIVE_HEAD;
  for (let i = 0; i < n; i++, at += PDP_PREP) {
    // Latin-1, at most LAST_DS - 2 characters, NUL-padded: a byte store keeps a code's low byte, as Buffer's latin1 does.
    const text = lastDsText(s, i);
    const m = Math.min(text.length, LAST_DS - 2);
    for (let k = 0; k < m; k++) b[at + k] = text.charCodeAt(k);
    for (let k = m; k < LAST_DS; k++) b[at + k] = 0;
    v.setFloat64(at + LAST_DS, s.pdpVal[i], true);
    v.setFloat64(at + LAST_DS + 8, s.pdpUnknSec[i], true);
  }
  for (let c = 0; c < def.rra.length * n; c++, at += CDP_PREP) {
    v.setFloat64(at, s.cdpVal[c], true);
    v.setFloat64(at + 8, s.cdpUnknPdp[c], true);
    v.setFloat64(at + 16, s.cdpPrimary[c], true);
    v.setFloat64(at + 24, s.cdpSecondary[c], true);
  }
  for (let r = 0; r < def.rra.length; r++, at += 8) {
    v.setUint32(at, s.curRow[r], true);
    v.setUint32(at + 4, 0, true);
  }
  v.setUint32(8, crc32(crcSpan), true);
  return b;
}

/** readLive reads a live slot; undefined when it holds no valid header (never written, or torn). */
export function readLive(b: Buffer, def: RrdDef): { seq: number; state: RrdState } | undefined {
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
