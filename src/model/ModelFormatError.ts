/** Machine-readable reason of a {@link ModelFormatError}. */
export type ModelProblem =
  | 'not-found'
  | 'not-served'
  | 'bad-json'
  | 'bad-format'
  | 'unknown-version'
  | 'missing-field'
  | 'bad-field'
  | 'unknown-kind'
  | 'unknown-activation'
  | 'shape-mismatch'
  | 'missing-shard'
  | 'short-shard'
  | 'non-finite-weights'
  | 'dof-mismatch'
  | 'kind-mismatch'
  | 'system-mismatch';

/**
 * A model file that cannot be used. The message names the file, the problem and what to do about it;
 * `problem` is a stable code for programs and tests.
 * @example try { await loadModel(dir) } catch (e) { if (e instanceof ModelFormatError) console.error(e.message) }
 */
export class ModelFormatError extends Error {
  /** Stable reason code. */
  readonly problem: ModelProblem;
  /** The path, URL or `'memory'` the model came from. */
  readonly source: string;

  /**
   * @param problem stable reason code
   * @param source where the model came from
   * @param detail what is wrong and how to fix it (one or two sentences)
   */
  constructor(problem: ModelProblem, source: string, detail: string) {
    super(`Model ${source}: ${detail}`);
    this.name = 'ModelFormatError';
    this.problem = problem;
    this.source = source;
  }
}
