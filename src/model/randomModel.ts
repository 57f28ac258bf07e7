import { createRng, normal } from '../math/random.js';
import { createModel } from './artifacts.js';
import type { AngleEmbedding } from './inputMap.js';
import {
  type Activation,
  FORMAT_VERSION,
  type LoadedModel,
  type ModelKind,
  type ModelMetadata,
} from './metadata.js';

/** Options of {@link createRandomModel}. */
export interface RandomModelOptions {
  /** @default 'lnn' */
  kind?: ModelKind;
  /** Degrees of freedom (lgn: nodes of the nominal training graph). @default 2 */
  dof?: number;
  /** Hidden widths. @default [128, 128] */
  hidden?: number[];
  /** @default 'softplus' ('relu' is accepted for baseline only) */
  activation?: Activation;
  /** RNG seed. @default 1 */
  seed?: number;
  /** System reference written into the metadata. @default { id: 'double-pendulum', params: {} } */
  system?: { id: string; params: Record<string, number> };
  /** Angle flags (`[dof]`, lgn `[1]`). @default all true (lnn/baseline), [false] (lgn) */
  angles?: boolean[];
  /** Velocity input scale, every coordinate. @default 0.1 */
  qdScale?: number;
  /** Position input scale, every coordinate. @default 1 */
  qScale?: number;
  /** Output scale. @default 1 */
  outputScale?: number;
  /** Standard deviation of the biases. @default 0 */
  biasStd?: number;
  /** How angles enter the network (lnn only for `sincos`). @default 'wrap' */
  angleEmbedding?: AngleEmbedding;
}

/**
 * A model with LeCun-normal random weights (N(0, 1/fan_in)) and complete metadata: for tests,
 * benchmarks and demos before a trained model exists. Its H_vv is generally not positive definite.
 * @example const model = createRandomModel({ hidden: [600, 600, 600], seed: 3 });
 */
export function createRandomModel(options: RandomModelOptions = {}): LoadedModel {
  const kind = options.kind ?? 'lnn';
  const dof = options.dof ?? 2;
  const hidden = options.hidden ?? [128, 128];
  const rng = createRng(options.seed ?? 1);
  const perInput = kind === 'lgn' ? 2 : dof;
  const angles = options.angles ?? (kind === 'lgn' ? [false] : new Array<boolean>(dof).fill(true));
  const embedding = options.angleEmbedding ?? 'wrap';
  const sincosAngles = embedding === 'sincos' ? angles.filter(Boolean).length : 0;
  const inputs = 2 * perInput + sincosAngles;
  const outputs = kind === 'baseline' ? dof : 1;
  const layers = [inputs, ...hidden, outputs];
  const metadata: ModelMetadata = {
    formatVersion: FORMAT_VERSION,
    kind,
    system: options.system ?? { id: 'double-pendulum', params: {} },
    dof,
    angles,
    input: {
      qScale: new Array<number>(perInput).fill(options.qScale ?? 1),
      qdScale: new Array<number>(perInput).fill(options.qdScale ?? 0.1),
      ...(embedding === 'sincos' ? { angleEmbedding: embedding } : {}),
    },
    architecture: { layers, activation: options.activation ?? 'softplus' },
    output: { scale: options.outputScale ?? 1 },
    ...(kind === 'lgn' ? { graph: { type: 'path' as const, boundary: 'fixed' as const } } : {}),
    trainingRanges: {
      q: new Array(angles.length).fill(0).map(() => [-Math.PI, Math.PI] as [number, number]),
      qd: new Array(angles.length).fill(0).map(() => [-10, 10] as [number, number]),
    },
    provenance: { command: 'createRandomModel', seed: options.seed ?? 1, trainer: 'none (random weights)' },
    metrics: {},
  };
  const biasStd = options.biasStd ?? 0;
  const values = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const fanIn = layers[l];
    const std = 1 / Math.sqrt(fanIn);
    const kernel = new Float32Array(fanIn * layers[l + 1]);
    for (let i = 0; i < kernel.length; i++) kernel[i] = std * normal(rng);
    const bias = new Float32Array(layers[l + 1]);
    for (let i = 0; i < bias.length; i++) bias[i] = biasStd * normal(rng);
    values.push({ kernel, bias });
  }
  return createModel(metadata, values, `random(${kind}, ${layers.join('→')}, seed ${options.seed ?? 1})`);
}
