import type { Engine, System } from '../core/types.js';
import { type ForceSpec, ForceSpecError, GeneralizedForces } from '../forces/GeneralizedForces.js';
import { ImpulseSolver } from '../forces/ImpulseSolver.js';
import { PointForces } from '../forces/pointForce.js';
import { WorkLedger } from '../forces/WorkLedger.js';

/** The state a {@link HandleForces} acts on (the handle's own arrays). */
export interface ForcedState {
  readonly q: Float64Array;
  readonly qd: Float64Array;
  readonly invalid: Uint8Array;
}

/** Thrown when forces are set on an engine that takes none (the black-box baseline). */
export class ForceSupportError extends Error {
  override readonly name = 'ForceSupportError';
}

/**
 * The external forces on one world system (`handle.forces`): Rayleigh damping, a constant generalized
 * force, a callback Q(t, q, q̇), forces on drawn points (held over each step: J(q)ᵀ F is recomputed from
 * the state at the start of every step), impulses, and the work they did (the energy ledger
 * E − E(0) − W). Forces are refused, with the engine's reason, on an engine that takes none.
 * @example
 * dp.forces.set({ damping: 0.05 });
 * dp.forces.setPointForce(2, [3, 0, 0]); // push the lower bob right, until cleared with null
 * dp.forces.applyPointImpulse(2, [0.5, 0, 0]);
 * dp.ledger(); // E − E(0) − W: constant up to integration error
 */
export class HandleForces {
  readonly system: System;
  readonly engine: Engine;
  readonly count: number;
  /** Work done per copy `[count]` (see `WorkLedger`). */
  readonly ledger: WorkLedger;
  private readonly state: ForcedState;
  private readonly forces: GeneralizedForces;
  /** The constant force set by the user `[count * dof]`, before point forces are added. */
  private userConstant: Float64Array | null = null;
  private readonly points = new Map<number, { copy: number; point: number; F: Float64Array }>();
  private pointForces: PointForces | null = null;
  private impulses: ImpulseSolver | null = null;
  private readonly dv: Float64Array;
  private readonly p: Float64Array;

  constructor(system: System, engine: Engine, count: number, state: ForcedState) {
    this.system = system;
    this.engine = engine;
    this.count = count;
    this.state = state;
    this.forces = new GeneralizedForces(system.dof, count);
    this.ledger = new WorkLedger(system.dof, count);
    this.dv = new Float64Array(system.dof);
    this.p = new Float64Array(system.dof);
  }

  /** null when the engine takes forces, otherwise why not (see `Engine.forceSupport`). */
  get unsupported(): string | null {
    const s = this.engine.forceSupport;
    return s === undefined ? `the '${this.engine.id}' engine takes no forces` : s;
  }

  /** Whether any force acts (damping, constant, callback or point force). */
  get active(): boolean {
    return !this.forces.zero || this.points.size > 0;
  }

  /** The forces handed to the engine each step (read-only use; change them through this object). */
  get current(): GeneralizedForces {
    return this.forces;
  }

  /**
   * Replace damping, constant and callback at once (parts left out are removed); `null` removes all,
   * point forces included.
   * @throws ForceSupportError on an engine that takes no forces; ForceSpecError for a bad spec
   */
  set(spec: ForceSpec | null): this {
    if (spec === null) {
      this.forces.clear();
      this.userConstant = null;
      this.points.clear();
      return this;
    }
    this.check();
    const known = new Set(['damping', 'constant', 'callback']);
    for (const k of Object.keys(spec)) {
      if (!known.has(k))
        throw new ForceSpecError(`forces: unknown key '${k}'; expected damping, constant or callback`);
    }
    const next = new GeneralizedForces(this.system.dof, this.count, spec);
    this.forces.setDamping(next.damping);
    this.forces.setCallback(next.callback);
    this.userConstant = next.constant === null ? null : Float64Array.from(next.constant);
    this.forces.setConstant(this.userConstant);
    return this;
  }

  /** Set Rayleigh damping Q = −C q̇ (one C or `[dof]`; 0 removes it). */
  setDamping(c: number | ArrayLike<number>): this {
    // All-zero damping is no force: allowed on every engine (clearing never throws).
    const zero = typeof c === 'number' ? c === 0 : Array.from(c).every((x) => x === 0);
    if (!zero) this.check();
    this.forces.setDamping(c);
    return this;
  }

  /**
   * Hold a force `F` `[3]` (world units) on drawn point `point` of copy `copy`, from the next step on,
   * until set again or cleared with `null`. Before every step Q += J(q)ᵀ F at the step's start state.
   * @throws ForceSupportError, ForceSpecError (no point Jacobian, bad F), RangeError (bad point or copy)
   */
  setPointForce(point: number, F: ArrayLike<number> | null, copy = 0): this {
    this.checkCopy(copy);
    if (!(Number.isInteger(point) && point >= 0 && point < this.system.pointCount)) {
      throw new RangeError(`forces: point index ${point} is out of range [0, ${this.system.pointCount})`);
    }
    // A numeric key (no string per call: a drag sets its force every step).
    const key = copy * this.system.pointCount + point;
    if (F === null) {
      // The held constant goes back to the user's once no point force is left.
      if (this.points.delete(key) && this.points.size === 0) this.forces.setConstant(this.userConstant);
      return this;
    }
    this.check();
    this.pointForces ??= new PointForces(this.system);
    if (F.length !== 3 || !(Number.isFinite(F[0]) && Number.isFinite(F[1]) && Number.isFinite(F[2]))) {
      throw new ForceSpecError(
        `forces: a point force is 3 finite numbers [x, y, z], got [${Array.from(F).join(', ')}]`,
      );
    }
    const entry = this.points.get(key);
    if (entry) entry.F.set(F);
    else this.points.set(key, { copy, point, F: Float64Array.from(F) });
    return this;
  }

  /**
   * Apply a generalized impulse `p` `[dof]` to copy `copy` now: the momentum ∂L/∂q̇ jumps by p, so
   * q̇ += H_vv⁻¹ p with the engine's mass matrix (integrated along the jump where H_vv depends on q̇:
   * `ImpulseSolver.jump`), and its work — the exact energy change, p·(q̇⁻ + q̇⁺)/2 for a mass matrix
   * that does not depend on q̇ — goes into the ledger. Returns the velocity change (a view, valid until
   * the next call).
   * @throws ForceSupportError; Error when the mass matrix is singular there (the state is unchanged)
   */
  applyImpulse(p: ArrayLike<number>, copy = 0, t = 0): Float64Array {
    this.check();
    this.checkCopy(copy);
    const n = this.system.dof;
    if (p.length !== n || !Array.from(p).every(Number.isFinite)) {
      throw new ForceSpecError(
        `forces: a generalized impulse is ${n} finite numbers, got [${Array.from(p).join(', ')}]`,
      );
    }
    this.impulses ??= new ImpulseSolver(this.engine);
    const { q, qd } = this.state;
    const o = copy * n;
    const work = this.impulses.jump(q, qd, p, this.dv, o, t);
    for (let i = 0; i < n; i++) qd[o + i] += this.dv[i];
    this.ledger.addWork(copy, work);
    return this.dv;
  }

  /**
   * Apply an impulse `J` `[3]` (world units, N·s) on drawn point `point` of copy `copy`: the generalized
   * impulse J(q)ᵀ J. Returns the velocity change (see {@link applyImpulse}).
   */
  applyPointImpulse(point: number, impulse: ArrayLike<number>, copy = 0, t = 0): Float64Array {
    this.check();
    this.checkCopy(copy);
    this.pointForces ??= new PointForces(this.system);
    this.p.fill(0);
    this.pointForces.add(this.state.q, point, impulse, this.p, copy * this.system.dof, 0);
    return this.applyImpulse(this.p, copy, t);
  }

  /**
   * The forces for the coming step: the user's constant plus J(q)ᵀ F of every point force at the current
   * state; null when nothing acts. Called by the world before each step.
   */
  forStep(): GeneralizedForces | null {
    if (this.points.size > 0) {
      const { q } = this.state;
      const n = this.system.dof;
      const c = this.scratchConstant();
      if (this.userConstant !== null) c.set(this.userConstant);
      else c.fill(0);
      for (const { copy, point, F } of this.points.values()) this.pointForces!.add(q, point, F, c, copy * n);
      this.forces.setConstant(c);
    }
    return this.forces.zero ? null : this.forces;
  }

  /** Add the work of the step just taken (states before and after, `[count * dof]`). */
  afterStep(t0: number, dt: number, q0: Float64Array, qd0: Float64Array): void {
    if (this.forces.zero) return;
    this.ledger.accumulate(this.forces, t0, dt, q0, qd0, this.state.q, this.state.qd, this.state.invalid);
  }

  private constantBuf: Float64Array | null = null;

  private scratchConstant(): Float64Array {
    this.constantBuf ??= new Float64Array(this.system.dof * this.count);
    return this.constantBuf;
  }

  private check(): void {
    const why = this.unsupported;
    if (why !== null) throw new ForceSupportError(`forces: ${why}`);
  }

  private checkCopy(copy: number): void {
    if (!(Number.isInteger(copy) && copy >= 0 && copy < this.count)) {
      throw new RangeError(`forces: copy index ${copy} is out of range [0, ${this.count})`);
    }
  }
}
