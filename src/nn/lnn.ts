import * as tf from '@tensorflow/tfjs-core';
import { type LagrangianTerms, lagrangianTerms } from './lagrangianTerms.js';
import { foldScales, type MlpParams, type NetworkSpec, wrapAngles } from './mlp.js';
import { solveSymmetric, type TensorSolve } from './solve.js';
import { tidy } from './tidy.js';

/** q̈ of a batch and the per-state solve outcome. */
export interface Accelerations {
  /** q̈ `[batch, n]`. */
  qdd: tf.Tensor2D;
  /** `[batch]` int32 SolveFlag: 0 ok, 1 H_vv regularised, 2 failed (q̈ set to 0). */
  flags: tf.Tensor1D;
}

/**
 * Lagrangian terms of an `lnn` model for raw (unfolded) weights: builds the network input (wrapped
 * angles, or cos/sin of them under `input.angleEmbedding: "sincos"`; q̇, or atanh(q̇) under
 * `input.velocityEmbedding: "rapidity"`), folds the input and output scales
 * into the weights, then takes exact derivatives. Differentiable in `params`.
 * @param q `[batch, n]` @param qd `[batch, n]`
 * @example const { hvv } = lnnTerms(params, spec, q, qd);
 */
export function lnnTerms(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): LagrangianTerms {
  return tidy(() => {
    const folded = foldScales(params, spec);
    const map = spec.inputMap;
    // cos/sin are periodic: q features need no wrapping; the identity layout takes wrap(q).
    const qIn = map && !map.identity ? q : wrapAngles(q, spec.angles);
    return lagrangianTerms(folded, spec.activation, qIn, qd, map);
  });
}

/**
 * q̈ = H_vv⁻¹ (∂L/∂q − H_vq q̇) for Lagrangian terms, with a regularised, flagged solve.
 * @param epsilon diagonal shift for a non-positive-definite H_vv (default relative)
 */
export function eulerLagrange(terms: LagrangianTerms, epsilon?: number): TensorSolve {
  return tidy(() => solveSymmetric(terms.hvv, tf.sub(terms.gq, terms.hvqQd) as tf.Tensor2D, epsilon));
}

/**
 * Exact q̈ of an `lnn` model on tensors (batched, float32), differentiable in `params` — the function a
 * TF.js trainer puts inside `tf.variableGrads`.
 * @param params raw weights as stored in the model (tensors or variables)
 * @param q `[batch, n]` @param qd `[batch, n]`
 * @example const { qdd, flags } = lnnAccelerations(params, specFromModel(model), q, qd);
 */
export function lnnAccelerations(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): Accelerations {
  return tidy(() => {
    const { x, flags } = eulerLagrange(lnnTerms(params, spec, q, qd), spec.hvvEpsilon);
    return { qdd: x, flags };
  });
}

/**
 * Learned energy E = q̇·∂L/∂q̇ − L `[batch]` of an `lnn` model.
 * @param q `[batch, n]` @param qd `[batch, n]`
 */
export function lnnEnergy(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): tf.Tensor1D {
  return tidy(() => {
    const t = lnnTerms(params, spec, q, qd);
    return tf.sub(tf.sum(tf.mul(qd, t.gv), 1), t.L) as tf.Tensor1D;
  });
}
