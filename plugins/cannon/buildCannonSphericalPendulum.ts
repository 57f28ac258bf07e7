import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The spherical pendulum built from cannon-es bodies: a static pivot and a sphere of mass m held at
 * distance l by a distance constraint (a ball-and-socket joint on a rigid rod), free in all three
 * directions, damping 0. q is read back in the tilt–swing chart, α = asin(z/r), β = atan2(x, −y) with β
 * unwrapped against the previous reading. The world's gravity must be (0, −g, 0).
 * @param params the system's parameters (`m, l, g`) or a `spherical-pendulum` System
 * @example const p = buildCannonSphericalPendulum(world, { l: 1.5 }, { q0: [0.3, 0.5], qd0: [0, 2] });
 */
export function buildCannonSphericalPendulum(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonSphericalPendulum';
  const system = resolveSystem(where, 'spherical-pendulum', params);
  const o = resolveCannonBuildOptions(options);
  const { m, g } = system.params;
  const twoPi = 2 * Math.PI;
  let lastBeta = o.q0?.[1] ?? 0;
  const readQ = (p: Float64Array, q: Float64Array): void => {
    const dx = p[3] - p[0];
    const dy = p[4] - p[1];
    const dz = p[5] - p[2];
    const r = Math.hypot(dx, dy, dz) || 1;
    const raw = Math.atan2(dx, -dy);
    const beta = raw + twoPi * Math.round((lastBeta - raw) / twoPi);
    lastBeta = beta;
    q[0] = Math.asin(Math.max(-1, Math.min(1, dz / r)));
    q[1] = beta;
  };
  const reset = (q: ArrayLike<number>): void => {
    lastBeta = q[1] ?? 0;
  };
  return createCannonSystem(
    world,
    system,
    { masses: [0, m], rods: [[0, 1]], g, linearFactor: [1, 1, 1], readQ, reset },
    o,
    where,
  );
}
