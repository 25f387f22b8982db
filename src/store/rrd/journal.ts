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
 * Journal is the write-ahead log of the RRD store, on the durable log (src/durable): every
 * accepted batch of samples is one record, written before write() returns, so a sample
 * accepted before a kill -9 is replayed into its file on restart. Inside a record a series
 * is named once per segment and then referred to by number, so a sample costs 21 bytes
 * and no string encoding. A checkpoint rotates to a new segment when it starts (mark) and
 * drops the segments before the mark once every file holds what they held.
 */
export class Journal {
  private readonly log: DurableLog;
  private ids = new Map<string, number>();
  /** The segment the ids are defined in. */
  private seq = -1;
  private buf = Buffer.allocUnsafe(1 << 16);
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

  /** append writes a batch durably against process death (the OS has it once this returns); it throws REMON_ERR_DURABLE_WRITE. */
  append(samples: readonly Sample[]): void {
    const seq = this.log.nextWriteSeq();
    if (seq !== this.seq) {
      this.ids.clear();
      this.seq = seq;
    }
    let need = samples.length * SAMPLE_BYTES;
    for (const s of samples) if (!this.ids.has(s.series)) need += 12 + Buffer.byteLength(s.series);
    if (this.buf.length < need) this.buf = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    const b = this.buf;
    let at = 0;
    for (const s of samples) {
      let id = this.ids.get(s.series);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(s.series, id);
        b[at] = DEF;
        b.writeUInt32LE(id, at + 1);
        b[at + 5] = Math.max(0, KINDS.indexOf(s.kind));
        b.writeUInt32LE(s.heartbeat ?? 0, at + 6);
        const len = b.write(s.series, at + 12, 'utf8');
        b.writeUInt16LE(len, at + 10);
        at += 12 + len;
      }
      b[at] = SAMPLE;
      b.writeUInt32LE(id, at + 1);
      b.writeDoubleLE(s.t, at + 5);
      b.writeDoubleLE(s.value, at + 13);
      at += SAMPLE_BYTES;
    }
    try {
      this.log.appendSync(b.subarray(0, at));
    } catch (err) {
      // The names defined in the lost record were never written: name everything anew.
      this.ids.clear();
      throw err;
    }
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
