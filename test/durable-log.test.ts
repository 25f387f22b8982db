/**
 * The durable log (src/durable) on a real file system: framing, torn tails and damage,
 * group commit, compaction cut short by kill -9 at each step, consumption with a cap,
 * and kill -9 of a process appending.
 */
import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LogConsumer } from '../src/durable/consumer';
import { listSegments, segmentFile } from '../src/durable/files';
import { HEADER_BYTES } from '../src/durable/frame';
import { CompactionStep, DurableLog, DurableLogOptions } from '../src/durable/log';
import type { ChildJob } from './durable-child';
import { sleep, tmpDir, waitFor } from './helpers';

const CHILD = path.join(__dirname, 'durable-child.js');

interface Opened {
  log: DurableLog;
  snapshot: string[];
  records: string[];
  bytes: Buffer[];
}

function open(dir: string, o: Partial<DurableLogOptions> = {}): Opened {
  const snapshot: string[] = [];
  const records: string[] = [];
  const bytes: Buffer[] = [];
  const log = DurableLog.open({ dir, name: 'test', what: 'the test log', ...o }, {
    snapshot: (rec) => snapshot.push(rec.toString()),
    record: (rec) => {
      records.push(rec.toString());
      bytes.push(Buffer.from(rec));
    },
  });
  return { log, snapshot, records, bytes };
}

function onlySegment(dir: string): string {
  const seqs = listSegments(dir, 'test');
  return path.join(dir, segmentFile('test', seqs[seqs.length - 1]));
}

/** childValues reopens a child's log: the numbers of the snapshot, then of the records. */
function childValues(dir: string): number[] {
  const { log, snapshot, records } = open(dir);
  log.closeSync();
  return [...snapshot.flatMap((s) => JSON.parse(s) as number[]), ...records.map(Number)];
}

function startChild(job: ChildJob, onMessage: (m: { acked?: number; ready?: number; done?: boolean }) => void = () => undefined) {
  const child = fork(CHILD, [JSON.stringify(job)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', onMessage);
  const disconnected = new Promise<void>((resolve) => child.once('disconnect', () => resolve()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_c, signal) => resolve(signal))).then(async (s) => {
    await disconnected;
    return s;
  });
  return { child, exited };
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('durable log: framing', () => {
  const cases: Array<{ name: string; payloads: Buffer[] }> = [
    { name: 'an empty record', payloads: [Buffer.alloc(0)] },
    { name: 'one byte', payloads: [Buffer.from('x')] },
    { name: 'UTF-8 text', payloads: [Buffer.from('größe ✓ 監視')] },
    { name: '100 small records', payloads: range(100).map((i) => Buffer.from(`record ${i}`)) },
    { name: 'a 3 MB record of random bytes', payloads: [Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7919) & 255))] },
  ];
  for (const c of cases) {
    it(`round trip: ${c.name}, by appendSync, appendBatchSync and append`, async () => {
      for (const way of ['appendSync', 'appendBatchSync', 'append'] as const) {
        const dir = tmpDir();
        const { log } = open(dir);
        if (way === 'appendSync') for (const p of c.payloads) log.appendSync(p);
        else if (way === 'appendBatchSync') assert.deepEqual(log.appendBatchSync(c.payloads), { written: c.payloads.length });
        else await Promise.all(c.payloads.map((p) => log.append(p)));
        await log.close();
        const again = open(dir);
        assert.equal(again.bytes.length, c.payloads.length, way);
        again.bytes.forEach((b, i) => assert.ok(b.equals(c.payloads[i]), `${way}: record ${i} differs`));
        assert.equal(again.log.opened.damaged, 0);
        again.log.closeSync();
      }
    });
  }

  it('fills segments up to segmentBytes and reads them back in order', () => {
    const dir = tmpDir();
    const { log } = open(dir, { segmentBytes: 200 });
    log.appendBatchSync(range(60).map((i) => Buffer.from(`line ${i}`)));
    log.closeSync();
    assert.ok(listSegments(dir, 'test').length >= 5, `${listSegments(dir, 'test').length} segments`);
    for (const seq of listSegments(dir, 'test')) assert.ok(fs.statSync(path.join(dir, segmentFile('test', seq))).size <= 200);
    assert.deepEqual(open(dir).records, range(60).map((i) => `line ${i}`));
  });
});

describe('durable log: torn tails and damage', () => {
  const last = 'the last record, cut short';

  it('cuts a torn last record at every byte offset, and appends after the cut', () => {
    const base = tmpDir();
    const { log } = open(base);
    log.appendSync(Buffer.from('one'));
    log.appendSync(Buffer.from('two'));
    const whole = log.activeSegment!.bytes;
    log.appendSync(Buffer.from(last));
    log.closeSync();
    const bytes = fs.readFileSync(onlySegment(base));
    const frame = HEADER_BYTES + Buffer.byteLength(last);
    assert.equal(bytes.length, whole + frame);
    for (let keep = 1; keep < frame; keep++) {
      const dir = tmpDir();
      const file = path.join(dir, segmentFile('test', 1));
      fs.writeFileSync(file, bytes.subarray(0, whole + keep));
      const a = open(dir);
      assert.deepEqual(a.records, ['one', 'two'], `cut after ${keep} of ${frame} bytes`);
      assert.equal(a.log.opened.cutBytes, keep);
      assert.equal(fs.statSync(file).size, whole, 'the torn bytes are gone');
      a.log.appendSync(Buffer.from('three'));
      a.log.closeSync();
      assert.deepEqual(open(dir).records, ['one', 'two', 'three'], `after the cut at ${keep}`);
    }
  });

  /** Each case spoils a segment of three records (starting at starts[i]); size is the file's size after the reopen. */
  const damage: Array<{ name: string; spoil(file: string, starts: number[]): void; records: string[]; size(starts: number[], whole: number, spoiled: number): number }> = [
    { name: 'a flipped payload byte in the middle record', spoil: (f, s) => flip(f, s[1] + HEADER_BYTES + 1), records: ['r0', 'r2'], size: (_s, _w, spoiled) => spoiled },
    { name: 'a flipped length in the middle record', spoil: (f, s) => flip(f, s[1] + 5), records: ['r0', 'r2'], size: (_s, _w, spoiled) => spoiled },
    { name: 'a flipped payload byte in the last record', spoil: (f, s) => flip(f, s[2] + HEADER_BYTES), records: ['r0', 'r1'], size: (s) => s[2] },
    { name: 'zero bytes after the last record (an extended file)', spoil: (f) => fs.appendFileSync(f, Buffer.alloc(4096)), records: ['r0', 'r1', 'r2'], size: (_s, whole) => whole },
  ];
  for (const d of damage) {
    it(`skips ${d.name}, counts it, and cuts only a tail`, () => {
      const dir = tmpDir();
      const { log } = open(dir);
      const starts: number[] = [];
      for (let i = 0; i < 3; i++) {
        starts.push(log.activeSegment?.bytes ?? 8);
        log.appendSync(Buffer.from(`r${i}-${'x'.repeat(40)}`));
      }
      log.closeSync();
      const file = onlySegment(dir);
      const whole = fs.statSync(file).size;
      d.spoil(file, starts);
      const spoiled = fs.statSync(file).size;
      const again = open(dir);
      assert.deepEqual(again.records.map((r) => r.slice(0, 2)), d.records);
      assert.equal(again.log.opened.damaged, 1);
      assert.equal(fs.statSync(file).size, d.size(starts, whole, spoiled));
      again.log.closeSync();
    });
  }

  it('sets a segment with a foreign header aside and warns about files of the earlier format, reading neither', () => {
    const dir = tmpDir();
    const { log } = open(dir);
    log.appendSync(Buffer.from('kept'));
    log.closeSync();
    fs.writeFileSync(path.join(dir, segmentFile('test', 2)), '{"k":"ok"}\n');
    fs.writeFileSync(path.join(dir, 'old-journal.log'), '{"k":"ok"}\n');
    const warnings: unknown[] = [];
    const fake = { warn: (o: unknown, msg: string) => warnings.push([msg, o]) } as never;
    const again = open(dir, { log: fake, legacy: (f) => f === 'old-journal.log' });
    assert.deepEqual(again.records, ['kept']);
    assert.deepEqual(again.log.opened.legacy, ['old-journal.log']);
    assert.ok(fs.existsSync(path.join(dir, 'old-journal.log')), 'an old file is left in place');
    assert.ok(fs.existsSync(path.join(dir, `${segmentFile('test', 2)}.unreadable`)));
    const text = JSON.stringify(warnings);
    assert.match(text, /file of an earlier remon version found; this version does not read it \(left in place\)/);
    assert.match(text, /old-journal\.log/);
    assert.match(text, /segment without a valid header set aside/);
    again.log.closeSync();
  });
});

function flip(file: string, at: number): void {
  const b = fs.readFileSync(file);
  b[at] ^= 0x40;
  fs.writeFileSync(file, b);
}

describe('durable log: group commit', () => {
  for (const sync of [false, true]) {
    it(`200 concurrent appends go out in fewer writes${sync ? ' and fdatasyncs' : ''}; each resolves after its bytes are in the file, in order`, async () => {
      const dir = tmpDir();
      const { log } = open(dir, { sync });
      const order: number[] = [];
      const all = range(200).map((i) => log.append(Buffer.from(`commit-${i};`)).then(() => {
        // Resolved: its bytes must be in the segment file now.
        assert.ok(fs.readFileSync(onlySegment(dir)).includes(`commit-${i};`), `record ${i} resolved before it was written`);
        order.push(i);
      }));
      await Promise.all(all);
      assert.deepEqual(order, range(200));
      assert.ok(log.stats.batches < 10, `${log.stats.batches} writes for 200 appends`);
      assert.equal(log.stats.records, 200);
      // Appended while the first write is out: the next batch.
      const first = log.append(Buffer.from('a'));
      await new Promise((r) => setImmediate(r));
      const more = range(50).map(() => log.append(Buffer.from('b')));
      await Promise.all([first, ...more]);
      assert.equal(log.stats.maxBatch, 200);
      await log.close();
      assert.equal(open(dir).records.length, 251);
    });
  }

  it('appendThen calls back once per record, after its bytes are synced, in order; a callback that throws is logged and the others still hear', async () => {
    const dir = tmpDir();
    const errors: string[] = [];
    const log = { error: (o: { err?: string }, msg: string) => errors.push(`${msg}: ${o.err}`) } as unknown as DurableLogOptions['log'];
    const { log: dl } = open(dir, { sync: true, log });
    const heard: number[] = [];
    await new Promise<void>((resolve) => {
      for (const i of range(100)) {
        dl.appendThen(Buffer.from(`then-${i};`), undefined, (err) => {
          assert.equal(err, undefined);
          assert.ok(fs.readFileSync(onlySegment(dir)).includes(`then-${i};`), `record ${i} called back before it was written`);
          heard.push(i);
          if (i === 3) throw new Error('a callback bug');
          if (i === 99) resolve();
        });
      }
    });
    assert.deepEqual(heard, range(100));
    assert.deepEqual(errors, ['a commit callback threw: a callback bug']);
    await dl.close();
    let closed: unknown;
    dl.appendThen(Buffer.from('late'), undefined, (err) => (closed = err));
    assert.equal((closed as { code?: string }).code, 'REMON_ERR_DURABLE_CLOSED');
    assert.equal(open(dir).records.length, 100);
  });

  it('refuses appends after close with REMON_ERR_DURABLE_CLOSED', async () => {
    const { log } = open(tmpDir());
    await log.close();
    await assert.rejects(log.append(Buffer.from('x')), { code: 'REMON_ERR_DURABLE_CLOSED' });
    assert.throws(() => log.appendSync(Buffer.from('x')), { code: 'REMON_ERR_DURABLE_CLOSED' });
  });
});

describe('durable log: compaction', function () {
  this.timeout(60_000);
  const steps: CompactionStep[] = ['rotated', 'snapshot-tmp-written', 'snapshot-renamed', 'dropped'];
  for (const async of [false, true]) {
    for (const step of steps) {
      it(`kill -9 at "${step}" of a${async ? 'n async' : ' sync'} compaction: reopening gives every record once, in order`, async () => {
        const dir = tmpDir();
        // A first compaction completes, then the second one is killed at the step.
        for (const [round, kill] of [[0, 'none'], [1, step]] as const) {
          const { exited } = startChild({ mode: 'compact', dir, count: 100, step: kill as CompactionStep, async });
          assert.equal(await exited, round === 0 ? null : 'SIGKILL');
        }
        assert.deepEqual(childValues(dir), range(200));
        const files = fs.readdirSync(dir).sort();
        assert.ok(!files.some((f) => f.endsWith('.tmp')), `no temporary file is left after a reopen: ${files.join(' ')}`);
        // A third run appends and compacts on top of what the killed one left.
        const { exited } = startChild({ mode: 'compact', dir, count: 10, step: 'none' as CompactionStep, async });
        assert.equal(await exited, null);
        assert.deepEqual(childValues(dir), range(210));
        assert.equal(listSegments(dir, 'test').length, 0, 'the compacted segments are gone');
      });
    }
  }

  it('kill -9 at random times while appending and compacting: a prefix of the numbers, every acknowledged one', async () => {
    const dir = tmpDir();
    let acked = -1;
    for (let round = 0; round < 5; round++) {
      const { child, exited } = startChild({ mode: 'churn', dir }, (m) => {
        if (m.acked !== undefined) acked = Math.max(acked, m.acked);
      });
      const target = acked + 120; // at least two compactions a round
      await waitFor(() => acked > target, 20_000, 'appends');
      await sleep(Math.random() * 50);
      child.kill('SIGKILL');
      await exited;
      const values = childValues(dir);
      assert.deepEqual(values, range(values.length), 'no gap and no repeat');
      assert.ok(values.length > acked, `${values.length} values, ${acked} acknowledged`);
      acked = values.length - 1;
    }
  });
});

describe('durable log: consumption', () => {
  it('reads from the acknowledged position across segments, resumes after a reopen, drops what it read', async () => {
    const dir = tmpDir();
    const a = open(dir, { segmentBytes: 100 });
    a.log.appendBatchSync(range(40).map((i) => Buffer.from(`m${i}`)));
    const ca = new LogConsumer(a.log);
    assert.equal(ca.pendingRecords, 40);
    const chunk = (await ca.read(15))!;
    assert.deepEqual(chunk.records.map(String), range(15).map((i) => `m${i}`));
    assert.ok(chunk.parts.length > 1, 'the chunk spans segments');
    assert.equal(await ca.ack(chunk), true);
    assert.equal(await ca.ack(chunk), false, 'a chunk is acknowledged once');
    assert.equal(ca.pendingRecords, 25);
    assert.ok(a.log.segments[0].seq >= chunk.endSeq, 'segments read to their end are deleted');
    a.log.closeSync();
    // A restart resends nothing that was acknowledged.
    const b = open(dir, { segmentBytes: 100 });
    const cb = new LogConsumer(b.log);
    assert.equal(cb.pendingRecords, 25);
    const rest = (await cb.read(100))!;
    assert.deepEqual(rest.records.map(String), range(25, 15).map((i) => `m${i}`));
    await cb.ack(rest);
    assert.equal(await cb.read(100), undefined);
    assert.deepEqual(fs.readdirSync(dir), [], 'no segment and no cursor is left');
    b.log.closeSync();
  });

  it('drops the oldest segments past a byte cap and counts the records lost', () => {
    const dir = tmpDir();
    const { log } = open(dir, { segmentBytes: 120 });
    log.appendBatchSync(range(100).map((i) => Buffer.from(`n${String(i).padStart(3, '0')}`)));
    const c = new LogConsumer(log);
    const before = c.pendingBytes;
    const lost = c.dropOldest(600);
    assert.ok(c.pendingBytes <= 600, `${c.pendingBytes} bytes kept`);
    assert.equal(lost.records + c.pendingRecords, 100);
    assert.equal(lost.bytes, before - c.pendingBytes);
    assert.ok(lost.records > 60, `${lost.records} lost`);
    log.closeSync();
    const kept = open(dir).records;
    assert.deepEqual(kept, range(100).slice(lost.records).map((i) => `n${String(i).padStart(3, '0')}`), 'the newest are kept');
  });
});

describe('durable log: kill -9 of a process appending', function () {
  this.timeout(60_000);
  const cases: Array<{ name: string; sync: boolean; group: boolean }> = [
    { name: 'appendSync', sync: false, group: false },
    { name: 'group commit', sync: false, group: true },
    { name: 'group commit with fdatasync', sync: true, group: true },
  ];
  for (const c of cases) {
    it(`${c.name}: every acknowledged record is there after a reopen, in order, across 4 kills`, async () => {
      const dir = tmpDir();
      let acked = -1;
      for (let round = 0; round < 4; round++) {
        const { child, exited } = startChild({ mode: 'append', dir, sync: c.sync, group: c.group }, (m) => {
          if (m.acked !== undefined) acked = Math.max(acked, m.acked);
        });
        const target = acked + 300;
        await waitFor(() => acked > target, 20_000, 'appends');
        await sleep(Math.random() * 30);
        child.kill('SIGKILL');
        await exited;
        const values = childValues(dir);
        assert.deepEqual(values.slice(0, acked + 1), range(acked + 1), `round ${round}: every acknowledged record`);
        assert.deepEqual(values, range(values.length), 'in order, no gap');
        acked = values.length - 1;
      }
    });
  }
});
