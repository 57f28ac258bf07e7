/**
 * In-place Cholesky factorisation A = L Lᵀ of a dense symmetric n×n matrix (row-major, float64).
 * Only the lower triangle of `a` is read; on success it holds L (the upper triangle is left as is).
 * @param a `[n * n]` row-major, overwritten
 * @param offset index of A[0][0] in `a` (to factor one matrix of a batch in place)
 * @returns false when A is not (numerically) positive definite; `a` is then partly overwritten
 * @example if (!choleskyFactor(a, n)) luSolve(...)
 */
export function choleskyFactor(a: Float64Array, n: number, offset = 0): boolean {
  for (let j = 0; j < n; j++) {
    const rj = offset + j * n;
    let d = a[rj + j];
    for (let k = 0; k < j; k++) d -= a[rj + k] * a[rj + k];
    // A pivot this small relative to the diagonal entry means a singular or indefinite matrix.
    if (!(d > 1e-14 * Math.abs(a[rj + j]))) return false;
    const ljj = Math.sqrt(d);
    a[rj + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      const ri = offset + i * n;
      let s = a[ri + j];
      for (let k = 0; k < j; k++) s -= a[ri + k] * a[rj + k];
      a[ri + j] = s / ljj;
    }
  }
  return true;
}

/**
 * Solve L Lᵀ x = b given the factor from {@link choleskyFactor}. `x` may alias `b`.
 * @param l `[n * n]` factor (lower triangle) @param b `[n]` @param x output `[n]`
 */
export function choleskySolve(
  l: Float64Array,
  b: ArrayLike<number>,
  x: Float64Array,
  n: number,
  lOffset = 0,
  bOffset = 0,
  xOffset = 0,
): void {
  for (let i = 0; i < n; i++) {
    const ri = lOffset + i * n;
    let s = b[bOffset + i];
    for (let k = 0; k < i; k++) s -= l[ri + k] * x[xOffset + k];
    x[xOffset + i] = s / l[ri + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[xOffset + i];
    for (let k = i + 1; k < n; k++) s -= l[lOffset + k * n + i] * x[xOffset + k];
    x[xOffset + i] = s / l[lOffset + i * n + i];
  }
}
