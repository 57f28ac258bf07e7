/**
 * A fused plain-JS LNN q̈ for small batches (one to a few dozen states): the whole evaluation — network
 * input (wrapped angles, or cos/sin of them under `input.angleEmbedding: "sincos"`) and scaling, forward pass with tangents, reverse adjoints, Hessian at the nonlinearities and
 * the n×n solve — in preallocated typed arrays, with no TF.js and no allocation per call. The stored
 * float32 weights are widened to float64 before the input and output scales are folded in, and every sum
 * is float64, so results equal the float64 reference (`model/reference.ts`) up to summation order; float64
 * weights cost no speed here against float32 ones (both fit in cache for the small networks this route is
 * for). The float64 reference itself stays the literal, unoptimised transcription of the format.
 */
import type { AccelerationFn } from '../core/types.js';
import { foldModelWeights } from '../model/foldWeights.js';
import { applyVelocityMap, featureSlope, fillInput, inputMapOf, wrapAngle } from '../model/inputMap.js';
import type { Activation, LoadedModel } from '../model/metadata.js';
import { solveSymmetric64 } from './solve64.js';
import { SolveFlag } from './solvePolicy.js';

/** A prepared fused evaluator of one `lnn` model (see {@link createFusedLnn}). */
export interface FusedLnn {
  /** Degrees of freedom n. */
  readonly dof: number;
  /** Layer widths including input and output, e.g. `[4, 128, 128, 1]`. */
  readonly layers: readonly number[];
  /**
   * Batched q̈ (an {@link AccelerationFn}): reads `q`, `qd` `[batch * n]`, writes `qdd` `[batch * n]`.
   * Per-state solve outcomes go to {@link FusedLnn.flags}.
   */
  readonly accelerations: AccelerationFn;
  /**
   * q̈ under a generalized force in the model's units (α·Q, see `massScale`) `[batch * n]` added to the
   * right-hand side before the solve; `force` null is {@link FusedLnn.accelerations} exactly.
   */
  readonly forced: (
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    force: Float64Array | null,
  ) => void;
  /**
   * SolveFlag of each state of the last call `[capacity]` (0 ok, 1 H_vv regularised, 2 failed, q̈ = 0);
   * grown on demand, so read it right after a call.
   */
  readonly flags: Uint8Array;
  /** Flagged states (flag ≥ 1) of the last call. */
  readonly lastBad: number;
}

/** Options of {@link createFusedLnn}. */
export interface FusedLnnOptions {
  /**
   * Diagonal shift ε for a non-positive-definite H_vv.
   * @default the model's solver.hvvEpsilon, else relative (DEFAULT_EPSILON_RELATIVE · mean |diag H_vv|, nn/solvePolicy.ts)
   */
  epsilon?: number;
}

/** Rows updated together in one pass over a weight row (z plus up to three tangents). */
const GROUP = 4;

/**
 * Prepare a fused evaluator for an `lnn` model: folds the input scales into the first kernel and the
 * output scale into the last layer, and allocates every scratch buffer once.
 * @throws Error for a model that is not `lnn` or uses an unknown activation
 * @example
 * const f = createFusedLnn(model);
 * new RungeKutta4().step(f.accelerations, q, qd, 2, batch, 1 / 120);
 */
export function createFusedLnn(model: LoadedModel, options: FusedLnnOptions = {}): FusedLnn {
  const meta = model.metadata;
  if (meta.kind !== 'lnn') {
    throw new Error(
      `createFusedLnn: model ${model.source} is '${meta.kind}'; the fused path evaluates lnn models only (use the LNN/LGN/baseline engines for the others).`,
    );
  }
  const act: Activation = meta.architecture.activation;
  if (act !== 'softplus' && act !== 'tanh') {
    throw new Error(
      `createFusedLnn: activation '${act}' has a zero second derivative; an lnn needs softplus or tanh.`,
    );
  }
  if (meta.architecture.layers.length < 3) {
    throw new Error(
      `createFusedLnn: model ${model.source} has no hidden layer; its Lagrangian is linear and H_vv is zero.`,
    );
  }
  const map = inputMapOf(meta);
  const epsilon = options.epsilon ?? meta.solver?.hvvEpsilon;
  const n = meta.dof;
  const k = n + 1; // tangent directions: e_{q̇_1} … e_{q̇_n} and u = (q̇, 0)
  const widths = meta.architecture.layers;
  const depth = widths.length - 1; // dense layers
  const hiddenCount = depth - 1;
  const angles = meta.angles;
  // The identity layout x = (wrap(q), q̇) keeps its own, shorter loops (the common case); the other maps
  // (sincos angles, atanh(q̇) velocities) go through the input-map description, chosen once per state.
  const rapidity = map.velocity === 'rapidity';
  const identity = map.identity && !rapidity;
  const qWidth = map.qWidth;

  // Folded float64 weights.
  const { kernels: W, biases: bias } = foldModelWeights(model);

  // Scratch, per hidden layer l: z, σ', σ''-weight, activations, tangents T_l (pre-activation, k rows)
  // and their post-activation copies P_l = σ'(z_l) ⊙ T_l.
  const hidden = widths.slice(1, depth);
  const z = hidden.map((w) => new Float64Array(w));
  const a = hidden.map((w) => new Float64Array(w));
  const d1 = hidden.map((w) => new Float64Array(w));
  const d2 = hidden.map((w) => new Float64Array(w));
  const T = hidden.map((w) => Array.from({ length: k }, () => new Float64Array(w)));
  const P = hidden.map((w) => Array.from({ length: k }, () => new Float64Array(w)));
  const gbar = hidden.map((w) => new Float64Array(w));
  const maxWidth = Math.max(1, ...hidden);
  const sink = new Float64Array(maxWidth); // target of unused rows in a group
  const zeroRow = new Float64Array(maxWidth);
  const H = new Float64Array(k * k);
  const hvv = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const gq = new Float64Array(n);
  /** ∂L/∂φ and H_φu against the velocity inputs φ = atanh(q̇) (`rapidity` only). */
  const gphi = new Float64Array(n);
  const hu = new Float64Array(n);
  const x = new Float64Array(map.width);
  /** Per q input: slope ⊙ q̇ of its coordinate, the input-space tangent along u (non-identity maps). */
  const ux = new Float64Array(qWidth);
  /** Per q input: d feature / d q (non-identity maps). */
  const slope = new Float64Array(qWidth);
  // Rows of each hidden GEMM, padded to a multiple of GROUP: sources a_{l−1} and the k post-activation
  // tangents of layer l−1; targets z_l and the k tangents of layer l.
  const sources: Float64Array[][] = [];
  const targets: Float64Array[][] = [];
  for (let l = 1; l < hiddenCount; l++) {
    const src = [a[l - 1], ...P[l - 1]];
    const dst = [z[l], ...T[l]];
    while (src.length % GROUP !== 0) {
      src.push(zeroRow);
      dst.push(sink);
    }
    sources[l] = src;
    targets[l] = dst;
  }

  const state = {
    dof: n,
    layers: widths,
    flags: new Uint8Array(0),
    lastBad: 0,
    accelerations: ((q, qd, qdd, batch) => run(q, qd, qdd, batch, null)) as AccelerationFn,
    forced: (
      q: Float64Array,
      qd: Float64Array,
      qdd: Float64Array,
      batch: number,
      force: Float64Array | null,
    ) => run(q, qd, qdd, batch, force),
  };

  function run(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    force: Float64Array | null,
  ): void {
    if (state.flags.length < batch) state.flags = new Uint8Array(batch);
    let bad = 0;
    for (let b = 0; b < batch; b++) {
      const f = one(q, qd, b * n, qdd, force);
      state.flags[b] = f;
      if (f !== SolveFlag.ok) bad++;
    }
    state.lastBad = bad;
  }

  /**
   * σ, σ', σ'' of layer l in place from z[l]. Reference definition: `activate` in model/reference.ts
   * (inlined here for the hot loop; test/js-lnn.test.ts pins the q̈ of both equal).
   */
  function activate(l: number): void {
    const zl = z[l];
    const al = a[l];
    const s1 = d1[l];
    const s2 = d2[l];
    const w = zl.length;
    if (act === 'softplus') {
      for (let j = 0; j < w; j++) {
        const v = zl[j];
        const e = Math.exp(-Math.abs(v));
        // softplus(v) = max(v, 0) + log1p(e^{−|v|}); sigmoid without overflow.
        al[j] = Math.max(v, 0) + Math.log1p(e);
        const s = v >= 0 ? 1 / (1 + e) : e / (1 + e);
        s1[j] = s;
        s2[j] = s * (1 - s);
      }
    } else {
      for (let j = 0; j < w; j++) {
        const t = Math.tanh(zl[j]);
        al[j] = t;
        s1[j] = 1 - t * t;
        s2[j] = -2 * t * (1 - t * t);
      }
    }
    const Pl = P[l];
    const Tl = T[l];
    for (let r = 0; r < k; r++) {
      const p = Pl[r];
      const t = Tl[r];
      for (let j = 0; j < w; j++) p[j] = s1[j] * t[j];
    }
  }

  /** y_g += Σ_i c_g[i] · W[i, :] for up to four rows at once (one read of each weight). */
  function gemmGroup(
    Wl: Float64Array,
    nIn: number,
    nOut: number,
    c0: Float64Array,
    c1: Float64Array,
    c2: Float64Array,
    c3: Float64Array,
    y0: Float64Array,
    y1: Float64Array,
    y2: Float64Array,
    y3: Float64Array,
  ): void {
    for (let i = 0; i < nIn; i++) {
      const v0 = c0[i];
      const v1 = c1[i];
      const v2 = c2[i];
      const v3 = c3[i];
      const row = i * nOut;
      for (let j = 0; j < nOut; j++) {
        const w = Wl[row + j];
        y0[j] += v0 * w;
        y1[j] += v1 * w;
        y2[j] += v2 * w;
        y3[j] += v3 * w;
      }
    }
  }

  /**
   * Layer 0 for a non-identity input map: z = x W0 + b0 with x the features; tangent along e_{q̇_i} is
   * row qWidth+i of W0, along u it is (slope ⊙ q̇) · W0[0:qWidth].
   */
  function embeddedLayer0(q: Float64Array, qd: Float64Array, o: number): void {
    fillInput(map, q, o, qd, o, x, 0, false);
    for (let kk = 0; kk < qWidth; kk++) {
      const c = map.coord[kk];
      slope[kk] = featureSlope(map, kk, q[o + c]);
      ux[kk] = slope[kk] * qd[o + c];
    }
    const W0 = W[0];
    const w0 = widths[1];
    const z0 = z[0];
    const T0 = T[0];
    const b0 = bias[0];
    const m = map.width;
    for (let j = 0; j < w0; j++) {
      let s = b0[j];
      let u = 0;
      for (let kk = 0; kk < m; kk++) s += x[kk] * W0[kk * w0 + j];
      for (let kk = 0; kk < qWidth; kk++) u += ux[kk] * W0[kk * w0 + j];
      z0[j] = s;
      for (let i = 0; i < n; i++) T0[i][j] = W0[(qWidth + i) * w0 + j];
      T0[n][j] = u;
    }
    activate(0);
  }

  /** q̈ of the state at offset `o` (with α·Q `force` added to the right-hand side); returns its SolveFlag. */
  function one(
    q: Float64Array,
    qd: Float64Array,
    o: number,
    qdd: Float64Array,
    force: Float64Array | null,
  ): number {
    if (!identity) {
      embeddedLayer0(q, qd, o);
    } else {
      // Layer 0: z = x W0 + b0; tangent along e_{q̇_i} is row n+i of W0, along u it is q̇ · W0[0:n].
      for (let i = 0; i < n; i++) {
        const qi = q[o + i];
        x[i] = angles[i] ? wrapAngle(qi) : qi;
        x[n + i] = qd[o + i];
      }
      const W0 = W[0];
      const w0 = widths[1];
      const z0 = z[0];
      const T0 = T[0];
      const b0 = bias[0];
      for (let j = 0; j < w0; j++) {
        let s = b0[j];
        let u = 0;
        for (let i = 0; i < n; i++) {
          s += x[i] * W0[i * w0 + j] + x[n + i] * W0[(n + i) * w0 + j];
          u += x[n + i] * W0[i * w0 + j];
        }
        z0[j] = s;
        for (let i = 0; i < n; i++) T0[i][j] = W0[(n + i) * w0 + j];
        T0[n][j] = u;
      }
      activate(0);
    }
    // Hidden layers 1 … hiddenCount−1: z and the k tangent rows in groups of four rows.
    for (let l = 1; l < hiddenCount; l++) {
      const Wl = W[l];
      const nIn = widths[l];
      const nOut = widths[l + 1];
      const zl = z[l];
      const bl = bias[l];
      for (let j = 0; j < nOut; j++) zl[j] = bl[j];
      for (let r = 0; r < k; r++) T[l][r].fill(0);
      const src = sources[l];
      const dst = targets[l];
      for (let g = 0; g < src.length; g += GROUP) {
        gemmGroup(
          Wl,
          nIn,
          nOut,
          src[g],
          src[g + 1],
          src[g + 2],
          src[g + 3],
          dst[g],
          dst[g + 1],
          dst[g + 2],
          dst[g + 3],
        );
      }
      activate(l);
    }
    // Reverse sweep: ḡ of the last hidden layer is the output kernel.
    const last = hiddenCount - 1;
    const Wout = W[depth - 1];
    for (let j = 0; j < widths[depth - 1]; j++) gbar[last][j] = Wout[j];
    H.fill(0);
    for (let l = last; l >= 0; l--) {
      const w = widths[l + 1];
      const g = gbar[l];
      const s1 = d1[l];
      const s2 = d2[l];
      const Tl = T[l];
      // Curvature: H[r][s] += Σ_j ḡ_j σ''_j T[r][j] T[s][j] for the n velocity rows r and every s.
      for (let j = 0; j < w; j++) {
        const c = g[j] * s2[j];
        for (let r = 0; r < n; r++) {
          const cr = c * Tl[r][j];
          for (let s = r; s < k; s++) H[r * k + s] += cr * Tl[s][j];
        }
      }
      // δ_l = ḡ_l ⊙ σ'(z_l) replaces ḡ_l; then ḡ_{l−1} = W_l δ_l (rows of W_l are contiguous).
      for (let j = 0; j < w; j++) g[j] *= s1[j];
      if (l > 0) {
        const Wl = W[l];
        const nIn = widths[l];
        const gPrev = gbar[l - 1];
        for (let i = 0; i < nIn; i++) {
          let s = 0;
          const row = i * w;
          for (let j = 0; j < w; j++) s += Wl[row + j] * g[j];
          gPrev[i] = s;
        }
      } else if (identity) {
        const W0 = W[0];
        for (let i = 0; i < n; i++) {
          let s = 0;
          const row = i * w;
          for (let j = 0; j < w; j++) s += W0[row + j] * g[j];
          gq[i] = s;
        }
      } else {
        // ∂L/∂q_i = Σ over the q inputs of coordinate i of slope · ∂L/∂x.
        const W0 = W[0];
        gq.fill(0);
        for (let kk = 0; kk < qWidth; kk++) {
          let s = 0;
          const row = kk * w;
          for (let j = 0; j < w; j++) s += W0[row + j] * g[j];
          gq[map.coord[kk]] += slope[kk] * s;
        }
        if (rapidity) {
          for (let i = 0; i < n; i++) {
            let s = 0;
            const row = (qWidth + i) * w;
            for (let j = 0; j < w; j++) s += W0[row + j] * g[j];
            gphi[i] = s;
          }
        }
      }
    }
    if (rapidity) {
      // Derivatives against φ = atanh(q̇) → against q̇ (H_vv = D H_φφ D + diag(φ'' ∂L/∂φ), H_vq q̇ = D H_φu).
      for (let r = 0; r < n; r++) {
        for (let s = 0; s < n; s++) hvv[r * n + s] = r <= s ? H[r * k + s] : H[s * k + r];
        hu[r] = H[r * k + n];
      }
      applyVelocityMap(map, qd, o, hvv, hu, gphi);
      for (let r = 0; r < n; r++) rhs[r] = force === null ? gq[r] - hu[r] : gq[r] - hu[r] + force[o + r];
      return solveSymmetric64(hvv, 0, rhs, 0, qdd, o, n, epsilon);
    }
    for (let r = 0; r < n; r++) {
      for (let s = 0; s < n; s++) hvv[r * n + s] = r <= s ? H[r * k + s] : H[s * k + r];
      // rhs = ∂L/∂q − H_vq q̇; column n holds the second derivative along u = (q̇, 0), i.e. H_vq q̇.
      rhs[r] = force === null ? gq[r] - H[r * k + n] : gq[r] - H[r * k + n] + force[o + r];
    }
    return solveSymmetric64(hvv, 0, rhs, 0, qdd, o, n, epsilon);
  }

  return state;
}
