import type { System } from '../core/types.js';
import {
  ANGLE_EMBEDDINGS,
  type AngleEmbedding,
  angleEmbeddingOf,
  VELOCITY_EMBEDDINGS,
  type VelocityEmbedding,
  velocityEmbeddingOf,
} from '../model/inputMap.js';
import type { Activation, LoadedModel, ModelKind } from '../model/metadata.js';
import { defaultTrainingBox, type TrainingBox } from './trainingBox.js';

/** Loss on q̈. */
export type LossName = 'l1' | 'l2' | 'huber';

/** Options of {@link Trainer}. Everything that decides the result is recorded in the model's provenance. */
export interface TrainerOptions {
  /** System id (see `three-lnn systems`). */
  system: string;
  /** System parameter overrides, e.g. `{ l1: 0.8 }` or `{ nodes: 8 }`. @default {} */
  params?: Record<string, number>;
  /** @default 'lnn' ('lgn' for string) */
  kind?: ModelKind;
  /** Hidden widths. @default [128, 128] */
  hidden?: number[];
  /** @default 'softplus' ('relu' for baseline) */
  activation?: Activation;
  /** Adam steps. @default 1000 */
  steps?: number;
  /** States per step. @default 256 */
  batch?: number;
  /** Peak learning rate. @default 1e-3 */
  lr?: number;
  /** Final learning rate of the cosine decay. @default 1e-5 */
  lrMin?: number;
  /** Linear warm-up steps. @default min(200, steps / 10) */
  warmup?: number;
  /** Length of the cosine schedule. @default steps */
  decaySteps?: number;
  /** Global-norm gradient clipping threshold. @default 1 */
  clip?: number;
  /** @default 'l1' */
  loss?: LossName;
  /** δ of the Huber loss. @default 1 */
  huberDelta?: number;
  /** Seed of the initial weights, the batches and the validation set. @default 0 */
  seed?: number;
  /** Validation every this many steps. @default 100 */
  valEvery?: number;
  /** Validation states. @default 1024 */
  valSize?: number;
  /**
   * lgn only: the edge term sees q_i and q_{i+1} only through q_{i+1} − q_i (first-layer rows tied), as a
   * spring's potential does; exact shift invariance is what lets a string model get its lowest modes right.
   * @default false
   */
  shiftInvariant?: boolean;
  /**
   * lnn only: how angle coordinates enter the network — `wrap` (wrap(θ)) or `sincos` ((cos θ, sin θ),
   * smooth and periodic; one more input per angle). Written to the model as `input.angleEmbedding`.
   * With `from`, the base model's embedding is kept.
   * @default 'wrap' (the base model's with `from`)
   */
  angleEmbedding?: AngleEmbedding;
  /**
   * lnn only: how velocities enter the network — `identity` (q̇) or `rapidity` (atanh(q̇), for a speed
   * limit c = 1: needs a training box that draws rapidities, as the relativistic particle's does). Written
   * to the model as `input.velocityEmbedding`. With `from`, the base model's embedding is kept.
   * @default 'identity' (the base model's with `from`)
   */
  velocityEmbedding?: VelocityEmbedding;
  /**
   * Start from this model's weights and scaling (fine-tuning); its kind, architecture and angle
   * embedding are kept.
   */
  from?: string | LoadedModel;
  /** Training distribution. @default defaultTrainingBox(system) */
  box?: TrainingBox;
  /** The command line, for the provenance. @default '' */
  command?: string;
  /** Hardware description for the provenance (CPU model, cores). @default 'unknown' */
  hardware?: string;
}

/** {@link TrainerOptions} with every default filled in, as a checkpoint stores them. */
export type ResolvedOptions = Required<Omit<TrainerOptions, 'from' | 'box' | 'params'>> & {
  params: Record<string, number>;
  box: TrainingBox;
  from: string | null;
};

/**
 * Options that do not fit together, or a run that cannot go on with them. The message names options as
 * `` `name` `` (their {@link TrainerOptions} keys), so a front end can put its own names in their place
 * (the CLI writes `--angle-embedding` for `` `angleEmbedding` ``).
 */
export class TrainerOptionError extends Error {
  override readonly name = 'TrainerOptionError';

  /** @param option the option to change */
  constructor(
    readonly option: keyof TrainerOptions,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Fill in the defaults of `options` for `system` and check that they fit together (the kind fits the
 * system, the embeddings fit the kind, the box and the base model).
 * @param fromModel the loaded `options.from`, when fine-tuning
 * @throws TrainerOptionError naming the option at fault
 */
export function resolveOptions(
  options: TrainerOptions,
  system: System,
  fromModel: LoadedModel | undefined,
): ResolvedOptions {
  const kind = fromModel?.metadata.kind ?? options.kind ?? (system.id === 'string' ? 'lgn' : 'lnn');
  if (options.shiftInvariant && kind !== 'lgn') {
    throw new TrainerOptionError(
      'shiftInvariant',
      '`shiftInvariant` applies to lgn models only (the edge term of a graph).',
    );
  }
  if (kind === 'lgn' && system.id !== 'string') {
    throw new TrainerOptionError(
      'kind',
      `\`kind\` lgn trains on the path graph of the 'string' system, not '${system.id}'.`,
    );
  }
  if (kind !== 'lgn' && fromModel && fromModel.metadata.dof !== system.dof) {
    throw new TrainerOptionError(
      'from',
      `the \`from\` model has dof ${fromModel.metadata.dof} but system '${system.id}' has ${system.dof}; fine-tune on the same system with other parameters.`,
    );
  }
  const steps = options.steps ?? 1000;
  const box = options.box ?? defaultTrainingBox(system);
  const resolved: ResolvedOptions = {
    system: system.id,
    params: { ...system.params },
    kind,
    hidden: fromModel ? fromModel.metadata.architecture.layers.slice(1, -1) : (options.hidden ?? [128, 128]),
    activation:
      fromModel?.metadata.architecture.activation ??
      options.activation ??
      (kind === 'baseline' ? 'relu' : 'softplus'),
    steps,
    batch: options.batch ?? 256,
    lr: options.lr ?? 1e-3,
    lrMin: options.lrMin ?? 1e-5,
    warmup: options.warmup ?? Math.min(200, Math.max(1, Math.floor(steps / 10))),
    decaySteps: options.decaySteps ?? steps,
    clip: options.clip ?? 1,
    loss: options.loss ?? 'l1',
    huberDelta: options.huberDelta ?? 1,
    shiftInvariant: options.shiftInvariant ?? false,
    angleEmbedding: resolveAngleEmbedding(options.angleEmbedding, kind, fromModel),
    velocityEmbedding: resolveVelocityEmbedding(options.velocityEmbedding, kind, fromModel, box),
    seed: options.seed ?? 0,
    valEvery: options.valEvery ?? 100,
    valSize: options.valSize ?? 1024,
    command: options.command ?? '',
    hardware: options.hardware ?? 'unknown',
    box,
    from: fromModel ? fromModel.source : null,
  };
  for (const [k, v] of Object.entries({ steps, batch: resolved.batch, valSize: resolved.valSize })) {
    if (!Number.isInteger(v) || v <= 0)
      throw new TrainerOptionError(
        k as keyof TrainerOptions,
        `\`${k}\` must be a positive integer, got ${v}.`,
      );
  }
  if (!(resolved.lr > 0)) throw new TrainerOptionError('lr', '`lr` must be a positive number.');
  if (!(resolved.clip > 0)) throw new TrainerOptionError('clip', '`clip` must be a positive number.');
  return resolved;
}

/**
 * The angle embedding of the model to train: the base model's with `from` (a different explicit one is
 * an error), else the option (default `wrap`); `sincos` for lnn models only.
 */
function resolveAngleEmbedding(
  wanted: AngleEmbedding | undefined,
  kind: ModelKind,
  fromModel: LoadedModel | undefined,
): AngleEmbedding {
  if (wanted !== undefined && !ANGLE_EMBEDDINGS.includes(wanted)) {
    throw new TrainerOptionError(
      'angleEmbedding',
      `\`angleEmbedding\` '${String(wanted)}' is unknown; use one of ${ANGLE_EMBEDDINGS.join(', ')}.`,
    );
  }
  if (fromModel) {
    const base = angleEmbeddingOf(fromModel.metadata);
    if (wanted !== undefined && wanted !== base) {
      throw new TrainerOptionError(
        'angleEmbedding',
        `the \`from\` model ${fromModel.source} embeds angles as '${base}', and a fine-tune keeps the base model's input layout; leave out \`angleEmbedding\` (or pass '${base}'), or train a new model without \`from\`.`,
      );
    }
    return base;
  }
  const embedding = wanted ?? 'wrap';
  if (embedding === 'sincos' && kind !== 'lnn') {
    throw new TrainerOptionError(
      'angleEmbedding',
      `\`angleEmbedding\` sincos applies to lnn models only; a ${kind} model takes wrapped angles (leave out \`angleEmbedding\` or use \`kind\` lnn).`,
    );
  }
  return embedding;
}

/**
 * The velocity embedding of the model to train: the base model's with `from` (a different explicit one
 * is an error), else the option (default `identity`); `rapidity` for lnn models on a rapidity box only.
 */
function resolveVelocityEmbedding(
  wanted: VelocityEmbedding | undefined,
  kind: ModelKind,
  fromModel: LoadedModel | undefined,
  box: TrainingBox,
): VelocityEmbedding {
  if (wanted !== undefined && !VELOCITY_EMBEDDINGS.includes(wanted)) {
    throw new TrainerOptionError(
      'velocityEmbedding',
      `\`velocityEmbedding\` '${String(wanted)}' is unknown; use one of ${VELOCITY_EMBEDDINGS.join(', ')}.`,
    );
  }
  const embedding = fromModel ? velocityEmbeddingOf(fromModel.metadata) : (wanted ?? 'identity');
  if (fromModel && wanted !== undefined && wanted !== embedding) {
    throw new TrainerOptionError(
      'velocityEmbedding',
      `the \`from\` model ${fromModel.source} feeds velocities as '${embedding}', and a fine-tune keeps the base model's input layout; leave out \`velocityEmbedding\` (or pass '${embedding}'), or train a new model without \`from\`.`,
    );
  }
  if (embedding === 'rapidity' && kind !== 'lnn') {
    throw new TrainerOptionError(
      'velocityEmbedding',
      `\`velocityEmbedding\` rapidity applies to lnn models only, not ${kind} (leave it out or use \`kind\` lnn).`,
    );
  }
  if (embedding === 'rapidity' && !box.rapidity) {
    throw new TrainerOptionError(
      'velocityEmbedding',
      '`velocityEmbedding` rapidity feeds atanh(q̇) to the network, defined for |q̇| < 1 only; it needs a training box that draws rapidities (q̇ = tanh u), as the relativistic-particle box does.',
    );
  }
  return embedding;
}
