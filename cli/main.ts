import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExpressionError, ModelFormatError, SceneError } from '../src/index.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE } from './CliError.js';
import { accelCommand } from './commands/accel.js';
import { assetsCommand } from './commands/assets.js';
import { evalCommand } from './commands/eval.js';
import { inspectCommand } from './commands/inspect.js';
import { rolloutCommand } from './commands/rollout.js';
import { sceneCommand } from './commands/scene.js';
import { systemsCommand } from './commands/systems.js';
import { trainCommand } from './commands/train.js';
import { type CliIO, processIO } from './io.js';

/**
 * The commands of `three-lnn`. Each module exports a factory `(io) => Command`; adding a command is one
 * line here (and its import). Command modules import heavy dependencies (TensorFlow.js) only inside
 * their actions, so `--help` and the exact engines start fast.
 */
const COMMANDS: readonly ((io: CliIO) => Command)[] = [
  rolloutCommand,
  accelCommand,
  systemsCommand,
  inspectCommand,
  sceneCommand,
  evalCommand,
  trainCommand,
  assetsCommand,
];

/** The package's own package.json: one folder up from the sources, two from the built `dist/cli/`. */
const PACKAGE_JSON = new URL(
  import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json',
  import.meta.url,
);
const VERSION = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;

/** The full `three-lnn` program, with every command attached. */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command('three-lnn')
    .description('Learned (LNN) and exact Lagrangian physics from the command line.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'show stack traces of unexpected errors')
    .addHelpText('after', "\nRun 'three-lnn <command> --help' for the options of a command.");
  for (const make of COMMANDS) program.addCommand(make(io));
  return program;
}

/** Longest error message printed (a message quoting a huge input is cut). */
const MAX_MESSAGE = 2000;

/** A message on one line (compiler and loader errors span several), at most {@link MAX_MESSAGE} characters. */
function oneLine(message: string): string {
  const line = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE - 1)}…` : line;
}

/** A thrown non-Error as text (String() itself throws for a null-prototype object). */
function describeThrown(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `a value of type ${typeof value} was thrown`;
  }
}

/**
 * Errors of the library that mean bad input rather than a failed run: a model file that cannot be used,
 * a scene that cannot run as written, a Lagrangian expression that does not parse. Reported like a
 * {@link CliError} with exit status 2.
 */
function isInputError(err: unknown): err is Error {
  return (
    err instanceof ModelFormatError ||
    err instanceof SceneError ||
    err instanceof ExpressionError ||
    (err instanceof Error && ['ModelFormatError', 'SceneError', 'ExpressionError'].includes(err.name))
  );
}

/** `three-lnn rollout` for a command, `three-lnn` for the program. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Run the CLI on `argv` (as `process.argv`: node, script, args…) and return the exit status: 0 on
 * success, 2 for bad input, 1 when a run fails. Errors are printed as one line naming the bad input and
 * the fix; stack traces only with `--debug`.
 * @example process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[] = process.argv, io: CliIO = processIO): Promise<number> {
  const debug = argv.includes('--debug');
  const program = buildProgram(io);
  // The command being parsed or run, so that a message can name it.
  let current: Command = program;
  const configure = (cmd: Command): void => {
    cmd
      .exitOverride()
      .showSuggestionAfterError()
      .configureOutput({
        writeOut: (s) => io.stdout(s),
        writeErr: (s) => io.stderr(s),
        outputError: () => {
          current = cmd;
        },
      });
    cmd.commands.forEach(configure);
  };
  configure(program);
  program.hook('preAction', (_root, action) => {
    current = action;
  });
  if (io === processIO) {
    // A closed pipe (`three-lnn rollout … | head`) is not an error worth a stack trace.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }

  try {
    await program.parseAsync([...argv], { from: 'node' });
    return 0;
  } catch (err) {
    const name = commandPath(current);
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return err.exitCode;
      let message = oneLine(err.message.replace(/^error: /, ''));
      if (!/[.?!)]$/.test(message)) message += '.';
      io.stderr(`${name}: error: ${message} See '${name} --help'.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CliError || isInputError(err)) {
      io.stderr(`${name}: error: ${oneLine(err.message)}\n`);
      if (debug && err.stack) io.stderr(err.stack + '\n');
      return err instanceof CliError ? err.exitCode : EXIT_USAGE;
    }
    const e = err instanceof Error ? err : new Error(describeThrown(err));
    io.stderr(
      `${name}: error: ${oneLine(String(e.message) || e.name)}${debug ? '' : ' (run with --debug for details)'}\n`,
    );
    if (debug && e.stack) io.stderr(e.stack + '\n');
    return EXIT_FAILURE;
  }
}
