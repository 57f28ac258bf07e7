import * as tf from '@tensorflow/tfjs-core';
import type { AccelerationFn, Engine, EngineId, Integrator, System } from '../core/types';
import type { LoadedModel } from '../model/metadata';
import { wrapAngle } from '../model/reference';
import type { Accelerations } from '../nn/lnn';
import { SolveFlag } from '../nn/solve64';
import { tidy } from '../nn/tidy';
import { type BackendName, type BackendOptions, ensureBackend } from './backend';

/** Options shared by the learned engines (`lnn`, `baseline`, `lgn`). */
export interface LearnedEngineOptions extends BackendOptions {
  /**
   * Calls with at most this many states use the float64 plain-JS evaluator instead of tensors (no TF.js
   * per-op overhead: faster for a handful of states). 0 disables it; `'auto'` times both paths once when
   * the engine is created and sets the crossover (see {@link LearnedEngine.jsBelow}).
   * @default 'auto'
   */
  jsBelow?: number | 'auto';
  /**
   * Magnitude of the diagonal shift for an indefinite H_vv.
   * @default the model's solver.hvvEpsilon, else relative (1e-3 · mean |diag H_vv|)
   */
  epsilon?: number;
  /**
   * Keep the state on the accelerator across the stages (and substeps) of `rk4` and `symplectic-euler`
   * steps, reading back once per step. Other integrators use per-stage readback.
   * @default true on webgl, false elsewhere (reading back is free on wasm/cpu and the float64 solve is exact)
   */
  resident?: boolean;
  /**
   * Node + wasm: threads evaluating large batches (worker threads with their own TF.js instance, driven
   * synchronously through shared memory); `'auto'` = the machine's available parallelism. Used by the
   * `lnn` engine.
   * @default 1
   */
  threads?: number | 'auto';
  /** With `threads` > 1: batches of at least this many states are split across the threads. @default 64 */
  parallelAbove?: number;
  /** Called after every step / acceleration call with its {@link EngineReport}. @default undefined */
  onReport?: (report: EngineReport) => void;
}

/** What the last step (or `accelerations` call) found, per state and in total. */
export interface EngineReport {
  /** States in the last call. */
  batch: number;
  /** `[batch]` worst SolveFlag over the stages of the last step: 0 ok, 1 H_vv regularised, 2 failed (q̈ = 0). */
  flags: Uint8Array;
  /** States of the last step with flag ≥ 1. */
  regularised: number;
  /** States of the last step with flag 2. */
  failed: number;
  /**
   * Counts since the engine was created: q̈ evaluations (states × stages) and flagged states (counted
   * per call, or per step on the resident path).
   */
  totals: { evaluations: number; regularised: number; failed: number };
  /** Where q̈ was computed: `tensor` (TF.js, float64 solve in JS), `resident` (all on the backend), `js`. */
  path: 'tensor' | 'resident' | 'js';
  /** The backend in use. */
  backend: BackendName;
}

/**
 * Shared machinery of the learned engines: backend switching, the small-batch JS path, per-state
 * solve reports, scratch buffers and an accelerator-resident RK4 / symplectic Euler step. Subclasses
 * supply the q̈ computations.
 */
export abstract class LearnedEngine implements Engine {
  abstract readonly id: EngineId;
  readonly system: System;
  readonly model: LoadedModel;
  /** The backend actually in use (after fallbacks). */
  readonly backend: BackendName;
  /** Notices about the model/system pairing and backend fallbacks. */
  readonly warnings: readonly string[];
  /** The last step's report (see {@link EngineReport}). */
  readonly lastReport: EngineReport;
  /** `accelerations` bound to this engine, for integrators. */
  readonly accelerationFn: AccelerationFn;
  protected readonly options: LearnedEngineOptions;
  protected disposed = false;
  /**
   * The batch size up to which `accelerations` uses the plain-JS path (the small-batch route), after
   * calibration when `jsBelow` is `'auto'`. Visible so that apps can show the route; assignable to
   * override it.
   */
  jsBelow: number;
  /** True while a step runs: stage flags are merged instead of replaced. */
  private merging = false;
  private readonly resident: boolean;

  protected constructor(
    system: System,
    model: LoadedModel,
    backend: BackendName,
    warnings: string[],
    options: LearnedEngineOptions,
  ) {
    this.system = system;
    this.model = model;
    this.backend = backend;
    this.warnings = warnings;
    this.options = options;
    this.resident = backend !== 'js' && (options.resident ?? backend === 'webgl');
    this.jsBelow = typeof options.jsBelow === 'number' ? options.jsBelow : 0;
    this.lastReport = {
      batch: 0,
      flags: new Uint8Array(0),
      regularised: 0,
      failed: 0,
      totals: { evaluations: 0, regularised: 0, failed: 0 },
      path: backend === 'js' ? 'js' : 'tensor',
      backend,
    };
    this.accelerationFn = (q, qd, qdd, batch) => this.accelerations(q, qd, qdd, batch);
  }

  /** The diagonal shift magnitude in use, or undefined for the relative default. */
  protected get epsilon(): number | undefined {
    return this.options.epsilon ?? this.model.metadata.solver?.hvvEpsilon;
  }

  /** Float64 q̈ of `batch` states in plain JS; writes per-state flags. */
  protected abstract jsAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void;

  /** q̈ through TF.js with one readback; writes per-state flags. Runs with the engine's backend active. */
  protected abstract tensorAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void;

  /**
   * q̈ of tensor states `[batch, dof]` entirely on the backend (for the resident step), or null when the
   * engine has no such path.
   */
  protected residentAccelerations(_q: tf.Tensor2D, _qd: tf.Tensor2D): Accelerations | null {
    return null;
  }

  /** Batched q̈ (see `AccelerationFn`): `q`, `qd`, `qdd`: `[batch * dof]`. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.checkState(q, qd, batch, qdd);
    const flags = this.callFlags(batch);
    if (this.backend === 'js' || batch <= this.jsBelow) {
      this.jsAccelerations(q, qd, qdd, batch, flags);
      this.record(flags, batch, 'js');
    } else {
      ensureBackend(this.backend);
      this.tensorAccelerations(q, qd, qdd, batch, flags);
      this.record(flags, batch, 'tensor');
    }
  }

  /**
   * Advance `batch` states in place by `dt`. With `resident` on (webgl default) and `rk4` or
   * `symplectic-euler`, every stage runs on the backend and the state is read back once.
   */
  step(q: Float64Array, qd: Float64Array, batch: number, dt: number, integrator: Integrator): void {
    this.advance(q, qd, batch, dt, integrator, 1);
  }

  /**
   * Advance by `substeps` steps of `dt` with one readback in total when resident (the frame's substeps
   * share it); otherwise `substeps` ordinary steps. `lastReport` merges the flags of all stages.
   * @param q `[batch * dof]` @param qd `[batch * dof]`
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    substeps = 1,
  ): void {
    this.checkState(q, qd, batch);
    const residentOk =
      this.resident &&
      batch > this.jsBelow &&
      (integrator.id === 'rk4' || integrator.id === 'symplectic-euler');
    this.merging = true;
    this.resetReport(batch);
    try {
      if (
        residentOk &&
        this.residentStep(q, qd, batch, dt, integrator.id as 'rk4' | 'symplectic-euler', substeps)
      ) {
        return;
      }
      for (let s = 0; s < substeps; s++)
        integrator.step(this.accelerationFn, q, qd, this.system.dof, batch, dt);
    } finally {
      this.merging = false;
      this.options.onReport?.(this.lastReport);
    }
  }

  /** The resident step; false when the subclass has no tensor q̈. */
  private residentStep(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    method: 'rk4' | 'symplectic-euler',
    substeps: number,
  ): boolean {
    ensureBackend(this.backend as Exclude<BackendName, 'js'>);
    const n = this.system.dof;
    const size = batch * n;
    const result = tidy(() => {
      // Increments are accumulated in float32 and added to the float64 state afterwards, so the state
      // itself keeps float64 precision over a step. Angles the network wraps anyway are wrapped here in
      // float64 first, so that a large unwrapped angle loses no precision in float32.
      const wrapped = Float32Array.from(q.subarray(0, size));
      const wrapFlags = this.wrapFlags();
      for (let j = 0; j < size; j++) if (wrapFlags[j % n]) wrapped[j] = wrapAngle(q[j]);
      const Q0 = tf.tensor2d(wrapped, [batch, n]);
      const V0 = tf.tensor2d(Float32Array.from(qd.subarray(0, size)), [batch, n]);
      let dQ: tf.Tensor2D = tf.zeros([batch, n]);
      let dV: tf.Tensor2D = tf.zeros([batch, n]);
      let worst: tf.Tensor1D = tf.zeros([batch], 'int32');
      const f = (Q: tf.Tensor2D, V: tf.Tensor2D): tf.Tensor2D | null => {
        const r = this.residentAccelerations(Q, V);
        if (r === null) return null;
        worst = tf.maximum(worst, r.flags) as tf.Tensor1D;
        return r.qdd;
      };
      for (let s = 0; s < substeps; s++) {
        const Q = s === 0 ? Q0 : (tf.add(Q0, dQ) as tf.Tensor2D);
        const V = s === 0 ? V0 : (tf.add(V0, dV) as tf.Tensor2D);
        let stepQ: tf.Tensor2D;
        let stepV: tf.Tensor2D;
        if (method === 'symplectic-euler') {
          const a = f(Q, V);
          if (a === null) return null;
          stepV = tf.mul(a, dt);
          stepQ = tf.mul(tf.add(V, stepV), dt);
        } else {
          const h2 = dt / 2;
          const a1 = f(Q, V);
          if (a1 === null) return null;
          const V2 = tf.add(V, tf.mul(a1, h2)) as tf.Tensor2D;
          const a2 = f(tf.add(Q, tf.mul(V, h2)) as tf.Tensor2D, V2) as tf.Tensor2D;
          const V3 = tf.add(V, tf.mul(a2, h2)) as tf.Tensor2D;
          const a3 = f(tf.add(Q, tf.mul(V2, h2)) as tf.Tensor2D, V3) as tf.Tensor2D;
          const V4 = tf.add(V, tf.mul(a3, dt)) as tf.Tensor2D;
          const a4 = f(tf.add(Q, tf.mul(V3, dt)) as tf.Tensor2D, V4) as tf.Tensor2D;
          const h6 = dt / 6;
          stepQ = tf.mul(tf.add(tf.add(V, V4), tf.mul(tf.add(V2, V3), 2)), h6);
          stepV = tf.mul(tf.add(tf.add(a1, a4), tf.mul(tf.add(a2, a3), 2)), h6);
        }
        dQ = tf.add(dQ, stepQ) as tf.Tensor2D;
        dV = tf.add(dV, stepV) as tf.Tensor2D;
      }
      return tf.concat([dQ, dV, tf.cast(tf.reshape(worst, [batch, 1]), 'float32')], 1);
    });
    if (result === null) return false;
    const data = result.dataSync();
    result.dispose();
    const flags = this.callFlags(batch);
    const w = 2 * n + 1;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) {
        q[b * n + i] += data[b * w + i];
        qd[b * n + i] += data[b * w + n + i];
      }
      flags[b] = data[b * w + 2 * n];
    }
    this.record(flags, batch, 'resident', (method === 'rk4' ? 4 : 1) * substeps);
    return true;
  }

  /**
   * Time the plain-JS and tensor paths once and set {@link LearnedEngine.jsBelow} to the batch size where
   * they cost the same (JS: a·B; tensors: t0 + t1·B). Called by the engines' `load` unless `jsBelow` is a
   * number; cheap (a few calls of each path).
   * @returns the threshold chosen
   */
  calibrate(maxThreshold = 256): number {
    if (this.backend === 'js') return this.jsBelow;
    ensureBackend(this.backend);
    const n = this.system.dof;
    const big = 8;
    const q = new Float64Array(big * n).map((_, i) => Math.sin(i));
    const qd = new Float64Array(big * n).map((_, i) => Math.cos(i));
    const qdd = new Float64Array(big * n);
    const flags = new Uint8Array(big);
    // Two untimed calls first (JIT, kernel set-up), then the best of three.
    const best = (f: () => void) => {
      f();
      f();
      let t = Number.POSITIVE_INFINITY;
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        f();
        t = Math.min(t, performance.now() - t0);
      }
      return t;
    };
    const js1 = best(() => this.jsAccelerations(q, qd, qdd, 1, flags));
    const tensor1 = best(() => this.tensorAccelerations(q, qd, qdd, 1, flags));
    const tensorBig = best(() => this.tensorAccelerations(q, qd, qdd, big, flags));
    const perState = Math.max(0, (tensorBig - tensor1) / (big - 1));
    const overhead = Math.max(0, tensor1 - perState);
    const threshold = js1 <= perState ? maxThreshold : Math.floor(overhead / (js1 - perState));
    this.jsBelow = Math.max(0, Math.min(maxThreshold, threshold));
    return this.jsBelow;
  }

  /** Free the weight tensors. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeTensors();
  }

  /** Which state coordinates the network wraps as angles (`[dof]`). */
  private wrapFlags(): readonly boolean[] {
    const m = this.model.metadata;
    return m.kind === 'lgn' ? new Array<boolean>(this.system.dof).fill(m.angles[0]) : m.angles;
  }

  /** Subclasses free their tensors here. */
  protected abstract disposeTensors(): void;

  private scratchFlags = new Uint8Array(0);

  /** A zeroed per-call flags buffer of length `batch`. */
  private callFlags(batch: number): Uint8Array {
    if (this.scratchFlags.length < batch) this.scratchFlags = new Uint8Array(batch);
    const f = this.scratchFlags.subarray(0, batch);
    f.fill(0);
    return f;
  }

  /** Start a fresh report for `batch` states. */
  private resetReport(batch: number): void {
    const r = this.lastReport;
    if (r.flags.length !== batch) r.flags = new Uint8Array(batch);
    else r.flags.fill(0);
    r.batch = batch;
    r.regularised = 0;
    r.failed = 0;
  }

  /**
   * Fold one call's flags into the report: replace outside a step, keep the worst flag per state over
   * the stages of a step. Totals count flagged states per call (per step on the resident path).
   */
  private record(flags: Uint8Array, batch: number, path: EngineReport['path'], stages = 1): void {
    const r = this.lastReport;
    if (!this.merging || r.flags.length !== batch) this.resetReport(batch);
    let regularised = 0;
    let failed = 0;
    let callBad = 0;
    let callFailed = 0;
    for (let b = 0; b < batch; b++) {
      const f = flags[b];
      if (f >= SolveFlag.regularised) callBad++;
      if (f === SolveFlag.failed) callFailed++;
      const merged = Math.max(f, r.flags[b]);
      r.flags[b] = merged;
      if (merged >= SolveFlag.regularised) regularised++;
      if (merged === SolveFlag.failed) failed++;
    }
    r.regularised = regularised;
    r.failed = failed;
    r.path = path;
    r.totals.evaluations += batch * stages;
    r.totals.regularised += callBad;
    r.totals.failed += callFailed;
    if (!this.merging) this.options.onReport?.(r);
  }

  /** Throw a clear Error for wrong array sizes or use after dispose. */
  private checkState(q: Float64Array, qd: Float64Array, batch: number, qdd?: Float64Array): void {
    if (this.disposed) throw new Error(`${this.id} engine: used after dispose().`);
    const need = batch * this.system.dof;
    if (!Number.isInteger(batch) || batch < 0)
      throw new Error(`${this.id} engine: batch must be an integer ≥ 0, got ${batch}.`);
    if (q.length < need || qd.length < need || (qdd !== undefined && qdd.length < need)) {
      throw new Error(
        `${this.id} engine: q, qd${qdd ? ', qdd' : ''} must hold batch × dof = ${batch} × ${this.system.dof} = ${need} values (got ${q.length}, ${qd.length}${qdd ? `, ${qdd.length}` : ''}).`,
      );
    }
  }
}
