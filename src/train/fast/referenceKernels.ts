import { matmul64, transpose } from './gemm.js';
import type { GradKernels } from './kernels.js';

/**
 * {@link GradKernels} in plain JS float64 (Math.exp, Math.log1p, Math.tanh; every Hessian entry): the
 * reference the float32 SIMD kernels and the JAX trainer's gradient are checked against. Slow.
 */
export const referenceKernels: GradKernels<Float64Array> = {
  float64: true,
  begin() {},
  alloc: (size) => new Float64Array(size),
  alloc64: (size) => new Float64Array(size),
  sub: (t, offset, size) => t.subarray(offset, offset + size),
  view: (t) => t,
  view64: (t) => t,
  mm: matmul64,
  mmTN: (a, m, k, b, n) => matmul64(transpose(a, m, k), k, m, b, n),

  activate(act, Z, bias, B, h, k, next, s1, s2, s3) {
    for (let b = 0; b < B; b++) {
      for (let w = 0; w < h; w++) {
        const e = b * h + w;
        const z = Z[e] + bias[w];
        if (act === 'softplus') {
          // softplus(z) = max(z, 0) + log1p(e^{−|z|}); σ′ = sigmoid.
          const t = Math.exp(-Math.abs(z));
          const p = z >= 0 ? 1 / (1 + t) : t / (1 + t);
          const d2 = p * (1 - p);
          next[e] = Math.max(z, 0) + Math.log1p(t);
          s1[e] = p;
          s2[e] = d2;
          s3[e] = d2 * (1 - 2 * p);
        } else {
          const t = Math.tanh(z);
          const d1 = 1 - t * t;
          next[e] = t;
          s1[e] = d1;
          s2[e] = -2 * t * d1;
          s3[e] = d1 * (4 * t * t - 2 * d1);
        }
      }
    }
    const size = B * h;
    for (let i = 0; i < k; i++) {
      const off = (1 + i) * size;
      for (let e = 0; e < size; e++) next[off + e] = s1[e] * Z[off + e];
    }
  },

  curvatureHessian(G, s1, s2, Zd, B, h, k, delta, c, H) {
    for (let e = 0; e < B * h; e++) {
      delta[e] = G[e] * s1[e];
      c[e] = G[e] * s2[e];
    }
    for (let b = 0; b < B; b++) {
      const hb = b * k * k;
      const cb = b * h;
      for (let i = 0; i < k; i++) {
        const ri = (i * B + b) * h;
        for (let j = i; j < k; j++) {
          const rj = (j * B + b) * h;
          let s = 0;
          for (let w = 0; w < h; w++) s += Zd[ri + w] * c[cb + w] * Zd[rj + w];
          H[hb + i * k + j] += s;
          if (j !== i) H[hb + j * k + i] += s;
        }
      }
    }
  },

  reverseAdjoint(dbar, Zd, rho, nu, s1, s2, s3, G, B, h, k, R, A, gb, zb) {
    contract(Zd, rho, B, h, k, R);
    contract(Zd, nu, B, h, k, A);
    for (let e = 0; e < B * h; e++) {
      const c = -R[e] * A[e];
      gb[e] = dbar[e] * s1[e] + c * s2[e];
      zb[e] = G[e] * (dbar[e] * s2[e] + c * s3[e]);
    }
  },

  tangentAdjoint(Zd, s1, s2, c, zb, AJ, rho, nu, R, A, B, h, k, Y) {
    const size = B * h;
    for (let e = 0; e < size; e++) Y[e] = AJ ? zb[e] + AJ[e] * s1[e] : zb[e];
    for (let i = 0; i < k; i++) {
      const yi = (1 + i) * size;
      for (let b = 0; b < B; b++) {
        const p = rho[b * k + i];
        const v = nu[b * k + i];
        const row = b * h;
        for (let e = row; e < row + h; e++) Y[yi + e] = -c[e] * (p * A[e] + v * R[e]);
      }
      if (AJ) {
        const zi = i * size;
        for (let e = 0; e < size; e++) {
          const jb = AJ[yi + e];
          Y[yi + e] += jb * s1[e];
          Y[e] += jb * Zd[zi + e] * s2[e];
        }
      }
    }
  },

  columnSum(src, rows, cols, out) {
    for (let b = 0; b < rows; b++) for (let w = 0; w < cols; w++) out[w] += src[b * cols + w];
  },
};

/** out[b, w] = Σ_j coef[b, j] Ż_j[b, w], direction by direction over contiguous rows. */
function contract(
  zd: Float64Array,
  coef: Float64Array,
  B: number,
  h: number,
  k: number,
  out: Float64Array,
): void {
  const size = B * h;
  out.fill(0);
  for (let j = 0; j < k; j++) {
    const zj = j * size;
    for (let b = 0; b < B; b++) {
      const s = coef[b * k + j];
      if (s === 0) continue;
      const row = b * h;
      for (let w = row; w < row + h; w++) out[w] += s * zd[zj + w];
    }
  }
}
