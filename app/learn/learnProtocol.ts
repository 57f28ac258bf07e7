import type { LoadedModel } from '../../src/learned.js';
import type { RecordedRun } from './RunSource.js';

/**
 * How the worker rebuilds the system to learn (systems do not cross `postMessage`): a registered system
 * with its parameter values, or a Lagrangian typed as text (the "Your Lagrangian" scene) with its angle
 * flags.
 */
export type SystemRecipe =
  | { kind: 'registry'; id: string; params: Record<string, number> }
  | { kind: 'expression'; id: string; name: string; text: string; angles: boolean[] };

/** The box training states are drawn from (the library's `TrainingBox`, as plain data). */
export interface LearnBox {
  /** `[dof]` of [lo, hi). */
  q: [number, number][];
  /** `[dof]` of [lo, hi). */
  qd: [number, number][];
}

/** Everything the worker needs to train: sent once with `start`. */
export interface LearnConfig {
  recipe: SystemRecipe;
  /** Hidden widths (ignored when fine-tuning: the base model's are kept). */
  hidden: number[];
  /** Adam steps in all. */
  steps: number;
  /** States per step. */
  batch: number;
  /** Peak learning rate. */
  lr: number;
  seed: number;
  /** A checkpoint (validation, weights to the page) every this many steps. */
  checkpointEvery: number;
  /** Validation states (drawn once from the box). */
  valSize: number;
  box: LearnBox;
  /** The exact lane's recorded run (part of every batch is drawn from it). */
  recorded: RecordedRun | null;
  /** Share of each batch drawn from the recorded run (0–1). */
  recordedShare: number;
  /** Fine-tune this model instead of starting from fresh weights. */
  from: LoadedModel | null;
  /** Where the TF.js wasm binaries are served (the page's Vite URLs). */
  wasmPaths: Record<string, string>;
  /**
   * Share of one core the worker takes (0.05–1): after each slice of steps it pauses for the rest, so
   * that on a machine with few cores the page keeps drawing. Changes when steps run, never which.
   */
  cpuShare: number;
  /** TF.js backend the worker trains on (`wasm`, falling back to `cpu`). */
  backend: 'wasm' | 'cpu';
}

/** Page → worker. */
export type ToWorker =
  | { type: 'start'; config: LearnConfig }
  | { type: 'stop' }
  | { type: 'resume' }
  | { type: 'dispose' };

/** Worker → page. */
export type FromWorker =
  | { type: 'started'; backend: string; layers: number[] }
  | { type: 'progress'; step: number; loss: number; lr: number; stepsPerSecond: number }
  | { type: 'checkpoint'; step: number; valL1: number; loss: number; model: LoadedModel }
  | { type: 'bad'; step: number; reason: string }
  | { type: 'stopped'; step: number }
  | { type: 'done'; step: number }
  | { type: 'error'; message: string }
  | { type: 'disposed'; numTensors: number };

/**
 * Training sizes offered for a system of `dof` coordinates (from scratch, or a fine-tune). One
 * coordinate: a typed pendulum reaches a validation q̈ L1 of a few 10⁻³ in 600 steps at lr 0.1 (the
 * trainer clips the gradient norm at 1); more coordinates get wider networks, more steps and the
 * smaller learning rates of offline training.
 */
export function learnDefaults(
  dof: number,
  fineTune = false,
): { hidden: number[]; steps: number; batch: number; lr: number; checkpointEvery: number } {
  if (fineTune) return { hidden: [], steps: 600, batch: 128, lr: 3e-4, checkpointEvery: 100 };
  if (dof <= 1) return { hidden: [32, 32], steps: 600, batch: 64, lr: 0.1, checkpointEvery: 50 };
  if (dof === 2) return { hidden: [64, 64], steps: 4000, batch: 128, lr: 3e-3, checkpointEvery: 250 };
  return { hidden: [96, 96], steps: 5000, batch: 128, lr: 2e-3, checkpointEvery: 250 };
}

/** Most coordinates a scene may have for "Learn this scene". */
export const MAX_LEARN_DOF = 4;

/**
 * A box around recorded states: per coordinate the recorded min/max widened by a margin (a share of
 * the span, at least a floor: 0.3 rad or units for q, 0.5 for q̇, so a run that has barely started
 * still gives a box). An angle whose widened span covers a full turn gets [−π, π).
 * @param q recorded q `[samples * dof]` @param qd recorded q̇ `[samples * dof]`
 */
export function boxAroundRun(
  q: ArrayLike<number>,
  qd: ArrayLike<number>,
  samples: number,
  angles: readonly boolean[],
  margin = 0.2,
): LearnBox {
  const dof = angles.length;
  const box: LearnBox = { q: [], qd: [] };
  for (let i = 0; i < dof; i++) {
    let qlo = Infinity;
    let qhi = -Infinity;
    let vlo = Infinity;
    let vhi = -Infinity;
    for (let s = 0; s < samples; s++) {
      const a = q[s * dof + i];
      const v = qd[s * dof + i];
      if (!Number.isFinite(a) || !Number.isFinite(v)) continue;
      qlo = Math.min(qlo, a);
      qhi = Math.max(qhi, a);
      vlo = Math.min(vlo, v);
      vhi = Math.max(vhi, v);
    }
    if (!(qhi >= qlo)) [qlo, qhi, vlo, vhi] = [0, 0, 0, 0];
    const mq = Math.max(margin * (qhi - qlo), 0.3);
    const mv = Math.max(margin * (vhi - vlo), 0.5);
    let qBox: [number, number] = [qlo - mq, qhi + mq];
    if (angles[i] && qBox[1] - qBox[0] >= 2 * Math.PI) qBox = [-Math.PI, Math.PI];
    box.q.push(qBox);
    box.qd.push([vlo - mv, vhi + mv]);
  }
  return box;
}

/** Validation error above this multiple of the best one so far is a divergence. */
export const DIVERGENCE_FACTOR = 10;

/** Consecutive non-finite updates (skipped by the trainer) that stop a run as bad. */
export const MAX_NONFINITE_STEPS = 20;

/**
 * Whether a checkpoint is good: its validation q̈ L1 is finite and not above
 * {@link DIVERGENCE_FACTOR} × the best one so far. Returns null when good, else the reason.
 */
export function checkpointProblem(valL1: number, best: number): string | null {
  if (!Number.isFinite(valL1)) return `validation q̈ L1 is ${valL1} (non-finite)`;
  if (Number.isFinite(best) && valL1 > DIVERGENCE_FACTOR * best) {
    return `diverged: validation q̈ L1 ${valL1.toPrecision(3)} is over ${DIVERGENCE_FACTOR}× the best, ${best.toPrecision(3)}`;
  }
  return null;
}
