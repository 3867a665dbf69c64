import { parseArgs } from 'node:util';
import { isUserError, type UserErrorCode } from '../engine/errors';
import type { CliIO, Command, OptionSpec, OptionValues } from './command';
import { COMMANDS } from './commands';

const PROGRAM = 'artefact-lens';

/** Exit codes: 0 done, 1 a problem the person can fix, 2 a mistake in the command line, 70 a bug. */
const EXIT = { ok: 0, userError: 1, usage: 2, cancelled: 130, bug: 70 } as const;
const USAGE_CODES: ReadonlySet<UserErrorCode> = new Set(['INVALID_ARGUMENT']);

/** Options every command accepts. */
const COMMON: Record<string, OptionSpec> = {
  help: { type: 'boolean', description: 'Show this help.' },
  debug: { type: 'boolean', description: 'Show the full details of an unexpected error.' },
};

function processIO(): CliIO {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    progress: (text) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${text}\x1b[K`);
    },
  };
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [`Usage: ${PROGRAM} <command> [options]`, '', 'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '', `Run ${PROGRAM} <command> --help for a command's options.`].join('\n');
}

function commandHelp(command: Command): string {
  const options = { ...command.options, ...COMMON };
  const label = (name: string, o: OptionSpec) => `--${name}${o.value ? ` ${o.value}` : ''}`;
  const width = Math.max(...Object.entries(options).map(([n, o]) => label(n, o).length));
  return [`Usage: ${PROGRAM} ${command.name} ${command.usage}`, '', command.summary, '', 'Options:',
    ...Object.entries(options).map(([n, o]) => `  ${label(n, o).padEnd(width)}  ${o.description}`)].join('\n');
}

/** One line for the person; the stack only when asked for, and only for bugs. */
function report(e: unknown, io: CliIO, debug: boolean): number {
  if (isUserError(e)) {
    io.err(`${PROGRAM}: ${e.message}`);
    if (e.code === 'CANCELLED') return EXIT.cancelled;
    return USAGE_CODES.has(e.code) ? EXIT.usage : EXIT.userError;
  }
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  io.err(`${PROGRAM}: unexpected error: ${message}. Please report this${debug ? '' : ' (run again with --debug for details)'}.`);
  if (debug && e instanceof Error && e.stack) io.err(e.stack);
  return EXIT.bug;
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(overview());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`${PROGRAM}: there is no command "${name}"; the commands are ${COMMANDS.map((c) => c.name).join(', ')}.`);
    return EXIT.usage;
  }
  let values: OptionValues;
  let positionals: string[];
  try {
    const options = Object.fromEntries(Object.entries({ ...command.options, ...COMMON }).map(([n, o]) => [n, { type: o.type, multiple: o.multiple === true }]));
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: command.positionals !== undefined });
    values = parsed.values as OptionValues;
    positionals = parsed.positionals;
  } catch (e) {
    io.err(`${PROGRAM} ${name}: ${(e as Error).message.split('. ')[0]}. See ${PROGRAM} ${name} --help.`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(commandHelp(command));
    return EXIT.ok;
  }
  if (positionals.length < (command.positionals?.min ?? 0)) {
    io.err(`${PROGRAM} ${name}: missing arguments. Usage: ${PROGRAM} ${name} ${command.usage}`);
    return EXIT.usage;
  }
  // Ctrl-C asks the command to stop cleanly (an import commits what it has done).
  const abort = new AbortController();
  const onInterrupt = () => abort.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return (await command.run(values, io, abort.signal, positionals)) ?? EXIT.ok;
  } catch (e) {
    return report(e, io, values.debug === true);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
