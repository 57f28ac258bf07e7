import type { AccelerationFn, Integrator } from '../core/types.js';
import { checkStateShape, ensureLength } from './scratch.js';

/**
 * The classic fourth-order Runge–Kutta method on the first-order system (q, q̇)' = (q̇, f(q, q̇)).
 * Four q̈ evaluations per step. The stage updates are fused into one pass over the batch between
 * evaluations, with running sums instead of stored slopes, so memory traffic stays low.
 */
export class RungeKutta4 implements Integrator {
  readonly id = 'rk4' as const;
  readonly name = 'Classic Runge–Kutta (RK4)';
  readonly order = 4;
  readonly symplectic = false;
  readonly adaptive = false;
  private qs: Float64Array = new Float64Array(0);
  private vs: Float64Array = new Float64Array(0);
  private a: Float64Array = new Float64Array(0);
  private sv: Float64Array = new Float64Array(0);
  private sa: Float64Array = new Float64Array(0);

  /** Advance `q`, `qd` (`[batch * dof]`) in place by `dt`; stages at t0, t0 + dt/2 (twice), t0 + dt. */
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
    const { qs, vs, a, sv, sa } = this;
    const h2 = 0.5 * dt;
    const h6 = dt / 6;

    // Stage 1 at (q, q̇); stage 2 at (q + h/2 q̇, q̇ + h/2 a₁).
    f(q, qd, a, batch, t0);
    for (let i = 0; i < n; i++) {
      const v = qd[i];
      const ai = a[i];
      sv[i] = v;
      sa[i] = ai;
      qs[i] = q[i] + h2 * v;
      vs[i] = v + h2 * ai;
    }
    f(qs, vs, a, batch, t0 + h2);
    // Stage 3 at (q + h/2 v₂, q̇ + h/2 a₂); stage 4 at (q + h v₃, q̇ + h a₃).
    this.midStage(q, qd, n, h2);
    f(qs, vs, a, batch, t0 + h2);
    this.midStage(q, qd, n, dt);
    f(qs, vs, a, batch, t0 + dt);
    for (let i = 0; i < n; i++) {
      q[i] += h6 * (sv[i] + vs[i]);
      qd[i] += h6 * (sa[i] + a[i]);
    }
  }

  /**
   * Add the last stage (weight 2) to the running sums and place the next stage at (q + h v, q̇ + h a).
   * Stages 2 and 3 end the same way, with h = dt/2 and h = dt.
   */
  private midStage(q: Float64Array, qd: Float64Array, n: number, h: number): void {
    const { qs, vs, a, sv, sa } = this;
    for (let i = 0; i < n; i++) {
      const v = vs[i];
      const ai = a[i];
      sv[i] += 2 * v;
      sa[i] += 2 * ai;
      qs[i] = q[i] + h * v;
      vs[i] = qd[i] + h * ai;
    }
  }

  /** Grow the stage buffers to `n` numbers (kept for later calls). */
  private reserve(n: number): void {
    this.qs = ensureLength(this.qs, n);
    this.vs = ensureLength(this.vs, n);
    this.a = ensureLength(this.a, n);
    this.sv = ensureLength(this.sv, n);
    this.sa = ensureLength(this.sa, n);
  }
}
