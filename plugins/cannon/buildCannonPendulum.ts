import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { linkAngles } from './linkAngles.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The simple pendulum built from cannon-es bodies: a static pivot and a sphere of mass m on a distance
 * constraint of length l, damping 0, the constraint tuned for the substep. The world's gravity must be
 * (0, −g, 0).
 * @param params the system's parameters (`m, l, g`) or a `simple-pendulum` System
 * @example const p = buildCannonPendulum(world, { l: 2 }, { q0: [1] });
 */
export function buildCannonPendulum(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonPendulum';
  const system = resolveSystem(where, 'simple-pendulum', params);
  const o = resolveCannonBuildOptions(options);
  const { m, g } = system.params;
  const links = [[0, 1]] as const;
  const angles = linkAngles(links, [0]);
  return createCannonSystem(world, system, { masses: [0, m], rods: links, g, ...angles }, o, where);
}
