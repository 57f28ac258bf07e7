import { type Lane, wrapAngle } from './Lane.js';

/** One lane's recorded channels. */
export interface LaneTrack {
  readonly key: string;
  /** Copies per sample recorded: the whole batch, or only the first copy of a large one. */
  readonly states: number;
  /** Copies in the lane. */
  readonly batch: number;
  readonly dof: number;
  /** `[samples * states * dof]` */
  q: Float64Array;
  qd: Float64Array;
  /**
   * Relative energy ledger (E − E₀ − W) / E₀ per sample, mean over the batch (W: the work of external
   * forces — pushes, damping — so a forced lane shows only its engine's error).
   */
  drift: Float64Array;
  /** Work W done by external forces on each recorded copy, `[samples * states]` (restored on replay). */
  work: Float64Array;
  /** ‖q − q_ref‖ per sample (angle-aware), mean over the batch; NaN where no reference. */
  divergence: Float64Array;
}

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  /** Samples kept before the recording is thinned (every other sample dropped). @default 8192 */
  capacity?: number;
  /** Largest `batch * dof` recorded in full for replay; larger lanes record metrics only. @default 4096 */
  maxStateValues?: number;
}

/**
 * Records a run (time, states, energy drift, divergence) with bounded memory: when full it drops every
 * other sample and records half as often, so an arbitrarily long run always fits and stays evenly
 * spaced. Full states are kept for lanes small enough to replay.
 */
export class Recorder {
  readonly capacity: number;
  readonly maxStateValues: number;
  /** Simulated time of each sample. */
  t: Float64Array;
  /** Fixed-step count of each sample. */
  stepIndex: Float64Array;
  tracks: LaneTrack[] = [];
  /** Number of samples. */
  length = 0;
  /** A sample is taken every `every` fixed steps. */
  every = 1;
  /** Incremented on every change, so views know when to redraw. */
  version = 0;

  constructor(options: RecorderOptions = {}) {
    this.capacity = options.capacity ?? 8192;
    this.maxStateValues = options.maxStateValues ?? 4096;
    this.t = new Float64Array(this.capacity);
    this.stepIndex = new Float64Array(this.capacity);
  }

  /** Start a new recording for `lanes` (drops the old one). */
  start(lanes: readonly Lane[]): void {
    const cap = this.capacity;
    this.tracks = lanes.map((lane) => {
      const dof = lane.system.dof;
      // Large batches keep their first copy only (enough for the phase portrait, not for replay).
      const states = lane.batch * dof <= this.maxStateValues ? lane.batch : Math.min(1, lane.batch);
      return {
        key: lane.key,
        states,
        batch: lane.batch,
        dof,
        q: new Float64Array(cap * states * dof),
        qd: new Float64Array(cap * states * dof),
        drift: new Float64Array(cap),
        work: new Float64Array(cap * states),
        divergence: new Float64Array(cap),
      };
    });
    this.length = 0;
    this.every = 1;
    this.version++;
  }

  /** Whether every lane can be replayed from the recording (every copy of every lane recorded). */
  get replayable(): boolean {
    return this.tracks.every((tr) => tr.states === tr.batch);
  }

  /** Record the lanes' current state if `step` falls on the sampling grid. */
  sample(t: number, step: number, lanes: readonly Lane[], reference: Lane | null): void {
    if (step % this.every !== 0) return;
    if (this.length === this.capacity) this.thin();
    const s = this.length;
    this.t[s] = t;
    this.stepIndex[s] = step;
    for (let l = 0; l < lanes.length; l++) {
      const lane = lanes[l];
      const tr = this.tracks[l];
      if (!tr) continue;
      const n = tr.states * tr.dof;
      if (n > 0) {
        tr.q.set(lane.q.subarray(0, n), s * n);
        tr.qd.set(lane.qd.subarray(0, n), s * n);
      }
      const W = lane.handle?.forces.ledger.work;
      for (let b = 0; b < tr.states; b++) tr.work[s * tr.states + b] = W?.[b] ?? 0;
      const live = lane.drawable;
      tr.drift[s] = live ? energyDrift(lane) : Number.NaN;
      tr.divergence[s] =
        live && reference && reference !== lane && reference.drawable
          ? divergence(lane, reference)
          : Number.NaN;
    }
    this.length++;
    this.version++;
  }

  /** Index of the last sample at or before time `t` (0 when before the first). */
  indexAt(t: number): number {
    let lo = 0;
    let hi = this.length - 1;
    if (hi < 0) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.t[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Put every replayable lane back to sample `index` (its whole batch). */
  restore(index: number, lanes: readonly Lane[]): void {
    for (let l = 0; l < lanes.length; l++) {
      const tr = this.tracks[l];
      const n = tr ? tr.states * tr.dof : 0;
      const h = lanes[l].handle;
      if (n === 0 || !h || tr.states !== lanes[l].batch) continue;
      h.setState(tr.q.subarray(index * n, (index + 1) * n), tr.qd.subarray(index * n, (index + 1) * n));
      // setState starts a new ledger; the run's goes on: its E₀ and the work done up to that sample.
      h.energy0.set(lanes[l].energy0.subarray(0, tr.states));
      h.forces.ledger.work.set(tr.work.subarray(index * tr.states, (index + 1) * tr.states));
    }
  }

  /** Recorded q of lane track `l`, state 0, at sample `index` into `out` `[dof]`. */
  stateAt(l: number, index: number, out: Float64Array): boolean {
    const tr = this.tracks[l];
    if (!tr || tr.states === 0 || index < 0 || index >= this.length) return false;
    const n = tr.states * tr.dof;
    out.set(tr.q.subarray(index * n, index * n + tr.dof));
    return true;
  }

  /** Drop every sample after `index` (branching a run from a replayed moment). */
  truncate(index: number): void {
    this.length = Math.min(this.length, index + 1);
    this.version++;
  }

  /** Halve the sampling rate in place. */
  private thin(): void {
    const half = this.length >> 1;
    for (let s = 0; s < half; s++) {
      const from = 2 * s + 1;
      this.t[s] = this.t[from];
      this.stepIndex[s] = this.stepIndex[from];
      for (const tr of this.tracks) {
        const n = tr.states * tr.dof;
        if (n > 0) {
          tr.q.copyWithin(s * n, from * n, (from + 1) * n);
          tr.qd.copyWithin(s * n, from * n, (from + 1) * n);
        }
        tr.drift[s] = tr.drift[from];
        tr.work.copyWithin(s * tr.states, from * tr.states, (from + 1) * tr.states);
        tr.divergence[s] = tr.divergence[from];
      }
    }
    this.length = half;
    this.every *= 2;
  }
}

/**
 * Relative energy ledger of a lane, mean |E − E₀ − W| / scale over the batch, signed for a single state
 * (W: the work of external forces, zero without them — then it is the energy drift E − E₀). The scale
 * is |E₀| unless E₀ is near zero (an ordinary pendulum state can have E₀ = 0), where the system's
 * energy scale is used instead.
 */
export function energyDrift(lane: Lane): number {
  const sys = lane.system;
  if (lane.batch === 1) {
    return lane.ledger(0) / energyNormaliser(lane.energy0[0], sys.energyScale);
  }
  let sum = 0;
  for (let b = 0; b < lane.batch; b++) {
    sum += Math.abs(lane.ledger(b)) / energyNormaliser(lane.energy0[b], sys.energyScale);
  }
  return sum / lane.batch;
}

/** |E₀|, or the system's energy scale when |E₀| is below 5% of it. */
export function energyNormaliser(e0: number, energyScale: number): number {
  const a = Math.abs(e0);
  return a > 0.05 * energyScale ? a : energyScale;
}

/** Mean over the batch of ‖q − q_ref‖, with angle differences wrapped into [−π, π). */
export function divergence(lane: Lane, reference: Lane): number {
  const dof = lane.system.dof;
  if (reference.system.dof !== dof || reference.batch !== lane.batch) return Number.NaN;
  const angles = lane.system.angles;
  let sum = 0;
  for (let b = 0; b < lane.batch; b++) {
    let s2 = 0;
    for (let i = 0; i < dof; i++) {
      const k = b * dof + i;
      const d = angles[i] ? wrapAngle(lane.q[k] - reference.q[k]) : lane.q[k] - reference.q[k];
      s2 += d * d;
    }
    sum += Math.sqrt(s2);
  }
  return sum / lane.batch;
}
