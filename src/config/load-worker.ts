import { parentPort, workerData } from 'node:worker_threads';
import { RemonError } from '../errors';
import { requireRegistry, WorkerReply } from './isolated';
import { ConfigError, loadConfig } from './load';

// The worker side of loadConfigIsolated: load the registry module it was named, load the
// config against it, post the plain result, exit.
const { file, env, registryModule } = workerData as { file: string; env: NodeJS.ProcessEnv; registryModule: string };
let reply: WorkerReply;
try {
  reply = { ok: true, config: loadConfig(file, { ...requireRegistry(registryModule), env }).config };
} catch (err) {
  if (err instanceof ConfigError) reply = { ok: false, code: err.code, message: err.message, file: err.file, problems: err.problems };
  else if (err instanceof RemonError) reply = { ok: false, code: err.code, message: err.message };
  else reply = { ok: false, code: 'REMON_ERR_CONFIG_READ', message: (err as Error).message };
}
parentPort!.postMessage(reply);
