import type { TrainingRanges } from './Lane.js';

/** A shipped model as listed by the dev server / build at `/models/index.json`. */
export interface ModelListing {
  /** Directory name under `/models/`. */
  readonly name: string;
  /** `lnn`, `baseline` or `lgn` (null when model.json could not be read). */
  readonly kind: string | null;
  /** System id the model was trained on. */
  readonly system: string | null;
}

/** What the app shows about a model, read from `model.json → userDefinedMetadata.threeLnn`. */
export interface ModelSummary {
  readonly name: string;
  readonly kind: string;
  readonly system: string;
  readonly layers: readonly number[];
  readonly activation: string;
  readonly ranges: TrainingRanges | null;
  readonly metrics: Record<string, unknown>;
}

let listing: Promise<ModelListing[]> | null = null;

/** The models the server has (fetched once; an unreachable index means no models). */
export function listModels(): Promise<ModelListing[]> {
  listing ??= fetch(`${import.meta.env.BASE_URL}models/index.json`)
    .then((r) => (r.ok ? r.json() : { models: [] }))
    .then((j: { models?: ModelListing[] }) => j.models ?? [])
    .catch(() => []);
  return listing;
}

/** URL of a model directory (what learned engines take as `model`). */
export function modelUrl(name: string): string {
  return new URL(`${import.meta.env.BASE_URL}models/${name}/`, location.href).href;
}

/**
 * The metadata summary of a listed model.
 * @throws Error naming the model when its model.json cannot be read
 */
export async function readModelSummary(name: string): Promise<ModelSummary> {
  const res = await fetch(new URL('model.json', modelUrl(name)));
  if (!res.ok) throw new Error(`model '${name}': model.json answered HTTP ${res.status}`);
  const json = (await res.json()) as { userDefinedMetadata?: { threeLnn?: Record<string, unknown> } };
  const m = json.userDefinedMetadata?.threeLnn;
  if (!m) throw new Error(`model '${name}': model.json has no userDefinedMetadata.threeLnn`);
  const arch = (m.architecture ?? {}) as { layers?: number[]; activation?: string };
  const sys = (m.system ?? {}) as { id?: string };
  return {
    name,
    kind: String(m.kind ?? '?'),
    system: String(sys.id ?? '?'),
    layers: arch.layers ?? [],
    activation: arch.activation ?? '?',
    ranges: (m.trainingRanges as TrainingRanges | undefined) ?? null,
    metrics: (m.metrics as Record<string, unknown> | undefined) ?? {},
  };
}
