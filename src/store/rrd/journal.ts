import * as fs from 'node:fs';
import * as path from 'node:path';
import { DurableLog } from '../../durable/log';
import { FieldKind } from '../../engine/result';
import { Logger } from '../../log';
import { Sample } from '../store';

const KINDS: FieldKind[] = ['gauge', 'counter', 'derive', 'absolute', 'dcounter', 'dderive'];
const DEF = 1;
const SAMPLE = 2;
const SAMPLE_BYTES = 1 + 4 + 8 + 8;
/** The journal of remon before the durable log: one file, truncated at each checkpoint. */
const OLD_JOURNAL = 'journal.log';

interface Def {
  series: string;
  kind: FieldKind;
  heartbeat?: number;
}

/**
 * JournalRef is where the journal keeps a series' number in the current segment (the
 * store's entry for the series carries it), so appending a sample costs no lookup by name.
 */
export interface JournalRef {
  /** The series' number, valid while jgen is the journal's generation. */
  jid: number;
  jgen: number;
}

/**
 * Journal is the write-ahead log of the RRD store, on the durable log (src/durable): every
 * accepted batch of samples is one record, written before write() returns, so a sample
 * accepted before a kill -9 is replayed into its file on restart. Inside a record a series
 * is named once per segment and then referred to by number, so a sample costs 21 bytes
 * and no string encoding. A checkpoint rotates to a new segment when it starts (mark) and
 * drops the segments before the mark once every file holds what they held.
 */
export class Journal {
  private readonly log: DurableLog;
  /** The numbers given in the current segment (refs of another generation have none). */
  private gen = 1;
  private nextId = 0;
  /** The segment the numbers are given in. */
  private seq = -1;
  private buf = Buffer.allocUnsafe(1 << 16);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  /** Samples read back at open. */
  readonly replayed: number;

  /** open reads the journal in dir, handing every sample in it to each, oldest first. */
  constructor(dir: string, each: (s: Sample) => void, options: { log?: Logger; sync?: boolean } = {}) {
    // An empty journal of the earlier format is what every clean stop left: nothing to say.
    const old = path.join(dir, OLD_JOURNAL);
    if (fs.existsSync(old) && fs.statSync(old).size === 0) fs.rmSync(old);
    let names: Def[] = [];
    let namesSeq = -1;
    let n = 0;
    this.log = DurableLog.open(
      { dir, name: 'journal', what: 'the RRD journal', log: options.log, sync: options.sync, legacy: (f) => f === OLD_JOURNAL },
      {
        record: (rec, seq) => {
          if (seq !== namesSeq) {
            names = [];
            namesSeq = seq;
          }
          n += decode(rec, names, each);
        },
      },
    );
    this.replayed = n;
  }

  /**
   * append writes a batch durably against process death (the OS has it once this returns);
   * refs[i] is the ref of samples[i]'s series. It throws REMON_ERR_DURABLE_WRITE.
   */
  append(samples: readonly Sample[], refs: ArrayLike<JournalRef>): void {
    const seq = this.log.nextWriteSeq();
    if (seq !== this.seq) this.forget(seq);
    const gen = this.gen;
    let need = samples.length * SAMPLE_BYTES;
    for (let i = 0; i < samples.length; i++) if (refs[i].jgen !== gen) need += 12 + 3 * samples[i].series.length;
    if (this.buf.length < need) {
      this.buf = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
    const b = this.buf;
    const v = this.view;
    let at = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const ref = refs[i];
      if (ref.jgen !== gen) {
        ref.jgen = gen;
        ref.jid = this.nextId++;
        b[at] = DEF;
        v.setUint32(at + 1, ref.jid, true);
        b[at + 5] = Math.max(0, KINDS.indexOf(s.kind));
        v.setUint32(at + 6, s.heartbeat ?? 0, true);
        const len = b.write(s.series, at + 12, 'utf8');
        v.setUint16(at + 10, len, true);
        at += 12 + len;
      }
      b[at] = SAMPLE;
      v.setUint32(at + 1, ref.jid, true);
      v.setFloat64(at + 5, s.t, true);
      v.setFloat64(at + 13, s.value, true);
      at += SAMPLE_BYTES;
    }
    try {
      this.log.appendSync(b.subarray(0, at));
    } catch (err) {
      // The names defined in the lost record were never written: name everything anew.
      this.forget(this.seq);
      throw err;
    }
  }

  /** forget drops every number given: the next append names each series again, in segment seq. */
  private forget(seq: number): void {
    this.seq = seq;
    this.gen++;
    this.nextId = 0;
  }

  /** rotate starts a new segment for what follows and returns the mark (a checkpoint starts). */
  rotate(): number {
    return this.log.rotate();
  }

  /** dropBefore deletes the segments before mark (the checkpoint that took it completed). */
  dropBefore(mark: number): void {
    this.log.dropBefore(mark);
  }

  /** bytes is the size of the segments kept. */
  get bytes(): number {
    let n = 0;
    for (const s of this.log.segments) n += s.bytes;
    return n;
  }

  close(): void {
    this.log.closeSync();
  }
}

/** decode hands a record's samples to each, defining names as it goes; returns how many. */
function decode(data: Buffer, names: Def[], each: (s: Sample) => void): number {
  let p = 0;
  let n = 0;
  while (p < data.length) {
    const id = data.readUInt32LE(p + 1);
    if (data[p] === DEF) {
      const nameLen = data.readUInt16LE(p + 10);
      names[id] = {
        kind: KINDS[data[p + 5]] ?? 'gauge',
        heartbeat: data.readUInt32LE(p + 6) || undefined,
        series: data.toString('utf8', p + 12, p + 12 + nameLen),
      };
      p += 12 + nameLen;
    } else {
      const def = names[id];
      if (def) each({ ...def, t: data.readDoubleLE(p + 5), value: data.readDoubleLE(p + 13) });
      p += SAMPLE_BYTES;
      n++;
    }
  }
  return n;
}
