import type { Forces, Integrator, System } from '../core/types.js';
import { RungeKutta4 } from '../integrators/RungeKutta4.js';
import { DoublePendulum } from '../systems/DoublePendulum.js';
import { CpuEngine } from './CpuEngine.js';
import { rk4DoublePendulum } from './kernels/rk4DoublePendulum.js';

/** Options of {@link AnalyticEngine}. */
export interface AnalyticEngineOptions {
  /**
   * Use a fused kernel where one exists (RK4 on the double pendulum): bitwise identical results,
   * fewer passes over memory. Off: always `integrator.step` on the closed form.
   * @default true
   */
  fused?: boolean;
}

/**
 * Exact physics: q̈ from the system's closed-form `System.accelerations`, batched, float64.
 * RK4 on a `DoublePendulum` runs a fused kernel that gives bitwise the same result as the generic
 * path (see `kernels/rk4DoublePendulum`).
 * @example const engine = new AnalyticEngine(createSystem('double-pendulum'));
 */
export class AnalyticEngine extends CpuEngine {
  readonly id = 'analytic' as const;
  /** Whether RK4 steps take the fused double-pendulum kernel. */
  readonly fusedRk4: boolean;

  constructor(system: System, options: AnalyticEngineOptions = {}) {
    super(system);
    this.fusedRk4 = (options.fused ?? true) && system instanceof DoublePendulum;
  }

  /** Batched unforced q̈ from the closed form: `q`, `qd`, `qdd`: `[batch * dof]`. */
  protected unforced(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.system.accelerations(q, qd, qdd, batch);
  }

  /** Advance `batch` states (`q`, `qd`: `[batch * dof]`) in place by `dt` (forced: the generic path). */
  override step(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    t0 = 0,
    forces: Forces | null = null,
  ): void {
    if (this.fusedRk4 && integrator instanceof RungeKutta4 && (forces === null || forces.zero)) {
      if (q.length < 2 * batch || qd.length < 2 * batch) {
        throw new Error(`analytic: q and qd must hold 2 * batch = ${2 * batch} numbers`);
      }
      rk4DoublePendulum(this.system.params, q, qd, batch, dt);
    } else {
      super.step(q, qd, batch, dt, integrator, t0, forces);
    }
  }
}
