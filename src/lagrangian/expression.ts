import type { Ops, Params } from '../core/types.js';
import { ExpressionError } from './ExpressionError.js';
import { LagrangianSystem, type ParametricLagrangian, type SystemDefinition } from './LagrangianSystem.js';

/**
 * Lagrangians typed as text, e.g. `"0.5*qd1^2 - 0.5*k*q1^2"`, turned into systems. The text is parsed by
 * a small recursive-descent parser into a syntax tree that is then evaluated over {@link Ops}; it is never
 * run as JavaScript, so an expression from a shared URL can do nothing but arithmetic.
 *
 * Grammar (whitespace ignored, `^` binds tighter than unary minus and is right-associative):
 *
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | power
 *   power   := primary ('^' unary)?
 *   primary := number | name | func '(' expr ')' | '(' expr ')'
 *
 * Names: `q1 … qn` (coordinates), `qd1 … qdn` (velocities), the declared parameters, and `pi`.
 * Functions: `sin cos tan exp log sqrt tanh`.
 */

/** A node of a parsed expression. */
export type ExpressionNode =
  | { readonly type: 'number'; readonly value: number; readonly pos: number }
  | { readonly type: 'coordinate'; readonly velocity: boolean; readonly index: number; readonly pos: number }
  | { readonly type: 'name'; readonly name: string; readonly pos: number }
  | { readonly type: 'negate'; readonly arg: ExpressionNode; readonly pos: number }
  | {
      readonly type: 'binary';
      readonly op: '+' | '-' | '*' | '/' | '^';
      readonly left: ExpressionNode;
      readonly right: ExpressionNode;
      readonly pos: number;
    }
  | {
      readonly type: 'call';
      readonly fn: ExpressionFunction;
      readonly arg: ExpressionNode;
      readonly pos: number;
    };

/** Functions accepted in expressions. */
export const EXPRESSION_FUNCTIONS = ['sin', 'cos', 'tan', 'exp', 'log', 'sqrt', 'tanh'] as const;
/** A function accepted in expressions. */
export type ExpressionFunction = (typeof EXPRESSION_FUNCTIONS)[number];

/** Longest accepted expression, in characters. */
export const MAX_EXPRESSION_LENGTH = 10_000;
/**
 * Most tokens (numbers, names, operators, parentheses) in an expression. Bounds the syntax tree, and so
 * the recursion of checking, compiling and evaluating it (a sum of n terms is a tree n deep).
 */
export const MAX_EXPRESSION_TOKENS = 4_096;
/**
 * Deepest accepted nesting of parentheses and of operators (`--x`, `a^b^c`), checked for parentheses
 * before parsing starts and for operators as the parser descends: the parser never nears the stack limit.
 */
export const MAX_EXPRESSION_DEPTH = 200;
const MAX_DEPTH = MAX_EXPRESSION_DEPTH;
/**
 * Largest coordinate index an expression may name (`q256`, `qd256`): the degrees of freedom are inferred
 * from the largest index, and the exact solver's cost grows with their square.
 */
export const MAX_EXPRESSION_DOF = 256;

const FUNCTIONS: ReadonlySet<string> = new Set(EXPRESSION_FUNCTIONS);
const CONSTANTS: ReadonlyMap<string, number> = new Map([['pi', Math.PI]]);

type Token =
  | { kind: 'number'; value: number; pos: number; text: string }
  | { kind: 'name'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'end'; pos: number; text: string };

/**
 * Split `src` into tokens, refusing (before any parsing) more than {@link MAX_EXPRESSION_TOKENS} tokens
 * and parentheses nested deeper than {@link MAX_EXPRESSION_DEPTH}.
 */
function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let parens = 0;
  while (i < src.length) {
    if (tokens.length >= MAX_EXPRESSION_TOKENS) {
      throw new ExpressionError(
        `Expression has more than ${MAX_EXPRESSION_TOKENS} tokens (numbers, names, operators, parentheses)`,
        src,
        i,
      );
    }
    const ch = src[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64));
    if (num) {
      tokens.push({ kind: 'number', value: Number(num[0]), pos: i, text: num[0] });
      i += num[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 64));
    if (name) {
      tokens.push({ kind: 'name', text: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    if ('+-*/^()'.includes(ch)) {
      if (ch === '(' && ++parens > MAX_DEPTH) {
        throw new ExpressionError(`Expression nested deeper than ${MAX_DEPTH} levels of parentheses`, src, i);
      }
      if (ch === ')') parens = Math.max(0, parens - 1);
      tokens.push({ kind: 'op', text: ch, pos: i });
      i++;
      continue;
    }
    const code = src.codePointAt(i) ?? 0;
    const shown =
      code < 0x20 || code === 0x7f
        ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
        : String.fromCodePoint(code);
    throw new ExpressionError(
      `Unexpected character '${shown}'; expressions use numbers, names, + - * / ^ and parentheses`,
      src,
      i,
    );
  }
  tokens.push({ kind: 'end', pos: src.length, text: 'end of expression' });
  return tokens;
}

/**
 * Parse a Lagrangian expression into a syntax tree (syntax only; names are checked by
 * {@link compileExpression}).
 * @throws ExpressionError naming the unexpected token and its position
 * @example parseExpression('0.5*qd1^2 - 0.5*k*q1^2')
 */
export function parseExpression(src: string): ExpressionNode {
  if (typeof src !== 'string')
    throw new ExpressionError(`The expression must be a string, not ${typeof src}`, '', 0);
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `Expression longer than ${MAX_EXPRESSION_LENGTH} characters (${src.length})`,
      src,
      MAX_EXPRESSION_LENGTH,
    );
  }
  const tokens = tokenize(src);
  let k = 0;
  let depth = 0;
  const peek = () => tokens[k];
  const isOp = (t: Token, ...ops: string[]) => t.kind === 'op' && ops.includes(t.text);
  const fail = (t: Token, expected: string): never => {
    const what = t.kind === 'end' ? 'end of expression' : `token '${t.text}'`;
    throw new ExpressionError(`Unexpected ${what}; expected ${expected}`, src, t.pos);
  };
  const enter = (pos: number) => {
    if (++depth > MAX_DEPTH)
      throw new ExpressionError(`Expression nested deeper than ${MAX_DEPTH} levels`, src, pos);
  };

  function expr(): ExpressionNode {
    enter(peek().pos);
    let left = term();
    while (isOp(peek(), '+', '-')) {
      const t = tokens[k++];
      left = { type: 'binary', op: t.text as '+' | '-', left, right: term(), pos: t.pos };
    }
    depth--;
    return left;
  }
  function term(): ExpressionNode {
    let left = unary();
    while (isOp(peek(), '*', '/')) {
      const t = tokens[k++];
      left = { type: 'binary', op: t.text as '*' | '/', left, right: unary(), pos: t.pos };
    }
    return left;
  }
  function unary(): ExpressionNode {
    const t = peek();
    if (isOp(t, '-', '+')) {
      k++;
      enter(t.pos);
      const arg = unary();
      depth--;
      return t.text === '-' ? { type: 'negate', arg, pos: t.pos } : arg;
    }
    return power();
  }
  function power(): ExpressionNode {
    const base = primary();
    const t = peek();
    if (!isOp(t, '^')) return base;
    k++;
    enter(t.pos);
    const exponent = unary();
    depth--;
    return { type: 'binary', op: '^', left: base, right: exponent, pos: t.pos };
  }
  function primary(): ExpressionNode {
    const t = tokens[k++];
    if (t.kind === 'number') {
      if (!Number.isFinite(t.value))
        throw new ExpressionError(`Number '${t.text}' is not finite`, src, t.pos);
      return { type: 'number', value: t.value, pos: t.pos };
    }
    if (t.kind === 'op' && t.text === '(') {
      const inner = expr();
      const close = tokens[k++];
      if (!isOp(close, ')')) fail(close, "')'");
      return inner;
    }
    if (t.kind === 'name') {
      if (FUNCTIONS.has(t.text)) {
        const open = tokens[k++];
        if (!isOp(open, '(')) fail(open, `'(' after the function '${t.text}'`);
        const arg = expr();
        const close = tokens[k++];
        if (!isOp(close, ')')) fail(close, `')' closing ${t.text}(`);
        return { type: 'call', fn: t.text as ExpressionFunction, arg, pos: t.pos };
      }
      if (isOp(peek(), '(')) {
        throw new ExpressionError(
          `Unknown function '${t.text}'; functions: ${EXPRESSION_FUNCTIONS.join(', ')}`,
          src,
          t.pos,
        );
      }
      const coord = /^(q|qd)([1-9][0-9]*)$/.exec(t.text);
      if (coord) {
        const index = Number(coord[2]);
        if (index > MAX_EXPRESSION_DOF) {
          throw new ExpressionError(
            `'${t.text}' is beyond the largest coordinate index, ${MAX_EXPRESSION_DOF}`,
            src,
            t.pos,
          );
        }
        return { type: 'coordinate', velocity: coord[1] === 'qd', index: index - 1, pos: t.pos };
      }
      return { type: 'name', name: t.text, pos: t.pos };
    }
    return fail(t, 'a number, a name, a function call or (');
  }

  const root = expr();
  if (peek().kind !== 'end') fail(peek(), 'an operator (+ - * / ^) or the end of the expression');
  return root;
}

/** Largest velocity/coordinate index used (1-based), 0 if none. */
function maxIndex(node: ExpressionNode): number {
  switch (node.type) {
    case 'coordinate':
      return node.index + 1;
    case 'negate':
    case 'call':
      return maxIndex(node.arg);
    case 'binary':
      return Math.max(maxIndex(node.left), maxIndex(node.right));
    default:
      return 0;
  }
}

/** Check every name against the coordinates, parameters and constants. */
function checkNames(node: ExpressionNode, src: string, dof: number, params: readonly string[]): void {
  switch (node.type) {
    case 'coordinate':
      if (node.index >= dof) {
        const name = `${node.velocity ? 'qd' : 'q'}${node.index + 1}`;
        throw new ExpressionError(
          `'${name}' is out of range: the system has ${dof} degree(s) of freedom`,
          src,
          node.pos,
        );
      }
      return;
    case 'name':
      if (!CONSTANTS.has(node.name) && !params.includes(node.name)) {
        const known = [`q1..q${dof}`, `qd1..qd${dof}`, ...params, ...CONSTANTS.keys()].join(', ');
        throw new ExpressionError(
          `Unknown name '${node.name}'; known names: ${known}; functions: ${EXPRESSION_FUNCTIONS.join(', ')}`,
          src,
          node.pos,
        );
      }
      return;
    case 'negate':
    case 'call':
      checkNames(node.arg, src, dof, params);
      return;
    case 'binary':
      checkNames(node.left, src, dof, params);
      checkNames(node.right, src, dof, params);
      return;
    default:
      return;
  }
}

/** A compiled node: a plain number when it involves no coordinate (folded once), else an evaluator. */
type Compiled = number | (<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]) => T);

const numericFunctions: Record<ExpressionFunction, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
};

function lift<T>(o: Ops<T>, c: Compiled, q: readonly T[], qd: readonly T[]): T {
  return typeof c === 'number' ? o.c(c) : c(o, q, qd);
}

/** Turn a checked tree into closures, folding every coordinate-free subtree to a number. */
function compileNode(node: ExpressionNode, params: Params): Compiled {
  switch (node.type) {
    case 'number':
      return node.value;
    case 'name':
      return CONSTANTS.get(node.name) ?? params[node.name];
    case 'coordinate': {
      const i = node.index;
      return node.velocity ? (_o, _q, qd) => qd[i] : (_o, q) => q[i];
    }
    case 'negate': {
      const a = compileNode(node.arg, params);
      return typeof a === 'number' ? -a : (o, q, qd) => o.neg(a(o, q, qd));
    }
    case 'call': {
      const a = compileNode(node.arg, params);
      const fn = node.fn;
      if (typeof a === 'number') return numericFunctions[fn](a);
      if (fn === 'tan')
        return (o, q, qd) => {
          const x = a(o, q, qd);
          return o.div(o.sin(x), o.cos(x));
        };
      return (o, q, qd) => o[fn](a(o, q, qd));
    }
    case 'binary': {
      const a = compileNode(node.left, params);
      const b = compileNode(node.right, params);
      if (typeof a === 'number' && typeof b === 'number') {
        switch (node.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return a * b;
          case '/':
            return a / b;
          default:
            return a ** b;
        }
      }
      switch (node.op) {
        case '+':
          return (o, q, qd) => o.add(lift(o, a, q, qd), lift(o, b, q, qd));
        case '-':
          return (o, q, qd) => o.sub(lift(o, a, q, qd), lift(o, b, q, qd));
        case '*':
          if (typeof a === 'number')
            return (o, q, qd) => o.scale((b as Exclude<Compiled, number>)(o, q, qd), a);
          if (typeof b === 'number')
            return (o, q, qd) => o.scale((a as Exclude<Compiled, number>)(o, q, qd), b);
          return (o, q, qd) => o.mul(a(o, q, qd), b(o, q, qd));
        case '/':
          if (typeof b === 'number')
            return (o, q, qd) => o.scale((a as Exclude<Compiled, number>)(o, q, qd), 1 / b);
          return (o, q, qd) => o.div(lift(o, a, q, qd), b(o, q, qd));
        default:
          // A constant exponent maps to Ops.pow; a variable one to exp(b log a), defined for a > 0.
          if (typeof b === 'number')
            return (o, q, qd) => o.pow((a as Exclude<Compiled, number>)(o, q, qd), b);
          return (o, q, qd) => o.exp(o.mul(b(o, q, qd), o.log(lift(o, a, q, qd))));
      }
    }
  }
}

/** Options of {@link compileExpression}. */
export interface CompileExpressionOptions {
  /** Degrees of freedom n. @default the largest index of any q_i or qd_i in the expression */
  dof?: number;
  /** Names of the parameters the expression may use. @default [] */
  params?: readonly string[];
}

/**
 * Parse and check a Lagrangian expression and return it as a {@link ParametricLagrangian} (usable with
 * `defineSystem`) together with its degrees of freedom.
 * @throws ExpressionError for a syntax error, an unknown name or an out-of-range coordinate
 * @example const { L, dof } = compileExpression('0.5*m*qd1^2 - 0.5*k*q1^2', { params: ['m', 'k'] });
 */
export function compileExpression(
  src: string,
  options: CompileExpressionOptions = {},
): { L: ParametricLagrangian; dof: number; tree: ExpressionNode } {
  const tree = parseExpression(src);
  const params = options.params ?? [];
  for (const name of params) {
    if (
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ||
      FUNCTIONS.has(name) ||
      CONSTANTS.has(name) ||
      /^(q|qd)\d+$/.test(name)
    ) {
      throw new ExpressionError(
        `'${name}' cannot be a parameter name (reserved or not an identifier)`,
        src,
        0,
      );
    }
  }
  const dof = options.dof ?? maxIndex(tree);
  if (!Number.isInteger(dof) || dof < 1) {
    throw new ExpressionError('The expression uses no coordinate q1…/qd1…; give at least one', src, 0);
  }
  checkNames(tree, src, dof, params);
  // Compiled once per parameter set; systems keep their (frozen) params object, so the cache hits.
  const cache = new WeakMap<Params, Compiled>();
  const L: ParametricLagrangian = <T>(o: Ops<T>, q: readonly T[], qd: readonly T[], p: Params): T => {
    let c = cache.get(p);
    if (c === undefined) {
      c = compileNode(tree, p);
      cache.set(p, c);
    }
    return lift(o, c, q, qd);
  };
  return { L, dof, tree };
}

/** Options of {@link systemFromExpression}: a {@link SystemDefinition} without `L`, with optional `id`. */
export interface ExpressionSystemOptions extends Partial<Omit<SystemDefinition, 'L' | 'dof' | 'params'>> {
  /** Degrees of freedom. @default the largest index of any q_i or qd_i in the expression */
  dof?: number;
  /** Parameter defaults by name, e.g. `{ k: 4 }`. @default {} */
  params?: Readonly<Record<string, number>>;
}

/**
 * Build a system from a Lagrangian typed as text; its accelerations, energy and momentum are exact
 * (see `defineSystem`).
 * @throws ExpressionError for a bad expression; Error for bad options
 * @example
 * const osc = systemFromExpression('0.5*qd1^2 - 0.5*k*q1^2', { params: { k: 4 } });
 * osc.accelerations(Float64Array.of(1), Float64Array.of(0), qdd, 1); // qdd = [-4]
 */
export function systemFromExpression(src: string, options: ExpressionSystemOptions = {}): LagrangianSystem {
  const params = options.params ?? {};
  const { L, dof } = compileExpression(src, { dof: options.dof, params: Object.keys(params) });
  return new LagrangianSystem({
    ...options,
    id: options.id ?? 'expression',
    name: options.name ?? `L = ${src.length > 60 ? `${src.slice(0, 57)}...` : src}`,
    dof,
    params,
    L,
  });
}
