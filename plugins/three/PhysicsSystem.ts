import { Vector3 } from 'three';
import { type Engine, pointVelocities, type System, type SystemHandle } from '../../src/index.js';

/**
 * A system added with `physics.addSystem`: a batch of `count` copies of one Lagrangian system in the
 * physics world, drawn around `origin`. Wraps the core `SystemHandle` (`handle`, the escape hatch) and adds
 * world-space kinematics for rendering.
 *
 * Positions are those of the interpolated state (between the last two fixed steps, at the render time), in
 * three.js world units with y up, offset by `origin` and by the copy's `offset`.
 * @example
 * const dp = await physics.addSystem('double-pendulum', { q0: [2, 1] });
 * dp.position(0, 2, bob.position); // the lower bob of copy 0
 */
export class PhysicsSystem {
  /** The core handle: state arrays, engine, integrator (escape hatch). */
  readonly handle: SystemHandle;
  /** Where the system's origin (its pivot) sits in the scene. */
  readonly origin: Vector3;
  /** Per-copy offsets from `origin`, `[count * 3]` (zeros unless given). */
  readonly offsets: Float64Array;
  /** Initial coordinates `[count * dof]`, used by {@link PhysicsSystem.reset}. */
  readonly q0: Float64Array;
  /** Initial velocities `[count * dof]`. */
  readonly qd0: Float64Array;
  /**
   * Energy of each copy at its initial state (or last reset / setState / resetEnergy), `[count]`: the
   * handle's ledger E(0) (`handle.energy0`), which `energyDrift` measures from.
   */
  get initialEnergy(): Float64Array {
    return this.handle.energy0;
  }
  /** Per copy: 1 once an energy-drift event fired (until reset / setState). `[count]` */
  readonly driftReported: Uint8Array;
  /** Per copy: 1 while its state is outside the model's training ranges (events fire on entry). `[count]` */
  readonly outOfRange: Uint8Array;
  private readonly points: Float64Array;
  private readonly velocities: Float64Array;
  private readonly q: Float64Array;
  private readonly qd: Float64Array;

  /** Built by `physics.addSystem`. */
  constructor(handle: SystemHandle, origin: Vector3, offsets?: ArrayLike<number>) {
    this.handle = handle;
    this.origin = origin;
    const { count, system } = handle;
    this.offsets = new Float64Array(count * 3);
    if (offsets !== undefined) {
      if (offsets.length !== count * 3) {
        throw new Error(
          `addSystem '${handle.name}': offsets must have count * 3 = ${count * 3} numbers, got ${offsets.length}`,
        );
      }
      this.offsets.set(Array.from(offsets));
    }
    this.q0 = Float64Array.from(handle.q);
    this.qd0 = Float64Array.from(handle.qd);
    this.driftReported = new Uint8Array(count);
    this.outOfRange = new Uint8Array(count);
    this.points = new Float64Array(system.pointCount * 3);
    this.velocities = new Float64Array(system.pointCount * 3);
    this.q = new Float64Array(system.dof);
    this.qd = new Float64Array(system.dof);
    this.resetEnergy();
  }

  /** Name, unique in the world (what `userData.lnn.system` refers to). */
  get name(): string {
    return this.handle.name;
  }
  /** The system. */
  get system(): System {
    return this.handle.system;
  }
  /** The engine producing q̈. */
  get engine(): Engine {
    return this.handle.engine;
  }
  /** Number of copies. */
  get count(): number {
    return this.handle.count;
  }

  /**
   * World-space points of copy `index` at the render time: `out` `[pointCount * 3]`.
   * @returns `out`
   */
  points3(index: number, out: Float64Array = new Float64Array(this.system.pointCount * 3)): Float64Array {
    this.checkIndex(index);
    this.handle.positions(index, out);
    const ox = this.origin.x + this.offsets[3 * index];
    const oy = this.origin.y + this.offsets[3 * index + 1];
    const oz = this.origin.z + this.offsets[3 * index + 2];
    for (let k = 0; k < out.length; k += 3) {
      out[k] += ox;
      out[k + 1] += oy;
      out[k + 2] += oz;
    }
    return out;
  }

  /** World-space position of point `point` of copy `index` at the render time, into `target`. */
  position(index: number, point: number, target: Vector3 = new Vector3()): Vector3 {
    this.checkPoint(point);
    const p = this.points3(index, this.points);
    return target.set(p[3 * point], p[3 * point + 1], p[3 * point + 2]);
  }

  /**
   * Point velocities of copy `index` at the render time, `J(q) q̇`: `out` `[pointCount * 3]`.
   * @returns `out`
   */
  velocities3(index: number, out: Float64Array = new Float64Array(this.system.pointCount * 3)): Float64Array {
    this.copy(index, this.handle.interpolatedQ, this.handle.interpolatedQd);
    return pointVelocities(this.system, this.q, this.qd, out);
  }

  /** Velocity of point `point` of copy `index` at the render time, into `target`. */
  velocity(index: number, point: number, target: Vector3 = new Vector3()): Vector3 {
    this.checkPoint(point);
    const v = this.velocities3(index, this.velocities);
    return target.set(v[3 * point], v[3 * point + 1], v[3 * point + 2]);
  }

  /** True energy (the system's closed form) of copy `index` in its current state. */
  energy(index = 0): number {
    return this.handle.energy(index);
  }

  /**
   * Replace the state: `q`, `qd` `[dof]` (every copy alike) or `[count * dof]`. Becomes the new reference
   * for energy drift; clears invalid flags and the interpolation history. Does not change `q0`.
   */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    this.handle.setState(q, qd);
    this.resetEnergy();
  }

  /** Back to the initial state given to `addSystem`. */
  reset(): void {
    this.setState(this.q0, this.qd0);
  }

  /** @throws Error when `index` is not a copy of this system. */
  checkIndex(index: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) {
      throw new Error(
        `System '${this.name}' has ${this.count} cop${this.count === 1 ? 'y' : 'ies'} (indices 0…${this.count - 1}); got index ${index}`,
      );
    }
  }

  /** @throws Error when `point` is not a point of this system. */
  checkPoint(point: number): void {
    const n = this.system.pointCount;
    if (!(Number.isInteger(point) && point >= 0 && point < n)) {
      throw new Error(
        `System '${this.name}' (${this.system.id}) has ${n} points (0…${n - 1}); got point ${point}`,
      );
    }
  }

  /**
   * Start the energy ledger afresh from the current state (E(0) = E now, the work of forces back to 0;
   * `handle.resetLedger`) and clear the per-copy event flags.
   */
  resetEnergy(): void {
    this.handle.resetLedger();
    this.driftReported.fill(0);
    this.outOfRange.fill(0);
  }

  private copy(index: number, q: Float64Array, qd: Float64Array): void {
    this.checkIndex(index);
    const n = this.system.dof;
    for (let k = 0; k < n; k++) {
      this.q[k] = q[index * n + k];
      this.qd[k] = qd[index * n + k];
    }
  }
}
