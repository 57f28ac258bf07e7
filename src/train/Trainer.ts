import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import { createRng, normal, uniform } from '../math/random.js';
import { createModel } from '../model/artifacts.js';
import {
  ANGLE_EMBEDDINGS,
  type AngleEmbedding,
  angleEmbeddingOf,
  inputMapOf,
  VELOCITY_EMBEDDINGS,
  type VelocityEmbedding,
  velocityEmbeddingOf,
} from '../model/inputMap.js';
import { loadModel } from '../model/loadModel.js';
import type { Activation, LoadedModel, ModelKind, ModelMetadata } from '../model/metadata.js';
import { nodeFs } from '../model/nodeIo.js';
import { baselineAccelerations } from '../nn/baseline.js';
import { lgnAccelerations } from '../nn/lgn.js';
import { lnnAccelerations } from '../nn/lnn.js';
import type { MlpParams, NetworkSpec } from '../nn/mlp.js';
import { registerGradients } from '../nn/registerGradients.js';
import { createSystem } from '../systems/registry.js';
import { defaultTrainingBox, speedRanges, type TrainingBox } from './trainingBox.js';

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

/** What one {@link Trainer.step} did. */
export interface StepInfo {
  /** Adam steps taken so far. */
  step: number;
  /** Training loss of this batch. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate used. */
  lr: number;
  /** Whether the update was skipped (non-finite loss or gradient). */
  skipped: boolean;
}

/** Resumable state written next to the weights by {@link Trainer.saveCheckpoint}. */
interface TrainerState {
  version: 1;
  options: ResolvedOptions;
  t: number;
  draws: number;
  skipped: number;
  wallSeconds: number;
  history: [number, number][];
}

type ResolvedOptions = Required<Omit<TrainerOptions, 'from' | 'box' | 'params'>> & {
  params: Record<string, number>;
  box: TrainingBox;
  from: string | null;
};

let instances = 0;

/** Mix a seed and a counter into a 32-bit seed (batches are a pure function of seed and draw index). */
function mix(seed: number, k: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * Trains an LNN, a black-box baseline or a graph LNN on fresh analytic states every step, on TF.js
 * (exact input derivatives from src/nn under `tf.variableGrads`): L1/L2/Huber loss on q̈, Adam with
 * linear warm-up and cosine decay, global-norm clipping, non-finite updates skipped, periodic
 * validation. Deterministic given the seed: batch k is drawn from `mix(seed, k)`, so a checkpoint
 * (weights, Adam moments, step and draw counters) resumes exactly.
 * @example
 * const trainer = await Trainer.create({ system: 'double-pendulum', steps: 50, batch: 64 });
 * trainer.run(); await trainer.save('out/dp'); trainer.dispose();
 */
export class Trainer {
  /** Resolved options (defaults filled in). */
  readonly options: ResolvedOptions;
  /** The (training) system. */
  readonly system: System;
  /** Network physics (scales, activation, angles). */
  readonly spec: NetworkSpec;
  /** Layer widths including input and output. */
  readonly layers: number[];
  /** Validation history: [step, mean q̈ L1]. */
  history: [number, number][] = [];
  /** Adam steps taken. */
  get currentStep(): number {
    return this.t;
  }

  private readonly params: MlpParams;
  private readonly vars: tf.Variable[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;
  private draws = 0;
  private skipped = 0;
  private wallSeconds = 0;
  private readonly base: ModelMetadata;
  private readonly val: { q: tf.Tensor2D; qd: tf.Tensor2D; target: tf.Tensor2D };
  private disposed = false;

  private constructor(options: ResolvedOptions, system: System, base: ModelMetadata, init: Float32Array[]) {
    this.options = options;
    this.system = system;
    this.base = base;
    this.layers = base.architecture.layers;
    const kind = base.kind;
    this.spec = {
      activation: base.architecture.activation,
      angles: kind === 'lgn' ? [base.angles[0], base.angles[0]] : [...base.angles],
      qScale: [...base.input.qScale],
      qdScale: [...base.input.qdScale],
      outputScale: base.output.scale,
      hvvEpsilon: base.solver?.hvvEpsilon,
      ...(kind === 'lgn' ? {} : { inputMap: inputMapOf(base) }),
    };
    const id = `trainer${instances++}`;
    // Inside tidy: the initial values are freed, the variables are kept.
    this.vars = tf.tidy(() =>
      init.map((w, i) => {
        const l = i >> 1;
        const shape = i % 2 === 0 ? [this.layers[l], this.layers[l + 1]] : [this.layers[l + 1]];
        return tf.variable(
          tf.tensor(w, shape, 'float32'),
          true,
          `${id}/dense_${l}/${i % 2 ? 'bias' : 'kernel'}`,
        );
      }),
    );
    if (options.shiftInvariant) this.tieEdgeInputs();
    this.m = tf.tidy(() => this.vars.map((x, i) => tf.variable(tf.zerosLike(x), false, `${id}/m${i}`)));
    this.v = tf.tidy(() => this.vars.map((x, i) => tf.variable(tf.zerosLike(x), false, `${id}/v${i}`)));
    this.params = {
      kernels: this.vars.filter(
        (_, i) => i % 2 === 0,
      ) as tf.Variable<tf.Rank.R2>[] as unknown as tf.Tensor2D[],
      biases: this.vars.filter((_, i) => i % 2 === 1) as unknown as tf.Tensor1D[],
    };
    const vs = this.draw(createRng(mix(options.seed, 0x7fffffff)), options.valSize);
    const n = system.dof;
    this.val = {
      q: tf.tensor2d(vs.q, [options.valSize, n]),
      qd: tf.tensor2d(vs.qd, [options.valSize, n]),
      target: tf.tensor2d(vs.target, [options.valSize, n]),
    };
  }

  /**
   * A new trainer: fresh LeCun-normal weights (zero biases), or the weights of `options.from`.
   * @throws Error for unknown systems, kinds that do not fit the system, or a model/system mismatch
   */
  static async create(options: TrainerOptions): Promise<Trainer> {
    await registerGradients();
    const system = createSystem(options.system, options.params ?? {});
    const fromModel = options.from === undefined ? undefined : await loadModel(options.from);
    const kind = fromModel?.metadata.kind ?? options.kind ?? (system.id === 'string' ? 'lgn' : 'lnn');
    if (options.shiftInvariant && kind !== 'lgn') {
      throw new Error('shiftInvariant applies to lgn models only (the edge term of a graph).');
    }
    if (kind === 'lgn' && system.id !== 'string') {
      throw new Error(`kind 'lgn' trains on the path graph of the 'string' system, not '${system.id}'.`);
    }
    if (kind !== 'lgn' && fromModel && fromModel.metadata.dof !== system.dof) {
      throw new Error(
        `--from model has dof ${fromModel.metadata.dof} but system '${system.id}' has ${system.dof}; fine-tune on the same system with other parameters.`,
      );
    }
    const steps = options.steps ?? 1000;
    const box = options.box ?? defaultTrainingBox(system);
    const activation =
      fromModel?.metadata.architecture.activation ??
      options.activation ??
      (kind === 'baseline' ? 'relu' : 'softplus');
    const hidden = fromModel
      ? fromModel.metadata.architecture.layers.slice(1, -1)
      : (options.hidden ?? [128, 128]);
    const angleEmbedding = Trainer.resolveEmbedding(options.angleEmbedding, kind, fromModel);
    const velocityEmbedding = Trainer.resolveVelocityEmbedding(
      options.velocityEmbedding,
      kind,
      fromModel,
      box,
    );
    const resolved: ResolvedOptions = {
      system: system.id,
      params: { ...system.params },
      kind,
      hidden,
      activation,
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
      angleEmbedding,
      velocityEmbedding,
      seed: options.seed ?? 0,
      valEvery: options.valEvery ?? 100,
      valSize: options.valSize ?? 1024,
      command: options.command ?? '',
      hardware: options.hardware ?? 'unknown',
      box,
      from: fromModel ? fromModel.source : null,
    };
    for (const [k, v] of Object.entries({ steps, batch: resolved.batch, valSize: resolved.valSize })) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a positive integer, got ${v}.`);
    }
    if (!(resolved.lr > 0) || !(resolved.clip > 0)) throw new Error('lr and clip must be positive numbers.');
    const base = fromModel ? structuredClone(fromModel.metadata) : Trainer.freshMetadata(resolved, system);
    base.system = { id: system.id, params: { ...system.params } };
    const init = fromModel
      ? fromModel.layers.flatMap((l) => [Float32Array.from(l.kernel), Float32Array.from(l.bias)])
      : Trainer.initWeights(base.architecture.layers, resolved.seed);
    return new Trainer(resolved, system, base, init);
  }

  /**
   * The angle embedding of the model to train: the base model's with `from` (a different explicit one is
   * an error), else the option (default `wrap`); `sincos` for lnn models only.
   */
  private static resolveEmbedding(
    wanted: AngleEmbedding | undefined,
    kind: ModelKind,
    fromModel: LoadedModel | undefined,
  ): AngleEmbedding {
    if (wanted !== undefined && !ANGLE_EMBEDDINGS.includes(wanted)) {
      throw new Error(
        `angleEmbedding '${String(wanted)}' is unknown; use one of ${ANGLE_EMBEDDINGS.join(', ')}.`,
      );
    }
    if (fromModel) {
      const base = angleEmbeddingOf(fromModel.metadata);
      if (wanted !== undefined && wanted !== base) {
        throw new Error(
          `--from model ${fromModel.source} embeds angles as '${base}', and a fine-tune keeps the base model's input layout; leave out --angle-embedding (or pass '${base}'), or train a new model without --from.`,
        );
      }
      return base;
    }
    const embedding = wanted ?? 'wrap';
    if (embedding === 'sincos' && kind !== 'lnn') {
      throw new Error(
        `--angle-embedding sincos applies to lnn models only; a ${kind} model takes wrapped angles (leave out --angle-embedding or use --kind lnn).`,
      );
    }
    return embedding;
  }

  /**
   * The velocity embedding of the model to train: the base model's with `from` (a different explicit one
   * is an error), else the option (default `identity`); `rapidity` for lnn models on a rapidity box only.
   */
  private static resolveVelocityEmbedding(
    wanted: VelocityEmbedding | undefined,
    kind: ModelKind,
    fromModel: LoadedModel | undefined,
    box: TrainingBox,
  ): VelocityEmbedding {
    if (wanted !== undefined && !VELOCITY_EMBEDDINGS.includes(wanted)) {
      throw new Error(
        `velocityEmbedding '${String(wanted)}' is unknown; use one of ${VELOCITY_EMBEDDINGS.join(', ')}.`,
      );
    }
    const embedding = fromModel ? velocityEmbeddingOf(fromModel.metadata) : (wanted ?? 'identity');
    if (fromModel && wanted !== undefined && wanted !== embedding) {
      throw new Error(
        `--from model ${fromModel.source} feeds velocities as '${embedding}', and a fine-tune keeps the base model's input layout; leave out --velocity-embedding (or pass '${embedding}'), or train a new model without --from.`,
      );
    }
    if (embedding === 'rapidity' && kind !== 'lnn') {
      throw new Error(
        `--velocity-embedding rapidity applies to lnn models only, not ${kind} (leave it out or use --kind lnn).`,
      );
    }
    if (embedding === 'rapidity' && !box.rapidity) {
      throw new Error(
        '--velocity-embedding rapidity feeds atanh(q̇) to the network, defined for |q̇| < 1 only; it needs a training box that draws rapidities (q̇ = tanh u), as the relativistic-particle box does.',
      );
    }
    return embedding;
  }

  /** Metadata of a new model: kind, architecture and input/output scaling over the training box. */
  private static freshMetadata(o: ResolvedOptions, system: System): ModelMetadata {
    const n = system.dof;
    const maxAbs = (r: [number, number]) => Math.max(Math.abs(r[0]), Math.abs(r[1]));
    let qScale: number[];
    let qdScale: number[];
    let layers: number[];
    let scale = 1;
    if (o.kind === 'lgn') {
      qScale = [1 / maxAbs(o.box.q[0]), 1 / maxAbs(o.box.q[0])];
      qdScale = [1 / maxAbs(o.box.qd[0]), 1 / maxAbs(o.box.qd[0])];
      layers = [4, ...o.hidden, 1];
    } else {
      qScale = system.angles.map((a, i) => (a ? 1 : 1 / maxAbs(o.box.q[i])));
      // Velocity inputs: q̇ scaled to the box; atanh(q̇) (rapidity embedding) scaled to the rapidity box;
      // q̇ itself is already in (−1, 1) on a rapidity box.
      qdScale =
        o.velocityEmbedding === 'rapidity'
          ? o.box.qd.map((r) => 1 / maxAbs(r))
          : o.box.rapidity
            ? new Array(n).fill(1)
            : o.box.qd.map((r) => 1 / maxAbs(r));
      // Under sincos every angle is two inputs (cos θ, sin θ), already in [−1, 1] with qScale 1.
      const sincosAngles = o.angleEmbedding === 'sincos' ? system.angles.filter(Boolean).length : 0;
      layers = [2 * n + sincosAngles, ...o.hidden, o.kind === 'baseline' ? n : 1];
      if (o.kind === 'baseline') {
        // The baseline predicts q̈ directly: scale its output to the median |q̈| of the box.
        const s = sampleBox(system, o.box, createRng(mix(o.seed, 0x5bd1e995)), 4096);
        const mags = Array.from(s.target, Math.abs).sort((a, b) => a - b);
        scale = mags[Math.floor(mags.length / 2)] || 1;
      }
    }
    return {
      formatVersion: 1,
      kind: o.kind,
      system: { id: system.id, params: { ...system.params } },
      dof: n,
      angles: o.kind === 'lgn' ? [system.angles[0] ?? false] : [...system.angles],
      input: {
        qScale,
        qdScale,
        ...(o.angleEmbedding === 'sincos' ? { angleEmbedding: 'sincos' as const } : {}),
        ...(o.velocityEmbedding === 'rapidity' ? { velocityEmbedding: 'rapidity' as const } : {}),
      },
      architecture: { layers, activation: o.activation },
      output: { scale },
      ...(o.kind === 'lgn' ? { graph: { type: 'path' as const, boundary: 'fixed' as const } } : {}),
      solver: { hvvEpsilon: 1e-6 },
    };
  }

  /** LeCun-normal kernels (σ = 1/√fan_in) and zero biases, from the seed. */
  private static initWeights(layers: number[], seed: number): Float32Array[] {
    const rng = createRng(mix(seed, 0x3c6ef372));
    const out: Float32Array[] = [];
    for (let l = 0; l + 1 < layers.length; l++) {
      const w = new Float32Array(layers[l] * layers[l + 1]);
      const s = 1 / Math.sqrt(layers[l]);
      for (let i = 0; i < w.length; i++) w[i] = s * normal(rng);
      out.push(w, new Float32Array(layers[l + 1]));
    }
    return out;
  }

  /** Draw `count` states and their exact q̈ from the training box. */
  private draw(rng: () => number, count: number) {
    return sampleBox(this.system, this.options.box, rng, count);
  }

  /** Learned q̈ `[batch, n]` (differentiable in the weights). */
  private predict(q: tf.Tensor2D, qd: tf.Tensor2D): tf.Tensor2D {
    const kind = this.base.kind;
    if (kind === 'baseline') return baselineAccelerations(this.params, this.spec, q, qd);
    return (kind === 'lgn' ? lgnAccelerations : lnnAccelerations)(this.params, this.spec, q, qd).qdd;
  }

  private lossOf(pred: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
    const e = tf.sub(pred, target);
    const o = this.options;
    if (o.loss === 'l2') return tf.mean(tf.square(e));
    if (o.loss === 'huber') {
      const a = tf.abs(e);
      const d = o.huberDelta;
      return tf.mean(
        tf.where(tf.lessEqual(a, d), tf.mul(0.5, tf.square(a)), tf.sub(tf.mul(d, a), 0.5 * d * d)),
      );
    }
    return tf.mean(tf.abs(e));
  }

  /** Learning rate of (0-based) step t: linear warm-up, then cosine decay to lrMin. */
  lrAt(t: number): number {
    const o = this.options;
    if (t < o.warmup) return (o.lr * (t + 1)) / o.warmup;
    const x = Math.min(1, Math.max(0, (t - o.warmup) / Math.max(1, o.decaySteps - o.warmup)));
    return o.lrMin + 0.5 * (o.lr - o.lrMin) * (1 + Math.cos(Math.PI * x));
  }

  /** One Adam step on a fresh batch. Non-finite loss or gradients skip the update (and are counted). */
  step(): StepInfo {
    this.assertLive();
    const o = this.options;
    const n = this.system.dof;
    const data = this.draw(createRng(mix(o.seed, this.draws++)), o.batch);
    const lr = this.lrAt(this.t);
    return tf.tidy(() => {
      const q = tf.tensor2d(data.q, [o.batch, n]);
      const qd = tf.tensor2d(data.qd, [o.batch, n]);
      const target = tf.tensor2d(data.target, [o.batch, n]);
      const { value, grads } = tf.variableGrads(() => this.lossOf(this.predict(q, qd), target), this.vars);
      // The output bias of a Lagrangian adds a constant to L and never reaches q̈: its gradient is null.
      const g = this.vars.map((x) => grads[x.name] ?? tf.zerosLike(x));
      const norm2 = tf.addN(g.map((x) => tf.sum(tf.square(x))));
      const loss = value.dataSync()[0];
      const gradNorm = Math.sqrt(norm2.dataSync()[0]);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        this.skipped++;
        return { step: this.t, loss, gradNorm, lr, skipped: true };
      }
      const scale = Math.min(1, o.clip / (gradNorm + 1e-12));
      const t = ++this.t;
      const b1 = 0.9;
      const b2 = 0.999;
      const c1 = 1 / (1 - b1 ** t);
      const c2 = 1 / (1 - b2 ** t);
      for (let i = 0; i < this.vars.length; i++) {
        const gi = tf.mul(g[i], scale);
        this.m[i].assign(tf.add(tf.mul(this.m[i], b1), tf.mul(gi, 1 - b1)));
        this.v[i].assign(tf.add(tf.mul(this.v[i], b2), tf.mul(tf.square(gi), 1 - b2)));
        const upd = tf.div(tf.mul(this.m[i], c1), tf.add(tf.sqrt(tf.mul(this.v[i], c2)), 1e-8));
        this.vars[i].assign(tf.sub(this.vars[i], tf.mul(upd, lr)));
      }
      if (o.shiftInvariant) this.tieEdgeInputs();
      return { step: t, loss, gradNorm, lr, skipped: false };
    });
  }

  /** Project the first kernel `[4, h]` so that rows 0 and 1 (q_i, q_{i+1}) are opposite. */
  private tieEdgeInputs(): void {
    tf.tidy(() => {
      const w = this.vars[0];
      const [a, b, rest] = tf.split(w, [1, 1, w.shape[0] - 2], 0);
      const d = tf.mul(tf.sub(b, a), 0.5);
      w.assign(tf.concat([tf.neg(d), d, rest], 0));
    });
  }

  /**
   * q̈ of the current weights at `batch` states: the float32 function being trained (what
   * {@link Trainer.toModel} writes), e.g. to compare with the float64 reference of the saved model.
   * @param q `[batch * n]` @param qd `[batch * n]` (n: the system's dof) @returns `[batch * n]`
   */
  accelerations(q: ArrayLike<number>, qd: ArrayLike<number>, batch: number): Float32Array {
    this.assertLive();
    const n = this.system.dof;
    if (q.length !== batch * n || qd.length !== batch * n) {
      throw new Error(
        `Trainer.accelerations: q and qd must hold batch × dof = ${batch} × ${n} values (got ${q.length}, ${qd.length}).`,
      );
    }
    return tf.tidy(
      () =>
        this.predict(
          tf.tensor2d(Float32Array.from(q), [batch, n]),
          tf.tensor2d(Float32Array.from(qd), [batch, n]),
        ).dataSync() as Float32Array,
    );
  }

  /** Mean |q̈_pred − q̈_exact| over the fixed validation set (appended to {@link history}). */
  validate(): number {
    this.assertLive();
    const err = tf.tidy(
      () => tf.mean(tf.abs(tf.sub(this.predict(this.val.q, this.val.qd), this.val.target))).dataSync()[0],
    );
    this.history.push([this.t, err]);
    return err;
  }

  /** Number of skipped (non-finite) updates so far. */
  get skippedUpdates(): number {
    return this.skipped;
  }

  /**
   * Run until `options.steps` Adam steps (or `until` returns true), validating every `valEvery` steps.
   * @param onStep called after every step (progress bars)
   */
  run(onStep?: (info: StepInfo, trainer: Trainer) => void, until?: () => boolean): void {
    const t0 = performance.now();
    try {
      let guard = 0;
      while (this.t < this.options.steps && !(until?.() ?? false)) {
        const info = this.step();
        guard = info.skipped ? guard + 1 : 0;
        if (guard > 100) throw new Error('100 consecutive non-finite updates: lower --lr or check the data.');
        if (!info.skipped && (this.t % this.options.valEvery === 0 || this.t === this.options.steps))
          this.validate();
        onStep?.(info, this);
      }
    } finally {
      this.wallSeconds += (performance.now() - t0) / 1000;
    }
  }

  /** The current weights as a validated v1 model with provenance and metrics. */
  toModel(): LoadedModel {
    const o = this.options;
    const layers = [];
    for (let l = 0; 2 * l < this.vars.length; l++) {
      layers.push({ kernel: this.vars[2 * l].dataSync(), bias: this.vars[2 * l + 1].dataSync() });
    }
    const last = this.history[this.history.length - 1];
    const meta: ModelMetadata = {
      ...structuredClone(this.base),
      trainingRanges: {
        q: o.kind === 'lgn' ? [o.box.q[0]] : o.box.q,
        qd: o.kind === 'lgn' ? [speedRanges(o.box)[0]] : speedRanges(o.box),
      },
      provenance: {
        command: o.command,
        seed: o.seed,
        data: `fresh uniform states every step from the box q ${JSON.stringify(o.box.q)}, ${o.box.rapidity ? 'rapidity' : 'qd'} ${JSON.stringify(o.box.qd)}; exact qdd of the system`,
        steps: this.t,
        batch: o.batch,
        trainer: `three-lnn train (TypeScript, tfjs-${tf.getBackend()})`,
        wallTimeSeconds: Math.round(this.wallSeconds * 10) / 10,
        hardware: o.hardware,
        date: new Date().toISOString(),
        optimizer: {
          name: 'adam',
          lr: o.lr,
          lrMin: o.lrMin,
          warmup: o.warmup,
          decaySteps: o.decaySteps,
          clip: o.clip,
          loss: o.loss,
        },
        skippedUpdates: this.skipped,
        ...(o.from ? { from: o.from, fromProvenance: this.base.provenance ?? null } : {}),
      },
      metrics: last
        ? {
            validationQddL1: {
              value: last[1],
              states: o.valSize,
              protocol: 'mean |qdd_pred - qdd_exact| over a fixed validation set from the training box',
            },
          }
        : {},
    };
    return createModel(meta, layers);
  }

  /** Write the model (model.json + weights.bin) to a directory. Node only. */
  async save(dir: string): Promise<LoadedModel> {
    const { writeModel } = await import('../model/saveModel.js');
    const model = this.toModel();
    await writeModel(dir, model);
    return model;
  }

  /**
   * Write a checkpoint: the model, the Adam moments (`adam.bin`) and the counters (`trainer.json`).
   * {@link Trainer.resume} continues from it exactly. Node only.
   */
  async saveCheckpoint(dir: string): Promise<void> {
    await this.save(dir);
    const fs = await nodeFs();
    const state: TrainerState = {
      version: 1,
      options: this.options,
      t: this.t,
      draws: this.draws,
      skipped: this.skipped,
      wallSeconds: this.wallSeconds,
      history: this.history,
    };
    const parts = [...this.m, ...this.v].map((x) => x.dataSync() as Float32Array);
    const total = parts.reduce((s, p) => s + p.length, 0);
    const buf = new Float32Array(total);
    let off = 0;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    await fs.writeFile(`${dir}/adam.bin`, new Uint8Array(buf.buffer));
    await fs.writeFile(`${dir}/trainer.json`, `${JSON.stringify(state, null, 1)}\n`);
  }

  /**
   * Continue from a checkpoint directory written by {@link Trainer.saveCheckpoint}; `overrides` may raise
   * `steps` (everything else is taken from the checkpoint, so the continuation is exact).
   * @throws Error when the directory holds no checkpoint
   */
  static async resume(dir: string, overrides: { steps?: number; command?: string } = {}): Promise<Trainer> {
    await registerGradients();
    const fs = await nodeFs();
    let state: TrainerState;
    try {
      state = JSON.parse(await fs.readFile(`${dir}/trainer.json`, 'utf8')) as TrainerState;
    } catch {
      throw new Error(
        `No checkpoint in '${dir}' (trainer.json missing); write one with --out or --checkpoint-every.`,
      );
    }
    const model = await loadModel(dir);
    const o = state.options;
    const system = createSystem(o.system, o.params);
    const init = model.layers.flatMap((l) => [Float32Array.from(l.kernel), Float32Array.from(l.bias)]);
    const base = structuredClone(model.metadata);
    delete base.provenance;
    delete base.metrics;
    delete base.trainingRanges;
    if (o.from) base.provenance = model.metadata.provenance?.fromProvenance as ModelMetadata['provenance'];
    const options = {
      ...o,
      // Checkpoints written before the option existed: the model itself records the embedding.
      angleEmbedding: o.angleEmbedding ?? angleEmbeddingOf(model.metadata),
      velocityEmbedding: o.velocityEmbedding ?? velocityEmbeddingOf(model.metadata),
      steps: overrides.steps ?? o.steps,
      command: overrides.command ?? o.command,
    };
    const trainer = new Trainer(options, system, base, init);
    const raw = new Float32Array(new Uint8Array(await fs.readFile(`${dir}/adam.bin`)).buffer);
    let off = 0;
    for (const x of [...trainer.m, ...trainer.v]) {
      const values = raw.subarray(off, off + x.size);
      tf.tidy(() => x.assign(tf.tensor(values, x.shape, 'float32')));
      off += x.size;
    }
    trainer.t = state.t;
    trainer.draws = state.draws;
    trainer.skipped = state.skipped;
    trainer.wallSeconds = state.wallSeconds;
    trainer.history = state.history;
    return trainer;
  }

  /** Current weights, flattened in manifest order (for tests and comparisons). */
  weights(): Float32Array {
    const parts = this.vars.map((x) => x.dataSync() as Float32Array);
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }

  /** Free every tensor and variable. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of [...this.vars, ...this.m, ...this.v]) x.dispose();
    this.val.q.dispose();
    this.val.qd.dispose();
    this.val.target.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('Trainer was disposed; create a new one.');
  }
}

/**
 * Draw `count` states from a training box with their exact q̈ (float64 closed form, stored float32).
 * @returns q, qd, target: `[count * n]`
 */
export function sampleBox(system: System, box: TrainingBox, rng: () => number, count: number) {
  const n = system.dof;
  const q = new Float64Array(count * n);
  const qd = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < n; i++) {
      q[s * n + i] = uniform(rng, box.q[i][0], box.q[i][1]);
      const u = uniform(rng, box.qd[i][0], box.qd[i][1]);
      qd[s * n + i] = box.rapidity ? Math.tanh(u) : u;
    }
  }
  const target = new Float64Array(count * n);
  system.accelerations(q, qd, target, count);
  return { q: Float32Array.from(q), qd: Float32Array.from(qd), target: Float32Array.from(target) };
}
