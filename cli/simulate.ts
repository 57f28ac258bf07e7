import type { Engine, Integrator } from '../src/core/types';

/** What {@link simulate} records: one entry per recorded step. */
export interface Trajectory {
  /** Time of each record, `[T]`. */
  t: number[];
  /** Step index of each record, `[T]`. */
  step: number[];
  /** Coordinates of each record, `[T]` of `[batch * dof]`. */
  q: Float64Array[];
  /** Velocities of each record, `[T]` of `[batch * dof]`. */
  qd: Float64Array[];
  /** The system's true energy of each recorded state, `[T]` of `[batch]`. */
  energy: Float64Array[];
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
 * round-off). When a state becomes non-finite, or the engine throws, the run stops; the trajectory then
 * holds everything recorded so far plus the last finite state, and `failure` says where it stopped.
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
  const q = Float64Array.from(q0);
  const qd = Float64Array.from(qd0);
  // The state before the current step, kept so that a failed step loses nothing already computed.
  const qPrev = new Float64Array(q.length);
  const qdPrev = new Float64Array(qd.length);
  const out: Trajectory = { t: [], step: [], q: [], qd: [], energy: [] };

  const record = (k: number, qs: Float64Array, qds: Float64Array): number => {
    const e = new Float64Array(batch);
    for (let b = 0; b < batch; b++) {
      e[b] = system.energy(qs.subarray(b * dof, (b + 1) * dof), qds.subarray(b * dof, (b + 1) * dof));
    }
    out.t.push(k * dt);
    out.step.push(k);
    out.q.push(Float64Array.from(qs));
    out.qd.push(Float64Array.from(qds));
    out.energy.push(e);
    return e.findIndex((v) => !Number.isFinite(v));
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
      if (out.step[out.step.length - 1] !== k - 1) record(k - 1, qPrev, qdPrev);
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
