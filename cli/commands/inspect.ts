import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { formatModelSummary, inspectModel } from '../../src/model/inspect.js';
import { ModelFormatError } from '../../src/model/ModelFormatError.js';
import type { ModelMetadata } from '../../src/model/metadata.js';
import { validateMetadata } from '../../src/model/validate.js';
import { CliError } from '../CliError.js';
import type { CliIO } from '../io.js';
import { modelPath } from '../parse.js';

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

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, bool: 1 };

/**
 * Summarise a model directory from its `model.json` and shard files, without loading TensorFlow.js.
 * @throws CliError when the directory holds no three-lnn model
 */
export async function summarizeModel(path: string): Promise<ModelSummary> {
  let dir = path;
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'model.json');
    else dir = join(path, '..');
  } catch {
    throw new CliError(`--model: '${path}' does not exist. Give a model directory containing model.json.`);
  }
  let json: {
    weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
    userDefinedMetadata?: { threeLnn?: Record<string, unknown> };
  };
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new CliError(`--model: cannot read '${file}' as JSON (${(err as Error).message}).`);
  }
  const metadata = json.userDefinedMetadata?.threeLnn;
  if (!metadata) {
    throw new CliError(`--model: '${file}' has no userDefinedMetadata.threeLnn; not a three-lnn model.`);
  }
  const weights = (json.weightsManifest ?? []).flatMap((g) => g.weights);
  let parameterCount = 0;
  let weightBytes = 0;
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    parameterCount += size;
    weightBytes += size * (BYTES[w.dtype] ?? 4);
  }
  const shards = await Promise.all(
    (json.weightsManifest ?? [])
      .flatMap((g) => g.paths)
      .map(async (p) => ({
        path: p,
        bytes: await stat(join(dir, p)).then(
          (s) => s.size,
          () => null,
        ),
      })),
  );
  return { dir, metadata, parameterCount, weightBytes, weights, shards };
}

/** The raw metadata fields printed when the metadata does not validate (see docs/model-format.md). */
interface ModelMeta {
  kind?: string;
  system?: { id?: string; params?: Record<string, number> };
  dof?: number;
  architecture?: { layers?: number[]; activation?: string };
  input?: unknown;
  trainingRanges?: unknown;
  metrics?: unknown;
  provenance?: unknown;
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
    if (!(err instanceof ModelFormatError)) throw err;
    io.stdout(rawDescription(s));
    throw new CliError(`--model: '${s.dir}' is not a valid three-lnn model: ${err.message}`);
  }
  // The summary reads the metadata only; the weights are described from the manifest below.
  const text = formatModelSummary(inspectModel({ metadata, layers: [], source: s.dir }));
  // formatModelSummary pads every label to one width; its first row is `model  <source>`.
  const width = text.split('\n', 1)[0].length - s.dir.length - 2;
  const extra = weightRows(s).map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  io.stdout(`${text}\n${extra.join('\n')}\n`);
}

/** The stored fields as JSON, for metadata the library cannot summarise. */
function rawDescription(s: ModelSummary): string {
  const m = s.metadata as ModelMeta;
  const rows: [string, string][] = [
    ['model', s.dir],
    ['kind', m.kind ?? '?'],
    ['system', `${m.system?.id ?? '?'} ${JSON.stringify(m.system?.params ?? {})}`],
    ['dof', String(m.dof ?? '?')],
    [
      'architecture',
      m.architecture ? `${(m.architecture.layers ?? []).join(' → ')} (${m.architecture.activation})` : '?',
    ],
    ...weightRows(s),
  ];
  if (m.input) rows.push(['input', JSON.stringify(m.input)]);
  if (m.trainingRanges) rows.push(['training box', JSON.stringify(m.trainingRanges)]);
  if (m.metrics) rows.push(['metrics', JSON.stringify(m.metrics)]);
  if (m.provenance) rows.push(['provenance', JSON.stringify(m.provenance)]);
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
    .action(async (opts: { model: string; json?: boolean }) => {
      const summary = await summarizeModel(opts.model);
      if (opts.json) io.stdout(JSON.stringify(summary, null, 2) + '\n');
      else describe(summary, io);
    });
}
