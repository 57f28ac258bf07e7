import { describe, expect, it } from 'vitest';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { createRng, uniform } from '../src/math/random';
import { createRandomModel, type RandomModelOptions } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { createFusedLnn } from '../src/nn/jsLnn';

/** Random states: angles spread over several turns (exercises wrapping), velocities in ±10. */
function states(n: number, batch: number, seed: number) {
  const rng = createRng(seed);
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let i = 0; i < q.length; i++) {
    q[i] = uniform(rng, -9, 9);
    qd[i] = uniform(rng, -10, 10);
  }
  return { q, qd };
}

const cases: [string, RandomModelOptions][] = [
  ['double pendulum shape 4→128→128→1 softplus', { dof: 2, hidden: [128, 128], seed: 3 }],
  [
    'n = 3, three hidden layers, biases, scales',
    { dof: 3, hidden: [32, 48, 40], seed: 5, biasStd: 0.3, qScale: 0.7, qdScale: 0.2, outputScale: 4 },
  ],
  ['n = 1, tanh, one hidden layer', { dof: 1, hidden: [64], activation: 'tanh', seed: 7, biasStd: 0.5 }],
  [
    'n = 4 (two tangent groups), tanh',
    { dof: 4, hidden: [24, 24], activation: 'tanh', seed: 9, biasStd: 0.1 },
  ],
];

describe('fused plain-JS LNN q̈ (the js route)', () => {
  for (const [label, opts] of cases) {
    it(`equals the float64 reference (float64, up to summation order): ${label}`, () => {
      const model = createRandomModel(opts);
      const n = model.metadata.dof;
      const batch = 40;
      const { q, qd } = states(n, batch, 11);
      const ref = new Float64Array(batch * n);
      const refFlags = new Uint8Array(batch);
      referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });
      const fused = createFusedLnn(model);
      const out = new Float64Array(batch * n);
      fused.accelerations(q, qd, out, batch);
      let compared = 0;
      for (let b = 0; b < batch; b++) {
        // A state whose H_vv sits at the definiteness threshold may be regularised by one and not the other.
        if (fused.flags[b] !== refFlags[b]) continue;
        compared++;
        let scale = 1;
        for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref[b * n + i]));
        for (let i = 0; i < n; i++) {
          const err = Math.abs(out[b * n + i] - ref[b * n + i]) / scale;
          expect(
            err,
            `state ${b}, q̈_${i}: fused ${out[b * n + i]} vs reference ${ref[b * n + i]}`,
          ).toBeLessThan(1e-9);
        }
      }
      expect(compared, 'states with the same solve flag').toBeGreaterThan(batch * 0.9);
      expect(out.every(Number.isFinite), 'all q̈ finite').toBe(true);
    });
  }

  it('reports a failed solve for a non-finite state (q̈ = 0, flag 2) instead of NaN', () => {
    const fused = createFusedLnn(createRandomModel({ seed: 2 }));
    const q = Float64Array.of(0.1, Number.NaN, 0.3, 0.2);
    const qd = Float64Array.of(0, 1, 0.5, -1);
    const out = new Float64Array(4);
    fused.accelerations(q, qd, out, 2);
    expect(fused.flags[0], 'NaN state flagged failed').toBe(2);
    expect([out[0], out[1]], 'NaN state gets q̈ = 0').toEqual([0, 0]);
    expect(fused.flags[1], 'finite state not failed').toBeLessThan(2);
    expect(fused.lastBad, 'flagged states counted').toBeGreaterThanOrEqual(1);
  });

  it('drives RK4 along the reference trajectory', () => {
    const model = createRandomModel({ seed: 4, hidden: [32, 32], biasStd: 0.2 });
    const fused = createFusedLnn(model);
    const rk4a = new RungeKutta4();
    const rk4b = new RungeKutta4();
    const q1 = Float64Array.of(0.3, -0.2);
    const v1 = Float64Array.of(0.1, 0.05);
    const q2 = q1.slice();
    const v2 = v1.slice();
    const refFn = (q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number) =>
      void referenceAccelerations(model, q, qd, qdd, batch);
    // A random network's dynamics are not physical (H_vv is often regularised), so compare a short run.
    for (let s = 0; s < 12; s++) {
      rk4a.step(fused.accelerations, q1, v1, 2, 1, 1 / 120);
      rk4b.step(refFn, q2, v2, 2, 1, 1 / 120);
    }
    for (let i = 0; i < 2; i++) {
      const rel = Math.abs(q1[i] - q2[i]) / Math.max(1, Math.abs(q2[i]));
      const relV = Math.abs(v1[i] - v2[i]) / Math.max(1, Math.abs(v2[i]));
      expect(rel, `q_${i} after 12 steps: ${q1[i]} vs ${q2[i]}`).toBeLessThan(1e-9);
      expect(relV, `q̇_${i} after 12 steps: ${v1[i]} vs ${v2[i]}`).toBeLessThan(1e-9);
    }
  });

  it('rejects models it cannot evaluate with a clear message', () => {
    expect(() => createFusedLnn(createRandomModel({ kind: 'baseline' }))).toThrow(/lnn models only/);
    expect(() => createFusedLnn(createRandomModel({ kind: 'baseline', activation: 'relu' }))).toThrow(/lnn/);
  });
});
