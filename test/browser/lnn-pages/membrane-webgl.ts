/**
 * Browser page for test/browser/membrane-webgl.test.ts: runs the shipped grid LGN (`membrane-lgn`) with
 * `LGNEngine` on the webgl backend on a 12 × 10 membrane — q̈ on every route of a webgl engine, the
 * resident grid kernel, a resident RK4 trajectory, a 100-step energy run, tensor counts — and times
 * RK4 steps (resident and per-stage) on 32 × 32 and 64 × 64 grids. Publishes on `window.__membraneWebgl`.
 */

import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import { LGNEngine } from '../../../src/engines/LGNEngine';
import { RungeKutta4 } from '../../../src/integrators/RungeKutta4';
import { initBackend } from '../../../src/learned/backend';
import type { RouteName } from '../../../src/learned/Route';
import { loadModel } from '../../../src/model/loadModel';
import type { LoadedModel } from '../../../src/model/metadata';
import { lgnAccelerations } from '../../../src/nn/lgn';
import { disposeParams, paramsFromModel, specFromModel } from '../../../src/nn/mlp';
import { createSystem } from '../../../src/systems/registry';
import { publishPage } from '../pages/publish.js';
import {
  energyCase,
  GRID,
  type MembraneWebglResult,
  membraneCase,
  type RouteQdd,
  type StepTiming,
  TRAJECTORY,
} from './membrane-cases';

declare global {
  interface Window {
    __membraneWebgl?: MembraneWebglResult | { error: string };
  }
}

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** q̈ of the membrane case on `route` of `engine`. */
function onRoute(engine: LGNEngine, route: RouteName): RouteQdd {
  const c = membraneCase();
  engine.route = route;
  const qdd = new Float64Array(c.q.length);
  engine.accelerations(c.q, c.qd, qdd, c.batch);
  const r = engine.lastReport;
  return {
    qdd: Array.from(qdd),
    flags: Array.from(r.flags.subarray(0, c.batch)),
    route: r.route,
    path: r.path,
    backend: r.backend,
  };
}

/**
 * Time RK4 steps of batch 1 on an `nx` × `ny` grid on the webgl route (two warm-up steps first):
 * `resident` keeps the stages on the GPU (tensor CG); otherwise each stage reads the network's terms back
 * for the float64 CG.
 */
async function timeSteps(
  model: LoadedModel,
  nx: number,
  ny: number,
  steps: number,
  resident: boolean,
): Promise<StepTiming> {
  const engine = await LGNEngine.load(model, createSystem('membrane', { nx, ny }), {
    backend: 'webgl',
    route: 'webgl',
    resident,
  });
  const c = energyCase(nx, ny);
  const rk4 = new RungeKutta4();
  const flags: number[] = [];
  try {
    for (let s = 0; s < 2; s++) engine.advance(c.q, c.qd, 1, c.dt, rk4, 1);
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) {
      engine.advance(c.q, c.qd, 1, c.dt, rk4, 1);
      flags.push(engine.lastReport.flags[0]);
    }
    const ms = (performance.now() - t0) / steps;
    return {
      nx,
      ny,
      route: engine.lastReport.route,
      path: engine.lastReport.path,
      steps,
      msPerStep: ms,
      usPerNode: (1000 * ms) / (nx * ny),
      flags,
    };
  } finally {
    engine.dispose();
  }
}

async function run(): Promise<MembraneWebglResult> {
  const webgl = await initBackend({ backend: 'webgl' });
  const model = await loadModel(new URL('/models/membrane-lgn/model.json', location.href));
  const system = createSystem('membrane', { nx: GRID.nx, ny: GRID.ny });
  const c = membraneCase();
  const rk4 = new RungeKutta4();
  const before = tf.memory().numTensors;

  // Route 'auto' at load initialises wasm next to webgl, so every route of a webgl engine is open.
  const engine = await LGNEngine.load(model, system, { backend: 'webgl', route: 'auto' });
  const routes: Record<string, RouteQdd> = {};
  for (const route of ['webgl', 'wasm', 'js'] as const) routes[route] = onRoute(engine, route);
  const availableRoutes = [...engine.availableRoutes];
  const grid = engine.grid;

  // The resident route's q̈ itself: the grid kernel (gridTermsFolded + solveGridCg) on webgl.
  const params = paramsFromModel(model);
  const resident = tf.tidy(() => {
    const r = lgnAccelerations(
      params,
      specFromModel(model),
      tf.tensor2d(Float32Array.from(c.q), [c.batch, GRID.nx * GRID.ny]),
      tf.tensor2d(Float32Array.from(c.qd), [c.batch, GRID.nx * GRID.ny]),
      GRID,
    );
    return [r.qdd, r.flags];
  });
  const residentQdd = Array.from(resident[0].dataSync());
  const residentFlags = Array.from(resident[1].dataSync());
  tf.dispose(resident);
  disposeParams(params);

  // One resident RK4 run of the batch and, as one more state, the smooth start of the energy check:
  // the GPU's cost here is per operation, not per state, so one run serves both.
  engine.route = 'webgl';
  const e = energyCase();
  if (e.dt !== TRAJECTORY.dt) throw new Error('the trajectory check and the energy run share one run');
  const n = GRID.nx * GRID.ny;
  const batch = c.batch + 1;
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  q.set(c.q);
  qd.set(c.qd);
  q.set(e.q, c.batch * n);
  qd.set(e.qd, c.batch * n);
  const worst = new Array<number>(c.batch).fill(0);
  const values = [engine.energy(e.q, e.qd)];
  const stepFlags: number[] = [];
  let trajectory: MembraneWebglResult['trajectory'] | null = null;
  for (let s = 1; s <= e.steps; s++) {
    engine.step(q, qd, batch, e.dt, rk4);
    const flags = engine.lastReport.flags;
    stepFlags.push(flags[c.batch]);
    values.push(engine.energy(q.subarray(c.batch * n), qd.subarray(c.batch * n)));
    if (s <= TRAJECTORY.steps) for (let b = 0; b < c.batch; b++) worst[b] = Math.max(worst[b], flags[b]);
    if (s === TRAJECTORY.steps) {
      trajectory = {
        q: Array.from(q.subarray(0, c.batch * n)),
        qd: Array.from(qd.subarray(0, c.batch * n)),
        path: engine.lastReport.path,
        route: engine.lastReport.route,
        flags: worst,
      };
    }
  }
  const energy = { values, flags: stepFlags, path: engine.lastReport.path };

  // Tensor counts: warm (every route used), 3 more rounds on every route, then after dispose.
  const round = () => {
    for (const route of ['webgl', 'wasm', 'js'] as const) onRoute(engine, route);
    engine.route = 'webgl';
    const sq = c.q.slice();
    const sqd = c.qd.slice();
    engine.advance(sq, sqd, c.batch, e.dt, rk4, 1);
  };
  round();
  const warm = tf.memory().numTensors;
  for (let k = 0; k < 3; k++) round();
  const repeated = tf.memory().numTensors;
  engine.dispose();
  const disposed = tf.memory().numTensors;

  const timings = [
    await timeSteps(model, 32, 32, 3, true),
    await timeSteps(model, 64, 64, 2, true),
    await timeSteps(model, 32, 32, 3, false),
    await timeSteps(model, 64, 64, 2, false),
  ];

  return {
    backend: webgl.name,
    warnings: webgl.warnings,
    float32: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
    availableRoutes,
    grid,
    routes,
    residentQdd,
    residentFlags,
    trajectory: trajectory!,
    energy,
    tensors: { before, warm, repeated, disposed },
    timings,
  };
}

publishPage(run, (r) => {
  window.__membraneWebgl = r;
});
