/**
 * The SLA runner (src/sla/runner.ts, feed.ts, stored.ts) between a real bus, a memory
 * store and the SLA log on disk, on the fake clock: windows read back from the store at
 * start (a count test right after a restart), a message that arrives meanwhile counted
 * once, slots missed during an outage backfilled from stored series each once, an
 * objective's budget rebuilt from stored series, and the config (`slas:`) built with its
 * defaults and its count tests recognised.
 */
import { strict as assert } from 'node:assert';
import { Bus, NodeEvent } from '../src/bus';
import { loadConfig } from '../src/config/load';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { isCountTest, SlaConfig, SlaRunner } from '../src/sla';
import { MemoryStore } from '../src/store/memory';
import type { Sample } from '../src/store/store';
import { FakeClock } from './fake-clock';
import { tmpDir } from './helpers';
import { MIN, SEC, T0 } from './sla-harness';

const DAY = 86_400_000;

/** slasOf builds the `slas:` of a config text (over a shell block `orders` and `api`, whose fields are open). */
function slasOf(slas: string): SlaConfig[] {
  const text = `blocks:\n  - { name: orders, type: shell, command: "true", parse: kv }\n  - { name: api, type: shell, command: "true", parse: kv }\nslas:\n${slas}`;
  return loadConfig('/srv/remon/monitor.yaml', { ...registry, text }).config.slas;
}

interface Rig {
  clock: FakeClock;
  bus: Bus;
  store: MemoryStore;
  events: NodeEvent[];
  runner: SlaRunner;
  publish(series: string, t: number, value: number): void;
}

/** rig is a runner on a bus whose first subscriber is the store, as on a node. */
function rig(slas: SlaConfig[], o: { clock: FakeClock; store: MemoryStore; dataDir: string }): Rig {
  const bus = new Bus(silentLogger());
  const events: NodeEvent[] = [];
  bus.subscribe('store', (m) => o.store.write(m.samples));
  const runner = new SlaRunner({
    bus, store: o.store, clock: o.clock, log: silentLogger(), dataDir: o.dataDir,
    intervalOf: () => undefined, heartbeatOf: () => undefined,
  }, slas);
  bus.subscribe('sla', runner.feed.handle);
  bus.subscribe('events', (m) => { if (m.event) events.push(m.event); });
  return {
    clock: o.clock, bus, store: o.store, events, runner,
    publish: (series, t, value) => bus.publish({ samples: [{ series, t, value, kind: 'gauge' }] }),
  };
}

const stored = (series: string, times: number[], value = 1): Sample[] => times.map((t) => ({ series, t, value, kind: 'gauge' as const }));
const rendered = (events: NodeEvent[]): string[] => events.map((e) => `${new Date(e.at).toISOString().slice(11, 19)} ${e.data!.from}→${e.data!.to}${e.data!.backfilled ? ' (backfilled)' : ''}`);

describe('SLA runner: windows read back from the store', () => {
  it('a count test is right at once after a restart, and a sample that comes during the read-back counts once', async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryStore();
    // Eight orders in the last three minutes, before this node started.
    store.write(stored('orders.new', [170, 150, 130, 110, 90, 70, 50, 30].map((s) => T0 - s * SEC)));
    const r = rig(slasOf('  - { name: orders-flow, test: "count(orders.new, 3m) between 5 and 20" }\n'), { clock, store, dataDir: tmpDir() });
    const started = r.runner.start();
    r.publish('orders.new', T0, 1); // held until the windows are read back
    await started;
    const [e] = r.runner.list();
    assert.deepEqual([e.status.state, e.status.message], ['ok', 'count(orders.new, 3m) (9) between 5 and 20']);
    assert.equal(e.config.slots, false, 'no during: evaluated on samples');
    await clock.advance(2 * MIN);
    r.publish('orders.new', T0 + 2 * MIN, 1);
    // Left in (-1m, 2m]: the ones at -50s and -30s, at 0 and at 2m.
    assert.equal(r.runner.get('orders-flow')!.status.message, 'count(orders.new, 3m) (4) between 5 and 20');
    // Without a sample the SLA is evaluated every 30s (every): at 10:01:30 four are left in (09:58:30, 10:01:30].
    assert.deepEqual(rendered(r.events), ['10:00:00 unknown→ok', '10:01:30 ok→firing']);
    await r.runner.stop();
  });
});

describe('SLA runner: slots missed during an outage', () => {
  it('are evaluated from stored series, each once, and not again after another restart', async () => {
    const dataDir = tmpDir();
    const store = new MemoryStore();
    const slas = slasOf('  - { name: orders-flow, test: "count(orders.new, 3m) between 5 and 20", during: { cron: "*/1 * * * *" } }\n');
    assert.equal(slas[0].slots, true, 'a count test with during is evaluated at its slots');
    const clock = new FakeClock(T0);
    const every20s = (from: number, to: number): number[] => { const out: number[] = []; for (let t = from; t < to; t += 20 * SEC) out.push(t); return out; };
    // Three orders a minute from 09:57 on; the node runs 10:00-10:02, then is down until 10:07:30.
    store.write(stored('orders.new', every20s(T0 - 3 * MIN, T0)));
    let r = rig(slas, { clock, store, dataDir });
    await r.runner.start();
    for (const t of every20s(T0, T0 + 2 * MIN)) {
      await clock.advanceTo(t);
      r.publish('orders.new', t, 1);
    }
    await clock.advanceTo(T0 + 2 * MIN);
    await r.runner.stop();
    // While the node is down the orders go on (another writer of the store) until 10:04, then stop.
    store.write(stored('orders.new', every20s(T0 + 2 * MIN, T0 + 4 * MIN)));
    const live = rendered(r.events);
    assert.deepEqual(live, ['10:01:00 unknown→ok']);
    const down = new FakeClock(T0 + 7 * MIN + 30 * SEC);
    r = rig(slas, { clock: down, store, dataDir });
    await r.runner.start();
    await r.runner.ready();
    // Slots 10:03 to 10:07 count 9 in (10:00, 10:03], then 8, 5, 2 and 0.
    assert.deepEqual(rendered(r.events), ['10:06:00 ok→firing (backfilled)']);
    const e = r.runner.get('orders-flow')!;
    assert.equal(e.status.stats.backfilled, 5);
    assert.equal(e.status.message, 'count(orders.new, 3m) (0) between 5 and 20');
    assert.match(r.events[0].message, /^orders-flow firing: count\(orders\.new, 3m\) \(2\) between 5 and 20 failed \(missed slot at 2026-06-01T10:06:00\.000Z, from stored data\)$/);
    await r.runner.stop();
    r = rig(slas, { clock: new FakeClock(T0 + 7 * MIN + 40 * SEC), store, dataDir });
    await r.runner.start();
    await r.runner.ready();
    assert.equal(r.runner.get('orders-flow')!.status.stats.backfilled, 0, 'each slot once');
    assert.deepEqual(r.events, []);
    await r.runner.stop();
  });
});

describe('SLA runner: an objective rebuilt from stored series', () => {
  it('the error budget left is counted over the stored days at once, before any live evaluation', async () => {
    const store = new MemoryStore({ capacity: 10_000 });
    // Two days of api.up a minute: 2,880 evaluations, 9 of them bad (0.3125%).
    const times: number[] = [];
    for (let t = T0 - 2 * DAY; t < T0; t += MIN) times.push(t);
    store.write(times.map((t, i) => ({ series: 'api.up', t, value: i % 320 === 5 ? 0 : 1, kind: 'gauge' as const })));
    const clock = new FakeClock(T0);
    const r = rig(slasOf('  - { name: api-availability, objective: { good: "api.up == 1", target: 99%, window: 30d } }\n'), { clock, store, dataDir: tmpDir() });
    await r.runner.start();
    await r.runner.ready();
    const e = r.runner.get('api-availability')!;
    // 1 - (9 / 2880) / 1% = 0.6875
    assert.ok(Math.abs(e.status.budgetRemaining! - 0.6875) < 1e-9, `budget ${e.status.budgetRemaining}`);
    assert.equal(e.status.state, 'ok');
    assert.match(e.status.message, /^error budget 68\.8% left; burn 0\.00× over 1h and 0\.00× over 5m$/);
    await r.runner.stop();
  });
});

describe('slas: built from monitor.yaml', () => {
  it('fills defaults and keeps what is written', () => {
    const [a, b] = slasOf([
      '  - name: homepage-fast',
      '    test: orders.ratio >= 0.8',
      '    for: 1m',
      '    keep_firing_for: 2m',
      '    cooldown: 10m',
      '    during: { cron: "* 8-20 * * 1-5", tz: Europe/Berlin }',
      '    no_data: fail',
      '    severity: ticket',
      '    labels: { team: web }',
      '    depends_on: [api-availability]',
      '    actions: [ { run: "systemctl restart web", cooldown: 30m, max_per_day: 3 } ]',
      '  - name: api-availability',
      '    objective: { good: api.up == 1, target: 99.9%, window: 30d }',
      '',
    ].join('\n'));
    assert.deepEqual(a, {
      name: 'homepage-fast', test: 'orders.ratio >= 0.8', forMs: 60_000, keepFiringForMs: 120_000, cooldownMs: 600_000,
      slots: false, everyMs: 30_000, noData: 'fail', severity: 'ticket', labels: { team: 'web' }, dependsOn: ['api-availability'],
      actions: [{ run: ['/bin/sh', '-c', 'systemctl restart web'], cooldownMs: 1_800_000, maxPerDay: 3, timeoutMs: 60_000 }], during: { cron: '* 8-20 * * 1-5', tz: 'Europe/Berlin' },
    });
    assert.deepEqual(b, {
      name: 'api-availability', test: 'api.up == 1', forMs: 0, keepFiringForMs: 0, cooldownMs: 0, slots: false, everyMs: 30_000,
      noData: 'unknown', severity: 'page', labels: {}, dependsOn: [], actions: [], objective: { target: 0.999, windowMs: 30 * DAY },
    });
  });

  const countTests: Array<[string, boolean]> = [
    ['count(orders.new, 3m) between 5 and 20', true],
    ['count(orders.new, 3m) >= 5 and sum(orders.value, 3m) > 100', true],
    ['count(orders.new, 20) >= 5', false], // a count of samples, not of a time span
    ['count(orders.new, 3m) >= 5 and orders.up == 1', false], // reads a series' last value
    ['avg(orders.total_ms, 5m) < 200', false], // no count
    ['orders.ratio >= 0.8', false],
  ];
  for (const [src, want] of countTests) {
    it(`${want ? 'a count test' : 'not a count test'}: ${src}`, () => assert.equal(isCountTest(src), want));
  }

  it('slots: false keeps a count test on samples in its window; slots: true makes any test one of slots', () => {
    const [a, b] = slasOf([
      '  - { name: a, test: "count(orders.new, 3m) >= 5", during: { cron: "* 8-20 * * *" }, slots: false }',
      '  - { name: b, test: "orders.ratio >= 0.8", during: { cron: "0 * * * *" }, slots: true }',
      '',
    ].join('\n'));
    assert.deepEqual([a.slots, b.slots], [false, true]);
  });
});
