import type { System } from '../core/types.js';
import { createRng, normal } from '../math/random.js';
import type { LoadedModel, ModelMetadata } from '../model/metadata.js';
import { type NetworkSpec, specFromModel } from '../nn/mlp.js';
import type { ResolvedOptions } from './options.js';
import { sampleBox } from './trainingBox.js';

/** Mix a seed and a counter into a 32-bit seed (batches are a pure function of seed and draw index). */
export function mix(seed: number, k: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** Counters {@link mix}ed with the seed for each stream that is not a training batch. */
export const STREAMS = {
  /** The validation set. */
  validation: 0x7fffffff,
  /** The initial weights. */
  weights: 0x3c6ef372,
  /** The states that set a baseline's output scale. */
  outputScale: 0x5bd1e995,
} as const;

/** The {@link NetworkSpec} of model metadata (what `specFromModel` reads of a model). */
export function specFromMetadata(metadata: ModelMetadata): NetworkSpec {
  return specFromModel({ metadata });
}

/** Metadata of a new model: kind, architecture and input/output scaling over the training box. */
export function freshMetadata(o: ResolvedOptions, system: System): ModelMetadata {
  const n = system.dof;
  const maxAbs = (r: [number, number]) => Math.max(Math.abs(r[0]), Math.abs(r[1]));
  let qScale: number[];
  let qdScale: number[];
  let layers: number[];
  let scale = 1;
  if (o.kind === 'lgn') {
    qScale = [1 / maxAbs(o.box.q[0]), 1 / maxAbs(o.box.q[0])];
    qdScale = [1 / maxAbs(o.box.qd[0]), 1 / maxAbs(o.box.qd[0])];
    layers = [4, ...o.hidden, 1];
  } else {
    qScale = system.angles.map((a, i) => (a ? 1 : 1 / maxAbs(o.box.q[i])));
    // Velocity inputs: q̇ scaled to the box; atanh(q̇) (rapidity embedding) scaled to the rapidity box;
    // q̇ itself is already in (−1, 1) on a rapidity box.
    qdScale =
      o.velocityEmbedding === 'rapidity'
        ? o.box.qd.map((r) => 1 / maxAbs(r))
        : o.box.rapidity
          ? new Array(n).fill(1)
          : o.box.qd.map((r) => 1 / maxAbs(r));
    // Under sincos every angle is two inputs (cos θ, sin θ), already in [−1, 1] with qScale 1.
    const sincosAngles = o.angleEmbedding === 'sincos' ? system.angles.filter(Boolean).length : 0;
    layers = [2 * n + sincosAngles, ...o.hidden, o.kind === 'baseline' ? n : 1];
    if (o.kind === 'baseline') {
      // The baseline predicts q̈ directly: scale its output to the median |q̈| of the box.
      const s = sampleBox(system, o.box, createRng(mix(o.seed, STREAMS.outputScale)), 4096);
      const mags = Array.from(s.target, Math.abs).sort((a, b) => a - b);
      scale = mags[Math.floor(mags.length / 2)] || 1;
    }
  }
  return {
    formatVersion: 1,
    kind: o.kind,
    system: { id: system.id, params: { ...system.params } },
    dof: n,
    angles: o.kind === 'lgn' ? [system.angles[0] ?? false] : [...system.angles],
    input: {
      qScale,
      qdScale,
      ...(o.angleEmbedding === 'sincos' ? { angleEmbedding: 'sincos' as const } : {}),
      ...(o.velocityEmbedding === 'rapidity' ? { velocityEmbedding: 'rapidity' as const } : {}),
    },
    architecture: { layers, activation: o.activation },
    output: { scale },
    ...(o.kind === 'lgn' ? { graph: { type: 'path' as const, boundary: 'fixed' as const } } : {}),
    solver: { hvvEpsilon: 1e-6 },
  };
}

/** LeCun-normal kernels (σ = 1/√fan_in) and zero biases, from the seed: `[kernel0, bias0, kernel1, …]`. */
export function initWeights(layers: readonly number[], seed: number): Float32Array[] {
  const rng = createRng(mix(seed, STREAMS.weights));
  const out: Float32Array[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const w = new Float32Array(layers[l] * layers[l + 1]);
    const s = 1 / Math.sqrt(layers[l]);
    for (let i = 0; i < w.length; i++) w[i] = s * normal(rng);
    out.push(w, new Float32Array(layers[l + 1]));
  }
  return out;
}

/** A model's weights as `[kernel0, bias0, kernel1, …]` (copies). */
export function weightsOf(model: LoadedModel): Float32Array[] {
  return model.layers.flatMap((l) => [Float32Array.from(l.kernel), Float32Array.from(l.bias)]);
}
