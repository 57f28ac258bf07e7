import type { System } from '../core/types.js';
import { membraneModeFrequency } from './Membrane.js';

/**
 * Closed-form angular frequencies of the normal modes of a membrane (id `membrane`):
 * ω_jk = (2c/h) √(sin²(jπ/(2(nx+1))) + sin²(kπ/(2(ny+1)))), c = √(τ/ρ), j = 1 … nx, k = 1 … ny, indexed
 * like q: entry (k−1)·nx + (j−1) (not sorted; degenerate pairs such as (j, k) and (k, j) on a square grid
 * are both listed). Mode (j, k) has the shape of `membraneModeShape`.
 * @param system a `membrane` system (its `nx`, `ny`, `spacing`, `density`, `tension` are read)
 * @returns `[nx * ny]` frequencies in rad per unit time
 * @throws Error when `system` is not a membrane
 * @example membraneModeFrequencies(createSystem('membrane', { nx: 4, ny: 3 }))[0] // ω_11
 */
export function membraneModeFrequencies(system: System): Float64Array {
  if (system.id !== 'membrane') {
    throw new Error(`membraneModeFrequencies: expected a 'membrane' system, got '${system.id}'.`);
  }
  const { nx, ny, spacing: h, density: rho, tension: tau } = system.params;
  const c = Math.sqrt(tau / rho);
  const out = new Float64Array(nx * ny);
  for (let k = 1; k <= ny; k++) {
    for (let j = 1; j <= nx; j++) out[(k - 1) * nx + j - 1] = membraneModeFrequency(nx, ny, j, k, h, c);
  }
  return out;
}
