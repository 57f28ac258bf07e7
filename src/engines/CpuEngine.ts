import type { AccelerationFn, Engine, EngineId, Integrator, System } from '../core/types.js';

/**
 * Base class of engines that compute q̈ on the CPU in float64. A subclass supplies only
 * {@link CpuEngine.accelerations}; {@link CpuEngine.step} hands the integrator a function bound once
 * in the constructor, so stepping allocates nothing.
 */
export abstract class CpuEngine implements Engine {
  abstract readonly id: EngineId;
  readonly system: System;
  /** `accelerations` bound to this engine, created once: what the integrator calls every stage. */
  readonly accelerationFn: AccelerationFn;
  /** True once {@link CpuEngine.dispose} has run. */
  disposed = false;

  constructor(system: System) {
    this.system = system;
    this.accelerationFn = (q, qd, qdd, batch) => this.accelerations(q, qd, qdd, batch);
  }

  /** Batched q̈: reads `q`, `qd` `[batch * dof]`, writes `qdd` `[batch * dof]`. */
  abstract accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;

  /** Advance `batch` states (`q`, `qd`: `[batch * dof]`) in place by `dt` with `integrator`. */
  step(q: Float64Array, qd: Float64Array, batch: number, dt: number, integrator: Integrator): void {
    integrator.step(this.accelerationFn, q, qd, this.system.dof, batch, dt);
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
