import * as tf from '@tensorflow/tfjs-core';
import type { Activation, LoadedModel } from '../model/metadata';
import { sigma } from './activations';
import { tidy } from './tidy';

/**
 * Weights of a dense network as tensors (or `tf.Variable`s while training): `kernels[l]` `[in, out]`,
 * `biases[l]` `[out]`. The functions of `src/nn` take weights as arguments and never capture them, so
 * `tf.variableGrads` differentiates through them.
 */
export interface MlpParams {
  kernels: tf.Tensor2D[];
  biases: tf.Tensor1D[];
}

/**
 * The physics around the network: input wrapping and scaling, output scaling, activation
 * (docs/model-format.md). Build one from a model with {@link specFromModel}.
 */
export interface NetworkSpec {
  activation: Activation;
  /** Which input positions are angles (wrapped into [−π, π)): `[n]` (lgn: `[2]`, the edge's two nodes). */
  angles: readonly boolean[];
  /** `[n]` (lgn: `[2]`). */
  qScale: readonly number[];
  /** `[n]` (lgn: `[2]`). */
  qdScale: readonly number[];
  /** The network output is multiplied by this. */
  outputScale: number;
  /**
   * Diagonal shift ε for a non-positive-definite H_vv.
   * @default undefined (relative: 1e-3 · mean |diag H_vv| per state)
   */
  hvvEpsilon?: number;
}

/** The {@link NetworkSpec} stored in a model's metadata. */
export function specFromModel(model: LoadedModel): NetworkSpec {
  const m = model.metadata;
  return {
    activation: m.architecture.activation,
    angles: m.kind === 'lgn' ? [m.angles[0], m.angles[0]] : [...m.angles],
    qScale: [...m.input.qScale],
    qdScale: [...m.input.qdScale],
    outputScale: m.output.scale,
    hvvEpsilon: m.solver?.hvvEpsilon,
  };
}

/**
 * Upload a model's weights as float32 tensors (kept: dispose them with {@link disposeParams}).
 * @example const params = paramsFromModel(model); … disposeParams(params);
 */
export function paramsFromModel(model: LoadedModel): MlpParams {
  return {
    kernels: model.layers.map((l) => tf.tensor2d(l.kernel, [l.inSize, l.outSize], 'float32')),
    biases: model.layers.map((l) => tf.tensor1d(l.bias, 'float32')),
  };
}

/** Dispose every tensor of `params`. */
export function disposeParams(params: MlpParams): void {
  for (const t of [...params.kernels, ...params.biases]) t.dispose();
}

/**
 * Fold the input scales into the first kernel (row i times its scale) and the output scale into the
 * last layer, so that the folded network maps the unscaled input x = [wrap(q), q̇] straight to the
 * physical output. Differentiable (use inside the loss when training).
 * @returns new tensors; the caller owns them (or calls this inside tf.tidy)
 */
export function foldScales(params: MlpParams, spec: NetworkSpec): MlpParams {
  const last = params.kernels.length - 1;
  const inScale = tf.tensor2d([...spec.qScale, ...spec.qdScale], [spec.qScale.length * 2, 1]);
  const kernels = params.kernels.map((k, l) => {
    let w: tf.Tensor2D = k;
    if (l === 0) w = tf.mul(w, inScale);
    if (l === last) w = tf.mul(w, spec.outputScale);
    return w === k ? tf.clone(k) : w;
  });
  const biases = params.biases.map((b, l) =>
    l === last ? (tf.mul(b, spec.outputScale) as tf.Tensor1D) : tf.clone(b),
  );
  inScale.dispose();
  return { kernels, biases };
}

/**
 * wrap(θ) = θ − 2π·floor((θ + π)/2π) on the angle columns of `q` `[batch, n]`; other columns unchanged.
 */
export function wrapAngles(q: tf.Tensor2D, angles: readonly boolean[]): tf.Tensor2D {
  if (!angles.some(Boolean)) return q;
  return tidy(() => {
    const twoPi = 2 * Math.PI;
    const wrapped = tf.sub(q, tf.mul(tf.floor(tf.div(tf.add(q, Math.PI), twoPi)), twoPi));
    if (angles.every(Boolean)) return wrapped as tf.Tensor2D;
    const mask = tf.tensor2d(
      angles.map((a) => (a ? 1 : 0)),
      [1, angles.length],
    );
    return tf.add(q, tf.mul(tf.sub(wrapped, q), mask)) as tf.Tensor2D;
  });
}

/**
 * Plain forward pass y(x) `[batch, outputs]` of a dense network; hidden layers use `act`, the last layer
 * is linear.
 * @param x `[batch, inputs]`
 */
export function mlpForward(params: MlpParams, act: Activation, x: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    let a: tf.Tensor2D = x;
    const last = params.kernels.length - 1;
    for (let l = 0; l <= last; l++) {
      const z = tf.add(tf.matMul(a, params.kernels[l]), params.biases[l]) as tf.Tensor2D;
      a = l === last ? z : (sigma(act, z) as tf.Tensor2D);
    }
    return a;
  });
}
