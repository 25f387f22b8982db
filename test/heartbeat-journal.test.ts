import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal } from '../src/heartbeat/journal';
import { HbRecord } from '../src/heartbeat/types';
import { tmpDir } from './helpers';

/** journalIn opens a journal whose applied records are counted into `state.applied`. */
async function journalIn(dir: string, compactBytes?: number) {
  const applied: HbRecord[] = [];
  const j = new Journal({ dir, apply: (r) => applied.push(r), state: () => ({ applied: applied.length }), compactBytes });
  const stored = await j.open();
  return { j, applied, stored };
}

const ok = (i: number): HbRecord => ({ k: 'ok', n: `h${i % 10}`, t: 1_700_000_000_000 + i });

describe('heartbeat journal', () => {
  it('group commit: appends in one tick share one write + fdatasync, applied in order before they resolve', async () => {
    const { j, applied } = await journalIn(tmpDir());
    let appliedWhenFirstResolved = -1;
    const all = Array.from({ length: 500 }, (_, i) => j.append(ok(i)));
    void all[0].then(() => { appliedWhenFirstResolved = applied.length; });
    await Promise.all(all);
    assert.equal(j.stats.batches, 1);
    assert.equal(j.stats.records, 500);
    assert.equal(appliedWhenFirstResolved, 500, 'a batch is applied whole before any append of it resolves');
    assert.deepEqual(applied.map((r) => r.t), all.map((_, i) => ok(i).t));
    await j.close();
  });

  it('appends made while a batch is being written go into the next batch', async () => {
    const { j } = await journalIn(tmpDir());
    const first = j.append(ok(0));
    await new Promise((r) => setImmediate(r)); // the first batch is now in flight
    const more = Array.from({ length: 50 }, (_, i) => j.append(ok(i + 1)));
    await Promise.all([first, ...more]);
    assert.equal(j.stats.batches, 2);
    assert.equal(j.stats.maxBatch, 50);
    await j.close();
  });

  it('replays what was committed, and skips a last line torn by a crash', async () => {
    const dir = tmpDir();
    const a = await journalIn(dir);
    await Promise.all([a.j.append(ok(1)), a.j.append(ok(2))]);
    // No close: the process "dies"; then a torn half line at the end of the segment.
    a.j.abandon();
    const seg = fs.readdirSync(dir).find((f) => /^journal\.\d{12}\.log$/.test(f))!;
    fs.appendFileSync(path.join(dir, seg), '{"k":"ok","n":"h'); // half a record's bytes
    const b = await journalIn(dir);
    assert.deepEqual(b.stored.records.map((r) => r.t), [ok(1).t, ok(2).t]);
    assert.equal(b.stored.skipped, 1);
    // New records go to a new segment, so nothing follows the torn line.
    await b.j.append(ok(3));
    assert.equal(fs.readdirSync(dir).filter((f) => /^journal\.\d{12}\.log$/.test(f)).length, 2);
    await b.j.close();
    const c = await journalIn(dir);
    assert.deepEqual(c.stored.records.map((r) => r.t), [ok(1).t, ok(2).t, ok(3).t]);
    await c.j.close();
  });

  it('compacts into an atomic snapshot and drops the segments it covers', async () => {
    const dir = tmpDir();
    const a = await journalIn(dir);
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.j.append(ok(i))));
    await a.j.compact();
    await a.j.append(ok(1000));
    await a.j.close();
    assert.equal(a.j.stats.snapshots, 1);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['journal.000000000002.log', 'journal.snapshot']);
    const b = await journalIn(dir);
    assert.deepEqual(b.stored.state, { applied: 100 });
    assert.deepEqual(b.stored.records.map((r) => r.t), [ok(1000).t]);
    await b.j.close();
  });

  it('compacts by itself when a segment grows past compactBytes, losing nothing', async () => {
    const dir = tmpDir();
    const a = await journalIn(dir, 1000);
    for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 20 }, (_, k) => a.j.append(ok(i * 20 + k))));
    await a.j.close();
    assert.ok(a.j.stats.snapshots >= 1);
    const b = await journalIn(dir);
    assert.equal((b.stored.state as { applied: number }).applied + b.stored.records.length, 100);
    await b.j.close();
  });

  it('refuses appends after close with a coded error', async () => {
    const { j } = await journalIn(tmpDir());
    await j.close();
    await assert.rejects(j.append(ok(1)), { code: 'REMON_ERR_HEARTBEAT_JOURNAL' });
  });
});
