import { strict as assert } from 'node:assert';
import { realClock } from '../src/clock';
import { ClusterLeases, slotOf } from '../src/cluster/leases';
import { loadConfig } from '../src/config/load';
import { registry } from '../src/registry';
import { captureLog, sleep, waitFor } from './helpers';
import { useRedis } from './shared-redis';

const SLOTS = 32;

describe('cluster config: the cluster: section', () => {
  const load = (text: string) => loadConfig('monitor.yaml', { ...registry, text: `node: { name: a }\n${text}blocks: []\n` });
  const cases: Array<{ name: string; text: string; error?: RegExp; built?: unknown }> = [
    { name: 'absent: no cluster', text: '', built: undefined },
    { name: 'empty: the defaults', text: 'shared: { kind: redis }\ncluster:\n', built: { leaseTtlMs: 10_000, name: 'default', slots: 256, dedupeMs: 86_400_000 } },
    { name: 'every key', text: 'shared: { kind: redis }\ncluster: { lease_ttl: 2s, name: eu, slots: 64, dedupe_window: 1h }\n', built: { leaseTtlMs: 2000, name: 'eu', slots: 64, dedupeMs: 3_600_000 } },
    { name: 'memory shared: an error at cluster', text: 'cluster: { lease_ttl: 2s }\n', error: /^monitor\.yaml:2:10: cluster: a cluster needs shared\.kind: redis \(its nodes coordinate through Redis\); shared\.kind is memory$/m },
    { name: 'a lease too short', text: 'shared: { kind: redis }\ncluster: { lease_ttl: 100ms }\n', error: /monitor\.yaml:3:23: cluster\.lease_ttl: a lease of 100ms is too short to renew over the network; use 300ms or more \(e\.g\. 10s\)/ },
    { name: 'not a duration', text: 'shared: { kind: redis }\ncluster: { lease_ttl: soon }\n', error: /cluster\.lease_ttl: .*duration/ },
    { name: 'an unknown key', text: 'shared: { kind: redis }\ncluster: { ttl: 2s }\n', error: /cluster\.ttl: unknown key "ttl"; expected one of: lease_ttl, name, slots, dedupe_window/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error) {
        assert.throws(() => load(c.text), (err: Error) => {
          const text = [err.message, ...((err as { problems?: string[] }).problems ?? [])].join('\n');
          assert.match(text, c.error!);
          return true;
        });
      } else {
        assert.deepEqual(load(c.text).config.cluster, c.built);
      }
    });
  }
});

/**
 * Two members in this process on a real redis-server, short leases: the slots split
 * between them, none held twice; when Redis goes away, both stop their blocks before a
 * lease could lapse on the server, and say so.
 */
describe('cluster leases on a real redis-server', function () {
  this.timeout(20_000);
  const redis = useRedis();
  const made: ClusterLeases[] = [];
  afterEach(async () => {
    for (const l of made.splice(0)) await l.stop();
  });

  const member = (node: string, prefix: string, ttlMs = 600) => {
    const { log, records } = captureLog();
    let changes = 0;
    const l = new ClusterLeases({ url: redis.url, prefix, node, ttlMs, slots: SLOTS, clock: realClock, log, changed: () => changes++ });
    made.push(l);
    return { l, records, changes: () => changes };
  };

  it('slotOf spreads names over the slots and is stable', () => {
    const counts = new Array(SLOTS).fill(0);
    for (let i = 0; i < 3200; i++) counts[slotOf(`block${i}`, SLOTS)]++;
    assert.ok(Math.min(...counts) > 50 && Math.max(...counts) < 150, counts.join());
    assert.equal(slotOf('homepage', SLOTS), slotOf('homepage', SLOTS));
  });

  it('two members split the slots, each held once; one leaving gives the other all', async () => {
    const a = member('a', 'split:');
    const b = member('b', 'split:');
    await a.l.start();
    await b.l.start();
    await waitFor(() => a.l.heldSlots().size + b.l.heldSlots().size === SLOTS && a.l.heldSlots().size > 0 && b.l.heldSlots().size > 0, 5000, 'a split');
    for (const s of a.l.heldSlots()) assert.ok(!b.l.heldSlots().has(s), `slot ${s} held by both`);
    await a.l.tick(); // a's view of the owners after b took its share
    assert.deepEqual([...a.l.members].sort(), ['a', 'b']);
    assert.ok(a.l.owners.every((v) => /^[ab]\|\d+$/.test(v)), `owners ${a.l.owners.join()}`);
    const tokens = a.l.owners.map((v) => Number(v.split('|')[1]));
    assert.equal(new Set(tokens).size, SLOTS, 'each grant has its own fencing token');
    await b.l.stop();
    made.splice(made.indexOf(b.l), 1);
    await waitFor(() => a.l.heldSlots().size === SLOTS, 3000, 'a holds every slot after b left');
    const later = a.l.owners.map((v) => Number(v.split('|')[1]));
    assert.ok(Math.max(...later) > Math.max(...tokens), 'slots taken over get newer tokens');
  });

  it('Redis away: the member stops its blocks before its leases could lapse on the server, and says so', async () => {
    const a = member('a', 'lapse:', 900);
    await a.l.start();
    await waitFor(() => a.l.heldSlots().size === SLOTS, 3000, 'a holds every slot');
    const changes = a.changes();
    await redis.server.stop();
    const stoppedAt = Date.now();
    try {
      await waitFor(() => a.l.heldSlots().size === 0, 3000, 'the blocks stopped');
      // The last renewal was at most ttl/3 before the stop; the server's lease ends ttl after it.
      assert.ok(Date.now() - stoppedAt < 900, `stopped ${Date.now() - stoppedAt}ms after Redis went away; the lease ends within 900ms`);
      assert.equal(a.changes(), changes + 1);
      assert.equal(a.l.counts.lapses, 1);
      assert.equal(a.l.renewing, false);
      assert.ok(a.records.some((r) => r.msg === 'cluster lease renewal failed; this node keeps its blocks until its leases could lapse, then stops them'));
      assert.ok(a.records.some((r) => r.msg === "cluster leases not renewed in time; stopped this node's blocks so that no two nodes run them"));
    } finally {
      await redis.server.start();
    }
    await waitFor(() => a.l.heldSlots().size === SLOTS, 5000, 'the slots back once Redis is');
    await sleep(10);
  });
});
