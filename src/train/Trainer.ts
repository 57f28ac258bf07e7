import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import { angleEmbeddingOf, velocityEmbeddingOf } from '../model/inputMap.js';
import { loadModel } from '../model/loadModel.js';
import type { LoadedModel, ModelMetadata } from '../model/metadata.js';
import { baselineAccelerations } from '../nn/baseline.js';
import { lgnAccelerations } from '../nn/lgn.js';
import { lnnAccelerations } from '../nn/lnn.js';
import type { MlpParams, NetworkSpec } from '../nn/mlp.js';
import { registerGradients } from '../nn/registerGradients.js';
import { Adam, clipScale, lrAt, squaredNorm } from './adam.js';
import { concatFloat32, readCheckpoint, type TrainerState, writeCheckpoint } from './checkpoint.js';
import { BoxSource } from './data/BoxSource.js';
import type { DataSource } from './data/DataSource.js';
import { TrajectorySource } from './data/TrajectorySource.js';
import { baseOfTrained, trainedModel } from './export.js';
import { ExactLnnGradient, exactGradientUnsupported, type GradientMethod } from './fast/exactGradient.js';
import { loadTrainKernels } from './fast/simdKernels.js';
import { freshMetadata, initWeights, mix, STREAMS, specFromMetadata, weightsOf } from './init.js';
import { qddLoss } from './loss.js';
import {
  type ResolvedOptions,
  resolveOptions,
  resumedSystem,
  sameData,
  systemRef,
  TrainerOptionError,
  type TrainerOptions,
  trainingSystem,
} from './options.js';

export { type LossName, type ResolvedOptions, TrainerOptionError, type TrainerOptions } from './options.js';

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

let instances = 0;

/**
 * Trains an LNN, a black-box baseline or a graph LNN on fresh analytic states every step (or on recorded
 * motion: `options.data`, see ./data), on TF.js
 * (exact input derivatives from src/nn under `tf.variableGrads`): L1/L2/Huber loss on q̈ (`loss.ts`),
 * Adam with linear warm-up and cosine decay and global-norm clipping (`adam.ts`), non-finite updates
 * skipped, periodic validation. Deterministic given the seed: batch k is drawn from `mix(seed, k)`, so a
 * checkpoint (`checkpoint.ts`: weights, Adam moments, step and draw counters, the data's record) resumes
 * exactly.
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
  private readonly params: MlpParams;
  private readonly vars: tf.Variable[];
  private readonly adam: Adam;
  private readonly source: DataSource;
  /** The hand-derived gradient, when `options.gradient` takes it (else TF.js autodiff). */
  private readonly exact: ExactLnnGradient | null;
  private t = 0;
  private draws = 0;
  private skipped = 0;
  private wallSeconds = 0;
  private readonly base: ModelMetadata;
  private readonly val: { q: tf.Tensor2D; qd: tf.Tensor2D; target: tf.Tensor2D };
  private disposed = false;

  private constructor(
    options: ResolvedOptions,
    system: System,
    base: ModelMetadata,
    init: Float32Array[],
    source: DataSource,
  ) {
    this.options = options;
    this.system = system;
    this.source = source;
    this.base = base;
    this.layers = base.architecture.layers;
    this.spec = specFromMetadata(base);
    const unsupported = exactGradientUnsupported(base, tf.getBackend());
    if (options.gradient === 'exact' && unsupported !== null) {
      throw new TrainerOptionError(
        'gradient',
        `\`gradient\` exact does not apply: ${unsupported}; use auto or autodiff.`,
      );
    }
    this.exact = options.gradient !== 'autodiff' && unsupported === null ? new ExactLnnGradient(base) : null;
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
    this.adam = new Adam(this.vars, id);
    this.params = {
      kernels: this.vars.filter((_, i) => i % 2 === 0) as unknown as tf.Tensor2D[],
      biases: this.vars.filter((_, i) => i % 2 === 1) as unknown as tf.Tensor1D[],
    };
    const vs = source.draw(mix(options.seed, STREAMS.validation), options.valSize);
    const n = system.dof;
    this.val = {
      q: tf.tensor2d(vs.q, [options.valSize, n]),
      qd: tf.tensor2d(vs.qd, [options.valSize, n]),
      target: tf.tensor2d(vs.target, [options.valSize, n]),
    };
  }

  /**
   * A new trainer: fresh LeCun-normal weights (zero biases), or the weights of `options.from`.
   * @throws TrainerOptionError for options that do not fit together (kind and system, embeddings,
   * a base model of another dof); Error for an unknown system or a model that does not load
   */
  static async create(options: TrainerOptions): Promise<Trainer> {
    await registerGradients();
    await prepareExactGradient(options.gradient);
    const system = trainingSystem(options);
    const fromModel = options.from === undefined ? undefined : await loadModel(options.from);
    const box =
      options.box ?? (options.data instanceof TrajectorySource ? options.data.box(system.angles) : undefined);
    const resolved = resolveOptions({ ...options, box }, system, fromModel);
    const source = options.data ?? new BoxSource(system, resolved.box);
    const base = fromModel ? structuredClone(fromModel.metadata) : freshMetadata(resolved, system);
    base.system = systemRef(system, resolved.lagrangian);
    const init = fromModel ? weightsOf(fromModel) : initWeights(base.architecture.layers, resolved.seed);
    return new Trainer(resolved, system, base, init, source);
  }

  /**
   * Continue from a checkpoint directory written by {@link Trainer.saveCheckpoint}; `overrides` may raise
   * `steps` (everything else is taken from the checkpoint, so the continuation is exact). The system is
   * rebuilt from the registry, else from the recorded Lagrangian text, else `overrides.system` (a `System`
   * object with the checkpoint's id and dof). A run on recorded motion needs `overrides.data` built from
   * the same files with the same derivative settings.
   * @throws Error when the directory holds no checkpoint or the system cannot be rebuilt;
   * TrainerOptionError (option `data`) when the data is missing or differs
   */
  static async resume(
    dir: string,
    overrides: { steps?: number; command?: string; system?: System; data?: DataSource } = {},
  ): Promise<Trainer> {
    await registerGradients();
    const { state, moments } = await readCheckpoint(dir);
    await prepareExactGradient(state.options.gradient);
    const model = await loadModel(dir);
    const o = state.options;
    const options: ResolvedOptions = {
      ...o,
      // Checkpoints written before the option existed: the model itself records the embedding.
      angleEmbedding: o.angleEmbedding ?? angleEmbeddingOf(model.metadata),
      velocityEmbedding: o.velocityEmbedding ?? velocityEmbeddingOf(model.metadata),
      gradient: o.gradient ?? 'auto',
      lagrangian: o.lagrangian ?? null,
      steps: overrides.steps ?? o.steps,
      command: overrides.command ?? o.command,
    };
    const system = resumedSystem(options, model.metadata.angles, overrides.system);
    const source = resumedSource(options, system, overrides.data);
    const trainer = new Trainer(
      options,
      system,
      baseOfTrained(model, Boolean(o.from)),
      weightsOf(model),
      source,
    );
    let off = 0;
    for (const x of trainer.adam.moments) {
      const values = moments.subarray(off, off + x.size);
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

  /** Adam steps taken. */
  get currentStep(): number {
    return this.t;
  }

  /** Number of skipped (non-finite) updates so far. */
  get skippedUpdates(): number {
    return this.skipped;
  }

  /** Learning rate of (0-based) step t: linear warm-up, then cosine decay to lrMin. */
  lrAt(t: number): number {
    return lrAt(t, this.options);
  }

  /**
   * One Adam step on the next batch: draw (batch k from `mix(seed, k)`) → loss and gradient → Adam.
   * Non-finite loss or gradients skip the update (and are counted).
   */
  step(): StepInfo {
    this.assertLive();
    const o = this.options;
    const n = this.system.dof;
    const data = this.source.draw(mix(o.seed, this.draws++), o.batch);
    const lr = this.lrAt(this.t);
    if (this.exact) {
      const weights = this.vars.map((x) => x.dataSync() as Float32Array);
      const r = this.exact.lossAndGradient(
        weights,
        data.q,
        data.qd,
        data.target,
        o.batch,
        o.loss,
        o.huberDelta,
      );
      let sq = 0;
      for (const g of r.grads) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
      return this.apply(r.loss, Math.sqrt(sq), lr, () =>
        r.grads.map((g, i) => tf.tensor(g, this.vars[i].shape)),
      );
    }
    let info!: StepInfo;
    tf.tidy(() => {
      const q = tf.tensor2d(data.q, [o.batch, n]);
      const qd = tf.tensor2d(data.qd, [o.batch, n]);
      const target = tf.tensor2d(data.target, [o.batch, n]);
      const { value, grads } = tf.variableGrads(
        () => qddLoss(this.predict(q, qd), target, o.loss, o.huberDelta),
        this.vars,
      );
      // The output bias of a Lagrangian adds a constant to L and never reaches q̈: its gradient is null.
      const g = this.vars.map((x) => grads[x.name] ?? tf.zerosLike(x));
      const loss = value.dataSync()[0];
      const gradNorm = Math.sqrt(squaredNorm(g).dataSync()[0]);
      info = this.apply(loss, gradNorm, lr, () => g);
    });
    return info;
  }

  /** The Adam update from a loss and gradient (made inside the update's tidy), or a counted skip. */
  private apply(loss: number, gradNorm: number, lr: number, grads: () => tf.Tensor[]): StepInfo {
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      this.skipped++;
      return { step: this.t, loss, gradNorm, lr, skipped: true };
    }
    const t = ++this.t;
    tf.tidy(() => {
      this.adam.update(this.vars, grads(), clipScale(gradNorm, this.options.clip), lr, t);
      if (this.options.shiftInvariant) this.tieEdgeInputs();
    });
    return { step: t, loss, gradNorm, lr, skipped: false };
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

  /**
   * Run until `options.steps` Adam steps (or `until` returns true), validating every `valEvery` steps.
   * @param onStep called after every step (progress bars)
   * @throws TrainerOptionError (option `lr`) after 100 consecutive non-finite updates
   */
  run(onStep?: (info: StepInfo, trainer: Trainer) => void, until?: () => boolean): void {
    const t0 = performance.now();
    try {
      let guard = 0;
      while (this.t < this.options.steps && !(until?.() ?? false)) {
        const info = this.step();
        guard = info.skipped ? guard + 1 : 0;
        if (guard > 100)
          throw new TrainerOptionError(
            'lr',
            '100 consecutive non-finite updates: lower `lr` or check the data.',
          );
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
    const model = trainedModel({
      options: this.options,
      base: this.base,
      weights: this.vars.map((x) => x.dataSync() as Float32Array),
      steps: this.t,
      skipped: this.skipped,
      wallSeconds: this.wallSeconds,
      history: this.history,
    });
    const record = this.options.data;
    if (record && record.kind !== 'box') {
      const m = model.metadata;
      if (m.provenance) {
        m.provenance.data = this.source.description;
        m.provenance.dataSource = record;
      }
      const val = m.metrics?.validationQddL1 as { protocol?: string } | undefined;
      if (val)
        val.protocol =
          'mean |qdd_pred - qdd_target| over a fixed validation set drawn from the recorded states (their estimated qdd)';
    }
    return model;
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
    const state: TrainerState = {
      version: 1,
      options: this.options,
      t: this.t,
      draws: this.draws,
      skipped: this.skipped,
      wallSeconds: this.wallSeconds,
      history: this.history,
    };
    await writeCheckpoint(
      dir,
      state,
      concatFloat32(this.adam.moments.map((x) => x.dataSync() as Float32Array)),
    );
  }

  /** Current weights, flattened in manifest order (for tests and comparisons). */
  weights(): Float32Array {
    return concatFloat32(this.vars.map((x) => x.dataSync() as Float32Array));
  }

  /** Free every tensor and variable. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const x of this.vars) x.dispose();
    this.adam.dispose();
    this.val.q.dispose();
    this.val.qd.dispose();
    this.val.target.dispose();
  }

  /** Learned q̈ `[batch, n]` (differentiable in the weights). */
  private predict(q: tf.Tensor2D, qd: tf.Tensor2D): tf.Tensor2D {
    const kind = this.base.kind;
    if (kind === 'baseline') return baselineAccelerations(this.params, this.spec, q, qd);
    return (kind === 'lgn' ? lgnAccelerations : lnnAccelerations)(this.params, this.spec, q, qd).qdd;
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

  private assertLive(): void {
    if (this.disposed) throw new Error('Trainer was disposed; create a new one.');
  }
}

/**
 * The data source of a checkpoint: fresh states of its box, or the recorded data given (refused when it
 * is missing or its files or derivative settings differ from the checkpoint's).
 */
function resumedSource(o: ResolvedOptions, system: System, given: DataSource | undefined): DataSource {
  const record = o.data ?? { kind: 'box' };
  if (record.kind === 'box') {
    if (given && given.record.kind !== 'box')
      throw new TrainerOptionError(
        'data',
        'the checkpoint trains on fresh analytic states; resume it without `data`, or start a new run on the recording.',
      );
    return new BoxSource(system, o.box);
  }
  if (!given)
    throw new TrainerOptionError(
      'data',
      `the checkpoint trains on recorded motion (${record.files.map((f) => f.name).join(', ')}); pass the same \`data\` to resume.`,
    );
  if (!sameData(record, given.record))
    throw new TrainerOptionError(
      'data',
      `\`data\` differs from the checkpoint's (files sha256 ${record.files.map((f) => f.sha256.slice(0, 12)).join(', ')}, derivatives ${JSON.stringify(record.derivatives)}); resume with the same files and settings.`,
    );
  return given;
}

/**
 * Compile the exact gradient's wasm kernels before a trainer that may use them is built (asynchronously:
 * browsers refuse large synchronous compiles on the main thread). Where they cannot load, `auto` falls
 * back to autodiff and `exact` is refused by the constructor with the reason.
 */
async function prepareExactGradient(method: GradientMethod | undefined): Promise<void> {
  if (method === 'autodiff') return;
  await loadTrainKernels().catch(() => undefined);
}
