/**
 * Files an earlier remon version left in node.data (before the durable log): each store
 * starts anyway and says which file it does not read; the spool moves its lines over.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Journal as HeartbeatJournal } from '../src/heartbeat/journal';
import { createMemoryShared } from '../src/shared/memory';
import { Spool } from '../src/store/influx/spool';
import { RrdStore } from '../src/store/rrd/store';
import { captureLog, tmpDir } from './helpers';

const WARNING = 'file of an earlier remon version found; this version does not read it (left in place)';

const cases: Array<{ name: string; files: Record<string, string>; open(dir: string, log: ReturnType<typeof captureLog>['log']): Promise<() => Promise<void> | void> }> = [
  {
    name: 'the RRD journal (rrd/journal.log)',
    files: { 'journal.log': 'x'.repeat(100) },
    open: async (dir, log) => {
      const s = new RrdStore({ dir, retention: ['10s:1h'], log, flushIntervalMs: 3_600_000 });
      return () => s.close();
    },
  },
  {
    name: 'the heartbeat journal (journal-N.log, snapshot.json)',
    files: { 'journal-00000001.log': '{"k":"ok","n":"a","t":1}\n', 'snapshot.json': '{"version":1,"seq":0,"state":{}}' },
    open: async (dir, log) => {
      const j = new HeartbeatJournal({ dir, apply: () => undefined, state: () => ({}), log });
      const stored = await j.open();
      assert.deepEqual(stored.records, []);
      return () => j.close();
    },
  },
  {
    name: 'the shared state (state.json, state.N.journal)',
    files: { 'state.json': '{"version":1,"gen":1,"buckets":{}}\n', 'state.1.journal': '["s","b","k",1]\n' },
    open: async (dir, log) => {
      const s = createMemoryShared({ dataDir: path.dirname(dir), persistentBuckets: ['b'], log });
      assert.deepEqual(await s.state.keys('b'), []);
      return () => s.close();
    },
  },
];

describe('files of an earlier remon version', () => {
  for (const c of cases) {
    it(`${c.name}: starts, warns naming each file, leaves it in place`, async () => {
      const dir = path.join(tmpDir(), 'shared'); // the shared backend's directory name; any name does for the others
      fs.mkdirSync(dir);
      for (const [f, text] of Object.entries(c.files)) fs.writeFileSync(path.join(dir, f), text);
      const { log, records } = captureLog();
      const close = await c.open(dir, log);
      const warned = records.filter((r) => r.msg === WARNING).map((r) => path.basename(r.file as string)).sort();
      assert.deepEqual(warned, Object.keys(c.files).sort());
      for (const f of Object.keys(c.files)) assert.ok(fs.existsSync(path.join(dir, f)), `${f} is left in place`);
      await close();
    });
  }

  it('an empty rrd/journal.log (what a clean stop left) is removed without a word', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'journal.log'), '');
    const { log, records } = captureLog();
    const s = new RrdStore({ dir, retention: ['10s:1h'], log, flushIntervalMs: 3_600_000 });
    assert.equal(records.filter((r) => r.msg === WARNING).length, 0);
    assert.ok(!fs.existsSync(path.join(dir, 'journal.log')));
    await s.close();
  });

  it('the influx spool moves the lines of its old segment files and cursor into the new spool', async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'seg-000000000003.lp'), 'm f=1 1\nm f=2 2\nm f=3 3\n');
    fs.writeFileSync(path.join(dir, 'seg-000000000004.lp'), 'm f=4 4\nm f=');
    fs.writeFileSync(path.join(dir, 'cursor'), '3 8\n'); // the first line was delivered
    const { log, records } = captureLog();
    const spool = new Spool({ dir, maxBytes: 1 << 20, log });
    const c = await spool.read(100);
    assert.deepEqual(c!.lines, ['m f=2 2', 'm f=3 3', 'm f=4 4']);
    assert.equal(spool.restored, 3);
    const moved = records.find((r) => r.msg === 'influx spool files of an earlier remon version found; their lines were moved into the new spool');
    assert.deepEqual(moved?.files, ['seg-000000000003.lp', 'seg-000000000004.lp']);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.lp') || f === 'cursor'), []);
    await spool.close();
  });
});
