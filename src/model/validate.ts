import {
  ANGLE_EMBEDDINGS,
  type AngleEmbedding,
  VELOCITY_EMBEDDINGS,
  type VelocityEmbedding,
} from './inputMap.js';
import { ModelFormatError } from './ModelFormatError.js';
import {
  ACTIVATIONS,
  type Activation,
  type DenseLayer,
  expectedIo,
  expectedWeightSpecs,
  FORMAT_VERSION,
  MODEL_FORMAT_NAME,
  MODEL_KINDS,
  type ModelJson,
  type ModelKind,
  type ModelMetadata,
  type WeightSpec,
} from './metadata.js';

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function isPositiveInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0;
}

const FIELD_DOC = 'see docs/model-format.md for the field list';

/**
 * Check the physics metadata (`userDefinedMetadata.threeLnn`) of a model and return it typed.
 * @param meta the parsed metadata object
 * @param source path/URL/`'memory'`, used in messages
 * @throws ModelFormatError naming the first problem and the fix
 */
export function validateMetadata(meta: unknown, source: string): ModelMetadata {
  const fail = (problem: ConstructorParameters<typeof ModelFormatError>[0], detail: string): never => {
    throw new ModelFormatError(problem, source, detail);
  };
  if (!isObject(meta)) {
    return fail(
      'missing-field',
      'model.json has no userDefinedMetadata.threeLnn object; this is not a three-lnn model (or it was saved without its physics metadata). Re-export it with saveModel or the training scripts.',
    );
  }
  const need = (key: string): unknown => {
    if (meta[key] === undefined || meta[key] === null) {
      fail('missing-field', `userDefinedMetadata.threeLnn.${key} is missing; ${FIELD_DOC}.`);
    }
    return meta[key];
  };
  const version = need('formatVersion');
  if (version !== FORMAT_VERSION) {
    fail(
      'unknown-version',
      `formatVersion ${JSON.stringify(version)} is not supported; this reader understands version ${FORMAT_VERSION}. Use a three-lnn release that reads it, or re-export the model as version ${FORMAT_VERSION}.`,
    );
  }
  const kind = need('kind');
  if (typeof kind !== 'string' || !MODEL_KINDS.includes(kind as ModelKind)) {
    fail(
      'unknown-kind',
      `kind ${JSON.stringify(kind)} is unknown; expected one of ${MODEL_KINDS.join(', ')}.`,
    );
  }
  const k = kind as ModelKind;

  const system = need('system');
  if (!isObject(system) || typeof system.id !== 'string' || system.id.length === 0) {
    fail('bad-field', 'system must be { "id": "<system id>", "params": { … } } with a non-empty id.');
  }
  const sys = system as Json;
  if (sys.params === undefined) sys.params = {};
  if (!isObject(sys.params) || !Object.values(sys.params).every(isFiniteNumber)) {
    fail('bad-field', 'system.params must map parameter names to finite numbers, e.g. { "g": 9.8 }.');
  }

  const dof = need('dof');
  if (!isPositiveInt(dof)) fail('bad-field', `dof must be a positive integer, got ${JSON.stringify(dof)}.`);
  const n = dof as number;
  const coordCount = k === 'lgn' ? 1 : n;
  const inputCount = k === 'lgn' ? 2 : n;

  const angles = need('angles');
  if (!Array.isArray(angles) || !angles.every((a) => typeof a === 'boolean')) {
    fail('bad-field', 'angles must be an array of booleans (true where a coordinate is an angle).');
  }
  if ((angles as boolean[]).length !== coordCount) {
    fail(
      'bad-field',
      `angles has ${(angles as boolean[]).length} entries but a ${k} model with dof ${n} needs ${coordCount}` +
        (k === 'lgn' ? ' (one flag shared by every node).' : ' (one per coordinate).'),
    );
  }

  const input = need('input');
  if (!isObject(input)) fail('bad-field', 'input must be { "qScale": number[], "qdScale": number[] }.');
  for (const key of ['qScale', 'qdScale'] as const) {
    const v = (input as Json)[key];
    if (!Array.isArray(v)) fail('missing-field', `input.${key} is missing; it must be an array of numbers.`);
    const arr = v as unknown[];
    if (arr.length !== inputCount) {
      fail(
        'bad-field',
        `input.${key} has ${arr.length} entries but a ${k} model with dof ${n} needs ${inputCount} (one per network input coordinate).`,
      );
    }
    if (!arr.every((s) => isFiniteNumber(s) && s !== 0)) {
      fail('bad-field', `input.${key} must hold finite, non-zero numbers, got ${JSON.stringify(arr)}.`);
    }
  }
  const embedding = (input as Json).angleEmbedding;
  if (embedding !== undefined && !ANGLE_EMBEDDINGS.includes(embedding as AngleEmbedding)) {
    fail(
      'bad-field',
      `input.angleEmbedding ${JSON.stringify(embedding)} is unknown; expected one of ${ANGLE_EMBEDDINGS.join(', ')} (or leave it out for wrap).`,
    );
  }
  if (embedding === 'sincos' && k !== 'lnn') {
    fail(
      'bad-field',
      `input.angleEmbedding "sincos" is supported for lnn models only, not ${k}; use "wrap".`,
    );
  }
  const velocity = (input as Json).velocityEmbedding;
  if (velocity !== undefined && !VELOCITY_EMBEDDINGS.includes(velocity as VelocityEmbedding)) {
    fail(
      'bad-field',
      `input.velocityEmbedding ${JSON.stringify(velocity)} is unknown; expected one of ${VELOCITY_EMBEDDINGS.join(', ')} (or leave it out for identity).`,
    );
  }
  if (velocity === 'rapidity' && k !== 'lnn') {
    fail(
      'bad-field',
      `input.velocityEmbedding "rapidity" is supported for lnn models only, not ${k}; use "identity".`,
    );
  }
  const sincosAngles = embedding === 'sincos' ? (angles as boolean[]).filter(Boolean).length : 0;

  const arch = need('architecture');
  if (!isObject(arch)) fail('bad-field', 'architecture must be { "layers": int[], "activation": string }.');
  const layers = (arch as Json).layers;
  if (!Array.isArray(layers) || layers.length < 2 || !layers.every(isPositiveInt)) {
    fail(
      'bad-field',
      `architecture.layers must list at least two positive integer widths (input … output), got ${JSON.stringify(layers)}.`,
    );
  }
  const widths = layers as number[];
  const act = (arch as Json).activation;
  if (typeof act !== 'string' || !ACTIVATIONS.includes(act as Activation)) {
    fail(
      'unknown-activation',
      `architecture.activation ${JSON.stringify(act)} is unknown; expected one of ${ACTIVATIONS.join(', ')}.`,
    );
  }
  if (act === 'relu' && k !== 'baseline') {
    fail(
      'unknown-activation',
      `activation relu has a zero second derivative, so a ${k} model cannot use it (H_vv would be zero). Use softplus or tanh.`,
    );
  }
  const io = expectedIo(k, n, sincosAngles);
  if (widths[0] !== io.inputs || widths[widths.length - 1] !== io.outputs) {
    fail(
      'shape-mismatch',
      `architecture.layers ${JSON.stringify(widths)} does not fit a ${k} model with dof ${n}: it needs ${io.inputs} inputs and ${io.outputs} output(s).`,
    );
  }

  const output = need('output');
  if (!isObject(output) || !isFiniteNumber(output.scale) || output.scale === 0) {
    fail('bad-field', 'output must be { "scale": <finite non-zero number> }.');
  }

  if (k === 'lgn') {
    const graph = meta.graph;
    if (graph === undefined) {
      fail('missing-field', 'graph is missing; an lgn model needs { "type": "path", "boundary": "fixed" }.');
    }
    if (!isObject(graph) || graph.type !== 'path' || graph.boundary !== 'fixed') {
      fail(
        'bad-field',
        `graph ${JSON.stringify(graph)} is not supported; version 1 knows only { "type": "path", "boundary": "fixed" }.`,
      );
    }
  }

  const ranges = meta.trainingRanges;
  if (ranges !== undefined) {
    const okBox = (v: unknown): boolean =>
      Array.isArray(v) &&
      (v.length === coordCount || v.length === n) &&
      v.every((r) => Array.isArray(r) && r.length === 2 && r.every(isFiniteNumber) && r[0] <= r[1]);
    if (!isObject(ranges) || !okBox(ranges.q) || !okBox(ranges.qd)) {
      fail(
        'bad-field',
        `trainingRanges must be { "q": [lo, hi][], "qd": [lo, hi][] } with ${coordCount} finite [lo ≤ hi] pairs each.`,
      );
    }
  }

  const solver = meta.solver;
  if (solver !== undefined) {
    if (!isObject(solver)) fail('bad-field', 'solver must be an object such as { "hvvEpsilon": 1e-3 }.');
    const eps = (solver as Json).hvvEpsilon;
    if (eps !== undefined && !(isFiniteNumber(eps) && eps >= 0)) {
      fail('bad-field', `solver.hvvEpsilon must be a finite number ≥ 0, got ${JSON.stringify(eps)}.`);
    }
  }
  if (meta.provenance !== undefined && !isObject(meta.provenance)) {
    fail('bad-field', 'provenance must be an object (command, seed, data, steps, …).');
  }
  if (meta.metrics !== undefined && !isObject(meta.metrics)) {
    fail('bad-field', 'metrics must be an object of measured values.');
  }
  return meta as unknown as ModelMetadata;
}

/**
 * Check a parsed `model.json` (format marker, topology, metadata, weights manifest) and return it typed.
 * @throws ModelFormatError naming the first problem and the fix
 */
export function validateModelJson(json: unknown, source: string): ModelJson {
  if (!isObject(json)) {
    throw new ModelFormatError('bad-json', source, 'model.json must hold a JSON object.');
  }
  if (json.format !== undefined && json.format !== MODEL_FORMAT_NAME) {
    throw new ModelFormatError(
      'bad-format',
      source,
      `model.json has format ${JSON.stringify(json.format)}; a three-lnn model has "format": "${MODEL_FORMAT_NAME}". Is this a plain TF.js model? Convert it with saveModel.`,
    );
  }
  const udm = json.userDefinedMetadata;
  const meta = validateMetadata(isObject(udm) ? udm.threeLnn : undefined, source);
  const widths = meta.architecture.layers;

  const topo = json.modelTopology;
  if (isObject(topo)) {
    if (
      Array.isArray(topo.layers) &&
      (topo.layers.length !== widths.length || topo.layers.some((w, i) => w !== widths[i]))
    ) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `modelTopology.layers ${JSON.stringify(topo.layers)} disagrees with userDefinedMetadata.threeLnn.architecture.layers ${JSON.stringify(widths)}; make them equal.`,
      );
    }
    if (topo.activation !== undefined && topo.activation !== meta.architecture.activation) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `modelTopology.activation "${String(topo.activation)}" disagrees with architecture.activation "${meta.architecture.activation}"; make them equal.`,
      );
    }
  }

  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length === 0) {
    throw new ModelFormatError(
      'missing-field',
      source,
      'model.json has no weightsManifest; it must list the weight shards and the weights stored in them.',
    );
  }
  const specs: WeightSpec[] = [];
  for (const group of manifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFormatError(
        'bad-field',
        source,
        'each weightsManifest entry must be { "paths": string[], "weights": [{ name, shape, dtype }] }.',
      );
    }
    if (!group.paths.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new ModelFormatError('bad-field', source, 'weightsManifest paths must be non-empty strings.');
    }
    specs.push(...(group.weights as WeightSpec[]));
  }
  checkWeightSpecs(specs, widths, source);
  return json as unknown as ModelJson;
}

/** Check manifest entries against the architecture: names, order, shapes and dtype. */
export function checkWeightSpecs(
  specs: readonly WeightSpec[],
  widths: readonly number[],
  source: string,
): void {
  const expected = expectedWeightSpecs(widths);
  const layersText = JSON.stringify(widths);
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const got = specs[i];
    if (got === undefined) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `the weights manifest ends after ${specs.length} entries but architecture.layers ${layersText} needs ${expected.length}; missing ${want.name} ${JSON.stringify(want.shape)}.`,
      );
    }
    if (got.name !== want.name) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `weights manifest entry ${i} is "${got.name}" but "${want.name}" is expected there (order: dense_0/kernel, dense_0/bias, dense_1/kernel, …).`,
      );
    }
    if (got.dtype !== 'float32') {
      throw new ModelFormatError(
        'bad-field',
        source,
        `weight ${got.name} has dtype ${JSON.stringify(got.dtype)}; version 1 stores float32 only (no quantisation).`,
      );
    }
    const shape = got.shape;
    if (
      !Array.isArray(shape) ||
      shape.length !== want.shape.length ||
      shape.some((d, j) => d !== want.shape[j])
    ) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `weight ${got.name} has shape ${JSON.stringify(shape)} in the manifest but architecture.layers ${layersText} needs ${JSON.stringify(want.shape)}; the manifest and the architecture disagree.`,
      );
    }
  }
  if (specs.length > expected.length) {
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `the weights manifest lists ${specs.length} weights but architecture.layers ${layersText} has only ${expected.length} (extra: ${specs[expected.length].name}).`,
    );
  }
}

/** The shard paths of a manifest in storage order. */
export function shardPaths(json: ModelJson): string[] {
  return json.weightsManifest.flatMap((g) => g.paths);
}

/**
 * Slice the concatenated weight bytes into dense layers and check that every weight is finite.
 * @param json a validated model.json
 * @param shards the shard contents, in the order of {@link shardPaths}
 * @throws ModelFormatError for a short or long byte total, or a NaN/Inf weight
 */
export function decodeWeights(json: ModelJson, shards: readonly ArrayBuffer[], source: string): DenseLayer[] {
  const widths = json.userDefinedMetadata.threeLnn.architecture.layers;
  const specs = expectedWeightSpecs(widths);
  const needed = specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  const paths = shardPaths(json);
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  if (total < needed) {
    throw new ModelFormatError(
      'short-shard',
      source,
      `the weight shards (${paths.join(', ')}) hold ${total} bytes but the manifest needs ${needed}; a shard is truncated or missing data. Re-download or re-export the model.`,
    );
  }
  if (total > needed) {
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `the weight shards (${paths.join(', ')}) hold ${total} bytes but the manifest describes only ${needed}; the shards belong to a different model or the manifest is wrong.`,
    );
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of shards) {
    all.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  // Little-endian float32 as stored by tf.io; copying into a fresh buffer also fixes alignment.
  const view = new DataView(all.buffer);
  const layers: DenseLayer[] = [];
  let pos = 0;
  const read = (spec: WeightSpec): Float32Array => {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const v = view.getFloat32(pos + 4 * i, true);
      if (!Number.isFinite(v)) {
        throw new ModelFormatError(
          'non-finite-weights',
          source,
          `weight ${spec.name} has a non-finite value (${v}) at flat index ${i}; the model diverged during training or the file is corrupt. Use an earlier checkpoint.`,
        );
      }
      out[i] = v;
    }
    pos += 4 * size;
    return out;
  };
  for (let i = 0; i + 1 < widths.length; i++) {
    const kernel = read(specs[2 * i]);
    const bias = read(specs[2 * i + 1]);
    layers.push({ kernel, bias, inSize: widths[i], outSize: widths[i + 1] });
  }
  return layers;
}

/**
 * Check in-memory layers against metadata: count, sizes and finiteness.
 * @throws ModelFormatError naming the first problem
 */
export function checkLayers(layers: readonly DenseLayer[], meta: ModelMetadata, source: string): void {
  const widths = meta.architecture.layers;
  if (layers.length !== widths.length - 1) {
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `${layers.length} dense layers given but architecture.layers ${JSON.stringify(widths)} needs ${widths.length - 1}.`,
    );
  }
  layers.forEach((l, i) => {
    const [kn, bn] = [`dense_${i}/kernel`, `dense_${i}/bias`];
    if (l.kernel.length !== widths[i] * widths[i + 1] || l.bias.length !== widths[i + 1]) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `${kn} has ${l.kernel.length} values and ${bn} ${l.bias.length} but architecture.layers ${JSON.stringify(widths)} needs ${widths[i] * widths[i + 1]} and ${widths[i + 1]}.`,
      );
    }
    for (const [name, arr] of [
      [kn, l.kernel],
      [bn, l.bias],
    ] as const) {
      for (let j = 0; j < arr.length; j++) {
        if (!Number.isFinite(arr[j])) {
          throw new ModelFormatError(
            'non-finite-weights',
            source,
            `weight ${name} has a non-finite value (${arr[j]}) at flat index ${j}; the model diverged during training or the data is corrupt.`,
          );
        }
      }
    }
  });
}
