import { inputMapOf } from './inputMap.js';
import type { LoadedModel } from './metadata.js';

/** A model's dense layers with its input and output scales folded in, in float64. */
export interface FoldedWeights {
  /** `kernels[l]` `[inSize * outSize]` row-major, as `DenseLayer.kernel`. */
  kernels: Float64Array[];
  /** `biases[l]` `[outSize]`. */
  biases: Float64Array[];
}

/**
 * Fold a model's scales into its weights: row i of the first kernel times the scale of network input i
 * (`inputMapOf(meta).scale`: qScale of its coordinate for the q features, then qdScale; `lgn`: qScale then
 * qdScale of the edge inputs), and the last
 * kernel and bias times `output.scale`. The folded network maps the unscaled input x (features of q,
 * then q̇ or atanh q̇) straight to the physical output. The stored float32 weights are widened to float64
 * first and every product is one float64 multiplication, so a float32 upload of the result rounds the
 * exact product once. `nn/mlp.ts` `foldScales` is the tensor (differentiable) form used in training.
 * @example const { kernels, biases } = foldModelWeights(model);
 */
export function foldModelWeights(model: LoadedModel): FoldedWeights {
  const meta = model.metadata;
  const last = model.layers.length - 1;
  // lgn: the edge inputs (q_i, q_{i+1}, q̇_i, q̇_{i+1}) take qScale then qdScale, as in `foldScales`.
  const inScale =
    meta.kind === 'lgn' ? [...meta.input.qScale, ...meta.input.qdScale] : inputMapOf(meta).scale;
  const outScale = meta.output.scale;
  const kernels = model.layers.map((layer, l) => {
    const w = Float64Array.from(layer.kernel);
    if (l === 0) {
      for (let i = 0; i < layer.inSize; i++)
        for (let j = 0; j < layer.outSize; j++) w[i * layer.outSize + j] *= inScale[i];
    }
    if (l === last) for (let i = 0; i < w.length; i++) w[i] *= outScale;
    return w;
  });
  const biases = model.layers.map((layer, l) => {
    const b = Float64Array.from(layer.bias);
    if (l === last) for (let i = 0; i < b.length; i++) b[i] *= outScale;
    return b;
  });
  return { kernels, biases };
}
