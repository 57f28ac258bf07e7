import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import { LearnedEngine } from '../learned/LearnedEngine.js';
import { type LearnedEngineInit, openEngine } from '../learned/openEngine.js';
import type { LearnedEngineOptions } from '../learned/options.js';
import { angleFlags, type EngineKernels } from '../learned/Route.js';
import { readBack } from '../learned/readBack.js';
import type { WeightSet } from '../learned/weights.js';
import type { ModelSource } from '../model/loadModel.js';
import { wrapAngle } from '../model/reference.js';
import type { Accelerations } from '../nn/lnn.js';
import { mlpForward, type NetworkSpec, specFromModel, wrapAngles } from '../nn/mlp.js';
import { SolveFlag } from '../nn/solve64.js';
import { tidy } from '../nn/tidy.js';

/**
 * The black-box baseline of Cranmer et al.: a network maps (q, q̇) straight to q̈. Same model format,
 * same engine interface as `LNNEngine`; it has no Lagrangian, hence no `energy`, and no mass matrix, hence
 * no external forces (`forceSupport` says so; a non-zero force throws).
 * @example const engine = await BaselineEngine.load('assets/models/double-pendulum-baseline', system);
 */
export class BaselineEngine extends LearnedEngine {
  readonly id = 'baseline' as const;

  /**
   * Load a baseline model, check it against `system`, initialise the backend, upload the weights.
   * @throws ModelFormatError for a bad file, a non-baseline model or a dof mismatch
   */
  static load(
    source: ModelSource,
    system: System,
    options: LearnedEngineOptions = {},
  ): Promise<BaselineEngine> {
    return openEngine('baseline', source, system, options, (init) => new BaselineEngine(init));
  }

  private constructor(init: LearnedEngineInit) {
    super(init, new BaselineKernels(init));
  }
}

/**
 * The kernels of the `baseline` engine: one forward pass of the network (TF.js, or the resident tensor
 * form). The `js` route is the float64 reference evaluator.
 */
class BaselineKernels implements EngineKernels {
  private readonly dof: number;
  private readonly spec: NetworkSpec;
  private readonly wrapFlags: readonly boolean[];
  private x32 = new Float32Array(0);

  constructor({ model, system }: LearnedEngineInit) {
    this.dof = system.dof;
    this.spec = specFromModel(model);
    this.wrapFlags = angleFlags(model, system.dof);
  }

  tensor(
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    // Never non-null: the engine refuses forces on a baseline (`BASELINE_FORCE_SUPPORT`).
    _force: Float64Array | null,
  ): void {
    const n = this.dof;
    if (this.x32.length < batch * 2 * n) this.x32 = new Float32Array(batch * 2 * n);
    const { angles } = this.spec;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        const j = b * n + i;
        this.x32[b * 2 * n + i] = angles[i] ? wrapAngle(q[j]) : q[j];
        this.x32[b * 2 * n + n + i] = qd[j];
      }
    }
    const folded = weights.folded!;
    const data = readBack(() =>
      mlpForward(
        folded,
        this.spec.activation,
        tf.tensor2d(this.x32.subarray(0, batch * 2 * n), [batch, 2 * n]),
      ),
    );
    // No solve: every state is ok here; the engine then fails (q̈ = 0) a state whose input or q̈ is not
    // finite or whose input leaves the float32 range, as on every route.
    qdd.set(data.subarray(0, batch * n));
    flags.fill(SolveFlag.ok, 0, batch);
  }

  /** q̈ of tensor states `[batch, dof]` entirely on the backend (the resident route). */
  resident(weights: WeightSet, q: tf.Tensor2D, qd: tf.Tensor2D): Accelerations {
    return tidy(() => {
      const y = mlpForward(
        weights.folded!,
        this.spec.activation,
        tf.concat([wrapAngles(q, this.wrapFlags), qd], 1),
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
}
