import type { LoadedModel } from '../model/metadata.js';
import { trainingBoxStates } from '../model/trainingStates.js';
import { SolveFlag } from '../nn/solve64.js';
import type { RouteName, RoutePrecision } from './Route.js';

/** States a half-precision route is measured on against the float64 reference. */
export const PRECISION_STATES = 64;

/** Seed of the measured states (`createRng`): the same states on every load and machine. */
export const PRECISION_SEED = 0x16f16;

/**
 * The q̈ error of a route against the float64 reference (`referenceAccelerations`), measured at load
 * on {@link precisionStates}. Per state: max_i |q̈_i − q̈_ref,i| / max(1, max_i |q̈_ref,i|).
 */
export interface PrecisionError {
  route: RouteName;
  /** Precision the route computed in. */
  precision: RoutePrecision;
  /** States compared: those the reference evaluates (flag below failed). */
  states: number;
  /** Mean of the per-state relative error. */
  mean: number;
  /** Largest per-state relative error. */
  max: number;
  /** States the route failed (q̈ = 0) where the reference did not. */
  failed: number;
}

/**
 * `count` states drawn with `createRng(seed)` uniformly from the model's training box (see
 * `trainingBoxStates`, src/model/trainingStates.ts). Pure.
 * @returns q, qd `[count * dof]`
 */
export function precisionStates(
  model: LoadedModel,
  dof: number,
  count: number = PRECISION_STATES,
  seed: number = PRECISION_SEED,
): { q: Float64Array; qd: Float64Array } {
  return trainingBoxStates(model, dof, count, seed);
}

/**
 * Compare a route's q̈ with the float64 reference state by state (see {@link PrecisionError}). Pure.
 * @param qdd `[batch * dof]` @param flags `[batch]` the route's
 * @param ref `[batch * dof]` @param refFlags `[batch]` the reference's
 */
export function compareToReference(
  route: RouteName,
  precision: RoutePrecision,
  qdd: ArrayLike<number>,
  flags: ArrayLike<number>,
  ref: ArrayLike<number>,
  refFlags: ArrayLike<number>,
  dof: number,
): PrecisionError {
  let states = 0;
  let sum = 0;
  let max = 0;
  let failed = 0;
  for (let b = 0; b < refFlags.length; b++) {
    if (refFlags[b] >= SolveFlag.failed) continue;
    states++;
    if (flags[b] >= SolveFlag.failed) failed++;
    let num = 0;
    let den = 1;
    for (let i = b * dof; i < (b + 1) * dof; i++) {
      num = Math.max(num, Math.abs(qdd[i] - ref[i]));
      den = Math.max(den, Math.abs(ref[i]));
    }
    const e = num / den;
    sum += e;
    max = Math.max(max, e);
  }
  return { route, precision, states, mean: states > 0 ? sum / states : 0, max, failed };
}

/** `mean 1.2e-3, max 4.5e-2 over 64 states (0 failed)`. */
export function formatPrecisionError(e: PrecisionError): string {
  const f = (v: number) => v.toExponential(1);
  return `mean ${f(e.mean)}, max ${f(e.max)} over ${e.states} states${e.failed > 0 ? ` (${e.failed} failed)` : ''}`;
}
