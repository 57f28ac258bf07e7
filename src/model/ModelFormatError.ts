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
  | 'system-mismatch'
  | 'param-mismatch'
  | 'unsafe-path'
  | 'not-regular-file'
  | 'too-large';

/** Longest message of a {@link ModelFormatError}, in characters; longer ones are cut with `…`. */
export const MAX_MESSAGE_CHARS = 960;

/** Longest source (path or URL) quoted in a message; longer ones keep their start and end. */
const MAX_SOURCE_CHARS = 240;

/**
 * One line of text: line breaks, tabs and other control characters become spaces (a message quotes
 * paths, URLs and JSON.parse's own message, any of which may hold them).
 */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/** `text` cut to `max` characters, keeping its start and end (`/a/very/long/…/model.json`). */
function middleCut(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor((max - 1) * 0.4);
  return `${text.slice(0, head)}…${text.slice(text.length - (max - 1 - head))}`;
}

/**
 * A model file that cannot be used. The message names the file, the problem and what to do about it;
 * `problem` is a stable code for programs and tests. The message is always one line of at most
 * {@link MAX_MESSAGE_CHARS} characters, whatever the file holds.
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
    const text = oneLine(`Model ${middleCut(String(source), MAX_SOURCE_CHARS)}: ${detail}`);
    super(text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text);
    this.name = 'ModelFormatError';
    this.problem = problem;
    this.source = source;
  }
}

/**
 * A value from a model file as short JSON-like text for a message: at most `maxChars` characters (cut
 * with `…`), nested at most three levels (`[[[…]]]`), never more work than the text it prints, and never
 * a throw (huge arrays, deep nesting, `toString` keys, getters that throw).
 * @example showValue([4, 128, 1]) // '[4,128,1]'
 */
export function showValue(value: unknown, maxChars = 80): string {
  let out: string;
  try {
    out = render(value, 3, maxChars + 1);
  } catch {
    out = '(unprintable value)';
  }
  return out.length > maxChars ? `${out.slice(0, Math.max(0, maxChars - 1))}…` : out;
}

/** Compact JSON-like text of `v`, stopping once `budget` characters are written. */
function render(v: unknown, depth: number, room: number): string {
  const budget = Math.max(1, room);
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return '(function)';
  }
  if (v === null) return 'null';
  const isArray = Array.isArray(v);
  if (depth <= 0) return isArray ? '[…]' : '{…}';
  let out = isArray ? '[' : '{';
  let first = true;
  const add = (part: string): boolean => {
    out += (first ? '' : ',') + part;
    first = false;
    return out.length < budget;
  };
  if (isArray) {
    const arr = v as unknown[];
    for (let i = 0; i < arr.length; i++) {
      if (!add(render(arr[i], depth - 1, budget - out.length))) return out;
    }
    return `${out}]`;
  }
  const obj = v as Record<string, unknown>;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const k = JSON.stringify(key.length > budget ? key.slice(0, budget) : key);
    if (!add(`${k}:${render(obj[key], depth - 1, budget - out.length - k.length)}`)) return out;
  }
  return `${out}}`;
}
