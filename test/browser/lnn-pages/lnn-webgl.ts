/**
 * Browser page for test/browser/lnn-webgl.test.ts: runs the learned engines on the webgl backend (and
 * on wasm in the browser) for deterministic random models and states, and publishes the results on
 * `window.__lnnWebgl` for comparison with Node.
 */

import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/backend/backend';
import { BaselineEngine } from '../../../src/engines/BaselineEngine';
import { LGNEngine } from '../../../src/engines/LGNEngine';
import { LNNEngine } from '../../../src/engines/LNNEngine';
import { RungeKutta4 } from '../../../src/integrators/RungeKutta4';
import { createSystem } from '../../../src/systems/registry';
import { baselineCase, type LnnWebglResult, lgnCase, lnnCase, trajectoryCase } from './cases';

declare global {
  interface Window {
    __lnnWebgl?: LnnWebglResult;
  }
}

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

async function run(): Promise<LnnWebglResult> {
  const webgl = await initBackend({ backend: 'webgl' });
  const result: LnnWebglResult = {
    backend: webgl.name,
    warnings: webgl.warnings,
    float32: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
    lnnQdd: [],
    lnnFlags: [],
    lnnWasmQdd: [],
    lgnQdd: [],
    baselineQdd: [],
    residentQ: [],
    residentQd: [],
    residentPath: '',
    fusedQdd: [],
    fusedFlags: [],
    fusedQ: [],
    fusedQd: [],
    fusedReport: { path: '', route: '' },
    autoRoutes: [],
    autoTimed: [],
    autoSummary: '',
    numTensorsBefore: 0,
    numTensorsAfter: 0,
  };
  const dp = createSystem('double-pendulum');
  const rk4 = new RungeKutta4();
  result.numTensorsBefore = tf.memory().numTensors;

  const lnn = lnnCase();
  const engine = await LNNEngine.load(lnn.model, dp, { backend: 'webgl', jsBelow: 0, resident: true });
  const qdd = new Float64Array(lnn.q.length);
  engine.accelerations(lnn.q, lnn.qd, qdd, lnn.batch);
  result.lnnQdd = Array.from(qdd);
  result.lnnFlags = Array.from(engine.lastReport.flags);
  engine.dispose();

  const traj = trajectoryCase();
  const stepper = await LNNEngine.load(traj.model, dp, { backend: 'webgl', jsBelow: 0, resident: true });
  const q = traj.q.slice();
  const qd = traj.qd.slice();
  for (let s = 0; s < traj.steps; s++) stepper.step(q, qd, traj.batch, traj.dt, rk4);
  result.residentQ = Array.from(q);
  result.residentQd = Array.from(qd);
  result.residentPath = stepper.lastReport.path;
  stepper.dispose();

  // The fused WebGL programs as the engine's `webgl-fused` route.
  const fused = await LNNEngine.load(lnn.model, dp, { backend: 'webgl', route: 'webgl-fused' });
  const fusedQdd = new Float64Array(lnn.q.length);
  fused.accelerations(lnn.q, lnn.qd, fusedQdd, lnn.batch);
  result.fusedQdd = Array.from(fusedQdd);
  result.fusedFlags = Array.from(fused.lastReport.flags);
  fused.dispose();
  const fusedStepper = await LNNEngine.load(traj.model, dp, { backend: 'webgl', route: 'webgl-fused' });
  const fq = traj.q.slice();
  const fqd = traj.qd.slice();
  for (let s = 0; s < traj.steps / 2; s++) fusedStepper.advance(fq, fqd, traj.batch, traj.dt, rk4, 2);
  result.fusedQ = Array.from(fq);
  result.fusedQd = Array.from(fqd);
  result.fusedReport = { path: fusedStepper.lastReport.path, route: fusedStepper.lastReport.route };
  fusedStepper.dispose();

  // Automatic routing on webgl times js, webgl (resident) and webgl-fused.
  const auto = await LNNEngine.load(traj.model, dp, { backend: 'webgl' });
  result.autoRoutes = auto.availableRoutes;
  result.autoTimed = auto.routeTimings.map((t) => `${t.route}@${t.batch}`).sort();
  result.autoSummary = auto.routeSummary;
  auto.dispose();

  const lgn = lgnCase();
  const lgnEngine = await LGNEngine.load(lgn.model, createSystem('string', { nodes: lgn.nodes }), {
    backend: 'webgl',
    jsBelow: 0,
  });
  const lgnQdd = new Float64Array(lgn.q.length);
  lgnEngine.accelerations(lgn.q, lgn.qd, lgnQdd, lgn.batch);
  result.lgnQdd = Array.from(lgnQdd);
  lgnEngine.dispose();

  const base = baselineCase();
  const baseEngine = await BaselineEngine.load(base.model, dp, { backend: 'webgl', jsBelow: 0 });
  const baseQdd = new Float64Array(base.q.length);
  baseEngine.accelerations(base.q, base.qd, baseQdd, base.batch);
  result.baselineQdd = Array.from(baseQdd);
  baseEngine.dispose();
  result.numTensorsAfter = tf.memory().numTensors;

  // The same LNN on wasm inside the browser.
  await initBackend({ backend: 'wasm' });
  const wasmEngine = await LNNEngine.load(lnn.model, dp, { backend: 'wasm', jsBelow: 0 });
  const wasmQdd = new Float64Array(lnn.q.length);
  wasmEngine.accelerations(lnn.q, lnn.qd, wasmQdd, lnn.batch);
  result.lnnWasmQdd = Array.from(wasmQdd);
  wasmEngine.dispose();
  return result;
}

const out = document.getElementById('out')!;
run()
  .then((r) => {
    window.__lnnWebgl = r;
    out.textContent = `done on ${r.backend}`;
  })
  .catch((e: unknown) => {
    const message = String((e as Error)?.stack ?? e);
    window.__lnnWebgl = { error: message } as LnnWebglResult;
    out.textContent = message;
  });
