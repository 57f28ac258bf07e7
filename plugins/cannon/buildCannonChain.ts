import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { linkAngles } from './linkAngles.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The N-link planar chain built from cannon-es bodies: a static pivot and N spheres of mass m joined by
 * distance constraints of length l, damping 0, constraints tuned for the substep. Long chains need more
 * solver iterations (`world.solver.iterations`) or substeps to stay stiff. The world's gravity must be
 * (0, −g, 0).
 * @param params the system's parameters (`links, m, l, g`) or a `chain` System
 * @example const chain = buildCannonChain(world, { links: 8 }, { q0: new Array(8).fill(1) });
 */
export function buildCannonChain(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonChain';
  const system = resolveSystem(where, 'chain', params);
  const o = resolveCannonBuildOptions(options);
  const { m, g } = system.params;
  const n = system.dof;
  const links = Array.from({ length: n }, (_, i) => [i, i + 1] as const);
  const masses = [0, ...new Array<number>(n).fill(m)];
  const angles = linkAngles(links, new Array<number>(n).fill(0));
  return createCannonSystem(world, system, { masses, rods: links, g, ...angles }, o, where);
}
