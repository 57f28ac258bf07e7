import { createRng, uniform } from '../math/random.js';
import type { LoadedModel } from '../model/metadata.js';
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
 * `count` states drawn with `createRng(seed)` uniformly from the model's training box
 * (`metadata.trainingRanges`, per coordinate; a coordinate beyond the listed ones takes the last
 * entry). Without a box: q in [−π, π) for angles and [−1, 1) otherwise, q̇ in [−0.5, 0.5). Pure.
 * @returns q, qd `[count * dof]`
 */
export function precisionStates(
  model: LoadedModel,
  dof: number,
  count: number = PRECISION_STATES,
  seed: number = PRECISION_SEED,
): { q: Float64Array; qd: Float64Array } {
  const meta = model.metadata;
  const box = meta.trainingRanges;
  const angles = meta.kind === 'lgn' ? [meta.angles[0]] : meta.angles;
  const pick = (ranges: [number, number][] | undefined, i: number, fallback: [number, number]) =>
    ranges !== undefined && ranges.length > 0 ? ranges[Math.min(i, ranges.length - 1)] : fallback;
  const rng = createRng(seed);
  const q = new Float64Array(count * dof);
  const qd = new Float64Array(count * dof);
  for (let b = 0; b < count; b++) {
    for (let i = 0; i < dof; i++) {
      const angle = angles[Math.min(i, angles.length - 1)] ?? false;
      const [qlo, qhi] = pick(box?.q, i, angle ? [-Math.PI, Math.PI] : [-1, 1]);
      const [vlo, vhi] = pick(box?.qd, i, [-0.5, 0.5]);
      q[b * dof + i] = uniform(rng, qlo, qhi);
      qd[b * dof + i] = uniform(rng, vlo, vhi);
    }
  }
  return { q, qd };
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
