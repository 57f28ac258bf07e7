import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { CliError } from '../CliError';
import type { CliIO } from '../io';

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

/** The metadata fields `describe` prints (see docs/model-format.md). */
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

/** Human-readable lines for a summary. */
function describe(s: ModelSummary): string {
  const m = s.metadata as ModelMeta;
  const lines = [
    `model        ${s.dir}`,
    `kind         ${m.kind ?? '?'}`,
    `system       ${m.system?.id ?? '?'} ${JSON.stringify(m.system?.params ?? {})}`,
    `dof          ${m.dof ?? '?'}`,
    `architecture ${m.architecture ? `${(m.architecture.layers ?? []).join(' → ')} (${m.architecture.activation})` : '?'}`,
    `parameters   ${s.parameterCount.toLocaleString('en-US')} (${s.weightBytes.toLocaleString('en-US')} bytes)`,
    `shards       ${s.shards.map((x) => `${x.path}${x.bytes === null ? ' (MISSING)' : ` (${x.bytes} bytes)`}`).join(', ')}`,
  ];
  if (m.input) lines.push(`input        ${JSON.stringify(m.input)}`);
  if (m.trainingRanges) lines.push(`training box ${JSON.stringify(m.trainingRanges)}`);
  if (m.metrics) lines.push(`metrics      ${JSON.stringify(m.metrics)}`);
  if (m.provenance) lines.push(`provenance   ${JSON.stringify(m.provenance)}`);
  return lines.join('\n') + '\n';
}

/** `three-lnn inspect`: a trained model's metadata and size. */
export function inspectCommand(io: CliIO): Command {
  return new Command('inspect')
    .description(
      "print a trained model's metadata (system, kind, architecture, provenance, metrics) and parameter count",
    )
    .requiredOption('--model <dir>', 'model directory (model.json + weight shards)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { model: string; json?: boolean }) => {
      const summary = await summarizeModel(opts.model);
      io.stdout(opts.json ? JSON.stringify(summary, null, 2) + '\n' : describe(summary));
    });
}
