import * as fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { FieldKind } from '../../engine/result';
import { Sample } from '../store';

const KINDS: FieldKind[] = ['gauge', 'counter', 'derive', 'absolute', 'dcounter', 'dderive'];
const DEF = 1;
const SAMPLE = 2;
const SAMPLE_BYTES = 1 + 4 + 8 + 8;

/**
 * Journal is the write-ahead log of the RRD store: every accepted batch of samples is
 * appended with one write before write() returns, so a sample accepted before a kill -9
 * is replayed into its file on restart. A batch is framed by its length and a CRC (replay
 * stops at a torn tail); inside, a series is named once per journal generation and then
 * referred to by number, so a sample costs 21 bytes and no string encoding.
 */
export class Journal {
  private fd: number;
  private ids = new Map<string, number>();
  private buf = Buffer.allocUnsafe(1 << 16);
  bytes = 0;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'a+');
    this.bytes = fs.fstatSync(this.fd).size;
  }

  /** append writes a batch durably against process death (the OS has it once this returns). */
  append(samples: readonly Sample[]): void {
    let need = 8 + samples.length * SAMPLE_BYTES;
    for (const s of samples) if (!this.ids.has(s.series)) need += 12 + Buffer.byteLength(s.series);
    if (this.buf.length < need) this.buf = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    const b = this.buf;
    let at = 8;
    for (const s of samples) {
      let id = this.ids.get(s.series);
      if (id === undefined) {
        id = this.ids.size;
        this.ids.set(s.series, id);
        b[at] = DEF;
        b.writeUInt32LE(id, at + 1);
        b[at + 5] = Math.max(0, KINDS.indexOf(s.kind));
        b.writeUInt32LE(s.heartbeat ?? 0, at + 6);
        const n = b.write(s.series, at + 12, 'utf8');
        b.writeUInt16LE(n, at + 10);
        at += 12 + n;
      }
      b[at] = SAMPLE;
      b.writeUInt32LE(id, at + 1);
      b.writeDoubleLE(s.t, at + 5);
      b.writeDoubleLE(s.value, at + 13);
      at += SAMPLE_BYTES;
    }
    b.writeUInt32LE(at - 8, 0);
    b.writeUInt32LE(crc32(b.subarray(8, at)), 4);
    fs.writeSync(this.fd, b, 0, at);
    this.bytes += at;
  }

  /** replay reads every intact batch, oldest first. */
  replay(each: (s: Sample) => void): number {
    const data = fs.readFileSync(this.path);
    const names: Array<{ series: string; kind: FieldKind; heartbeat?: number }> = [];
    let at = 0;
    let n = 0;
    while (at + 8 <= data.length) {
      const len = data.readUInt32LE(at);
      if (at + 8 + len > data.length || crc32(data.subarray(at + 8, at + 8 + len)) !== data.readUInt32LE(at + 4)) break;
      const end = at + 8 + len;
      let p = at + 8;
      while (p < end) {
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
      at = end;
    }
    return n;
  }

  /** sync makes the journal durable against power loss too. */
  sync(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** reset empties the journal after a checkpoint; series are named anew after it. */
  reset(): void {
    fs.ftruncateSync(this.fd, 0);
    this.ids.clear();
    this.bytes = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
