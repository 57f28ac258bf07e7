import * as tf from '@tensorflow/tfjs-core';

/** A dense row-major buffer: float32 on the fast path, float64 for references. */
export type Buf = Float32Array | Float64Array;

/**
 * The three matrix products of {@link lnnLossGradient}, on row-major buffers. An implementation decides
 * where they run (TF.js's backend GEMM, or plain JS for float64 references).
 */
export interface Gemm {
  /** Element type of every buffer the gradient allocates. */
  readonly float64: boolean;
  /** C `[m, n]` = A `[m, k]` · B `[k, n]`. */
  mm(a: Buf, m: number, k: number, b: Buf, n: number): Buf;
  /** C `[k, n]` = Aᵀ · B for A `[m, k]`, B `[m, n]` (a sum over the m rows). */
  mmTN(a: Buf, m: number, k: number, b: Buf, n: number): Buf;
}

/** Aᵀ of A `[m, k]`, as a new `[k, m]` buffer of the same type. */
export function transpose(a: Buf, m: number, k: number): Buf {
  const out = a instanceof Float64Array ? new Float64Array(m * k) : new Float32Array(m * k);
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

/** Plain-JS float64 products: the reference for tests (exact to float64 rounding, slow). */
export const gemm64: Gemm = {
  float64: true,
  mm(a, m, k, b, n) {
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
  },
  mmTN(a, m, k, b, n) {
    return gemm64.mm(transpose(a, m, k), k, m, b, n);
  },
};

/**
 * Float32 products on the active TF.js backend's GEMM (XNNPACK on wasm). A transposed operand is
 * materialised first (by the backend's transpose): the wasm and cpu backends run a GEMM with a transposed
 * operand several times slower.
 */
export const gemmTf: Gemm = {
  float64: false,
  mm(a, m, k, b, n) {
    // Not returned from tidy: tidy walks a returned container element by element looking for tensors.
    let out: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      out = tf
        .matMul(tf.tensor2d(a as Float32Array, [m, k]), tf.tensor2d(b as Float32Array, [k, n]))
        .dataSync() as Float32Array;
    });
    return out;
  },
  mmTN(a, m, k, b, n) {
    // The backend's transpose kernel, then a plain GEMM: faster than a GEMM with a transposed operand.
    let out: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const at = tf.transpose(tf.tensor2d(a as Float32Array, [m, k]));
      out = tf.matMul(at, tf.tensor2d(b as Float32Array, [m, n])).dataSync() as Float32Array;
    });
    return out;
  },
};
