import * as tf from '@tensorflow/tfjs-core';
import { foldScales, type MlpParams, mlpForward, type NetworkSpec, wrapAngles } from './mlp.js';
import { tidy } from './tidy.js';

/**
 * q̈ `[batch, n]` of a `baseline` model: the network maps (wrap(q)·qScale, q̇·qdScale) straight to
 * q̈ / output.scale. Differentiable in `params`.
 * @param params raw weights as stored in the model
 * @param q `[batch, n]` @param qd `[batch, n]`
 * @example const qdd = baselineAccelerations(params, specFromModel(model), q, qd);
 */
export function baselineAccelerations(
  params: MlpParams,
  spec: NetworkSpec,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): tf.Tensor2D {
  return tidy(() =>
    mlpForward(foldScales(params, spec), spec.activation, tf.concat([wrapAngles(q, spec.angles), qd], 1)),
  );
}
