import * as tf from '@tensorflow/tfjs-core';
import { Feature, type InputMap, inputMapOf } from '../model/inputMap.js';
import type { Activation, LoadedModel } from '../model/metadata.js';
import { sigma } from './activations.js';
import { tidy } from './tidy.js';

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
   * The input map of an `lnn`/`baseline` model (`inputMapOf`): which features of q the network sees
   * (wrap(q), or cos/sin of angles under `input.angleEmbedding: "sincos"`), whether velocities enter as
   * q̇ or atanh(q̇) (`input.velocityEmbedding`) and the scale of every input.
   * Absent for `lgn` (whose edge inputs are q_i, q_{i+1}, q̇_i, q̇_{i+1}) and for hand-built specs: the
   * input is then x = (q, q̇) scaled by `qScale`, `qdScale`.
   */
  inputMap?: InputMap;
  /**
   * Diagonal shift ε for a non-positive-definite H_vv.
   * @default undefined (relative: DEFAULT_EPSILON_RELATIVE · mean |diag H_vv| per state, nn/solvePolicy.ts)
   */
  hvvEpsilon?: number;
}

/** The {@link NetworkSpec} stored in a model's metadata. */
export function specFromModel(model: Pick<LoadedModel, 'metadata'>): NetworkSpec {
  const m = model.metadata;
  return {
    activation: m.architecture.activation,
    angles: m.kind === 'lgn' ? [m.angles[0], m.angles[0]] : [...m.angles],
    qScale: [...m.input.qScale],
    qdScale: [...m.input.qdScale],
    outputScale: m.output.scale,
    hvvEpsilon: m.solver?.hvvEpsilon,
    ...(m.kind === 'lgn' ? {} : { inputMap: inputMapOf(m) }),
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
 * last layer, so that the folded network maps the unscaled input x (features of q, then q̇; see
 * `inputMapOf`) straight to the physical output. Differentiable (use inside the loss when training).
 * @returns new tensors; the caller owns them (or calls this inside tf.tidy)
 */
export function foldScales(params: MlpParams, spec: NetworkSpec): MlpParams {
  const last = params.kernels.length - 1;
  const scales = spec.inputMap ? Array.from(spec.inputMap.scale) : [...spec.qScale, ...spec.qdScale];
  const inScale = tf.tensor2d(scales, [scales.length, 1]);
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

/** The unscaled q features of a batch and their slopes d feature / d q (see {@link embedQ}). */
export interface EmbeddedQ {
  /** q inputs `[batch, qWidth]`: cos q_i, sin q_i, wrap(q_i) or q_i per input. */
  features: tf.Tensor2D;
  /** d features / d q_{coord} `[batch, qWidth]`: −sin q_i, cos q_i or 1. */
  slopes: tf.Tensor2D;
}

/**
 * The q inputs of the network for `q` `[batch, n]` through `map` (see `inputMapOf`), with their slopes,
 * on tensors: the tensor form of `featureValue` / `featureSlope`. Backend-agnostic ops.
 */
export function embedQ(map: InputMap, q: tf.Tensor2D): EmbeddedQ {
  return tidy(() => {
    const { qWidth, feature, wrapped } = map;
    const picked = spreadToInputs(map, q);
    const mask = (f: number) =>
      Array.from({ length: qWidth }, (_, k) => (feature[k] === f ? 1 : 0)) as number[];
    const cosMask = mask(Feature.cos);
    const sinMask = mask(Feature.sin);
    const idMask = mask(Feature.identity);
    const c = tf.cos(picked);
    const s = tf.sin(picked);
    const row = (m: number[]) => tf.tensor2d(m, [1, qWidth]);
    let features = tf.add(tf.mul(c, row(cosMask)), tf.mul(s, row(sinMask)));
    let slopes = tf.sub(tf.mul(c, row(sinMask)), tf.mul(s, row(cosMask)));
    if (idMask.some((v) => v !== 0)) {
      const id = wrapAngles(picked, Array.from(wrapped, Boolean));
      features = tf.add(features, tf.mul(id, row(idMask)));
      slopes = tf.add(slopes, row(idMask));
    }
    return { features: features as tf.Tensor2D, slopes: slopes as tf.Tensor2D };
  });
}

/** Per q input k, column coord[k] of `v` `[batch, n]`: `[batch, qWidth]`. */
export function spreadToInputs(map: InputMap, v: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => tf.gather(v, tf.tensor1d(map.coord, 'int32'), 1) as tf.Tensor2D);
}

/**
 * Per coordinate i, the sum of `g` `[batch, qWidth]` over the q inputs of coordinate i: `[batch, n]`
 * (∂L/∂q from slope ⊙ ∂L/∂x). A GEMM with a constant 0/1 matrix, so differentiable in `g`.
 */
export function sumToCoordinates(map: InputMap, g: tf.Tensor2D): tf.Tensor2D {
  return tidy(() => {
    const { qWidth, dof, coord } = map;
    const sum = new Float32Array(qWidth * dof);
    for (let k = 0; k < qWidth; k++) sum[k * dof + coord[k]] = 1;
    return tf.matMul(g, tf.tensor2d(sum, [qWidth, dof]));
  });
}
