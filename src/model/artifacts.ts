import { ModelFormatError } from './ModelFormatError.js';
import {
  type DenseLayer,
  expectedWeightSpecs,
  type LoadedModel,
  MODEL_FORMAT_NAME,
  MODEL_TOPOLOGY_CLASS,
  type ModelJson,
  type ModelMetadata,
  type WeightSpec,
} from './metadata.js';
import { checkLayers, checkNesting, validateMetadata } from './validate.js';

/** Written into `model.json → generatedBy`. */
export const GENERATED_BY = 'three-lnn 0.1.0';

/** A model serialised in memory: `model.json` plus its shard files. */
export interface SerializedModel {
  /** The content of `model.json`. */
  modelJson: ModelJson;
  /** Shard files in manifest order: file name and bytes. */
  shards: { path: string; data: ArrayBuffer }[];
}

/**
 * The subset of TF.js `tf.io.ModelArtifacts` a three-lnn model uses (what `IOHandler.save` receives and
 * `IOHandler.load` returns).
 */
export interface ModelArtifactsLike {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightSpecs?: WeightSpec[];
  weightData?: ArrayBuffer | ArrayBuffer[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** Options of {@link serializeModel}. */
export interface SerializeOptions {
  /**
   * Largest shard in bytes; weights are split across `weights.bin`, `weights-2.bin`, … when they exceed it.
   * @default 4194304 (4 MiB, as tf.io writes)
   */
  shardBytes?: number;
  /** Value of `generatedBy`. @default 'three-lnn 0.1.0' */
  generatedBy?: string;
}

/** Weights given as plain arrays (e.g. from `tensor.dataSync()`), shapes implied by the architecture. */
export interface LayerValues {
  kernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/**
 * Build a validated {@link LoadedModel} from metadata and weight values.
 * @param layers one `{kernel [in*out] row-major, bias [out]}` per dense layer
 * @throws ModelFormatError for bad metadata, wrong sizes or non-finite weights
 * @example const model = createModel(meta, [{ kernel: w0, bias: b0 }, { kernel: w1, bias: b1 }]);
 */
export function createModel(
  metadata: ModelMetadata,
  layers: readonly LayerValues[],
  source = 'memory',
): LoadedModel {
  // Depth first: structuredClone recurses and would overflow the stack on deeply nested metadata.
  checkNesting(metadata, source, 'metadata');
  const meta = validateMetadata(structuredClone(metadata), source);
  const widths = meta.architecture.layers;
  const dense: DenseLayer[] = layers.map((l, i) => ({
    kernel: Float32Array.from(l.kernel),
    bias: Float32Array.from(l.bias),
    inSize: widths[i],
    outSize: widths[i + 1],
  }));
  checkLayers(dense, meta, source);
  return { metadata: meta, layers: dense, source };
}

/** Concatenate the weights in manifest order as little-endian float32 bytes. */
function weightBytes(model: LoadedModel): Uint8Array {
  const count = model.layers.reduce((s, l) => s + l.kernel.length + l.bias.length, 0);
  const out = new Uint8Array(count * 4);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const l of model.layers) {
    for (const arr of [l.kernel, l.bias]) {
      for (let i = 0; i < arr.length; i++) {
        view.setFloat32(pos, arr[i], true);
        pos += 4;
      }
    }
  }
  return out;
}

/**
 * Serialise a model to `model.json` + shard files (in memory), as docs/model-format.md specifies.
 * @example const { modelJson, shards } = serializeModel(model);
 */
export function serializeModel(model: LoadedModel, options: SerializeOptions = {}): SerializedModel {
  const shardBytes = options.shardBytes ?? 4 * 1024 * 1024;
  if (!(shardBytes >= 4) || shardBytes % 4 !== 0) {
    throw new Error(`serializeModel: shardBytes must be a positive multiple of 4, got ${shardBytes}`);
  }
  const meta = model.metadata;
  const bytes = weightBytes(model);
  const shards: { path: string; data: ArrayBuffer }[] = [];
  for (let off = 0, i = 1; off < bytes.length || shards.length === 0; off += shardBytes, i++) {
    const part = bytes.slice(off, Math.min(bytes.length, off + shardBytes));
    shards.push({ path: i === 1 ? 'weights.bin' : `weights-${i}.bin`, data: part.buffer });
  }
  const modelJson: ModelJson = {
    format: MODEL_FORMAT_NAME,
    generatedBy: options.generatedBy ?? GENERATED_BY,
    convertedBy: null,
    modelTopology: {
      class: MODEL_TOPOLOGY_CLASS,
      layers: [...meta.architecture.layers],
      activation: meta.architecture.activation,
    },
    weightsManifest: [
      { paths: shards.map((s) => s.path), weights: expectedWeightSpecs(meta.architecture.layers) },
    ],
    userDefinedMetadata: { threeLnn: structuredClone(meta) },
  };
  return { modelJson, shards };
}

/**
 * The model as TF.js `ModelArtifacts` (one concatenated `weightData`), for a `tf.io.IOHandler`.
 * @example await tf.io.browserDownloads('my-model').save(toModelArtifacts(model));
 */
export function toModelArtifacts(model: LoadedModel): ModelArtifactsLike {
  const { modelJson } = serializeModel(model, { shardBytes: Number.MAX_SAFE_INTEGER - 7 });
  const bytes = weightBytes(model);
  return {
    modelTopology: modelJson.modelTopology,
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: null,
    weightSpecs: modelJson.weightsManifest[0].weights,
    weightData: bytes.buffer as ArrayBuffer,
    userDefinedMetadata: modelJson.userDefinedMetadata,
  };
}

/** Whether `x` looks like TF.js ModelArtifacts (has `weightSpecs`). */
export function isModelArtifacts(x: unknown): x is ModelArtifactsLike {
  return typeof x === 'object' && x !== null && 'weightSpecs' in x && 'userDefinedMetadata' in x;
}

/** Whether `x` is a {@link LoadedModel}. */
export function isLoadedModel(x: unknown): x is LoadedModel {
  return (
    typeof x === 'object' &&
    x !== null &&
    'metadata' in x &&
    'layers' in x &&
    Array.isArray((x as LoadedModel).layers)
  );
}

/** Whether `x` is a {@link SerializedModel}. */
export function isSerializedModel(x: unknown): x is SerializedModel {
  return typeof x === 'object' && x !== null && 'modelJson' in x && 'shards' in x;
}

/** Convert TF.js ModelArtifacts to the model.json + shards form. */
export function artifactsToSerialized(a: ModelArtifactsLike, source: string): SerializedModel {
  if (a.weightData === undefined) {
    throw new ModelFormatError(
      'missing-shard',
      source,
      'the ModelArtifacts have no weightData; load them with their weights.',
    );
  }
  const data = Array.isArray(a.weightData) ? a.weightData : [a.weightData];
  const paths = data.map((_, i) => `weightData[${i}]`);
  const modelJson = {
    format: a.format ?? MODEL_FORMAT_NAME,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths, weights: a.weightSpecs ?? [] }],
    userDefinedMetadata: a.userDefinedMetadata,
  } as unknown as ModelJson;
  return { modelJson, shards: data.map((d, i) => ({ path: paths[i], data: d })) };
}
