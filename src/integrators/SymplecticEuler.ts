import type { AccelerationFn, Integrator } from '../core/types.js';
import { checkStateShape, ensureLength } from './scratch.js';

/**
 * Semi-implicit (symplectic) Euler, velocity first:
 *
 *     q̈ₙ = f(qₙ, q̇ₙ);   q̇ₙ₊₁ = q̇ₙ + h q̈ₙ;   qₙ₊₁ = qₙ + h q̇ₙ₊₁
 *
 * First order, one q̈ evaluation per step. For separable Lagrangians (q̈ = f(q)) the map is
 * symplectic, so energy error stays bounded over long times instead of drifting.
 * @example createIntegrator('symplectic-euler').step(f, q, qd, dof, batch, 1 / 120);
 */
export class SymplecticEuler implements Integrator {
  readonly id = 'symplectic-euler' as const;
  readonly name = 'Semi-implicit (symplectic) Euler';
  readonly order = 1;
  readonly symplectic = true;
  readonly adaptive = false;
  private a: Float64Array = new Float64Array(0);

  /** Advance `q`, `qd` (`[batch * dof]`) in place by `dt`; one stage at t0. */
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
    const { a } = this;
    f(q, qd, a, batch, t0);
    for (let i = 0; i < n; i++) {
      const v = qd[i] + dt * a[i];
      qd[i] = v;
      q[i] += dt * v;
    }
  }

  /** Grow the stage buffers to `n` numbers (kept for later calls). */
  private reserve(n: number): void {
    this.a = ensureLength(this.a, n);
  }
}
