import { parseArgs } from 'node:util';
import { checkCommand, CliIO, onceCommand, runCommand, schemaCommand } from './commands';
import { USAGE } from './usage';

const COMMANDS = new Set(['run', 'check', 'once', 'schema', 'help']);

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
  if (command === 'help') {
    const topic = rest[0];
    io.out(topic && USAGE[topic] ? USAGE[topic] : USAGE.main);
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
