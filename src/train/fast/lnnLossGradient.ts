import { featureSlope, featureValue, type InputMap } from '../../model/inputMap.js';
import { solveSymmetric64 } from '../../nn/solve64.js';
import { SolveFlag } from '../../nn/solvePolicy.js';
import { expNonPositive } from '../../nn/wasmKernels.js';
import type { LossName } from '../options.js';
import { type Buf, type Gemm, transpose } from './gemm.js';

/** The network around the weights: what {@link lnnLossGradient} needs besides them. */
export interface LnnNet {
  /** Layer widths, input to output (the output is 1). */
  layers: readonly number[];
  /** Hidden activation: softplus or tanh (σ‴ is needed; relu has no curvature). */
  activation: 'softplus' | 'tanh';
  /** The model's input map (identity velocities). */
  map: InputMap;
  /** The network output is multiplied by this. */
  outputScale: number;
  /** Fixed diagonal shift of an indefinite H_vv (default: relative, solvePolicy.ts). */
  hvvEpsilon?: number;
}

/** The loss of a batch and its gradient against every raw weight. */
export interface LossGradient {
  /** Mean loss over the batch's q̈ entries. */
  loss: number;
  /** ∂loss/∂weight per variable, manifest order (kernel 0, bias 0, kernel 1, …), float32. */
  grads: Float32Array[];
  /** States whose solve failed (q̈ taken as 0, no gradient). */
  failed: number;
}

/**
 * The q̈ loss of a batch and its exact gradient against the raw weights of an `lnn` model, by hand:
 * no autodiff tape, a fixed sequence of GEMMs (run by `gemm`) and fused elementwise loops.
 *
 * Forward (as in `nn/lagrangianTerms.ts`): per hidden layer l the pre-activations z_l and their tangents
 * Ż_l along the k = n + 1 directions (e_{q̇_1}, …, e_{q̇_n}, u = (q̇, 0)), stacked as the rows of one GEMM;
 * the reverse sweep ḡ_l = ∂L/∂a_l, δ_l = ḡ_l ⊙ σ'(z_l); the Hessian block
 * H = Σ_l Ż_lᵀ diag(ḡ_l ⊙ σ''(z_l)) Ż_l and ∂L/∂q from ḡ_0; q̈ from the float64 solve of the
 * engines' policy.
 *
 * Backward: ē = ∂loss/∂q̈, r̄ = H_vv⁻¹ ē, H̄_vv = −sym(r̄ q̈ᵀ), H̄_vu = −r̄, ∂loss/∂(∂L/∂q) = r̄. With
 * S = H̄ + H̄ᵀ = −(ρ νᵀ + ν ρᵀ), ρ = (r̄, 0), ν = (q̈, 1) (rank 2), the Hessian sends
 * c̄_l = ½ Σ_ij S_ij Ż_i Ż_j = −(ρ·Ż_l)(ν·Ż_l) to the curvature weights c_l = ḡ_l σ''(z_l) and S Ż c to the
 * tangents: two contractions per layer serve both. Two sweeps then carry the adjoints through the three passes:
 * bottom-up through the reverse sweep (its adjoints ḡ̄_l run opposite to it, needing σ″ and σ‴ for
 * the z_l it read), and top-down through the tangent and primal forward passes. Per layer the weight
 * gradient is one GEMM, [a; J; ḡ̄]ᵀ · [z̄; Ż̄; δ], and the adjoints passed down are one more.
 *
 * Input and output scales are folded into the first and last kernels and unfolded in the gradient.
 * A state whose H_vv needs the diagonal shift is solved with it and differentiated with the shift held
 * fixed; a failed solve contributes q̈ = 0 and no gradient.
 *
 * @param weights raw weights, manifest order (kernel `[in, out]` row-major, then bias, per layer)
 * @param q `[batch * n]` @param qd `[batch * n]` @param target `[batch * n]` exact q̈
 */
export function lnnLossGradient(
  net: LnnNet,
  weights: readonly ArrayLike<number>[],
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  target: ArrayLike<number>,
  batch: number,
  loss: LossName,
  huberDelta: number,
  gemm: Gemm,
): LossGradient {
  const { layers, map } = net;
  const alloc = (size: number): Buf => (gemm.float64 ? new Float64Array(size) : new Float32Array(size));
  const n = map.dof;
  const k = n + 1;
  const B = batch;
  const m = layers.length - 1; // number of weight layers; hidden layers 1 … m−1
  const d = layers[0];
  const qWidth = map.qWidth;
  if (map.velocity !== 'identity') throw new Error('lnnLossGradient: only identity velocity inputs.');
  if (d !== map.width) throw new Error(`lnnLossGradient: input width ${d} ≠ input map width ${map.width}.`);

  // Folded weights (scales inside), in the working precision, and their transposes.
  const W: Buf[] = [];
  const Wt: Buf[] = [];
  const bias: Buf[] = [];
  for (let l = 0; l < m; l++) {
    const [hin, hout] = [layers[l], layers[l + 1]];
    const w = alloc(hin * hout);
    const src = weights[2 * l];
    const outS = l === m - 1 ? net.outputScale : 1;
    for (let r = 0; r < hin; r++) {
      const s = (l === 0 ? map.scale[r] : 1) * outS;
      for (let c = 0; c < hout; c++) w[r * hout + c] = src[r * hout + c] * s;
    }
    const b = alloc(hout);
    const bs = weights[2 * l + 1];
    for (let c = 0; c < hout; c++) b[c] = bs[c] * outS;
    W.push(w);
    Wt.push(transpose(w, hin, hout));
    bias.push(b);
  }

  // Layer-0 input stack X0 = [x (B rows); tangent rows, direction-major (k·B rows)] and the slopes.
  const slope = new Float64Array(B * qWidth);
  let X = alloc((1 + k) * B * d);
  for (let b = 0; b < B; b++) {
    for (let f = 0; f < qWidth; f++) {
      const qi = q[b * n + map.coord[f]];
      X[b * d + f] = featureValue(map, f, qi);
      const s = featureSlope(map, f, qi);
      slope[b * qWidth + f] = s;
      X[((1 + n) * B + b) * d + f] = s * qd[b * n + map.coord[f]];
    }
    for (let i = 0; i < n; i++) {
      X[b * d + qWidth + i] = qd[b * n + i];
      X[((1 + i) * B + b) * d + qWidth + i] = 1;
    }
  }

  // Forward: per hidden layer keep the input stack, Ż, σ', σ'', σ'''.
  const act = net.activation;
  const Xs: Buf[] = [];
  const Zd: Buf[] = []; // Ż_l, k·B rows
  const S1: Buf[] = [];
  const S2: Buf[] = [];
  const S3: Buf[] = [];
  for (let l = 0; l < m - 1; l++) {
    const hin = layers[l];
    const h = layers[l + 1];
    Xs.push(X);
    const Z = gemm.mm(X, (1 + k) * B, hin, W[l], h);
    const s1 = alloc(B * h);
    const s2 = alloc(B * h);
    const s3 = alloc(B * h);
    const next = alloc((1 + k) * B * h);
    activate(act, !gemm.float64, Z, bias[l], B, h, k, next, s1, s2, s3);
    const zd = Z.subarray(B * h);
    Zd.push(zd);
    S1.push(s1);
    S2.push(s2);
    S3.push(s3);
    X = next;
  }

  // Reverse sweep: ḡ_l (B rows; the top one is the output kernel), δ_l, c_l, the Hessian and ∂L/∂x.
  const top = m - 1; // index of the output layer
  const G: Buf[] = new Array(m); // G[l] = ḡ of hidden layer l (its a), l = 0 … m−2
  const D: Buf[] = new Array(m);
  const C: Buf[] = new Array(m);
  const H = new Float64Array(B * k * k);
  {
    const h = layers[top];
    const g = alloc(B * h);
    for (let b = 0; b < B; b++) for (let w = 0; w < h; w++) g[b * h + w] = W[top][w];
    G[top - 1] = g;
  }
  let gx: Buf = alloc(0);
  for (let l = top - 1; l >= 0; l--) {
    const h = layers[l + 1];
    const delta = alloc(B * h);
    const c = alloc(B * h);
    curvatureWeights(G[l], S1[l], S2[l], delta, c);
    D[l] = delta;
    C[l] = c;
    accumulateHessian(Zd[l], c, B, h, k, H);
    const below = gemm.mm(delta, B, h, Wt[l], layers[l]);
    if (l > 0) G[l - 1] = below;
    else gx = below;
  }

  // Per state: q̈ from the policy's solve, the loss, and the adjoints r̄ (→ S and ḡ̄_0).
  const hvv = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const qdd = new Float64Array(n);
  const rbar = new Float64Array(n);
  const ebar = new Float64Array(n);
  // S = H̄ + H̄ᵀ has rank 2: S = −(ρ νᵀ + ν ρᵀ), ρ = (r̄, 0), ν = (q̈, 1), per state.
  const rho = new Float64Array(B * k);
  const nu = new Float64Array(B * k);
  let gbarBelow: Buf = alloc(B * d); // ḡ̄_0
  let lossSum = 0;
  let failed = 0;
  const count = B * n;
  for (let b = 0; b < B; b++) {
    const hb = b * k * k;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) hvv[i * n + j] = H[hb + i * k + j];
      let gq = 0;
      for (let f = 0; f < qWidth; f++) if (map.coord[f] === i) gq += slope[b * qWidth + f] * gx[b * d + f];
      rhs[i] = gq - H[hb + i * k + n];
    }
    const flag = solveSymmetric64(hvv, 0, rhs, 0, qdd, 0, n, net.hvvEpsilon);
    for (let i = 0; i < n; i++) {
      const e = qdd[i] - target[b * n + i];
      if (loss === 'l2') {
        lossSum += e * e;
        ebar[i] = (2 * e) / count;
      } else if (loss === 'huber') {
        const a = Math.abs(e);
        lossSum += a <= huberDelta ? 0.5 * e * e : huberDelta * (a - 0.5 * huberDelta);
        ebar[i] = (a <= huberDelta ? e : huberDelta * Math.sign(e)) / count;
      } else {
        lossSum += Math.abs(e);
        ebar[i] = Math.sign(e) / count;
      }
    }
    if (flag === SolveFlag.failed) {
      failed++;
      continue;
    }
    // The same matrix (and shift) as the forward solve: the policy depends on H alone.
    solveSymmetric64(hvv, 0, ebar, 0, rbar, 0, n, net.hvvEpsilon);
    for (let i = 0; i < n; i++) {
      rho[b * k + i] = rbar[i];
      nu[b * k + i] = qdd[i];
    }
    nu[b * k + n] = 1;
    for (let f = 0; f < qWidth; f++) gbarBelow[b * d + f] = slope[b * qWidth + f] * rbar[map.coord[f]];
  }

  // Sweep 1, bottom-up: adjoints of the reverse sweep. ḡ̄_l = δ̄_l σ' + c̄_l σ'', and the z_l it read get
  // z̄_l = ḡ_l (δ̄_l σ'' + c̄_l σ''').
  const Gbar: Buf[] = new Array(m); // Gbar[l] = ḡ̄ of the layer-l input (ḡ̄_0 = ∂loss/∂(∂L/∂x))
  const Zbar: Buf[] = new Array(m);
  const RA: [Float64Array, Float64Array][] = new Array(m); // ρ·Ż_l and ν·Ż_l
  Gbar[0] = gbarBelow;
  for (let l = 0; l < m - 1; l++) {
    const hin = layers[l];
    const h = layers[l + 1];
    const dbar = gemm.mm(gbarBelow, B, hin, W[l], h);
    const gb = alloc(B * h);
    const zb = alloc(B * h);
    const R = contract(Zd[l], rho, B, h, k);
    const A = contract(Zd[l], nu, B, h, k);
    reverseSweepAdjoint(dbar, R, A, S1[l], S2[l], S3[l], G[l], gb, zb);
    RA[l] = [R, A];
    Zbar[l] = zb;
    Gbar[l + 1] = gb;
    gbarBelow = gb;
  }
  const grads: Float32Array[] = layers
    .slice(1)
    .flatMap((h, l) => [new Float32Array(layers[l] * h), new Float32Array(h)]);
  {
    // The output kernel is ḡ of the top hidden layer for every state.
    const h = layers[top];
    const gk = grads[2 * top];
    const gb = Gbar[top];
    for (let b = 0; b < B; b++) for (let w = 0; w < h; w++) gk[w] += gb[b * h + w];
  }

  // Sweep 2, top-down: the tangent and primal passes. Ż̄_l = c S Ż + J̄_l σ',
  // z̄_l += Σ_i J̄_l,i Ż_l,i σ'' + ā_l σ'; then W̄_l = [a; J; ḡ̄]ᵀ [z̄; Ż̄; δ] and [ā; J̄] below.
  let AJbar: Buf | null = null; // [ā; J̄] of the current layer's output, (1 + k)·B rows
  for (let l = m - 2; l >= 0; l--) {
    const hin = layers[l];
    const h = layers[l + 1];
    const Y = alloc((2 + k) * B * h); // [z̄; Ż̄; δ]
    tangentAdjoint(Zd[l], S1[l], S2[l], C[l], Zbar[l], AJbar, rho, nu, RA[l][0], RA[l][1], B, h, k, Y);
    Y.set(D[l], (1 + k) * B * h);
    // The input stack of this layer with ḡ̄ of its input appended.
    const Xl = Xs[l];
    const Xa = alloc((2 + k) * B * hin);
    Xa.set(Xl);
    Xa.set(Gbar[l], (1 + k) * B * hin);
    const gw = gemm.mmTN(Xa, (2 + k) * B, hin, Y, h);
    const gk = grads[2 * l];
    for (let e = 0; e < hin * h; e++) gk[e] = gw[e];
    const gbias = grads[2 * l + 1];
    for (let b = 0; b < B; b++) for (let w = 0; w < h; w++) gbias[w] += Y[b * h + w];
    AJbar = l > 0 ? gemm.mm(Y.subarray(0, (1 + k) * B * h), (1 + k) * B, h, Wt[l], hin) : null;
  }

  // Unfold the scales: raw = folded · scale.
  for (let r = 0; r < d; r++) {
    const s = map.scale[r];
    const gk = grads[0];
    for (let c = 0; c < layers[1]; c++) gk[r * layers[1] + c] *= s;
  }
  for (const g of [grads[2 * top], grads[2 * top + 1]])
    for (let e = 0; e < g.length; e++) g[e] *= net.outputScale;
  return { loss: lossSum / count, grads, failed };
}

/**
 * Pre-activations → a = σ(z + bias) and σ′, σ″, σ‴ (primal rows of Z); tangent rows of `next` = σ′ Ż.
 * `float32`: e^x and log(1 + t) to float32 accuracy (`expNonPositive`, `log1pUnit`) instead of Math.exp
 * and Math.log1p.
 */
function activate(
  act: 'softplus' | 'tanh',
  float32: boolean,
  Z: Buf,
  bias: Buf,
  B: number,
  h: number,
  k: number,
  next: Buf,
  s1: Buf,
  s2: Buf,
  s3: Buf,
): void {
  for (let b = 0; b < B; b++) {
    for (let w = 0; w < h; w++) {
      const e = b * h + w;
      const z = Z[e] + bias[w];
      if (act === 'softplus') {
        // softplus(z) = max(z, 0) + log1p(e^{−|z|}); σ′ = sigmoid.
        const t = float32 ? expNonPositive(-Math.abs(z)) : Math.exp(-Math.abs(z));
        const p = z >= 0 ? 1 / (1 + t) : t / (1 + t);
        const d2 = p * (1 - p);
        next[e] = Math.max(z, 0) + (float32 ? log1pUnit(t) : Math.log1p(t));
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
}

/** δ = ḡ σ′ and the curvature weights c = ḡ σ″. */
function curvatureWeights(g: Buf, s1: Buf, s2: Buf, delta: Buf, c: Buf): void {
  for (let e = 0; e < g.length; e++) {
    delta[e] = g[e] * s1[e];
    c[e] = g[e] * s2[e];
  }
}

/** H_b += Ż_bᵀ diag(c_b) Ż_b per state (k × k, float64). */
function accumulateHessian(zd: Buf, c: Buf, B: number, h: number, k: number, H: Float64Array): void {
  for (let b = 0; b < B; b++) {
    const hb = b * k * k;
    const cb = b * h;
    for (let i = 0; i < k; i++) {
      const ri = (i * B + b) * h;
      for (let j = i; j < k; j++) {
        const rj = (j * B + b) * h;
        let s = 0;
        for (let w = 0; w < h; w++) s += zd[ri + w] * c[cb + w] * zd[rj + w];
        H[hb + i * k + j] += s;
        if (j !== i) H[hb + j * k + i] += s;
      }
    }
  }
}

/** out[b, w] = Σ_j coef[b, j] Ż_j[b, w] (float64), direction by direction over contiguous rows. */
function contract(zd: Buf, coef: Float64Array, B: number, h: number, k: number): Float64Array {
  const size = B * h;
  const out = new Float64Array(size);
  for (let j = 0; j < k; j++) {
    const zj = j * size;
    for (let b = 0; b < B; b++) {
      const s = coef[b * k + j];
      if (s === 0) continue;
      const row = b * h;
      for (let w = row; w < row + h; w++) out[w] += s * zd[zj + w];
    }
  }
  return out;
}

/**
 * Adjoints of one layer of the reverse sweep: c̄ = ½ Σ_ij S_ij Ż_i Ż_j = −(ρ·Ż)(ν·Ż) (`R`, `A`),
 * ḡ̄ = δ̄ σ′ + c̄ σ″ (→ `gb`), z̄ = ḡ (δ̄ σ″ + c̄ σ‴) (→ `zb`).
 */
function reverseSweepAdjoint(
  dbar: Buf,
  R: Float64Array,
  A: Float64Array,
  s1: Buf,
  s2: Buf,
  s3: Buf,
  g: Buf,
  gb: Buf,
  zb: Buf,
): void {
  for (let e = 0; e < gb.length; e++) {
    const c = -R[e] * A[e];
    gb[e] = dbar[e] * s1[e] + c * s2[e];
    zb[e] = g[e] * (dbar[e] * s2[e] + c * s3[e]);
  }
}

/**
 * Adjoints of one layer of the tangent and primal passes into Y = [z̄; Ż̄; ·]:
 * Ż̄_i = c (S Ż)_i + J̄_i σ′ with (S Ż)_i = −(ρ_i (ν·Ż) + ν_i (ρ·Ż)), and
 * z̄ = z̄_reverse + ā σ′ + Σ_i J̄_i Ż_i σ″. `AJbar` = [ā; J̄] from the layer above (null at the top).
 */
function tangentAdjoint(
  zd: Buf,
  s1: Buf,
  s2: Buf,
  c: Buf,
  zb: Buf,
  AJbar: Buf | null,
  rho: Float64Array,
  nu: Float64Array,
  R: Float64Array,
  A: Float64Array,
  B: number,
  h: number,
  k: number,
  Y: Buf,
): void {
  const size = B * h;
  for (let e = 0; e < size; e++) Y[e] = AJbar ? zb[e] + AJbar[e] * s1[e] : zb[e];
  for (let i = 0; i < k; i++) {
    const yi = (1 + i) * size;
    for (let b = 0; b < B; b++) {
      const p = rho[b * k + i];
      const v = nu[b * k + i];
      const row = b * h;
      for (let e = row; e < row + h; e++) Y[yi + e] = -c[e] * (p * A[e] + v * R[e]);
    }
    if (AJbar) {
      const zi = i * size;
      for (let e = 0; e < size; e++) {
        const jb = AJbar[yi + e];
        Y[yi + e] += jb * s1[e];
        Y[e] += jb * zd[zi + e] * s2[e];
      }
    }
  }
}

/**
 * log(1 + t) for t in [0, 1] to float32 accuracy (relative error < 1e-9): 2·atanh(s), s = t / (2 + t) ≤ 1/3,
 * by its odd series to s¹⁷. About twice as fast as Math.log1p here.
 */
function log1pUnit(t: number): number {
  const s = t / (2 + t);
  const x = s * s;
  return (
    2 *
    s *
    (1 +
      x *
        (1 / 3 +
          x *
            (1 / 5 + x * (1 / 7 + x * (1 / 9 + x * (1 / 11 + x * (1 / 13 + x * (1 / 15 + x * (1 / 17)))))))))
  );
}
