import type { Ops } from '../core/types.js';

/**
 * {@link Ops} over plain float64 numbers: evaluates a Lagrangian written against `Ops<T>` to a value.
 * @example const L = system.L(numberOps, [0.1, 0.2], [0, 0]);
 */
export const numberOps: Ops<number> = Object.freeze({
  c: (x: number) => x,
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  neg: (a: number) => -a,
  scale: (a: number, k: number) => a * k,
  pow: (a: number, p: number) => a ** p,
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
});
