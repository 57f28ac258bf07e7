import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The string (discretised wave equation) built from cannon-es bodies: N spheres of mass ρΔx between two
 * static ends, neighbours joined by zero-rest-length springs of stiffness τ/Δx with damping 0, moving
 * along y only. With motion locked to y, a zero-length spring pulls exactly τ(q_{i+1} − q_i)/Δx, so the
 * forces are those of the discrete string and cannon's semi-implicit Euler integrates the exact
 * equations. The world's gravity is cancelled on these bodies (the string has none).
 * @param params the system's parameters (`nodes, spacing, density, tension`) or a `string` System
 * @example const s = buildCannonString(world, { nodes: 32 }, { q0: modeShape });
 */
export function buildCannonString(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonString';
  const system = resolveSystem(where, 'string', params);
  const o = resolveCannonBuildOptions(options);
  const { spacing, density, tension } = system.params;
  const n = system.dof;
  const masses = [0, ...new Array<number>(n).fill(density * spacing), 0];
  const pairs = Array.from({ length: n + 1 }, (_, i) => [i, i + 1] as const);
  return createCannonSystem(
    world,
    system,
    {
      masses,
      rods: [],
      springs: { pairs, stiffness: tension / spacing },
      linearFactor: [0, 1, 0],
      cancelGravity: true,
      readQ: (points, q) => {
        for (let i = 0; i < n; i++) q[i] = points[3 * (i + 1) + 1];
      },
    },
    o,
    where,
  );
}
