import { buildSchema } from '../config/compose';
import { loadConfigIsolated } from '../config/isolated';
import { ConfigError, loadConfig, LoadedConfig } from '../config/load';
import { Engine } from '../engine/engine';
import { RemonError } from '../errors';
import { createLogger } from '../log';
import { registry, REGISTRY_MODULE } from '../registry';
import { MemoryStore } from '../store/memory';
import { formatNumber, renderTable } from './table';

/** CliIO is where a command writes; tests pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

/** load reads a config, printing its problems; undefined means exit 2. */
function load(file: string, io: CliIO): LoadedConfig | undefined {
  try {
    return loadConfig(file, registry);
  } catch (err) {
    return reportLoadError(err, file, io);
  }
}

/** reportLoadError prints a config or read error for the user; other errors propagate. */
function reportLoadError(err: unknown, file: string, io: CliIO): undefined {
  if (err instanceof ConfigError) {
    io.err(`${err.message}\n${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${file}\n`);
    return undefined;
  }
  if (err instanceof RemonError) {
    io.err(`remon: ${err.message}\n`);
    return undefined;
  }
  throw err;
}

export function checkCommand(file: string, io: CliIO): number {
  const loaded = load(file, io);
  if (!loaded) return 2;
  const n = loaded.config.blocks.length;
  io.out(`${file}: ok (${n} block${n === 1 ? '' : 's'})\n`);
  return 0;
}

export async function onceCommand(file: string, json: boolean, io: CliIO): Promise<number> {
  const loaded = load(file, io);
  if (!loaded) return 2;
  const log = createLogger({ level: 'warn', fd: 2 });
  // once prints results and writes nothing: the node that may be running owns the store.
  const engine = new Engine({ ...loaded, log, web: false, store: new MemoryStore() });
  const results = await engine.runOnce();
  await engine.stop();
  if (json) {
    io.out(`${JSON.stringify(results.map(({ kinds: _k, ...r }) => ({ ...r, startedAt: new Date(r.startedAt).toISOString() })), null, 2)}\n`);
  } else {
    const rows = results.map((r) => [
      r.block,
      r.type,
      r.ok ? 'ok' : 'FAIL',
      `${r.durationMs.toFixed(1)}ms`,
      Object.entries(r.fields).map(([k, v]) => `${k}=${formatNumber(v)}`).join(' '),
      r.message,
    ]);
    io.out(`${renderTable(['BLOCK', 'TYPE', 'STATUS', 'DURATION', 'FIELDS', 'MESSAGE'], rows)}\n`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

export function schemaCommand(io: CliIO): number {
  io.out(`${JSON.stringify(buildSchema(registry), null, 2)}\n`);
  return 0;
}

/**
 * runCommand runs the node until SIGINT/SIGTERM. The first signal stops it cleanly (exit 0);
 * a second one exits at once (exit 1).
 */
export async function runCommand(file: string, io: CliIO): Promise<number> {
  // The long-running node loads its config in a worker thread (see loadConfigIsolated).
  const loaded = await loadConfigIsolated(file, { registryModule: REGISTRY_MODULE }).catch((err) => reportLoadError(err, file, io));
  if (!loaded) return 2;
  const log = createLogger({ level: loaded.config.node.logLevel, fd: 1 });
  let engine: Engine;
  try {
    // Opens the store under node.data: refused while another node uses it.
    engine = new Engine({ ...loaded, log, plugins: registry.plugins, loadConfig: () => loadConfigIsolated(file, { registryModule: REGISTRY_MODULE }) });
  } catch (err) {
    io.err(`remon: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await engine.start();
  } catch (err) {
    io.err(`remon: ${(err as Error).message}\n`);
    await engine.stop().catch(() => undefined);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        log.warn({ signal: sig }, 'second signal, exiting now');
        process.exit(1);
      }
      signalled = true;
      log.info({ signal: sig }, 'stopping');
      engine.stop().then(
        () => resolve(0),
        (err) => {
          log.error({ err: (err as Error).message }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // SIGHUP re-reads monitor.yaml, as POST /api/reload does; a bad file is refused and logged.
    process.on('SIGHUP', () => {
      engine.reload().then(
        (report) => log.info({ ...report }, 'reloaded on SIGHUP'),
        (err) => log.error({ err: (err as Error).message }, 'reload on SIGHUP refused; the running config is kept'),
      );
    });
  });
}
