import type { AccelerationFn, Integrator, IntegratorId } from '../core/types.js';
import { createIntegrator, type IntegratorOptions } from './registry.js';

/** Options of {@link integrate}. */
export interface IntegrateOptions {
  /** End time; the batch is advanced from 0 to `t1` (may be 0). */
  t1: number;
  /**
   * Fixed step. `t1` must be a whole multiple of it (to 1e-9 relative). With the adaptive `dopri5`
   * it is the reporting interval and may be omitted (one call covers the whole span).
   * @default t1 (one step)
   */
  dt?: number;
  /**
   * Integrator id or instance.
   * @default 'dopri5'
   */
  integrator?: IntegratorId | Integrator;
  /** Options when `integrator` is an id (tolerances of `dopri5`). */
  integratorOptions?: IntegratorOptions;
  /**
   * Called after every step with the step index k ≥ 1, the time k·dt and the state (read-only views;
   * copy what you keep).
   */
  onStep?: (k: number, t: number, q: Float64Array, qd: Float64Array) => void;
}

/**
 * Advance `q`, `qd` (`[batch * dof]`) in place from t = 0 to `t1` under q̈ = f(q, q̇), in `t1 / dt`
 * equal steps of the chosen integrator; the time of step k is k·dt (no accumulated round-off).
 * Default: `dopri5` at 1e-12 tolerances, i.e. a ground-truth trajectory.
 * @returns the number of steps taken.
 * @throws Error when dt ≤ 0, t1 < 0, t1 is not a multiple of dt, or a number is not finite.
 * @example integrate(system.accelerations.bind(system), q, qd, 2, 1, { t1: 5 });
 */
export function integrate(
  f: AccelerationFn,
  q: Float64Array,
  qd: Float64Array,
  dof: number,
  batch: number,
  options: IntegrateOptions,
): number {
  const { t1, integrator = 'dopri5', integratorOptions, onStep } = options;
  const dt = options.dt ?? t1;
  if (!Number.isFinite(t1) || t1 < 0)
    throw new Error(`integrate: t1 must be a finite number >= 0, got ${t1}`);
  if (t1 === 0) return 0;
  if (!Number.isFinite(dt) || dt <= 0)
    throw new Error(`integrate: dt must be a finite number > 0, got ${dt}`);
  const steps = Math.round(t1 / dt);
  if (steps < 1 || Math.abs(steps * dt - t1) > 1e-9 * t1) {
    throw new Error(`integrate: t1 = ${t1} is not a whole multiple of dt = ${dt}; choose dt = t1 / k`);
  }
  const n = dof * batch;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) {
      throw new Error(`integrate: initial state is not finite at index ${i} (q = ${q[i]}, qd = ${qd[i]})`);
    }
  }
  const method =
    typeof integrator === 'string' ? createIntegrator(integrator, integratorOptions) : integrator;
  for (let k = 1; k <= steps; k++) {
    method.step(f, q, qd, dof, batch, dt);
    onStep?.(k, k * dt, q, qd);
  }
  return steps;
}
