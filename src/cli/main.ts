import { parseArgs } from 'node:util';
import type { CliIO } from './commands';
import { RRD_USAGE, rrdCommand } from './rrd';
import { USAGE } from './usage';

const COMMANDS = new Set(['run', 'check', 'once', 'schema', 'help', 'rrd', 'send', 'config', 'status', 'alerts', 'rpc']);

/** main parses argv (without node and script) and returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  let [command, ...rest] = argv;
  if (command === undefined || command.startsWith('-') && command !== '--help' && command !== '-h') {
    rest = argv;
    command = 'run';
  } else if (command === '--help' || command === '-h') {
    command = 'help';
  } else if (!COMMANDS.has(command)) {
    // `remon monitor.yaml` is `remon run monitor.yaml`.
    if (/\.ya?ml$/.test(command)) {
      rest = argv;
      command = 'run';
    } else {
      io.err(`remon: unknown command "${command}"\n\n${USAGE.main}`);
      return 2;
    }
  }
  // rrd takes rrdtool's own argument syntax.
  if (command === 'rrd') return rrdCommand(rest, io);
  // Commands that talk to a running node parse their own options.
  // They load only what they need: `remon send` runs from cron jobs, and the engine takes
  // most of a second to load.
  if (command === 'send') return (await import('./send')).sendCommand(rest, io);
  if (command === 'config') return (await import('./config-cmd')).configCommand(rest, io);
  if (command === 'status') return (await import('./status')).statusCommand(rest, io);
  if (command === 'alerts') return (await import('./alerts')).alertsCommand(rest, io);
  if (command === 'rpc') return (await import('./rpc')).rpcCommand(rest, io);
  if (command === 'help') {
    const topic = rest[0];
    io.out(topic === 'rrd' ? RRD_USAGE : topic && USAGE[topic] ? USAGE[topic] : USAGE.main);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } },
      strict: true,
    });
  } catch (err) {
    io.err(`remon ${command}: ${(err as Error).message}\n\n${USAGE[command]}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE[command]);
    return 0;
  }
  const maxPositionals = command === 'schema' ? 0 : 1;
  if (positionals.length > maxPositionals || (values.json && command !== 'once')) {
    io.err(`remon ${command}: unexpected ${values.json && command !== 'once' ? '--json' : `argument "${positionals[maxPositionals]}"`}\n\n${USAGE[command]}`);
    return 2;
  }
  const file = positionals[0] ?? 'monitor.yaml';
  const { checkCommand, onceCommand, runCommand, schemaCommand } = await import('./commands');
  switch (command) {
    case 'check':
      return checkCommand(file, io);
    case 'once':
      return onceCommand(file, values.json === true, io);
    case 'schema':
      return schemaCommand(io);
    default:
      return runCommand(file, io);
  }
}

if (require.main === module) {
  const io: CliIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
  main(process.argv.slice(2), io).then(
    (code) => {
      // Let stdout drain before exiting.
      process.stdout.write('', () => process.exit(code));
    },
    (err) => {
      process.stderr.write(`remon: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
