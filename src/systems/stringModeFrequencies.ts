import type { System } from '../core/types.js';

/**
 * Closed-form angular frequencies of the normal modes of a discrete string (id `string`):
 * ω_k = 2 (c/Δx) sin(kπ / (2(N+1))), k = 1 … N, c = √(τ/ρ), ascending. Mode k has the shape
 * q_i ∝ sin(kπ i/(N+1)).
 * @param system a `string` system (its `nodes`, `spacing`, `density`, `tension` are read)
 * @returns `[N]` frequencies in rad per unit time
 * @throws Error when `system` is not a string
 * @example stringModeFrequencies(createSystem('string', { nodes: 4 }))
 */
export function stringModeFrequencies(system: System): Float64Array {
  if (system.id !== 'string') {
    throw new Error(`stringModeFrequencies: expected a 'string' system, got '${system.id}'.`);
  }
  const { nodes: n, spacing: dx, density: rho, tension: tau } = system.params;
  const c = Math.sqrt(tau / rho);
  const out = new Float64Array(n);
  for (let k = 1; k <= n; k++) out[k - 1] = ((2 * c) / dx) * Math.sin((k * Math.PI) / (2 * (n + 1)));
  return out;
}
