import type { Forces, System } from '../core/types.js';
import { checkForcesShape } from '../forces/checkForcesShape.js';
import { EulerLagrangeSolver } from '../lagrangian/EulerLagrangeSolver.js';
import { CpuEngine } from './CpuEngine.js';

/**
 * Exact physics from the Lagrangian alone: q̈ from the Euler–Lagrange equation applied to the
 * system's own `L` by second-order forward-mode differentiation (`EulerLagrangeSolver`), in float64.
 * Equals the analytic engine to rounding for every built-in system, and works for any system defined
 * only by its Lagrangian. Slower than the closed form (a small linear solve per state).
 * @example const engine = new LagrangianEngine(createSystem('double-pendulum'));
 */
export class LagrangianEngine extends CpuEngine {
  readonly id = 'lagrangian' as const;
  /** The Euler–Lagrange solver for this system's L. */
  readonly solver: EulerLagrangeSolver;
  private force = new Float64Array(0);

  constructor(system: System) {
    super(system);
    this.solver = new EulerLagrangeSolver((ops, q, qd) => system.L(ops, q, qd), system.dof);
  }

  /**
   * Batched exact unforced q̈: `q`, `qd`, `qdd`: `[batch * dof]`.
   * @throws Error naming the state when ∂²L/∂q̇² is singular there.
   */
  protected unforced(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.solver.accelerations(q, qd, qdd, batch);
  }

  /** Forced q̈ in one solve: the force enters the Euler–Lagrange right-hand side. */
  override accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t = 0,
    forces: Forces | null = null,
  ): void {
    if (forces === null || forces.zero) {
      this.solver.accelerations(q, qd, qdd, batch);
      return;
    }
    checkForcesShape(`${this.id} engine`, forces, this.system.dof, batch);
    const n = this.system.dof * batch;
    if (this.force.length < n) this.force = new Float64Array(n);
    forces.evaluate(t, q, qd, this.force, batch);
    this.solver.accelerations(q, qd, qdd, batch, this.force);
  }

  /** Energy q̇·∂L/∂q̇ − L from the Lagrangian (equals the closed form to rounding). */
  override energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.solver.energy(q, qd);
  }
}
