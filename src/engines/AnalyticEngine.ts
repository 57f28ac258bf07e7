import { CpuEngine } from './CpuEngine';

/**
 * Exact physics: q̈ from the system's closed-form `System.accelerations`, batched, float64.
 * @example const engine = new AnalyticEngine(createSystem('double-pendulum'));
 */
export class AnalyticEngine extends CpuEngine {
  readonly id = 'analytic' as const;

  /** Batched q̈ from the closed form: `q`, `qd`, `qdd`: `[batch * dof]`. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.system.accelerations(q, qd, qdd, batch);
  }
}
