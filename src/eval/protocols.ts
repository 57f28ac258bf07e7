/**
 * Evaluation protocols for learned models (Cranmer et al. 2020 and per-system equivalents). Each takes
 * an acceleration function (a learned engine's q̈) and the exact {@link System}, and measures against the
 * system's closed form, using the TRUE energy of the learned trajectory.
 */
import type { AccelerationFn, System } from '../core/types.js';
import { RungeKutta4 } from '../integrators/RungeKutta4.js';
import { createRng, uniform } from '../math/random.js';

/** One measured number with the protocol that produced it (stored in model metadata by `eval --write`). */
export interface Metric {
  /** The headline value (a mean unless the protocol says otherwise). */
  value: number;
  /** Further statistics (median, max, counts, …). */
  [key: string]: number | string | boolean;
  /** Human-readable description of the protocol, enough to reproduce it. */
  protocol: string;
}

/** Options of {@link energyDrift}. */
export interface EnergyDriftOptions {
  /** Number of starts. @default 40 */
  starts?: number;
  /** Length of each roll-out in seconds. @default 100 */
  seconds?: number;
  /** RK4 step; 0.005 keeps RK4's own drift ≈ 1e-5 of the energy scale on the double pendulum. @default 0.005 */
  dt?: number;
  /** Seed of the start states. @default 0 */
  seed?: number;
  /** Starts: q ~ U[qLow, qHigh) per coordinate. @default [0, 2π) */
  qRange?: readonly [number, number];
  /** Starts: q̇ ~ U[lo, hi) per coordinate. @default [0, 0.1) (the paper's) */
  qdRange?: readonly [number, number];
}

/** Draw the protocol's start states: `[starts * dof]` each. */
function drawStarts(system: System, o: Required<EnergyDriftOptions>): { q: Float64Array; qd: Float64Array } {
  const rng = createRng(o.seed);
  const n = system.dof;
  const q = new Float64Array(o.starts * n);
  const qd = new Float64Array(o.starts * n);
  for (let i = 0; i < o.starts * n; i++) {
    q[i] = uniform(rng, o.qRange[0], o.qRange[1]);
    qd[i] = uniform(rng, o.qdRange[0], o.qdRange[1]);
  }
  return { q, qd };
}

/**
 * RK4 roll-out of a batch in place; returns the largest |q̇| seen (overall, and while q was inside
 * `qBox` when given) and whether every state stayed finite.
 */
export function rollout(
  f: AccelerationFn,
  q: Float64Array,
  qd: Float64Array,
  dof: number,
  batch: number,
  dt: number,
  steps: number,
  qBox?: readonly [number, number],
): { maxSpeed: number; maxSpeedInBox: number; finite: boolean } {
  const rk4 = new RungeKutta4();
  let maxSpeed = 0;
  let maxSpeedInBox = 0;
  for (let s = 0; s < steps; s++) {
    rk4.step(f, q, qd, dof, batch, dt);
    for (let i = 0; i < qd.length; i++) {
      const v = Math.abs(qd[i]);
      if (v > maxSpeed) maxSpeed = v;
      if (qBox && q[i] >= qBox[0] && q[i] < qBox[1] && v > maxSpeedInBox) maxSpeedInBox = v;
    }
  }
  let finite = true;
  for (let i = 0; i < q.length; i++) if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) finite = false;
  return { maxSpeed, maxSpeedInBox, finite };
}

/**
 * The paper's energy protocol: from `starts` states with q ~ U[0, 2π), q̇ ~ U[0, 0.1), integrate
 * `seconds` with RK4 at `dt` and report mean |E(T) − E(0)| / energyScale, E the system's exact energy
 * of the learned trajectory. Non-finite roll-outs count as ∞ (and are reported).
 * @param f learned q̈ @param system the exact system (energy and scale)
 */
export function energyDrift(f: AccelerationFn, system: System, options: EnergyDriftOptions = {}): Metric {
  const o: Required<EnergyDriftOptions> = {
    starts: options.starts ?? 40,
    seconds: options.seconds ?? 100,
    dt: options.dt ?? 0.005,
    seed: options.seed ?? 0,
    qRange: options.qRange ?? [0, 2 * Math.PI],
    qdRange: options.qdRange ?? [0, 0.1],
  };
  const n = system.dof;
  const { q, qd } = drawStarts(system, o);
  const e0 = new Float64Array(o.starts);
  for (let b = 0; b < o.starts; b++)
    e0[b] = system.energy(q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
  const steps = Math.round(o.seconds / o.dt);
  rollout(f, q, qd, n, o.starts, o.dt, steps);
  const errs: number[] = [];
  let nonFinite = 0;
  for (let b = 0; b < o.starts; b++) {
    const e = system.energy(q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
    const err = Math.abs(e - e0[b]) / system.energyScale;
    if (Number.isFinite(err)) errs.push(err);
    else nonFinite++;
  }
  errs.sort((a, b) => a - b);
  const mean = nonFinite > 0 ? Number.POSITIVE_INFINITY : errs.reduce((s, x) => s + x, 0) / errs.length;
  return {
    value: mean,
    median: errs.length ? errs[Math.floor(errs.length / 2)] : Number.NaN,
    max: errs.length ? errs[errs.length - 1] : Number.NaN,
    nonFinite,
    protocol: `${o.starts} starts q~U[${o.qRange[0]},${o.qRange[1].toFixed(4)}), qd~U[${o.qdRange[0]},${o.qdRange[1]}) (seed ${o.seed}); RK4 dt=${o.dt} for ${o.seconds} s; mean |E(T)-E(0)|/${Number(system.energyScale.toPrecision(6))} with the exact energy of the learned trajectory`,
  };
}

/** Options of {@link qddError}. */
export interface QddErrorOptions {
  /** Number of states. @default 100000 */
  states?: number;
  /** States per engine call. @default 4096 */
  chunk?: number;
  /** Seed. @default 1 */
  seed?: number;
  /** Box per coordinate: q ranges `[n]` of [lo, hi). */
  qRanges: readonly (readonly [number, number])[];
  /** Box per coordinate: q̇ ranges `[n]` of [lo, hi). */
  qdRanges: readonly (readonly [number, number])[];
  /** Description of where the box comes from. */
  source?: string;
}

/**
 * Mean |q̈_learned − q̈_exact| over fresh uniform states of a box (per coordinate), with the median |q̈|
 * of the box for scale.
 */
export function qddError(f: AccelerationFn, system: System, options: QddErrorOptions): Metric {
  const total = options.states ?? 100_000;
  const chunk = Math.min(options.chunk ?? 4096, total);
  const n = system.dof;
  const rng = createRng(options.seed ?? 1);
  const q = new Float64Array(chunk * n);
  const qd = new Float64Array(chunk * n);
  const a = new Float64Array(chunk * n);
  const t = new Float64Array(chunk * n);
  let sum = 0;
  let count = 0;
  let nonFinite = 0;
  const mags: number[] = [];
  for (let done = 0; done < total; done += chunk) {
    const b = Math.min(chunk, total - done);
    for (let s = 0; s < b; s++) {
      for (let i = 0; i < n; i++) {
        const [ql, qh] = options.qRanges[i];
        const [vl, vh] = options.qdRanges[i];
        q[s * n + i] = uniform(rng, ql, qh);
        qd[s * n + i] = uniform(rng, vl, vh);
      }
    }
    const qs = q.subarray(0, b * n);
    const vs = qd.subarray(0, b * n);
    f(qs, vs, a, b);
    system.accelerations(qs, vs, t, b);
    for (let i = 0; i < b * n; i++) {
      const e = Math.abs(a[i] - t[i]);
      if (Number.isFinite(e)) {
        sum += e;
        count++;
      } else nonFinite++;
      if (mags.length < 20_000) mags.push(Math.abs(t[i]));
    }
  }
  mags.sort((x, y) => x - y);
  return {
    value: nonFinite > 0 ? Number.POSITIVE_INFINITY : sum / count,
    medianAbsQdd: mags[Math.floor(mags.length / 2)],
    states: total,
    nonFinite,
    protocol: `mean |qdd_pred - qdd_exact| over ${total} uniform states (seed ${options.seed ?? 1}) from ${options.source ?? 'the given box'}`,
  };
}

/**
 * Normal-mode frequencies of learned string dynamics, linearised at rest: the learned q̈ of a mode shape
 * φ_k = sin(kπ i/(N+1)) displaced by ±ε gives ω_k² = −φ_k·(q̈(εφ_k) − q̈(−εφ_k)) / (2ε|φ_k|²) (exact for
 * a graph Lagrangian at rest, whose linearisation is tridiagonal Toeplitz with these eigenvectors).
 * @param exact closed-form frequencies `[N]` @returns relative errors and a summary metric
 */
export function stringModes(
  f: AccelerationFn,
  system: System,
  exact: Float64Array,
  epsilon = 1e-3,
): { metric: Metric; learned: Float64Array } {
  const n = system.dof;
  const q = new Float64Array(2 * n * n);
  const qd = new Float64Array(2 * n * n);
  const a = new Float64Array(2 * n * n);
  for (let k = 1; k <= n; k++) {
    for (let i = 0; i < n; i++) {
      const s = Math.sin((k * Math.PI * (i + 1)) / (n + 1));
      q[2 * (k - 1) * n + i] = epsilon * s;
      q[(2 * (k - 1) + 1) * n + i] = -epsilon * s;
    }
  }
  f(q, qd, a, 2 * n);
  const learned = new Float64Array(n);
  let maxRel = 0;
  let sumRel = 0;
  let within = 0;
  let maxFirst10 = 0;
  for (let k = 1; k <= n; k++) {
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      const s = Math.sin((k * Math.PI * (i + 1)) / (n + 1));
      num += s * (a[2 * (k - 1) * n + i] - a[(2 * (k - 1) + 1) * n + i]);
      den += s * s;
    }
    const w2 = -num / (2 * epsilon * den);
    learned[k - 1] = Math.sqrt(Math.max(0, w2));
    const rel = Math.abs(learned[k - 1] - exact[k - 1]) / exact[k - 1];
    maxRel = Math.max(maxRel, rel);
    if (k <= 10) maxFirst10 = Math.max(maxFirst10, rel);
    sumRel += rel;
    if (rel < 0.01) within++;
  }
  return {
    learned,
    metric: {
      value: maxRel,
      meanRelError: sumRel / n,
      maxRelErrorFirst10: maxFirst10,
      modesWithin1Percent: within,
      nodes: n,
      protocol: `max over k of |omega_k - exact|/exact, omega_k from the learned qdd of mode shapes displaced by +-${epsilon} at rest, N=${n}; exact 2c/dx sin(k pi/(2(N+1)))`,
    },
  };
}

/** Options of {@link energyDriftFromSampler}. */
export interface SamplerDriftOptions {
  /** @default 10 */
  starts?: number;
  /** @default 10 */
  seconds?: number;
  /** @default 0.005 */
  dt?: number;
  /** @default 0 */
  seed?: number;
}

/**
 * Relative energy change |E(T) − E(0)| / E(0) (mean over starts) of learned roll-outs from the system's
 * own sampler (e.g. the string's low-mode superpositions), with the exact energy.
 */
export function energyDriftFromSampler(
  f: AccelerationFn,
  system: System,
  options: SamplerDriftOptions = {},
): Metric {
  const starts = options.starts ?? 10;
  const seconds = options.seconds ?? 10;
  const dt = options.dt ?? 0.005;
  const n = system.dof;
  const rng = createRng(options.seed ?? 0);
  const q = new Float64Array(starts * n);
  const qd = new Float64Array(starts * n);
  for (let b = 0; b < starts; b++)
    system.sample(rng, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
  const e0 = Array.from({ length: starts }, (_, b) =>
    system.energy(q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n)),
  );
  rollout(f, q, qd, n, starts, dt, Math.round(seconds / dt));
  let sum = 0;
  let max = 0;
  for (let b = 0; b < starts; b++) {
    const e = system.energy(q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
    const rel = Math.abs(e - e0[b]) / Math.abs(e0[b]);
    sum += rel;
    max = Math.max(max, Number.isFinite(rel) ? rel : Number.POSITIVE_INFINITY);
  }
  return {
    value: sum / starts,
    max,
    nodes: n,
    protocol: `${starts} starts from the system sampler (seed ${options.seed ?? 0}), RK4 dt=${dt} for ${seconds} s; mean |E(T)-E(0)|/E(0), exact energy of the learned trajectory`,
  };
}

/** Options of {@link energyErrorFromSampler}. */
export interface SamplerEnergyOptions {
  /** Number of starts. @default 40 */
  starts?: number;
  /** Length of each roll-out in seconds. @default 100 */
  seconds?: number;
  /** RK4 step. @default 0.005 */
  dt?: number;
  /** Seed of the starts (`createRng`, then `system.sample`). @default 0 */
  seed?: number;
  /** The energy error is recorded every this many steps (and at the end). @default 20 */
  every?: number;
}

/**
 * The paper's energy protocol with the starts drawn from the system's own sampler (for systems whose
 * chart has a singular set that uniform angles would hit, e.g. the spherical pendulums): RK4 at `dt`
 * for `seconds`, the exact energy E of the learned trajectory, and
 *
 *     value = mean over starts and over the recorded times t_k ∈ (0, T] of |E(t_k) − E(0)| / energyScale
 *
 * (recorded every `every` steps). Also reported: the same mean at T alone (`final`, as {@link energyDrift}),
 * the largest recorded error (`max`), and the exact q̈ under the same integrator and starts
 * (`exactSameIntegrator`, the integrator's own share). A start whose learned roll-out turns non-finite
 * makes `value` ∞ and is counted in `nonFinite`.
 * @param f learned q̈ @param system the exact system (sampler, energy, scale, closed-form q̈)
 */
export function energyErrorFromSampler(
  f: AccelerationFn,
  system: System,
  options: SamplerEnergyOptions = {},
): Metric {
  const starts = options.starts ?? 40;
  const seconds = options.seconds ?? 100;
  const dt = options.dt ?? 0.005;
  const seed = options.seed ?? 0;
  const every = options.every ?? 20;
  const n = system.dof;
  const rng = createRng(seed);
  const q0 = new Float64Array(starts * n);
  const v0 = new Float64Array(starts * n);
  for (let b = 0; b < starts; b++)
    system.sample(rng, q0.subarray(b * n, (b + 1) * n), v0.subarray(b * n, (b + 1) * n));
  const energies = (q: Float64Array, qd: Float64Array, out: Float64Array) => {
    for (let b = 0; b < starts; b++)
      out[b] = system.energy(q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
  };
  const e0 = new Float64Array(starts);
  energies(q0, v0, e0);
  const steps = Math.round(seconds / dt);
  const run = (g: AccelerationFn) => {
    const q = q0.slice();
    const qd = v0.slice();
    const e = new Float64Array(starts);
    const sum = new Float64Array(starts);
    const bad = new Uint8Array(starts);
    let records = 0;
    let max = 0;
    for (let done = 0; done < steps; ) {
      const k = Math.min(every, steps - done);
      rollout(g, q, qd, n, starts, dt, k);
      done += k;
      energies(q, qd, e);
      records++;
      for (let b = 0; b < starts; b++) {
        const err = Math.abs(e[b] - e0[b]) / system.energyScale;
        if (Number.isFinite(err)) {
          sum[b] += err;
          if (err > max) max = err;
        } else bad[b] = 1;
      }
    }
    let mean = 0;
    let final = 0;
    let nonFinite = 0;
    for (let b = 0; b < starts; b++) {
      if (bad[b]) nonFinite++;
      mean += sum[b] / records;
      final += Math.abs(e[b] - e0[b]) / system.energyScale;
    }
    return { mean: mean / starts, final: final / starts, max, nonFinite, records };
  };
  const learned = run(f);
  const exact = run((q, qd, qdd, batch) => system.accelerations(q, qd, qdd, batch));
  const inf = Number.POSITIVE_INFINITY;
  return {
    value: learned.nonFinite > 0 ? inf : learned.mean,
    final: learned.nonFinite > 0 ? inf : learned.final,
    max: learned.max,
    nonFinite: learned.nonFinite,
    exactSameIntegrator: exact.mean,
    starts,
    seconds,
    dt,
    protocol: `${starts} starts from the system sampler (seed ${seed}); RK4 dt=${dt} for ${seconds} s; mean over starts and over ${learned.records} times (every ${Number((every * dt).toPrecision(6))} s) of |E(t)-E(0)|/${Number(system.energyScale.toPrecision(6))}, the exact energy of the learned trajectory; final = the same at T only`,
  };
}
