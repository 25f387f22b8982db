import { parseArgs, ParseArgsConfig } from 'node:util';
import { NAME_PATTERN } from '../heartbeat/types';
import { Remote, remoteFrom, UsageError } from './remote';
import type { CliIO } from './commands';
import { USAGE } from './usage';

/** Parsed is a command line that parsed, with a usage() that prints why not and gives exit 2. */
export interface Parsed<V> {
  values: V;
  positionals: string[];
  usage(why: string): number;
}

/**
 * parseCommand parses a subcommand's options (--url and --token included where the
 * command talks to a node), answers --help, and returns the exit code when it is done:
 * 0 after help, 2 after a usage error printed with the command's usage text.
 */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  command: 'send' | 'config' | 'status' | 'alerts' | 'rpc',
  args: string[],
  io: CliIO,
  options: O,
  allowPositionals: boolean,
): Parsed<{ [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean; url?: string; token?: string }> | number {
  const usage = (why: string): number => {
    io.err(`remon ${command}: ${why}\n\n${USAGE[command]}`);
    return 2;
  };
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals,
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' }, url: { type: 'string' }, token: { type: 'string' } },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(USAGE[command]);
    return 0;
  }
  return { values: parsed.values as never, positionals: parsed.positionals, usage };
}

/** heartbeatName is the one NAME argument of send and config, or the usage error's exit code. */
export function heartbeatName(p: Parsed<unknown>): string | number {
  if (p.positionals.length !== 1) return p.usage(p.positionals.length === 0 ? 'missing the heartbeat NAME' : `unexpected argument "${p.positionals[1]}"`);
  const name = p.positionals[0];
  if (!NAME_PATTERN.test(name)) return p.usage(`bad heartbeat name "${name}"; names are 1-128 letters, digits, _ and -`);
  return name;
}

/** remoteOf is the node a command talks to (--url/--token or REMON_URL/REMON_TOKEN), or the usage error's exit code. */
export function remoteOf(p: Parsed<{ url?: string; token?: string }>, env: NodeJS.ProcessEnv): Remote | number {
  try {
    return remoteFrom(p.values, env);
  } catch (err) {
    if (err instanceof UsageError) return p.usage(err.message);
    throw err;
  }
}
