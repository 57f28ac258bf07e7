import type { PhysicsSystem } from './PhysicsSystem.js';

/** Events of an `LNNPhysics` instance and their payloads (payload objects may be reused: copy what you keep). */
export interface PhysicsEvents {
  /** After every fixed step. */
  step: { /** Simulated time after the step, s. */ time: number /** The fixed step, s. */; dt: number };
  /**
   * A copy's energy ledger |E − E₀ − W| (true energy, minus its start, minus the work W of external forces:
   * drags, damping, impulses) moved more than `energyDriftThreshold` (share of the energy scale). Work done
   * by forces is not drift, so a dragged or damped system fires only when its engine drifts.
   */
  energyDrift: {
    system: PhysicsSystem;
    /** Copy index. */
    index: number;
    /** Current energy. */
    energy: number;
    /** Energy at the start (or the last reset / setState). */
    initialEnergy: number;
    /** Work done on the copy by external forces since the start, J (`handle.forces.ledger.work`). */
    work: number;
    /** |energy − initialEnergy − work| / energyScale. */
    drift: number;
  };
  /** A copy produced a non-finite state: it was put back to its last finite state and frozen. */
  invalid: { system: PhysicsSystem; index: number; reason: string };
  /** A learned engine's input left the box its model was trained on (fires on leaving; again after re-entry). */
  outOfRange: {
    system: PhysicsSystem;
    index: number;
    /** Which input left its range. */
    coordinate: 'q' | 'qd';
    /** Coordinate index. */
    dim: number;
    value: number;
    /** The training range `[lo, hi]`. */
    range: readonly [number, number];
  };
}
