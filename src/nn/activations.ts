import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../model/metadata.js';

// The tensor σ, σ', σ''. Reference definition: `activate` in model/reference.ts; test/nn-derivatives.test.ts
// ("exact LNN derivatives on TF.js tensors") pins them equal.

/** σ(z) and σ'(z) of a hidden layer, computed together (they share work). */
export interface ActivationValues {
  /** σ(z), same shape as z. */
  a: tf.Tensor;
  /** σ'(z), same shape as z. */
  d1: tf.Tensor;
}

/** σ(z) alone (forward passes that need no derivatives). */
export function sigma(name: Activation, z: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'softplus':
      return tf.softplus(z);
    case 'tanh':
      return tf.tanh(z);
    case 'relu':
      return tf.relu(z);
    default:
      throw new Error(`Unknown activation '${String(name)}'; expected softplus, tanh or relu.`);
  }
}

/**
 * σ and σ' at z. softplus: σ' = sigmoid(z); tanh: σ' = 1 − tanh²; relu: σ' = step(z).
 * @example const { a, d1 } = activation('softplus', z);
 */
export function activation(name: Activation, z: tf.Tensor): ActivationValues {
  switch (name) {
    case 'softplus':
      return { a: tf.softplus(z), d1: tf.sigmoid(z) };
    case 'tanh': {
      const a = tf.tanh(z);
      return { a, d1: tf.sub(1, tf.square(a)) };
    }
    case 'relu':
      return { a: tf.relu(z), d1: tf.step(z) };
    default:
      throw new Error(`Unknown activation '${String(name)}'; expected softplus, tanh or relu.`);
  }
}

/**
 * ḡ ⊙ σ''(z), the curvature weight of a layer in ∇²y = Σ_l J_lᵀ diag(ḡ_l ⊙ σ''(z_l)) J_l, written in
 * terms of δ = ḡ ⊙ σ'(z) to save operations: softplus σ'' = σ'(1 − σ') → δ(1 − σ');
 * tanh σ'' = −2σσ' → −2σδ; relu: zero (returns null).
 * @param delta ḡ ⊙ σ'(z) @param v the values returned by {@link activation} for the same z
 */
export function curvature(name: Activation, delta: tf.Tensor, v: ActivationValues): tf.Tensor | null {
  switch (name) {
    case 'softplus':
      return tf.mul(delta, tf.sub(1, v.d1));
    case 'tanh':
      return tf.mul(tf.mul(delta, v.a), -2);
    case 'relu':
      return null;
    default:
      throw new Error(`Unknown activation '${String(name)}'; expected softplus, tanh or relu.`);
  }
}
