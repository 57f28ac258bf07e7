import { type AngleEmbedding, angleEmbeddingOf, Feature, inputMapOf } from './inputMap.js';
import type { LoadedModel, ModelKind, ModelMetadata } from './metadata.js';
import { parameterCount } from './metadata.js';

/** A model summary for people (the CLI's `inspect`, the app's model panel). */
export interface ModelSummary {
  source: string;
  kind: ModelKind;
  /** What the kind means, in words. */
  kindDescription: string;
  system: { id: string; params: Record<string, number> };
  dof: number;
  angles: boolean[];
  /** e.g. `4→128→128→1 softplus`. */
  architecture: string;
  layers: number[];
  activation: string;
  parameters: number;
  /**
   * Input scaling and layout: `angleEmbedding` (`wrap` when the metadata leaves it out) and `names`, one
   * per network input before scaling (`layers[0]` entries; lgn: the 4 inputs of one edge term), e.g.
   * `['cos q1', 'sin q1', 'cos q2', 'sin q2', 'q̇1', 'q̇2']`.
   */
  input: { qScale: number[]; qdScale: number[]; angleEmbedding: AngleEmbedding; names: string[] };
  outputScale: number;
  hvvEpsilon: number | null;
  trainingRanges: { q: [number, number][]; qd: [number, number][] } | null;
  provenance: Record<string, unknown> | null;
  metrics: Record<string, unknown> | null;
  graph: string | null;
}

const KIND_TEXT: Record<ModelKind, string> = {
  lnn: 'Lagrangian neural network: the network is L(q, q̇); q̈ from the Euler–Lagrange equation',
  baseline: 'black-box baseline: the network predicts q̈ directly (no Lagrangian, no energy)',
  lgn: 'Lagrangian graph network: one local term per edge of a path or grid graph, summed; runs any size',
};

/** The network inputs of a model before scaling, in order (docs/model-format.md, "Inputs"). */
function inputNames(m: ModelMetadata): string[] {
  if (m.kind === 'lgn') {
    const q = m.angles[0] ? (s: string) => `wrap(q_${s})` : (s: string) => `q_${s}`;
    return [q('a'), q('b'), 'q̇_a', 'q̇_b'];
  }
  const map = inputMapOf(m);
  const names: string[] = [];
  for (let k = 0; k < map.qWidth; k++) {
    const q = `q${map.coord[k] + 1}`;
    if (map.feature[k] === Feature.cos) names.push(`cos ${q}`);
    else if (map.feature[k] === Feature.sin) names.push(`sin ${q}`);
    else names.push(map.wrapped[k] ? `wrap(${q})` : q);
  }
  for (let i = 1; i <= map.dof; i++) names.push(map.velocity === 'rapidity' ? `atanh(q̇${i})` : `q̇${i}`);
  return names;
}

/** One line for people: how the angles enter and the input vector. */
function inputText(s: ModelSummary): string {
  const how =
    s.kind === 'lgn'
      ? `one edge term (a, b) of the ${s.graph?.startsWith('grid') ? 'grid' : 'path'} graph`
      : s.input.angleEmbedding === 'sincos'
        ? 'sin/cos of angles'
        : s.angles.some(Boolean)
          ? 'wrapped angles'
          : 'coordinates as given';
  const speed = s.input.names.some((n) => n.startsWith('atanh')) ? ', rapidity velocities (|q̇| < 1)' : '';
  return `${how}${speed}: x = (${s.input.names.join(', ')}) · input scale`;
}

/**
 * Summarise a loaded model.
 * @example console.log(formatModelSummary(inspectModel(await loadModel(dir))));
 */
export function inspectModel(model: LoadedModel): ModelSummary {
  const m = model.metadata;
  const layers = [...m.architecture.layers];
  return {
    source: model.source,
    kind: m.kind,
    kindDescription: KIND_TEXT[m.kind],
    system: { id: m.system.id, params: { ...m.system.params } },
    dof: m.dof,
    angles: [...m.angles],
    architecture: `${layers.join('→')} ${m.architecture.activation}`,
    layers,
    activation: m.architecture.activation,
    parameters: parameterCount(layers),
    input: {
      qScale: [...m.input.qScale],
      qdScale: [...m.input.qdScale],
      angleEmbedding: angleEmbeddingOf(m),
      names: inputNames(m),
    },
    outputScale: m.output.scale,
    hvvEpsilon: m.solver?.hvvEpsilon ?? null,
    trainingRanges: m.trainingRanges ?? null,
    provenance: m.provenance ?? null,
    metrics: m.metrics ?? null,
    graph: m.graph
      ? m.graph.type === 'grid'
        ? `grid ${m.graph.nx}×${m.graph.ny}, ${m.graph.boundary} boundary`
        : `${m.graph.type}, ${m.graph.boundary} ends`
      : null,
  };
}

/** Deepest nesting {@link fmt} writes out; deeper values print as `…`. */
const FMT_DEPTH = 6;
/** Longest value text of one row, in characters (cut with `…`). */
const FMT_CHARS = 2000;
/** Most rows one provenance or metrics object contributes; the rest is counted in a last row. */
const MAX_NESTED_ROWS = 200;
/** Longest row label, in characters. */
const MAX_LABEL_CHARS = 80;

/**
 * A value as short text for a row: numbers to 6 significant digits, nested at most {@link FMT_DEPTH}
 * levels and cut at {@link FMT_CHARS} characters, so metadata of any depth or size prints in bounded time.
 */
function fmt(x: unknown): string {
  const out = fmtBounded(x, FMT_DEPTH, FMT_CHARS + 1);
  return out.length > FMT_CHARS ? `${out.slice(0, FMT_CHARS - 1)}…` : out;
}

function fmtBounded(x: unknown, depth: number, room: number): string {
  const budget = Math.max(1, room);
  if (typeof x === 'number') return Number.isInteger(x) ? String(x) : Number(x.toPrecision(6)).toString();
  if (typeof x === 'string') return x.length > budget ? x.slice(0, budget) : x;
  if (x === null || typeof x !== 'object') return typeof x === 'symbol' ? x.toString() : String(x);
  const isArray = Array.isArray(x);
  if (depth <= 0) return isArray ? '[…]' : '{ … }';
  const parts: string[] = [];
  let used = 0;
  const add = (part: string): boolean => {
    parts.push(part);
    used += part.length + 2;
    return used < budget;
  };
  if (isArray) {
    for (let i = 0; i < x.length; i++) if (!add(fmtBounded(x[i], depth - 1, budget - used))) break;
    return `[${parts.join(', ')}]`;
  }
  for (const k in x) {
    if (!Object.hasOwn(x, k)) continue;
    const key = k.length > budget ? k.slice(0, budget) : k;
    const v = (x as Record<string, unknown>)[k];
    if (!add(`${key}: ${fmtBounded(v, depth - 1, budget - used - key.length)}`)) break;
  }
  return `{ ${parts.join(', ')} }`;
}

/** A row label no longer than {@link MAX_LABEL_CHARS}. */
function label(text: string): string {
  return text.length > MAX_LABEL_CHARS ? `${text.slice(0, MAX_LABEL_CHARS - 1)}…` : text;
}

/**
 * The summary as aligned plain text, one `label  value` line per field, nested objects flattened with
 * dotted keys.
 */
export function formatModelSummary(s: ModelSummary): string {
  const rows: [string, string][] = [
    ['model', s.source],
    ['kind', `${s.kind} — ${s.kindDescription}`],
    ['system', `${fmt(s.system.id)} ${fmt(s.system.params)}`],
    ['dof', s.kind === 'lgn' ? `${s.dof} (training graph; runs any number of nodes)` : String(s.dof)],
    ['angles', fmt(s.angles)],
    ['network', s.architecture],
    ['parameters', s.parameters.toLocaleString('en-US')],
    ['input', inputText(s)],
    ['input scale', `q ${fmt(s.input.qScale)}, q̇ ${fmt(s.input.qdScale)}`],
    ['output scale', fmt(s.outputScale)],
  ];
  if (s.kind !== 'baseline') {
    rows.push([
      'H_vv shift ε',
      s.hvvEpsilon === null ? 'default (1e-3 · mean |diag H_vv|)' : fmt(s.hvvEpsilon),
    ]);
  }
  if (s.graph) rows.push(['graph', s.graph]);
  if (s.trainingRanges) {
    rows.push(['training q', fmt(s.trainingRanges.q)]);
    rows.push(['training q̇', fmt(s.trainingRanges.qd)]);
  } else {
    rows.push(['training ranges', '(not recorded)']);
  }
  const nested = (prefix: string, obj: Record<string, unknown> | null) => {
    if (!obj || typeof obj !== 'object' || Object.keys(obj).length === 0) {
      rows.push([prefix, '(not recorded)']);
      return;
    }
    // Two levels flattened into dotted labels, at most MAX_NESTED_ROWS rows, the rest counted.
    const own: [string, string][] = [];
    let more = 0;
    const push = (key: string, value: unknown) => {
      if (own.length < MAX_NESTED_ROWS) own.push([label(key), fmt(value)]);
      else more++;
    };
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        for (const [k2, v2] of Object.entries(v)) push(`${prefix}.${k}.${k2}`, v2);
      } else {
        push(`${prefix}.${k}`, v);
      }
    }
    rows.push(...own);
    if (more > 0) rows.push([`${prefix} …`, `(${more} more entries not shown)`]);
  };
  nested('provenance', s.provenance);
  nested('metrics', s.metrics);
  // Column width in characters as displayed: combining marks (the dot of q̇) take no column.
  const cols = (k: string) => [...k.replace(/\p{M}/gu, '')].length;
  const width = rows.reduce((w, [k]) => Math.max(w, cols(k)), 0);
  return rows.map(([k, v]) => `${k}${' '.repeat(width - cols(k))}  ${v}`).join('\n');
}
