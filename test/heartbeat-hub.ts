import { loadConfig } from '../src/config/load';
import type { EmitOutput, HubEnv } from '../src/engine/block';
import { createError } from '../src/errors';
import { HeartbeatHub } from '../src/heartbeat/hub';
import { HbEvent } from '../src/heartbeat/types';
import { silentLogger } from '../src/log';
import { registry } from '../src/registry';
import { FakeClock } from './fake-clock';
import { tmpDir } from './helpers';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Harness is a heartbeat hub on a fake clock, with what it emitted. */
export interface Harness {
  hub: HeartbeatHub;
  clock: FakeClock;
  dir: string;
  results: Array<EmitOutput & { block: string }>;
  events: HbEvent[];
  /** advance moves the fake clock, letting the journal commit after each timer. */
  advance(ms: number): Promise<void>;
  advanceTo(at: string | number): Promise<void>;
  /** eventLog lists [kind, ISO time] of the events so far. */
  eventLog(): Array<[string, string]>;
}

/**
 * startHub builds a heartbeat hub the way the engine does (from monitor.yaml text; blocks
 * added at run time attach like the engine's would) but on a fake clock, in `dir`.
 */
export async function startHub(blocksYaml: string, o: { clock: FakeClock; dir?: string; node?: string }): Promise<Harness> {
  const dir = o.dir ?? tmpDir('remon-hb-');
  const text = `node: { data: ${dir}${o.node ? `, ${o.node}` : ''} }\nblocks:\n${blocksYaml}`;
  const { config } = loadConfig('monitor.yaml', { ...registry, text });
  const results: Harness['results'] = [];
  const events: HbEvent[] = [];
  const names = new Set(config.blocks.map((b) => b.name));
  const emitFor = (block: string) => (out: EmitOutput) => results.push({ block, ...out });
  // eslint-disable-next-line prefer-const
  let hub: HeartbeatHub;
  const env: HubEnv = {
    config,
    clock: o.clock,
    log: silentLogger(),
    hasBlock: (n) => names.has(n),
    addBlock: (n, options) => {
      if (names.has(n)) throw createError('REMON_ERR_BLOCK_EXISTS', `a block is named "${n}" already`);
      names.add(n);
      hub.attach(n, options, emitFor(n));
    },
  };
  hub = new HeartbeatHub(env);
  for (const b of config.blocks) if (b.type === 'heartbeat' && !b.disabled) hub.attach(b.name, b.options, emitFor(b.name));
  hub.on('event', (e: HbEvent) => events.push(e));
  await hub.start();
  await hub.idle();
  const settle = () => hub.idle();
  return {
    hub, clock: o.clock, dir, results, events,
    advance: (ms) => o.clock.advance(ms, settle),
    advanceTo: (at) => o.clock.advanceTo(at, settle),
    eventLog: () => events.map((e) => [e.kind, iso(e.at)]),
  };
}
