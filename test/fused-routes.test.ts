import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/backend/backend';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { autoSelectBackend, createFusedRoute } from '../src/nn/fusedRoutes';

describe('fused routes and autoSelectBackend (Node)', () => {
  const model = createRandomModel({ seed: 12, hidden: [32, 32], biasStd: 0.2 });
  const batch = 6;
  const q = Float64Array.from({ length: 2 * batch }, (_, i) => Math.sin(3 * i) * 4);
  const qd = Float64Array.from({ length: 2 * batch }, (_, i) => Math.cos(5 * i) * 8);
  const ref = new Float64Array(2 * batch);
  const refFlags = new Uint8Array(batch);
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });
  });

  for (const name of ['js', 'wasm'] as const) {
    it(`route ${name}: q̈ equals the float64 reference (float32 tolerance) and frees its tensors`, () => {
      const before = tf.memory().numTensors;
      const route = createFusedRoute(model, name);
      const out = new Float64Array(2 * batch);
      route.accelerations(q, qd, out, batch);
      for (let b = 0; b < batch; b++) {
        if (route.flags[b] !== refFlags[b]) continue;
        const scale = Math.max(1, Math.abs(ref[2 * b]), Math.abs(ref[2 * b + 1]));
        for (let i = 2 * b; i < 2 * b + 2; i++) {
          expect(Math.abs(out[i] - ref[i]) / scale, `${name} q̈[${i}] ${out[i]} vs ${ref[i]}`).toBeLessThan(
            1e-3,
          );
        }
      }
      const q1 = q.slice();
      const v1 = qd.slice().map((v) => v * 0.01);
      for (let s = 0; s < 50; s++) route.advance(q1, v1, batch, 1 / 240, 2);
      expect(q1.every(Number.isFinite), 'state finite after 100 RK4 steps').toBe(true);
      route.dispose();
      expect(tf.memory().numTensors, 'tensors freed after dispose').toBe(before);
    });
  }

  it('autoSelectBackend times the candidates and returns the fastest, with rates for each', () => {
    const choice = autoSelectBackend(model, 4, { candidates: ['js', 'wasm'], budgetMs: 20 });
    expect(Object.keys(choice.rates).sort(), 'both candidates timed').toEqual(['js', 'wasm']);
    const best = Math.max(...Object.values(choice.rates).map(Number));
    expect(choice.rates[choice.name], 'chosen route has the best rate').toBe(best);
    expect(choice.summary.startsWith(choice.name), `summary names the choice first: ${choice.summary}`).toBe(
      true,
    );
    choice.route.dispose();
  });

  it('autoSelectBackend honours an override and names unavailable routes', () => {
    const choice = autoSelectBackend(model, 4, { override: 'js' });
    expect(choice.name).toBe('js');
    expect(choice.overridden).toBe(true);
    expect(() => autoSelectBackend(model, 4, { override: 'webgl-fused' }), 'no webgl in Node').toThrow(
      /webgl/,
    );
  });
});
