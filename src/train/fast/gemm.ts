/** Aᵀ of A `[m, k]`, as a new `[k, m]` buffer of the same type. */
export function transpose<A extends Float32Array | Float64Array>(a: A, m: number, k: number): A {
  const out = (a instanceof Float64Array ? new Float64Array(m * k) : new Float32Array(m * k)) as A;
  // Blocked so that both sides stay in cache for wide matrices.
  const B = 32;
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(m, i0 + B);
    for (let j0 = 0; j0 < k; j0 += B) {
      const j1 = Math.min(k, j0 + B);
      for (let i = i0; i < i1; i++) {
        const row = i * k;
        for (let j = j0; j < j1; j++) out[j * m + i] = a[row + j];
      }
    }
  }
  return out;
}

/** C `[m, n]` = A `[m, k]` · B `[k, n]` in plain JS float64: the reference (exact to float64 rounding, slow). */
export function matmul64(a: Float64Array, m: number, k: number, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p];
      if (aip === 0) continue;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
  return c;
}
