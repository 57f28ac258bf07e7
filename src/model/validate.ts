import {
  ANGLE_EMBEDDINGS,
  type AngleEmbedding,
  VELOCITY_EMBEDDINGS,
  type VelocityEmbedding,
} from './inputMap.js';
import { ModelFormatError, type ModelProblem, showValue } from './ModelFormatError.js';
import {
  ACTIVATIONS,
  type Activation,
  type DenseLayer,
  expectedIo,
  expectedWeightSpecs,
  FORMAT_VERSION,
  MAX_GRAPH_SIDE,
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

/** Longest `system.lagrangian` text accepted (the expression parser's own limit). */
const MAX_LAGRANGIAN_TEXT = 10_000;
/**
 * Limits on what a model file may hold (docs/model-format.md, "Loading untrusted models"). A file beyond
 * one is refused with a {@link ModelFormatError} naming the limit, before any large allocation or read.
 */
export const MODEL_LIMITS = {
  /** Default largest `model.json`, in bytes (`LoadModelOptions.maxJsonBytes` raises it). */
  maxJsonBytes: 16 * 1024 * 1024,
  /** Deepest nesting of objects and arrays in `userDefinedMetadata.threeLnn` (the metadata object is level 1). */
  maxDepth: 64,
  /** Most entries of `architecture.layers` (input, hidden and output widths). */
  maxLayers: 1024,
  /** Most shard files, and most `weightsManifest` entries, of one model. */
  maxShards: 1024,
  /** Longest shard path, in characters. */
  maxPathChars: 1024,
} as const;

/** Bytes per element of the dtypes a manifest may name (version 1 stores float32 only). */
const DTYPE_BYTES: Record<string, number> = { float32: 4 };

/**
 * Refuse values nested deeper than {@link MODEL_LIMITS}.maxDepth and reference cycles, walking iteratively
 * (no recursion, so no stack overflow however deep the value is).
 * @param what the value's name in the message, e.g. `userDefinedMetadata.threeLnn`
 * @throws ModelFormatError `bad-field`
 */
export function checkNesting(value: unknown, source: string, what: string): void {
  if (typeof value !== 'object' || value === null) return;
  const max = MODEL_LIMITS.maxDepth;
  const onPath = new Set<object>();
  const done = new WeakSet<object>();
  // One frame per open object: its children still to visit and the key path for the message.
  const stack: { node: object; keys: string[]; next: number; path: string }[] = [];
  const enter = (node: object, path: string): void => {
    if (onPath.has(node)) {
      throw new ModelFormatError(
        'bad-field',
        source,
        `${what}${path} refers back to itself (a reference cycle); model metadata must be plain JSON data.`,
      );
    }
    if (done.has(node)) return;
    if (stack.length >= max) {
      throw new ModelFormatError(
        'bad-field',
        source,
        `${what} nests deeper than ${max} levels (at ${showValue(`${what}${path}`, 120)}); the limit is MODEL_LIMITS.maxDepth = ${max} (shipped models use 5). Flatten the metadata.`,
      );
    }
    onPath.add(node);
    stack.push({ node, keys: Array.isArray(node) ? [] : Object.keys(node), next: 0, path });
  };
  enter(value, '');
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const arr = Array.isArray(top.node) ? (top.node as unknown[]) : null;
    const count = arr ? arr.length : top.keys.length;
    if (top.next >= count) {
      stack.pop();
      onPath.delete(top.node);
      done.add(top.node);
      continue;
    }
    const i = top.next++;
    const child = arr ? arr[i] : (top.node as Json)[top.keys[i]];
    if (typeof child === 'object' && child !== null) {
      // Only the first few levels of the path are named; the message stays short.
      const path = stack.length > 6 ? top.path : `${top.path}${arr ? `[${i}]` : `.${top.keys[i]}`}`;
      enter(child, path);
    }
  }
}

/**
 * Why a shard path may not be used, or `null` when it is fine: a shard path must be relative and
 * normalised, inside the model folder (no `..`, `.` or empty segment, also percent-encoded), with no
 * backslash, no scheme or drive letter (`:`), no control character, and at most
 * {@link MODEL_LIMITS}.maxPathChars characters. The same rule applies to files and URLs.
 * @example shardPathProblem('../other/weights.bin') // 'has a ".." segment'
 */
export function shardPathProblem(path: unknown): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'is not a non-empty string';
  if (path.length > MODEL_LIMITS.maxPathChars) {
    return `is longer than ${MODEL_LIMITS.maxPathChars} characters (MODEL_LIMITS.maxPathChars)`;
  }
  // Check the path as written and after percent-decoding (servers decode %2e%2e and %2f).
  let decoded = path;
  for (let round = 0; round < 3 && /%[0-9a-f]{2}/i.test(decoded); round++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return 'holds a malformed percent escape';
    }
  }
  for (const form of decoded === path ? [path] : [path, decoded]) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(form)) return 'holds a control character';
    if (form.includes('\\')) return 'holds a backslash';
    if (form.startsWith('/')) return 'is absolute';
    if (form.includes(':')) return 'has a scheme or drive letter (":")';
    for (const segment of form.split('/')) {
      if (segment === '..') return 'has a ".." segment';
      if (segment === '.') return 'has a "." segment (write the plain relative path)';
      if (segment === '') return 'has an empty segment (doubled or trailing "/")';
    }
  }
  if (/%[0-9a-f]{2}/i.test(decoded)) return 'is percent-encoded more than three times';
  return null;
}

/**
 * Bounds of `massScale` in a model file: |value| in [min, max], spread ≤ maxSpread, states ≤ maxStates,
 * method ≤ maxMethodChars characters.
 */
export const MASS_SCALE_BOUNDS = {
  min: 1e-12,
  max: 1e12,
  maxSpread: 1e6,
  maxStates: 1e9,
  maxMethodChars: 500,
} as const;

/**
 * Check the physics metadata (`userDefinedMetadata.threeLnn`) of a model and return it typed.
 * @param meta the parsed metadata object
 * @param source path/URL/`'memory'`, used in messages
 * @throws ModelFormatError naming the first problem and the fix
 */
export function validateMetadata(meta: unknown, source: string): ModelMetadata {
  const fail = (problem: ModelProblem, detail: string): never => {
    throw new ModelFormatError(problem, source, detail);
  };
  if (!isObject(meta)) {
    return fail(
      'missing-field',
      'model.json has no userDefinedMetadata.threeLnn object; this is not a three-lnn model (or it was saved without its physics metadata). Re-export it with saveModel or the training scripts.',
    );
  }
  checkNesting(meta, source, 'userDefinedMetadata.threeLnn');
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
      `formatVersion ${showValue(version)} is not supported; this reader understands version ${FORMAT_VERSION}. Use a three-lnn release that reads it, or re-export the model as version ${FORMAT_VERSION}.`,
    );
  }
  const kind = need('kind');
  if (typeof kind !== 'string' || !MODEL_KINDS.includes(kind as ModelKind)) {
    fail('unknown-kind', `kind ${showValue(kind)} is unknown; expected one of ${MODEL_KINDS.join(', ')}.`);
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
  if (
    sys.lagrangian !== undefined &&
    (typeof sys.lagrangian !== 'string' ||
      sys.lagrangian.length === 0 ||
      sys.lagrangian.length > MAX_LAGRANGIAN_TEXT)
  ) {
    fail(
      'bad-field',
      `system.lagrangian must be the Lagrangian as text of 1 to ${MAX_LAGRANGIAN_TEXT} characters, got ${showValue(sys.lagrangian)}.`,
    );
  }

  const dof = need('dof');
  if (!isPositiveInt(dof)) fail('bad-field', `dof must be a positive integer, got ${showValue(dof)}.`);
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
      fail('bad-field', `input.${key} must hold finite, non-zero numbers, got ${showValue(arr)}.`);
    }
  }
  const embedding = (input as Json).angleEmbedding;
  if (embedding !== undefined && !ANGLE_EMBEDDINGS.includes(embedding as AngleEmbedding)) {
    fail(
      'bad-field',
      `input.angleEmbedding ${showValue(embedding)} is unknown; expected one of ${ANGLE_EMBEDDINGS.join(', ')} (or leave it out for wrap).`,
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
      `input.velocityEmbedding ${showValue(velocity)} is unknown; expected one of ${VELOCITY_EMBEDDINGS.join(', ')} (or leave it out for identity).`,
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
  if (Array.isArray(layers) && layers.length > MODEL_LIMITS.maxLayers) {
    fail(
      'too-large',
      `architecture.layers lists ${layers.length} widths; the limit is MODEL_LIMITS.maxLayers = ${MODEL_LIMITS.maxLayers}.`,
    );
  }
  if (!Array.isArray(layers) || layers.length < 2 || !layers.every(isPositiveInt)) {
    fail(
      'bad-field',
      `architecture.layers must list at least two positive integer widths (input … output), got ${showValue(layers)}.`,
    );
  }
  const widths = layers as number[];
  const act = (arch as Json).activation;
  if (typeof act !== 'string' || !ACTIVATIONS.includes(act as Activation)) {
    fail(
      'unknown-activation',
      `architecture.activation ${showValue(act)} is unknown; expected one of ${ACTIVATIONS.join(', ')}.`,
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
      `architecture.layers ${showValue(widths)} does not fit a ${k} model with dof ${n}: it needs ${io.inputs} inputs and ${io.outputs} output(s).`,
    );
  }

  const output = need('output');
  if (!isObject(output) || !isFiniteNumber(output.scale) || output.scale === 0) {
    fail('bad-field', 'output must be { "scale": <finite non-zero number> }.');
  }

  if (k === 'lgn') {
    const graph = meta.graph;
    const known =
      '{ "type": "path", "boundary": "fixed" } or { "type": "grid", "nx": int, "ny": int, "boundary": "fixed" }';
    if (graph === undefined) {
      fail('missing-field', `graph is missing; an lgn model needs ${known}.`);
    }
    if (!isObject(graph) || (graph.type !== 'path' && graph.type !== 'grid') || graph.boundary !== 'fixed') {
      fail('bad-field', `graph ${showValue(graph)} is not supported; version 1 knows ${known}.`);
    }
    const g = graph as Json;
    if (g.type === 'grid') {
      for (const side of ['nx', 'ny'] as const) {
        const v = g[side];
        if (isPositiveInt(v) && v > MAX_GRAPH_SIDE) {
          fail(
            'too-large',
            `graph.${side} ${v} is beyond the largest grid side ${MAX_GRAPH_SIDE}; train on a small grid (the model runs any size).`,
          );
        }
        if (!isPositiveInt(v)) {
          fail(
            'bad-field',
            `graph.${side} must be a positive integer (the training grid), got ${showValue(v)}.`,
          );
        }
      }
      if ((g.nx as number) * (g.ny as number) !== n) {
        fail(
          'shape-mismatch',
          `graph is a ${g.nx as number}×${g.ny as number} grid but dof is ${n}; dof must be nx · ny (the training grid's nodes).`,
        );
      }
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
      fail('bad-field', `solver.hvvEpsilon must be a finite number ≥ 0, got ${showValue(eps)}.`);
    }
  }
  const massScale = meta.massScale;
  if (massScale !== undefined) {
    const shape =
      'massScale must be { "value": <finite non-zero number>, "spread": <number ≥ 0>, "states": <int ≥ 1>, "method": <string> }';
    if (k === 'baseline') {
      fail('bad-field', 'massScale is meaningless for a baseline model (it has no mass matrix); remove it.');
    }
    if (!isObject(massScale)) fail('bad-field', `${shape}, got ${showValue(massScale)}.`);
    const ms = massScale as Json;
    const value = ms.value;
    if (
      !isFiniteNumber(value) ||
      !(Math.abs(value) >= MASS_SCALE_BOUNDS.min && Math.abs(value) <= MASS_SCALE_BOUNDS.max)
    ) {
      fail(
        'bad-field',
        `massScale.value must be a finite number with ${MASS_SCALE_BOUNDS.min} ≤ |value| ≤ ${MASS_SCALE_BOUNDS.max}, got ${showValue(value)}.`,
      );
    }
    const spread = ms.spread;
    if (!isFiniteNumber(spread) || spread < 0 || spread > MASS_SCALE_BOUNDS.maxSpread) {
      fail(
        'bad-field',
        `massScale.spread must be a finite number in [0, ${MASS_SCALE_BOUNDS.maxSpread}], got ${showValue(spread)}.`,
      );
    }
    const states = ms.states;
    if (!isPositiveInt(states) || states > MASS_SCALE_BOUNDS.maxStates) {
      fail(
        'bad-field',
        `massScale.states must be an integer in [1, ${MASS_SCALE_BOUNDS.maxStates}], got ${showValue(states)}.`,
      );
    }
    const method = ms.method;
    if (
      typeof method !== 'string' ||
      method.length === 0 ||
      method.length > MASS_SCALE_BOUNDS.maxMethodChars
    ) {
      fail(
        'bad-field',
        `massScale.method must be a non-empty string of at most ${MASS_SCALE_BOUNDS.maxMethodChars} characters.`,
      );
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
    throw new ModelFormatError(
      'bad-json',
      source,
      `model.json must hold a JSON object, not ${json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`}.`,
    );
  }
  if (json.format !== undefined && json.format !== MODEL_FORMAT_NAME) {
    throw new ModelFormatError(
      'bad-format',
      source,
      `model.json has format ${showValue(json.format)}; a three-lnn model has "format": "${MODEL_FORMAT_NAME}". Is this a plain TF.js model? Convert it with saveModel.`,
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
        `modelTopology.layers ${showValue(topo.layers)} disagrees with userDefinedMetadata.threeLnn.architecture.layers ${showValue(widths)}; make them equal.`,
      );
    }
    if (topo.activation !== undefined && topo.activation !== meta.architecture.activation) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `modelTopology.activation ${showValue(topo.activation)} disagrees with architecture.activation "${meta.architecture.activation}"; make them equal.`,
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
  const limit = MODEL_LIMITS.maxShards;
  if (manifest.length > limit) {
    throw new ModelFormatError(
      'too-large',
      source,
      `weightsManifest has ${manifest.length} entries; the limit is MODEL_LIMITS.maxShards = ${limit}.`,
    );
  }
  // Collect the weight entries without spreading (a spread of 200,000 entries overflows the stack) and
  // no more than one past what the architecture needs: the rest only counts.
  const wanted = 2 * (widths.length - 1) + 1;
  const specs: unknown[] = [];
  let count = 0;
  let shards = 0;
  for (let g = 0; g < manifest.length; g++) {
    const group = manifest[g];
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new ModelFormatError(
        'bad-field',
        source,
        `weightsManifest[${g}] is ${showValue(group, 60)}; each weightsManifest entry must be { "paths": string[], "weights": [{ name, shape, dtype }] }.`,
      );
    }
    shards += group.paths.length;
    if (shards > limit) {
      throw new ModelFormatError(
        'too-large',
        source,
        `weightsManifest lists more than ${limit} shard files; the limit is MODEL_LIMITS.maxShards = ${limit}.`,
      );
    }
    if (!group.paths.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new ModelFormatError('bad-field', source, 'weightsManifest paths must be non-empty strings.');
    }
    count += group.weights.length;
    for (let k = 0; k < group.weights.length && specs.length < wanted; k++) specs.push(group.weights[k]);
  }
  checkWeightSpecs(specs, widths, source, count);
  return json as unknown as ModelJson;
}

/**
 * Check manifest entries against the architecture: names, order, shapes and dtype.
 * @param specs the manifest's weight entries in storage order (any values: each is checked)
 * @param count how many entries the manifest lists in all, when `specs` holds only the first ones
 */
export function checkWeightSpecs(
  specs: readonly unknown[],
  widths: readonly number[],
  source: string,
  count = specs.length,
): void {
  const expected = expectedWeightSpecs(widths);
  const layersText = showValue(widths);
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const entry = specs[i];
    if (entry === undefined) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `the weights manifest ends after ${count} entries but architecture.layers ${layersText} needs ${expected.length}; missing ${want.name} ${JSON.stringify(want.shape)}.`,
      );
    }
    if (!isObject(entry)) {
      throw new ModelFormatError(
        'bad-field',
        source,
        `weights manifest entry ${i} is ${showValue(entry, 60)}; each entry must be { "name", "shape", "dtype" } (${want.name} is expected there).`,
      );
    }
    const got = entry as Partial<Record<keyof WeightSpec, unknown>>;
    if (got.name !== want.name) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `weights manifest entry ${i} is ${showValue(got.name)} but "${want.name}" is expected there (order: dense_0/kernel, dense_0/bias, dense_1/kernel, …).`,
      );
    }
    if (got.dtype !== 'float32') {
      throw new ModelFormatError(
        'bad-field',
        source,
        `weight ${want.name} has dtype ${showValue(got.dtype)}; version 1 stores float32 only (no quantisation).`,
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
        `weight ${want.name} has shape ${showValue(shape)} in the manifest but architecture.layers ${layersText} needs ${JSON.stringify(want.shape)}; the manifest and the architecture disagree.`,
      );
    }
  }
  if (count > expected.length) {
    const extra = specs[expected.length];
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `the weights manifest lists ${count} weights but architecture.layers ${layersText} has only ${expected.length} (extra: ${showValue(isObject(extra) ? extra.name : extra)}).`,
    );
  }
}

/** The shard paths of a manifest in storage order. */
export function shardPaths(json: ModelJson): string[] {
  const out: string[] = [];
  for (const g of json.weightsManifest) for (const p of g.paths) out.push(p);
  return out;
}

/**
 * The bytes each `weightsManifest` entry's shards must hold together: the sum over its weights of
 * (product of the shape) × (bytes of the dtype). A validated model.json only.
 */
export function manifestByteLengths(json: ModelJson): number[] {
  return json.weightsManifest.map((g) =>
    g.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[w.dtype] ?? 4), 0),
  );
}

/** A list of shard paths for a message: the first three and how many there are. */
export function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, 3).map((p) => (p.length > 60 ? `${p.slice(0, 59)}…` : p));
  return paths.length > 3 ? `${shown.join(', ')}, … (${paths.length} files)` : shown.join(', ');
}

/**
 * Compare the bytes a manifest entry's shards hold with what its weights need.
 * @param paths the shards of that entry
 * @throws ModelFormatError `short-shard` (too few bytes) or `shape-mismatch` (too many)
 */
export function checkShardBytes(
  paths: readonly string[],
  have: number,
  needed: number,
  source: string,
): void {
  if (have < needed) {
    throw new ModelFormatError(
      'short-shard',
      source,
      `the weight shards (${listPaths(paths)}) hold ${have} bytes but the manifest needs ${needed}; a shard is truncated or missing data. Re-download or re-export the model.`,
    );
  }
  if (have > needed) {
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `the weight shards (${listPaths(paths)}) hold ${have} bytes but the manifest describes only ${needed}; the shards belong to a different model or the manifest is wrong.`,
    );
  }
}

/**
 * Slice the concatenated weight bytes into dense layers and check that every weight is finite.
 * @param json a validated model.json
 * @param shards the shard contents, in the order of {@link shardPaths}
 * @throws ModelFormatError for a short or long byte total (per manifest entry), or a NaN/Inf weight
 */
export function decodeWeights(json: ModelJson, shards: readonly ArrayBuffer[], source: string): DenseLayer[] {
  const widths = json.userDefinedMetadata.threeLnn.architecture.layers;
  const specs = expectedWeightSpecs(widths);
  const paths = shardPaths(json);
  const bytes = shards.map((b, i) => {
    const u = asBytes(b);
    if (u === null) {
      throw new ModelFormatError(
        'missing-shard',
        source,
        `weight shard ${showValue(paths[i] ?? i)} is ${showValue(b, 40)}, not an ArrayBuffer; supply the shard's bytes.`,
      );
    }
    return u;
  });
  const lengths = manifestByteLengths(json);
  let first = 0;
  json.weightsManifest.forEach((g, k) => {
    let have = 0;
    for (let i = first; i < first + g.paths.length; i++) have += bytes[i]?.byteLength ?? 0;
    checkShardBytes(g.paths, have, lengths[k], source);
    first += g.paths.length;
  });
  const total = bytes.reduce((s, b) => s + b.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const b of bytes) {
    all.set(b, off);
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

/** The bytes of an ArrayBuffer (any realm), SharedArrayBuffer or typed-array view; `null` for anything else. */
function asBytes(b: unknown): Uint8Array | null {
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const tag = Object.prototype.toString.call(b);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(b as ArrayBuffer);
  }
  return null;
}

/** Whether `x` is an array-like of numbers with a length (Float32Array, number[]). */
function isNumberArrayLike(x: unknown): x is ArrayLike<number> {
  return (
    (Array.isArray(x) || ArrayBuffer.isView(x)) && typeof (x as { length?: unknown }).length === 'number'
  );
}

/**
 * Check in-memory layers against metadata: count, sizes and finiteness.
 * @throws ModelFormatError naming the first problem
 */
export function checkLayers(layers: readonly DenseLayer[], meta: ModelMetadata, source: string): void {
  const widths = meta.architecture.layers;
  if (!Array.isArray(layers) || layers.length !== widths.length - 1) {
    throw new ModelFormatError(
      'shape-mismatch',
      source,
      `${Array.isArray(layers) ? layers.length : 'no'} dense layers given but architecture.layers ${showValue(widths)} needs ${widths.length - 1}.`,
    );
  }
  layers.forEach((l, i) => {
    const [kn, bn] = [`dense_${i}/kernel`, `dense_${i}/bias`];
    if (!isObject(l) || !isNumberArrayLike(l.kernel) || !isNumberArrayLike(l.bias)) {
      throw new ModelFormatError(
        'bad-field',
        source,
        `dense layer ${i} is ${showValue(l, 60)}; each layer must be { kernel, bias } with Float32Array (or number[]) values.`,
      );
    }
    if (l.kernel.length !== widths[i] * widths[i + 1] || l.bias.length !== widths[i + 1]) {
      throw new ModelFormatError(
        'shape-mismatch',
        source,
        `${kn} has ${l.kernel.length} values and ${bn} ${l.bias.length} but architecture.layers ${showValue(widths)} needs ${widths[i] * widths[i + 1]} and ${widths[i + 1]}.`,
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
            `weight ${name} has a non-finite value (${showValue(arr[j], 20)}) at flat index ${j}; the model diverged during training or the data is corrupt.`,
          );
        }
      }
    }
  });
}

/**
 * Refuse a shard path that {@link shardPathProblem} rejects.
 * @throws ModelFormatError `unsafe-path` naming the path and the rule
 */
export function checkShardPath(path: string, source: string): void {
  const problem = shardPathProblem(path);
  if (problem !== null) {
    throw new ModelFormatError(
      'unsafe-path',
      source,
      `weight shard path ${showValue(path, 100)} ${problem}; shard paths must be plain relative paths inside the model folder (docs/model-format.md, Loading untrusted models), or pass allowExternalShards: true to load shards from elsewhere.`,
    );
  }
}
