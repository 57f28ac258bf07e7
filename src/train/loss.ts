import * as tf from '@tensorflow/tfjs-core';
import type { LossName } from './options.js';

/**
 * The loss of predicted against exact q̈ (`[batch, n]` each), a mean over every entry: `l1` |e|, `l2` e²,
 * `huber` ½e² for |e| ≤ δ, else δ(|e| − ½δ). Differentiable; call it inside `tf.variableGrads`.
 */
export function qddLoss(
  pred: tf.Tensor2D,
  target: tf.Tensor2D,
  loss: LossName,
  huberDelta: number,
): tf.Scalar {
  const e = tf.sub(pred, target);
  if (loss === 'l2') return tf.mean(tf.square(e));
  if (loss === 'huber') {
    const a = tf.abs(e);
    const d = huberDelta;
    return tf.mean(
      tf.where(tf.lessEqual(a, d), tf.mul(0.5, tf.square(a)), tf.sub(tf.mul(d, a), 0.5 * d * d)),
    );
  }
  return tf.mean(tf.abs(e));
}
