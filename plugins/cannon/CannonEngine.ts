import { Body, Broadphase, Vec3, World } from 'cannon-es';
import {
  checkForcesShape,
  type Engine,
  type ForceSupport,
  type Forces,
  type Integrator,
  pointVelocities,
  SymmetricSolver,
  type System,
} from '../../src/index.js';
import { type CannonBuildOptions, cannonSubsteps, cannonTuning } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { cannonBuilders } from './cannonBuilders.js';

/**
 * Options of {@link CannonEngine} (also read from `createEngine('cannon', system, options)`). The defaults are
 * {@link cannonTuning}, shared with the builders.
 */
export interface CannonEngineOptions {
  /**
   * Longest cannon step, in seconds: a `step(…, dt, …)` call runs `k = ceil(dt / maxSubstep)` cannon steps
   * of `dt / k`, and the constraints are tuned for that step. The energy error is first order in it.
   * @default 1/600 ({@link cannonTuning})
   */
  maxSubstep?: number;
  /**
   * Gauss–Seidel iterations of cannon's solver per step.
   * @default 10 ({@link cannonTuning})
   */
  iterations?: number;
  /**
   * SPOOK stiffness of the constraints.
   * @default 1e9 ({@link cannonTuning})
   */
  stiffness?: number;
  /**
   * SPOOK relaxation of the constraints, in steps.
   * @default 2 ({@link cannonTuning})
   */
  relaxation?: number;
}

/** A broadphase that reports no pairs: the copies of the system in one batch never touch. */
class NoCollisions extends Broadphase {
  override collisionPairs(_world: World, _p1: Body[], _p2: Body[]): void {}
}

/**
 * The `cannon` engine: a batch of copies of a system rebuilt from cannon-es rigid bodies (distance
 * constraints for rods, springs for a string), advanced by cannon's semi-implicit Euler with SPOOK
 * constraints, and read back as generalised coordinates. It exists to compare a general-purpose rigid-body
 * engine with the exact and learned dynamics (`three-lnn rollout --engine cannon`).
 *
 * `step` ignores the integrator argument (cannon integrates with its own method) and calls
 * `world.step(h)` a fixed number of times, so results are repeatable. Between calls the bodies keep their
 * full state; they are re-placed only when the caller's (q, q̇) differ from what was last read back.
 * `accelerations` is a finite difference over one cannon step (first order in that step).
 *
 * Forces (`forceSupport` null): before every cannon step, each copy's generalized force Q(t, q, q̇) —
 * evaluated at the state read back from the bodies, so damping −C q̇ and callbacks see the current
 * motion — becomes forces on its bodies, the minimum-norm F with J(q)ᵀ F = Q, `F = J (JᵀJ)⁻¹ Q` over
 * the stacked point Jacobians. The built systems' constraints (rods between body centres, or motion
 * locked to the string's axis) do no work, so any F with JᵀF = Q moves the constrained system as Q
 * does; the minimum-norm one loads no rod. Q is held over each cannon step (explicit, first order in the
 * step like the rest of cannon's integration). Impulses (`ImpulseSolver`) use {@link massSolve}: the
 * bodies' own mass matrix JᵀMJ, exact.
 * @example const engine = await createEngine('cannon', createSystem('double-pendulum'));
 */
export class CannonEngine implements Engine {
  readonly id = 'cannon' as const;
  readonly system: System;
  /** The cannon engine takes generalized forces (applied as point forces on its bodies, see above). */
  readonly forceSupport: ForceSupport = null;
  /** Cannon steps of the last `step` call (per call, not per state). */
  lastSubsteps = 0;
  private readonly options: Required<CannonEngineOptions>;
  private world: World | undefined;
  private copies: CannonSystem[] = [];
  private batch = 0;
  private h = 0;
  private readonly lastQ: Float64Array[] = [];
  private readonly lastQd: Float64Array[] = [];
  private readonly qi: Float64Array;
  private readonly qdi: Float64Array;
  private disposed = false;
  /** Scratch of the force mapping: Q of one copy, its point Jacobians, JᵀJ, the solve. */
  private readonly Q: Float64Array;
  private readonly x: Float64Array;
  private readonly jac: Float64Array;
  private readonly jtj: Float64Array;
  private readonly unit: Float64Array;
  private readonly column: Float64Array;
  /** One point's exact Jacobian `[3 * dof]` (System.pointJacobian). */
  private readonly pointJac: Float64Array;
  private readonly solver: SymmetricSolver;
  private pointMasses: Float64Array | null = null;

  constructor(system: System, options: CannonEngineOptions = {}) {
    if (!cannonBuilders.has(system.id)) {
      throw new Error(
        `The 'cannon' engine has no cannon-es version of '${system.id}'. ` +
          `Supported systems: ${[...cannonBuilders.keys()].join(', ')}.`,
      );
    }
    this.system = system;
    this.options = {
      maxSubstep: options.maxSubstep ?? cannonTuning.substep,
      iterations: options.iterations ?? cannonTuning.iterations,
      stiffness: options.stiffness ?? cannonTuning.stiffness,
      relaxation: options.relaxation ?? cannonTuning.relaxation,
    };
    for (const [k, v] of Object.entries(this.options)) {
      if (!(Number.isFinite(v) && v > 0))
        throw new Error(`CannonEngine: option '${k}' must be > 0, got ${v}`);
    }
    const n = system.dof;
    this.qi = new Float64Array(n);
    this.qdi = new Float64Array(n);
    this.Q = new Float64Array(n);
    this.x = new Float64Array(n);
    this.jac = new Float64Array(n * system.pointCount * 3);
    this.jtj = new Float64Array(n * n);
    this.unit = new Float64Array(n);
    this.column = new Float64Array(system.pointCount * 3);
    this.pointJac = new Float64Array(3 * system.dof);
    this.solver = new SymmetricSolver(n);
  }

  /**
   * Advance `batch` states (`q`, `qd`: `[batch * dof]`) in place by `dt` with cannon-es, from time `t0`,
   * under `forces` when given (see the class notes).
   */
  step(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    _integrator?: Integrator,
    t0 = 0,
    forces?: Forces | null,
  ): void {
    this.checkAlive();
    if (!(Number.isFinite(dt) && dt > 0)) throw new Error(`CannonEngine.step: dt must be > 0, got ${dt}`);
    const k = cannonSubsteps(dt, this.options.maxSubstep);
    const h = dt / k;
    this.prepare(batch, h);
    this.place(q, qd, batch);
    const world = this.world!;
    const forced = forces != null && !forces.zero ? forces : null;
    if (forced) this.checkForces(forced, batch);
    for (let s = 0; s < k; s++) {
      if (forced) this.applyForces(forced, batch, t0 + s * h);
      world.step(h);
    }
    this.lastSubsteps = k;
    this.read(q, qd, batch);
  }

  /**
   * q̈ estimated by one cannon step of `maxSubstep` from each state: (q̇' − q̇) / h, under `forces` at
   * time `t` when given. First order in h; cannon has no acceleration of its own to report.
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t = 0,
    forces?: Forces | null,
  ): void {
    this.checkAlive();
    const h = this.options.maxSubstep;
    const q1 = Float64Array.from(q.subarray(0, batch * this.system.dof));
    const qd1 = Float64Array.from(qd.subarray(0, batch * this.system.dof));
    this.prepare(batch, h);
    this.place(q1, qd1, batch, true);
    const forced = forces != null && !forces.zero ? forces : null;
    if (forced) {
      this.checkForces(forced, batch);
      this.applyForces(forced, batch, t);
    }
    this.world!.step(h);
    this.read(q1, qd1, batch);
    for (let i = 0; i < batch * this.system.dof; i++) qdd[i] = (qd1[i] - qd[i]) / h;
  }

  /**
   * Δq̇ of generalized impulses: `out = M⁻¹ rhs` per state (`[batch * dof]`), M = Σ m_i J_iᵀ J_i the
   * mass matrix of the cannon bodies (point masses at the system's points), exact. Used by the core's
   * `ImpulseSolver` (`handle.forces.applyImpulse`).
   * @throws Error when M is singular at a state
   */
  massSolve(q: Float64Array, _qd: Float64Array, rhs: Float64Array, out: Float64Array, batch: number): void {
    this.checkAlive();
    const n = this.system.dof;
    const masses = this.masses();
    const qi = this.qi;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) qi[i] = q[b * n + i];
      this.normalMatrix(qi, masses);
      if (!this.solver.trySolve(this.jtj, rhs.subarray(b * n, b * n + n), this.x)) {
        throw new Error(`CannonEngine: the mass matrix of '${this.system.id}' is singular at this state`);
      }
      out.set(this.x, b * n);
    }
  }

  /** The exact system's energy of one state (`q`, `qd`: `[dof]`). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.system.energy(q, qd);
  }

  /** Drop the cannon world and its bodies. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.teardown();
  }

  private checkForces(forces: Forces, batch: number): void {
    checkForcesShape('CannonEngine', forces, this.system.dof, batch);
  }

  /**
   * Add to every copy's bodies the minimum-norm point forces F = J (JᵀJ)⁻¹ Q of its Q(t, q, q̇), the state
   * read back from the bodies. cannon adds gravity and integrates them in the coming `world.step`.
   */
  private applyForces(forces: Forces, batch: number, t: number): void {
    const n = this.system.dof;
    const pc = this.system.pointCount;
    const { qi, qdi, Q, x, jac } = this;
    for (let b = 0; b < batch; b++) {
      const copy = this.copies[b];
      copy.readState(qi, qdi);
      forces.evaluate(t, qi, qdi, Q, 1, b);
      let any = false;
      for (let i = 0; i < n; i++) if (Q[i] !== 0) any = true;
      if (!any) continue;
      this.normalMatrix(qi, null);
      if (!this.solver.trySolve(this.jtj, Q, x)) {
        throw new Error(
          `CannonEngine: JᵀJ of '${this.system.id}' is singular here; the force cannot be mapped to the bodies`,
        );
      }
      for (let p = 0; p < pc; p++) {
        const body = copy.pointBody[p];
        if (body.type === Body.STATIC) continue;
        for (let c = 0; c < 3; c++) {
          const k = 3 * p + c;
          let F = 0;
          for (let j = 0; j < n; j++) F += jac[j * pc * 3 + k] * x[j];
          if (c === 0) body.force.x += F;
          else if (c === 1) body.force.y += F;
          else body.force.z += F;
        }
      }
    }
  }

  /**
   * The point Jacobians at `q` into `this.jac` (column j: the point velocities of q̇ = e_j) and
   * `this.jtj` = Σ_i w_i J_iᵀ J_i (weights: the point masses, or 1 when `masses` is null).
   */
  private normalMatrix(q: Float64Array, masses: Float64Array | null): void {
    const n = this.system.dof;
    const m3 = this.system.pointCount * 3;
    const { jac, jtj, unit, column } = this;
    const exact = this.system.pointJacobian;
    if (exact !== undefined) {
      // The system's exact point Jacobians ([3 × dof] per point, row-major).
      const pj = this.pointJac;
      for (let point = 0; point < this.system.pointCount; point++) {
        exact.call(this.system, q, point, pj);
        for (let j = 0; j < n; j++) for (let r = 0; r < 3; r++) jac[j * m3 + 3 * point + r] = pj[r * n + j];
      }
    } else {
      // A system without one: central differences of its positions along each coordinate.
      for (let j = 0; j < n; j++) {
        unit.fill(0);
        unit[j] = 1;
        pointVelocities(this.system, q, unit, column);
        jac.set(column, j * m3);
      }
    }
    for (let a = 0; a < n; a++) {
      for (let b = 0; b <= a; b++) {
        let s = 0;
        for (let k = 0; k < m3; k++) {
          const w = masses === null ? 1 : masses[Math.floor(k / 3)];
          s += w * jac[a * m3 + k] * jac[b * m3 + k];
        }
        jtj[a * n + b] = s;
        jtj[b * n + a] = s;
      }
    }
  }

  /** Mass of each point's body (0 for anchors), from a throwaway build of the system. */
  private masses(): Float64Array {
    if (this.pointMasses) return this.pointMasses;
    const g = this.system.params.g ?? 0;
    const probe = new World({ gravity: new Vec3(0, -g, 0), broadphase: new NoCollisions() });
    const built = cannonBuilders.get(this.system.id)!(probe, this.system, {
      dt: this.options.maxSubstep,
      substeps: 1,
    });
    this.pointMasses = Float64Array.from(built.pointBody, (b) => (b.type === Body.STATIC ? 0 : b.mass));
    built.remove();
    return this.pointMasses;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('CannonEngine: used after dispose()');
  }

  /** (Re)build the world when the batch size or the cannon step changes. */
  private prepare(batch: number, h: number): void {
    if (this.world && this.batch === batch && Math.abs(this.h - h) <= 1e-15 * h) return;
    this.teardown();
    const g = this.system.params.g ?? 0;
    const world = new World({ gravity: new Vec3(0, -g, 0), broadphase: new NoCollisions() });
    (world.solver as unknown as { iterations: number }).iterations = this.options.iterations;
    const build = cannonBuilders.get(this.system.id)!;
    const options: CannonBuildOptions = {
      dt: h,
      substeps: 1,
      stiffness: this.options.stiffness,
      relaxation: this.options.relaxation,
    };
    for (let b = 0; b < batch; b++) {
      // Copies are spaced apart only for readability in a debugger; they never collide.
      this.copies.push(build(world, this.system, { ...options, origin: { x: 0, y: 0, z: 10 * b } }));
      this.lastQ.push(new Float64Array(this.system.dof).fill(Number.NaN));
      this.lastQd.push(new Float64Array(this.system.dof).fill(Number.NaN));
    }
    this.world = world;
    this.batch = batch;
    this.h = h;
  }

  /** Put each copy at its state unless it already holds exactly that state. */
  private place(q: Float64Array, qd: Float64Array, batch: number, force = false): void {
    const n = this.system.dof;
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      let same = !force;
      for (let i = 0; i < n && same; i++) {
        same = this.lastQ[b][i] === q[o + i] && this.lastQd[b][i] === qd[o + i];
      }
      if (same) continue;
      this.copies[b].setState(q.subarray(o, o + n), qd.subarray(o, o + n));
      this.lastQ[b].fill(Number.NaN);
    }
  }

  /** Read every copy back into `q`, `qd` and remember what was read. */
  private read(q: Float64Array, qd: Float64Array, batch: number): void {
    const n = this.system.dof;
    const { qi, qdi } = this;
    for (let b = 0; b < batch; b++) {
      this.copies[b].readState(qi, qdi);
      q.set(qi, b * n);
      qd.set(qdi, b * n);
      this.lastQ[b].set(qi);
      this.lastQd[b].set(qdi);
    }
  }

  private teardown(): void {
    for (const c of this.copies) c.remove();
    this.copies = [];
    this.lastQ.length = 0;
    this.lastQd.length = 0;
    this.world = undefined;
    this.batch = 0;
  }
}
