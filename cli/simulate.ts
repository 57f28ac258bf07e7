import type { Engine, Integrator } from '../src/core/types.js';

/**
 * What {@link simulate} records, in flat preallocated buffers (no per-record objects, so long runs
 * cost 8 bytes per number). Record k of a quantity is the slice `[k * size, (k + 1) * size)`.
 */
export interface Trajectory {
  /** Number of records taken (T). */
  count: number;
  /** Start states in the batch (B). */
  batch: number;
  /** Degrees of freedom (n). */
  dof: number;
  /** Time of each record, `[T]` (first `count` entries valid). */
  t: Float64Array;
  /** Step index of each record, `[T]`. */
  step: Float64Array;
  /** Coordinates, `[T * B * n]`. */
  q: Float64Array;
  /** Velocities, `[T * B * n]`. */
  qd: Float64Array;
  /** The system's true energy of each recorded state, `[T * B]`. */
  energy: Float64Array;
  /** Set when the run stopped early: where and why. */
  failure?: Failure;
}

/** Where a run stopped early. */
export interface Failure {
  /** Time at the end of the step that failed (k·dt). */
  t: number;
  /** Index k of the step that failed (1-based: step k goes from (k−1)·dt to k·dt). */
  step: number;
  /** Index in the batch of the first state that became non-finite; −1 when the engine threw. */
  index: number;
  /** What happened, in words. */
  reason: string;
}

/** Settings of {@link simulate}. */
export interface SimulateOptions {
  /** Step size (s). */
  dt: number;
  /** Number of steps. */
  steps: number;
  /** Record every k-th step (step 0 always). @default 1 */
  every?: number;
}

/** Records {@link simulate} takes for `steps` steps recorded every `every`, plus one spare for a failure. */
export function recordCapacity(steps: number, every: number): number {
  return Math.floor(steps / every) + 2;
}

/** Index of the first non-finite entry in `q` or `qd`, or −1. */
function firstNonFinite(q: Float64Array, qd: Float64Array): number {
  for (let i = 0; i < q.length; i++) {
    if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) return i;
  }
  return -1;
}

/**
 * Advance a batch from (`q0`, `qd0`) (`[batch * dof]`, copied) for `steps` fixed steps and record every
 * `every`-th state with its true energy. The step k ends at time k·dt exactly (no accumulated
 * round-off). When a state becomes non-finite, a recorded energy is not finite, or the engine throws,
 * the run stops; the trajectory then holds everything recorded so far plus the last finite state, and
 * `failure` says where it stopped.
 */
export function simulate(
  engine: Engine,
  integrator: Integrator,
  q0: Float64Array,
  qd0: Float64Array,
  batch: number,
  options: SimulateOptions,
): Trajectory {
  const { dt, steps, every = 1 } = options;
  const system = engine.system;
  const dof = system.dof;
  const size = batch * dof;
  const capacity = recordCapacity(steps, every);
  const q = Float64Array.from(q0);
  const qd = Float64Array.from(qd0);
  // The state before the current step, kept so that a failed step loses nothing already computed.
  const qPrev = new Float64Array(size);
  const qdPrev = new Float64Array(size);
  const out: Trajectory = {
    count: 0,
    batch,
    dof,
    t: new Float64Array(capacity),
    step: new Float64Array(capacity),
    q: new Float64Array(capacity * size),
    qd: new Float64Array(capacity * size),
    energy: new Float64Array(capacity * batch),
  };

  /** Append a record; returns the index of the first state whose energy is not finite, or −1. */
  const record = (k: number, qs: Float64Array, qds: Float64Array): number => {
    const r = out.count++;
    out.t[r] = k * dt;
    out.step[r] = k;
    out.q.set(qs, r * size);
    out.qd.set(qds, r * size);
    let bad = -1;
    for (let b = 0; b < batch; b++) {
      const e = system.energy(qs.subarray(b * dof, (b + 1) * dof), qds.subarray(b * dof, (b + 1) * dof));
      out.energy[r * batch + b] = e;
      if (bad < 0 && !Number.isFinite(e)) bad = b;
    }
    return bad;
  };

  record(0, q, qd);
  for (let k = 1; k <= steps; k++) {
    qPrev.set(q);
    qdPrev.set(qd);
    let bad = -1;
    let reason = '';
    try {
      engine.step(q, qd, batch, dt, integrator);
      bad = firstNonFinite(q, qd);
      if (bad >= 0) reason = 'the state became non-finite (NaN or Infinity)';
    } catch (err) {
      reason = `the engine failed: ${(err as Error).message.replace(/\.$/, '')}`;
    }
    if (reason !== '') {
      if (out.step[out.count - 1] !== k - 1) record(k - 1, qPrev, qdPrev);
      out.failure = { t: k * dt, step: k, index: bad >= 0 ? Math.floor(bad / dof) : -1, reason };
      return out;
    }
    if (k % every === 0) {
      // A finite state can still lie outside the system's domain (|q̇| ≥ c for a relativistic particle).
      const outside = record(k, q, qd);
      if (outside >= 0) {
        out.failure = {
          t: k * dt,
          step: k,
          index: outside,
          reason: 'the energy became non-finite (the state overflowed or left the domain of the system)',
        };
        return out;
      }
    }
  }
  return out;
}
