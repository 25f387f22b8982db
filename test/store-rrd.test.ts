import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../src/log';
import { RrdFile } from '../src/store/rrd/file';
import { RrdStore, retentionDef } from '../src/store/rrd/store';
import { sleep, tmpDir } from './helpers';

const T0 = 1_700_000_000; // a multiple of 10

function store(dir: string, retention = ['10s:1h', '1m:1d']): RrdStore {
  return new RrdStore({ dir, retention, log: silentLogger(), flushIntervalMs: 3_600_000 });
}

describe('rrd store', () => {
  it('creates a file per series on its first sample and fetches what was written, before any flush', async () => {
    const dir = tmpDir();
    const s = store(dir);
    s.write([{ series: 'web.total_ms', t: (T0 - 10) * 1000, value: 0, kind: 'gauge', heartbeat: 20 }]);
    assert.deepEqual(s.list(), ['web.total_ms'], 'listed as soon as it is written');
    for (let k = 0; k <= 30; k++) s.write([{ series: 'web.total_ms', t: (T0 + k * 10) * 1000, value: k * 2, kind: 'gauge', heartbeat: 20 }]);
    const r = await s.fetch('web.total_ms', { from: (T0 + 100) * 1000, to: (T0 + 200) * 1000, step: 10_000 });
    assert.equal(r.step, 10_000);
    const known = r.points.filter((p) => p[1] !== null);
    assert.ok(known.length >= 10);
    for (const [t, v] of known) assert.equal(v, ((t / 1000 - T0) / 10) * 2, `at ${t}`);
    assert.deepEqual(s.list(), ['web.total_ms']);
    await s.close();
  });

  it('keeps everything across close and reopen, and a coarser archive averages', async () => {
    const dir = tmpDir();
    let s = store(dir);
    for (let k = 0; k <= 120; k++) s.write([{ series: 'a.v', t: (T0 + k * 10) * 1000, value: k % 6, kind: 'gauge', heartbeat: 20 }]);
    await s.close();
    s = store(dir);
    assert.deepEqual(s.list(), ['a.v']);
    const fine = await s.fetch('a.v', { from: (T0 + 600) * 1000, to: (T0 + 700) * 1000, step: 10_000 });
    assert.deepEqual(fine.points.slice(0, 6).map((p) => p[1]), [1, 2, 3, 4, 5, 0]);
    // Asking for a range older than the 1-hour archive holds picks the 1-minute one.
    const coarse = await s.fetch('a.v', { from: (T0 - 7200) * 1000, to: (T0 + 1200) * 1000, step: 60_000 });
    assert.equal(coarse.step, 60_000);
    const avg = coarse.points.filter((p) => p[1] !== null);
    assert.ok(avg.length >= 15);
    for (const [, v] of avg.slice(1)) assert.ok(Math.abs(v! - 2.5) < 1e-9, `minute average ${v}`);
    await s.close();
  });

  it('stores counters as rates (COUNTER with rrdtool wrap handling)', async () => {
    const s = store(tmpDir());
    const values = [100, 1100, 2100, 3100];
    values.forEach((v, k) => s.write([{ series: 'if.in_octets', t: (T0 + k * 10) * 1000, value: v, kind: 'counter', heartbeat: 20 }]));
    const r = await s.fetch('if.in_octets', { from: (T0 + 10) * 1000, to: (T0 + 30) * 1000, step: 10_000 });
    assert.deepEqual(r.points.filter((p) => p[1] !== null).map((p) => p[1]), [100, 100]);
    await s.close();
  });

  it('drops samples not after the last one, and bad series names, without failing', async () => {
    const s = store(tmpDir());
    s.write([{ series: 'x.v', t: T0 * 1000, value: 1, kind: 'gauge' }]);
    s.write([{ series: 'x.v', t: T0 * 1000, value: 2, kind: 'gauge' }]);
    s.write([{ series: '../etc/passwd', t: T0 * 1000, value: 2, kind: 'gauge' }]);
    await s.flush(); // stale samples are found when the queue is applied
    assert.equal(s.dropped, 2);
    assert.deepEqual(s.list(), ['x.v']);
    await s.close();
  });

  it('files are the size rrdtool\'s would be: 8 bytes per row per DS plus a small header', () => {
    const dir = tmpDir();
    const def = retentionDef(['10s:1d', '1m:30d', '1h:1y'], 'GAUGE', 20);
    const f = RrdFile.create(path.join(dir, 'x.rrd'), def, T0);
    f.close();
    const rows = def.rra.reduce((n, r) => n + r.rows, 0);
    assert.equal(rows, 4 * (8640 + 43200 + 8760));
    const size = fs.statSync(path.join(dir, 'x.rrd')).size;
    assert.equal(size - rows * 8, f.headerSize);
    assert.ok(f.headerSize < 2048, `header ${f.headerSize} bytes`);
  });

  describe('opening a file tells a making cut short from a damaged file', () => {
    const def = retentionDef(['10s:1h'], 'GAUGE', 20);
    const cases: Array<{ name: string; make: (p: string) => void; code?: string; message?: RegExp }> = [
      { name: 'empty: killed between the open and the header write', make: (p) => fs.writeFileSync(p, ''), code: 'REMON_ERR_RRD_UNFINISHED', message: /its making was cut short \(no header\)$/ },
      { name: 'made, no rows written yet: opens, every row unknown', make: (p) => RrdFile.make(p, def, T0).release() },
      { name: 'not an RRD file', make: (p) => fs.writeFileSync(p, 'hello, world: not a remon RRD file at all'), code: 'REMON_ERR_RRD_FILE', message: /: not a remon RRD file$/ },
      {
        name: 'header cut short',
        make: (p) => {
          RrdFile.make(p, def, T0).release();
          fs.truncateSync(p, 100);
        },
        code: 'REMON_ERR_RRD_FILE',
        message: /: file is 100 bytes, its definition alone is 168$/,
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const p = path.join(tmpDir(), 'x.rrd');
        c.make(p);
        if (c.code) {
          assert.throws(() => RrdFile.open(p), (err: Error & { code?: string }) => err.code === c.code && c.message!.test(err.message));
          return;
        }
        const f = RrdFile.open(p);
        assert.equal(f.state.lastUp, T0);
        assert.ok(fs.statSync(p).size < f.headerSize, 'the archives are not sized');
        const r = f.fetch('AVERAGE', T0 - 600, T0);
        assert.ok(r.rows > 0 && r.data.every((v) => Number.isNaN(v)), 'every row unknown');
        f.release();
      });
    }
  });

  it('a file whose making was cut short by a kill is made again from the journal when the store reopens', async function () {
    this.timeout(30_000);
    const dir = tmpDir();
    // A node that journals 5 batches for 3 series and dies before any checkpoint.
    const child = fork(path.join(__dirname, 'rrd-writer.js'), [dir, '3', String(T0), '1', '6', '3600000'], { stdio: 'ignore' });
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 0);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.rrd')), [], 'no file yet: the samples are in the journal');
    fs.writeFileSync(path.join(dir, 's0.value.rrd'), ''); // what a kill right after the open leaves
    const s = store(dir, ['10s:1h']);
    try {
      assert.deepEqual(s.list(), ['s0.value', 's1.value', 's2.value']);
      for (let i = 0; i < 3; i++) {
        const f = RrdFile.open(path.join(dir, `s${i}.value.rrd`));
        assert.equal(f.state.lastUp, T0 + 50, `s${i}.value`);
        f.release();
        const r = await s.fetch(`s${i}.value`, { from: T0 * 1000, to: (T0 + 50) * 1000, step: 10_000 });
        assert.deepEqual(r.points.filter((p) => p[1] !== null).map((p) => p[1]), [2, 3, 4, 5], `s${i}.value`);
      }
      assert.equal(s.status().counters.dropped, 0);
      assert.equal(s.status().state, 'ok');
    } finally {
      await s.close();
    }
  });

  it('survives kill -9 under load: every file opens and every acknowledged sample is there', async function () {
    this.timeout(60_000);
    const dir = tmpDir();
    const series = 40;
    const writer = path.join(__dirname, 'rrd-writer.js');
    let acked = -1;
    for (let round = 0; round < 6 && acked < 250; round++) {
      const child = fork(writer, [dir, String(series), String(T0), String(acked + 1)], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r)); // it may finish before the kill
      // Kill only once the writer is under way (a loaded machine starts node slowly).
      const started = new Promise((r) => child.once('message', r));
      child.on('message', (m: { k: number }) => (acked = Math.max(acked, m.k)));
      await Promise.race([started, exited, sleep(15_000)]);
      await sleep(50 + Math.floor(Math.random() * 250));
      child.kill('SIGKILL');
      await exited;
    }
    assert.ok(acked > 20, `only ${acked} batches acknowledged`);
    const s = store(dir, ['10s:1h']);
    assert.equal(s.list().length, series);
    for (let i = 0; i < series; i++) {
      const name = `s${i}.value`;
      const f = RrdFile.open(path.join(dir, `${name}.rrd`)); // a torn file would fail here
      assert.ok(f.state.lastUp >= T0 + acked * 10, `${name}: last update ${f.state.lastUp} < acknowledged ${T0 + acked * 10}`);
      f.release();
      const r = await s.fetch(name, { from: (T0 + 10) * 1000, to: (T0 + acked * 10) * 1000, step: 10_000 });
      for (const [t, v] of r.points) {
        const k = (t / 1000 - T0) / 10;
        if (k >= 1 && k <= acked) assert.equal(v, k, `${name} at k=${k}`);
      }
    }
    await s.close();
  });
});
