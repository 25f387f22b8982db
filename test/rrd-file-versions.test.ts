import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import nodeFs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { silentLogger } from '../src/log';
import { RrdFile } from '../src/store/rrd/file';
import { Layout } from '../src/store/rrd/layout';
import { retentionDef, RrdStore } from '../src/store/rrd/store';
import { newState } from '../src/store/rrd/types';
import { Updater } from '../src/store/rrd/update';
import { tmpDir } from './helpers';
import { requirePeer } from './peers';
import { assertSameFetch, remonRrd } from './rrd-helpers';

/*
 * The RRD file format versions. Version 2 (what remon makes now) keeps the archives of
 * one step and row count side by side in one row group; version 1 files (remon before it)
 * must still be read and updated in place. test/fixtures/rrd-v1 holds files remon wrote at
 * 9ea552d: cli-v1.rrd by `remon rrd create` (the CREATE arguments below) and `remon rrd
 * update` with cli-v1.updates.txt; store-v1.rrd by the store (retention 10s:5m, 1m:30m),
 * series web.ms, value (k × 7) mod 25 at T0 + 10k for k = 0 … 39.
 */
const RRDTOOL = '/usr/bin/rrdtool';
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'rrd-v1');
const T0 = 1_700_000_000;
const CREATE = ['--start', String(T0), '--step', '10', 'DS:temp:GAUGE:30:-50:150', 'DS:hits:COUNTER:30:U:U',
  'RRA:AVERAGE:0.5:1:20', 'RRA:MIN:0.5:1:20', 'RRA:MAX:0.5:1:20', 'RRA:LAST:0.5:1:20',
  'RRA:AVERAGE:0.5:3:10', 'RRA:MAX:0.5:3:10', 'RRA:AVERAGE:0.5:1:30'];

const version = (file: string): number => fs.readFileSync(file).readUInt32LE(8);

/** fetchAll is every CF at three resolutions over the fixture's time, as `remon rrd fetch` prints it (or rrdtool, with run). */
function fetchAll(file: string, run: (args: string[]) => string, end = T0 + 500): string[] {
  const out: string[] = [];
  for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
    for (const r of ['1', '30', '60']) out.push(run(['fetch', file, cf, '-s', String(T0 - 100), '-e', String(end), '-r', r]));
  }
  return out;
}

/** assertSameFetches compares fetches pairwise (see assertSameFetch); at least `known` values must be known. */
function assertSameFetches(ours: string[], theirs: string[], what: string, known: number): void {
  let compared = 0;
  ours.forEach((o, i) => (compared += assertSameFetch(o, theirs[i], `${what}, fetch ${i + 1}`)));
  assert.ok(compared >= known, `${what}: only ${compared} known values compared`);
}

describe('rrd file versions', function () {
  this.timeout(60_000);

  it('format 2 puts the archives of one step and row count in one row group; format 1 has a group per archive', () => {
    const def = retentionDef(['10s:1d', '1m:30d', '1h:1y'], 'GAUGE', 20);
    const v2 = new Layout(def, 2);
    assert.deepEqual(v2.groups.map((g) => [g.rras, g.width, g.rows]), [[[0, 1, 2, 3], 4, 8640], [[4, 5, 6, 7], 4, 43200], [[8, 9, 10, 11], 4, 8760]]);
    assert.equal(v2.rowAt(1, 2) - v2.rowAt(1, 1), 32, 'a row of the group holds the 4 CFs side by side');
    const v1 = new Layout(def, 1);
    assert.equal(v1.groups.length, 12);
    assert.equal(v1.size, v2.size, 'the same bytes, laid out differently');
    // Archives of one step but other row counts, and of one row count but other steps, stay apart.
    const mixed = new Layout({ ...def, rra: [{ cf: 'AVERAGE', xff: 0.5, pdpCnt: 1, rows: 20 }, { cf: 'MAX', xff: 0.5, pdpCnt: 3, rows: 20 }, { cf: 'MIN', xff: 0.5, pdpCnt: 1, rows: 30 }, { cf: 'LAST', xff: 0.5, pdpCnt: 1, rows: 20 }] }, 2);
    assert.deepEqual(mixed.groups.map((g) => g.rras), [[0, 3], [1], [2]]);
  });

  it('a checkpoint writes each series with one row write per retention step and one header write', async () => {
    const dir = tmpDir();
    const store = new RrdStore({ dir, retention: ['10s:1d', '1m:30d'], log: silentLogger(), flushIntervalMs: 3_600_000 });
    const write = (k: number) => store.write(Array.from({ length: 20 }, (_, i) => ({ series: `s${i}.v`, t: (T0 + k * 10) * 1000, value: k, kind: 'gauge' as const, heartbeat: 20 })));
    write(0);
    await store.flush();
    for (let k = 1; k <= 12; k++) write(k); // 2 minutes: 12 rows at 10 s and 2 at 1 min, per CF
    // Counted at the module itself (what file.ts calls): the writes to .rrd files.
    const real = nodeFs.writeSync;
    let writes = 0;
    nodeFs.writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
      if (fs.readlinkSync(`/proc/self/fd/${args[0]}`).endsWith('.rrd')) writes++;
      return real(...args);
    }) as typeof fs.writeSync;
    try {
      await store.flush();
    } finally {
      nodeFs.writeSync = real;
    }
    await store.close();
    assert.equal(writes, 20 * 3, 'per series: the rows of each step (4 CFs side by side), then the live header');
    const r = await (async () => {
      const s = new RrdStore({ dir, retention: ['10s:1d', '1m:30d'], log: silentLogger(), flushIntervalMs: 3_600_000 });
      try {
        return await s.fetch('s7.v', { from: T0 * 1000, to: (T0 + 110) * 1000, step: 10_000 });
      } finally {
        await s.close();
      }
    })();
    assert.deepEqual(r.points.map((p) => p[1]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.equal(version(path.join(dir, 's7.v.rrd')), 2);
  });

  describe('a version 1 file (remon before format 2)', () => {
    before(function () {
      requirePeer(this, 'rrdtool', fs.existsSync(RRDTOOL), 'apt-get install rrdtool');
    });

    it('reads, is updated in place and stays version 1, fetching what rrdtool fetches for the same updates', () => {
      const dir = tmpDir();
      const ours = path.join(dir, 'cli.rrd');
      const theirs = path.join(dir, 'cli.rrdtool');
      fs.copyFileSync(path.join(FIXTURES, 'cli-v1.rrd'), ours);
      const size = fs.statSync(ours).size;
      assert.equal(version(ours), 1);
      const rrdtool = (args: string[]) => execFileSync(RRDTOOL, args, { encoding: 'utf8' });
      rrdtool(['create', theirs, ...CREATE]);
      rrdtool(['update', theirs, ...fs.readFileSync(path.join(FIXTURES, 'cli-v1.updates.txt'), 'utf8').trim().split('\n')]);
      assertSameFetches(fetchAll(ours, remonRrd), fetchAll(theirs, rrdtool), 'the file as remon 9ea552d left it', 100);
      // More updates: some in steps, a gap longer than every archive (each wraps whole), then steps again.
      const more = ['1700000470:5:7000', '1700000481:9:7300', '1700000490:U:7400', '1700000500:11:7700'];
      for (let k = 0; k < 12; k++) more.push(`${1700001200 + 10 * k}:${k * 3}:${9000 + k * 450}`);
      for (const file of [ours, theirs]) (file === ours ? remonRrd : rrdtool)(['update', file, ...more]);
      const end = T0 + 1350;
      assertSameFetches(fetchAll(ours, remonRrd, end), fetchAll(theirs, rrdtool, end), 'after more updates', 100);
      assert.equal(remonRrd(['last', ours]), rrdtool(['last', theirs]));
      assert.equal(version(ours), 1, 'updated in place, in its own format');
      assert.equal(fs.statSync(ours).size, size);
      assert.match(remonRrd(['info', ours]), /^rra\[5\]\.cur_row = \d+$/m);
      assert.match(remonRrd(['info', ours]), /^remon_format = 1$/m);
      remonRrd(['create', path.join(dir, 'new.rrd'), ...CREATE]);
      assert.match(remonRrd(['info', path.join(dir, 'new.rrd')]), /^remon_format = 2$/m);
    });

    it('the store keeps writing a version 1 series file it finds; a new series gets version 2', async () => {
      const dir = tmpDir();
      fs.copyFileSync(path.join(FIXTURES, 'store-v1.rrd'), path.join(dir, 'web.ms.rrd'));
      const value = (k: number) => (k * 7) % 25;
      let s = new RrdStore({ dir, retention: ['10s:5m', '1m:30m'], log: silentLogger(), flushIntervalMs: 3_600_000 });
      for (let k = 40; k < 70; k++) {
        s.write([
          { series: 'web.ms', t: (T0 + k * 10) * 1000, value: value(k), kind: 'gauge', heartbeat: 20 },
          { series: 'web.new', t: (T0 + k * 10) * 1000, value: value(k), kind: 'gauge', heartbeat: 20 },
        ]);
        if (k === 55) await s.flush();
      }
      await s.close();
      assert.equal(version(path.join(dir, 'web.ms.rrd')), 1);
      assert.equal(version(path.join(dir, 'web.new.rrd')), 2);
      s = new RrdStore({ dir, retention: ['10s:5m', '1m:30m'], log: silentLogger(), flushIntervalMs: 3_600_000 });
      try {
        // The 10 s archive holds 5 minutes: k = 40 … 69 are new, 10 … 39 came with the file.
        const fine = await s.fetch('web.ms', { from: (T0 + 400) * 1000, to: (T0 + 690) * 1000, step: 10_000 });
        assert.deepEqual(fine.points.map((p) => p[1]), [...Array.from({ length: 29 }, (_, i) => value(41 + i)), null]);
        const older = await s.fetch('web.ms', { from: (T0 - 600) * 1000, to: (T0 + 690) * 1000, step: 60_000 });
        // A minute's row ending at T0 + 10k averages the values of k - 5 … k (k = 0 came 1 s after the file's start: unknown).
        const minute = (k: number) => Array.from({ length: 6 }, (_, i) => value(k - 5 + i)).reduce((a, b) => a + b) / 6;
        const whole = older.points.filter(([t]) => (t / 1000 - T0) / 10 - 5 >= 1 && (t / 1000 - T0) / 10 <= 69);
        assert.equal(whole.length, 10, 'the minutes from T0 + 100 to T0 + 640');
        for (const [t, v] of whole) assert.ok(v !== null && Math.abs(v - minute((t / 1000 - T0) / 10)) < 1e-9, `minute ending T0 + ${t / 1000 - T0}: ${v}`);
        const fresh = await s.fetch('web.new', { from: (T0 + 400) * 1000, to: (T0 + 690) * 1000, step: 10_000 });
        assert.deepEqual(fresh.points.map((p) => p[1]), fine.points.map((p) => p[1]));
      } finally {
        await s.close();
      }
      assert.equal(remonRrd(['last', path.join(dir, 'web.ms.rrd')]), `${T0 + 690}\n`);
    });
  });

  it('the updater hands archives that advance together over as one run, and ones at different rows each at its own', () => {
    const def = { step: 10, ds: [{ name: 'a', type: 'GAUGE' as const, heartbeat: 20, min: NaN, max: NaN }], rra: ['AVERAGE', 'MAX', 'LAST'].map((cf) => ({ cf: cf as 'AVERAGE', xff: 0.5, pdpCnt: 1, rows: 8 })) };
    const rows = (curRow: number[]): string[] => {
      const s = newState(def, T0);
      s.curRow.set(curRow);
      const got: string[] = [];
      new Updater().update(def, s, T0 + 20, [5], (rra, count, row, src, offset) => got.push(`${rra}+${count}@${row}=${Array.from(src.subarray(offset, offset + count)).join(',')}`));
      return got;
    };
    // Two steps elapsed: two rows each.
    assert.deepEqual(rows([7, 7, 7]), ['0+3@0=5,5,5', '0+3@1=5,5,5']);
    // A version 1 file no remon wrote: its archives each at their own row.
    assert.deepEqual(rows([7, 2, 7]), ['0+1@0=5', '0+1@1=5', '1+1@3=5', '1+1@4=5', '2+1@0=5', '2+1@1=5']);
  });

  it('a live header is written whole: a shorter last value keeps nothing of a longer one, in this file or another', () => {
    const dir = tmpDir();
    const a = path.join(dir, 'a.rrd');
    const b = path.join(dir, 'b.rrd');
    remonRrd(['create', a, '--start', String(T0), '--step', '10', 'DS:c:DERIVE:30:U:U', 'RRA:LAST:0.5:1:10']);
    remonRrd(['create', b, '--start', String(T0), '--step', '10', 'DS:x:GAUGE:30:U:U', 'DS:c:DERIVE:30:U:U', 'RRA:LAST:0.5:1:10', 'RRA:MAX:0.5:2:10']);
    remonRrd(['update', b, `${T0 + 10}:123456789.25:-98765432109`]);
    remonRrd(['update', a, `${T0 + 10}:123456789`]);
    remonRrd(['update', a, `${T0 + 20}:7`]);
    assert.match(remonRrd(['info', a]), /^ds\[c\]\.last_ds = "7"$/m);
    remonRrd(['update', a, `${T0 + 30}:17`]); // a DERIVE diffs against the stored text: 1 a second
    assert.match(remonRrd(['fetch', a, 'LAST', '-s', String(T0), '-e', String(T0 + 30), '-r', '10']), /^1700000030: 1\.0000000000e\+00$/m);
  });

  it('refuses a version 2 file whose archives of one row group are at different rows', () => {
    const file = path.join(tmpDir(), 'x.rrd');
    const def = retentionDef(['10s:1h'], 'GAUGE', 20);
    const f = RrdFile.make(file, def, T0);
    f.update(T0 + 10, [1]);
    f.close();
    const layout = new Layout(def, 2);
    // Both live slots' curRow of archive 2, with their CRCs made right again (a file no remon writes).
    const bytes = fs.readFileSync(file);
    for (const slot of [0, 1]) {
      const at = layout.slot(slot);
      const live = bytes.subarray(at, at + layout.liveLen);
      if (!(live.readDoubleLE(0) > 0)) continue;
      live.writeUInt32LE(live.readUInt32LE(layout.liveLen - 4 * 8 + 2 * 8) + 1, layout.liveLen - 4 * 8 + 2 * 8);
      live.writeUInt32LE(crc32(live.subarray(16)), 8);
    }
    fs.writeFileSync(file, bytes);
    assert.throws(() => RrdFile.open(file), (err: Error & { code?: string }) => err.code === 'REMON_ERR_RRD_FILE' && /archives 0, 1, 2, 3 share their rows but are at rows/.test(err.message));
  });
});
