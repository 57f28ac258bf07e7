/**
 * Sparse symmetric solves of graph Lagrangians: H_vv of L = Σ_edges ℓ couples a node only to its graph
 * neighbours, so H x = r is solved by conjugate gradients with a Jacobi (diagonal) preconditioner in
 * O(edges) per iteration, without forming the dense matrix. The definiteness policy of every other solve
 * (src/nn/solvePolicy.ts) is carried over with the CG curvatures in place of the LDLᵀ pivots:
 *
 * 1. A non-finite entry of H or r fails (flag `failed`, x = 0).
 * 2. H counts as definite when every diagonal entry has the sign s of the first one with
 *    s·H_ii > PD_TOLERANCE · max_i |H_ii| (the first pivot, and a necessary condition for the others),
 *    every CG curvature satisfies s·pᵀHp > PD_TOLERANCE · max_i |H_ii| · pᵀp (the Rayleigh quotient of
 *    every search direction above the threshold, as every LDLᵀ pivot of a definite H lies above λ_min),
 *    and CG reaches the relative residual {@link CG_RELATIVE_RESIDUAL} within {@link cgIterationLimit}
 *    iterations. Then the solution is returned as is (flag `ok`).
 * 3. Otherwise H + shift·I is solved, shift = `shiftFor` (flag `regularised`), by CG preconditioned with
 *    |diag|.
 * 4. The shifted solve fails when a curvature is zero (SINGULAR_PIVOT_RELATIVE · max |H_ij|), when it
 *    does not converge within the limit, or when the solution is not finite.
 *
 * CG sees only the directions the right-hand side excites, so an H that is indefinite in directions r
 * never reaches counts as definite here; its solution is still the exact solution of H x = r. The
 * dense LDLᵀ test would instead cost O(n · bandwidth²) per state.
 */

import {
  PD_TOLERANCE,
  SINGULAR_PIVOT_RELATIVE,
  SolveFlag,
  type SolveFlagValue,
  shiftFor,
} from '../nn/solvePolicy.js';

/**
 * Relative residual ‖r − Hx‖ / ‖r‖ at which the float64 CG stops: near float64 rounding of a
 * well-conditioned graph mass matrix, so the solve agrees with a direct one to ~1e-12 relative.
 */
export const CG_RELATIVE_RESIDUAL = 1e-13;

/**
 * Relative residual at which the float32 (tensor) CG counts as converged: a few float32 ulps above its
 * rounding floor of ~1e-7.
 */
export const CG_RELATIVE_RESIDUAL_FLOAT32 = 4e-6;

/** Fixed CG iterations of each pass of the tensor solve (which runs with no readback, so cannot stop early). */
export const CG_TENSOR_ITERATIONS = 32;

/** Most CG iterations of one float64 solve of n unknowns: 2n + 20 (exact arithmetic needs at most n). */
export function cgIterationLimit(n: number): number {
  return 2 * n + 20;
}

/**
 * The edges of a graph as node index pairs `(a[e], b[e])`; −1 is the fixed boundary (an edge to the
 * boundary adds to the diagonal of H_vv only).
 */
export interface GraphEdges {
  /** Number of nodes (unknowns). */
  readonly nodes: number;
  /** First node of each edge, `[edges]`. */
  readonly a: Int32Array;
  /** Second node of each edge, `[edges]`. */
  readonly b: Int32Array;
}

const gridCache = new Map<string, GraphEdges>();

/**
 * The edges of an nx × ny grid with a fixed boundary, nodes row-major (node (i, j) = j·nx + i), each
 * edge oriented along +x or +y: first the horizontal edges row by row ((nx + 1)·ny: node (i−1, j) → (i, j)
 * for i = 0 … nx), then the vertical ones ((ny + 1)·nx: (i, j−1) → (i, j) for j = 0 … ny); −1 where an
 * end is on the boundary. Boundary-to-boundary edges are left out (they add a constant to L). Every
 * node has four edges. Cached per size.
 * @example gridEdges(2, 1) // 3 horizontal + 4 vertical edges
 */
export function gridEdges(nx: number, ny: number): GraphEdges {
  const key = `${nx}x${ny}`;
  const hit = gridCache.get(key);
  if (hit !== undefined) return hit;
  const count = (nx + 1) * ny + nx * (ny + 1);
  const a = new Int32Array(count);
  const b = new Int32Array(count);
  let e = 0;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i <= nx; i++, e++) {
      a[e] = i > 0 ? j * nx + i - 1 : -1;
      b[e] = i < nx ? j * nx + i : -1;
    }
  }
  for (let j = 0; j <= ny; j++) {
    for (let i = 0; i < nx; i++, e++) {
      a[e] = j > 0 ? (j - 1) * nx + i : -1;
      b[e] = j < ny ? j * nx + i : -1;
    }
  }
  const edges = { nodes: nx * ny, a, b };
  gridCache.set(key, edges);
  return edges;
}

/** CG iterations of the most recent {@link solveGraph64} (both passes), for benchmarks and reports. */
let lastIterations = 0;

/** CG iterations the most recent {@link solveGraph64} took (both passes together). */
export function lastGraphSolveIterations(): number {
  return lastIterations;
}

/** Scratch of {@link solveGraph64}, grown on demand. */
let sR = new Float64Array(0);
let sZ = new Float64Array(0);
let sP = new Float64Array(0);
let sQ = new Float64Array(0);
let sM = new Float64Array(0);

/** y = (H + shift·I) x for H given by its diagonal and one coupling per edge. */
function multiply(
  g: GraphEdges,
  diag: ArrayLike<number>,
  dOff: number,
  off: ArrayLike<number>,
  oOff: number,
  shift: number,
  x: Float64Array,
  y: Float64Array,
): void {
  const n = g.nodes;
  for (let i = 0; i < n; i++) y[i] = (diag[dOff + i] + shift) * x[i];
  const { a, b } = g;
  for (let e = 0; e < a.length; e++) {
    const ia = a[e];
    const ib = b[e];
    if (ia < 0 || ib < 0) continue;
    const o = off[oOff + e];
    y[ia] += o * x[ib];
    y[ib] += o * x[ia];
  }
}

/**
 * Preconditioned CG on (H + shift·I) x = r into `out`; `pre[i]` is the inverse preconditioner. With
 * `pdTol` set, stops (returns false) at the first curvature s·pᵀAp ≤ pdTol·pᵀp; without, at a curvature
 * whose magnitude is at most SINGULAR_PIVOT_RELATIVE·`amax`. Returns whether it converged.
 */
function cg(
  g: GraphEdges,
  diag: ArrayLike<number>,
  dOff: number,
  off: ArrayLike<number>,
  oOff: number,
  shift: number,
  r0: ArrayLike<number>,
  rOff: number,
  out: Float64Array,
  outOff: number,
  pre: Float64Array,
  sign: number,
  pdTol: number | null,
  amax: number,
): boolean {
  const n = g.nodes;
  const r = sR;
  const z = sZ;
  const p = sP;
  const q = sQ;
  let rr0 = 0;
  let rz = 0;
  for (let i = 0; i < n; i++) {
    const v = r0[rOff + i];
    out[outOff + i] = 0;
    r[i] = v;
    z[i] = pre[i] * v;
    p[i] = z[i];
    rr0 += v * v;
    rz += v * z[i];
  }
  if (rr0 === 0) return true;
  const stop = CG_RELATIVE_RESIDUAL * CG_RELATIVE_RESIDUAL * rr0;
  const limit = cgIterationLimit(n);
  for (let k = 0; k < limit; k++) {
    lastIterations++;
    multiply(g, diag, dOff, off, oOff, shift, p, q);
    let pq = 0;
    let pp = 0;
    for (let i = 0; i < n; i++) {
      pq += p[i] * q[i];
      pp += p[i] * p[i];
    }
    if (pdTol !== null ? !(sign * pq > pdTol * pp) : !(Math.abs(pq) > SINGULAR_PIVOT_RELATIVE * amax * pp))
      return false;
    const alpha = rz / pq;
    let rr = 0;
    let rzNext = 0;
    for (let i = 0; i < n; i++) {
      out[outOff + i] += alpha * p[i];
      r[i] -= alpha * q[i];
      z[i] = pre[i] * r[i];
      rr += r[i] * r[i];
      rzNext += r[i] * z[i];
    }
    if (!Number.isFinite(rr)) return false;
    if (rr <= stop) return true;
    const beta = rzNext / rz;
    rz = rzNext;
    for (let i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
  }
  return false;
}

/**
 * Solve one sparse symmetric system H x = r of a graph Lagrangian (see the module comment for the
 * policy), O(edges) per CG iteration, allocation-free after the first call of a size.
 * @param g the graph (nodes and edges)
 * @param diag `[nodes]` at `dOff`: H_ii
 * @param off `[edges]` at `oOff`: H_ab of edge e = (a[e], b[e]) (symmetrised; ignored for edges to the boundary)
 * @param r `[nodes]` at `rOff` @param out `[nodes]` at `outOff`
 * @param epsilon diagonal shift magnitude when H is not definite (default: relative, see `shiftFor`)
 * @returns the {@link SolveFlag} of this system
 * @example solveGraph64(gridEdges(2, 2), diag, 0, off, 0, rhs, 0, x, 0);
 */
export function solveGraph64(
  g: GraphEdges,
  diag: ArrayLike<number>,
  dOff: number,
  off: ArrayLike<number>,
  oOff: number,
  r: ArrayLike<number>,
  rOff: number,
  out: Float64Array,
  outOff: number,
  epsilon?: number,
): SolveFlagValue {
  const n = g.nodes;
  lastIterations = 0;
  if (sR.length < n) {
    sR = new Float64Array(n);
    sZ = new Float64Array(n);
    sP = new Float64Array(n);
    sQ = new Float64Array(n);
    sM = new Float64Array(n);
  }
  let diagMax = 0;
  let diagSum = 0;
  let trace = 0;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const d = diag[dOff + i];
    if (!Number.isFinite(d) || !Number.isFinite(r[rOff + i])) finite = false;
    diagMax = Math.max(diagMax, Math.abs(d));
    diagSum += Math.abs(d);
    trace += d;
  }
  let offMax = 0;
  for (let e = 0; e < g.a.length; e++) {
    if (g.a[e] < 0 || g.b[e] < 0) continue;
    const o = off[oOff + e];
    if (!Number.isFinite(o)) finite = false;
    offMax = Math.max(offMax, Math.abs(o));
  }
  const fail = (): SolveFlagValue => {
    out.fill(0, outOff, outOff + n);
    return SolveFlag.failed;
  };
  if (!finite || n === 0) return n === 0 ? SolveFlag.ok : fail();
  const tol = PD_TOLERANCE * diagMax;
  const sign = diag[dOff] < 0 ? -1 : 1;
  const pre = sM;
  let jacobiPd = diagMax > 0;
  for (let i = 0; i < n && jacobiPd; i++) {
    const d = diag[dOff + i];
    if (!(sign * d > tol)) jacobiPd = false;
    else pre[i] = 1 / d;
  }
  if (jacobiPd && cg(g, diag, dOff, off, oOff, 0, r, rOff, out, outOff, pre, sign, tol, 0)) {
    return SolveFlag.ok;
  }
  const shift = shiftFor(diagSum / n, trace, epsilon);
  for (let i = 0; i < n; i++) {
    const d = Math.abs(diag[dOff + i] + shift);
    pre[i] = d > 0 ? 1 / d : 1;
  }
  const amax = Math.max(diagMax + Math.abs(shift), offMax);
  if (!cg(g, diag, dOff, off, oOff, shift, r, rOff, out, outOff, pre, 1, null, amax)) return fail();
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[outOff + i])) return fail();
  return SolveFlag.regularised;
}
