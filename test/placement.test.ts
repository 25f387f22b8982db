import { strict as assert } from 'node:assert';
import { loadConfig } from '../src/config/load';
import { Engine } from '../src/engine/engine';
import type { NodePlugin } from '../src/engine/plugin';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { tmpDir, waitFor } from './helpers';
import { probeBlock, probeLog, resetProbeLog } from './probe-block';

function config(extra = '') {
  const text = `node: { name: alpha, data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n` +
    '  - { name: both, type: probe, every: 100ms, from: [alpha, beta] }\n' +
    '  - { name: beta-only, type: probe, every: 100ms, from: [beta] }\n' +
    '  - { name: anywhere, type: probe, every: 100ms }\n' + extra;
  return loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] });
}

describe('placement: which blocks this node runs', function () {
  this.timeout(20_000);
  beforeEach(resetProbeLog);

  it('from: runs a block only on the nodes it lists (and `remon once` skips the others)', async () => {
    const e = new Engine({ ...config(), log: silentLogger(), web: false });
    const results = await e.runOnce();
    assert.deepEqual(results.map((r) => r.block).sort(), ['anywhere', 'both']);
    await e.start();
    try {
      await waitFor(() => (probeLog.runs.both ?? 0) >= 3 && (probeLog.runs.anywhere ?? 0) >= 3, 5000, 'runs');
      assert.equal(probeLog.runs['beta-only'], undefined, 'beta-only never ran on alpha');
      assert.equal(e.runsHere('beta-only'), false);
      assert.equal(e.runsHere('both'), true);
    } finally {
      await e.stop();
    }
  });

  it('a placement that changes its answer starts and stops blocks on the running node', async () => {
    let mine = new Set(['anywhere']);
    const plugin: NodePlugin = {
      name: 'toy-cluster',
      install(host) {
        host.placement.add({ name: 'toy', runsHere: (b) => mine.has(b.name) });
        toggle = (names: string[]) => { mine = new Set(names); host.placement.changed(); };
      },
    };
    let toggle = (_names: string[]): void => undefined;
    const loaded = config();
    const e = new Engine({ ...loaded, log: silentLogger(), web: false, plugins: [plugin] });
    await e.start();
    try {
      await waitFor(() => (probeLog.runs.anywhere ?? 0) >= 2, 5000, 'anywhere runs');
      assert.equal(probeLog.runs.both, undefined);
      toggle(['both']);
      const at = probeLog.runs.anywhere;
      await waitFor(() => (probeLog.runs.both ?? 0) >= 2, 5000, 'both runs once given');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(probeLog.runs.anywhere <= at + 1, `anywhere stopped (${at} → ${probeLog.runs.anywhere})`);
      assert.equal(probeLog.runs['beta-only'], undefined, 'from: still keeps beta-only off alpha');
    } finally {
      await e.stop();
    }
  });

  it('a block taken away and given back at once does not run again within its interval', async () => {
    let mine = new Set(['anywhere']);
    let toggle = (_names: string[]): void => undefined;
    const plugin: NodePlugin = {
      name: 'toy-cluster',
      install(host) {
        host.placement.add({ name: 'toy', runsHere: (b) => mine.has(b.name) });
        toggle = (names: string[]) => { mine = new Set(names); host.placement.changed(); };
      },
    };
    const text = `node: { name: alpha, data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n  - { name: anywhere, type: probe, every: 600ms }\n`;
    const e = new Engine({ ...loadConfig('monitor.yaml', { ...registry, text, extraTypes: [probeBlock] }), log: silentLogger(), web: false, plugins: [plugin] });
    const starts: number[] = [];
    e.bus.subscribe('test', (m) => { if (m.result) starts.push(m.result.startedAt); });
    await e.start();
    try {
      for (let i = 0; i < 4; i++) {
        const n = starts.length;
        await waitFor(() => starts.length > n, 5000, 'a run');
        toggle([]);
        toggle(['anywhere']); // away and back right after a run, as a slot handed back and forth
      }
      await waitFor(() => starts.length >= 6, 5000, 'runs after the last toggle');
      const gaps = starts.slice(1).map((t, i) => t - starts[i]);
      assert.ok(gaps.every((g) => g >= 300), `runs at least half an interval apart: ${gaps.join(', ')} ms`);
    } finally {
      await e.stop();
    }
  });

  it('from: names are checked: a list of node names', () => {
    assert.throws(() => config('  - { name: bad, type: probe, from: alpha }\n'), /blocks\[3\]\.from: .*a list of node names/);
    assert.throws(() => config('  - { name: bad, type: probe, from: [] }\n'), /blocks\[3\]\.from/);
  });
});
