/**
 * Stores that fail loud and stay up, on a real small file system: a tmpfs of a few MB the
 * test mounts (root only) and fills with a filler file (ENOSPC) or remounts read-only
 * (EROFS). The RRD store and the heartbeat journal must keep the process serving, show
 * what is wrong, recover by themselves when the disk does, and lose nothing they accepted.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage, RemonError } from '../src/errors';
import { RrdStore } from '../src/store/rrd/store';
import { Sample, SeriesData } from '../src/store/store';
import { FakeClock } from './fake-clock';
import { startHub } from './heartbeat-hub';
import { captureLog, waitFor } from './helpers';
import { requireSmallFs, SmallFs } from './small-fs';

const T0 = 1_700_000_000; // a multiple of 10
const SERIES = 20;

/** Outage is a way the disk goes wrong, and what the store must then say. */
interface Outage {
  name: string;
  start(fs: SmallFs): () => void;
  message: RegExp;
  /** Samples the store may hold in memory. */
  backlogMax?: number;
}

const outages: Outage[] = [
  {
    name: 'the disk is full (ENOSPC)',
    start: (small) => {
      const filler = small.fill();
      return () => fs.rmSync(filler);
    },
    message: /ENOSPC: no space left on device/,
  },
  {
    name: 'node.data is remounted read-only (EROFS)',
    start: (small) => {
      small.remount('ro');
      return () => small.remount('rw');
    },
    message: /EROFS: read-only file system/,
  },
  {
    name: 'the disk is full for longer than the backlog holds',
    start: (small) => {
      const filler = small.fill();
      return () => fs.rmSync(filler);
    },
    message: /ENOSPC: no space left on device/,
    backlogMax: 600,
  },
];

/** byStep maps fetched points to k (the sample written at T0 + 10k s). */
const byStep = (r: SeriesData): Map<number, number | null> => new Map(r.points.map(([t, v]) => [(t / 1000 - T0) / 10, v]));

const batch = (k: number): Sample[] => Array.from({ length: SERIES }, (_, i) => ({ series: `s${i}.value`, t: (T0 + k * 10) * 1000, value: i * 1000 + k, kind: 'gauge', heartbeat: 20 }));

describe('stores on a full or read-only disk (a real tmpfs)', function () {
  this.timeout(60_000);
  let small: SmallFs | undefined;
  const closers: Array<() => Promise<unknown>> = [];

  before(function () {
    requireSmallFs(this, 'full-disk tests');
  });

  beforeEach(() => {
    small = SmallFs.mount(4);
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    try { small?.remount('rw'); } catch { /* writable already */ }
    small?.unmount();
    small = undefined;
  });

  for (const o of outages) {
    it(`RRD store: ${o.name}: write() returns, the store is degraded and serving, then recovers with every sample`, async () => {
      const { log, records } = captureLog();
      const dir = path.join(small!.dir, 'rrd');
      const open = () => new RrdStore({ dir, retention: ['10s:1h'], log, flushIntervalMs: 3_600_000, retryMs: 100, backlogMax: o.backlogMax });
      let store = open();
      closers.push(() => store.close());
      let k = 0;
      for (; k < 20; k++) store.write(batch(k));
      await store.flush(); // files made; the journal rotated and no file is left open to write
      const end = o.start(small!);
      // Write on into the outage: until the store says it is degraded, and 60 batches more.
      let firstHeld = -1;
      for (let extra = 0; extra < 60 && k < 5000; k++) {
        assert.doesNotThrow(() => store.write(batch(k)));
        if (store.status().state !== 'degraded') continue;
        if (firstHeld < 0) firstHeld = k;
        extra++;
      }
      const down = store.status();
      assert.equal(down.state, 'degraded');
      assert.equal(down.error?.code, 'REMON_ERR_DURABLE_WRITE');
      assert.match(down.error!.message, o.message);
      assert.match(down.error!.message, new RegExp(`^cannot write ${dir}/journal\\.\\d{12}\\.log: `));
      assert.ok(records.some((r) => r.msg === 'rrd journal cannot be written; samples are held in memory until it can'));
      const held = down.gauges.backlog;
      const dropped = down.counters.dropped;
      assert.equal(down.counters.accepted, k * SERIES, 'every sample was accepted');
      if (o.backlogMax) {
        assert.equal(held, o.backlogMax);
        assert.ok(dropped > 0, 'samples past the bound are counted');
        assert.ok(records.some((r) => r.msg === 'rrd backlog full; dropping the oldest held samples (counted in dropped)'));
      } else {
        assert.equal(dropped, 0);
        assert.equal(held, (k - firstHeld) * SERIES, 'every sample since the failure is held');
      }
      // Still serving: what was written before the outage reads back, and flush says why it cannot.
      const before = byStep(await store.fetch('s3.value', { from: T0 * 1000, to: (T0 + 190) * 1000, step: 10_000 }));
      for (let j = 1; j < 20; j++) assert.equal(before.get(j), 3000 + j, `before the outage, at k=${j}`);
      await assert.rejects(store.flush(), (err: RemonError) => err.code === 'REMON_ERR_DURABLE_WRITE' && o.message.test(err.message));

      end();
      await waitFor(() => store.status().state === 'ok', 10_000, 'the store to recover');
      const up = store.status();
      assert.equal(up.error, undefined);
      assert.equal(up.gauges.backlog, 0);
      assert.ok(records.some((r) => r.msg === 'rrd journal writable again; held samples journaled'));
      // Every sample accepted before and during the outage (but those dropped past the bound) reads back.
      const lostBatches = dropped / SERIES;
      const check = async (s: RrdStore, when: string): Promise<void> => {
        for (let i = 0; i < SERIES; i++) {
          const got = byStep(await s.fetch(`s${i}.value`, { from: T0 * 1000, to: (T0 + (k - 1) * 10) * 1000, step: 10_000 }));
          for (let j = 1; j < k; j++) {
            const lost = lostBatches > 0 && j >= firstHeld && j <= firstHeld + lostBatches; // the first after a gap is unknown too
            if (!lost) assert.equal(got.get(j), i * 1000 + j, `${when}: s${i} at k=${j}`);
            else if (j < firstHeld + lostBatches) assert.equal(got.get(j), null, `${when}: s${i} at k=${j} was dropped`);
          }
        }
      };
      await check(store, 'after the recovery');
      await store.close();
      store = open();
      await check(store, 'after a restart');
    });
  }

  it('RRD store: a series whose file cannot be made keeps its samples queued and journaled until it can', async () => {
    const { log } = captureLog();
    const dir = path.join(small!.dir, 'rrd');
    const open = () => new RrdStore({ dir, retention: ['10s:1h'], log, flushIntervalMs: 3_600_000, retryMs: 100 });
    let store = open();
    closers.push(() => store.close());
    const sample = (k: number): Sample => ({ series: 'late.value', t: (T0 + k * 10) * 1000, value: k * 3, kind: 'gauge', heartbeat: 20 });
    store.write([sample(0)]); // the journal's segment now has a page with room left
    const filler = small!.fill();
    for (let k = 1; k < 10; k++) store.write([sample(k)]); // small records: they fit in that page
    assert.equal(store.status().state, 'ok', JSON.stringify(store.status().error));
    await assert.rejects(store.flush(), /cannot create .*late\.value\.rrd: ENOSPC: no space left on device/);
    const down = store.status();
    assert.equal(down.state, 'degraded');
    assert.equal(down.error?.code, 'REMON_ERR_RRD_FILE');
    assert.equal(down.gauges.queued, 10, 'the samples stay queued');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'no half-made file is left');
    fs.rmSync(filler);
    await waitFor(() => store.status().state === 'ok', 10_000, 'the checkpoint to be retried');
    const check = async (s: RrdStore): Promise<void> => {
      const got = byStep(await s.fetch('late.value', { from: T0 * 1000, to: (T0 + 90) * 1000, step: 10_000 }));
      for (let k = 1; k < 10; k++) assert.equal(got.get(k), k * 3, `at k=${k}`);
    };
    await check(store);
    assert.equal(store.status().counters.dropped, 0);
    await store.close();
    store = open();
    await check(store);
  });

  it('heartbeats: a signal on a full disk is refused with a reason (HTTP 503), nothing crashes, and it works when space returns', async () => {
    const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
    const dir = path.join(small!.dir, 'hb');
    const h = await startHub('  - { name: job, type: heartbeat, period: 1h }\n', { clock, dir });
    closers.push(() => h.hub.stop());
    await h.hub.signal('job', { kind: 'success' });
    const filler = small!.fill();
    let refused: unknown;
    let accepted = 1;
    for (let i = 0; i < 2000 && !refused; i++) {
      try {
        await h.hub.signal('job', { kind: 'success' });
        accepted++;
      } catch (err) {
        refused = err;
      }
    }
    assert.equal((refused as RemonError)?.code, 'REMON_ERR_HEARTBEAT_JOURNAL', errorMessage(refused));
    assert.match(errorMessage(refused), /^heartbeat journal write failed: cannot write .*journal\.\d{12}\.log: ENOSPC: no space left on device/);
    assert.ok(accepted >= 1);
    fs.rmSync(filler);
    await h.advance(60_000);
    await h.hub.signal('job', { kind: 'success' });
    const last = h.hub.get('job')!.lastSuccess;
    assert.equal(last, new Date(clock.now()).toISOString());
    await h.hub.stop();
    const again = await startHub('  - { name: job, type: heartbeat, period: 1h }\n', { clock, dir });
    closers.push(() => again.hub.stop());
    assert.equal(again.hub.get('job')!.lastSuccess, last, 'the signal after the outage survived a restart');
  });
});
