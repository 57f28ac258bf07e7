import { featureSlope, featureValue, type InputMap } from '../../model/inputMap.js';
import { solveSymmetric64 } from '../../nn/solve64.js';
import { SolveFlag } from '../../nn/solvePolicy.js';
import type { LossName } from '../options.js';
import type { GradKernels } from './kernels.js';

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
 * no autodiff tape, a fixed sequence of GEMMs and fused elementwise kernels, both run by `ks`
 * ({@link GradKernels}: the float64 JS reference, or float32 wasm SIMD with TF.js GEMMs).
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
export function lnnLossGradient<T>(
  net: LnnNet,
  weights: readonly ArrayLike<number>[],
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  target: ArrayLike<number>,
  batch: number,
  loss: LossName,
  huberDelta: number,
  ks: GradKernels<T>,
): LossGradient {
  const { layers, map } = net;
  const n = map.dof;
  const k = n + 1;
  const B = batch;
  const m = layers.length - 1; // number of weight layers; hidden layers 1 … m−1
  const top = m - 1; // index of the output layer
  const d = layers[0];
  const qWidth = map.qWidth;
  if (map.velocity !== 'identity') throw new Error('lnnLossGradient: only identity velocity inputs.');
  if (d !== map.width) throw new Error(`lnnLossGradient: input width ${d} ≠ input map width ${map.width}.`);
  ks.begin();

  // Folded weights (scales inside), in the working precision, and their transposes.
  const W: T[] = [];
  const Wt: T[] = [];
  const bias: T[] = [];
  for (let l = 0; l < m; l++) {
    const [hin, hout] = [layers[l], layers[l + 1]];
    const src = weights[2 * l];
    const outS = l === top ? net.outputScale : 1;
    const w = ks.alloc(hin * hout);
    const wt = ks.alloc(hin * hout);
    const b = ks.alloc(hout);
    const wv = ks.view(w);
    const wtv = ks.view(wt);
    for (let r = 0; r < hin; r++) {
      const s = (l === 0 ? map.scale[r] : 1) * outS;
      for (let c = 0; c < hout; c++) {
        const v = src[r * hout + c] * s;
        wv[r * hout + c] = v;
        wtv[c * hin + r] = v;
      }
    }
    const bv = ks.view(b);
    const bs = weights[2 * l + 1];
    for (let c = 0; c < hout; c++) bv[c] = bs[c] * outS;
    W.push(w);
    Wt.push(wt);
    bias.push(b);
  }

  // Per hidden layer l the input stack Xs[l] = [a (B rows); tangents (k·B rows, direction-major); ḡ̄ of
  // the input (B rows, filled by sweep 1)]: the left operand of the layer's weight-gradient GEMM.
  const Xs: T[] = [];
  const slope = new Float64Array(B * qWidth);
  {
    const X = ks.alloc((2 + k) * B * d, true);
    const xv = ks.view(X);
    for (let b = 0; b < B; b++) {
      for (let f = 0; f < qWidth; f++) {
        const qi = q[b * n + map.coord[f]];
        xv[b * d + f] = featureValue(map, f, qi);
        const s = featureSlope(map, f, qi);
        slope[b * qWidth + f] = s;
        xv[((1 + n) * B + b) * d + f] = s * qd[b * n + map.coord[f]];
      }
      for (let i = 0; i < n; i++) {
        xv[b * d + qWidth + i] = qd[b * n + i];
        xv[((1 + i) * B + b) * d + qWidth + i] = 1;
      }
    }
    Xs.push(X);
  }

  // Forward: per hidden layer the pre-activations Z = [z; Ż] (one GEMM), σ′, σ″, σ‴ and the next stack.
  const act = net.activation;
  const Zd: T[] = []; // Ż_l, k·B rows
  const S1: T[] = [];
  const S2: T[] = [];
  const S3: T[] = [];
  for (let l = 0; l < top; l++) {
    const hin = layers[l];
    const h = layers[l + 1];
    const Z = ks.mm(ks.sub(Xs[l], 0, (1 + k) * B * hin), (1 + k) * B, hin, W[l], h);
    const s1 = ks.alloc(B * h);
    const s2 = ks.alloc(B * h);
    const s3 = ks.alloc(B * h);
    const next = ks.alloc((2 + k) * B * h);
    ks.activate(act, Z, bias[l], B, h, k, next, s1, s2, s3);
    Zd.push(ks.sub(Z, B * h, k * B * h));
    S1.push(s1);
    S2.push(s2);
    S3.push(s3);
    if (l + 1 < top) Xs.push(next);
  }

  // Reverse sweep: ḡ_l (B rows; the top one is the output kernel), δ_l, c_l, the Hessian and ∂L/∂x.
  // Y[l] = [z̄; Ż̄; δ] is the right operand of the weight-gradient GEMM; δ_l is written into it here.
  const G: T[] = new Array(m); // G[l] = ḡ of hidden layer l (its a), l = 0 … m−2
  const Y: T[] = new Array(m);
  const C: T[] = new Array(m);
  const H = ks.alloc64(B * k * k);
  {
    const h = layers[top];
    const g = ks.alloc(B * h);
    const gv = ks.view(g);
    const wv = ks.view(W[top]);
    for (let b = 0; b < B; b++) for (let w = 0; w < h; w++) gv[b * h + w] = wv[w];
    G[top - 1] = g;
  }
  let gx = G[0];
  for (let l = top - 1; l >= 0; l--) {
    const h = layers[l + 1];
    Y[l] = ks.alloc((2 + k) * B * h);
    const delta = ks.sub(Y[l], (1 + k) * B * h, B * h);
    C[l] = ks.alloc(B * h);
    ks.curvatureHessian(G[l], S1[l], S2[l], Zd[l], B, h, k, delta, C[l], H);
    const below = ks.mm(delta, B, h, Wt[l], layers[l]);
    if (l > 0) G[l - 1] = below;
    else gx = below;
  }

  // Per state: q̈ from the policy's solve, the loss, and the adjoints r̄ (→ S and ḡ̄_0).
  // S = H̄ + H̄ᵀ has rank 2: S = −(ρ νᵀ + ν ρᵀ), ρ = (r̄, 0), ν = (q̈, 1), per state.
  const rho = ks.alloc(B * k, true);
  const nu = ks.alloc(B * k, true);
  let lossSum = 0;
  let failed = 0;
  {
    const Hv = ks.view64(H);
    const gxv = ks.view(gx);
    const rhov = ks.view(rho);
    const nuv = ks.view(nu);
    const gbar0 = ks.view(ks.sub(Xs[0], (1 + k) * B * d, B * d)); // ḡ̄_0 = ∂loss/∂(∂L/∂x)
    const hvv = new Float64Array(n * n);
    const rhs = new Float64Array(n);
    const qdd = new Float64Array(n);
    const rbar = new Float64Array(n);
    const ebar = new Float64Array(n);
    const count = B * n;
    for (let b = 0; b < B; b++) {
      const hb = b * k * k;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) hvv[i * n + j] = Hv[hb + i * k + j];
        let gq = 0;
        for (let f = 0; f < qWidth; f++) if (map.coord[f] === i) gq += slope[b * qWidth + f] * gxv[b * d + f];
        rhs[i] = gq - Hv[hb + i * k + n];
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
        rhov[b * k + i] = rbar[i];
        nuv[b * k + i] = qdd[i];
      }
      nuv[b * k + n] = 1;
      for (let f = 0; f < qWidth; f++) gbar0[b * d + f] = slope[b * qWidth + f] * rbar[map.coord[f]];
    }
    lossSum /= count;
  }

  // Sweep 1, bottom-up: adjoints of the reverse sweep. ḡ̄_l = δ̄_l σ′ + c̄_l σ″, and the z_l it read get
  // z̄_l = ḡ_l (δ̄_l σ″ + c̄_l σ‴).
  const Zbar: T[] = new Array(m);
  const R: T[] = new Array(m); // ρ·Ż_l
  const A: T[] = new Array(m); // ν·Ż_l
  let gbarTop = G[0];
  for (let l = 0; l < top; l++) {
    const hin = layers[l];
    const h = layers[l + 1];
    const dbar = ks.mm(ks.sub(Xs[l], (1 + k) * B * hin, B * hin), B, hin, W[l], h);
    const gb = l + 1 < top ? ks.sub(Xs[l + 1], (1 + k) * B * h, B * h) : ks.alloc(B * h);
    Zbar[l] = ks.alloc(B * h);
    R[l] = ks.alloc(B * h);
    A[l] = ks.alloc(B * h);
    ks.reverseAdjoint(dbar, Zd[l], rho, nu, S1[l], S2[l], S3[l], G[l], B, h, k, R[l], A[l], gb, Zbar[l]);
    gbarTop = gb;
  }
  const grads: Float32Array[] = layers
    .slice(1)
    .flatMap((h, l) => [new Float32Array(layers[l] * h), new Float32Array(h)]);
  {
    // The output kernel is ḡ of the top hidden layer for every state.
    const gk = ks.alloc(layers[top], true);
    ks.columnSum(gbarTop, B, layers[top], gk);
    grads[2 * top].set(ks.view(gk));
  }

  // Sweep 2, top-down: the tangent and primal passes. Ż̄_l = c S Ż + J̄_l σ′,
  // z̄_l += Σ_i J̄_l,i Ż_l,i σ″ + ā_l σ′; then W̄_l = [a; J; ḡ̄]ᵀ [z̄; Ż̄; δ] and [ā; J̄] below.
  let AJ: T | null = null; // [ā; J̄] of the current layer's output, (1 + k)·B rows
  for (let l = top - 1; l >= 0; l--) {
    const hin = layers[l];
    const h = layers[l + 1];
    ks.tangentAdjoint(Zd[l], S1[l], S2[l], C[l], Zbar[l], AJ, rho, nu, R[l], A[l], B, h, k, Y[l]);
    const gw = ks.mmTN(Xs[l], (2 + k) * B, hin, Y[l], h);
    const gb = ks.alloc(h, true);
    ks.columnSum(Y[l], B, h, gb);
    grads[2 * l].set(ks.view(gw));
    grads[2 * l + 1].set(ks.view(gb));
    AJ = l > 0 ? ks.mm(ks.sub(Y[l], 0, (1 + k) * B * h), (1 + k) * B, h, Wt[l], hin) : null;
  }

  // Unfold the scales: raw = folded · scale.
  for (let r = 0; r < d; r++) {
    const s = map.scale[r];
    const gk = grads[0];
    for (let c = 0; c < layers[1]; c++) gk[r * layers[1] + c] *= s;
  }
  for (const g of [grads[2 * top], grads[2 * top + 1]])
    for (let e = 0; e < g.length; e++) g[e] *= net.outputScale;
  return { loss: lossSum, grads, failed };
}
