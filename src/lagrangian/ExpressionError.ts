/** Characters of the expression shown on each side of the problem in a message. */
const CONTEXT = 24;

/** `text` with line breaks and tabs shown as spaces (a message stays on one line). */
function flat(text: string): string {
  return text.replace(/[\r\n\t]/g, ' ');
}

/**
 * A Lagrangian expression that cannot be parsed or refers to an unknown name. The message is one line:
 * what is wrong, the 0-based position, and the expression around it with `▸` marking the spot, e.g.
 * `Unexpected character ';'; … (at position 6: "qd1^2 ▸; 1")`. {@link ExpressionError.excerpt} gives the
 * same spot as two lines with a caret, for monospace displays.
 */
export class ExpressionError extends Error {
  /** 0-based character offset of the problem in {@link ExpressionError.source}. */
  readonly position: number;
  /** The expression as given. */
  readonly source: string;

  /**
   * @param message what is wrong and what is accepted instead (one line)
   * @param source the whole expression
   * @param position 0-based offset of the problem
   */
  constructor(message: string, source: string, position: number) {
    const at = Math.max(0, Math.min(position, source.length));
    const start = Math.max(0, at - CONTEXT);
    const end = Math.min(source.length, at + CONTEXT);
    const before = (start > 0 ? '…' : '') + flat(source.slice(start, at));
    const after = flat(source.slice(at, end)) + (end < source.length ? '…' : '');
    const near = source.length === 0 ? '' : `: "${before}▸${after}"`;
    super(`${flat(message)} (at position ${position}${near})`);
    this.name = 'ExpressionError';
    this.position = position;
    this.source = source;
  }

  /**
   * The expression around the problem and a caret under it, two lines (up to 80 characters of the
   * expression), e.g. `"qd1^2 ; 1\n      ^"`.
   */
  get excerpt(): string {
    const at = Math.max(0, Math.min(this.position, this.source.length));
    const start = Math.max(0, at - 40);
    const end = Math.min(this.source.length, start + 80);
    const prefix = start > 0 ? '…' : '';
    const line = prefix + flat(this.source.slice(start, end)) + (end < this.source.length ? '…' : '');
    return `${line}\n${' '.repeat(prefix.length + at - start)}^`;
  }
}
