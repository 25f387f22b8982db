import { parentPort, workerData } from 'node:worker_threads';
import { RemonError } from '../errors';
import type { WorkerReply } from './isolated';
import { ConfigError, loadConfig } from './load';

// The worker side of loadConfigIsolated: load, post the plain result, exit.
const { file, env } = workerData as { file: string; env: NodeJS.ProcessEnv };
let reply: WorkerReply;
try {
  reply = { ok: true, config: loadConfig(file, { env }).config };
} catch (err) {
  if (err instanceof ConfigError) reply = { ok: false, code: err.code, message: err.message, file: err.file, problems: err.problems };
  else if (err instanceof RemonError) reply = { ok: false, code: err.code, message: err.message };
  else reply = { ok: false, code: 'REMON_ERR_CONFIG_READ', message: (err as Error).message };
}
parentPort!.postMessage(reply);
