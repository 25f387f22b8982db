import { strict as assert } from 'node:assert';
import { loadConfig } from '../src/config/load';
import { BlockHub, BlockType, EmitOutput, HubEnv } from '../src/engine/block';
import { Engine } from '../src/engine/engine';
import { Result } from '../src/engine/result';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { freePort, tmpDir } from './helpers';

/**
 * The generic passive-block contract the heartbeat type is built on: a type's node-wide
 * hub, blocks reporting with env.emit, and blocks added while the node runs.
 */
class TickHub implements BlockHub {
  readonly emits = new Map<string, (out: EmitOutput) => void>();
  readonly calls: string[] = [];
  constructor(readonly env: HubEnv, private readonly engineOf: () => Engine) {}
  async start(): Promise<void> {
    this.calls.push(`start (web ${this.engineOf().url ? 'up' : 'down'})`);
  }
  async stop(): Promise<void> {
    const url = this.engineOf().url;
    const answered = url ? await fetch(`${url}/healthz`).then(() => true, () => false) : false;
    this.calls.push(`stop (web ${answered ? 'answers' : 'closed'})`);
  }
}

let current: Engine;
const tickType: BlockType<{ name: string; value?: number }> = {
  type: 'tick',
  description: 'a passive test block: reports when told',
  passive: true,
  schema: { properties: { value: { type: 'number' } } },
  create(_o, env) {
    (env.hub as TickHub).emits.set(env.name, env.emit);
    return { run: async () => ({ ok: false, message: 'signalled, not run' }) };
  },
  hub: (env) => new TickHub(env, () => current),
};

describe('passive block contract (emit, hub, addBlock)', () => {
  it('an emitted output is a Result: block status, store (no duration_ms), pipe steps, result listeners', async () => {
    const text = `node: { data: ${tmpDir()} }\nstorage: { kind: memory }\nblocks:\n` +
      '  - { name: t, type: tick, pipe: [ { if: "up == 0", then: [ { increment: t_down } ] } ] }\n';
    const loaded = loadConfig('monitor.yaml', { ...registry, text, extraTypes: [tickType] });
    const e = (current = new Engine({ ...loaded, log: silentLogger(), web: false }));
    const hub = e.hub('tick') as TickHub;
    assert.ok(hub instanceof TickHub);
    await e.start();
    const results: Result[] = [];
    e.bus.subscribe('test', ({ result: r }) => { if (r) results.push(r); });
    hub.emits.get('t')!({ ok: false, message: 'missed', fields: { error_count: 1 }, at: 1_700_000_000_000 });
    hub.emits.get('t')!({ ok: true, fields: { error_count: 0 } });
    await e.idle();
    assert.deepEqual(results.map((r) => [r.ok, r.trigger, r.message, r.durationMs]), [[false, 'signal', 'missed', 0], [true, 'signal', '', 0]]);
    assert.equal(results[0].startedAt, 1_700_000_000_000);
    assert.deepEqual(e.store.list(), ['t.error_count', 't.up']);
    assert.equal(await e.shared.counters.get('t_down'), 1);
    const s = e.blockStatus('t')!;
    assert.deepEqual([s.mode, s.status, s.runs, s.fields], ['passive', 'ok', 2, { error_count: 0, up: 1 }]);
    await assert.rejects(e.runNow('t'), { code: 'REMON_ERR_BLOCK_UNKNOWN' });
    assert.deepEqual(await e.runOnce(), []);
    await e.stop();
  });

  it('a hub starts before the web server and stops after it; it can add blocks while the node runs', async () => {
    const port = await freePort();
    const text = `node: { data: ${tmpDir()}, listen: "127.0.0.1:${port}" }\nblocks: []\n`;
    const loaded = loadConfig('monitor.yaml', { ...registry, text, extraTypes: [tickType] });
    const e = (current = new Engine({ ...loaded, log: silentLogger() }));
    const hub = e.hub('tick') as TickHub;
    await e.start();
    hub.env.addBlock('late-comer', { value: 3 });
    assert.throws(() => hub.env.addBlock('late-comer', {}), { code: 'REMON_ERR_BLOCK_EXISTS' });
    assert.equal(hub.env.hasBlock('late-comer'), true);
    hub.emits.get('late-comer')!({ fields: { value: 3 } });
    await new Promise((r) => setImmediate(r));
    assert.equal(e.blockStatus('late-comer')!.fields.value, 3);
    await e.stop();
    assert.deepEqual(hub.calls, ['start (web down)', 'stop (web closed)']);
  });
});
