import { open } from 'node:fs/promises';
import { CliError, EXIT_FAILURE } from './CliError.js';
import { DEFAULT_MAX_INPUT_BYTES, show } from './limits.js';

/**
 * Where the CLI reads and writes. The default is the process's streams; tests may pass their own.
 */
export interface CliIO {
  /** Write text to standard output. */
  stdout(text: string): void;
  /** Write text to standard error. */
  stderr(text: string): void;
  /**
   * Read all of standard input as text.
   * @param maxBytes stop and throw {@link InputTooLarge} as soon as more than this many bytes arrive
   */
  stdin(maxBytes?: number): Promise<string>;
}

/** Thrown by {@link CliIO.stdin} when the input is longer than its byte cap. */
export class InputTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
    this.name = 'InputTooLarge';
  }
}

/** The process's own stdin, stdout and stderr. */
export const processIO: CliIO = {
  stdout: (text) => {
    process.stdout.write(text);
  },
  stderr: (text) => {
    process.stderr.write(text);
  },
  stdin: async (maxBytes = Number.POSITIVE_INFINITY) => {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of process.stdin) {
      total += (chunk as Buffer).length;
      // Leaving the loop destroys the stream: nothing more is read.
      if (total > maxBytes) throw new InputTooLarge(maxBytes);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  },
};

/** The refusal of an input over `--max-input-bytes` (exit status 2). */
function tooLarge(
  flag: string,
  what: string,
  size: number | undefined,
  maxBytes: number,
  limitFlag: string,
): CliError {
  const amount = size === undefined ? `more than ${show(maxBytes)} bytes` : `${show(size)} bytes`;
  return new CliError(
    `${flag}: ${what} is ${amount}, over the limit ${limitFlag} ${show(maxBytes)}; ` +
      `give a smaller input, or raise the limit with ${limitFlag} <n>.`,
  );
}

/**
 * Read a file as UTF-8 text, refusing (before reading) a regular file larger than `maxBytes` and
 * stopping any other file (a pipe, a device) as soon as it exceeds `maxBytes`.
 * @param flag the flag or argument that named the file, for messages (e.g. `--states`)
 * @param limitFlag the flag that raises the limit, for messages
 * @throws CliError (exit status 2) when the file cannot be read or is too large
 */
export async function readCappedFile(
  path: string,
  flag: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
  limitFlag = '--max-input-bytes',
): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw new CliError(
      `${flag}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
    );
  }
  try {
    const info = await file.stat();
    if (info.isDirectory()) throw new CliError(`${flag}: '${path}' is a directory, not a file.`);
    if (info.isFile() && info.size > maxBytes)
      throw tooLarge(flag, `'${path}'`, info.size, maxBytes, limitFlag);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes - total + 1));
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.read(buffer, 0, buffer.length, null));
      } catch (err) {
        throw new CliError(
          `${flag}: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
        );
      }
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(flag, `'${path}'`, undefined, maxBytes, limitFlag);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await file.close();
  }
}

/**
 * Read a text input named by a flag: a file path, or `-` for standard input, at most `maxBytes` bytes.
 * @param flag the flag that named it, for error messages (e.g. `--states`)
 * @param maxBytes the input limit (`--max-input-bytes`)
 * @throws CliError (exit status 2) when it cannot be read or is larger than `maxBytes`
 */
export async function readTextInput(
  io: CliIO,
  path: string,
  flag: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<string> {
  if (path !== '-') return readCappedFile(path, flag, maxBytes);
  try {
    return await io.stdin(maxBytes);
  } catch (err) {
    if (err instanceof InputTooLarge)
      throw tooLarge(flag, 'standard input', undefined, maxBytes, '--max-input-bytes');
    throw new CliError(`${flag}: cannot read standard input (${(err as Error).message}).`);
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
