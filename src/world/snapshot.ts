import type { IntegratorId } from '../core/types.js';

/** A JSON value (what snapshots are made of). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Snapshot of one {@link SystemHandle}: plain JSON, numbers exact (float64 round-trips through JSON). */
export interface SystemSnapshot {
  /** Handle name, unique within the world. */
  name: string;
  /** System registry id and its full parameter set. */
  system: { id: string; params: Record<string, number> };
  /** Engine id. */
  engine: string;
  /** The JSON-safe engine options (strings, numbers, booleans; a URL as its string). */
  engineOptions: Record<string, JsonValue>;
  /** Integrator id. */
  integrator: IntegratorId;
  /** Integrator options (dopri5 tolerances). */
  integratorOptions: Record<string, number>;
  /** Number of copies. */
  count: number;
  /** Current state, `[count * dof]`. */
  q: number[];
  qd: number[];
  /** State before the last step (interpolation start), `[count * dof]`. */
  previousQ: number[];
  previousQd: number[];
  /** Indices of frozen (invalid) copies. */
  invalid: number[];
}

/** Snapshot of a `World`: `world.toJSON()`; restore with `World.fromJSON` or `world.restore`. */
export interface WorldSnapshot {
  format: 'three-lnn/world';
  version: 1;
  time: number;
  stepCount: number;
  accumulator: number;
  alpha: number;
  paused: boolean;
  timeScale: number;
  fixedTimeStep: number;
  maxSubSteps: number;
  systems: SystemSnapshot[];
}
