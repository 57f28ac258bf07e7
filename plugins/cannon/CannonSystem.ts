import type { Body, Constraint, Spring } from 'cannon-es';
import type { System } from '../../src/index.js';

/**
 * A Lagrangian system rebuilt from cannon-es rigid bodies by one of the builders
 * ({@link buildCannonDoublePendulum} and friends). The bodies live in the caller's world; the world is
 * advanced by the caller (see {@link stepCannon}); this object maps the bodies back to generalised
 * coordinates so that energy and divergence from the exact system can be measured.
 */
export interface CannonSystem {
  /** The exact system the bodies imitate (its parameters are the bodies' masses and lengths). */
  readonly system: System;
  /** Moving bodies, one per moving point of `system.positions`, in point order. */
  readonly bodies: Body[];
  /** Static bodies at the fixed points (pivots, string ends). */
  readonly anchors: Body[];
  /** Constraints added to the world (distance constraints of the rods). */
  readonly constraints: Constraint[];
  /** Springs applied every step (the string's tension). */
  readonly springs: Spring[];
  /** `pointBody[i]`: the body at point i of `system.positions` (a moving body or an anchor). */
  readonly pointBody: readonly Body[];
  /** Frame step the constraints were tuned for, in seconds. */
  readonly dt: number;
  /** Cannon steps per frame step. */
  readonly substeps: number;
  /** Cannon step `dt / substeps` the constraints are tuned for; advance the world by this. */
  readonly h: number;
  /**
   * Generalised coordinates read back from the bodies.
   * @param q out `[dof]` @param qd out `[dof]`
   */
  readState(q: Float64Array, qd: Float64Array): void;
  /**
   * Place the bodies at the state (positions by forward kinematics, velocities `J(q) q̇`).
   * @param q `[dof]` @param qd `[dof]`
   */
  setState(q: ArrayLike<number>, qd: ArrayLike<number>): void;
  /** The exact system's energy of the state read back from the bodies. */
  energy(): number;
  /** Take every body, constraint and step listener of this system out of the world. Idempotent. */
  remove(): void;
}
