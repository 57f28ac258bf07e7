import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/backend';
import { LearnedEngine, type LearnedEngineOptions } from '../backend/LearnedEngine';
import type { System } from '../core/types';
import { checkModelForSystem } from '../model/checkSystem';
import { loadModel, type ModelSource } from '../model/loadModel';
import type { LoadedModel } from '../model/metadata';
import { referenceAccelerations, wrapAngle } from '../model/reference';
import type { Accelerations } from '../nn/lnn';
import {
  disposeParams,
  foldScales,
  type MlpParams,
  mlpForward,
  type NetworkSpec,
  paramsFromModel,
  specFromModel,
  wrapAngles,
} from '../nn/mlp';
import { SolveFlag } from '../nn/solve64';
import { tidy } from '../nn/tidy';

/**
 * The black-box baseline of Cranmer et al.: a network maps (q, q̇) straight to q̈. Same model format,
 * same engine interface as {@link LNNEngine}; it has no Lagrangian, hence no `energy`.
 * @example const engine = await BaselineEngine.load('assets/models/double-pendulum-baseline', system);
 */
export class BaselineEngine extends LearnedEngine {
  readonly id = 'baseline' as const;
  private readonly spec: NetworkSpec;
  private readonly folded: MlpParams | null;
  private x32 = new Float32Array(0);

  /**
   * Load a baseline model, check it against `system`, initialise the backend, upload the weights.
   * @throws ModelFormatError for a bad file, a non-baseline model or a dof mismatch
   */
  static async load(
    source: ModelSource,
    system: System,
    options: LearnedEngineOptions = {},
  ): Promise<BaselineEngine> {
    const model = await loadModel(source);
    const warnings = checkModelForSystem(model, system, 'baseline');
    for (const w of warnings) console.warn(`three-lnn: ${w}`);
    const choice = await initBackend(options);
    const engine = new BaselineEngine(system, model, choice.name, [...warnings, ...choice.warnings], options);
    engine.ready();
    return engine;
  }

  private constructor(
    system: System,
    model: LoadedModel,
    backend: BaselineEngine['backend'],
    warnings: string[],
    options: LearnedEngineOptions,
  ) {
    super(system, model, backend, warnings, options);
    this.spec = specFromModel(model);
    this.folded = backend === 'js' ? null : tidy(() => foldScales(paramsFromModel(model), this.spec));
  }

  protected jsAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void {
    const size = batch * this.system.dof;
    referenceAccelerations(this.model, q.subarray(0, size), qd.subarray(0, size), qdd, batch, { flags });
  }

  protected tensorAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void {
    const n = this.system.dof;
    if (this.x32.length < batch * 2 * n) this.x32 = new Float32Array(batch * 2 * n);
    const { angles } = this.spec;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        const j = b * n + i;
        this.x32[b * 2 * n + i] = angles[i] ? wrapAngle(q[j]) : q[j];
        this.x32[b * 2 * n + n + i] = qd[j];
      }
    }
    const folded = this.folded!;
    const out = tf.tidy(() =>
      mlpForward(
        folded,
        this.spec.activation,
        tf.tensor2d(this.x32.subarray(0, batch * 2 * n), [batch, 2 * n]),
      ),
    );
    const data = out.dataSync();
    out.dispose();
    for (let b = 0; b < batch; b++) {
      let finite = true;
      for (let i = 0; i < n; i++) if (!Number.isFinite(data[b * n + i])) finite = false;
      for (let i = 0; i < n; i++) qdd[b * n + i] = finite ? data[b * n + i] : 0;
      flags[b] = finite ? SolveFlag.ok : SolveFlag.failed;
    }
  }

  protected override residentAccelerations(q: tf.Tensor2D, qd: tf.Tensor2D): Accelerations {
    return tidy(() => {
      const y = mlpForward(
        this.folded!,
        this.spec.activation,
        tf.concat([wrapAngles(q, this.spec.angles), qd], 1),
      );
      const finite = tf.all(tf.isFinite(y), 1);
      return {
        qdd: tf.where(tf.expandDims(finite, 1), y, tf.zerosLike(y)) as tf.Tensor2D,
        flags: tf.where(
          finite,
          tf.zeros([q.shape[0]], 'int32'),
          tf.fill([q.shape[0]], SolveFlag.failed, 'int32'),
        ),
      };
    });
  }

  protected disposeTensors(): void {
    if (this.folded) disposeParams(this.folded);
  }
}
