import { describe, expect, it } from 'vitest';
import { choleskyFactor, choleskySolve } from '../src/linalg/cholesky';
import { luSolve } from '../src/linalg/luSolve';
import { SymmetricSolver } from '../src/linalg/SymmetricSolver';
import { symmetricEigenvalues } from '../src/linalg/symmetricEigenvalues';
import { createRng, normal } from '../src/math/random';

/** A random symmetric positive definite matrix BᵀB + n I. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const b = Float64Array.from({ length: n * n }, () => normal(rng));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += b[k * n + i] * b[k * n + j];
      a[i * n + j] = s;
    }
  return a;
}

function residual(a: Float64Array, x: Float64Array, b: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++) {
    let s = -b[i];
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    worst = Math.max(worst, Math.abs(s));
  }
  return worst;
}

describe('dense solvers', () => {
  for (const n of [1, 2, 7, 64]) {
    it(`Cholesky solves an SPD system of size ${n}`, () => {
      const a = randomSpd(n, n);
      const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const l = a.slice();
      expect(choleskyFactor(l, n), 'factorisation succeeds').toBe(true);
      const x = new Float64Array(n);
      choleskySolve(l, b, x, n);
      expect(residual(a, x, b, n), 'residual').toBeLessThan(1e-12 * n * n);
    });
  }

  it('Cholesky rejects an indefinite matrix; LU solves it', () => {
    const a = Float64Array.of(1, 2, 2, 1);
    expect(choleskyFactor(a.slice(), 2), 'indefinite').toBe(false);
    const x = new Float64Array(2);
    expect(luSolve(a.slice(), Float64Array.of(3, 3), x, 2), 'LU succeeds').toBe(true);
    expect(Array.from(x), 'x').toEqual([1, 1]);
  });

  it('LU with pivoting solves a system with a zero leading entry', () => {
    const a = Float64Array.of(0, 1, 1, 1, 0, 2, 3, 1, 0);
    const xTrue = Float64Array.of(1, -2, 0.5);
    const b = new Float64Array(3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) b[i] += a[i * 3 + j] * xTrue[j];
    const x = new Float64Array(3);
    expect(luSolve(a.slice(), b.slice(), x, 3), 'solved').toBe(true);
    for (let i = 0; i < 3; i++) expect(x[i], `x${i}`).toBeCloseTo(xTrue[i], 13);
  });

  it('SymmetricSolver picks Cholesky, then LU, and throws on a singular matrix', () => {
    const s = new SymmetricSolver(2);
    const x = new Float64Array(2);
    s.solve(Float64Array.of(2, 1, 1, 3), Float64Array.of(1, 2), x);
    expect(s.lastMethod, 'SPD').toBe('cholesky');
    expect(x[0], 'x0').toBeCloseTo(0.2, 14);
    expect(x[1], 'x1').toBeCloseTo(0.6, 14);
    s.solve(Float64Array.of(0, 1, 1, 0), Float64Array.of(1, 2), x);
    expect(s.lastMethod, 'indefinite').toBe('lu');
    expect(Array.from(x), 'swap').toEqual([2, 1]);
    expect(() => s.solve(Float64Array.of(1, 1, 1, 1), Float64Array.of(1, 2), x), 'singular').toThrow(
      /singular/,
    );
    expect(() => s.solve(Float64Array.of(Number.NaN, 0, 0, 1), Float64Array.of(1, 2), x), 'NaN').toThrow(
      /not finite/,
    );
  });
});

describe('symmetricEigenvalues', () => {
  it('finds the closed-form spectrum of the tridiagonal Toeplitz matrix tridiag(−1, 2, −1)', () => {
    for (const n of [1, 5, 40]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        a[i * n + i] = 2;
        if (i + 1 < n) {
          a[i * n + i + 1] = -1;
          a[(i + 1) * n + i] = -1;
        }
      }
      const ev = symmetricEigenvalues(a, n);
      for (let k = 1; k <= n; k++) {
        const exact = 2 - 2 * Math.cos((k * Math.PI) / (n + 1));
        expect(Math.abs(ev[k - 1] - exact), `n=${n}, k=${k}`).toBeLessThan(1e-13);
      }
    }
  });

  it('eigenvalues of an SPD matrix sum to its trace and multiply to its determinant', () => {
    const a = randomSpd(3, 9);
    const ev = symmetricEigenvalues(a, 3);
    const trace = a[0] + a[4] + a[8];
    const det =
      a[0] * (a[4] * a[8] - a[5] * a[7]) -
      a[1] * (a[3] * a[8] - a[5] * a[6]) +
      a[2] * (a[3] * a[7] - a[4] * a[6]);
    expect(ev[0] + ev[1] + ev[2], 'trace').toBeCloseTo(trace, 10);
    expect((ev[0] * ev[1] * ev[2]) / det, 'determinant').toBeCloseTo(1, 12);
    expect(ev[0] <= ev[1] && ev[1] <= ev[2], 'ascending').toBe(true);
  });
});
