import type { Engine, Integrator, IntegratorId, System } from '../core/types.js';
import type { EngineOptions } from '../engines/registry.js';
import type { IntegratorOptions } from '../integrators/registry.js';
import { HandleForces } from './HandleForces.js';

/** Everything a {@link SystemHandle} is built from; assembled by `World.add`. */
export interface SystemHandleInit {
  readonly id: number;
  readonly name: string;
  readonly system: System;
  readonly engine: Engine;
  /** Whether the world created the engine (and so disposes it). */
  readonly ownsEngine: boolean;
  readonly engineOptions: EngineOptions;
  readonly integrator: Integrator;
  readonly integratorOptions: IntegratorOptions;
  readonly count: number;
  /** Initial q and q̇, `[count * dof]`, already validated. */
  readonly q: ArrayLike<number>;
  readonly qd: ArrayLike<number>;
}

/**
 * One system (or a batch of `count` copies of it) living in a `World`, advanced by its own engine and
 * integrator. The world owns the clock; the handle exposes the state for reading and rendering.
 *
 * - `q`, `qd`: the current state, `[count * dof]` float64, written in place by every step.
 * - `interpolatedQ`, `interpolatedQd`: the state at the render time, between the previous and the
 *   current step (`previous + alpha · (current − previous)`); equal to the current state after a
 *   single `world.step(dt)`.
 * - `invalid[i]` is 1 once copy i produced a non-finite state: it was put back to its last finite
 *   state and stays frozen there (see `World.step`) until {@link SystemHandle.setState}.
 * @example
 * const dp = await world.add(createSystem('double-pendulum'), { q0: [2, 1] });
 * world.step(1 / 120, elapsed);
 * dp.positions(0, out); // forward kinematics of the interpolated state, [pointCount * 3]
 */
export class SystemHandle {
  /** Unique id within its world. */
  readonly id: number;
  /** Display name (unique within its world). */
  readonly name: string;
  readonly system: System;
  readonly engine: Engine;
  readonly integrator: Integrator;
  /** Options the integrator was created with (kept for snapshots). */
  readonly integratorOptions: IntegratorOptions;
  /** Options the engine was created with (kept for snapshots). */
  readonly engineOptions: EngineOptions;
  /** Whether the world created {@link SystemHandle.engine} and disposes it on removal. */
  readonly ownsEngine: boolean;
  /** Number of copies of the system, stepped as one batch. */
  readonly count: number;
  /** Degrees of freedom of one copy. */
  readonly dof: number;
  /** Current generalised coordinates, `[count * dof]`. */
  readonly q: Float64Array;
  /** Current generalised velocities, `[count * dof]`. */
  readonly qd: Float64Array;
  /** State before the last step, `[count * dof]`: the interpolation start and the last finite state. */
  readonly previousQ: Float64Array;
  /** Velocities before the last step, `[count * dof]`. */
  readonly previousQd: Float64Array;
  /** q at the render time, `[count * dof]` (see class docs). */
  readonly interpolatedQ: Float64Array;
  /** q̇ at the render time, `[count * dof]`. */
  readonly interpolatedQd: Float64Array;
  /** Per copy: 1 when frozen after producing a non-finite state, else 0. `[count]` */
  readonly invalid: Uint8Array;
  /** The error thrown by the engine or integrator, when a step failed as a whole. */
  lastError: unknown = undefined;
  /** External forces, impulses and their work (see {@link HandleForces}). */
  readonly forces: HandleForces;
  /** True energy of each copy when its state was last set `[count]`: the ledger's E(0). */
  readonly energy0: Float64Array;

  private readonly scratchQ: Float64Array;
  private readonly scratchQd: Float64Array;

  /** Built by `World.add`; not meant to be constructed directly. */
  constructor(init: SystemHandleInit) {
    this.id = init.id;
    this.name = init.name;
    this.system = init.system;
    this.engine = init.engine;
    this.ownsEngine = init.ownsEngine;
    this.engineOptions = init.engineOptions;
    this.integrator = init.integrator;
    this.integratorOptions = init.integratorOptions;
    this.count = init.count;
    this.dof = init.system.dof;
    const n = this.count * this.dof;
    this.q = new Float64Array(n);
    this.qd = new Float64Array(n);
    this.previousQ = new Float64Array(n);
    this.previousQd = new Float64Array(n);
    this.interpolatedQ = new Float64Array(n);
    this.interpolatedQd = new Float64Array(n);
    this.invalid = new Uint8Array(this.count);
    this.scratchQ = new Float64Array(this.dof);
    this.scratchQd = new Float64Array(this.dof);
    this.energy0 = new Float64Array(this.count);
    this.forces = new HandleForces(this.system, this.engine, this.count, this);
    this.setState(init.q, init.qd);
  }

  /** Engine id, e.g. `'analytic'`. */
  get engineId(): string {
    return this.engine.id;
  }

  /** Integrator id, e.g. `'rk4'`. */
  get integratorId(): IntegratorId {
    return this.integrator.id;
  }

  /** Whether any copy is frozen after a non-finite state. */
  get anyInvalid(): boolean {
    return this.invalid.includes(1);
  }

  /** Whether every copy is frozen (the world then skips this handle's engine). */
  get allInvalid(): boolean {
    for (let i = 0; i < this.count; i++) if (this.invalid[i] === 0) return false;
    return true;
  }

  /**
   * Replace the whole state (`[count * dof]` each, or `[dof]` for all copies alike), clear the
   * invalid flags and the interpolation history.
   * @throws Error when a length is wrong or a number is not finite.
   */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    fillState(this.q, q, this.dof, this.count, `${this.name}: q`);
    fillState(this.qd, qd, this.dof, this.count, `${this.name}: qd`);
    this.previousQ.set(this.q);
    this.previousQd.set(this.qd);
    this.interpolatedQ.set(this.q);
    this.interpolatedQd.set(this.qd);
    this.invalid.fill(0);
    this.lastError = undefined;
    this.resetLedger();
  }

  /** Start the energy ledger afresh from the current state: E(0) = E now, W = 0 (every copy). */
  resetLedger(): void {
    for (let c = 0; c < this.count; c++) this.energy0[c] = this.energy(c);
    this.forces.ledger.reset();
  }

  /**
   * The energy ledger of copy `i`: E − E(0) − W, with W the work of the external forces since the state
   * was set. Constant (zero) up to integration error under any forces; without forces it is the energy
   * drift E − E(0).
   */
  ledger(i = 0): number {
    return this.energy(i) - this.energy0[i] - this.forces.ledger.work[i];
  }

  /** True energy (the system's closed form) of copy `i` in its current state. */
  energy(i = 0): number {
    this.copyOf(i, this.q, this.qd);
    return this.system.energy(this.scratchQ, this.scratchQd);
  }

  /** Energy of copy `i` as the engine sees it (a learned engine's learned energy), if it has one. */
  engineEnergy(i = 0): number | undefined {
    if (this.engine.energy === undefined) return undefined;
    this.copyOf(i, this.q, this.qd);
    return this.engine.energy(this.scratchQ, this.scratchQd);
  }

  /**
   * Forward kinematics of copy `i` at the render time (interpolated state) into `out`
   * `[pointCount * 3]`; allocates `out` when omitted. Returns `out`.
   */
  positions(i = 0, out: Float64Array = new Float64Array(this.system.pointCount * 3)): Float64Array {
    this.copyOf(i, this.interpolatedQ, this.interpolatedQd);
    this.system.positions(this.scratchQ, out);
    return out;
  }

  /** Recompute the interpolated state: previous + alpha · (current − previous). */
  interpolate(alpha: number): void {
    const { q, qd, previousQ, previousQd, interpolatedQ, interpolatedQd } = this;
    const n = q.length;
    if (alpha === 1) {
      interpolatedQ.set(q);
      interpolatedQd.set(qd);
      return;
    }
    for (let i = 0; i < n; i++) {
      const pq = previousQ[i];
      const pv = previousQd[i];
      interpolatedQ[i] = pq + alpha * (q[i] - pq);
      interpolatedQd[i] = pv + alpha * (qd[i] - pv);
    }
  }

  private copyOf(i: number, q: Float64Array, qd: Float64Array): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.count)) {
      throw new Error(`${this.name}: copy index ${i} is out of range [0, ${this.count})`);
    }
    const off = i * this.dof;
    for (let k = 0; k < this.dof; k++) {
      this.scratchQ[k] = q[off + k];
      this.scratchQd[k] = qd[off + k];
    }
  }
}

/**
 * Fill `target` `[count * dof]` from `src` given as `[dof]` (repeated for every copy) or
 * `[count * dof]`.
 * @throws Error naming `what` when the length is wrong or an entry is not finite.
 */
export function fillState(
  target: Float64Array,
  src: ArrayLike<number>,
  dof: number,
  count: number,
  what: string,
): void {
  const n = dof * count;
  if (src.length !== dof && src.length !== n) {
    throw new Error(
      `${what} must have ${dof} numbers (one state)` +
        (count > 1 ? ` or ${n} (count × dof)` : '') +
        `, got ${src.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const v = src.length === n ? src[i] : src[i % dof];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new Error(`${what}[${src.length === n ? i : i % dof}] must be a finite number, got ${v}`);
    }
    target[i] = v;
  }
}
