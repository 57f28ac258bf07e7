import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../../src/model/artifacts';
import type { LoadedModel } from '../../src/model/metadata';
import { referenceAccelerations } from '../../src/model/reference';
import { lnnAccelerations } from '../../src/nn/lnn';
import { type MlpParams, specFromModel } from '../../src/nn/mlp';

/** One weight to probe: layer, kernel or bias, flat index. */
export type WeightProbe = [layer: number, which: 'kernel' | 'bias', index: number];

/** The TF.js gradient of one weight and its float64 central finite difference. */
export interface WeightGradientCheck {
  label: string;
  autodiff: number;
  finiteDifference: number;
}

/**
 * Gradients of the loss mean((q̈ − target)²), q̈ from `lnnAccelerations` under `tf.variableGrads`, against
 * central differences (h = 1e-3, far above float32 weight rounding) of the same loss evaluated in float64
 * by `referenceAccelerations`, for the probed weights. Frees every tensor it makes.
 * @param q `[batch * dof]` @param qd `[batch * dof]` @param target `[batch * dof]`
 */
export function checkWeightGradients(
  model: LoadedModel,
  q: Float64Array,
  qd: Float64Array,
  target: Float64Array,
  probes: readonly WeightProbe[],
): WeightGradientCheck[] {
  const n = model.metadata.dof;
  const batch = q.length / n;
  const spec = specFromModel(model);
  // Variables copy their initial value; the tidy frees the initial tensors.
  const vars: MlpParams = tf.tidy(() => ({
    kernels: model.layers.map((l) => tf.variable(tf.tensor2d(l.kernel, [l.inSize, l.outSize]))),
    biases: model.layers.map((l) => tf.variable(tf.tensor1d(l.bias))),
  }));
  const Q = tf.tensor2d(Float32Array.from(q), [batch, n]);
  const V = tf.tensor2d(Float32Array.from(qd), [batch, n]);
  const T = tf.tensor2d(Float32Array.from(target), [batch, n]);
  const { value, grads } = tf.variableGrads(
    () => tf.mean(tf.square(tf.sub(lnnAccelerations(vars, spec, Q, V).qdd, T))) as tf.Scalar,
  );
  const loss64 = (layer: number, which: 'kernel' | 'bias', index: number, d: number): number => {
    const layers = model.layers.map((l, i) => {
      const kernel = Float64Array.from(l.kernel);
      const bias = Float64Array.from(l.bias);
      if (i === layer) (which === 'kernel' ? kernel : bias)[index] += d;
      return { kernel, bias };
    });
    const out = new Float64Array(batch * n);
    referenceAccelerations(createModel(model.metadata, layers), q, qd, out, batch);
    let s = 0;
    for (let i = 0; i < out.length; i++) s += (out[i] - target[i]) ** 2;
    return s / out.length;
  };
  const h = 1e-3;
  const checks = probes.map(([layer, which, index]) => {
    const v = (which === 'kernel' ? vars.kernels : vars.biases)[layer] as tf.Variable;
    return {
      label: `∂loss/∂${which}${layer}[${index}]`,
      autodiff: grads[v.name].dataSync()[index],
      finiteDifference: (loss64(layer, which, index, h) - loss64(layer, which, index, -h)) / (2 * h),
    };
  });
  tf.dispose([value, ...Object.values(grads), Q, V, T, ...vars.kernels, ...vars.biases]);
  return checks;
}
