import type { World } from 'cannon-es';

/**
 * Advance a cannon-es world by `dt` as `substeps` fixed steps of `dt / substeps`. Unlike
 * `world.step(dt, timeSinceLastCalled, maxSubSteps)`, whose wall-clock bail-out drops steps under load,
 * the result depends only on the inputs.
 * @example stepCannon(world, 1 / 60, pendulum.substeps);
 */
export function stepCannon(world: World, dt: number, substeps = 10): void {
  if (!(Number.isFinite(dt) && dt > 0))
    throw new Error(`stepCannon: dt must be a finite number > 0, got ${dt}`);
  if (!(Number.isInteger(substeps) && substeps >= 1)) {
    throw new Error(`stepCannon: substeps must be an integer ≥ 1, got ${substeps}`);
  }
  const h = dt / substeps;
  for (let i = 0; i < substeps; i++) world.step(h);
}
