import * as tf from '@tensorflow/tfjs-core';
import type { Integrator, IntegratorId } from '../core/types.js';

/**
 * q̈ of tensor states on the active TF.js backend: `q`, `qd` `[batch, dof]` → q̈ `[batch, dof]`. Called
 * inside a `tf.tidy` by {@link TensorIntegrator.step}.
 */
export type TensorAccelerationFn = (q: tf.Tensor2D, qd: tf.Tensor2D) => tf.Tensor2D;

/**
 * The tensor form of an integrator: one step of the same method in TF.js ops, for states kept on an
 * accelerator across the stages. It returns the increments rather than the new state, so that a caller
 * holding a float64 state can add them there (the increments are float32).
 */
export interface TensorIntegrator {
  /** The id of the float64 integrator this is the tensor form of. */
  readonly id: IntegratorId;
  /** q̈ evaluations per step. */
  readonly stages: number;
  /**
   * Increments `[dq, dqd]` (each `[batch, dof]`) of one step of `dt` from (`q`, `qd`). Run it inside
   * `tf.tidy`: the stage tensors are left to the caller's scope.
   */
  step(f: TensorAccelerationFn, q: tf.Tensor2D, qd: tf.Tensor2D, dt: number): [tf.Tensor2D, tf.Tensor2D];
}

/** Tensor form of `RungeKutta4` (the classic fourth-order Runge–Kutta method). */
export const tensorRk4: TensorIntegrator = {
  id: 'rk4',
  stages: 4,
  step(f, q, qd, dt) {
    const h2 = dt / 2;
    const a1 = f(q, qd);
    const v2 = tf.add(qd, tf.mul(a1, h2)) as tf.Tensor2D;
    const a2 = f(tf.add(q, tf.mul(qd, h2)) as tf.Tensor2D, v2);
    const v3 = tf.add(qd, tf.mul(a2, h2)) as tf.Tensor2D;
    const a3 = f(tf.add(q, tf.mul(v2, h2)) as tf.Tensor2D, v3);
    const v4 = tf.add(qd, tf.mul(a3, dt)) as tf.Tensor2D;
    const a4 = f(tf.add(q, tf.mul(v3, dt)) as tf.Tensor2D, v4);
    const h6 = dt / 6;
    const dq = tf.mul(tf.add(tf.add(qd, v4), tf.mul(tf.add(v2, v3), 2)), h6) as tf.Tensor2D;
    const dqd = tf.mul(tf.add(tf.add(a1, a4), tf.mul(tf.add(a2, a3), 2)), h6) as tf.Tensor2D;
    return [dq, dqd];
  },
};

/** Tensor form of `SymplecticEuler`: q̇ += dt·q̈(q, q̇), then q += dt·q̇ with the new q̇. */
export const tensorSymplecticEuler: TensorIntegrator = {
  id: 'symplectic-euler',
  stages: 1,
  step(f, q, qd, dt) {
    const dqd = tf.mul(f(q, qd), dt) as tf.Tensor2D;
    const dq = tf.mul(tf.add(qd, dqd), dt) as tf.Tensor2D;
    return [dq, dqd];
  },
};

/** Every tensor form, keyed by the id of its float64 integrator. */
export const TENSOR_INTEGRATORS: Readonly<Partial<Record<IntegratorId, TensorIntegrator>>> = {
  rk4: tensorRk4,
  'symplectic-euler': tensorSymplecticEuler,
};

/** The tensor form of `integrator`, or undefined when it has none (`leapfrog`, `dopri5`). */
export function tensorFormOf(integrator: Pick<Integrator, 'id'>): TensorIntegrator | undefined {
  return TENSOR_INTEGRATORS[integrator.id];
}
