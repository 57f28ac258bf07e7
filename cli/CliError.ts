/** Exit status for bad input: unknown flags, invalid values, inconsistent options. */
export const EXIT_USAGE = 2;
/** Exit status for a run that started but could not finish (divergence, engine failure, I/O). */
export const EXIT_FAILURE = 1;

/**
 * An error the CLI reports as a single line, without a stack trace. The message names the bad input
 * and says how to fix it.
 * @example throw new CliError("--dt must be > 0, got 0. Use a positive step such as --dt 0.001.");
 */
export class CliError extends Error {
  /** Process exit status to return. @default EXIT_USAGE */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_USAGE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
