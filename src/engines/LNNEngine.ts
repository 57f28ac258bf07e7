import * as tf from '@tensorflow/tfjs-core';
import type { System } from '../core/types.js';
import type { GpuStepper } from '../gpu/GpuStepper.js';
import { WebGLLnnStepper } from '../gpu/WebGLLnnStepper.js';
import { ensureBackend, resolveWasmPaths } from '../learned/backend.js';
import { LearnedEngine } from '../learned/LearnedEngine.js';
import { type LearnedEngineInit, openEngine } from '../learned/openEngine.js';
import type { LearnedEngineOptions } from '../learned/options.js';
import { angleFlags, type EngineKernels, epsilonOf, type RouteName } from '../learned/Route.js';
import { readBack } from '../learned/readBack.js';
import type { TermsPool } from '../learned/TermsPool.js';
import type { WeightSet } from '../learned/weights.js';
import { applyVelocityMap, featureSlope, fillInput, type InputMap } from '../model/inputMap.js';
import type { ModelSource } from '../model/loadModel.js';
import { isNode, nodeOs } from '../model/nodeIo.js';
import { referenceEnergy, wrapAngle } from '../model/reference.js';
import { createFusedLnn, type FusedLnn } from '../nn/jsLnn.js';
import { packedLagrangianTerms } from '../nn/lagrangianTerms.js';
import type { Accelerations } from '../nn/lnn.js';
import { type NetworkSpec, specFromModel, wrapAngles } from '../nn/mlp.js';
import { solveSymmetric } from '../nn/solve.js';
import { solveSymmetric64 } from '../nn/solve64.js';
import { tidy } from '../nn/tidy.js';
import { fusedLagrangianPack } from '../nn/wasmKernels.js';

/**
 * The Lagrangian Neural Network engine: q̈ = H_vv⁻¹ (∂L/∂q − H_vq q̇) from a learned L(q, q̇), with exact
 * derivatives of the network (no nested autodiff). All states of one call are evaluated in one batched
 * TF.js computation (float32), and the small n×n solve runs in float64 JS after a single readback; on
 * webgl a step keeps the state on the GPU across RK4 stages (see `LearnedEngineOptions.resident`).
 * Small batches take the plain-JS route (`createFusedLnn`), and on webgl the fused WebGL programs
 * (`WebGLLnnStepper`, route `webgl-fused`) where the route plan says so (see `LearnedEngineOptions.route`).
 * A singular or indefinite learned H_vv is regularised and reported in {@link LearnedEngine.lastReport}.
 * @example
 * const engine = await LNNEngine.load('assets/models/double-pendulum-lnn', createSystem('double-pendulum'));
 * engine.step(q, qd, batch, 1 / 120, new RungeKutta4());
 * engine.dispose();
 */
export class LNNEngine extends LearnedEngine {
  readonly id = 'lnn' as const;
  private readonly lnn: LnnKernels;

  /**
   * Load a model (path, URL, artefacts or loaded model), check it against `system`, initialise the
   * backend and upload the weights.
   * @throws ModelFormatError for a bad file, a non-lnn model or a dof mismatch
   */
  static load(source: ModelSource, system: System, options: LearnedEngineOptions = {}): Promise<LNNEngine> {
    return openEngine('lnn', source, system, options, (init) => new LNNEngine(init));
  }

  private constructor(init: LearnedEngineInit, kernels = new LnnKernels(init)) {
    super(init, kernels);
    this.lnn = kernels;
  }

  /**
   * Start worker threads when `threads` asks for them: Node, or a cross-origin-isolated page (with
   * `wasmPaths`), for the fused wasm pass — on the wasm backend, or on the `wasm` route of a webgl or cpu
   * engine, unless `route` forces another route. An explicit `threads` > 1 that cannot be honoured
   * throws; `'auto'` (at most {@link AUTO_THREADS_MAX} threads) falls back to one thread with a warning,
   * also when the workers fail to start.
   */
  override async start(): Promise<void> {
    const requested = this.options.threads ?? 1;
    if (requested !== 'auto' && requested <= 1) return;
    const route = this.options.route ?? 'auto';
    const wasmRoute =
      (route === 'auto' || route === 'wasm') && (this.backend === 'wasm' || this.wasmRouteReady);
    const { TermsPool, poolProblem } = await import('../learned/TermsPool.js');
    const wasmPaths = resolveWasmPaths(this.options.wasmPaths);
    const problem = !wasmRoute
      ? `the batch is split only on the wasm route (backend ${this.backend}, route '${route}'${this.backend === 'wasm' || this.wasmRouteReady ? '' : ', wasm backend not initialised'})`
      : poolProblem(wasmPaths);
    if (problem !== null) {
      if (requested !== 'auto') {
        throw new Error(`lnn engine: threads: ${requested} cannot run here: ${problem}; or use threads: 1.`);
      }
      if (wasmRoute) this.lnn.noteOneThread(problem);
      return;
    }
    const threads = requested === 'auto' ? Math.min(AUTO_THREADS_MAX, await availableThreads()) : requested;
    if (threads <= 1) return;
    try {
      this.lnn.pool = await TermsPool.create(this.model, this.system.dof, threads, {
        inWidth: this.lnn.input.width,
        wasmPaths,
      });
    } catch (e) {
      if (requested !== 'auto') throw e;
      this.lnn.noteOneThread((e as Error).message);
    }
  }

  /** Learned energy E = q̇·∂L/∂q̇ − L of one state (float64 evaluation of the network). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return referenceEnergy(this.model, q, qd);
  }

  protected override disposeResources(): void {
    this.lnn.pool?.dispose();
  }

  /** Threads evaluating large batches (1: no worker pool). */
  get threads(): number {
    return this.lnn.pool?.threads ?? 1;
  }

  /**
   * Why `threads: 'auto'` runs on one thread here (no cross-origin isolation, no `wasmPaths`, workers
   * that failed to start or stopped answering), or null.
   */
  get threadsProblem(): string | null {
    return this.lnn.threadsNote;
  }
}

/**
 * The kernels of the `lnn` engine: the allocation-free float64 evaluator (`js`), the fused wasm/cpu
 * pass or plain TF.js ops with a float64 solve (`tensor`), the resident tensor q̈ and the fused WebGL
 * stepper (`webgl-fused`).
 */
class LnnKernels implements EngineKernels {
  /** Worker threads for large batches (Node, wasm, `threads` > 1), or null. */
  pool: TermsPool | null = null;
  /** Why `threads: 'auto'` stayed on one thread, or null. */
  threadsNote: string | null = null;
  /**
   * The network's input map (`inputMapOf`): wrap(q), or cos/sin of the angles under `sincos`; q̇, or
   * atanh(q̇) under `rapidity`.
   */
  readonly input: InputMap;
  /** The fused WebGL stepper of the `webgl-fused` route (engines on webgl). */
  readonly gpuStepper?: () => GpuStepper;
  private readonly system: System;
  private readonly spec: NetworkSpec;
  private readonly epsilon: number | undefined;
  private readonly wrapFlags: readonly boolean[];
  /** The allocation-free plain-JS evaluator (the `js` route). */
  private readonly fusedJs: FusedLnn;
  /** Batches of at least this many states use the pool. */
  private readonly parallelAbove: number;
  /** Whether the input is x = (wrap(q), q̇) — the layout with its own, shorter loops. */
  private readonly plainInput: boolean;
  private q32 = new Float32Array(0);
  private v32 = new Float32Array(0);
  private xs32 = new Float32Array(0);
  private packOut = new Float32Array(0);
  private hvv = new Float64Array(0);
  private rhs = new Float64Array(0);
  private hu = new Float64Array(0);
  private gphi = new Float64Array(0);
  /** The weights of the tensor call in progress. */
  private w: WeightSet | null = null;

  constructor({ model, system, backend, options }: LearnedEngineInit) {
    this.system = system;
    this.spec = specFromModel(model);
    this.input = this.spec.inputMap!;
    this.plainInput = this.input.identity && this.input.velocity === 'identity';
    this.epsilon = epsilonOf(model, options.epsilon);
    this.wrapFlags = angleFlags(model, system.dof);
    // `openEngine` refuses a network without hidden layer, which createFusedLnn cannot take.
    this.fusedJs = createFusedLnn(model, { epsilon: options.epsilon });
    this.parallelAbove = options.parallelAbove ?? 64;
    if (backend === 'webgl') {
      this.gpuStepper = () => {
        ensureBackend('webgl');
        return new WebGLLnnStepper(model, { epsilon: options.epsilon });
      };
    }
  }

  /** Run on one thread from now on, saying why once (console warning and `threadsProblem`). */
  noteOneThread(why: string): void {
    this.threadsNote = `threads: 'auto' runs on one thread here: ${why}`;
    console.warn(`three-lnn: ${this.threadsNote}`);
  }

  /** The allocation-free fused evaluator (float64), with α·Q `force` added to the right-hand side. */
  js(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void {
    if (force === null) this.fusedJs.accelerations(q, qd, qdd, batch);
    else this.fusedJs.forced(q, qd, qdd, batch, force);
    flags.set(this.fusedJs.flags.subarray(0, batch));
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
    this.w = weights;
    try {
      this.tensorOn(weights, q, qd, qdd, batch, flags, force);
    } finally {
      this.w = null;
    }
  }

  private tensorOn(
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void {
    const n = this.system.dof;
    const k = n + 1;
    const data = weights.fused ? this.fusedPack(q, qd, batch) : this.plainPack(q, qd, batch);
    if (this.hvv.length < n * n) {
      this.hvv = new Float64Array(n * n);
      this.rhs = new Float64Array(n);
      this.hu = new Float64Array(n);
      this.gphi = new Float64Array(n);
    }
    const eps = this.epsilon;
    const map = this.input;
    if (weights.fused && !this.plainInput) {
      // Fused rows end in ∂L/∂x (m), against the network inputs: ∂L/∂q_i sums slope · ∂L/∂x over the q
      // inputs of coordinate i (slopes in float64 from the state); under rapidity the velocity-input
      // derivatives become derivatives against q̇ (applyVelocityMap).
      const w = n * k + map.width;
      const rapidity = map.velocity === 'rapidity';
      const { hvv, rhs, hu, gphi } = this;
      for (let b = 0; b < batch; b++) {
        const o = b * w;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) hvv[i * n + j] = data[o + i * k + j];
          hu[i] = data[o + i * k + n];
          rhs[i] = 0;
        }
        for (let c = 0; c < map.qWidth; c++) {
          const i = map.coord[c];
          rhs[i] += featureSlope(map, c, q[b * n + i]) * data[o + n * k + c];
        }
        if (rapidity) {
          for (let i = 0; i < n; i++) gphi[i] = data[o + n * k + map.qWidth + i];
          applyVelocityMap(map, qd, b * n, hvv, hu, gphi);
        }
        for (let i = 0; i < n; i++) rhs[i] -= hu[i];
        if (force !== null) for (let i = 0; i < n; i++) rhs[i] += force[b * n + i];
        flags[b] = solveSymmetric64(hvv, 0, rhs, 0, qdd, b * n, n, eps);
      }
      return;
    }
    // Row layout: H[i][j] for i < n, j < k, then (∂L/∂q, ∂L/∂q̇) (2n). Column n of H is H_vq q̇.
    const w = n * k + 2 * n;
    for (let b = 0; b < batch; b++) {
      const o = b * w;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) this.hvv[i * n + j] = data[o + i * k + j];
        this.rhs[i] = data[o + n * k + i] - data[o + i * k + n];
        if (force !== null) this.rhs[i] += force[b * n + i];
      }
      flags[b] = solveSymmetric64(this.hvv, 0, this.rhs, 0, qdd, b * n, n, eps);
    }
  }

  /**
   * Write the stacked fused-pass input of states `[start, start + count)` into `xs`: the primal rows
   * x = (wrap(q), q̇), then per state the directions e_{q̇_i} and u = (q̇, 0).
   */
  private fillStacked(
    xs: Float32Array<ArrayBufferLike>,
    q: Float64Array,
    qd: Float64Array,
    start: number,
    count: number,
  ): void {
    if (!this.plainInput) {
      this.fillStackedEmbedded(xs, q, qd, start, count);
      return;
    }
    const n = this.system.dof;
    const k = n + 1;
    const m = 2 * n;
    const { angles } = this.spec;
    xs.fill(0, count * m, count * (1 + k) * m);
    for (let b = 0; b < count; b++) {
      const t = (count + b * k) * m;
      for (let i = 0; i < n; i++) {
        const j = (start + b) * n + i;
        // Wrap in float64 before rounding to float32: large angles keep their precision.
        xs[b * m + i] = angles[i] ? wrapAngle(q[j]) : q[j];
        xs[b * m + n + i] = qd[j];
        xs[t + i * m + n + i] = 1;
        xs[t + n * m + i] = qd[j];
      }
    }
  }

  /**
   * {@link LNNEngine.fillStacked} for the other input maps (sincos angles, atanh(q̇) velocities): primal
   * rows are the network inputs (computed in float64), the velocity rows are unit vectors at input
   * qWidth + i, and the u row holds slope ⊙ q̇ per q input (0 on the velocity inputs).
   */
  private fillStackedEmbedded(
    xs: Float32Array<ArrayBufferLike>,
    q: Float64Array,
    qd: Float64Array,
    start: number,
    count: number,
  ): void {
    const map = this.input;
    const n = this.system.dof;
    const k = n + 1;
    const m = map.width;
    const { qWidth, coord } = map;
    xs.fill(0, count * m, count * (1 + k) * m);
    for (let b = 0; b < count; b++) {
      const t = (count + b * k) * m;
      const o = (start + b) * n;
      fillInput(map, q, o, qd, o, xs, b * m, false);
      for (let i = 0; i < n; i++) xs[t + i * m + qWidth + i] = 1;
      for (let c = 0; c < qWidth; c++) {
        const j = o + coord[c];
        xs[t + n * m + c] = featureSlope(map, c, q[j]) * qd[j];
      }
    }
  }

  /** The fused pass on this thread for `count` states whose stacked input is in `xs`. */
  private localPack(xs: Float32Array<ArrayBufferLike>, count: number): Float32Array {
    const n = this.system.dof;
    const m = this.input.width;
    const rows = count * (n + 2);
    const fused = this.w!.fused!;
    return readBack(() =>
      fusedLagrangianPack(fused, this.spec.activation, tf.tensor2d(xs.subarray(0, rows * m), [rows, m]), n),
    );
  }

  /** Fused wasm/cpu pass, split across worker threads for large batches when a pool exists. */
  private fusedPack(q: Float64Array, qd: Float64Array, batch: number): Float32Array {
    const n = this.system.dof;
    const m = this.input.width;
    const width = n * (n + 1) + m;
    // The pool's workers run on wasm: used on the wasm backend and on the wasm route of another one.
    if (this.pool && batch >= this.parallelAbove && tf.getBackend() === 'wasm') {
      if (this.packOut.length < batch * width) this.packOut = new Float32Array(batch * width);
      try {
        this.pool.run(
          batch,
          {
            fill: (xs, start, count) => this.fillStacked(xs, q, qd, start, count),
            local: (xs, count) => this.localPack(xs, count),
          },
          this.packOut,
        );
        return this.packOut;
      } catch (e) {
        // A failed or silent worker: drop the pool and finish this call (and the next) on this thread,
        // which computes bitwise the same rows.
        this.pool.dispose();
        this.pool = null;
        this.threadsNote = `the worker threads stopped (${(e as Error).message}); running on one thread`;
        console.warn(`three-lnn: ${this.threadsNote}`);
      }
    }
    const size = batch * (n + 2) * m;
    if (this.xs32.length < size) this.xs32 = new Float32Array(size);
    this.fillStacked(this.xs32, q, qd, 0, batch);
    return this.localPack(this.xs32, batch);
  }

  /**
   * Plain-op pass (webgl and any backend without fused kernels): rows of H as in the fused pass, then
   * (∂L/∂q, ∂L/∂q̇) — already mapped through the input map. Angles are wrapped in float64 before the
   * float32 upload (also under sincos, where it keeps the precision of a large angle).
   */
  private plainPack(q: Float64Array, qd: Float64Array, batch: number): Float32Array {
    const n = this.system.dof;
    const k = n + 1;
    const size = batch * n;
    if (this.q32.length < size) {
      this.q32 = new Float32Array(size);
      this.v32 = new Float32Array(size);
    }
    const { angles } = this.spec;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        const j = b * n + i;
        this.q32[j] = angles[i] ? wrapAngle(q[j]) : q[j];
        this.v32[j] = qd[j];
      }
    }
    const folded = this.w!.folded!;
    return readBack(() => {
      const p = packedLagrangianTerms(
        folded,
        this.spec.activation,
        tf.tensor2d(this.q32.subarray(0, size), [batch, n]),
        tf.tensor2d(this.v32.subarray(0, size), [batch, n]),
        this.input,
      );
      const rows = tf.reshape(tf.slice(p.hessian, [0, 0, 0], [batch, n, k]), [batch, n * k]);
      return tf.concat([rows, p.grad], 1);
    });
  }

  /**
   * q̈ of tensor states `[batch, dof]` entirely on the backend (the resident route), with α·Q `force`
   * `[batch, dof]` added to the right-hand side.
   */
  resident(
    weights: WeightSet,
    q: tf.Tensor2D,
    qd: tf.Tensor2D,
    force: tf.Tensor2D | null = null,
  ): Accelerations {
    return tidy(() => {
      const [batch, n] = q.shape;
      // cos/sin of an embedded angle are periodic: only the identity layout needs wrapped angles.
      const qIn = this.input.identity ? wrapAngles(q, this.wrapFlags) : q;
      const p = packedLagrangianTerms(weights.folded!, this.spec.activation, qIn, qd, this.input);
      const hvv = tf.slice(p.hessian, [0, 0, 0], [batch, n, n]) as tf.Tensor3D;
      const hu = tf.reshape(tf.slice(p.hessian, [0, 0, n], [batch, n, 1]), [batch, n]);
      const gq = tf.slice(p.grad, [0, 0], [batch, n]);
      const rhs = tf.sub(gq, hu) as tf.Tensor2D;
      const { x, flags } = solveSymmetric(
        hvv,
        force === null ? rhs : (tf.add(rhs, force) as tf.Tensor2D),
        this.epsilon,
      );
      return { qdd: x, flags };
    });
  }

  /** Threads a call runs on: the pool splits only the fused pass on the wasm route. */
  threads(route: RouteName, batch: number): number {
    return this.pool && route === 'wasm' && batch >= this.parallelAbove ? this.pool.threads : 1;
  }
}

/** Most threads `threads: 'auto'` starts (each worker holds its own wasm instance and weights). */
export const AUTO_THREADS_MAX = 4;

/** Threads worth using: Node's available parallelism, or the browser's hardware concurrency. */
async function availableThreads(): Promise<number> {
  if (isNode()) return (await nodeOs()).availableParallelism();
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}
