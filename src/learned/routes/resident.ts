import * as tf from '@tensorflow/tfjs-core';
import { tensorFormOf } from '../../integrators/tensor.js';
import { wrapAngle } from '../../model/reference.js';
import { tidy } from '../../nn/tidy.js';
import type { Route, RouteContext } from '../Route.js';
import { coastFailed, ResidentScratch } from './coast.js';
import { tensorRoute } from './tensor.js';

/**
 * The engine's backend route kept resident (the webgl default, option `resident`): an `advance` with an
 * integrator that has a tensor form (`rk4`, `symplectic-euler`; `src/integrators/tensor.ts`) runs every
 * stage and substep on the backend and reads back once; single q̈ calls and other integrators run as on
 * {@link tensorRoute}. The linear part of an external force is applied on the backend at every stage.
 */
export function residentRoute(ctx: RouteContext): Route {
  const base = tensorRoute(ctx);
  const scratch = new ResidentScratch();
  const kernel = ctx.kernels.resident?.bind(ctx.kernels);
  return {
    ...base,
    advance(q, qd, batch, dt, integrator, substeps, force) {
      const form = tensorFormOf(integrator);
      if (form === undefined || kernel === undefined) return null;
      const n = ctx.system.dof;
      const size = batch * n;
      const skip = scratch.skipMask(ctx.guard, q, qd, batch);
      const weights = ctx.weights.home;
      const result = tidy(() => {
        // Increments are accumulated in float32 and added to the float64 state afterwards, so the state
        // keeps float64 precision over a step. Angles (which the network wraps, or sees through the
        // periodic cos/sin under `sincos`) are wrapped here in float64 first, so that a large unwrapped
        // angle loses no precision in float32.
        const wrapped = Float32Array.from(q.subarray(0, size));
        const velocities = Float32Array.from(qd.subarray(0, size));
        const wrap = ctx.wrapFlags;
        for (let j = 0; j < size; j++) if (wrap[j % n]) wrapped[j] = wrapAngle(q[j]);
        // States the policy rejects go up as zeros (any finite state would do) and are coasted below.
        for (let b = 0; b < batch; b++) {
          if (skip[b] === 0) continue;
          wrapped.fill(0, b * n, (b + 1) * n);
          velocities.fill(0, b * n, (b + 1) * n);
        }
        const q0 = tf.tensor2d(wrapped, [batch, n]);
        const v0 = tf.tensor2d(velocities, [batch, n]);
        let dq: tf.Tensor2D = tf.zeros([batch, n]);
        let dv: tf.Tensor2D = tf.zeros([batch, n]);
        let worst: tf.Tensor1D = tf.zeros([batch], 'int32');
        // The linear part of an external force (α·Q_c, α·C) goes up once; each stage adds
        // α·Q_c − α·C ⊙ q̇ of its own velocities to the right-hand side on the backend.
        const fc =
          force?.constant != null
            ? tf.tensor2d(Float32Array.from(force.constant.subarray(0, size)), [batch, n])
            : null;
        const fd = force?.damping != null ? tf.tensor2d(Float32Array.from(force.damping), [1, n]) : null;
        const stageForce = (V: tf.Tensor2D): tf.Tensor2D | null => {
          if (fd === null) return fc;
          const drag = tf.mul(fd, V) as tf.Tensor2D;
          return (fc === null ? tf.neg(drag) : tf.sub(fc, drag)) as tf.Tensor2D;
        };
        const f = (Q: tf.Tensor2D, V: tf.Tensor2D): tf.Tensor2D => {
          const r = force === null ? kernel(weights, Q, V) : kernel(weights, Q, V, stageForce(V));
          worst = tf.maximum(worst, r.flags) as tf.Tensor1D;
          return r.qdd;
        };
        for (let s = 0; s < substeps; s++) {
          const Q = s === 0 ? q0 : (tf.add(q0, dq) as tf.Tensor2D);
          const V = s === 0 ? v0 : (tf.add(v0, dv) as tf.Tensor2D);
          const [stepQ, stepV] = form.step(f, Q, V, dt);
          dq = tf.add(dq, stepQ) as tf.Tensor2D;
          dv = tf.add(dv, stepV) as tf.Tensor2D;
        }
        return tf.concat([dq, dv, tf.cast(tf.reshape(worst, [batch, 1]), 'float32')], 1);
      });
      let data: Float32Array | Int32Array | Uint8Array;
      try {
        data = result.dataSync();
      } finally {
        result.dispose();
      }
      const flags = scratch.flags(batch);
      const w = 2 * n + 1;
      for (let b = 0; b < batch; b++) {
        // A rejected state, or a non-finite increment (float32 overflow along the stages): coasted below.
        let finite = skip[b] === 0;
        for (let i = 0; i < 2 * n && finite; i++) finite = Number.isFinite(data[b * w + i]);
        if (!finite) {
          skip[b] = 1;
          continue;
        }
        for (let i = 0; i < n; i++) {
          q[b * n + i] += data[b * w + i];
          qd[b * n + i] += data[b * w + n + i];
        }
        flags[b] = data[b * w + 2 * n];
      }
      coastFailed(q, qd, n, batch, dt, substeps, skip, flags);
      return { flags, evaluations: form.stages * substeps };
    },
  };
}
