import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import { LearnedEngine } from '../learned/LearnedEngine.js';
import { type LearnedEngineInit, openEngine } from '../learned/openEngine.js';
import type { LearnedEngineOptions } from '../learned/options.js';
import { angleFlags, type EngineKernels, epsilonOf } from '../learned/Route.js';
import { readBack } from '../learned/readBack.js';
import type { WeightSet } from '../learned/weights.js';
import type { ModelSource } from '../model/loadModel.js';
import { referenceEnergy, wrapAngle } from '../model/reference.js';
import { packedLagrangianTerms } from '../nn/lagrangianTerms.js';
import { bandedTermsFolded } from '../nn/lgn.js';
import type { Accelerations } from '../nn/lnn.js';
import { type NetworkSpec, specFromModel, wrapAngles } from '../nn/mlp.js';
import { solveTridiagonal } from '../nn/solve.js';
import { solveTridiagonal64 } from '../nn/solve64.js';
import { tidy } from '../nn/tidy.js';
import { fusedLagrangianPack } from '../nn/wasmKernels.js';

/**
 * A Lagrangian Graph Network engine for a path of N nodes with fixed ends (a string, a chain): one
 * small shared network gives the local term ℓ of every edge, L = Σ ℓ, so one model runs any N. All
 * edges of all states go through the network as one batch; H_vv is tridiagonal and solved in O(N).
 * @example const engine = await LGNEngine.load('assets/models/string-lgn', createSystem('string', { nodes: 32 }));
 */
export class LGNEngine extends LearnedEngine {
  readonly id = 'lgn' as const;

  /**
   * Load an lgn model, check it against `system` (any number of nodes), initialise the backend, upload
   * the weights.
   * @throws ModelFormatError for a bad file or a non-lgn model
   */
  static load(source: ModelSource, system: System, options: LearnedEngineOptions = {}): Promise<LGNEngine> {
    return openEngine('lgn', source, system, options, (init) => new LGNEngine(init));
  }

  private constructor(init: LearnedEngineInit) {
    super(init, new LgnKernels(init));
  }

  /** Learned energy E = q̇·∂L/∂q̇ − L of one state (float64 evaluation of the network). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return referenceEnergy(this.model, q, qd);
  }
}

/**
 * The kernels of the `lgn` engine: every edge of every state through the shared network (fused wasm/cpu
 * pass or plain TF.js ops), then a float64 tridiagonal solve; the resident tensor q̈. The `js` route is
 * the float64 reference evaluator. An external force (α·Q) is added to the solve's right-hand side.
 */
class LgnKernels implements EngineKernels {
  private readonly dof: number;
  private readonly spec: NetworkSpec;
  private readonly epsilon: number | undefined;
  private readonly wrapFlags: readonly boolean[];
  private xq = new Float32Array(0);
  private xv = new Float32Array(0);
  private xs32 = new Float32Array(0);
  private diag = new Float64Array(0);
  private off = new Float64Array(0);
  private rhs = new Float64Array(0);

  constructor({ model, system, options }: LearnedEngineInit) {
    this.dof = system.dof;
    this.spec = specFromModel(model);
    this.epsilon = epsilonOf(model, options.epsilon);
    this.wrapFlags = angleFlags(model, system.dof);
  }

  tensor(
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void {
    const n = this.dof;
    const e = n + 1;
    const rows = batch * e;
    if (this.xq.length < 2 * rows) {
      this.xq = new Float32Array(2 * rows);
      this.xv = new Float32Array(2 * rows);
    }
    const wrap = this.spec.angles[0];
    // Edge k of state b joins node k−1 and node k (0-based; −1 and n are the fixed ends).
    for (let b = 0; b < batch; b++) {
      for (let k = 0; k < e; k++) {
        const r = 2 * (b * e + k);
        const left = k - 1;
        const right = k;
        const ql = left >= 0 ? q[b * n + left] : 0;
        const qr = right < n ? q[b * n + right] : 0;
        this.xq[r] = wrap ? wrapAngle(ql) : ql;
        this.xq[r + 1] = wrap ? wrapAngle(qr) : qr;
        this.xv[r] = left >= 0 ? qd[b * n + left] : 0;
        this.xv[r + 1] = right < n ? qd[b * n + right] : 0;
      }
    }
    const data = weights.fused ? this.fusedPack(weights, rows) : this.plainPack(weights, rows);
    if (this.diag.length < n) {
      this.diag = new Float64Array(n);
      this.off = new Float64Array(n);
      this.rhs = new Float64Array(n);
    }
    // Per edge row: H over rows (v_left, v_right) × columns (v_left, v_right, u) at 0..5, then
    // (g_qL, g_qR, g_vL, g_vR) at 6..9.
    const eps = this.epsilon;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        const asRight = (b * e + i) * 10; // edge i: node i is its right end
        const asLeft = (b * e + i + 1) * 10; // edge i+1: node i is its left end
        this.diag[i] = data[asRight + 4] + data[asLeft + 0];
        this.rhs[i] = data[asRight + 6 + 1] + data[asLeft + 6 + 0] - (data[asRight + 5] + data[asLeft + 2]);
        if (force !== null) this.rhs[i] += force[b * n + i];
        if (i + 1 < n) this.off[i] = 0.5 * (data[asLeft + 1] + data[asLeft + 3]);
      }
      flags[b] = solveTridiagonal64(this.diag, 0, this.off, 0, this.rhs, 0, qdd, b * n, n, eps);
    }
  }

  /** Fused wasm/cpu pass over all edges: primal rows, then 3 tangent rows per edge. */
  private fusedPack(weights: WeightSet, rows: number): Float32Array {
    const total = rows * 4;
    if (this.xs32.length < total * 4) this.xs32 = new Float32Array(total * 4);
    const xs = this.xs32;
    xs.fill(0, 0, total * 4);
    for (let r = 0; r < rows; r++) {
      const vl = this.xv[2 * r];
      const vr = this.xv[2 * r + 1];
      const p = 4 * r;
      xs[p] = this.xq[2 * r];
      xs[p + 1] = this.xq[2 * r + 1];
      xs[p + 2] = vl;
      xs[p + 3] = vr;
      const t = 4 * (rows + 3 * r);
      xs[t + 2] = 1; // e_{v_left}
      xs[t + 4 + 3] = 1; // e_{v_right}
      xs[t + 8] = vl; // u = (v_left, v_right, 0, 0)
      xs[t + 9] = vr;
    }
    const fused = weights.fused!;
    return readBack(() =>
      fusedLagrangianPack(fused, this.spec.activation, tf.tensor2d(xs.subarray(0, total * 4), [total, 4]), 2),
    );
  }

  /** Plain-op pass (webgl), same row layout as the fused one. */
  private plainPack(weights: WeightSet, rows: number): Float32Array {
    const folded = weights.folded!;
    return readBack(() => {
      const p = packedLagrangianTerms(
        folded,
        this.spec.activation,
        tf.tensor2d(this.xq.subarray(0, 2 * rows), [rows, 2]),
        tf.tensor2d(this.xv.subarray(0, 2 * rows), [rows, 2]),
      );
      const h = tf.reshape(tf.slice(p.hessian, [0, 0, 0], [rows, 2, 3]), [rows, 6]);
      return tf.concat([h, p.grad], 1);
    });
  }

  /**
   * q̈ of tensor states `[batch, dof]` entirely on the backend (the resident route), with α·Q `force`
   * `[batch, dof]` added to the right-hand side of the tridiagonal solve.
   */
  resident(
    weights: WeightSet,
    q: tf.Tensor2D,
    qd: tf.Tensor2D,
    force: tf.Tensor2D | null = null,
  ): Accelerations {
    return tidy(() => {
      const t = bandedTermsFolded(weights.folded!, this.spec, wrapAngles(q, this.wrapFlags), qd);
      const rhs = force === null ? t.rhs : (tf.add(t.rhs, force) as tf.Tensor2D);
      const { x, flags } = solveTridiagonal(t.diag, t.off, rhs, this.epsilon);
      return { qdd: x, flags };
    });
  }
}
