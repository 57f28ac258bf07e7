import { open, readFile } from 'node:fs/promises';
import { CliError, EXIT_FAILURE } from './CliError.js';

/**
 * Where the CLI reads and writes. The default is the process's streams; tests may pass their own.
 */
export interface CliIO {
  /** Write text to standard output. */
  stdout(text: string): void;
  /** Write text to standard error. */
  stderr(text: string): void;
  /** Read all of standard input as text. */
  stdin(): Promise<string>;
}

/** The process's own stdin, stdout and stderr. */
export const processIO: CliIO = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

/**
 * Read a text input named by a flag: a file path, or `-` for standard input.
 * @param flag the flag that named it, for error messages (e.g. `--states`)
 */
export async function readTextInput(io: CliIO, path: string, flag: string): Promise<string> {
  if (path === '-') return io.stdin();
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `${flag}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
    );
  }
}

/**
 * Write a command's result to `out` (a file path), or to standard output when `out` is undefined or
 * `-`. The result may be one string or a sequence of chunks (long roll-outs are written piecewise).
 * @throws CliError when the file cannot be written
 */
export async function writeResult(
  io: CliIO,
  text: string | Iterable<string>,
  out: string | undefined,
): Promise<void> {
  const chunks = typeof text === 'string' ? [text] : text;
  if (out === undefined || out === '-') {
    for (const chunk of chunks) io.stdout(chunk);
    return;
  }
  try {
    const file = await open(out, 'w');
    try {
      for (const chunk of chunks) await file.write(chunk);
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new CliError(
      `--out: cannot write '${out}' (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
      EXIT_FAILURE,
    );
  }
}
