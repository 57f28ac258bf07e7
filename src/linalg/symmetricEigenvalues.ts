/**
 * All eigenvalues of a dense symmetric n×n matrix by the cyclic Jacobi method (float64), sorted
 * ascending. Jacobi rotations are accurate to a few ulps relative to ‖A‖ and need no tuning; the cost,
 * O(n³) per sweep, suits matrices up to a few hundred rows (tests, normal-mode analysis).
 * @param a `[n * n]` row-major, symmetric; not modified
 * @returns eigenvalues `[n]`, ascending
 * @throws Error when the iteration does not converge in 100 sweeps (non-finite input)
 * @example symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2) // [1, 3]
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): Float64Array {
  const m = Float64Array.from({ length: n * n }, (_, i) => a[i]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off <= 1e-32 * diag || off === 0) {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = m[i * n + i];
      return out.sort();
    }
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        // Rotation angle chosen so that the (p, q) entry vanishes (Golub & Van Loan, Alg. 8.4.1).
        const tau = (aqq - app) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p];
          const akq = m[k * n + q];
          m[k * n + p] = c * akp - s * akq;
          m[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k];
          const aqk = m[q * n + k];
          m[p * n + k] = c * apk - s * aqk;
          m[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  throw new Error(`symmetricEigenvalues: no convergence for the ${n}×${n} matrix (non-finite entries?)`);
}
