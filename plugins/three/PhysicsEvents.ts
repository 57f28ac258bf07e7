import type { PhysicsSystem } from './PhysicsSystem.js';

/** Events of an `LNNPhysics` instance and their payloads (payload objects may be reused: copy what you keep). */
export interface PhysicsEvents {
  /** After every fixed step. */
  step: { /** Simulated time after the step, s. */ time: number /** The fixed step, s. */; dt: number };
  /** A copy's true energy moved more than `energyDriftThreshold` (share of the energy scale) from its start. */
  energyDrift: {
    system: PhysicsSystem;
    /** Copy index. */
    index: number;
    /** Current energy. */
    energy: number;
    /** Energy at the start (or the last reset / setState). */
    initialEnergy: number;
    /** |energy − initialEnergy| / energyScale. */
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
