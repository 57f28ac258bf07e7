import type { System } from '../core/types.js';
import { systemFromExpression } from '../lagrangian/expression.js';
import { createRng } from '../math/random.js';
import {
  ANGLE_EMBEDDINGS,
  type AngleEmbedding,
  angleEmbeddingOf,
  VELOCITY_EMBEDDINGS,
  type VelocityEmbedding,
  velocityEmbeddingOf,
} from '../model/inputMap.js';
import type { Activation, LoadedModel, ModelKind, ModelSystemRef } from '../model/metadata.js';
import { createSystem, listSystems } from '../systems/registry.js';
import type { DataRecord, DataSource } from './data/DataSource.js';
import { GRADIENT_METHODS, type GradientMethod } from './fast/exactGradient.js';
import { defaultTrainingBox, type TrainingBox } from './trainingBox.js';

/** Loss on q̈. */
export type LossName = 'l1' | 'l2' | 'huber';

/** Options of {@link Trainer}. Everything that decides the result is recorded in the model's provenance. */
export interface TrainerOptions {
  /**
   * The system to learn: a registry id (see `three-lnn systems`) or a `System` object, e.g. a typed
   * Lagrangian from `defineSystem` / `systemFromExpression` (its id and parameters go to the model's
   * metadata; such a system has no default training box, so pass `box`).
   */
  system: string | System;
  /** System parameter overrides, e.g. `{ l1: 0.8 }` or `{ nodes: 8 }` (applied with `withParams`). @default {} */
  params?: Record<string, number>;
  /**
   * The Lagrangian of a `System` object as text (the `systemFromExpression` syntax), when it has one. It is
   * checked against the system (same q̈ at seeded states) and written to the model's metadata
   * (`system.lagrangian`) and the checkpoint, so the model and a resumed run can rebuild the system.
   * @default null
   */
  lagrangian?: string | null;
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
  /**
   * How the loss is differentiated: `exact` (the hand-derived backward of `fast/lnnLossGradient.ts`: lnn
   * models with softplus or tanh and q̇ inputs, on the wasm or cpu backend), `autodiff` (TF.js autodiff,
   * every kind and backend) or `auto` (exact where it applies). Both give the same gradient to float32
   * rounding; exact is several times faster.
   * @default 'auto'
   */
  gradient?: GradientMethod;
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
  /**
   * Training distribution of fresh analytic states. With `data`, it sets only the input scaling and the
   * model's training ranges.
   * @default defaultTrainingBox(system); with `data`, the smallest box holding the recorded states
   */
  box?: TrainingBox;
  /**
   * Where the states and q̈ targets come from: recorded motion (`trajectorySource` in ./data) instead of
   * fresh states of `box` with the system's exact q̈.
   * @default fresh states of `box`
   */
  data?: DataSource;
  /** The command line, for the provenance. @default '' */
  command?: string;
  /** Hardware description for the provenance (CPU model, cores). @default 'unknown' */
  hardware?: string;
}

/** {@link TrainerOptions} with every default filled in, as a checkpoint stores them. */
export type ResolvedOptions = Required<
  Omit<TrainerOptions, 'system' | 'from' | 'box' | 'params' | 'data'>
> & {
  /** What the states come from (checkpoints written before it existed: the box). */
  data?: DataRecord;
  /** The system's id. */
  system: string;
  params: Record<string, number>;
  /** The system's angle flags (to rebuild a system that is not in the registry). */
  angles?: boolean[];
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
    angles: [...system.angles],
    lagrangian: options.lagrangian ?? null,
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
    gradient: options.gradient ?? 'auto',
    shiftInvariant: options.shiftInvariant ?? false,
    angleEmbedding: resolveAngleEmbedding(options.angleEmbedding, kind, fromModel),
    velocityEmbedding: resolveVelocityEmbedding(options.velocityEmbedding, kind, fromModel, box),
    seed: options.seed ?? 0,
    valEvery: options.valEvery ?? 100,
    valSize: options.valSize ?? 1024,
    command: options.command ?? '',
    hardware: options.hardware ?? 'unknown',
    box,
    data: options.data?.record ?? { kind: 'box' },
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
  if (!GRADIENT_METHODS.includes(resolved.gradient)) {
    throw new TrainerOptionError(
      'gradient',
      `\`gradient\` '${String(resolved.gradient)}' is unknown; use one of ${GRADIENT_METHODS.join(', ')}.`,
    );
  }
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

/** States at which a Lagrangian text is checked against the `System` object it describes. */
const LAGRANGIAN_CHECK_STATES = 8;

/**
 * The system {@link TrainerOptions} name: built from the registry for an id, or the given object (with
 * `params` applied through `withParams`); `lagrangian`, when given, must describe it.
 * @throws Error for an unknown id or parameters; TrainerOptionError (option `lagrangian`) for a text that
 * does not parse or whose q̈ differs from the system's
 */
export function trainingSystem(options: Pick<TrainerOptions, 'system' | 'params' | 'lagrangian'>): System {
  const params = options.params ?? {};
  let system: System;
  if (typeof options.system === 'string') system = createSystem(options.system, params);
  else if (options.system && typeof options.system.accelerations === 'function')
    system = Object.keys(params).length > 0 ? options.system.withParams(params) : options.system;
  else
    throw new TrainerOptionError(
      'system',
      '`system` must be a registry id (see `three-lnn systems`) or a System object (e.g. from defineSystem).',
    );
  if (options.lagrangian != null) checkLagrangian(options.lagrangian, system);
  return system;
}

/**
 * Check that `text` (the `systemFromExpression` syntax) is the Lagrangian of `system`: the same dof and
 * the same q̈ (to 1e-9, relative to |q̈| + 1) at seeded states.
 */
function checkLagrangian(text: string, system: System): void {
  let typed: System;
  try {
    typed = systemFromExpression(text, { params: { ...system.params }, dof: system.dof });
  } catch (e) {
    throw new TrainerOptionError('lagrangian', `\`lagrangian\` does not parse: ${(e as Error).message}`);
  }
  const n = system.dof;
  const rng = createRng(0x1a9);
  const q = new Float64Array(n * LAGRANGIAN_CHECK_STATES);
  const qd = new Float64Array(n * LAGRANGIAN_CHECK_STATES);
  for (let i = 0; i < q.length; i++) {
    q[i] = (rng() - 0.5) * 2;
    qd[i] = (rng() - 0.5) * 2;
  }
  const a = new Float64Array(q.length);
  const b = new Float64Array(q.length);
  try {
    system.accelerations(q, qd, a, LAGRANGIAN_CHECK_STATES);
    typed.accelerations(q, qd, b, LAGRANGIAN_CHECK_STATES);
  } catch {
    return; // a singular state: the check cannot decide, and training will report the system's own error
  }
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= 1e-9 * (Math.abs(a[i]) + 1))) {
      throw new TrainerOptionError(
        'lagrangian',
        `\`lagrangian\` is not the Lagrangian of system '${system.id}' (q̈ ${b[i]} vs ${a[i]} at a test state); pass the text the system was built from.`,
      );
    }
  }
}

/** The `system` entry of a trained model's metadata: id, parameters and, when known, the Lagrangian text. */
export function systemRef(system: System, lagrangian: string | null): ModelSystemRef {
  const ref: ModelSystemRef & { lagrangian?: string } = { id: system.id, params: { ...system.params } };
  if (lagrangian != null) ref.lagrangian = lagrangian;
  return ref;
}

/**
 * The system of a checkpoint: from the registry when its id is registered, else from the recorded
 * Lagrangian text (with the model's angle flags), else `given` (checked for id and dof).
 * @throws Error naming what is missing
 */
export function resumedSystem(o: ResolvedOptions, angles: readonly boolean[], given?: System): System {
  if (given) {
    if (given.id !== o.system || given.dof !== (o.angles?.length ?? angles.length))
      throw new TrainerOptionError(
        'system',
        `the checkpoint trains '${o.system}' (dof ${o.angles?.length ?? angles.length}), not '${given.id}' (dof ${given.dof}).`,
      );
    return Object.keys(o.params).length > 0 ? given.withParams(o.params) : given;
  }
  if (listSystems().some((s) => s.id === o.system)) return createSystem(o.system, o.params);
  if (o.lagrangian != null)
    return systemFromExpression(o.lagrangian, {
      id: o.system,
      params: o.params,
      angles: [...(o.angles ?? angles)],
    });
  throw new TrainerOptionError(
    'system',
    `the checkpoint trains '${o.system}', which is not a registered system and has no recorded Lagrangian text; pass the System object to resume.`,
  );
}

/**
 * Whether two data records describe the same data: the same kind, and for recordings the same files (by
 * sha256 and lane, in order) and derivative settings.
 */
export function sameData(a: DataRecord, b: DataRecord): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'box' || b.kind === 'box') return true;
  return (
    a.files.length === b.files.length &&
    a.files.every((f, i) => f.sha256 === b.files[i].sha256 && f.lane === b.files[i].lane) &&
    JSON.stringify(a.derivatives) === JSON.stringify(b.derivatives)
  );
}
