import type { Engine } from '../core/types.js';
import { GeneralizedForces } from './GeneralizedForces.js';

/** An engine that solves its own mass matrix exactly (the CPU engines). */
interface MassSolving {
  massSolve(q: Float64Array, qd: Float64Array, rhs: Float64Array, out: Float64Array, batch: number): void;
}

function solvesMass(engine: Engine): engine is Engine & MassSolving {
  return typeof (engine as Partial<MassSolving>).massSolve === 'function';
}

/**
 * The velocity change of a generalized impulse p: Δq̇ = H_vv⁻¹ p, with H_vv the engine's mass matrix
 * (exact for the CPU engines; for a learned engine its learned H_vv in physical units, through the same
 * route as its forces: q̈ under a force p minus q̈ without, which is H_vv⁻¹ p because q̈ is linear in Q).
 */
export class ImpulseSolver {
  readonly engine: Engine;
  private readonly unit: GeneralizedForces;
  private readonly q: Float64Array;
  private readonly qd: Float64Array;
  private readonly a0: Float64Array;
  private readonly a1: Float64Array;
  private readonly p: Float64Array;

  constructor(engine: Engine) {
    this.engine = engine;
    const n = engine.system.dof;
    this.unit = new GeneralizedForces(n, 1);
    this.q = new Float64Array(n);
    this.qd = new Float64Array(n);
    this.a0 = new Float64Array(n);
    this.a1 = new Float64Array(n);
    this.p = new Float64Array(n);
  }

  /**
   * Δq̇ `[dof]` of the impulse `p` `[dof]` at the state at `offset` of `q`, `qd`, into `out`.
   * @throws Error when the engine takes no forces, or its mass matrix is singular there
   */
  velocityChange(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    p: ArrayLike<number>,
    out: Float64Array,
    offset = 0,
    t = 0,
  ): Float64Array {
    const e = this.engine;
    if (e.forceSupport !== null) {
      throw new Error(`impulse: ${e.forceSupport ?? `the '${e.id}' engine takes no forces`}`);
    }
    const n = e.system.dof;
    for (let i = 0; i < n; i++) {
      this.q[i] = q[offset + i];
      this.qd[i] = qd[offset + i];
      this.p[i] = p[i];
    }
    if (solvesMass(e)) {
      e.massSolve(this.q, this.qd, this.p, out, 1);
    } else {
      this.unit.setConstant(this.p);
      e.accelerations(this.q, this.qd, this.a0, 1, t, null);
      e.accelerations(this.q, this.qd, this.a1, 1, t, this.unit);
      for (let i = 0; i < n; i++) out[i] = this.a1[i] - this.a0[i];
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) {
        throw new Error(
          `impulse: the '${e.id}' engine's mass matrix gives a non-finite velocity change here; the state is left as it was`,
        );
      }
    }
    return out;
  }
}
