import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { linkAngles } from './linkAngles.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The double pendulum built from cannon-es bodies: a static pivot, two spheres of masses m1, m2 joined by
 * distance constraints of lengths l1, l2, damping 0, constraints tuned for the substep. The world's gravity
 * must be (0, −g, 0).
 * @param params the system's parameters (`m1, m2, l1, l2, g`) or a `double-pendulum` System
 * @example
 * const world = new World({ gravity: new Vec3(0, -9.8, 0) });
 * const dp = buildCannonDoublePendulum(world, {}, { q0: [2, 1] });
 * stepCannon(world, 1 / 60, dp.substeps); dp.readState(q, qd);
 */
export function buildCannonDoublePendulum(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonDoublePendulum';
  const system = resolveSystem(where, 'double-pendulum', params);
  const o = resolveCannonBuildOptions(options);
  const { m1, m2, g } = system.params;
  const links = [
    [0, 1],
    [1, 2],
  ] as const;
  const angles = linkAngles(links, [0, 0]);
  return createCannonSystem(world, system, { masses: [0, m1, m2], rods: links, g, ...angles }, o, where);
}
