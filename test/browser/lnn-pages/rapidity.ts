/**
 * `rapidity` models (velocity inputs atanh(q̇), input.velocityEmbedding) for the browser tests of the fused
 * WebGL LNN, and the in-page check of `WebGLLnnStepper` against the float64 reference evaluator (driven from
 * test/browser/gpu-fused.test.ts through rapidity.html).
 */
import * as tf from '@tensorflow/tfjs-core';
import { conditionNumber, residentRk4VsReference, tensorGrowth } from '../../../bench/pages/check';
import { WebGLLnnStepper } from '../../../src/gpu/WebGLLnnStepper';
import { createRng, uniform } from '../../../src/math/random';
import { createModel } from '../../../src/model/artifacts';
import type { LoadedModel } from '../../../src/model/metadata';
import { createRandomModel, type RandomModelOptions } from '../../../src/model/randomModel';
import { referenceAccelerations } from '../../../src/model/reference';

/**
 * A random `lnn` with velocity inputs atanh(q̇)·qdScale. `convex`: non-negative kernels after the first
 * layer (softplus), so L is convex in the network inputs and H_vv in the velocity inputs is positive
 * definite.
 */
export function rapidityModel(opts: RandomModelOptions, convex: boolean): LoadedModel {
  const m = createRandomModel(opts);
  const layers = m.layers.map((l, i) => ({
    kernel: convex && i > 0 ? Float32Array.from(l.kernel, Math.abs) : l.kernel,
    bias: l.bias,
  }));
  return createModel(
    { ...m.metadata, input: { ...m.metadata.input, velocityEmbedding: 'rapidity' } },
    layers,
    'rapidity-test',
  );
}

/**
 * Float64 reference q̈ and solve flags of a `rapidity` model (src/model/reference.ts: the velocity map's
 * chain rule; a state with some |q̇_i| ≥ 1 is failed with q̈ = 0).
 * @param q `[batch * n]` @param qd `[batch * n]` @param qdd output `[batch * n]`
 */
export function rapidityReference(
  model: LoadedModel,
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  qdd: Float64Array,
  batch: number,
  flags?: Uint8Array,
): void {
  referenceAccelerations(model, q, qd, qdd, batch, flags ? { flags } : {});
}

/** What {@link checkRapidity} reports. */
export interface RapidityCheck {
  backend: string;
  /** Largest |q̇_i| among the in-domain states. */
  maxSpeed: number;
  /** In-domain states, and those whose solve flag agreed with the reference. */
  inDomain: number;
  compared: number;
  /** max over compared definite states of |q̈_gpu − q̈_ref| / max(1, |q̈_ref|∞) / cond(H_vv). */
  maxRelErr: number;
  /** The same over regularised states. */
  maxRelErrRegularised: number;
  worst: unknown;
  /** In-domain states the GPU regularised. */
  regularised: number;
  /** Every q̈ finite (in and out of the domain). */
  finite: boolean;
  /** The states with some |q̇_i| ≥ 1: their q̇, GPU flags and q̈. */
  outside: { qd: number[]; flags: number[]; qdd: number[] };
  /** RK4 on the GPU vs float64 RK4 on the reference (states with the same worst flag). */
  rk4RelErr: number;
  rk4Compared: number;
  rk4Flags: number[];
  rk4RefFlags: number[];
  /** Largest |q̇_i| along the GPU RK4 run. */
  rk4MaxSpeed: number;
  numTensorsBefore: number;
  numTensorsAfter: number;
  numBytesBefore: number;
  numBytesAfter: number;
}

/** Velocities out of the domain |q̇| < 1 appended to every check (one state per value, first coordinate). */
export const OUTSIDE_SPEEDS: readonly number[] = [1, -1, 1.25, -3];

/**
 * Compare `WebGLLnnStepper` on a `rapidity` model with the float64 reference: q̈ at `batch` random states
 * with |q̇_i| ≤ `speed` (the first two states at ±speed exactly) plus one state per {@link OUTSIDE_SPEEDS},
 * then `steps` GPU-resident RK4 steps of 1/240 from 8 states, then tensor counts over `leakSteps`
 * advances. Runs in the page on the webgl backend.
 */
export function checkRapidity(
  opts: RandomModelOptions,
  convex: boolean,
  batch: number,
  speed: number,
  steps: number,
  leakSteps: number,
): RapidityCheck {
  const model = rapidityModel(opts, convex);
  const n = model.metadata.dof;
  const rng = createRng(29);
  const total = batch + OUTSIDE_SPEEDS.length;
  const q = new Float64Array(total * n);
  const qd = new Float64Array(total * n);
  for (let i = 0; i < q.length; i++) {
    q[i] = uniform(rng, -4, 4);
    qd[i] = uniform(rng, -speed, speed);
  }
  for (let i = 0; i < n; i++) {
    qd[i] = speed;
    qd[n + i] = i % 2 === 0 ? -speed : speed;
  }
  OUTSIDE_SPEEDS.forEach((v, k) => {
    qd[(batch + k) * n] = v;
  });
  const gpu = new WebGLLnnStepper(model);
  try {
    const out = new Float64Array(total * n);
    gpu.accelerations(q, qd, out, total);
    const gpuFlags = gpu.flags.slice(0, total);
    const ref = new Float64Array(total * n);
    const refFlags = new Uint8Array(total);
    rapidityReference(model, q, qd, ref, total, refFlags);
    let compared = 0;
    let regularised = 0;
    let maxRelErr = 0;
    let maxRelErrRegularised = 0;
    let worst: unknown = null;
    let maxSpeed = 0;
    for (let b = 0; b < batch; b++) {
      const qb = q.subarray(b * n, (b + 1) * n);
      const vb = qd.subarray(b * n, (b + 1) * n);
      for (const v of vb) maxSpeed = Math.max(maxSpeed, Math.abs(v));
      if (gpuFlags[b] >= 1) regularised++;
      if (gpuFlags[b] !== refFlags[b]) continue;
      compared++;
      let scale = 1;
      for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref[b * n + i]));
      const cond = conditionNumber(model, qb, vb);
      for (let i = 0; i < n; i++) {
        const e = Math.abs(out[b * n + i] - ref[b * n + i]) / scale / cond;
        if (refFlags[b] !== 0) {
          maxRelErrRegularised = Math.max(maxRelErrRegularised, e);
        } else if (e > maxRelErr) {
          maxRelErr = e;
          worst = { b, i, gpu: out[b * n + i], ref: ref[b * n + i], cond, qd: Array.from(vb) };
        }
      }
    }
    const outside = {
      qd: Array.from(qd.subarray(batch * n)),
      flags: Array.from(gpuFlags.subarray(batch)),
      qdd: Array.from(out.subarray(batch * n)),
    };

    // RK4 resident on the GPU (one readback) vs float64 RK4 on the reference q̈, from 8 in-domain states.
    const b8 = Math.min(batch, 8);
    const q1 = q.slice(0, b8 * n);
    const v1 = qd.slice(0, b8 * n);
    const rk4 = residentRk4VsReference(
      gpu,
      (a, v, c, m, flags) => rapidityReference(model, a, v, c, m, flags),
      q1,
      v1,
      n,
      steps,
    );
    let rk4MaxSpeed = 0;
    for (const v of v1) rk4MaxSpeed = Math.max(rk4MaxSpeed, Math.abs(v));
    const growth = tensorGrowth(gpu, q1, v1, n, leakSteps);
    return {
      backend: tf.getBackend(),
      maxSpeed,
      inDomain: batch,
      compared,
      maxRelErr,
      maxRelErrRegularised,
      worst,
      regularised,
      finite: out.every(Number.isFinite),
      outside,
      rk4RelErr: rk4.rk4RelErr,
      rk4Compared: rk4.rk4Compared,
      rk4Flags: Array.from(rk4.gpuWorst),
      rk4RefFlags: Array.from(rk4.refWorst),
      rk4MaxSpeed,
      ...growth,
    };
  } finally {
    gpu.dispose();
  }
}
