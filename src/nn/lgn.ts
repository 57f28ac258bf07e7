import * as tf from '@tensorflow/tfjs-core';
import { packedLagrangianTerms } from './lagrangianTerms.js';
import type { Accelerations } from './lnn.js';
import { foldScales, type MlpParams, type NetworkSpec, wrapAngles } from './mlp.js';
import { solveTridiagonal } from './solve.js';
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

/**
 * q̈ of an `lgn` (graph Lagrangian) model for any number of nodes N, with an O(N) tridiagonal solve.
 * Differentiable in `params`.
 * @param params raw weights as stored in the model @param spec from `specFromModel` (2 input scales)
 * @param q `[batch, N]` @param qd `[batch, N]`
 */
export function lgnAccelerations(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): Accelerations {
  return tidy(() => {
    const t = bandedTermsFolded(foldScales(params, spec), spec, wrapAngles(q, nodeAngles(spec, q)), qd);
    const { x, flags } = solveTridiagonal(t.diag, t.off, t.rhs, spec.hvvEpsilon);
    return { qdd: x, flags };
  });
}
