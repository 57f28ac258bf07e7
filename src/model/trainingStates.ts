import { createRng, uniform } from '../math/random.js';
import type { LoadedModel } from './metadata.js';

/**
 * `count` states drawn with `createRng(seed)` uniformly from the model's training box
 * (`metadata.trainingRanges`, per coordinate; a coordinate beyond the listed ones takes the last
 * entry). Without a box: q in [−π, π) for angles and [−1, 1) otherwise, q̇ in [−0.5, 0.5). Pure.
 * @returns q, qd `[count * dof]`
 */
export function trainingBoxStates(
  model: LoadedModel,
  dof: number,
  count: number,
  seed: number,
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
