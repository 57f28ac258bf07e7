import { type Body, Broadphase, Vec3, World } from 'cannon-es';
import type { Engine, Integrator, System } from '../../src/index.js';
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
 * @example const engine = await createEngine('cannon', createSystem('double-pendulum'));
 */
export class CannonEngine implements Engine {
  readonly id = 'cannon' as const;
  readonly system: System;
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
    this.qi = new Float64Array(system.dof);
    this.qdi = new Float64Array(system.dof);
  }

  /** Advance `batch` states (`q`, `qd`: `[batch * dof]`) in place by `dt` with cannon-es. */
  step(q: Float64Array, qd: Float64Array, batch: number, dt: number, _integrator?: Integrator): void {
    this.checkAlive();
    if (!(Number.isFinite(dt) && dt > 0)) throw new Error(`CannonEngine.step: dt must be > 0, got ${dt}`);
    const k = cannonSubsteps(dt, this.options.maxSubstep);
    const h = dt / k;
    this.prepare(batch, h);
    this.place(q, qd, batch);
    const world = this.world!;
    for (let s = 0; s < k; s++) world.step(h);
    this.lastSubsteps = k;
    this.read(q, qd, batch);
  }

  /**
   * q̈ estimated by one cannon step of `maxSubstep` from each state: (q̇' − q̇) / h. First order in h;
   * cannon has no acceleration of its own to report.
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.checkAlive();
    const h = this.options.maxSubstep;
    const q1 = Float64Array.from(q.subarray(0, batch * this.system.dof));
    const qd1 = Float64Array.from(qd.subarray(0, batch * this.system.dof));
    this.prepare(batch, h);
    this.place(q1, qd1, batch, true);
    this.world!.step(h);
    this.read(q1, qd1, batch);
    for (let i = 0; i < batch * this.system.dof; i++) qdd[i] = (qd1[i] - qd[i]) / h;
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
