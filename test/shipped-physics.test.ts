/**
 * Physics the shipped models must keep beyond their stored metrics, run through the engines a user gets.
 */
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../src/engines/learned';
import { createEngine } from '../src/engines/registry';
import { createIntegrator } from '../src/integrators/registry';
import { loadModel } from '../src/model/loadModel';
import { createSystem } from '../src/systems/registry';

const models = resolve(import.meta.dirname, '..', 'assets', 'models');

describe('relativistic-lnn: the speed bound holds far outside the protocol', () => {
  it('300 s from |q̇₀| up to 0.9999 c, q carried to ±300 (3× beyond the training box): |q̇| < 1, finite', async () => {
    const model = await loadModel(join(models, 'relativistic-lnn'));
    const system = createSystem('relativistic-particle', model.metadata.system.params);
    const engine = await createEngine('lnn', system, { model, route: 'js' });
    const v0 = [-0.9999, -0.999, -0.99, -0.5, 0, 0.99, 0.999, 0.9999];
    const batch = v0.length;
    const q = new Float64Array(batch);
    const qd = Float64Array.from(v0);
    const rk4 = createIntegrator('rk4');
    const dt = 0.01;
    let maxSpeed = 0;
    let qMin = 0;
    let qMax = 0;
    for (let s = 0; s < 30_000; s++) {
      engine.step(q, qd, batch, dt, rk4);
      for (let b = 0; b < batch; b++) {
        maxSpeed = Math.max(maxSpeed, Math.abs(qd[b]));
        qMin = Math.min(qMin, q[b]);
        qMax = Math.max(qMax, q[b]);
      }
    }
    engine.dispose();
    expect(Number.isFinite(maxSpeed), 'finite speeds').toBe(true);
    expect(maxSpeed, `max |q̇| ${maxSpeed}`).toBeLessThan(1);
    // The runs must really leave the training box q ∈ [−10, 110) on both sides for this to mean anything.
    expect(qMin, 'q reaches far below the box').toBeLessThan(-200);
    expect(qMax, 'q reaches far above the box').toBeGreaterThan(200);
  });
});
