import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { loadConfig } from '../src/config/load';
import type { Config } from '../src/config/types';
import { Engine } from '../src/engine/engine';
import type { NodePlugin } from '../src/engine/plugin';
import { silentLogger } from '../src/log';
import { defineOp, noParams } from '../src/ops/operation';
import { registry } from '../src/registry';
import { freePort, tmpDir, waitFor, writeConfig } from './helpers';
import { probeBlock } from './probe-block';

/** counting is a plugin as derive and SLA tests are built: a bus subscriber, a component, an operation with a route, a metric. */
function counting(log: string[]): NodePlugin & { seen: number; blocks: number } {
  const p = {
    name: 'counting',
    seen: 0,
    blocks: 0,
    install(host: Parameters<NodePlugin['install']>[0]) {
      p.blocks = host.config.blocks.length;
      host.bus.subscribe('counting', (m) => { if (m.result) p.seen++; });
      host.addComponent({ name: 'counting', after: ['bus'], start: () => { log.push('start'); }, stop: () => { log.push('stop'); } });
      host.ops.add(defineOp({ name: 'counting.get', summary: 'results seen', params: noParams, write: false, http: { method: 'GET', path: '/api/counting' }, handler: () => ({ seen: p.seen, blocks: p.blocks }) }));
      host.metrics.set('counting', () => ['# TYPE remon_counting_seen_total counter', `remon_counting_seen_total ${p.seen}`]);
    },
    reload(config: Config) {
      p.blocks = config.blocks.length;
      log.push('reload');
    },
  };
  return p;
}

describe('plugins', () => {
  it('a plugin hears the bus, starts and stops with the node, answers an operation and a metric, and hears reloads', async () => {
    const port = await freePort();
    const head = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nstorage: { kind: memory }\nblocks:\n`;
    const file = writeConfig(`${head}  - { name: a, type: probe, every: 50ms }\n`);
    const load = () => loadConfig(file, { ...registry, extraTypes: [probeBlock] });
    const log: string[] = [];
    const plugin = counting(log);
    const e = new Engine({ ...load(), log: silentLogger(), plugins: [plugin], loadConfig: async () => load() });
    await e.start();
    try {
      assert.deepEqual(log, ['start']);
      await waitFor(() => plugin.seen >= 3, 3000, 'three results');
      const got = await (await fetch(`http://127.0.0.1:${port}/api/counting`)).json() as { seen: number; blocks: number };
      assert.ok(got.seen >= 3);
      assert.equal(got.blocks, 1);
      assert.match(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), /^remon_counting_seen_total [1-9]\d*$/m);
      fs.writeFileSync(file, `${head}  - { name: a, type: probe, every: 50ms }\n  - { name: b, type: probe, every: 50ms }\n`);
      await e.reload();
      assert.deepEqual(log, ['start', 'reload']);
      assert.equal(plugin.blocks, 2);
    } finally {
      await e.stop();
    }
    assert.deepEqual(log, ['start', 'reload', 'stop']);
  });
});
