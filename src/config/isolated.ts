import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadBlockTypesFrom, mergeBlockTypes } from '../engine/registry';
import { createError, ErrorCode, RemonError } from '../errors';
import { deepFreeze } from './build';
import { ConfigError, LoadedConfig, loadConfigFast } from './load';
import { resolveSections } from './compose';
import type { Registry } from './section';
import { Config, Problem } from './types';

/** WorkerReply is what load-worker.ts posts back. */
export type WorkerReply =
  | { ok: true; config: Config }
  | { ok: false; code: ErrorCode; message: string; file?: string; problems?: Problem[] };

/** IsolatedOptions: where the worker finds the registry, and the environment for ${VAR}. */
export interface IsolatedOptions {
  /**
   * The absolute path of a module exporting `registry` (a Registry: block types and
   * sections), e.g. src/registry.ts's REGISTRY_MODULE. A worker can be given no functions,
   * so it loads the registry itself.
   */
  registryModule: string;
  env?: NodeJS.ProcessEnv;
}

/** requireRegistry loads the `registry` export of a registry module. */
export function requireRegistry(file: string): Registry {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const registry = (require(file) as { registry?: Registry }).registry;
  if (!registry || !Array.isArray(registry.types) || !Array.isArray(registry.sections)) {
    throw createError('REMON_ERR_CONFIG_SECTION', `${file} does not export a registry (types and sections)`);
  }
  return registry;
}

/**
 * loadConfigIsolated is loadConfig run in a worker thread (unless its fast path takes the
 * file, see loadConfigFast). Parsing a large monitor.yaml
 * (20,000 blocks is ~100 MB of parser garbage) then happens in a heap that is freed when
 * the worker exits, instead of in the long-running node's heap, where V8 would keep it
 * for minutes. The result is the same: a frozen Config, or ConfigError with every problem.
 */
export async function loadConfigIsolated(file: string, options: IsolatedOptions): Promise<LoadedConfig> {
  const { registryModule, env = process.env } = options;
  // A file in the plain subset of YAML with no problem loads here: its parse makes little
  // garbage (no document, no positions), and a worker would cost more than it saves.
  const registry = requireRegistry(registryModule);
  const fast = loadConfigFast(file, { ...registry, env });
  if (fast) return fast;
  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'load-worker.js'), { workerData: { file, env, registryModule } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`config loader exited with code ${code}`)));
  });
  if (!reply.ok) {
    if (reply.problems) throw new ConfigError(reply.file ?? file, reply.problems);
    throw new RemonError(reply.code, reply.message);
  }
  // Block types are code: load them here too (the worker only validated against them).
  const extra = reply.config.node.blockDirs.flatMap((d) => {
    const loaded = loadBlockTypesFrom(d);
    if (loaded.problems.length) throw createError('REMON_ERR_BLOCK_TYPE_LOAD', loaded.problems.join('; '));
    return loaded.types;
  });
  const merged = mergeBlockTypes(registry.types, extra);
  return { config: deepFreeze(reply.config), types: new Map(merged.types.map((t) => [t.type, t])), sections: resolveSections(registry.sections) };
}
