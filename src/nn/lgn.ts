import * as tf from '@tensorflow/tfjs-core';
import {
  CG_RELATIVE_RESIDUAL_FLOAT32,
  CG_TENSOR_ITERATIONS,
  type GraphEdges,
  gridEdges,
} from '../linalg/graphSolve.js';
import type { GridSize } from '../model/metadata.js';
import { packedLagrangianTerms } from './lagrangianTerms.js';
import type { Accelerations } from './lnn.js';
import { foldScales, type MlpParams, type NetworkSpec, wrapAngles } from './mlp.js';
import { solveTridiagonal, type TensorSolve } from './solve.js';
import { DEFAULT_EPSILON_RELATIVE, PD_TOLERANCE, SolveFlag } from './solvePolicy.js';
import { tidy } from './tidy.js';

/**
 * Local inputs of every edge of a path graph with fixed ends: for N nodes, edges e = 0…N join
 * (q_e, q_{e+1}) with q_0 = q_{N+1} = 0.
 * @param q `[batch, N]` @returns `[batch·(N+1), 2]`
 */
export function edgeInputs(q: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const [batch, n] = q.shape;
    const padded = tf.pad(q, [
      [0, 0],
      [1, 1],
    ]); // [batch, N+2]
    const left = tf.slice(padded, [0, 0], [batch, n + 1]);
    const right = tf.slice(padded, [0, 1], [batch, n + 1]);
    return tf.reshape(tf.stack([left, right], 2), [batch * (n + 1), 2]) as tf.Tensor2D;
  });
}

/** Tridiagonal Euler–Lagrange system of a graph Lagrangian. */
export interface BandedTerms {
  /** L `[batch]`. */
  L: tf.Tensor1D;
  /** ∂L/∂q̇ `[batch, N]`. */
  gv: tf.Tensor2D;
  /** Diagonal of H_vv `[batch, N]`. */
  diag: tf.Tensor2D;
  /** Off-diagonal of H_vv `[batch, N−1]` (entry i couples nodes i and i+1). */
  off: tf.Tensor2D;
  /** ∂L/∂q − H_vq q̇ `[batch, N]`. */
  rhs: tf.Tensor2D;
}

/**
 * Assemble the banded Euler–Lagrange terms of a path-graph Lagrangian L = Σ_e ℓ(q_e, q_{e+1}, q̇_e, q̇_{e+1})
 * from per-edge derivatives: each edge adds its 2×2 block to H_vv and its gradients to both nodes.
 * Expects folded weights (see `foldScales`) and wrapped positions.
 * @param q `[batch, N]` @param qd `[batch, N]`
 */
export function bandedTermsFolded(
  folded: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): BandedTerms {
  return tidy(() => {
    const [batch, n] = q.shape;
    const e = n + 1;
    const p = packedLagrangianTerms(folded, spec.activation, edgeInputs(q), edgeInputs(qd));
    // Per edge: H [E,3,3] over (v_left, v_right, u); grad [E,4] = (g_qL, g_qR, g_vL, g_vR).
    const h = tf.reshape(p.hessian, [batch, e, 9]) as tf.Tensor3D;
    const g = tf.reshape(p.grad, [batch, e, 4]) as tf.Tensor3D;
    const col = (t: tf.Tensor3D, j: number) =>
      tf.reshape(tf.slice(t, [0, 0, j], [batch, e, 1]), [batch, e]) as tf.Tensor2D;
    // Node i (0-based) is the right end of edge i and the left end of edge i+1.
    const fromRight = (t: tf.Tensor2D) => tf.slice(t, [0, 0], [batch, n]) as tf.Tensor2D;
    const fromLeft = (t: tf.Tensor2D) => tf.slice(t, [0, 1], [batch, n]) as tf.Tensor2D;
    const sumNodes = (left: tf.Tensor2D, right: tf.Tensor2D) =>
      tf.add(fromLeft(left), fromRight(right)) as tf.Tensor2D;
    const diag = sumNodes(col(h, 0), col(h, 4));
    const offAll = tf.mul(tf.add(col(h, 1), col(h, 3)), 0.5) as tf.Tensor2D; // [batch, E]: edge e couples nodes e−1, e
    const off = tf.slice(offAll, [0, 1], [batch, n - 1]) as tf.Tensor2D;
    const gq = sumNodes(col(g, 0), col(g, 1));
    const gv = sumNodes(col(g, 2), col(g, 3));
    const hu = sumNodes(col(h, 2), col(h, 5));
    const L = tf.sum(tf.reshape(p.value, [batch, e]), 1) as tf.Tensor1D;
    return { L, gv, diag, off, rhs: tf.sub(gq, hu) as tf.Tensor2D };
  });
}

/** The per-node angle flags of an lgn spec, repeated for every node of `q` `[batch, N]`. */
function nodeAngles(spec: NetworkSpec, q: tf.Tensor2D): boolean[] {
  return new Array<boolean>(q.shape[1]).fill(spec.angles[0]);
}

/** Node index arrays of a graph's edge ends for `tf.gather` on `[batch, N + 1]` (the boundary is N). */
function gatherIndices(g: GraphEdges): [Int32Array, Int32Array] {
  const n = g.nodes;
  return [g.a.map((i) => (i < 0 ? n : i)), g.b.map((i) => (i < 0 ? n : i))];
}

/** Sparse Euler–Lagrange system of a grid-graph Lagrangian (nodes row-major, node (i, j) = j·nx + i). */
export interface GridTerms {
  /** L `[batch]`. */
  L: tf.Tensor1D;
  /** ∂L/∂q̇ `[batch, N]`. */
  gv: tf.Tensor2D;
  /** Diagonal of H_vv `[batch, ny, nx]`. */
  diag: tf.Tensor3D;
  /** H_vv coupling of nodes (i, j) and (i + 1, j) `[batch, ny, nx − 1]`. */
  offX: tf.Tensor3D;
  /** H_vv coupling of nodes (i, j) and (i, j + 1) `[batch, ny − 1, nx]`. */
  offY: tf.Tensor3D;
  /** ∂L/∂q − H_vq q̇ `[batch, N]`. */
  rhs: tf.Tensor2D;
}

/**
 * Assemble the sparse Euler–Lagrange terms of a grid Lagrangian L = Σ_e ℓ(q_a, q_b, q̇_a, q̇_b) over the
 * edges of `gridEdges(nx, ny)` (along +x, then along +y; the fixed boundary enters as 0) from per-edge
 * derivatives: each edge adds its 2×2 block to H_vv and its gradients to both ends. Expects folded
 * weights and wrapped positions.
 * @param q `[batch, nx·ny]` @param qd `[batch, nx·ny]`
 */
export function gridTermsFolded(
  folded: MlpParams,
  spec: NetworkSpec,
  grid: GridSize,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): GridTerms {
  return tidy(() => {
    const { nx, ny } = grid;
    const batch = q.shape[0];
    const g = gridEdges(nx, ny);
    const e = g.a.length;
    const [ia, ib] = gatherIndices(g);
    const ends = (t: tf.Tensor2D) => {
      const padded = tf.pad(t, [
        [0, 0],
        [0, 1],
      ]);
      const a = tf.gather(padded, tf.tensor1d(ia, 'int32'), 1);
      const b = tf.gather(padded, tf.tensor1d(ib, 'int32'), 1);
      return tf.reshape(tf.stack([a, b], 2), [batch * e, 2]) as tf.Tensor2D;
    };
    const p = packedLagrangianTerms(folded, spec.activation, ends(q), ends(qd));
    // Per edge: H [E,3,3] over (v_a, v_b, u); grad [E,4] = (g_qa, g_qb, g_va, g_vb).
    const per = tf.concat([tf.reshape(p.hessian, [batch, e, 9]), tf.reshape(p.grad, [batch, e, 4])], 2);
    const eh = (nx + 1) * ny;
    const horiz = tf.reshape(tf.slice(per, [0, 0, 0], [batch, eh, 13]), [batch, ny, nx + 1, 13]);
    const vert = tf.reshape(tf.slice(per, [0, eh, 0], [batch, e - eh, 13]), [batch, ny + 1, nx, 13]);
    const col = (t: tf.Tensor4D, c: number) => tf.squeeze(tf.slice(t, [0, 0, 0, c], [-1, -1, -1, 1]), [3]);
    // Node (i, j) is the second end of horizontal edge i and vertical edge (row j), the first end of
    // horizontal edge i + 1 and vertical edge (row j + 1).
    const asA = (c: number) =>
      tf.add(
        tf.slice(col(horiz as tf.Tensor4D, c), [0, 0, 1], [batch, ny, nx]),
        tf.slice(col(vert as tf.Tensor4D, c), [0, 1, 0], [batch, ny, nx]),
      );
    const asB = (c: number) =>
      tf.add(
        tf.slice(col(horiz as tf.Tensor4D, c), [0, 0, 0], [batch, ny, nx]),
        tf.slice(col(vert as tf.Tensor4D, c), [0, 0, 0], [batch, ny, nx]),
      );
    const flat = (t: tf.Tensor) => tf.reshape(t, [batch, nx * ny]) as tf.Tensor2D;
    const diag = tf.add(asA(0), asB(4)) as tf.Tensor3D;
    // rhs = g_q − H_vq q̇: columns 9, 10 (g_qa, g_qb) and 2, 5 (the u column of rows v_a, v_b).
    const rhs = flat(tf.add(tf.sub(asA(9), asA(2)), tf.sub(asB(10), asB(5))));
    const gv = flat(tf.add(asA(11), asB(12)));
    const coupling = (t: tf.Tensor4D) => tf.mul(tf.add(col(t, 1), col(t, 3)), 0.5);
    const offX = tf.slice(coupling(horiz as tf.Tensor4D), [0, 0, 1], [batch, ny, nx - 1]) as tf.Tensor3D;
    const offY = tf.slice(coupling(vert as tf.Tensor4D), [0, 1, 0], [batch, ny - 1, nx]) as tf.Tensor3D;
    const L = tf.sum(tf.reshape(p.value, [batch, e]), 1) as tf.Tensor1D;
    return { L, gv, diag, offX, offY, rhs };
  });
}

/** 1 where a > b, else 0 (float). */
function gt(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  return tf.step(tf.sub(a, b));
}

/** Per-state sums over the nodes: `[batch, N]` → `[batch, 1]`. */
function dot(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(tf.mul(a, b), 1, true) as tf.Tensor2D;
}

/**
 * Batched sparse solve of a grid's H_vv x = r on the backend: Jacobi-preconditioned conjugate gradients,
 * {@link CG_TENSOR_ITERATIONS} iterations per pass (no readback, so no early stop: converged states stop
 * moving), with the policy of `solveGraph64` (src/linalg/graphSolve.ts): definite when the diagonal has
 * one sign s with s·H_ii > PD_TOLERANCE·max|H_ii|, every curvature s·pᵀHp > PD_TOLERANCE·max|H_ii|·pᵀp
 * and the relative residual reaches {@link CG_RELATIVE_RESIDUAL_FLOAT32}; otherwise a second pass on
 * H + shift·I (flag regularised), failed when that does not converge or a state is not finite.
 * @param diag `[batch, ny, nx]` @param offX `[batch, ny, nx − 1]` @param offY `[batch, ny − 1, nx]`
 * @param r `[batch, nx·ny]` @returns x `[batch, nx·ny]` and flags `[batch]`
 */
export function solveGridCg(
  diag: tf.Tensor3D,
  offX: tf.Tensor3D,
  offY: tf.Tensor3D,
  r: tf.Tensor2D,
  epsilon?: number,
): TensorSolve {
  return tidy(() => {
    const [batch, ny, nx] = diag.shape;
    const n = nx * ny;
    const d = tf.reshape(diag, [batch, n]) as tf.Tensor2D;
    const multiply = (x: tf.Tensor2D, shift: tf.Tensor2D | null): tf.Tensor2D => {
      const dd = shift === null ? d : tf.add(d, shift);
      let y: tf.Tensor = tf.mul(dd, x);
      const g = tf.reshape(x, [batch, ny, nx]);
      let yy: tf.Tensor | null = null;
      const add = (t: tf.Tensor) => {
        yy = yy === null ? t : tf.add(yy, t);
      };
      if (nx > 1) {
        const right = tf.slice(g, [0, 0, 1], [batch, ny, nx - 1]);
        const left = tf.slice(g, [0, 0, 0], [batch, ny, nx - 1]);
        add(
          tf.pad(tf.mul(offX, right), [
            [0, 0],
            [0, 0],
            [0, 1],
          ]),
        );
        add(
          tf.pad(tf.mul(offX, left), [
            [0, 0],
            [0, 0],
            [1, 0],
          ]),
        );
      }
      if (ny > 1) {
        const up = tf.slice(g, [0, 1, 0], [batch, ny - 1, nx]);
        const down = tf.slice(g, [0, 0, 0], [batch, ny - 1, nx]);
        add(
          tf.pad(tf.mul(offY, up), [
            [0, 0],
            [0, 1],
            [0, 0],
          ]),
        );
        add(
          tf.pad(tf.mul(offY, down), [
            [0, 0],
            [1, 0],
            [0, 0],
          ]),
        );
      }
      if (yy !== null) y = tf.add(y, tf.reshape(yy, [batch, n]));
      return y as tf.Tensor2D;
    };
    const dAbs = tf.abs(d);
    const diagMax = tf.max(dAbs, 1, true) as tf.Tensor2D;
    const tol = tf.mul(diagMax, PD_TOLERANCE) as tf.Tensor2D;
    const sign = tf.sub(1, tf.mul(gt(tf.neg(tf.slice(d, [0, 0], [batch, 1])), 0), 2)) as tf.Tensor2D;
    // Jacobi: every diagonal entry of the sign of the first and above the threshold.
    const jacobiBad = tf.max(tf.sub(1, gt(tf.mul(sign, d), tol)), 1, true) as tf.Tensor2D;
    const rr0 = dot(r, r);
    const stop = tf.mul(rr0, CG_RELATIVE_RESIDUAL_FLOAT32 * CG_RELATIVE_RESIDUAL_FLOAT32);
    /** One CG pass; returns x and a `[batch, 1]` 0/1 mask of states that broke the pass's rules. */
    const pass = (shift: tf.Tensor2D | null, pre: tf.Tensor2D, pdTol: tf.Tensor2D | null) => {
      let x: tf.Tensor2D = tf.zerosLike(r);
      let res: tf.Tensor2D = r;
      let z = tf.mul(pre, res) as tf.Tensor2D;
      let p = z;
      let rz = dot(res, z);
      let rr = rr0;
      let bad: tf.Tensor2D = tf.zerosLike(rr0);
      for (let k = 0; k < CG_TENSOR_ITERATIONS; k++) {
        const q = multiply(p, shift);
        const pq = dot(p, q);
        const pp = dot(p, p);
        const active = gt(rr, stop);
        const curved =
          pdTol === null
            ? tf.sub(1, tf.cast(tf.equal(pq, 0), 'float32'))
            : gt(tf.mul(sign, pq), tf.mul(pdTol, pp));
        bad = tf.maximum(bad, tf.mul(active, tf.sub(1, curved))) as tf.Tensor2D;
        const go = tf.cast(tf.mul(active, curved), 'bool');
        const alpha = tf.where(go, tf.div(rz, tf.where(go, pq, tf.onesLike(pq))), tf.zerosLike(pq));
        x = tf.add(x, tf.mul(alpha, p)) as tf.Tensor2D;
        res = tf.sub(res, tf.mul(alpha, q)) as tf.Tensor2D;
        z = tf.mul(pre, res) as tf.Tensor2D;
        const rzNext = dot(res, z);
        const beta = tf.where(go, tf.div(rzNext, tf.where(go, rz, tf.onesLike(rz))), tf.zerosLike(rz));
        p = tf.add(z, tf.mul(beta, p)) as tf.Tensor2D;
        rz = tf.where(go, rzNext, rz) as tf.Tensor2D;
        rr = dot(res, res);
      }
      const unconverged = gt(rr, stop);
      const broke = tf.maximum(bad, unconverged);
      return { x, bad: tf.where(tf.isNaN(broke), tf.onesLike(broke), broke) as tf.Tensor2D };
    };
    const safePre = (t: tf.Tensor2D) =>
      tf.where(tf.cast(gt(tf.abs(t), 0), 'bool'), tf.div(1, t), tf.onesLike(t)) as tf.Tensor2D;
    const first = pass(null, safePre(d), tol);
    const notPd = tf.maximum(first.bad, jacobiBad) as tf.Tensor2D;
    const mean = tf.mean(dAbs, 1, true);
    const size =
      epsilon !== undefined
        ? tf.fill(mean.shape, epsilon)
        : tf.where(
            tf.cast(gt(mean, 0), 'bool'),
            tf.mul(mean, DEFAULT_EPSILON_RELATIVE),
            tf.fill(mean.shape, DEFAULT_EPSILON_RELATIVE),
          );
    const trace = tf.sum(d, 1, true);
    const shift = tf.mul(tf.mul(size, tf.sub(1, tf.mul(gt(tf.neg(trace), 0), 2))), notPd) as tf.Tensor2D;
    const second = pass(shift, safePre(tf.abs(tf.add(d, shift)) as tf.Tensor2D), null);
    const useSecond = tf.cast(notPd, 'bool');
    const x = tf.where(useSecond, second.x, first.x) as tf.Tensor2D;
    // Failed: a non-finite input or solution, or a shifted pass that broke down or did not converge.
    const finiteIn = [d, offX, offY, r]
      .filter((t) => t.size > 0)
      .map((t) => tf.min(tf.cast(tf.isFinite(tf.reshape(t, [batch, -1])), 'float32'), 1, true))
      .reduce((a, b) => tf.mul(a, b));
    const finiteX = tf.min(tf.cast(tf.isFinite(x), 'float32'), 1, true);
    const failed = tf.maximum(tf.sub(1, tf.mul(finiteIn, finiteX)), tf.mul(notPd, second.bad)) as tf.Tensor2D;
    const flag = tf.where(
      tf.cast(failed, 'bool'),
      tf.fill(failed.shape, SolveFlag.failed),
      tf.mul(notPd, SolveFlag.regularised),
    );
    const ok = tf.cast(tf.sub(1, failed), 'bool');
    return {
      x: tf.where(ok, x, tf.zerosLike(x)) as tf.Tensor2D,
      flags: tf.cast(tf.reshape(flag, [batch]), 'int32') as tf.Tensor1D,
    };
  });
}

/**
 * q̈ of an `lgn` (graph Lagrangian) model for any number of nodes N: on a path (an O(N) tridiagonal
 * solve), or on the nx × ny `grid` of a grid model (the sparse CG solve {@link solveGridCg}).
 * Differentiable in `params` (path).
 * @param params raw weights as stored in the model @param spec from `specFromModel` (2 input scales)
 * @param q `[batch, N]` @param qd `[batch, N]`
 * @param grid the run grid of a grid model (nx · ny = N); absent: a path
 */
export function lgnAccelerations(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
  grid?: GridSize,
): Accelerations {
  return tidy(() => {
    if (grid !== undefined) {
      const wrapped = wrapAngles(q, nodeAngles(spec, q));
      const g = gridTermsFolded(foldScales(params, spec), spec, grid, wrapped, qd);
      const { x, flags } = solveGridCg(g.diag, g.offX, g.offY, g.rhs, spec.hvvEpsilon);
      return { qdd: x, flags };
    }
    const t = bandedTermsFolded(foldScales(params, spec), spec, wrapAngles(q, nodeAngles(spec, q)), qd);
    const { x, flags } = solveTridiagonal(t.diag, t.off, t.rhs, spec.hvvEpsilon);
    return { qdd: x, flags };
  });
}
