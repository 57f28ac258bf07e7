/**
 * Solve A x = b for a dense n×n matrix by Gaussian elimination with partial pivoting (float64).
 * Works for any non-singular A, symmetric or not, definite or not.
 * @param a `[n * n]` row-major, overwritten by the elimination
 * @param b `[n]` right-hand side, overwritten
 * @param x output `[n]` (may alias `b`)
 * @param pivotRelative a pivot whose absolute value is at most pivotRelative · max |A_ij| counts as
 *   singular (the learned solves pass `SINGULAR_PIVOT_RELATIVE` of `nn/solvePolicy.ts`)
 * @returns false when A is singular to working precision (a pivot at most pivotRelative · max |A_ij|),
 *   or when A is zero or not finite
 * @example if (!luSolve(a, b, x, n)) throw new Error('singular');
 */
export function luSolve(
  a: Float64Array,
  b: Float64Array,
  x: Float64Array,
  n: number,
  pivotRelative = 1e-13,
): boolean {
  let scale = 0;
  for (let i = 0; i < n * n; i++) {
    const v = Math.abs(a[i]);
    if (v > scale) scale = v;
  }
  if (!(scale > 0) || !Number.isFinite(scale)) return false;
  const tiny = pivotRelative * scale;
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(a[k * n + k]);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(a[i * n + k]);
      if (v > best) {
        best = v;
        p = i;
      }
    }
    if (!(best > tiny)) return false;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = a[k * n + j];
        a[k * n + j] = a[p * n + j];
        a[p * n + j] = t;
      }
      const t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
    const piv = a[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k] / piv;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * a[k * n + j];
      b[i] -= f * b[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let j = i + 1; j < n; j++) s -= a[i * n + j] * x[j];
    x[i] = s / a[i * n + i];
  }
  return true;
}
