import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { type CannonBuildOptions, resolveCannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';
import { createCannonSystem } from './createCannonSystem.js';
import { resolveSystem } from './resolveSystem.js';

/**
 * The double spherical pendulum built from cannon-es bodies: a static pivot and two spheres of masses m1,
 * m2, each held by a distance constraint (pivot–bob1 of length l1, bob1–bob2 of length l2): two
 * ball-and-socket rods free in all three directions, damping 0. q is read back per rod in the tilt–swing
 * chart with absolute angles (docs/systems3d.md): for the rod from a to b, α = asin(Δz/|Δ|),
 * β = atan2(Δx, −Δy) with β unwrapped against the previous reading. The world's gravity must be (0, −g, 0).
 * @param params the system's parameters (`m1, m2, l1, l2, g`) or a `double-spherical-pendulum` System
 * @example
 * const world = new World({ gravity: new Vec3(0, -9.8, 0) });
 * const dsp = buildCannonDoubleSphericalPendulum(world, {}, { dt: 1 / 120, q0: [0.2, 0.5, -0.3, 0.8] });
 * stepCannon(world, 1 / 120, dsp.substeps); dsp.readState(q, qd); // q, qd: [4]
 */
export function buildCannonDoubleSphericalPendulum(
  world: World,
  params: Partial<Record<string, number>> | System = {},
  options: CannonBuildOptions = {},
): CannonSystem {
  const where = 'buildCannonDoubleSphericalPendulum';
  const system = resolveSystem(where, 'double-spherical-pendulum', params);
  const o = resolveCannonBuildOptions(options);
  const { m1, m2, g } = system.params;
  const rods = [
    [0, 1],
    [1, 2],
  ] as const;
  const twoPi = 2 * Math.PI;
  // β of each rod, the unwrapping reference.
  const lastBeta = new Float64Array(2);
  const reset = (q: ArrayLike<number>): void => {
    lastBeta[0] = q[1] ?? 0;
    lastBeta[1] = q[3] ?? 0;
  };
  reset(o.q0 ?? []);
  const readQ = (p: Float64Array, q: Float64Array): void => {
    for (let k = 0; k < 2; k++) {
      const [a, b] = rods[k];
      const dx = p[3 * b] - p[3 * a];
      const dy = p[3 * b + 1] - p[3 * a + 1];
      const dz = p[3 * b + 2] - p[3 * a + 2];
      const r = Math.hypot(dx, dy, dz) || 1;
      const raw = Math.atan2(dx, -dy);
      const beta = raw + twoPi * Math.round((lastBeta[k] - raw) / twoPi);
      lastBeta[k] = beta;
      q[2 * k] = Math.asin(Math.max(-1, Math.min(1, dz / r)));
      q[2 * k + 1] = beta;
    }
  };
  return createCannonSystem(
    world,
    system,
    { masses: [0, m1, m2], rods, g, linearFactor: [1, 1, 1], readQ, reset },
    o,
    where,
  );
}
