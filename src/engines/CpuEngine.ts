import type {
  AccelerationFn,
  Engine,
  EngineId,
  ForceSupport,
  Forces,
  Integrator,
  System,
} from '../core/types.js';
import { checkForcesShape } from '../forces/checkForcesShape.js';
import { EulerLagrangeSolver } from '../lagrangian/EulerLagrangeSolver.js';

/**
 * Base class of engines that compute q̈ on the CPU in float64. A subclass supplies the unforced q̈
 * ({@link CpuEngine.unforced}); this class adds external forces (q̈ += H_vv⁻¹ Q, with the exact mass
 * matrix H_vv = ∂²L/∂q̇² of the system's own Lagrangian) and steps with functions bound once in the
 * constructor, so stepping allocates nothing.
 */
export abstract class CpuEngine implements Engine {
  abstract readonly id: EngineId;
  readonly system: System;
  /** Every exact engine takes forces. */
  readonly forceSupport: ForceSupport = null;
  /** `accelerations` without forces, bound to this engine, created once: what the integrator calls. */
  readonly accelerationFn: AccelerationFn;
  /** True once {@link CpuEngine.dispose} has run. */
  disposed = false;
  /** The forces of the step in progress (read by {@link CpuEngine.forcedFn}). */
  private active: Forces | null = null;
  private readonly forcedFn: AccelerationFn;
  private massSolver: EulerLagrangeSolver | null = null;
  private qBuf = new Float64Array(0);
  private xBuf = new Float64Array(0);

  constructor(system: System) {
    this.system = system;
    // Through `accelerations`, so that a subclass that overrides it steps with its own q̈.
    this.accelerationFn = (q, qd, qdd, batch) => this.accelerations(q, qd, qdd, batch);
    this.forcedFn = (q, qd, qdd, batch, t) => this.accelerations(q, qd, qdd, batch, t ?? 0, this.active);
  }

  /** Unforced q̈: reads `q`, `qd` `[batch * dof]`, writes `qdd` `[batch * dof]`. */
  protected abstract unforced(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;

  /**
   * Batched q̈ `[batch * dof]`; with `forces`, of the forced motion at time `t` (the unforced q̈ plus
   * H_vv⁻¹ Q from the exact mass matrix).
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t = 0,
    forces: Forces | null = null,
  ): void {
    if (forces !== null && !forces.zero)
      checkForcesShape(`${this.id} engine`, forces, this.system.dof, batch);
    this.unforced(q, qd, qdd, batch);
    if (forces === null || forces.zero) return;
    const n = this.system.dof * batch;
    if (this.qBuf.length < n) {
      this.qBuf = new Float64Array(n);
      this.xBuf = new Float64Array(n);
    }
    forces.evaluate(t, q, qd, this.qBuf, batch);
    this.massSolve(q, qd, this.qBuf, this.xBuf, batch);
    for (let i = 0; i < n; i++) qdd[i] += this.xBuf[i];
  }

  /**
   * x = H_vv⁻¹ rhs per state, H_vv the system's exact mass matrix ∂²L/∂q̇² (second-order jets of L).
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param rhs `[batch * dof]` @param out `[batch * dof]`
   */
  massSolve(q: Float64Array, qd: Float64Array, rhs: Float64Array, out: Float64Array, batch: number): void {
    const system = this.system;
    this.massSolver ??= new EulerLagrangeSolver((ops, qq, vv) => system.L(ops, qq, vv), system.dof);
    this.massSolver.solveMass(q, qd, rhs, out, batch);
  }

  /**
   * Advance `batch` states (`q`, `qd`: `[batch * dof]`) in place by `dt` with `integrator`, from time
   * `t0`, under `forces` when given.
   */
  step(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    t0 = 0,
    forces: Forces | null = null,
  ): void {
    if (forces === null || forces.zero) {
      integrator.step(this.accelerationFn, q, qd, this.system.dof, batch, dt, t0);
      return;
    }
    this.active = forces;
    try {
      integrator.step(this.forcedFn, q, qd, this.system.dof, batch, dt, t0);
    } finally {
      this.active = null;
    }
  }

  /** The system's closed-form energy of one state (`q`, `qd`: `[dof]`). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.system.energy(q, qd);
  }

  /** CPU engines hold no external resources; idempotent. */
  dispose(): void {
    this.disposed = true;
  }
}
