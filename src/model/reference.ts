/**
 * A float64 reference evaluator of three-lnn models in plain JS, written to mirror docs/model-format.md
 * line by line (explicit input scaling, full input Hessian, no folding or batching tricks; the input map,
 * wrap or sin/cos of angles, q̇ or atanh(q̇), from src/model/inputMap.ts). It is the
 * independent check of the tensor code, and a fast path for a handful of states (no TF.js overhead).
 */

import { type GraphEdges, gridEdges, solveGraph64 } from '../linalg/graphSolve.js';
import { SolveFlag, type SolveFlagValue, solveSymmetric64, solveTridiagonal64 } from '../nn/solve64.js';
import { StateGuard } from '../nn/stateGuard.js';
import {
  featureSlope,
  fillInput,
  inputMapOf,
  velocityCurvature,
  velocitySlope,
  wrapAngle,
} from './inputMap.js';
import { type Activation, type GridSize, type LoadedModel, lgnGrid } from './metadata.js';

export { wrapAngle };

/** σ, σ', σ'' of an activation at z. */
function activate(act: Activation, z: number, out: Float64Array): void {
  if (act === 'softplus') {
    // log(1 + e^z) computed without overflow.
    out[0] = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    const s = 1 / (1 + Math.exp(-z));
    out[1] = s;
    out[2] = s * (1 - s);
  } else if (act === 'tanh') {
    const t = Math.tanh(z);
    out[0] = t;
    out[1] = 1 - t * t;
    out[2] = -2 * t * (1 - t * t);
  } else {
    out[0] = Math.max(z, 0);
    out[1] = z > 0 ? 1 : 0;
    out[2] = 0;
  }
}

/** Value, input gradient and full input Hessian of a scalar-output MLP. */
interface Jet {
  y: number;
  /** `[m]` */
  grad: Float64Array;
  /** `[m * m]` row-major */
  hess: Float64Array;
}

/** Float64 copies of a model's weights and scratch space, cached per model. */
interface Prepared {
  kernels: Float64Array[];
  biases: Float64Array[];
  widths: number[];
  act: Activation;
  // scratch
  z: Float64Array[];
  a: Float64Array[];
  d1: Float64Array[];
  d2: Float64Array[];
  /** J_l = ∂z_l/∂x, `[width_l * m]`. */
  J: Float64Array[];
  gbar: Float64Array[];
  jet: Jet;
  sig: Float64Array;
}

const cache = new WeakMap<LoadedModel, Prepared>();

function prepare(model: LoadedModel): Prepared {
  let p = cache.get(model);
  if (p) return p;
  const widths = model.metadata.architecture.layers;
  const m = widths[0];
  const hidden = widths.slice(1);
  p = {
    kernels: model.layers.map((l) => Float64Array.from(l.kernel)),
    biases: model.layers.map((l) => Float64Array.from(l.bias)),
    widths,
    act: model.metadata.architecture.activation,
    z: hidden.map((w) => new Float64Array(w)),
    a: hidden.map((w) => new Float64Array(w)),
    d1: hidden.map((w) => new Float64Array(w)),
    d2: hidden.map((w) => new Float64Array(w)),
    J: hidden.map((w) => new Float64Array(w * m)),
    gbar: hidden.map((w) => new Float64Array(w)),
    jet: { y: 0, grad: new Float64Array(m), hess: new Float64Array(m * m) },
    sig: new Float64Array(3),
  };
  cache.set(model, p);
  return p;
}

/** Plain forward pass: all outputs y(x) `[outputs]`. */
function forward(p: Prepared, x: ArrayLike<number>, out: Float64Array): void {
  const L = p.kernels.length;
  let input: ArrayLike<number> = x;
  for (let l = 0; l < L; l++) {
    const W = p.kernels[l];
    const nIn = p.widths[l];
    const nOut = p.widths[l + 1];
    const z = l === L - 1 ? out : p.z[l];
    for (let j = 0; j < nOut; j++) {
      let s = p.biases[l][j];
      for (let i = 0; i < nIn; i++) s += input[i] * W[i * nOut + j];
      z[j] = s;
    }
    if (l < L - 1) {
      for (let j = 0; j < nOut; j++) {
        activate(p.act, z[j], p.sig);
        p.a[l][j] = p.sig[0];
      }
      input = p.a[l];
    }
  }
}

/**
 * y, ∇_x y and ∇²_x y of a scalar MLP: tangents J_l = ∂z_l/∂x forward, adjoints ḡ_l = ∂y/∂a_l backward,
 * ∇²y = Σ_l J_lᵀ diag(ḡ_l ⊙ σ''(z_l)) J_l.
 */
function jet(p: Prepared, x: ArrayLike<number>): Jet {
  const L = p.kernels.length;
  const m = p.widths[0];
  const { jet: out } = p;
  // Forward with tangents.
  for (let l = 0; l < L - 1; l++) {
    const W = p.kernels[l];
    const nIn = p.widths[l];
    const nOut = p.widths[l + 1];
    const z = p.z[l];
    const J = p.J[l];
    J.fill(0);
    for (let j = 0; j < nOut; j++) {
      let s = p.biases[l][j];
      if (l === 0) {
        for (let i = 0; i < nIn; i++) {
          s += x[i] * W[i * nOut + j];
          J[j * m + i] = W[i * nOut + j];
        }
      } else {
        const aPrev = p.a[l - 1];
        const d1Prev = p.d1[l - 1];
        const Jprev = p.J[l - 1];
        for (let i = 0; i < nIn; i++) {
          const w = W[i * nOut + j];
          s += aPrev[i] * w;
          const wd = w * d1Prev[i];
          for (let c = 0; c < m; c++) J[j * m + c] += wd * Jprev[i * m + c];
        }
      }
      z[j] = s;
      activate(p.act, s, p.sig);
      p.a[l][j] = p.sig[0];
      p.d1[l][j] = p.sig[1];
      p.d2[l][j] = p.sig[2];
    }
  }
  // Output layer (linear, one output).
  const Wout = p.kernels[L - 1];
  const last = p.widths[L - 1];
  let y = p.biases[L - 1][0];
  const aLast: ArrayLike<number> = L >= 2 ? p.a[L - 2] : x;
  for (let i = 0; i < last; i++) y += aLast[i] * Wout[i];
  out.y = y;
  out.grad.fill(0);
  out.hess.fill(0);
  if (L === 1) {
    for (let i = 0; i < m; i++) out.grad[i] = Wout[i];
    return out;
  }
  // Reverse: ḡ_{L-2} = w_out; ḡ_{l-1} = W_l (ḡ_l ⊙ σ'(z_l)).
  for (let i = 0; i < last; i++) p.gbar[L - 2][i] = Wout[i];
  for (let l = L - 2; l >= 1; l--) {
    const W = p.kernels[l];
    const nIn = p.widths[l];
    const nOut = p.widths[l + 1];
    const g = p.gbar[l - 1];
    for (let i = 0; i < nIn; i++) {
      let s = 0;
      for (let j = 0; j < nOut; j++) s += W[i * nOut + j] * p.gbar[l][j] * p.d1[l][j];
      g[i] = s;
    }
  }
  // Gradient: ∇_x y = J_0ᵀ (ḡ_0 ⊙ σ'(z_0)).
  const w0 = p.widths[1];
  for (let j = 0; j < w0; j++) {
    const c = p.gbar[0][j] * p.d1[0][j];
    for (let i = 0; i < m; i++) out.grad[i] += c * p.J[0][j * m + i];
  }
  // Hessian at the nonlinearities.
  for (let l = 0; l < L - 1; l++) {
    const w = p.widths[l + 1];
    const J = p.J[l];
    for (let j = 0; j < w; j++) {
      const c = p.gbar[l][j] * p.d2[l][j];
      if (c === 0) continue;
      for (let a = 0; a < m; a++) {
        const ca = c * J[j * m + a];
        for (let b = 0; b < m; b++) out.hess[a * m + b] += ca * J[j * m + b];
      }
    }
  }
  return out;
}

/** Lagrangian terms of one state, float64. */
export interface ReferenceTerms {
  /** L(q, q̇). */
  L: number;
  /** ∂L/∂q `[n]`. */
  gq: Float64Array;
  /** ∂L/∂q̇ `[n]`. */
  gv: Float64Array;
  /** H_vv = ∂²L/∂q̇∂q̇ᵀ `[n * n]` row-major. */
  hvv: Float64Array;
  /** H_vq = ∂²L/∂q̇∂qᵀ `[n * n]` row-major (H_vq[i*n+j] = ∂²L/∂q̇_i∂q_j). */
  hvq: Float64Array;
}

function requireLagrangian(model: LoadedModel, what: string): void {
  if (model.metadata.kind === 'baseline') {
    throw new Error(
      `${what}: model ${model.source} is a baseline (it predicts q̈ directly and has no Lagrangian); use an lnn or lgn model.`,
    );
  }
}

/** Largest n of the dense {@link referenceTerms} of a grid lgn (its H_vv, H_vq are n×n). */
export const MAX_DENSE_GRAPH_NODES = 1024;

/**
 * The edges a grid lgn model sums over for `n` nodes: `grid` when given; else the training grid when it
 * has n nodes, otherwise one row of n nodes (an n × 1 strip, as docs/model-format.md states); null for a
 * path model (whose edges the code below walks directly).
 */
function graphEdgesOf(
  model: LoadedModel,
  n: number,
  grid: GridSize | undefined,
  what: string,
): GraphEdges | null {
  const trained = lgnGrid(model.metadata);
  if (trained === null) return null;
  const size = grid ?? (trained.nx * trained.ny === n ? trained : { nx: n, ny: 1 });
  if (size.nx * size.ny !== n) {
    throw new Error(
      `${what}: the states have ${n} nodes but the grid is ${size.nx}×${size.ny}; pass the run grid { nx, ny } with nx · ny = ${n}.`,
    );
  }
  return gridEdges(size.nx, size.ny);
}

/** Sparse Euler–Lagrange terms of a grid lgn for one state (see {@link referenceGridTerms}). */
export interface GraphTerms {
  L: number;
  /** ∂L/∂q̇ `[n]`. */
  gv: Float64Array;
  /** H_vv diagonal `[n]`. */
  diag: Float64Array;
  /** H_vv coupling of each edge `[edges]` (0 for edges to the boundary). */
  off: Float64Array;
  /** ∂L/∂q − H_vq q̇ `[n]`. */
  rhs: Float64Array;
  /** ∂L/∂q `[n]`. */
  gq: Float64Array;
  /** H_vq of each edge end `[edges * 4]`: (∂²L/∂q̇_a∂q_a, ∂²L/∂q̇_a∂q_b, ∂²L/∂q̇_b∂q_a, ∂²L/∂q̇_b∂q_b). */
  hvq: Float64Array;
}

/**
 * L = Σ_e ℓ(q_a, q_b, q̇_a, q̇_b) over the edges e = (a, b) of `g` (a node −1 is the fixed boundary: input
 * 0), with each edge's exact 4×4 input derivatives added into the sparse H_vv (diagonal, one coupling per
 * edge) and the right-hand side. O(edges).
 */
function graphTerms(
  model: LoadedModel,
  g: GraphEdges,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  o: number,
): GraphTerms {
  const meta = model.metadata;
  const n = g.nodes;
  const edges = g.a.length;
  const t: GraphTerms = {
    L: 0,
    gv: new Float64Array(n),
    diag: new Float64Array(n),
    off: new Float64Array(edges),
    rhs: new Float64Array(n),
    gq: new Float64Array(n),
    hvq: new Float64Array(edges * 4),
  };
  const p = prepare(model);
  const s = meta.output.scale;
  const { qScale, qdScale } = meta.input;
  const wrap = meta.angles[0];
  const x = new Float64Array(4);
  const nodes = [0, 0];
  const v = [0, 0];
  for (let e = 0; e < edges; e++) {
    nodes[0] = g.a[e];
    nodes[1] = g.b[e];
    for (let c = 0; c < 2; c++) {
      const node = nodes[c];
      const qv = node >= 0 ? q[o + node] : 0;
      v[c] = node >= 0 ? qd[o + node] : 0;
      x[c] = (wrap ? wrapAngle(qv) : qv) * qScale[c];
      x[2 + c] = v[c] * qdScale[c];
    }
    const j = jet(p, x);
    t.L += s * j.y;
    for (let a = 0; a < 2; a++) {
      const hq0 = s * qdScale[a] * qScale[0] * j.hess[(2 + a) * 4];
      const hq1 = s * qdScale[a] * qScale[1] * j.hess[(2 + a) * 4 + 1];
      t.hvq[4 * e + 2 * a] = hq0;
      t.hvq[4 * e + 2 * a + 1] = hq1;
      const na = nodes[a];
      if (na < 0) continue;
      const gq = s * qScale[a] * j.grad[a];
      t.gq[na] += gq;
      t.gv[na] += s * qdScale[a] * j.grad[2 + a];
      t.diag[na] += s * qdScale[a] * qdScale[a] * j.hess[(2 + a) * 4 + 2 + a];
      t.rhs[na] += gq - (hq0 * v[0] + hq1 * v[1]);
    }
    if (nodes[0] >= 0 && nodes[1] >= 0) {
      t.off[e] = 0.5 * s * qdScale[0] * qdScale[1] * (j.hess[2 * 4 + 3] + j.hess[3 * 4 + 2]);
    }
  }
  return t;
}

/**
 * The sparse Euler–Lagrange system of a grid lgn at one state, in O(edges): L, ∂L/∂q̇, the diagonal of
 * H_vv, one coupling per edge of `gridEdges(grid.nx, grid.ny)` and the right-hand side ∂L/∂q − H_vq q̇ —
 * what `solveGraph64` takes.
 * @param q `[nx·ny]` @param qd `[nx·ny]` @param grid the run grid (default: the training grid)
 * @example const t = referenceGridTerms(model, q, qd, { nx: 64, ny: 64 });
 */
export function referenceGridTerms(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  grid?: GridSize,
): GraphTerms {
  requireLagrangian(model, 'referenceGridTerms');
  const g = graphEdgesOf(model, q.length, grid, 'referenceGridTerms');
  if (g === null) throw new Error(`referenceGridTerms: model ${model.source} is not a grid lgn.`);
  return graphTerms(model, g, q, qd, 0);
}

/**
 * L, its gradients and the Hessian blocks H_vv, H_vq of one state (lnn or lgn; dense n×n output).
 * Under `input.velocityEmbedding: "rapidity"` they exist for |q̇_i| < 1 only (non-finite beyond).
 * A grid lgn sums over `grid` (default: its training grid), at most {@link MAX_DENSE_GRAPH_NODES}
 * nodes here; {@link referenceAccelerations} and {@link referenceEnergy} stay sparse for any size.
 * @param q `[n]` @param qd `[n]` (lgn: n = number of nodes, any value)
 * @param grid the run grid of a grid lgn (nx · ny = n)
 * @example const { hvv } = referenceTerms(model, [0.1, 0.2], [0, 1]);
 */
export function referenceTerms(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  grid?: GridSize,
): ReferenceTerms {
  requireLagrangian(model, 'referenceTerms');
  const meta = model.metadata;
  const n = meta.kind === 'lgn' ? q.length : meta.dof;
  const g = meta.kind === 'lgn' ? graphEdgesOf(model, n, grid, 'referenceTerms') : null;
  if (g !== null) {
    if (n > MAX_DENSE_GRAPH_NODES) {
      throw new Error(
        `referenceTerms: a grid of ${n} nodes is beyond the dense limit MAX_DENSE_GRAPH_NODES = ${MAX_DENSE_GRAPH_NODES}; use referenceAccelerations or referenceEnergy (sparse).`,
      );
    }
    const sparse = graphTerms(model, g, q, qd, 0);
    const hvv = new Float64Array(n * n);
    const hvq = new Float64Array(n * n);
    for (let i = 0; i < n; i++) hvv[i * n + i] = sparse.diag[i];
    for (let e = 0; e < g.a.length; e++) {
      const ends = [g.a[e], g.b[e]];
      if (ends[0] >= 0 && ends[1] >= 0) {
        hvv[ends[0] * n + ends[1]] += sparse.off[e];
        hvv[ends[1] * n + ends[0]] += sparse.off[e];
      }
      for (let a = 0; a < 2; a++) {
        for (let b = 0; b < 2; b++) {
          if (ends[a] >= 0 && ends[b] >= 0) hvq[ends[a] * n + ends[b]] += sparse.hvq[4 * e + 2 * a + b];
        }
      }
    }
    return { L: sparse.L, gq: sparse.gq, gv: sparse.gv, hvv, hvq };
  }
  const t: ReferenceTerms = {
    L: 0,
    gq: new Float64Array(n),
    gv: new Float64Array(n),
    hvv: new Float64Array(n * n),
    hvq: new Float64Array(n * n),
  };
  const p = prepare(model);
  const s = meta.output.scale;
  const { qScale, qdScale } = meta.input;
  if (meta.kind === 'lnn') {
    // x = [features of q, features of q̇] (scaled) as in docs/model-format.md "Inputs"; the jet gives ∂L/∂x
    // and the full ∂²L/∂x². Back to (q, q̇) with the chain rule: q input k depends on coordinate coord[k]
    // only, with dx_k/dq = qScale·slope_k (1, −sin q or cos q); velocity input i is qdScale_i·φ(q̇_i) with
    // φ(v) = v, or atanh(v) under the rapidity embedding, whose curvature φ'' adds to the diagonal of H_vv.
    // H_qq would need the q features' curvature, but q̈ never uses it.
    const map = inputMapOf(meta);
    const { qWidth, width: m, coord, scale } = map;
    const x = new Float64Array(m);
    fillInput(map, q, 0, qd, 0, x, 0, true);
    const j = jet(p, x);
    t.L = s * j.y;
    const dxdq = new Float64Array(qWidth);
    for (let k = 0; k < qWidth; k++) dxdq[k] = scale[k] * featureSlope(map, k, q[coord[k]]);
    const dxdv = new Float64Array(n);
    for (let i = 0; i < n; i++) dxdv[i] = scale[qWidth + i] * velocitySlope(map, qd[i]);
    for (let k = 0; k < qWidth; k++) t.gq[coord[k]] += s * dxdq[k] * j.grad[k];
    for (let i = 0; i < n; i++) {
      const vi = qWidth + i;
      t.gv[i] = s * dxdv[i] * j.grad[vi];
      for (let c = 0; c < n; c++) {
        t.hvv[i * n + c] = s * dxdv[i] * dxdv[c] * j.hess[vi * m + qWidth + c];
      }
      t.hvv[i * n + i] += s * scale[vi] * velocityCurvature(map, qd[i]) * j.grad[vi];
      for (let k = 0; k < qWidth; k++) {
        t.hvq[i * n + coord[k]] += s * dxdv[i] * dxdq[k] * j.hess[vi * m + k];
      }
    }
    return t;
  }
  // lgn: L = Σ_{e=0}^{N} ℓ(q_e, q_{e+1}, q̇_e, q̇_{e+1}) over a path with fixed ends q_0 = q_{N+1} = 0.
  const x = new Float64Array(4);
  const wrap = meta.angles[0];
  for (let e = 0; e <= n; e++) {
    const left = e - 1; // node index of q_e in the 0-based arrays (−1: the fixed end)
    const right = e < n ? e : -1;
    const nodes = [left, right];
    for (let c = 0; c < 2; c++) {
      const node = nodes[c];
      const qv = node >= 0 ? q[node] : 0;
      x[c] = (wrap ? wrapAngle(qv) : qv) * qScale[c];
      x[2 + c] = (node >= 0 ? qd[node] : 0) * qdScale[c];
    }
    const j = jet(p, x);
    t.L += s * j.y;
    for (let a = 0; a < 2; a++) {
      const na = nodes[a];
      if (na < 0) continue;
      t.gq[na] += s * qScale[a] * j.grad[a];
      t.gv[na] += s * qdScale[a] * j.grad[2 + a];
      for (let b = 0; b < 2; b++) {
        const nb = nodes[b];
        if (nb < 0) continue;
        t.hvv[na * n + nb] += s * qdScale[a] * qdScale[b] * j.hess[(2 + a) * 4 + 2 + b];
        t.hvq[na * n + nb] += s * qdScale[a] * qScale[b] * j.hess[(2 + a) * 4 + b];
      }
    }
  }
  return t;
}

/**
 * L(q, q̇) of one state (lnn, lgn).
 * @param q `[n]` @param qd `[n]`
 */
export function referenceLagrangian(model: LoadedModel, q: ArrayLike<number>, qd: ArrayLike<number>): number {
  return referenceTerms(model, q, qd).L;
}

/**
 * Learned energy E = q̇·∂L/∂q̇ − L of one state (lnn, lgn; a grid lgn on `grid`, default its training
 * grid, in O(edges)).
 * @param q `[n]` @param qd `[n]`
 */
export function referenceEnergy(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  grid?: GridSize,
): number {
  requireLagrangian(model, 'referenceEnergy');
  const g = model.metadata.kind === 'lgn' ? graphEdgesOf(model, q.length, grid, 'referenceEnergy') : null;
  const t = g !== null ? graphTerms(model, g, q, qd, 0) : referenceTerms(model, q, qd);
  let e = -t.L;
  for (let i = 0; i < t.gv.length; i++) e += qd[i] * t.gv[i];
  return e;
}

/** Options of {@link referenceAccelerations}. */
export interface ReferenceOptions {
  /** Per-state solve outcome, written when given: `[batch]` (see SolveFlag). */
  flags?: Uint8Array;
  /** Diagonal shift ε for a non-positive-definite H_vv. @default metadata.solver.hvvEpsilon, else relative */
  epsilon?: number;
  /**
   * A generalized force in the model's own units (already multiplied by the mass scale α, see
   * `massScale`), added to the right-hand side: H_vv q̈ = ∂L/∂q − H_vq q̇ + force. `[batch * n]`; lnn
   * and lgn only.
   */
  force?: ArrayLike<number> | null;
  /**
   * The run grid of a grid lgn (nx · ny = nodes). @default the training grid when it has as many nodes,
   * else one row (nodes × 1)
   */
  grid?: GridSize;
}

/**
 * Batched q̈ of any model kind in float64: lnn and lgn through q̈ = H_vv⁻¹ (∂L/∂q − H_vq q̇) (a path lgn
 * with an O(n) tridiagonal solve, a grid lgn with the sparse conjugate-gradient solve of
 * src/linalg/graphSolve.ts on `options.grid`), baseline directly.
 * @param q `[batch * n]` @param qd `[batch * n]` @param qdd output `[batch * n]`
 * @returns the number of states whose H_vv was regularised or failed
 * @example referenceAccelerations(model, q, qd, qdd, 1);
 */
export function referenceAccelerations(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  qdd: Float64Array,
  batch: number,
  options: ReferenceOptions = {},
): number {
  const meta = model.metadata;
  const n = q.length / batch;
  if (!Number.isInteger(n) || qd.length !== q.length || qdd.length < q.length) {
    throw new Error(
      `referenceAccelerations: q, qd must both be [batch * dof] (got ${q.length}, ${qd.length} for batch ${batch}) and qdd at least as long.`,
    );
  }
  if (meta.kind !== 'lgn' && n !== meta.dof) {
    throw new Error(
      `referenceAccelerations: the model has dof ${meta.dof} but the states have ${n} coordinates.`,
    );
  }
  const eps = options.epsilon ?? meta.solver?.hvvEpsilon;
  const flags = options.flags ?? new Uint8Array(batch);
  const force = options.force ?? null;
  if (force !== null && meta.kind === 'baseline') {
    throw new Error(
      `referenceAccelerations: model ${model.source} is a baseline; it predicts q̈ directly and has no mass matrix, so a force has no defined effect on it.`,
    );
  }
  const qb = new Float64Array(n);
  const vb = new Float64Array(n);
  if (meta.kind === 'baseline') {
    const p = prepare(model);
    const map = inputMapOf(meta);
    const x = new Float64Array(map.width);
    const y = new Float64Array(n);
    for (let b = 0; b < batch; b++) {
      fillInput(map, q, b * n, qd, b * n, x, 0, true);
      let finite = true;
      for (let k = 0; k < map.width; k++) if (!Number.isFinite(x[k])) finite = false;
      forward(p, x, y);
      for (let i = 0; i < n; i++) qdd[b * n + i] = finite ? meta.output.scale * y[i] : 0;
      flags[b] = finite ? SolveFlag.ok : SolveFlag.failed;
    }
    return guarded(model, n, q, qd, qdd, batch, flags);
  }
  const g = meta.kind === 'lgn' ? graphEdgesOf(model, n, options.grid, 'referenceAccelerations') : null;
  if (g !== null) {
    for (let b = 0; b < batch; b++) {
      const t = graphTerms(model, g, q, qd, b * n);
      if (force !== null) for (let i = 0; i < n; i++) t.rhs[i] += force[b * n + i];
      flags[b] = solveGraph64(g, t.diag, 0, t.off, 0, t.rhs, 0, qdd, b * n, eps);
    }
    return guarded(model, n, q, qd, qdd, batch, flags);
  }
  const rhs = new Float64Array(n);
  const diag = new Float64Array(n);
  const off = new Float64Array(Math.max(0, n - 1));
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < n; i++) {
      qb[i] = q[b * n + i];
      vb[i] = qd[b * n + i];
    }
    const t = referenceTerms(model, qb, vb);
    for (let i = 0; i < n; i++) {
      let s = t.gq[i];
      for (let j = 0; j < n; j++) s -= t.hvq[i * n + j] * vb[j];
      rhs[i] = force === null ? s : s + force[b * n + i];
    }
    let flag: SolveFlagValue;
    if (meta.kind === 'lgn') {
      for (let i = 0; i < n; i++) {
        diag[i] = t.hvv[i * n + i];
        if (i + 1 < n) off[i] = 0.5 * (t.hvv[i * n + i + 1] + t.hvv[(i + 1) * n + i]);
      }
      flag = solveTridiagonal64(diag, 0, off, 0, rhs, 0, qdd, b * n, n, eps);
    } else {
      flag = solveSymmetric64(t.hvv, 0, rhs, 0, qdd, b * n, n, eps);
    }
    flags[b] = flag;
  }
  return guarded(model, n, q, qd, qdd, batch, flags);
}

/**
 * The learned mass matrix H_vv = ∂²L/∂q̇∂q̇ᵀ of one state (lnn, lgn), from {@link referenceTerms}; for a
 * path lgn the tridiagonal band as the solve sees it (off-diagonal symmetrised), zeros elsewhere; for a
 * grid lgn (on `grid`, default its training grid) the diagonal and the symmetrised edge couplings.
 * @param q `[n]` @param qd `[n]` @param out `[n * n]` row-major
 */
export function referenceMassMatrix(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  out: Float64Array,
  grid?: GridSize,
): Float64Array {
  requireLagrangian(model, 'referenceMassMatrix');
  const h = referenceTerms(model, q, qd, grid).hvv;
  const n = q.length;
  if (model.metadata.kind !== 'lgn' || lgnGrid(model.metadata) !== null) {
    out.set(h.subarray(0, n * n));
    return out;
  }
  out.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) {
    out[i * n + i] = h[i * n + i];
    if (i + 1 < n) {
      const o = 0.5 * (h[i * n + i + 1] + h[(i + 1) * n + i]);
      out[i * n + i + 1] = o;
      out[(i + 1) * n + i] = o;
    }
  }
  return out;
}

/**
 * The engines' failed-state policy (src/nn/stateGuard.ts) on the reference's result, in float64 (no float32
 * range): a non-finite input or q̈ is failed with q̈ = 0. Returns the number of states not `ok`.
 */
function guarded(
  model: LoadedModel,
  n: number,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  qdd: Float64Array,
  batch: number,
  flags: Uint8Array,
): number {
  new StateGuard(model, n, { float32: false }).apply(q, qd, qdd, batch, flags);
  let bad = 0;
  for (let b = 0; b < batch; b++) if (flags[b] !== SolveFlag.ok) bad++;
  return bad;
}

/**
 * Raw network outputs y(x) `[outputs]` for one already scaled input x `[inputs]` (no wrapping, no
 * scaling): for checking tensor forward passes.
 */
export function referenceForward(model: LoadedModel, x: ArrayLike<number>): Float64Array {
  const p = prepare(model);
  const out = new Float64Array(p.widths[p.widths.length - 1]);
  forward(p, x, out);
  return out;
}
