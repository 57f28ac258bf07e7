/**
 * One parity suite for every Node route of the learned engines: each route × model kind against the
 * float64 reference (`src/model/reference.ts`), with the route's tolerance (float64 for `js`, float32 for
 * the TF.js routes), plus RK4 advances that stay on the route and leave no tensor behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/core/types';
import { BaselineEngine } from '../src/engines/BaselineEngine';
import { LGNEngine } from '../src/engines/LGNEngine';
import { LNNEngine } from '../src/engines/LNNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { type BackendName, initBackend } from '../src/learned/backend';
import type { LearnedEngine } from '../src/learned/LearnedEngine';
import type { LearnedEngineOptions } from '../src/learned/options';
import type { RouteName } from '../src/learned/Route';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';
import { randomStringLgn } from './support/models';

/** The routes Node has: name, the engine backend that offers it, tolerance against the reference. */
const ROUTES: { route: RouteName; backend: BackendName; tol: number; precision: string }[] = [
  { route: 'js', backend: 'wasm', tol: 1e-9, precision: 'float64' },
  { route: 'wasm', backend: 'wasm', tol: 1e-3, precision: 'float32' },
  { route: 'cpu', backend: 'cpu', tol: 1e-3, precision: 'float32' },
  { route: 'wasm', backend: 'cpu', tol: 1e-3, precision: 'float32' },
];

type Load = (model: LoadedModel, system: System, options: LearnedEngineOptions) => Promise<LearnedEngine>;

/** The model kinds: a model, its system and its engine. */
const KINDS: { kind: string; model: () => LoadedModel; system: () => System; load: Load }[] = [
  {
    kind: 'lnn',
    model: () => createRandomModel({ seed: 12, hidden: [32, 32], biasStd: 0.2 }),
    system: () => createSystem('double-pendulum'),
    load: (m, s, o) => LNNEngine.load(m, s, o),
  },
  {
    kind: 'baseline',
    model: () => createRandomModel({ kind: 'baseline', hidden: [16, 16], seed: 4 }),
    system: () => createSystem('double-pendulum'),
    load: (m, s, o) => BaselineEngine.load(m, s, o),
  },
  {
    kind: 'lgn',
    model: () => randomStringLgn(),
    system: () => createSystem('string', { nodes: 4 }),
    load: (m, s, o) => LGNEngine.load(m, s, o),
  },
];

describe.each(ROUTES)('route $route on a $backend engine', ({ route, backend, tol, precision }) => {
  beforeAll(async () => {
    expect((await initBackend({ backend })).name, 'backend').toBe(backend);
  });

  it.each(KINDS)(
    '$kind: q̈ equals the float64 reference, RK4 advances stay on the route, dispose frees tensors',
    async ({ kind, model: makeModel, system: makeSystem, load }) => {
      const model = makeModel();
      const system = makeSystem();
      const n = system.dof;
      const batch = 6;
      const q = Float64Array.from(
        { length: n * batch },
        (_, i) => Math.sin(3 * i) * (kind === 'lgn' ? 0.4 : 4),
      );
      const qd = Float64Array.from(
        { length: n * batch },
        (_, i) => Math.cos(5 * i) * (kind === 'lgn' ? 0.5 : 8),
      );
      const ref = new Float64Array(n * batch);
      const refFlags = new Uint8Array(batch);
      referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });

      const before = tf.memory().numTensors;
      const engine = await load(model, system, { backend, route });
      expect(engine.route, 'setting').toBe(route);
      expect(engine.routeFor(10_000), 'a forced route ignores the batch size').toBe(route);
      expect(engine.routeTimings, 'no timing when a route is forced').toEqual([]);
      expect(engine.describeRoute(batch), 'described').toEqual({
        route,
        backend: route === 'js' ? 'js' : route,
        precision,
      });
      const out = new Float64Array(n * batch);
      engine.accelerations(q, qd, out, batch);
      expect(engine.lastReport.route, 'reported route').toBe(route);
      expect(engine.lastReport.backend, 'reported backend').toBe(route === 'wasm' ? 'wasm' : backend);
      for (let b = 0; b < batch; b++) {
        if (engine.lastReport.flags[b] !== refFlags[b]) continue;
        let scale = 1;
        for (let i = b * n; i < (b + 1) * n; i++) scale = Math.max(scale, Math.abs(ref[i]));
        for (let i = b * n; i < (b + 1) * n; i++) {
          expect(
            Math.abs(out[i] - ref[i]) / scale,
            `${kind} × ${route}: q̈[${i}] ${out[i]} vs ${ref[i]}`,
          ).toBeLessThan(tol);
        }
      }
      const q1 = q.slice();
      const v1 = qd.slice().map((v) => v * 0.01);
      const rk4 = new RungeKutta4();
      for (let s = 0; s < 20; s++) {
        engine.advance(q1, v1, batch, 1 / 240, rk4, 2);
        expect(engine.lastReport.route, 'every advance on the route').toBe(route);
      }
      expect(q1.every(Number.isFinite), 'state finite after 40 RK4 steps').toBe(true);
      engine.dispose();
      expect(tf.memory().numTensors, 'tensors freed after dispose').toBe(before);
      expect(tf.getBackend(), 'the engine backend is active again').toBe(backend);
    },
  );
});
