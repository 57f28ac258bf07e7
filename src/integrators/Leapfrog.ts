import type { AccelerationFn, Integrator } from '../core/types.js';
import { checkStateShape, ensureLength } from './scratch.js';

/**
 * Störmer–Verlet in velocity-Verlet form ("leapfrog"), second order:
 *
 *     a₀ = f(qₙ, q̇ₙ)
 *     qₙ₊₁ = qₙ + h q̇ₙ + ½h² a₀
 *     a₁ = f(qₙ₊₁, q̇ₙ + h a₀)
 *     q̇ₙ₊₁ = q̇ₙ + ½h (a₀ + a₁)
 *
 * For separable Lagrangians (q̈ = f(q)) `a₁` does not depend on the predicted velocity and this is
 * exactly velocity Verlet: symplectic and time-reversible, with bounded energy error. When q̈ depends
 * on q̇ (a double pendulum), the end-point acceleration is evaluated honestly at an Euler-predicted
 * velocity, which keeps the method second order but not symplectic. Two q̈ evaluations per step (the
 * end-point acceleration is not reused, because for velocity-dependent q̈ it was taken at the
 * predicted, not the final, velocity).
 */
export class Leapfrog implements Integrator {
  readonly id = 'leapfrog' as const;
  readonly name = 'Störmer–Verlet (velocity Verlet / leapfrog)';
  readonly order = 2;
  readonly symplectic = true;
  readonly adaptive = false;
  private a0: Float64Array = new Float64Array(0);
  private a1: Float64Array = new Float64Array(0);
  private vp: Float64Array = new Float64Array(0);

  /** Advance `q`, `qd` (`[batch * dof]`) in place by `dt`; stages at t0 and t0 + dt. */
  step(
    f: AccelerationFn,
    q: Float64Array,
    qd: Float64Array,
    dof: number,
    batch: number,
    dt: number,
    t0 = 0,
  ): void {
    checkStateShape(this.id, q, qd, dof, batch);
    const n = dof * batch;
    this.reserve(n);
    const { a0, a1, vp } = this;
    const hh = 0.5 * dt;
    f(q, qd, a0, batch, t0);
    for (let i = 0; i < n; i++) {
      const v = qd[i];
      q[i] += dt * (v + hh * a0[i]);
      vp[i] = v + dt * a0[i];
    }
    f(q, vp, a1, batch, t0 + dt);
    for (let i = 0; i < n; i++) qd[i] += hh * (a0[i] + a1[i]);
  }

  /** Grow the stage buffers to `n` numbers (kept for later calls). */
  private reserve(n: number): void {
    this.a0 = ensureLength(this.a0, n);
    this.a1 = ensureLength(this.a1, n);
    this.vp = ensureLength(this.vp, n);
  }
}
