import { pointVelocities, type System } from '../../src/index.js';

/**
 * Which points of `system.positions` never move (pivots, fixed string ends): points whose velocity is zero
 * for every unit q̇ at two unrelated configurations (one alone could be a singular pose).
 * @param q `[dof]` a configuration to test at (e.g. the initial one)
 * @returns `fixed[i]` is true when point i is fixed, `[pointCount]`
 */
export function fixedPoints(system: System, q: ArrayLike<number>): boolean[] {
  const n = system.dof;
  const pc = system.pointCount;
  const fixed = new Array<boolean>(pc).fill(true);
  const v = new Float64Array(pc * 3);
  const unit = new Float64Array(n);
  const configs = [
    Float64Array.from({ length: n }, (_, i) => q[i] ?? 0),
    Float64Array.from({ length: n }, (_, i) => (q[i] ?? 0) + 0.37 + 0.11 * i),
  ];
  for (const qc of configs) {
    for (let j = 0; j < n; j++) {
      unit.fill(0);
      unit[j] = 1;
      pointVelocities(system, qc, unit, v);
      for (let p = 0; p < pc; p++) {
        if (Math.abs(v[3 * p]) + Math.abs(v[3 * p + 1]) + Math.abs(v[3 * p + 2]) > 1e-9) fixed[p] = false;
      }
    }
  }
  return fixed;
}
