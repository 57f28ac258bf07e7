import type { System } from '../../core/types.js';
import { sgApply, sgProblem, sgWeights } from './savitzkyGolay.js';
import { type Trajectory, TrajectoryError } from './trajectory.js';

/**
 * How q̇ and q̈ are obtained from a trajectory.
 * - `sg`: Savitzky–Golay fits of degree `order` over `window` samples. q is the fit's value (angles
 *   unwrapped before the fit and wrapped into [−π, π) after); q̇ is the file's when it has one and
 *   `qd` is `'file'`, else the fit's first derivative; q̈ is the fit's first derivative of the file's q̇
 *   (`qd: 'file'`) or the second derivative of q (`qd: 'estimate'`).
 * - `exact`: q and q̇ from the file, q̈ from the system's own equations (a reference for what the
 *   estimate costs; needs q̇ in the file).
 */
export interface DerivativeOptions {
  /** @default 'sg' */
  method?: 'sg' | 'exact';
  /** Samples in the window (odd). @default {@link DEFAULT_SG_WINDOW} */
  window?: number;
  /** Polynomial degree. @default {@link DEFAULT_SG_ORDER} */
  order?: number;
  /** Whether q̇ comes from the file (when it has one) or is estimated from q. @default 'file' */
  qd?: 'file' | 'estimate';
}

/** {@link DerivativeOptions} with the defaults filled in, as a model's provenance records them. */
export type ResolvedDerivatives = Required<DerivativeOptions>;

/** Default window (samples; see docs/training.md for the measurement behind it). */
export const DEFAULT_SG_WINDOW = 15;
/** Default polynomial degree. */
export const DEFAULT_SG_ORDER = 4;

/** Fill in the defaults of {@link DerivativeOptions} and check them. @throws TrajectoryError */
export function resolveDerivatives(o: DerivativeOptions = {}): ResolvedDerivatives {
  const r: ResolvedDerivatives = {
    method: o.method ?? 'sg',
    window: o.window ?? DEFAULT_SG_WINDOW,
    order: o.order ?? DEFAULT_SG_ORDER,
    qd: o.qd ?? 'file',
  };
  if (r.method !== 'sg' && r.method !== 'exact')
    throw new TrajectoryError(`derivative method '${String(r.method)}' is unknown; use sg or exact.`);
  if (r.qd !== 'file' && r.qd !== 'estimate')
    throw new TrajectoryError(`qd source '${String(r.qd)}' is unknown; use file or estimate.`);
  if (r.method === 'sg') {
    const problem = sgProblem(r.window, r.order, r.qd === 'estimate' ? 2 : 1);
    if (problem) throw new TrajectoryError(`Savitzky–Golay: ${problem}.`);
  }
  return r;
}

/** Training states estimated from a trajectory: q, q̇, q̈ `[count * n]` (float64). */
export interface TrajectorySamples {
  dof: number;
  count: number;
  q: Float64Array;
  qd: Float64Array;
  qdd: Float64Array;
  /** Sample spacing h (the median Δt). */
  h: number;
  /** Uniform runs the trajectory split into (at gaps and missing samples) that were long enough. */
  segments: number;
  /** Samples not used: the ends of each run where the window does not fit, and runs too short for it. */
  dropped: number;
}

/** Relative mismatch of Δt to a multiple of h accepted as rounding in the recorded times. */
const SPACING_TOLERANCE = 1e-3;

/**
 * Estimate q̇ and q̈ along a trajectory (see {@link DerivativeOptions}). The samples must be uniform in
 * time up to gaps: Δt a multiple of the median spacing h (within 1e-3 h). A gap, or a sample with a
 * missing value, splits the trajectory into runs differentiated separately; each run loses
 * (window − 1)/2 samples at each end, and a run shorter than the window is dropped.
 * @param angles which coordinates are angles (unwrapped before fitting, wrapped after)
 * @param system the system, for `method: 'exact'`
 * @throws TrajectoryError for uneven or non-increasing times, too few samples, or missing q̇ under `exact`
 */
export function estimateDerivatives(
  traj: Trajectory,
  angles: readonly boolean[],
  options: DerivativeOptions = {},
  system?: System,
): TrajectorySamples {
  const o = resolveDerivatives(options);
  const n = traj.dof;
  const T = traj.t.length;
  const useFileQd = o.method === 'exact' || (o.qd === 'file' && traj.qd !== null);
  if (o.method === 'exact' && (traj.qd === null || !system))
    throw new TrajectoryError(
      'the exact method takes q̇ from the file and q̈ from the system: the file needs qd columns.',
    );
  const h = medianSpacing(traj.t);
  // Runs [start, end) of consecutive valid samples with Δt = h.
  const runs: [number, number][] = [];
  let start = -1;
  for (let s = 0; s < T; s++) {
    const valid = rowFinite(traj.q, s, n) && (!useFileQd || rowFinite(traj.qd as Float64Array, s, n));
    if (!valid) {
      if (start >= 0) runs.push([start, s]);
      start = -1;
      continue;
    }
    if (start >= 0) {
      const r = (traj.t[s] - traj.t[s - 1]) / h;
      const k = Math.round(r);
      if (k < 1 || Math.abs(r - k) > SPACING_TOLERANCE)
        throw new TrajectoryError(
          `uneven sampling at t = ${traj.t[s - 1]}: Δt = ${traj.t[s] - traj.t[s - 1]} is not a multiple of the step ${h}; resample the trajectory to a uniform step.`,
        );
      if (k > 1) {
        runs.push([start, s]);
        start = s;
      }
    } else start = s;
  }
  if (start >= 0) runs.push([start, T]);
  const win = o.method === 'exact' ? 1 : o.window;
  const m = (win - 1) / 2;
  const usable = runs.filter(([a, b]) => b - a >= win);
  const count = usable.reduce((s, [a, b]) => s + (b - a - 2 * m), 0);
  if (count === 0)
    throw new TrajectoryError(
      `no run of ${win} uniform samples with every value present (${runs.length} runs, longest ${Math.max(0, ...runs.map(([a, b]) => b - a))}); record longer or use a smaller window.`,
    );
  const q = new Float64Array(count * n);
  const qd = new Float64Array(count * n);
  const qdd = new Float64Array(count * n);
  const c0 = o.method === 'sg' ? sgWeights(o.window, o.order, 0) : null;
  const c1 = o.method === 'sg' ? sgWeights(o.window, o.order, 1) : null;
  const c2 = o.method === 'sg' && !useFileQd ? sgWeights(o.window, o.order, 2) : null;
  let off = 0;
  for (const [a, b] of usable) {
    const len = b - a;
    const inner = len - 2 * m;
    const y = new Float64Array(len);
    const v = new Float64Array(len);
    const est = new Float64Array(inner);
    for (let i = 0; i < n; i++) {
      for (let s = 0; s < len; s++) y[s] = traj.q[(a + s) * n + i];
      if (angles[i]) unwrap(y);
      if (useFileQd) for (let s = 0; s < len; s++) v[s] = (traj.qd as Float64Array)[(a + s) * n + i];
      const put = (target: Float64Array) => {
        for (let s = 0; s < inner; s++) target[(off + s) * n + i] = est[s];
      };
      if (c0 && c1) {
        sgApply(c0, y, len, h, 0, est);
        if (angles[i]) for (let s = 0; s < inner; s++) est[s] = wrap(est[s]);
        put(q);
        if (useFileQd) {
          for (let s = 0; s < inner; s++) est[s] = v[s + m];
          put(qd);
          sgApply(c1, v, len, h, 1, est);
          put(qdd);
        } else {
          sgApply(c1, y, len, h, 1, est);
          put(qd);
          sgApply(c2 as Float64Array, y, len, h, 2, est);
          put(qdd);
        }
      } else {
        for (let s = 0; s < inner; s++) est[s] = angles[i] ? wrap(y[s + m]) : y[s + m];
        put(q);
        for (let s = 0; s < inner; s++) est[s] = v[s + m];
        put(qd);
      }
    }
    off += inner;
  }
  if (o.method === 'exact') (system as System).accelerations(q, qd, qdd, count);
  return { dof: n, count, q, qd, qdd, h, segments: usable.length, dropped: T - count };
}

/** The median of the positive spacings of `t`. @throws TrajectoryError when there are none */
function medianSpacing(t: Float64Array): number {
  const d: number[] = [];
  for (let s = 1; s < t.length; s++) d.push(t[s] - t[s - 1]);
  const pos = d.filter((x) => x > 0).sort((a, b) => a - b);
  if (pos.length === 0 || pos.length < d.length)
    throw new TrajectoryError(
      't must increase from sample to sample (at least two samples); sort the rows by time and drop repeats.',
    );
  return pos[Math.floor(pos.length / 2)];
}

function rowFinite(x: Float64Array, s: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[s * n + i])) return false;
  return true;
}

/** Remove the 2π jumps of a wrapped angle sequence in place (each step taken as the shortest turn). */
function unwrap(y: Float64Array): void {
  let shift = 0;
  let prev = y[0];
  for (let s = 1; s < y.length; s++) {
    const raw = y[s];
    const d = raw - prev;
    shift -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
    prev = raw;
    y[s] = raw + shift;
  }
}

/** An angle into [−π, π). */
function wrap(x: number): number {
  return x - 2 * Math.PI * Math.floor((x + Math.PI) / (2 * Math.PI));
}
