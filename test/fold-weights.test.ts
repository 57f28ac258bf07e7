/**
 * `foldModelWeights` (float64, the js and webgl-fused routes) folds the same scales into the same layers
 * as `foldScales` (tensors, training): the first kernel by input scale, the last layer by output scale.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { foldModelWeights } from '../src/model/foldWeights';
import { createRandomModel } from '../src/model/randomModel';
import { foldScales, paramsFromModel, specFromModel } from '../src/nn/mlp';

describe('foldModelWeights', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const models = [
    [
      'lnn, wrap',
      createRandomModel({ dof: 2, hidden: [6, 5], seed: 2, qScale: 0.7, qdScale: 0.3, outputScale: 1.7 }),
    ],
    [
      'lnn, sincos',
      createRandomModel({
        dof: 3,
        hidden: [4],
        seed: 3,
        qScale: 0.5,
        qdScale: 0.2,
        outputScale: 3,
        angleEmbedding: 'sincos',
      }),
    ],
    [
      'lgn',
      createRandomModel({
        kind: 'lgn',
        dof: 4,
        hidden: [5, 5],
        seed: 4,
        qScale: 2,
        qdScale: 0.25,
        outputScale: 0.5,
      }),
    ],
  ] as const;

  it.each(models)('%s: equals foldScales to float32 rounding', (_, model) => {
    const folded = foldModelWeights(model);
    const params = paramsFromModel(model);
    const tensors = foldScales(params, specFromModel(model));
    for (let l = 0; l < model.layers.length; l++) {
      const k = tensors.kernels[l].dataSync();
      const b = tensors.biases[l].dataSync();
      expect(folded.kernels[l]).toBeInstanceOf(Float64Array);
      expect(folded.kernels[l].length).toBe(k.length);
      for (let i = 0; i < k.length; i++) expect(folded.kernels[l][i]).toBeCloseTo(k[i], 6);
      for (let i = 0; i < b.length; i++) expect(folded.biases[l][i]).toBeCloseTo(b[i], 6);
    }
    tf.dispose([...params.kernels, ...params.biases, ...tensors.kernels, ...tensors.biases]);
  });

  it('each folded weight is one float64 product of the stored weight and its scale', () => {
    const model = models[0][1];
    const { kernels, biases } = foldModelWeights(model);
    const [first, , last] = model.layers;
    const out = model.metadata.output.scale;
    expect(kernels[0][1]).toBe(first.kernel[1] * model.metadata.input.qScale[0]);
    expect(kernels[0][3 * first.outSize]).toBe(
      first.kernel[3 * first.outSize] * model.metadata.input.qdScale[1],
    );
    expect(kernels[1]).toEqual(Float64Array.from(model.layers[1].kernel));
    expect(kernels[2][0]).toBe(last.kernel[0] * out);
    expect(biases[2][0]).toBe(last.bias[0] * out);
  });
});
