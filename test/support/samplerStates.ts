import type { AccelerationFn, Engine, System } from '../../src/core/types';
import { createRng } from '../../src/math/random';

/** An engine's q̈ as an `AccelerationFn` (for `rollout` and the protocols). */
export const accelerationsOf =
  (e: Engine): AccelerationFn =>
  (q, qd, qdd, b) =>
    e.accelerations(q, qd, qdd, b);

/** `count` states from the system's sampler with seed `seed`: `[count * dof]` each. */
export function sampledStates(system: System, count: number, seed: number) {
  const n = system.dof;
  const rng = createRng(seed);
  const q = new Float64Array(count * n);
  const qd = new Float64Array(count * n);
  for (let b = 0; b < count; b++)
    system.sample(rng, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
  return { q, qd };
}
