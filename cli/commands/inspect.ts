import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { type ModelMetadata, showValue } from '../../src/index.js';
import { formatModelSummary, inspectModel, shardPathProblem, validateMetadata } from '../../src/node.js';
import { CliError } from '../CliError.js';
import type { CliIO } from '../io.js';
import { DEFAULT_MAX_INPUT_BYTES, maxInputBytesOption } from '../limits.js';
import { modelPath } from '../parse.js';
import { own, readModelJson } from '../setup.js';

/** What `three-lnn inspect` reports about a model directory. */
export interface ModelSummary {
  /** Directory holding `model.json`. */
  dir: string;
  /** `userDefinedMetadata.threeLnn` as stored (kind, system, dof, architecture, provenance, metrics, …). */
  metadata: Record<string, unknown>;
  /** Number of trainable numbers in the weight manifest. */
  parameterCount: number;
  /** Bytes of weight data the manifest declares (float32: 4 per parameter). */
  weightBytes: number;
  /** Weight tensors: name, shape, dtype. */
  weights: { name: string; shape: number[]; dtype: string }[];
  /** Weight shard files and whether each exists. */
  shards: { path: string; bytes: number | null }[];
}

/** Bytes per number of each weight dtype. */
const BYTES: ReadonlyMap<string, number> = new Map([
  ['float32', 4],
  ['int32', 4],
  ['float16', 2],
  ['bool', 1],
]);

/** Most weight tensors and shard files a manifest may list before it is refused as damaged. */
const MAX_MANIFEST_ENTRIES = 100_000;

/**
 * The weight manifest of a parsed model.json, checked entry by entry.
 * @throws CliError naming the malformed entry
 */
function readManifest(
  json: unknown,
  file: string,
): { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] } {
  const manifest = own(json, 'weightsManifest') ?? [];
  const bad = (where: string, what: string): CliError =>
    new CliError(
      `--model: '${file}': ${where} ${what}; the file is damaged or not a model.json (see docs/model-format.md).`,
    );
  if (!Array.isArray(manifest)) throw bad('weightsManifest', 'must be an array of groups');
  const paths: string[] = [];
  const weights: { name: string; shape: number[]; dtype: string }[] = [];
  for (const [g, group] of manifest.entries()) {
    const groupPaths = own(group, 'paths');
    const groupWeights = own(group, 'weights');
    if (!Array.isArray(groupPaths) || !groupPaths.every((p) => typeof p === 'string')) {
      throw bad(`weightsManifest[${g}].paths`, 'must be an array of file names');
    }
    if (!Array.isArray(groupWeights)) throw bad(`weightsManifest[${g}].weights`, 'must be an array');
    if (paths.length + groupPaths.length + weights.length + groupWeights.length > MAX_MANIFEST_ENTRIES) {
      throw bad('weightsManifest', `lists more than ${MAX_MANIFEST_ENTRIES} entries`);
    }
    for (const [i, p] of groupPaths.entries()) {
      // The loader's path rule: shard files stay inside the model's folder, so nothing outside is stat'ed.
      const problem = shardPathProblem(p);
      if (problem !== null) throw bad(`weightsManifest[${g}].paths[${i}] ${showValue(p)}`, problem);
      paths.push(p);
    }
    for (const [i, w] of groupWeights.entries()) {
      const name = own(w, 'name');
      const shape = own(w, 'shape');
      const dtype = own(w, 'dtype') ?? 'float32';
      if (
        typeof name !== 'string' ||
        typeof dtype !== 'string' ||
        !Array.isArray(shape) ||
        !shape.every((d) => Number.isInteger(d) && d >= 0)
      ) {
        throw bad(`weightsManifest[${g}].weights[${i}]`, 'must be { name, shape: [integers ≥ 0], dtype }');
      }
      weights.push({ name, shape, dtype });
    }
    if (paths.length + weights.length > MAX_MANIFEST_ENTRIES) {
      throw bad('weightsManifest', `lists more than ${MAX_MANIFEST_ENTRIES} entries`);
    }
  }
  return { paths, weights };
}

/**
 * Summarise a model directory from its `model.json` and shard files, without loading TensorFlow.js.
 * @param maxBytes the largest `model.json` read (`--max-input-bytes`)
 * @throws CliError when the directory holds no three-lnn model
 */
export async function summarizeModel(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<ModelSummary> {
  const { file, json } = await readModelJson(path, maxBytes);
  const dir = file === path ? dirname(path) : path;
  const metadata = own(own(json, 'userDefinedMetadata'), 'threeLnn');
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new CliError(`--model: '${file}' has no userDefinedMetadata.threeLnn; not a three-lnn model.`);
  }
  const { paths, weights } = readManifest(json, file);
  let parameterCount = 0;
  let weightBytes = 0;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    parameterCount += size;
    weightBytes += size * (BYTES.get(w.dtype) ?? 4);
  }
  const shards = await Promise.all(
    paths.map(async (p) => ({
      path: p,
      bytes: await stat(join(dir, p)).then(
        (s) => s.size,
        () => null,
      ),
    })),
  );
  return { dir, metadata: metadata as Record<string, unknown>, parameterCount, weightBytes, weights, shards };
}

/** The manifest's size and the shard files, one `label  value` pair each. */
function weightRows(s: ModelSummary): [string, string][] {
  return [
    [
      'weights',
      `${s.parameterCount.toLocaleString('en-US')} numbers, ${s.weightBytes.toLocaleString('en-US')} bytes`,
    ],
    [
      'shards',
      s.shards.map((x) => `${x.path}${x.bytes === null ? ' (MISSING)' : ` (${x.bytes} bytes)`}`).join(', '),
    ],
  ];
}

/**
 * Human-readable lines for a summary: the library's model summary (kind, system, network, the input
 * layout — e.g. `sin/cos of angles: x = (cos q1, sin q1, cos q2, sin q2, q̇1, q̇2) · input scale` —, scaling,
 * training box, provenance, metrics) and the weight files. Metadata that does not validate is printed
 * field by field as stored, followed by the problem.
 * @throws CliError (after the lines are written) when the metadata does not validate
 */
function describe(s: ModelSummary, io: CliIO): void {
  let metadata: ModelMetadata;
  try {
    metadata = validateMetadata(s.metadata, s.dir);
  } catch (err) {
    // A validator that trips over damaged metadata (a TypeError rather than a ModelFormatError) still
    // means the input is bad, not that the command failed.
    const message = err instanceof Error ? err.message : String(err);
    io.stdout(rawDescription(s));
    throw new CliError(`--model: '${s.dir}' is not a valid three-lnn model: ${message}`);
  }
  // The summary reads the metadata only; the weights are described from the manifest below.
  const text = formatModelSummary(inspectModel({ metadata, layers: [], source: s.dir }));
  // formatModelSummary pads every label to one width; its first row is `model  <source>`.
  const width = text.split('\n', 1)[0].length - s.dir.length - 2;
  const extra = weightRows(s).map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  io.stdout(`${text}\n${extra.join('\n')}\n`);
}

/** Longest stored value printed by {@link rawDescription}, in characters. */
const MAX_FIELD = 2000;

/** A stored value as text: strings as they are, anything else as JSON, cut to {@link MAX_FIELD}. */
function text(value: unknown): string {
  let s: string;
  if (value === undefined) s = '?';
  else if (typeof value === 'string') s = value;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = '?';
    }
  }
  s = s.replace(/[\r\n]+/g, ' ');
  return s.length > MAX_FIELD ? `${s.slice(0, MAX_FIELD - 1)}…` : s;
}

/** The stored fields as JSON, for metadata the library cannot summarise. */
function rawDescription(s: ModelSummary): string {
  const m = s.metadata;
  const system = own(m, 'system');
  const arch = own(m, 'architecture');
  const layers = own(arch, 'layers');
  const rows: [string, string][] = [
    ['model', s.dir],
    ['kind', text(own(m, 'kind'))],
    ['system', `${text(own(system, 'id'))} ${text(own(system, 'params') ?? {})}`],
    ['dof', text(own(m, 'dof'))],
    [
      'architecture',
      arch === undefined
        ? '?'
        : `${Array.isArray(layers) ? layers.map(text).join(' → ') : text(layers)} (${text(own(arch, 'activation'))})`,
    ],
    ...weightRows(s),
  ];
  for (const [key, label] of [
    ['input', 'input'],
    ['trainingRanges', 'training box'],
    ['metrics', 'metrics'],
    ['provenance', 'provenance'],
  ] as const) {
    const v = own(m, key);
    if (v) rows.push([label, text(v)]);
  }
  return `${rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n')}\n`;
}

/** `three-lnn inspect`: a trained model's metadata and size. */
export function inspectCommand(io: CliIO): Command {
  return new Command('inspect')
    .description(
      "print a trained model's summary (kind, system, network, input layout, scaling, training box, provenance, metrics) and its weight files",
    )
    .requiredOption(
      '--model <dir>',
      'model directory (model.json + weight shards), or a shipped model name',
      modelPath,
    )
    .option('--json', 'print the summary as JSON')
    .addOption(maxInputBytesOption())
    .action(async (opts: { model: string; json?: boolean; maxInputBytes: number }) => {
      const summary = await summarizeModel(opts.model, opts.maxInputBytes);
      if (opts.json) io.stdout(JSON.stringify(summary, null, 2) + '\n');
      else describe(summary, io);
    });
}
