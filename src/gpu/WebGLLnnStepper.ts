import * as tf from '@tensorflow/tfjs-core';
import { foldModelWeights } from '../model/foldWeights.js';
import { inputMapOf, wrapAngle } from '../model/inputMap.js';
import type { LoadedModel } from '../model/metadata.js';
import { SolveFlag } from '../nn/solvePolicy.js';
import type { GpuLinearForce, GpuStepper } from './GpuStepper.js';
import { activationProgram, adjointProgram, layer0Program, linearProgram } from './lnnPrograms.js';
import { rk4CombineProgram } from './programs/rk4Combine.js';
import { type LnnProgram, type LnnShape, rowsPerState } from './programs/shape.js';
import { solveProgram, solveStateInputs } from './programs/solve.js';

/** The part of TF.js's WebGL backend (`MathBackendWebGL`) used to run custom programs. */
interface WebGLBackendLike {
  compileAndRun(
    program: LnnProgram,
    inputs: tf.TensorInfo[],
    outputDtype?: tf.DataType,
    customUniformValues?: number[][],
  ): tf.TensorInfo;
}

/** The generated programs of one batch size: one q̈ (3H − 1 passes) and the RK4 combine. */
interface BatchPrograms {
  layer0: LnnProgram;
  /** Indexed by layer l ≥ 1 (entry 0 unused). */
  linear: LnnProgram[];
  /** Indexed by layer l ≥ 1 (entry 0 unused). */
  activation: LnnProgram[];
  /** Indexed by layer l ≤ H − 2. */
  adjoint: LnnProgram[];
  solve: LnnProgram;
  /** The solve under an external force (reads `F`), generated on first use. */
  solveForced: LnnProgram | null;
  combine: LnnProgram;
}

/** Batch sizes whose programs {@link WebGLLnnStepper} keeps (the least recently used goes first). */
const PROGRAM_MEMO_SIZE = 8;

/** Options of {@link WebGLLnnStepper}. */
export interface WebGLLnnStepperOptions {
  /**
   * Diagonal shift ε for a non-positive-definite H_vv.
   * @default the model's solver.hvvEpsilon, else relative (DEFAULT_EPSILON_RELATIVE · mean |diag H_vv|, nn/solvePolicy.ts)
   */
  epsilon?: number;
}

/**
 * The LNN q̈ and RK4 stepping of an `lnn` model as fused TF.js WebGL programs (see `lnnPrograms.ts`):
 * 3H − 1 shader passes per q̈ for H hidden layers, an RK4 step as four q̈ plus one combine pass, the
 * state kept in GPU textures across stages and substeps, and one readback per {@link advance} call.
 * Needs the TF.js `webgl` backend to be active (float32 render targets for float32 accuracy).
 * Follows the model's input map (`input.angleEmbedding`, `input.velocityEmbedding`); under `rapidity` a
 * state (or RK4 stage) whose float32 q̇ has some |q̇_i| ≥ 1 is outside the Lagrangian's domain and gets
 * flag 2 (failed) with q̈ = 0, like any non-finite input.
 * @example
 * await tf.setBackend('webgl');
 * const gpu = new WebGLLnnStepper(model);
 * gpu.advance(q, qd, batch, 1 / 120, 2); // one frame of two substeps, one readback
 * gpu.dispose();
 */
export class WebGLLnnStepper implements GpuStepper {
  /** Degrees of freedom n. */
  readonly dof: number;
  /** SolveFlag per state of the last call (worst over the stages of an advance) `[capacity]`. */
  flags = new Uint8Array(0);
  /** States flagged (≥ 1) in the last call. */
  lastBad = 0;
  private readonly shape: LnnShape;
  /** Which coordinates are angles (wrapped in float64 before upload; every input map is 2π-periodic there). */
  private readonly angles: readonly boolean[];
  private readonly W: tf.Tensor2D[];
  private readonly B: tf.Tensor1D[];
  private readonly Wout: tf.Tensor1D;
  private zeros: { batch: number; a: tf.Tensor2D; d: tf.Tensor2D } | null = null;
  /** Generated programs by batch size, most recently used last. */
  private readonly programMemo = new Map<number, BatchPrograms>();
  private s32 = new Float32Array(0);
  private f32 = new Float32Array(0);
  private disposed = false;

  /**
   * Upload the folded weights of an `lnn` model.
   * @throws Error when the model is not `lnn`, has no hidden layer, or the webgl backend is not active
   */
  constructor(model: LoadedModel, options: WebGLLnnStepperOptions = {}) {
    const meta = model.metadata;
    if (meta.kind !== 'lnn') {
      throw new Error(`WebGLLnnStepper: model ${model.source} is '${meta.kind}'; only lnn models are fused.`);
    }
    if (meta.architecture.layers.length < 3) {
      throw new Error(`WebGLLnnStepper: model ${model.source} has no hidden layer (H_vv would be zero).`);
    }
    if (tf.getBackend() !== 'webgl') {
      throw new Error(
        `WebGLLnnStepper needs the TF.js webgl backend active (current: ${tf.getBackend()}); await initBackend({ backend: 'webgl' }) first.`,
      );
    }
    const n = meta.dof;
    const widths = meta.architecture.layers;
    const depth = widths.length - 1;
    const input = inputMapOf(meta);
    if (model.layers[0].inSize !== input.width) {
      throw new Error(
        `WebGLLnnStepper: model ${model.source} has ${model.layers[0].inSize} inputs but its input map (dof ${n}, angleEmbedding '${input.embedding}') needs ${input.width}; fix architecture.layers[0] or input.angleEmbedding.`,
      );
    }
    this.dof = n;
    this.angles = meta.angles;
    this.shape = {
      n,
      hidden: widths.slice(1, depth),
      activation: meta.architecture.activation,
      input,
      epsilon: options.epsilon ?? meta.solver?.hvvEpsilon,
    };
    // Folded in float64, uploaded as float32 (one rounding of each folded weight).
    const folded = foldModelWeights(model);
    this.W = [];
    this.B = [];
    for (let l = 0; l < depth - 1; l++) {
      const layer = model.layers[l];
      this.W.push(
        tf.tensor2d(Float32Array.from(folded.kernels[l]), [layer.inSize, layer.outSize], 'float32'),
      );
      this.B.push(tf.tensor1d(Float32Array.from(folded.biases[l]), 'float32'));
    }
    this.Wout = tf.tensor1d(Float32Array.from(folded.kernels[depth - 1]), 'float32');
  }

  private get backend(): WebGLBackendLike {
    if (this.disposed) throw new Error('WebGLLnnStepper: used after dispose().');
    if (tf.getBackend() !== 'webgl') {
      throw new Error(
        `WebGLLnnStepper: the active TF.js backend changed to ${tf.getBackend()}; switch back to webgl.`,
      );
    }
    return tf.backend() as unknown as WebGLBackendLike;
  }

  private run(program: LnnProgram, inputs: tf.Tensor[], uniforms?: number[][]): tf.Tensor {
    const info = this.backend.compileAndRun(program, inputs, 'float32', uniforms);
    return tf.engine().makeTensorFromTensorInfo(info);
  }

  /**
   * The programs for `batch` states, generated on the first use of that batch size and kept for the
   * last {@link PROGRAM_MEMO_SIZE} sizes (TF.js caches the compiled binaries by source; this saves
   * generating the sources on every stage).
   */
  private programsFor(batch: number): BatchPrograms {
    const memo = this.programMemo;
    let programs = memo.get(batch);
    if (programs) {
      memo.delete(batch);
      memo.set(batch, programs);
      return programs;
    }
    const s = this.shape;
    const H = s.hidden.length;
    // Textures of [B·R, w] keep their logical shape while B·R fits the maximum texture size.
    const direct = batch * rowsPerState(s.n) <= tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
    const linear: LnnProgram[] = [];
    const activation: LnnProgram[] = [];
    for (let l = 1; l < H; l++) {
      linear[l] = linearProgram(s, l, batch, direct);
      activation[l] = activationProgram(s, l, batch);
    }
    const adjoint: LnnProgram[] = [];
    for (let l = H - 2; l >= 0; l--) adjoint[l] = adjointProgram(s, l, batch, l + 1 === H - 1, direct);
    programs = {
      layer0: layer0Program(s, batch),
      linear,
      activation,
      adjoint,
      solve: solveProgram(s, batch),
      solveForced: null,
      combine: rk4CombineProgram(s.n, batch),
    };
    memo.set(batch, programs);
    if (memo.size > PROGRAM_MEMO_SIZE) memo.delete(memo.keys().next().value as number);
    return programs;
  }

  private zerosFor(batch: number): { a: tf.Tensor2D; d: tf.Tensor2D } {
    if (this.zeros?.batch !== batch) {
      this.zeros?.a.dispose();
      this.zeros?.d.dispose();
      this.zeros = tf.tidy(() => ({
        batch,
        a: tf.keep(tf.zeros([batch, this.dof + 1])) as tf.Tensor2D,
        d: tf.keep(tf.zeros([batch, 2 * this.dof + 1])) as tf.Tensor2D,
      }));
    }
    return this.zeros;
  }

  /**
   * q̈ and flags `[B, n+1]` at the stage state q = q0 + cqv·q̇0 + cqa·Aq, q̇ = q̇0 + cva·Av, where
   * (q0, q̇0) = S0 + D. The caller owns the result (call inside `tf.tidy`).
   * @param S0 `[B, 2n]` @param D `[B, 2n+1]` @param Aq `[B, n+1]` @param Av `[B, n+1]`
   * @param F `[B, 2n]` per row α·Q_c then α·C: the external force added to the right-hand side as
   *   α·Q_c − α·C ⊙ q̇ at the stage velocity; null: none (the unforced program)
   */
  stage(
    S0: tf.Tensor2D,
    D: tf.Tensor2D,
    Aq: tf.Tensor2D,
    Av: tf.Tensor2D,
    cqv: number,
    cqa: number,
    cva: number,
    F: tf.Tensor2D | null = null,
  ): tf.Tensor2D {
    const s = this.shape;
    const H = s.hidden.length;
    const p = this.programsFor(S0.shape[0]);
    return tf.tidy(() => {
      const X: tf.Tensor[] = [];
      X.push(this.run(p.layer0, [S0, D, Aq, Av, this.W[0], this.B[0]], [[cqv], [cqa], [cva]]));
      for (let l = 1; l < H; l++) {
        const Y = this.run(p.linear[l], [X[l - 1], this.W[l], this.B[l]]);
        X.push(this.run(p.activation[l], [Y]));
      }
      const G: tf.Tensor[] = new Array(Math.max(0, H - 1));
      for (let l = H - 2; l >= 0; l--) {
        const lastNext = l + 1 === H - 1;
        G[l] = this.run(p.adjoint[l], [X[l + 1], this.W[l + 1], lastNext ? this.Wout : G[l + 1]]);
      }
      // The stage state for the feature slopes (cos/sin inputs) and the velocity map (rapidity).
      if (F !== null) {
        const forced = solveStateInputs(s, true);
        p.solveForced ??= solveProgram(s, S0.shape[0], true);
        const tensors = { S0, D, Aq, Av };
        const values = { cqv, cqa, cva };
        return this.run(
          p.solveForced,
          [...X, ...G, this.Wout, this.W[0], ...forced.inputs.map((name) => tensors[name]), F],
          forced.uniforms.map((name) => [values[name]]),
        ) as tf.Tensor2D;
      }
      const extra = solveStateInputs(s);
      if (extra.inputs.length > 0) {
        const tensors = { S0, D, Aq, Av };
        const values = { cqv, cqa, cva };
        return this.run(
          p.solve,
          [...X, ...G, this.Wout, this.W[0], ...extra.inputs.map((name) => tensors[name])],
          extra.uniforms.map((name) => [values[name]]),
        ) as tf.Tensor2D;
      }
      return this.run(p.solve, [...X, ...G, this.Wout, this.W[0]]) as tf.Tensor2D;
    });
  }

  /**
   * q̈ and flags `[B, n+1]` for states `[B, 2n]` (q then q̇ per row; angles need not be wrapped), all on
   * the GPU. The caller owns the result. `F` `[B, 2n]`: an external force (see {@link stage}), or null.
   */
  accelerationsTensor(state: tf.Tensor2D, F: tf.Tensor2D | null = null): tf.Tensor2D {
    const z = this.zerosFor(state.shape[0]);
    return this.stage(state, z.d, z.a, z.a, 0, 0, 0, F);
  }

  /**
   * `substeps` RK4 steps of `dt` from S0 + D, on the GPU: returns the new increment D `[B, 2n+1]`
   * (last column: worst solve flag over all stages). The caller owns the result.
   * @param S0 `[B, 2n]` @param D `[B, 2n+1]` (e.g. zeros)
   * @param F `[B, 2n]`: the linear part of an external force applied at every stage (see {@link stage}),
   *   or null
   */
  rk4Tensor(
    S0: tf.Tensor2D,
    D: tf.Tensor2D,
    dt: number,
    substeps = 1,
    F: tf.Tensor2D | null = null,
  ): tf.Tensor2D {
    const z = this.zerosFor(S0.shape[0]);
    const h = dt;
    const combine = this.programsFor(S0.shape[0]).combine;
    return tf.tidy(() => {
      let d = D;
      for (let s = 0; s < substeps; s++) {
        const a1 = this.stage(S0, d, z.a, z.a, 0, 0, 0, F);
        const a2 = this.stage(S0, d, z.a, a1, h / 2, 0, h / 2, F);
        const a3 = this.stage(S0, d, a1, a2, h / 2, (h * h) / 4, h / 2, F);
        const a4 = this.stage(S0, d, a2, a3, h, (h * h) / 2, h, F);
        d = this.run(combine, [S0, d, a1, a2, a3, a4], [[h]]) as tf.Tensor2D;
      }
      return d === D ? (tf.clone(D) as tf.Tensor2D) : d;
    });
  }

  /**
   * Upload `[batch * n]` float64 q (angles wrapped in float64 first), q̇ as a `[B, 2n]` float32 state;
   * the rows of states marked in `skip` hold zeros.
   */
  private upload(q: Float64Array, qd: Float64Array, batch: number, skip?: Uint8Array): tf.Tensor2D {
    const n = this.dof;
    if (this.s32.length < batch * 2 * n) this.s32 = new Float32Array(batch * 2 * n);
    const angles = this.angles;
    for (let b = 0; b < batch; b++) {
      if (skip?.[b]) {
        this.s32.fill(0, b * 2 * n, (b + 1) * 2 * n);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const qi = q[b * n + i];
        this.s32[b * 2 * n + i] = angles[i] ? wrapAngle(qi) : qi;
        this.s32[b * 2 * n + n + i] = qd[b * n + i];
      }
    }
    return tf.tensor2d(this.s32.subarray(0, batch * 2 * n), [batch, 2 * n], 'float32');
  }

  /**
   * Upload an external force as `[B, 2n]` float32 (per row: `constant` of the state, then `damping`);
   * null when both parts are null.
   */
  private uploadForce(
    constant: Float64Array | null,
    damping: Float64Array | null,
    batch: number,
  ): tf.Tensor2D | null {
    if (constant === null && damping === null) return null;
    const n = this.dof;
    const w = 2 * n;
    if (this.f32.length < batch * w) this.f32 = new Float32Array(batch * w);
    const f = this.f32;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        f[b * w + i] = constant === null ? 0 : constant[b * n + i];
        f[b * w + n + i] = damping === null ? 0 : damping[i];
      }
    }
    return tf.tensor2d(f.subarray(0, batch * w), [batch, w], 'float32');
  }

  private growFlags(batch: number): void {
    if (this.flags.length < batch) this.flags = new Uint8Array(batch);
  }

  /**
   * Batched q̈ (an `AccelerationFn`): `q`, `qd`, `qdd` `[batch * n]`; one upload and one readback.
   * `force`: α·Q `[batch * n]` added to the right-hand side, or null.
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    force: Float64Array | null = null,
  ): void {
    const n = this.dof;
    const S = this.upload(q, qd, batch);
    const F = force === null ? null : this.uploadForce(force, null, batch);
    const A = this.accelerationsTensor(S, F);
    S.dispose();
    F?.dispose();
    const data = A.dataSync();
    A.dispose();
    this.growFlags(batch);
    let bad = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) qdd[b * n + i] = data[b * (n + 1) + i];
      const fl = data[b * (n + 1) + n];
      this.flags[b] = fl;
      if (fl >= 1) bad++;
    }
    this.lastBad = bad;
  }

  /**
   * Advance `batch` states in place by `substeps` RK4 steps of `dt`: one upload, 5·substeps·(3H−1)/… GPU
   * passes, one readback. Increments are summed in float32 on the GPU and added to the float64 state.
   * @param q `[batch * n]` @param qd `[batch * n]`
   * @param skip `[batch]`, optional: states marked (non-zero) are neither evaluated (zeros go up in their
   *   place) nor written, and get flag 2 (failed); a state whose increment comes back non-finite (float32
   *   overflow along the stages) is not written either, and is marked in `skip` and failed. The caller
   *   steps the marked states otherwise.
   * @param force the linear part of an external force (α·Q_c, α·C), uploaded once and applied in the
   *   solve pass of every stage; null or absent: none
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    substeps = 1,
    skip?: Uint8Array,
    force: GpuLinearForce | null = null,
  ): void {
    const n = this.dof;
    const S = this.upload(q, qd, batch, skip);
    const F = force === null ? null : this.uploadForce(force.constant, force.damping, batch);
    const z = this.zerosFor(batch);
    const D = this.rk4Tensor(S, z.d, dt, substeps, F);
    S.dispose();
    F?.dispose();
    const data = D.dataSync();
    D.dispose();
    this.growFlags(batch);
    const w = 2 * n + 1;
    let bad = 0;
    for (let b = 0; b < batch; b++) {
      if (skip) {
        let finite = skip[b] === 0;
        for (let i = 0; i < 2 * n && finite; i++) finite = Number.isFinite(data[b * w + i]);
        if (!finite) {
          skip[b] = 1;
          this.flags[b] = SolveFlag.failed;
          bad++;
          continue;
        }
      }
      for (let i = 0; i < n; i++) {
        q[b * n + i] += data[b * w + i];
        qd[b * n + i] += data[b * w + n + i];
      }
      const fl = data[b * w + 2 * n];
      this.flags[b] = fl;
      if (fl >= 1) bad++;
    }
    this.lastBad = bad;
  }

  /** Free the weight tensors and scratch. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.W, ...this.B, this.Wout]) t.dispose();
    this.zeros?.a.dispose();
    this.zeros?.d.dispose();
    this.zeros = null;
    this.programMemo.clear();
  }
}
