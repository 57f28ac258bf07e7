/**
 * Types of the three-lnn model format, version 1 (see docs/model-format.md). A model is a TF.js model
 * artefact (`model.json` + binary weight shards); its physics lives in
 * `model.json → userDefinedMetadata.threeLnn`, typed here as {@link ModelMetadata}.
 */

import type { AngleEmbedding, VelocityEmbedding } from './inputMap.js';

/** The only format version this reader accepts. */
export const FORMAT_VERSION = 1 as const;

/** The value of `model.json → format`. */
export const MODEL_FORMAT_NAME = 'three-lnn';

/** The value of `model.json → modelTopology.class`. */
export const MODEL_TOPOLOGY_CLASS = 'three-lnn/mlp';

/** What the network output means. */
export type ModelKind = 'lnn' | 'baseline' | 'lgn';

/** Every {@link ModelKind}, for validation and help texts. */
export const MODEL_KINDS: readonly ModelKind[] = ['lnn', 'baseline', 'lgn'];

/** Hidden-layer nonlinearity σ. `relu` is allowed for `baseline` only (σ'' = 0 breaks a Lagrangian). */
export type Activation = 'softplus' | 'tanh' | 'relu';

/** Every {@link Activation}. */
export const ACTIVATIONS: readonly Activation[] = ['softplus', 'tanh', 'relu'];

/** The system a model was trained on. */
export interface ModelSystemRef {
  /** Registry id, e.g. `double-pendulum`. */
  id: string;
  /** Parameter values used for training, e.g. `{ m1: 1, g: 9.8 }`. */
  params: Record<string, number>;
  /**
   * The Lagrangian as text (`systemFromExpression` syntax) when the system is a typed one, not in the
   * registry: loaders rebuild the system from it under `id`.
   */
  lagrangian?: string;
}

/**
 * Network input map: scales with one entry per coordinate (n for lnn/baseline, 2 for lgn) and how angles
 * enter (see `inputMapOf` in ./inputMap).
 */
export interface InputScaling {
  /** Multiplies the position inputs (wrap(q), q, or cos q and sin q). */
  qScale: number[];
  /** Multiplies the velocities. */
  qdScale: number[];
  /**
   * How angle coordinates enter the network (`lnn` only for `sincos`).
   * @default 'wrap'
   */
  angleEmbedding?: AngleEmbedding;
  /**
   * How velocities enter the network (`lnn` only for `rapidity`).
   * @default 'identity'
   */
  velocityEmbedding?: VelocityEmbedding;
}

/** Layer widths including input and output, and the hidden nonlinearity. */
export interface Architecture {
  /** e.g. `[4, 128, 128, 1]`. */
  layers: number[];
  activation: Activation;
}

/**
 * The graph an `lgn` model's local term is summed over (docs/model-format.md, "Graphs"): a path with fixed
 * ends, or a grid with a fixed boundary.
 */
export type GraphSpec = PathGraphSpec | GridGraphSpec;

/** A path of N nodes with fixed ends: edge e joins nodes e − 1 and e (e = 0 … N; the ends are fixed at 0). */
export interface PathGraphSpec {
  type: 'path';
  boundary: 'fixed';
}

/**
 * The training grid of an `lgn` model on a membrane: nx × ny interior nodes, row-major (node (i, j) is
 * coordinate j·nx + i), each joined to its four neighbours along +x and +y, those on the fixed boundary
 * (held at 0) included. `nx · ny` equals `dof`. The model runs any grid: the system it drives gives its
 * own `nx`, `ny` parameters.
 */
export interface GridGraphSpec {
  type: 'grid';
  /** Interior nodes along x of the training grid, 1 … {@link MAX_GRAPH_SIDE}. */
  nx: number;
  /** Interior nodes along the second direction, 1 … {@link MAX_GRAPH_SIDE}. */
  ny: number;
  boundary: 'fixed';
}

/** Largest side of a grid graph (training grid in a model file, and run grid). */
export const MAX_GRAPH_SIDE = 256;

/** The size of a grid an lgn model runs on. */
export interface GridSize {
  nx: number;
  ny: number;
}

/**
 * The grid an `lgn` model with a grid graph runs on: the `nx`, `ny` parameters of `system` when given
 * (the membrane; nx·ny must equal its dof), else the model's training grid. null for a path model.
 * @throws Error when `system` has no integer `nx`, `ny` with nx·ny = dof, or a side beyond MAX_GRAPH_SIDE
 * @example lgnGrid(model.metadata, createSystem('membrane', { nx: 64, ny: 64 })) // { nx: 64, ny: 64 }
 */
export function lgnGrid(
  meta: Pick<ModelMetadata, 'graph'>,
  system?: { readonly id: string; readonly dof: number; readonly params: Readonly<Record<string, number>> },
): GridSize | null {
  const graph = meta.graph;
  if (graph === undefined || graph.type !== 'grid') return null;
  if (system === undefined) return { nx: graph.nx, ny: graph.ny };
  const { nx, ny } = system.params;
  const side = (v: number | undefined) =>
    Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_GRAPH_SIDE;
  if (!side(nx) || !side(ny) || nx * ny !== system.dof) {
    throw new Error(
      `a grid lgn model needs a system with integer parameters nx, ny (1 … ${MAX_GRAPH_SIDE}) and nx · ny = dof, such as 'membrane'; system '${system.id}' has nx ${nx}, ny ${ny}, dof ${system.dof}.`,
    );
  }
  return { nx, ny };
}

/** The box the training states were drawn from: one `[lo, hi]` per coordinate. */
export interface TrainingRanges {
  q: [number, number][];
  qd: [number, number][];
}

/** Options of the linear solve H_vv q̈ = rhs. */
export interface SolverSpec {
  /**
   * Diagonal shift ε added to H_vv when it is not positive definite.
   * @default 1e-3 · mean |diag H_vv| of that state (1e-3 when the diagonal is zero)
   */
  hvvEpsilon?: number;
}

/**
 * The factor α of a learned Lagrangian against the true one (`lnn`, `lgn`): the learned mass matrix
 * H_vv ≈ α·M, M = ∂²L_true/∂q̇², so a physical generalized force Q enters the learned Euler–Lagrange
 * equation as α·Q (see docs/model-format.md, "massScale", and `measureMassScale`).
 */
export interface MassScaleSpec {
  /**
   * α = mean over the measured states of ⟨H_vv, M⟩_F / ⟨M, M⟩_F (least squares with each state weighted
   * alike; finite, non-zero; may be negative).
   */
  value: number;
  /** sqrt(mean ‖H_vv − αM‖²_F / ‖αM‖²_F): how far H_vv is from α·M (0: exactly proportional). */
  spread: number;
  /** States the measurement used. */
  states: number;
  /** How it was measured (one line). */
  method: string;
}

/** How a model was made. Free-form beyond these documented keys. */
export interface Provenance {
  command?: string;
  seed?: number;
  data?: string;
  steps?: number;
  batch?: number;
  trainer?: string;
  wallTimeSeconds?: number;
  hardware?: string;
  date?: string;
  [key: string]: unknown;
}

/** `model.json → userDefinedMetadata.threeLnn`. */
export interface ModelMetadata {
  formatVersion: typeof FORMAT_VERSION;
  kind: ModelKind;
  system: ModelSystemRef;
  /** Degrees of freedom n (`lgn`: nodes of the training graph; the model runs any N). */
  dof: number;
  /** Which coordinates are angles: `[n]` (`lgn`: `[1]`, the same for every node). */
  angles: boolean[];
  input: InputScaling;
  architecture: Architecture;
  /** The network output is multiplied by `scale`. */
  output: { scale: number };
  /** `lgn` only: the graph the edge term is summed over. */
  graph?: GraphSpec;
  trainingRanges?: TrainingRanges;
  solver?: SolverSpec;
  /** The mass scale α of the learned Lagrangian (`lnn`, `lgn`); absent: measured at load. */
  massScale?: MassScaleSpec;
  provenance?: Provenance;
  /** Measured metrics, e.g. `{ qddL1: 0.07, energyError: 0.004, protocol: '…' }`. */
  metrics?: Record<string, unknown>;
}

/** One dense layer, `z = a · kernel + bias`, kernel `[inSize, outSize]` row-major. */
export interface DenseLayer {
  /** `[inSize * outSize]`, row-major (`kernel[i * outSize + j]`). */
  kernel: Float32Array;
  /** `[outSize]`. */
  bias: Float32Array;
  inSize: number;
  outSize: number;
}

/** One entry of a TF.js weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
}

/** One shard group of a TF.js weights manifest. */
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** The parsed `model.json` of a three-lnn model. */
export interface ModelJson {
  format: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: { class: string; layers: number[]; activation: string };
  weightsManifest: WeightsManifestGroup[];
  userDefinedMetadata: { threeLnn: ModelMetadata; [key: string]: unknown };
}

/**
 * A validated model in memory, independent of any TF.js backend: metadata plus float32 weights.
 * Produced by `loadModel`; consumed by the learned engines, `saveModel`, the float64 reference and
 * `inspectModel`.
 */
export interface LoadedModel {
  metadata: ModelMetadata;
  /** Dense layers in order, `layers.length === metadata.architecture.layers.length - 1`. */
  layers: DenseLayer[];
  /** Where the model came from (path, URL or `'memory'`), for messages. */
  source: string;
}

/** Weight names of layer `i` in the manifest, in storage order. */
export function weightNames(i: number): [kernel: string, bias: string] {
  return [`dense_${i}/kernel`, `dense_${i}/bias`];
}

/** The manifest entries a network with these layer widths must have, in storage order. */
export function expectedWeightSpecs(layers: readonly number[]): WeightSpec[] {
  const specs: WeightSpec[] = [];
  for (let i = 0; i + 1 < layers.length; i++) {
    const [k, b] = weightNames(i);
    specs.push({ name: k, shape: [layers[i], layers[i + 1]], dtype: 'float32' });
    specs.push({ name: b, shape: [layers[i + 1]], dtype: 'float32' });
  }
  return specs;
}

/** Number of trainable parameters of a dense network with these layer widths. */
export function parameterCount(layers: readonly number[]): number {
  let count = 0;
  for (let i = 0; i + 1 < layers.length; i++) count += layers[i] * layers[i + 1] + layers[i + 1];
  return count;
}

/**
 * Network input width and output width a model of this kind needs for `dof` coordinates
 * (`lgn`: the local term's 4 inputs and 1 output, independent of dof).
 * @param sincosAngles angles embedded as (cos, sin), one extra input each (`input.angleEmbedding`)
 */
export function expectedIo(
  kind: ModelKind,
  dof: number,
  sincosAngles = 0,
): { inputs: number; outputs: number } {
  if (kind === 'lgn') return { inputs: 4, outputs: 1 };
  return { inputs: 2 * dof + sincosAngles, outputs: kind === 'baseline' ? dof : 1 };
}
