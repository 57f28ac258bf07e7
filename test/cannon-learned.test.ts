import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { Body, Box, Plane, Sphere, Vec3, World } from 'cannon-es';
import { describe, expect, it } from 'vitest';
import { attachLagrangian } from '../plugins/cannon/index';
import '../src/engines/learned';
import { createEngine } from '../src/engines/registry';
import { createIntegrator } from '../src/integrators/registry';
import { createRandomModel } from '../src/model/randomModel';
import { createSystem } from '../src/systems/registry';

// The shipped double-pendulum model when it is present, else a random-weight LNN standing in for it: the
// test is that cannon-es runs a learned Lagrangian system among its own bodies and that the bodies follow
// exactly that model's dynamics.
const BACKEND = 'wasm';
const SHIPPED = join(dirname(fileURLToPath(import.meta.url)), '../assets/models/double-pendulum-lnn');

describe('a learned double pendulum in a cannon-es scene', () => {
  it('swings by the learned dynamics while ordinary bodies fall, collide and rest under cannon', async () => {
    const world = new World({ gravity: new Vec3(0, -9.8, 0) });
    const ground = new Body({ mass: 0, shape: new Plane() });
    ground.quaternion.setFromEuler(-Math.PI / 2, 0, 0);
    world.addBody(ground);
    const crate = new Body({
      mass: 2,
      shape: new Box(new Vec3(0.25, 0.25, 0.25)),
      position: new Vec3(3, 1.5, 0),
    });
    const ball = new Body({ mass: 1, shape: new Sphere(0.2), position: new Vec3(-3, 2, 0) });
    const stacked = new Body({ mass: 1, shape: new Sphere(0.2), position: new Vec3(3, 3, 0) }); // lands on the crate
    for (const b of [crate, ball, stacked]) world.addBody(b);
    const bobs = [0, 1].map(() => {
      const b = new Body({ mass: 1, shape: new Sphere(0.1) });
      world.addBody(b);
      return b;
    });

    const model = existsSync(join(SHIPPED, 'model.json')) ? SHIPPED : createRandomModel({ seed: 7 });
    console.log(
      `learned double pendulum model: ${typeof model === 'string' ? model : 'random weights (seed 7)'}`,
    );
    const origin = { x: 0, y: 3, z: 0 };
    const q0 = [2, 1];
    // Independent reference: the same model in its own engine, stepped by the same dt (created first, so
    // the backend is up before the tensor count is taken).
    const system = createSystem('double-pendulum');
    // Both engines pinned to one route: with route 'auto' each times the routes on load, and on a busy
    // machine one may pick float64 JS and the other float32 tensors.
    const reference = await createEngine('lnn', system, { model, backend: BACKEND, route: BACKEND });
    const tensorsBefore = tf.memory().numTensors;
    const attached = await attachLagrangian(world, {
      bodies: bobs,
      system: 'double-pendulum',
      engine: 'lnn',
      model,
      engineOptions: { backend: BACKEND, route: BACKEND },
      q0,
      origin,
    });
    expect(attached.engine.id).toBe('lnn');

    const rk4 = createIntegrator('rk4');
    const q = Float64Array.from(q0);
    const qd = new Float64Array(2);
    const points = new Float64Array(9);
    const h = 1 / 240;
    for (let i = 0; i < 480; i++) {
      world.step(h);
      reference.step(q, qd, 1, h, rk4);
      if (i % 40 === 39) {
        system.positions(q, points);
        for (const k of [1, 2]) {
          const p = bobs[k - 1].position;
          const err = Math.hypot(p.x - origin.x - points[3 * k], p.y - origin.y - points[3 * k + 1]);
          expect(err, `bob ${k} vs the learned trajectory at step ${i}`).toBeLessThan(1e-9);
        }
      }
    }
    expect(Array.from(attached.q).every(Number.isFinite), 'finite learned state').toBe(true);
    const moved = Math.hypot(attached.q[0] - q0[0], attached.q[1] - q0[1]);
    expect(moved, 'the learned pendulum swings').toBeGreaterThan(0.1);
    // cannon's own bodies: fell and came to rest on the ground and on each other.
    expect(ball.position.y, 'ball rests on the ground').toBeCloseTo(0.2, 1);
    expect(crate.position.y, 'crate rests on the ground').toBeCloseTo(0.25, 1);
    expect(stacked.position.y, 'ball rests on the crate').toBeCloseTo(0.7, 1);
    expect(ball.velocity.length(), 'at rest').toBeLessThan(0.05);

    attached();
    expect(tf.memory().numTensors, 'detach disposed the engine it created').toBe(tensorsBefore);
    reference.dispose();
  });
});
