import { describe, expect, it } from 'vitest';
import { EulerLagrangeSolver } from '../src/lagrangian/EulerLagrangeSolver';
import { symmetricEigenvalues } from '../src/linalg/symmetricEigenvalues';
import { createSystem } from '../src/systems/registry';
import { stringModeFrequencies } from '../src/systems/stringModeFrequencies';

const configs = [
  { nodes: 1 },
  { nodes: 16 },
  { nodes: 7, spacing: 0.3, density: 2, tension: 5 },
  { nodes: 48, spacing: 0.02, density: 0.5, tension: 1.5 },
];

describe('string normal modes', () => {
  for (const params of configs) {
    it(`eigenfrequencies of the linearised Euler–Lagrange dynamics equal ω_k (${JSON.stringify(params)})`, () => {
      const s = createSystem('string', params);
      const n = s.dof;
      // The dynamics are linear, q̈ = A q, so A's columns are q̈ at unit displacements (from L, via jets).
      const solver = new EulerLagrangeSolver((o, q, qd) => s.L(o, q, qd), n);
      const q = new Float64Array(n * n);
      for (let j = 0; j < n; j++) q[j * n + j] = 1;
      const cols = new Float64Array(n * n);
      solver.accelerations(q, new Float64Array(n * n), cols, n);
      // M⁻¹K = −A; M = ρΔx I, so −A is symmetric and its eigenvalues are ω².
      const minusA = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) minusA[i * n + j] = -cols[j * n + i];
      const w2 = symmetricEigenvalues(minusA, n);
      const exact = stringModeFrequencies(s);
      for (let k = 0; k < n; k++) {
        const w = Math.sqrt(w2[k]);
        expect(Math.abs(w - exact[k]) / exact[k], `mode ${k + 1}`).toBeLessThan(1e-10);
      }
    });
  }

  it('each standing wave sin(kπi/(N+1)) is an eigenvector of the closed-form q̈ with eigenvalue −ω_k²', () => {
    const s = createSystem('string', { nodes: 24, tension: 2 });
    const n = s.dof;
    const w = stringModeFrequencies(s);
    const q = new Float64Array(n);
    const qdd = new Float64Array(n);
    for (let k = 1; k <= n; k++) {
      for (let i = 0; i < n; i++) q[i] = Math.sin((k * Math.PI * (i + 1)) / (n + 1));
      s.accelerations(q, new Float64Array(n), qdd, 1);
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(qdd[i] + w[k - 1] ** 2 * q[i]));
      expect(err / w[n - 1] ** 2, `mode ${k}`).toBeLessThan(1e-13);
    }
  });

  it('the local physics does not depend on N: an interior node sees the same q̈ on short and long strings', () => {
    const short = createSystem('string', { nodes: 5 });
    const long = createSystem('string', { nodes: 40 });
    const qs = Float64Array.of(0.1, -0.2, 0.05, 0.3, 0);
    const ql = new Float64Array(40);
    ql.set(qs.subarray(0, 4), 10);
    const as = new Float64Array(5);
    const al = new Float64Array(40);
    short.accelerations(qs, new Float64Array(5), as, 1);
    long.accelerations(ql, new Float64Array(40), al, 1);
    expect(al[11], 'node with the same neighbours').toBeCloseTo(as[1], 12);
    expect(al[12], 'node with the same neighbours').toBeCloseTo(as[2], 12);
  });

  it('stringModeFrequencies rejects other systems', () => {
    expect(() => stringModeFrequencies(createSystem('double-pendulum'))).toThrow(
      /expected a 'string' system/,
    );
  });
});
