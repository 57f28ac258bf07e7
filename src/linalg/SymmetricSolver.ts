import { choleskyFactor, choleskySolve } from './cholesky.js';
import { luSolve } from './luSolve.js';

/** How {@link SymmetricSolver.solve} solved the last system. */
export type SolveMethod = 'cholesky' | 'lu';

/**
 * Solves A x = b for symmetric n×n matrices, reusing its scratch: Cholesky first (the common, positive
 * definite case: a mass matrix), Gaussian elimination with partial pivoting when A is indefinite, and a
 * clear Error when A is singular — never a silent NaN.
 * @example
 * const solver = new SymmetricSolver(2);
 * solver.solve(Float64Array.of(2, 1, 1, 3), Float64Array.of(1, 2), x); // x = [0.2, 0.6]
 */
export class SymmetricSolver {
  /** Method used by the most recent successful {@link SymmetricSolver.solve}. */
  lastMethod: SolveMethod = 'cholesky';
  private readonly work: Float64Array;
  private readonly rhs: Float64Array;

  /** @param n matrix size */
  constructor(readonly n: number) {
    this.work = new Float64Array(n * n);
    this.rhs = new Float64Array(n);
  }

  /**
   * Solve A x = b. `a` and `b` are not modified.
   * @param a `[n * n]` symmetric, row-major @param b `[n]` @param x output `[n]`
   * @returns false when A is singular to working precision (x is then unspecified)
   */
  trySolve(a: ArrayLike<number>, b: ArrayLike<number>, x: Float64Array): boolean {
    const n = this.n;
    const w = this.work;
    for (let i = 0; i < n * n; i++) w[i] = a[i];
    if (choleskyFactor(w, n)) {
      choleskySolve(w, b, x, n);
      this.lastMethod = 'cholesky';
      return allFinite(x, n);
    }
    for (let i = 0; i < n * n; i++) w[i] = a[i];
    const r = this.rhs;
    for (let i = 0; i < n; i++) r[i] = b[i];
    if (!luSolve(w, r, x, n)) return false;
    this.lastMethod = 'lu';
    return allFinite(x, n);
  }

  /**
   * Solve A x = b, throwing when A is singular.
   * @param a `[n * n]` symmetric, row-major @param b `[n]` @param x output `[n]`
   * @throws Error when A is singular or has non-finite entries
   */
  solve(a: ArrayLike<number>, b: ArrayLike<number>, x: Float64Array): void {
    if (!this.trySolve(a, b, x)) {
      throw new Error(
        `SymmetricSolver: the ${this.n}×${this.n} matrix is singular or not finite; no unique solution.`,
      );
    }
  }
}

function allFinite(x: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}
