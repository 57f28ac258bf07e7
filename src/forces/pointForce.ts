import type { System } from '../core/types.js';
import { ForceSpecError } from './GeneralizedForces.js';

/**
 * Forces and impulses on drawn points turned into generalized ones: Q = J(q)ᵀ F, with J the exact
 * Jacobian of the point's position (`System.pointJacobian`; no finite differences). Owns its scratch.
 * @example const pf = new PointForces(system); pf.add(q, 2, [0, -1, 0], Q); // pull bob 2 down
 */
export class PointForces {
  readonly system: System;
  private readonly jac: Float64Array;
  private readonly qs: Float64Array;

  /** @throws ForceSpecError when the system has no `pointJacobian` */
  constructor(system: System) {
    if (system.pointJacobian === undefined) {
      throw new ForceSpecError(
        `forces: system '${system.id}' gives no point Jacobian (System.pointJacobian), so forces on its points are undefined; use generalized forces (constant, damping, callback)`,
      );
    }
    this.system = system;
    this.jac = new Float64Array(3 * system.dof);
    this.qs = new Float64Array(system.dof);
  }

  /**
   * Add Jᵀ F to `out` (at `outOffset`) for a force `F` `[3]` on point `point` of the state at `offset`
   * of `q`.
   * @param q `[… dof …]` @param out `[… dof …]`, written from `outOffset` (default: `offset`)
   * @throws RangeError for a bad point index; ForceSpecError for a non-finite F
   */
  add(
    q: ArrayLike<number>,
    point: number,
    F: ArrayLike<number>,
    out: Float64Array,
    offset = 0,
    outOffset = offset,
  ): void {
    const n = this.system.dof;
    if (F.length !== 3 || !Number.isFinite(F[0]) || !Number.isFinite(F[1]) || !Number.isFinite(F[2])) {
      throw new ForceSpecError(
        `forces: a point force is 3 finite numbers [x, y, z], got [${Array.from(F).join(', ')}]`,
      );
    }
    for (let i = 0; i < n; i++) this.qs[i] = q[offset + i];
    this.system.pointJacobian!(this.qs, point, this.jac);
    const J = this.jac;
    for (let j = 0; j < n; j++) out[outOffset + j] += J[j] * F[0] + J[n + j] * F[1] + J[2 * n + j] * F[2];
  }

  /** Velocity of point `point` `out = J q̇` `[3]` (exact) for the state at `offset`. */
  velocity(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    point: number,
    out: Float64Array,
    offset = 0,
  ): Float64Array {
    const n = this.system.dof;
    for (let i = 0; i < n; i++) this.qs[i] = q[offset + i];
    this.system.pointJacobian!(this.qs, point, this.jac);
    const J = this.jac;
    for (let r = 0; r < 3; r++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += J[r * n + j] * qd[offset + j];
      out[r] = s;
    }
    return out;
  }
}
