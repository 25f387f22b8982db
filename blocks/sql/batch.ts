// The records of the seen keys (seen.ts) on the durable log. A batch of keys is
//
//   `B <floor> <n> <form>\n`  text header: floor is the buckets handed out when it was
//                             recorded (`-`: in a snapshot, not counted again), n the keys,
//                             form `t` (keys as text) or `j` (each key as JSON)
//   n float64 LE              the keys' timestamps, epoch ms
//   the keys                  joined by `\n` (form t), or JSON strings joined by `\n` (form j:
//                             a key holds a newline)
//
// so that recording 100,000 keys is one join, one Buffer.from and one copy, not a line
// built per key. Other records are text: `E <mark>` (buckets handed out) and, first in a
// snapshot, `S <mark> <end:count,...>` (the buckets not handed out yet).

/** Batch is one decoded batch: floor (undefined in a snapshot), keys and their timestamps. */
export interface Batch {
  floor?: number;
  keys: string[];
  ts: Float64Array;
}

/** BATCH_KEYS: a batch holds at most this many keys (a record stays a few MiB). */
export const BATCH_KEYS = 100_000;

/** encodeBatch frames keys with their timestamps ts[0..keys.length) as one record. */
export function encodeBatch(floor: number | undefined, keys: readonly string[], ts: Float64Array): Buffer {
  let text = keys.join('\n');
  let form = 't';
  // A key with a newline would split in two: count the newlines the join put in.
  let nl = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) nl++;
  if (nl !== Math.max(0, keys.length - 1)) {
    text = keys.map((k) => JSON.stringify(k)).join('\n');
    form = 'j';
  }
  const head = Buffer.from(`B ${floor ?? '-'} ${keys.length} ${form}\n`, 'latin1');
  const times = Buffer.from(ts.buffer, ts.byteOffset, keys.length * 8);
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([head, times, body], head.length + times.length + body.length);
}

/** decodeBatch reads a batch record, or undefined when it is not one (or damaged). */
export function decodeBatch(rec: Buffer): Batch | undefined {
  const nl = rec.indexOf(10);
  if (nl < 0 || rec[0] !== 66 /* B */) return undefined;
  const [, floorText, nText, form] = rec.toString('latin1', 0, nl).split(' ');
  const n = Number(nText);
  if (!Number.isInteger(n) || n < 0 || rec.length < nl + 1 + 8 * n) return undefined;
  const ts = new Float64Array(n);
  Buffer.from(ts.buffer).set(rec.subarray(nl + 1, nl + 1 + 8 * n));
  const text = rec.toString('utf8', nl + 1 + 8 * n);
  let keys = n === 0 ? [] : text.split('\n');
  if (keys.length !== n) return undefined;
  if (form === 'j') {
    try {
      keys = keys.map((k) => JSON.parse(k) as string);
    } catch {
      return undefined;
    }
  }
  return { floor: floorText === '-' ? undefined : Number(floorText), keys, ts };
}
