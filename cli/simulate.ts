import { type Engine, HandleForces, type Integrator } from '../src/index.js';
import { SolveFlag } from '../src/node.js';
import { tidyNumber } from './parse.js';

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
  /** With forces: the work W done on each start up to each record, `[T * B]`. */
  work?: Float64Array;
  /** With forces: the energy ledger E − E(0) − W of each record, `[T * B]` (E(0): before any impulse at t = 0). */
  ledger?: Float64Array;
  /** With forces: the impulses applied, in order. */
  impulses?: AppliedImpulse[];
  /** Set when the run stopped early: where and why. */
  failure?: Failure;
}

/** Where a run stopped early. */
export interface Failure {
  /** Time at the end of the step that failed (k·dt). */
  t: number;
  /** Index k of the step that failed (1-based: step k goes from (k−1)·dt to k·dt). */
  step: number;
  /** Index in the batch of the first state that failed; −1 when the engine threw. */
  index: number;
  /** Number of states that failed in that step (0 when the engine threw). */
  count: number;
  /** Indices of the first (at most {@link LISTED_FAILURES}) states that failed in that step. */
  indices: number[];
  /**
   * What kind of failure: `state` (q or q̇ became NaN or ±Infinity), `solve` (the engine flagged the
   * state as failed: no finite q̈), `engine` (the engine threw), `energy` (the recorded energy is not finite),
   * `impulse` (an impulse could not be applied: the engine's mass matrix gave no finite velocity change).
   */
  cause: 'state' | 'solve' | 'engine' | 'energy' | 'impulse';
  /** What happened, in words. */
  reason: string;
}

/** Most failed-state indices a {@link Failure} lists. */
export const LISTED_FAILURES = 10;

/**
 * The per-state solve flags an engine reports for its last call, when it reports them (the learned
 * engines' `lastReport.flags`: 0 ok, 1 regularised, 2 failed with q̈ set to 0), else undefined.
 */
export function engineFlags(engine: Engine, batch: number): ArrayLike<number> | undefined {
  const report = (engine as { lastReport?: { flags?: unknown } }).lastReport;
  const flags = report?.flags;
  if (!ArrayBuffer.isView(flags) || (flags as Uint8Array).length !== batch) return undefined;
  return flags as Uint8Array;
}

/**
 * The states of a batch that failed: q̈ or the state not finite, or flagged `failed` by the engine
 * (no finite q̈: the engine set it to 0). `values` is `[batch * width]`.
 * @returns the failed states' indices, in order (empty when none failed)
 */
export function failedStates(
  values: readonly Float64Array[],
  width: number,
  batch: number,
  flags?: ArrayLike<number>,
): { index: number; flagged: boolean }[] {
  const out: { index: number; flagged: boolean }[] = [];
  for (let b = 0; b < batch; b++) {
    const flagged = flags !== undefined && flags[b] === SolveFlag.failed;
    let finite = true;
    for (const v of values) {
      for (let i = b * width; i < (b + 1) * width && finite; i++) finite = Number.isFinite(v[i]);
    }
    if (flagged || !finite) out.push({ index: b, flagged });
  }
  return out;
}

/** An impulse applied at a step boundary, on every start of the batch. */
export type StepImpulse =
  | { readonly step: number; readonly p: ArrayLike<number> }
  | { readonly step: number; readonly point: number; readonly J: ArrayLike<number> };

/** An impulse as applied (for the output): its step boundary and time, and what it was. */
export type AppliedImpulse = { step: number; t: number } & ({ p: number[] } | { point: number; J: number[] });

/** External forces of a {@link simulate} run. */
export interface SimulateForces {
  /** Rayleigh damping Q = −C q̇: one C for every coordinate or `[dof]`, in the system's units. */
  damping?: number | ArrayLike<number>;
  /** Impulses at step boundaries (any order; those at the same step apply in the order given). */
  impulses?: readonly StepImpulse[];
}

/** Settings of {@link simulate}. */
export interface SimulateOptions {
  /** Step size (s). */
  dt: number;
  /** Number of steps. */
  steps: number;
  /** Record every k-th step (step 0 always). @default 1 */
  every?: number;
  /**
   * External forces: the trajectory then carries the work W and the ledger E − E(0) − W.
   * @throws ForceSupportError (before any step) when the engine takes no forces; ForceSpecError for bad ones
   */
  forces?: SimulateForces;
}

/** Records {@link simulate} takes for `steps` steps recorded every `every`, plus one spare for a failure. */
export function recordCapacity(steps: number, every: number): number {
  return Math.floor(steps / every) + 2;
}

/**
 * Advance a batch from (`q0`, `qd0`) (`[batch * dof]`, copied) for `steps` fixed steps and record every
 * `every`-th state with its true energy. The step k ends at time k·dt exactly (no accumulated
 * round-off). When a state becomes non-finite, the engine flags a state as failed (its
 * `lastReport.flags`: no finite q̈, which the engine replaced by 0), a recorded energy is not finite, or
 * the engine throws, the run stops; the trajectory then holds everything recorded so far plus the last
 * good state, and `failure` says where it stopped and which states failed.
 *
 * With `options.forces`, each step runs under Rayleigh damping (from time (k − 1)·dt), impulses fire at
 * their step boundaries before that boundary's record (on every start), and each record carries the work
 * W done so far and the ledger E − E(0) − W, which stays at zero up to the integrator's error.
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

  // External forces: the world's per-handle force object over this run's own state arrays, so the
  // roll-out and a World step the same way (forces held over each step, work by the same quadrature).
  let forces: HandleForces | null = null;
  const e0 = new Float64Array(batch);
  const impulsesAt = new Map<number, StepImpulse[]>();
  if (options.forces !== undefined) {
    forces = new HandleForces(system, engine, batch, { q, qd, invalid: new Uint8Array(batch) });
    const { damping, impulses = [] } = options.forces;
    forces.set(damping === undefined ? {} : { damping }); // refuses an engine that takes no forces
    for (const imp of impulses) {
      const list = impulsesAt.get(imp.step) ?? [];
      list.push(imp);
      impulsesAt.set(imp.step, list);
    }
    out.work = new Float64Array(capacity * batch);
    out.ledger = new Float64Array(capacity * batch);
    out.impulses = [];
    for (let b = 0; b < batch; b++) {
      e0[b] = system.energy(q.subarray(b * dof, (b + 1) * dof), qd.subarray(b * dof, (b + 1) * dof));
    }
  }

  /** Append a record; returns the states whose energy is not finite. */
  const record = (k: number, qs: Float64Array, qds: Float64Array): number[] => {
    const r = out.count++;
    out.t[r] = k * dt;
    out.step[r] = k;
    out.q.set(qs, r * size);
    out.qd.set(qds, r * size);
    const bad: number[] = [];
    for (let b = 0; b < batch; b++) {
      const e = system.energy(qs.subarray(b * dof, (b + 1) * dof), qds.subarray(b * dof, (b + 1) * dof));
      out.energy[r * batch + b] = e;
      if (forces !== null) {
        const w = forces.ledger.work[b];
        out.work![r * batch + b] = w;
        out.ledger![r * batch + b] = e - e0[b] - w;
      }
      if (!Number.isFinite(e)) bad.push(b);
    }
    return bad;
  };
  /** Apply the impulses due at step boundary k to every start; returns the starts where one failed. */
  const applyImpulses = (k: number): { states: number[]; reason: string } | null => {
    const due = impulsesAt.get(k);
    if (due === undefined || forces === null) return null;
    const failed: number[] = [];
    let reason = '';
    for (const imp of due) {
      for (let b = 0; b < batch; b++) {
        try {
          if ('p' in imp) forces.applyImpulse(imp.p, b, k * dt);
          else forces.applyPointImpulse(imp.point, imp.J, b, k * dt);
        } catch (err) {
          if (!failed.includes(b)) failed.push(b);
          reason ||= `the impulse at t = ${tidyNumber(k * dt)} s could not be applied: ${(err as Error).message.replace(/\.$/, '')}`;
        }
      }
      out.impulses!.push(
        'p' in imp
          ? { step: k, t: tidyNumber(k * dt), p: Array.from(imp.p) }
          : { step: k, t: tidyNumber(k * dt), point: imp.point, J: Array.from(imp.J) },
      );
      if (failed.length > 0) return { states: failed.sort((a, b) => a - b), reason };
    }
    return null;
  };
  const fail = (k: number, states: number[], cause: Failure['cause'], reason: string): Trajectory => {
    out.failure = {
      t: k * dt,
      step: k,
      index: states.length > 0 ? states[0] : -1,
      count: states.length,
      indices: states.slice(0, LISTED_FAILURES),
      cause,
      reason,
    };
    return out;
  };

  const kicked = applyImpulses(0);
  record(0, q, qd);
  if (kicked) return fail(0, kicked.states, 'impulse', kicked.reason);
  for (let k = 1; k <= steps; k++) {
    qPrev.set(q);
    qdPrev.set(qd);
    let bad: { index: number; flagged: boolean }[] = [];
    let reason = '';
    let cause: Failure['cause'] = 'state';
    try {
      if (forces === null) engine.step(q, qd, batch, dt, integrator);
      else engine.step(q, qd, batch, dt, integrator, (k - 1) * dt, forces.forStep());
      bad = failedStates([q, qd], dof, batch, engineFlags(engine, batch));
      if (bad.length > 0) {
        const flagged = bad.filter((s) => s.flagged).length;
        if (flagged > 0) cause = 'solve';
        reason =
          flagged === bad.length
            ? 'the engine found no finite q̈ (flagged failed; it substituted q̈ = 0)'
            : flagged > 0
              ? `the state became non-finite (NaN or Infinity) or the engine found no finite q̈ (${flagged} flagged failed)`
              : 'the state became non-finite (NaN or Infinity)';
      }
    } catch (err) {
      cause = 'engine';
      reason = `the engine failed: ${(err as Error).message.replace(/\.$/, '')}`;
    }
    if (reason !== '') {
      if (out.step[out.count - 1] !== k - 1) record(k - 1, qPrev, qdPrev);
      return fail(
        k,
        bad.map((s) => s.index),
        cause,
        reason,
      );
    }
    forces?.afterStep((k - 1) * dt, dt, qPrev, qdPrev);
    // Impulses at this boundary come before its record (the record shows the kicked state).
    const kick = applyImpulses(k);
    if (kick) {
      record(k, q, qd);
      return fail(k, kick.states, 'impulse', kick.reason);
    }
    if (k % every === 0) {
      // A finite state can still lie outside the system's domain (|q̇| ≥ c for a relativistic particle).
      const outside = record(k, q, qd);
      if (outside.length > 0) {
        return fail(
          k,
          outside,
          'energy',
          'the energy became non-finite (the state overflowed or left the domain of the system)',
        );
      }
    }
  }
  return out;
}
