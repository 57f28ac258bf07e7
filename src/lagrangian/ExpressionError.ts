/**
 * A Lagrangian expression that cannot be parsed or refers to an unknown name. The message quotes the
 * expression and points at the offending position.
 */
export class ExpressionError extends Error {
  /** 0-based character offset of the problem in {@link ExpressionError.source}. */
  readonly position: number;
  /** The expression as given. */
  readonly source: string;

  /**
   * @param message what is wrong and what is accepted instead
   * @param source the whole expression
   * @param position 0-based offset of the problem
   */
  constructor(message: string, source: string, position: number) {
    const shown = source.length > 120 ? `${source.slice(0, 117)}...` : source;
    const caret = position <= 117 ? `\n  ${shown}\n  ${' '.repeat(position)}^` : '';
    super(`${message} (at position ${position})${caret}`);
    this.name = 'ExpressionError';
    this.position = position;
    this.source = source;
  }
}
