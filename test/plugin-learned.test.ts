import * as tf from '@tensorflow/tfjs-core';
import { Mesh } from 'three';
import { describe, expect, it, vi } from 'vitest';
import { LNNPhysics } from '../plugins/three/index';
import { createRandomModel } from '../src/model/randomModel';

// Random-weight models stand in for trained ones: what is tested here is the plumbing (tensors freed,
// metadata checks, events), not the physics of the model.
const BACKEND = 'wasm';

describe('LNNPhysics with a learned engine', () => {
  it('dispose() brings tf.memory().numTensors back to its baseline', async () => {
    // Warm the backend up first so that its own one-time tensors are not counted.
    const warm = await LNNPhysics();
    await warm.addSystem('double-pendulum', { engine: 'lnn', model: createRandomModel(), backend: BACKEND });
    warm.stepN(1);
    warm.dispose();
    const baseline = tf.memory().numTensors;

    const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
    const dp = await physics.addSystem('double-pendulum', {
      name: 'dp',
      engine: 'lnn',
      model: createRandomModel({ seed: 2 }),
      backend: BACKEND,
      q0: [2, 1],
      count: 4,
    });
    await physics.addGhost(dp, {
      engine: 'baseline',
      model: createRandomModel({ kind: 'baseline', seed: 3 }),
    });
    physics.addMesh(new Mesh(), { system: 'dp', point: 2 });
    physics.createInstancedBobs(dp);
    expect(tf.memory().numTensors, 'weights are held while running').toBeGreaterThan(baseline);
    for (let f = 0; f < 30; f++) physics.step(1 / 60);
    expect(physics.world.stepCount).toBe(60);
    expect(Array.from(dp.handle.q).every(Number.isFinite), 'finite states').toBe(true);
    const during = tf.memory().numTensors;
    physics.step(1 / 60);
    expect(tf.memory().numTensors, 'no tensor leaks per step').toBe(during);
    physics.dispose();
    expect(tf.memory().numTensors, 'every tensor freed').toBe(baseline);
  });

  it('reports inputs outside the model’s training ranges', async () => {
    const physics = await LNNPhysics();
    const model = createRandomModel(); // trained box: θ ∈ [−π, π] (all angles), θ̇ ∈ [−10, 10]
    await physics.addSystem('double-pendulum', {
      name: 'dp',
      engine: 'lnn',
      model,
      backend: BACKEND,
      qd0: [0, 12],
    });
    const events: string[] = [];
    physics.on('outOfRange', (e) => events.push(`${e.coordinate}[${e.dim}] ${e.range.join('..')}`));
    physics.stepN(1);
    expect(events, 'θ̇₂ = 12 is outside [−10, 10]').toEqual(['qd[1] -10..10']);
    physics.dispose();
  });

  it('rejects a model of another system with a clear error and leaves nothing behind', async () => {
    const physics = await LNNPhysics();
    const before = tf.memory().numTensors;
    const chainModel = createRandomModel({ system: { id: 'chain', params: { links: 2 } } });
    const refused = physics.addSystem('double-pendulum', {
      engine: 'lnn',
      model: chainModel,
      backend: BACKEND,
    });
    await expect(refused).rejects.toThrow(/was trained on 'chain', not 'double-pendulum'/);
    await expect(refused, 'the same error as the core check').rejects.toMatchObject({
      name: 'ModelFormatError',
      problem: 'system-mismatch',
    });
    await expect(
      physics.addSystem('simple-pendulum', { engine: 'lnn', model: createRandomModel(), backend: BACKEND }),
    ).rejects.toThrow(/2 degrees of freedom.*'simple-pendulum' has 1/);
    await expect(physics.addSystem('double-pendulum', { engine: 'lnn', backend: BACKEND })).rejects.toThrow(
      /needs a model/,
    );
    expect(physics.systems.size, 'no system added').toBe(0);
    expect(tf.memory().numTensors, 'the rejected engine was disposed').toBe(before);
    physics.dispose();
  });
  it('refuses a model trained with other parameters by default, and runs it with outsideTraining: run', async () => {
    const physics = await LNNPhysics();
    const earth = createRandomModel({
      system: { id: 'double-pendulum', params: { g: 9.8, l1: 1, l2: 1, m1: 1, m2: 1 } },
    });
    const refused = physics.addSystem('double-pendulum', {
      engine: 'lnn',
      model: earth,
      backend: BACKEND,
      params: { g: 1.6 },
    });
    await expect(refused, 'a typed error by default').rejects.toMatchObject({
      name: 'ModelFormatError',
      problem: 'param-mismatch',
    });
    await expect(refused).rejects.toThrow(/g = 1\.6 \(trained on 9\.8\).*outsideTraining: 'run'/);
    expect(physics.systems.size, 'nothing added').toBe(0);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const moon = await physics.addSystem('double-pendulum', {
        name: 'moon',
        engine: 'lnn',
        model: earth,
        backend: BACKEND,
        params: { g: 1.6 },
        outsideTraining: 'run',
        q0: [1, 0],
      });
      expect(
        (moon.engine as unknown as { outsideTraining: readonly string[] }).outsideTraining,
        'the engine says what it runs outside of',
      ).toEqual(['g 1.6 ≠ 9.8']);
      const warnings = (moon.engine as unknown as { warnings: readonly string[] }).warnings;
      expect(warnings.join(' '), 'the warning stays on the engine').toMatch(
        /g = 1\.6 differs from the training value 9\.8; the model knows only the training value/,
      );
      expect(warn.mock.calls.flat().join(' '), 'and is printed').toMatch(/g = 1\.6 differs/);
      physics.stepN(2);
      expect(Number.isFinite(moon.handle.q[0]), 'it runs').toBe(true);
    } finally {
      warn.mockRestore();
      physics.dispose();
    }
  });
});
