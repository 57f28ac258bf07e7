import type { System } from '../core/types.js';
import { uniform } from '../math/random.js';

/**
 * The box training states are drawn from, per coordinate: q ~ U[q_lo, q_hi), and q̇ ~ U[v_lo, v_hi)
 * (or q̇ = tanh u with u ~ U[v_lo, v_hi) when `rapidity` is set). Fresh states every step.
 */
export interface TrainingBox {
  /** `[n]` of [lo, hi). */
  q: [number, number][];
  /** `[n]` of [lo, hi) (rapidities when `rapidity`). */
  qd: [number, number][];
  /** Draw q̇ = tanh(u) with u uniform in `qd` (speeds near c for the relativistic particle). */
  rapidity: boolean;
}

/**
 * The default training distribution of a system (the same boxes as training/lnn_train.py): the paper's
 * for the double pendulum and the chain (q ~ U[0, 2π), q̇ ~ U[−10, 10)); string: q ~ U[−0.1, 0.1),
 * q̇ ~ U[−1, 1) per node; relativistic particle: q ~ U[−1, 1), rapidity ~ U[−4, 4).
 * @throws Error for a system without a default box
 */
export function defaultTrainingBox(system: System): TrainingBox {
  const n = system.dof;
  const rep = (lo: number, hi: number): [number, number][] => Array.from({ length: n }, () => [lo, hi]);
  switch (system.id) {
    case 'double-pendulum':
    case 'simple-pendulum':
      return { q: rep(0, 2 * Math.PI), qd: rep(-10, 10), rapidity: false };
    case 'chain':
      return { q: rep(0, 2 * Math.PI), qd: rep(-10, 10), rapidity: false };
    case 'string':
      return { q: rep(-0.1, 0.1), qd: rep(-1, 1), rapidity: false };
    case 'relativistic-particle':
      return { q: rep(-1, 1), qd: rep(-4, 4), rapidity: true };
    default:
      throw new Error(
        `No default training box for system '${system.id}'; pass one (TrainerOptions.box / --q-range, --qd-range).`,
      );
  }
}

/** The q̇ box as actual speeds (for the model's `trainingRanges`). */
export function speedRanges(box: TrainingBox): [number, number][] {
  return box.rapidity ? box.qd.map(([a, b]) => [Math.tanh(a), Math.tanh(b)]) : box.qd.map(([a, b]) => [a, b]);
}

/**
 * Draw `count` states from a training box with their exact q̈ (float64 closed form, stored float32).
 * @returns q, qd, target: `[count * n]`
 */
export function sampleBox(
  system: System,
  box: TrainingBox,
  rng: () => number,
  count: number,
): { q: Float32Array; qd: Float32Array; target: Float32Array } {
  const n = system.dof;
  const q = new Float64Array(count * n);
  const qd = new Float64Array(count * n);
  for (let s = 0; s < count; s++) {
    for (let i = 0; i < n; i++) {
      q[s * n + i] = uniform(rng, box.q[i][0], box.q[i][1]);
      const u = uniform(rng, box.qd[i][0], box.qd[i][1]);
      qd[s * n + i] = box.rapidity ? Math.tanh(u) : u;
    }
  }
  const target = new Float64Array(count * n);
  system.accelerations(q, qd, target, count);
  return { q: Float32Array.from(q), qd: Float32Array.from(qd), target: Float32Array.from(target) };
}
