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
import { BaselineEngine } from '../../../src/engines/BaselineEngine';
import { LGNEngine } from '../../../src/engines/LGNEngine';
import { LNNEngine } from '../../../src/engines/LNNEngine';
import { initBackend } from '../../../src/learned/backend';
import type { LearnedEngine } from '../../../src/learned/LearnedEngine';
import '../../../src/engines/learned';
import { createEngine } from '../../../src/engines/registry';
import { createForces } from '../../../src/forces/GeneralizedForces';
import { WebGLLnnStepper } from '../../../src/gpu/WebGLLnnStepper';
import { RungeKutta4 } from '../../../src/integrators/RungeKutta4';
import { loadModel } from '../../../src/model/loadModel';
import { createSystem } from '../../../src/systems/registry';
import { publishPage } from '../pages/publish.js';
import {
  baselineCase,
  type ForcedRouteResult,
  forcedCase,
  HOSTILE_MODELS,
  type HostileRouteResult,
  hostileCase,
  type LnnWebglResult,
  lgnCase,
  lnnCase,
  type RapidityJaxCase,
  type RapidityResult,
  rapidityJaxCases,
  type SincosQdd,
  type SincosResult,
  shiftAngles,
  sincos3Case,
  sincosCase,
  sincosTrajectoryCase,
  type TensorCounts,
  trajectoryCase,
  type WasmRouteResult,
  wasmRouteCase,
} from './cases';

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

/** q̈ of a `sincos` case on `WebGLLnnStepper`, also at q + 2π (wrapped on upload, and unwrapped on the GPU). */
function sincosQdd(c: ReturnType<typeof sincosCase>): SincosQdd {
  const gpu = new WebGLLnnStepper(c.model);
  try {
    const { batch } = c;
    const n = c.model.metadata.dof;
    const qdd = new Float64Array(batch * n);
    gpu.accelerations(c.q, c.qd, qdd, batch);
    const flags = Array.from(gpu.flags.subarray(0, batch));
    const shifted = shiftAngles(c.q, c.model.metadata.angles);
    const qddShifted = new Float64Array(batch * n);
    gpu.accelerations(shifted, c.qd, qddShifted, batch);
    // Unwrapped float32 state [B, 2n] straight into the programs: cos/sin periodicity on the GPU.
    const raw = tf.tidy(() => {
      const state = new Float32Array(batch * 2 * n);
      for (let b = 0; b < batch; b++) {
        for (let i = 0; i < n; i++) {
          state[b * 2 * n + i] = shifted[b * n + i];
          state[b * 2 * n + n + i] = c.qd[b * n + i];
        }
      }
      return gpu.accelerationsTensor(tf.tensor2d(state, [batch, 2 * n]));
    });
    const a = raw.dataSync();
    raw.dispose();
    const qddShiftedRaw: number[] = [];
    const flagsShiftedRaw: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < n; i++) qddShiftedRaw.push(a[b * (n + 1) + i]);
      flagsShiftedRaw.push(a[b * (n + 1) + n]);
    }
    return {
      qdd: Array.from(qdd),
      flags,
      qddShifted: Array.from(qddShifted),
      qddShiftedRaw,
      flagsShiftedRaw,
    };
  } finally {
    gpu.dispose();
  }
}

/** The `sincos` models on the fused programs directly, then through the lnn engine's webgl routes. */
async function sincosChecks(): Promise<SincosResult> {
  const dof2 = sincosQdd(sincosCase());
  const dof3 = sincosQdd(sincos3Case());
  const traj = sincosTrajectoryCase();
  const gpu = new WebGLLnnStepper(traj.model);
  const fq = traj.q.slice();
  const fqd = traj.qd.slice();
  for (let s = 0; s < traj.steps / 2; s++) gpu.advance(fq, fqd, traj.batch, traj.dt, 2);
  const wq = fq.slice();
  const wqd = fqd.slice();
  gpu.advance(wq, wqd, traj.batch, traj.dt, 1);
  const leakBefore = tf.memory().numTensors;
  for (let s = 0; s < 20; s++) gpu.advance(wq, wqd, traj.batch, traj.dt, 1);
  const leakAfter = tf.memory().numTensors;
  gpu.dispose();

  const engine: SincosResult['engine'] = {
    webglQdd: [],
    webglFlags: [],
    webglQ: [],
    webglQd: [],
    webglPath: '',
    webglRoute: '',
    fusedQdd: [],
    fusedFlags: [],
    fusedQ: [],
    fusedQd: [],
    fusedReport: { path: '', route: '' },
  };
  try {
    const dp = createSystem('double-pendulum');
    const rk4 = new RungeKutta4();
    const c = sincosCase();
    for (const route of ['webgl', 'webgl-fused'] as const) {
      const e = await LNNEngine.load(c.model, dp, { backend: 'webgl', jsBelow: 0, resident: true, route });
      const qdd = new Float64Array(c.q.length);
      e.accelerations(c.q, c.qd, qdd, c.batch);
      const flags = Array.from(e.lastReport.flags);
      e.dispose();
      const s = await LNNEngine.load(traj.model, dp, { backend: 'webgl', jsBelow: 0, resident: true, route });
      const q = traj.q.slice();
      const qd = traj.qd.slice();
      for (let k = 0; k < traj.steps; k++) s.step(q, qd, traj.batch, traj.dt, rk4);
      const report = { path: s.lastReport.path, route: s.lastReport.route };
      s.dispose();
      if (route === 'webgl') {
        Object.assign(engine, { webglQdd: Array.from(qdd), webglFlags: flags, webglQ: Array.from(q) });
        Object.assign(engine, { webglQd: Array.from(qd), webglPath: report.path, webglRoute: report.route });
      } else {
        Object.assign(engine, { fusedQdd: Array.from(qdd), fusedFlags: flags, fusedQ: Array.from(q) });
        Object.assign(engine, { fusedQd: Array.from(qd), fusedReport: report });
      }
    }
  } catch (e) {
    engine.error = String((e as Error)?.stack ?? e);
  }
  return {
    dof2,
    dof3,
    fusedQ: Array.from(fq),
    fusedQd: Array.from(fqd),
    leakBefore,
    leakAfter,
    engine,
  };
}

/**
 * A `rapidity` model on the fused programs (q̈, an RK4 run of two substeps per advance, tensor counts),
 * then through the lnn engine's `webgl-fused` and op-by-op `webgl` routes.
 */
async function rapidityCheck(c: RapidityJaxCase): Promise<RapidityResult> {
  const n = c.model.metadata.dof;
  const r: RapidityResult = {
    qdd: [],
    flags: [],
    fusedQ: [],
    fusedQd: [],
    fusedFlags: [],
    leakBefore: 0,
    leakAfter: 0,
    engine: {
      'webgl-fused': { qdd: [], flags: [], q: [], qd: [], path: '', route: '' },
      webgl: { qdd: [], flags: [], q: [], qd: [], path: '', route: '' },
    },
  };
  try {
    const gpu = new WebGLLnnStepper(c.model);
    const qdd = new Float64Array(c.batch * n);
    gpu.accelerations(c.q, c.qd, qdd, c.batch);
    r.qdd = Array.from(qdd);
    r.flags = Array.from(gpu.flags.subarray(0, c.batch));
    const q = c.q.slice();
    const qd = c.qd.slice();
    const worst = new Uint8Array(c.batch);
    for (let s = 0; s < c.rk4.steps / 2; s++) {
      gpu.advance(q, qd, c.batch, c.rk4.dt, 2);
      for (let b = 0; b < c.batch; b++) worst[b] = Math.max(worst[b], gpu.flags[b]);
    }
    r.fusedQ = Array.from(q);
    r.fusedQd = Array.from(qd);
    r.fusedFlags = Array.from(worst);
    const wq = c.q.slice();
    const wqd = c.qd.slice();
    gpu.advance(wq, wqd, c.batch, c.rk4.dt, 1);
    r.leakBefore = tf.memory().numTensors;
    for (let s = 0; s < 20; s++) gpu.advance(wq, wqd, c.batch, c.rk4.dt, 1);
    r.leakAfter = tf.memory().numTensors;
    gpu.dispose();

    const system = createSystem(c.system);
    const rk4 = new RungeKutta4();
    for (const route of ['webgl-fused', 'webgl'] as const) {
      const e = await LNNEngine.load(c.model, system, {
        backend: 'webgl',
        jsBelow: 0,
        resident: true,
        route,
      });
      const eq = new Float64Array(c.batch * n);
      e.accelerations(c.q, c.qd, eq, c.batch);
      const flags = Array.from(e.lastReport.flags);
      const sq = c.q.slice();
      const sqd = c.qd.slice();
      for (let s = 0; s < c.rk4.steps; s++) e.step(sq, sqd, c.batch, c.rk4.dt, rk4);
      r.engine[route] = {
        qdd: Array.from(eq),
        flags,
        q: Array.from(sq),
        qd: Array.from(sqd),
        path: e.lastReport.path,
        route: e.lastReport.route,
      };
      e.dispose();
    }
  } catch (e) {
    r.error = String((e as Error)?.stack ?? e);
  }
  return r;
}

/**
 * Shipped models on the forced webgl routes at hostile states: q̈ and flags of one call, then the flags
 * of an RK4 advance (resident on webgl, fused on webgl-fused) and whether each q̇ kept its value.
 */
async function hostileChecks(): Promise<HostileRouteResult[]> {
  const out: HostileRouteResult[] = [];
  const rk4 = new RungeKutta4();
  for (const [name, routes] of HOSTILE_MODELS) {
    const model = await loadModel(new URL(`/models/${name}/model.json`, location.href));
    const meta = model.metadata;
    const system = createSystem(meta.system.id, { ...meta.system.params });
    const n = system.dof;
    const c = hostileCase(model, n);
    for (const route of routes) {
      const r: HostileRouteResult = {
        model: name,
        route,
        qdd: [],
        flags: [],
        stepFlags: [],
        stepPath: '',
        qdKept: [],
      };
      try {
        const engine = (await createEngine(meta.kind, system, {
          model,
          backend: 'webgl',
          route,
          resident: true,
        })) as LearnedEngine;
        const qdd = new Float64Array(c.batch * n);
        engine.accelerations(c.q, c.qd, qdd, c.batch);
        r.qdd = Array.from(qdd, (v) => (Number.isFinite(v) ? v : null));
        r.flags = Array.from(engine.lastReport.flags);
        const q = c.q.slice();
        const qd = c.qd.slice();
        engine.advance(q, qd, c.batch, 1 / 120, rk4, 2);
        r.stepFlags = Array.from(engine.lastReport.flags);
        r.stepPath = engine.lastReport.path;
        r.qdKept = Array.from({ length: c.batch }, (_, b) =>
          Array.from({ length: n }, (_, i) => b * n + i).every((j) => Object.is(qd[j], c.qd[j])),
        );
        engine.dispose();
      } catch (e) {
        r.error = String((e as Error)?.stack ?? e);
      }
      out.push(r);
    }
  }
  return out;
}

/** Tensors per backend and in total. */
function tensorCounts(): TensorCounts {
  const registry = tf.engine().registry;
  return {
    all: tf.memory().numTensors,
    webgl: registry.webgl?.numDataIds() ?? 0,
    wasm: registry.wasm?.numDataIds() ?? 0,
  };
}

/**
 * The shipped double-pendulum LNN on a webgl engine with `route: 'auto'`: the wasm route next to the
 * webgl ones (q̈ per route, backend restored, tensors per backend), and an engine loaded with
 * `route: 'wasm'`.
 */
async function wasmRouteCheck(): Promise<WasmRouteResult> {
  const r = { routes: {} } as WasmRouteResult;
  try {
    const model = await loadModel(new URL('/models/double-pendulum-lnn/model.json', location.href));
    r.architecture = model.metadata.architecture.layers.join('→');
    const dp = createSystem('double-pendulum');
    const rk4 = new RungeKutta4();
    const c = wasmRouteCase();
    const before = tensorCounts();
    const engine = await LNNEngine.load(model, dp, { backend: 'webgl', calibrate: true });
    r.activeAfterLoad = tf.getBackend();
    r.availableRoutes = engine.availableRoutes;
    r.timed = engine.routeTimings.map((t) => `${t.route}@${t.batch}`).sort();
    r.summary = engine.routeSummary;
    r.autoRoute = engine.routeFor(c.batch);
    const routes = ['webgl', 'wasm', 'js'] as const;
    const once = (route: 'auto' | (typeof routes)[number]) => {
      engine.route = route;
      const qdd = new Float64Array(c.q.length);
      engine.accelerations(c.q, c.qd, qdd, c.batch);
      const sq = c.q.slice();
      const sqd = c.qd.slice();
      engine.advance(sq, sqd, c.batch, c.dt, rk4, 2);
      return qdd;
    };
    for (const route of routes) {
      const qdd = once(route);
      engine.accelerations(c.q, c.qd, qdd, c.batch);
      r.routes[route] = {
        qdd: Array.from(qdd),
        flags: Array.from(engine.lastReport.flags),
        route: engine.lastReport.route,
        path: engine.lastReport.path,
        backend: engine.lastReport.backend,
        activeAfter: tf.getBackend(),
      };
    }
    once('auto');
    const warm = tensorCounts();
    for (let k = 0; k < 10; k++) for (const route of [...routes, 'auto'] as const) once(route);
    const repeated = tensorCounts();
    engine.route = 'auto';
    const aq = c.q.slice();
    const aqd = c.qd.slice();
    engine.advance(aq, aqd, c.batch, c.dt, rk4, 2);
    r.autoAdvance = { route: engine.lastReport.route, path: engine.lastReport.path };
    try {
      engine.route = 'cpu';
      r.unavailableError = '(no error)';
    } catch (e) {
      r.unavailableError = (e as Error).message;
    }
    engine.dispose();
    r.counts = { before, warm, repeated, disposed: tensorCounts() };

    const forced = await LNNEngine.load(model, dp, { backend: 'webgl', route: 'wasm' });
    const qdd = new Float64Array(c.q.length);
    forced.accelerations(c.q, c.qd, qdd, c.batch);
    const call = {
      qdd: Array.from(qdd),
      flags: Array.from(forced.lastReport.flags),
      route: forced.lastReport.route,
      path: forced.lastReport.path,
      backend: forced.lastReport.backend,
      activeAfter: tf.getBackend(),
    };
    const q = c.q.slice();
    const qd = c.qd.slice();
    for (let s = 0; s < c.steps / 2; s++) forced.advance(q, qd, c.batch, c.dt, rk4, 2);
    const advanceRoute = forced.lastReport.route;
    forced.dispose();
    r.forced = { ...call, advanceRoute, q: Array.from(q), qd: Array.from(qd), disposed: tensorCounts() };
  } catch (e) {
    r.error = String((e as Error)?.stack ?? e);
  }
  return r;
}

/** The forces of {@link forcedCase} on the resident `webgl` and the `webgl-fused` routes. */
async function forcedChecks(): Promise<ForcedRouteResult[]> {
  const dp = createSystem('double-pendulum');
  const out: ForcedRouteResult[] = [];
  for (const label of ['wrap', 'sincos'] as const) {
    const c = forcedCase(label);
    const forces = createForces(dp, { damping: c.damping, constant: c.constant }, c.batch);
    for (const route of ['webgl', 'webgl-fused'] as const) {
      const engine = await LNNEngine.load(c.model, dp, { backend: 'webgl', route, resident: true });
      const qdd = new Float64Array(c.q.length);
      engine.accelerations(c.q, c.qd, qdd, c.batch, 0, forces);
      const flags = Array.from(engine.lastReport.flags);
      const q = c.q.slice();
      const qd = c.qd.slice();
      const rk4 = new RungeKutta4();
      for (let s = 0; s < c.steps / 2; s++)
        engine.advance(q, qd, c.batch, c.dt, rk4, 2, 2 * s * c.dt, forces);
      out.push({
        label,
        route,
        alpha: engine.massScale!.value,
        qdd: Array.from(qdd),
        flags,
        q: Array.from(q),
        qd: Array.from(qd),
        path: engine.lastReport.path,
        reportRoute: engine.lastReport.route,
      });
      engine.dispose();
    }
  }
  return out;
}

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
    sincos: {} as SincosResult,
    rapidity: {} as LnnWebglResult['rapidity'],
    wasmRoute: {} as WasmRouteResult,
    hostile: [],
    forced: [],
  };
  const dp = createSystem('double-pendulum');
  const rk4 = new RungeKutta4();
  result.numTensorsBefore = tf.memory().numTensors;

  const lnn = lnnCase();
  const engine = await LNNEngine.load(lnn.model, dp, { backend: 'webgl', route: 'webgl', resident: true });
  const qdd = new Float64Array(lnn.q.length);
  engine.accelerations(lnn.q, lnn.qd, qdd, lnn.batch);
  result.lnnQdd = Array.from(qdd);
  result.lnnFlags = Array.from(engine.lastReport.flags);
  engine.dispose();

  const traj = trajectoryCase();
  const stepper = await LNNEngine.load(traj.model, dp, { backend: 'webgl', route: 'webgl', resident: true });
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

  // Calibrated automatic routing on webgl times js, webgl (resident), webgl-fused and wasm.
  const auto = await LNNEngine.load(traj.model, dp, { backend: 'webgl', calibrate: true });
  result.autoRoutes = auto.availableRoutes;
  result.autoTimed = auto.routeTimings.map((t) => `${t.route}@${t.batch}`).sort();
  result.autoSummary = auto.routeSummary;
  auto.dispose();

  const lgn = lgnCase();
  const lgnEngine = await LGNEngine.load(lgn.model, createSystem('string', { nodes: lgn.nodes }), {
    backend: 'webgl',
    route: 'webgl',
  });
  const lgnQdd = new Float64Array(lgn.q.length);
  lgnEngine.accelerations(lgn.q, lgn.qd, lgnQdd, lgn.batch);
  result.lgnQdd = Array.from(lgnQdd);
  lgnEngine.dispose();

  const base = baselineCase();
  const baseEngine = await BaselineEngine.load(base.model, dp, { backend: 'webgl', route: 'webgl' });
  const baseQdd = new Float64Array(base.q.length);
  baseEngine.accelerations(base.q, base.qd, baseQdd, base.batch);
  result.baselineQdd = Array.from(baseQdd);
  baseEngine.dispose();

  result.sincos = await sincosChecks();
  const rapidity = rapidityJaxCases();
  result.rapidity = {
    relativistic: await rapidityCheck(rapidity.relativistic),
    doublePendulum: await rapidityCheck(rapidity.doublePendulum),
  };
  result.wasmRoute = await wasmRouteCheck();
  result.hostile = await hostileChecks();
  result.forced = await forcedChecks();
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

publishPage(run, (r) => {
  window.__lnnWebgl = r as LnnWebglResult;
});
