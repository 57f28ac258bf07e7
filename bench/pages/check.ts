/**
 * In-page checks of the fused WebGL LNN against the float64 reference evaluator, driven from
 * test/browser/gpu-fused.test.ts through `window.__lnn.check`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { WebGLLnnStepper } from '../../src/gpu/WebGLLnnStepper';
import { RungeKutta4 } from '../../src/integrators/RungeKutta4';
import { symmetricEigenvalues } from '../../src/linalg/symmetricEigenvalues';
import { createRng, uniform } from '../../src/math/random';
import type { LoadedModel } from '../../src/model/metadata';
import { createRandomModel, type RandomModelOptions } from '../../src/model/randomModel';
import { referenceAccelerations, referenceTerms } from '../../src/model/reference';

/** What {@link checkFused} reports. */
export interface FusedCheck {
  backend: string;
  batch: number;
  /** States whose solve flag agreed with the reference (the others sit at the definiteness threshold). */
  compared: number;
  /** max over compared definite states of |q̈_gpu − q̈_ref| / max(1, |q̈_ref|∞) / cond(H_vv). */
  maxRelErr: number;
  /**
   * The same over regularised states: H_vv + εI with ε = 1e-3·mean|diag| can have a condition number
   * near 1e3, which multiplies float32 rounding.
   */
  maxRelErrRegularised: number;
  /** The state with the largest error among definite ones (for messages). */
  worst: unknown;
  /** States the GPU solve regularised (flag ≥ 1) in the q̈ comparison. */
  regularised: number;
  /** Every q̈ finite. */
  finite: boolean;
  /** max relative difference of (q, q̇) after `steps` GPU RK4 steps vs float64 RK4 on the reference q̈. */
  rk4RelErr: number;
  /** States of the RK4 comparison whose worst solve flag matched the reference's. */
  rk4Compared: number;
  /** Worst solve flag per state over the GPU RK4 steps. */
  rk4Flags: number[];
  /** tf.memory().numTensors before and after `leakSteps` fused advances. */
  numTensorsBefore: number;
  numTensorsAfter: number;
  numBytesBefore: number;
  numBytesAfter: number;
}

/** Condition number |λ|max / |λ|min of the reference H_vv of one state. */
export function conditionNumber(model: LoadedModel, q: ArrayLike<number>, qd: ArrayLike<number>): number {
  const ev = symmetricEigenvalues(referenceTerms(model, q, qd).hvv, model.metadata.dof);
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const e of ev) {
    lo = Math.min(lo, Math.abs(e));
    hi = Math.max(hi, Math.abs(e));
  }
  return lo > 0 ? Math.max(1, hi / lo) : Number.POSITIVE_INFINITY;
}

/** q̈ of a batch into `qdd`, with the solve flag of every state into `flags` (a reference evaluator). */
export type ReferenceQdd = (
  q: Float64Array,
  qd: Float64Array,
  qdd: Float64Array,
  batch: number,
  flags: Uint8Array,
) => void;

/**
 * RK4 resident on the GPU (`steps` steps of 1/240 s, one readback) against float64 RK4 on `reference`,
 * from the states `q1`, `v1` (advanced in place on the GPU side). A random network's H_vv is often
 * indefinite; a state regularised by one solver and not the other (at the threshold) follows another
 * trajectory, so only states with the same worst flag over the run count.
 */
export function residentRk4VsReference(
  gpu: WebGLLnnStepper,
  reference: ReferenceQdd,
  q1: Float64Array,
  v1: Float64Array,
  n: number,
  steps: number,
): { rk4RelErr: number; rk4Compared: number; gpuWorst: Uint8Array; refWorst: Uint8Array } {
  const b8 = q1.length / n;
  const q2 = q1.slice();
  const v2 = v1.slice();
  gpu.advance(q1, v1, b8, 1 / 240, steps);
  const gpuWorst = gpu.flags.slice(0, b8);
  const rk4 = new RungeKutta4();
  const stageFlags = new Uint8Array(b8);
  const refWorst = new Uint8Array(b8);
  const f = (a: Float64Array, b: Float64Array, c: Float64Array, m: number) => {
    reference(a, b, c, m, stageFlags);
    for (let i = 0; i < m; i++) refWorst[i] = Math.max(refWorst[i], stageFlags[i]);
  };
  for (let s = 0; s < steps; s++) rk4.step(f, q2, v2, n, b8, 1 / 240);
  let rk4RelErr = 0;
  let rk4Compared = 0;
  for (let b = 0; b < b8; b++) {
    if (gpuWorst[b] !== refWorst[b]) continue;
    rk4Compared++;
    for (let i = b * n; i < (b + 1) * n; i++) {
      rk4RelErr = Math.max(rk4RelErr, Math.abs(q1[i] - q2[i]) / Math.max(1, Math.abs(q2[i])));
      rk4RelErr = Math.max(rk4RelErr, Math.abs(v1[i] - v2[i]) / Math.max(1, Math.abs(v2[i])));
    }
  }
  return { rk4RelErr, rk4Compared, gpuWorst, refWorst };
}

/** tf.memory() before and after `advances` single-step advances of the GPU state (after one to warm up). */
export function tensorGrowth(
  gpu: WebGLLnnStepper,
  q: Float64Array,
  qd: Float64Array,
  n: number,
  advances: number,
): { numTensorsBefore: number; numTensorsAfter: number; numBytesBefore: number; numBytesAfter: number } {
  const b = q.length / n;
  gpu.advance(q, qd, b, 1 / 240, 1);
  const m0 = tf.memory();
  for (let s = 0; s < advances; s++) gpu.advance(q, qd, b, 1 / 240, 1);
  const m1 = tf.memory();
  return {
    numTensorsBefore: m0.numTensors,
    numTensorsAfter: m1.numTensors,
    numBytesBefore: m0.numBytes,
    numBytesAfter: m1.numBytes,
  };
}

/**
 * A random model made input-convex (non-negative kernels after the first layer, convex non-decreasing
 * softplus): L is convex in q̇, so H_vv is positive definite and no state needs regularising — the RK4
 * comparison then follows one smooth trajectory (a random network's H_vv is usually indefinite, and a
 * state regularised by one solver but not the other, at the threshold, would jump).
 */
export function convexModel(opts: RandomModelOptions) {
  const model = createRandomModel(opts);
  if ((opts.activation ?? 'softplus') === 'softplus') {
    for (const layer of model.layers.slice(1))
      for (let i = 0; i < layer.kernel.length; i++) layer.kernel[i] = Math.abs(layer.kernel[i]);
  }
  return model;
}

/**
 * Compare the fused WebGL q̈ and RK4 step with the float64 reference for a random model of the given
 * shape (made input-convex when `convex`, see {@link convexModel}); count tensors across many advances.
 */
export function checkFused(
  opts: RandomModelOptions,
  batch: number,
  steps: number,
  leakSteps: number,
  convex: boolean,
): FusedCheck {
  const model = convex ? convexModel(opts) : createRandomModel(opts);
  const n = model.metadata.dof;
  const rng = createRng(17);
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let i = 0; i < q.length; i++) {
    q[i] = uniform(rng, -9, 9);
    qd[i] = uniform(rng, -10, 10);
  }
  const gpu = new WebGLLnnStepper(model);
  try {
    const out = new Float64Array(batch * n);
    gpu.accelerations(q, qd, out, batch);
    const ref = new Float64Array(batch * n);
    const refFlags = new Uint8Array(batch);
    referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });
    let compared = 0;
    let maxRelErr = 0;
    let regularised = 0;
    let maxRelErrRegularised = 0;
    let worst: unknown = null;
    for (let b = 0; b < batch; b++) {
      if (gpu.flags[b] >= 1) regularised++;
      if (gpu.flags[b] !== refFlags[b]) continue;
      compared++;
      let scale = 1;
      for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref[b * n + i]));
      const cond = conditionNumber(model, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
      for (let i = 0; i < n; i++) {
        // Float32 rounding of H_vv and the right-hand side is amplified by the condition number of H_vv.
        const e = Math.abs(out[b * n + i] - ref[b * n + i]) / scale / cond;
        if (refFlags[b] !== 0) {
          maxRelErrRegularised = Math.max(maxRelErrRegularised, e);
        } else if (e > maxRelErr) {
          maxRelErr = e;
          worst = { b, i, gpu: out[b * n + i], ref: ref[b * n + i], cond };
        }
      }
    }
    // RK4 on the GPU (all stages resident, one readback) vs float64 RK4 on the reference q̈.
    const q1 = q.slice(0, n * Math.min(batch, 8));
    const v1 = qd.slice(0, n * Math.min(batch, 8)).map((v) => v * 0.05);
    const rk4 = residentRk4VsReference(
      gpu,
      (a, b, c, m, flags) => referenceAccelerations(model, a, b, c, m, { flags }),
      q1,
      v1,
      n,
      steps,
    );
    const growth = tensorGrowth(gpu, q1, v1, n, leakSteps);
    return {
      backend: tf.getBackend(),
      batch,
      compared,
      maxRelErr,
      finite: out.every(Number.isFinite),
      regularised,
      worst,
      maxRelErrRegularised,
      rk4RelErr: rk4.rk4RelErr,
      rk4Compared: rk4.rk4Compared,
      rk4Flags: Array.from(rk4.gpuWorst),
      ...growth,
    };
  } finally {
    gpu.dispose();
  }
}
