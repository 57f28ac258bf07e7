/**
 * Browser page for test/browser/float16.test.ts: TF.js's webgl backend forced to float16 textures
 * (`WEBGL_FORCE_F16_TEXTURES` true, `WEBGL_RENDER_FLOAT32_CAPABLE` false, set before the backend
 * initialises), then the shipped double-pendulum LNN on a webgl engine: the capability object, the
 * routes `auto` takes, q̈ on every route forced in turn, the engines loaded with a half-precision route,
 * `pinRoute`, and the tensor counts. Publishes `window.__float16`.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// Registers the webgl flags and backend factory; the backend initialises in `initBackend` below.
import '@tensorflow/tfjs-backend-webgl';
import * as tf from '@tensorflow/tfjs-core';
import { LNNEngine } from '../../../src/engines/LNNEngine';
import { RungeKutta4 } from '../../../src/integrators/RungeKutta4';
import { initBackend } from '../../../src/learned/backend';
import { formatWebGLCapabilities, webglCapabilities } from '../../../src/learned/capabilities';
import type { LearnedEngine } from '../../../src/learned/LearnedEngine';
import { loadModel } from '../../../src/model/loadModel';
import { createSystem } from '../../../src/systems/registry';
import { publishPage } from '../pages/publish.js';
import {
  AUTO_BATCHES,
  FLOAT16_ROUTES,
  type Float16Result,
  type ForcedEngine,
  float16States,
  type ReportSeen,
  type RouteQdd,
  type TensorCounts,
} from './cases';

declare global {
  interface Window {
    __float16?: Float16Result;
  }
}

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/**
 * `?mode=highp10`: float32 textures, but the test's init script makes `getShaderPrecisionFormat` report
 * a 10-bit fragment highp (a mediump-class GPU); the page then records only the capability and the
 * routes of `auto`. Otherwise: what a phone GPU without float32 render targets gives TF.js.
 */
const highpOnly = new URLSearchParams(location.search).get('mode') === 'highp10';
if (!highpOnly) {
  tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
  tf.env().set('WEBGL_RENDER_FLOAT32_CAPABLE', false);
}

function tensorCounts(): TensorCounts {
  const registry = tf.engine().registry;
  return {
    all: tf.memory().numTensors,
    webgl: registry.webgl?.numDataIds() ?? 0,
    wasm: registry.wasm?.numDataIds() ?? 0,
  };
}

function seen(e: LearnedEngine): ReportSeen {
  const r = e.lastReport;
  return {
    route: r.route,
    path: r.path,
    backend: r.backend,
    precision: r.precision,
    precisionError: r.precisionError,
  };
}

async function run(): Promise<Float16Result> {
  const r = {} as Float16Result;
  const choice = await initBackend({ backend: 'webgl', allowFloat16: true });
  r.backend = choice.name;
  r.backendWarnings = choice.warnings;
  r.flags = {
    capable: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
    enabled: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    forceF16: tf.env().getBool('WEBGL_FORCE_F16_TEXTURES'),
  };
  r.capabilities = webglCapabilities();
  r.capabilitiesLine = formatWebGLCapabilities(r.capabilities);
  if (highpOnly) return highpCheck(r);

  const model = await loadModel(new URL('/models/double-pendulum-lnn/model.json', location.href));
  r.architecture = model.metadata.architecture.layers.join('→');
  const dp = createSystem('double-pendulum');
  const rk4 = new RungeKutta4();
  const c = float16States();
  const before = tensorCounts();

  // route 'auto' (the wasm route initialised next to webgl).
  const auto = await LNNEngine.load(model, dp, { backend: 'webgl', allowFloat16: true });
  const batches: Float16Result['auto']['batches'] = [];
  for (const batch of AUTO_BATCHES) {
    const s = float16States(batch, 7);
    auto.advance(s.q, s.qd, batch, 1 / 120, rk4, 2);
    batches.push({
      batch,
      routeFor: auto.routeFor(batch),
      describe: auto.describeRoute(batch),
      advanced: seen(auto),
    });
  }
  r.auto = {
    availableRoutes: auto.availableRoutes,
    routeSummary: auto.routeSummary,
    warnings: [...auto.warnings],
    precisionNote: auto.precisionNote,
    engineCapabilities: auto.webglCapabilities,
    batches,
  };

  // Every route forced in turn on the same engine (`engine.route`).
  const routes = {} as Record<(typeof FLOAT16_ROUTES)[number], RouteQdd>;
  const once = (route: (typeof FLOAT16_ROUTES)[number]): RouteQdd => {
    auto.route = route;
    const qdd = new Float64Array(c.q.length);
    auto.accelerations(c.q, c.qd, qdd, c.batch);
    const result = {
      qdd: Array.from(qdd),
      flags: Array.from(auto.lastReport.flags),
      report: seen(auto),
      describe: auto.describeRoute(c.batch),
    };
    const q = c.q.slice();
    const qd = c.qd.slice();
    auto.advance(q, qd, c.batch, 1 / 120, rk4, 2);
    return result;
  };
  for (const route of FLOAT16_ROUTES) routes[route] = once(route);
  r.routes = routes;
  const warm = tensorCounts();
  for (let k = 0; k < 5; k++) for (const route of FLOAT16_ROUTES) once(route);
  const repeated = tensorCounts();

  // A float32 recording of the webgl route cannot be replayed here; a float16 one can.
  auto.route = 'auto';
  try {
    auto.pinRoute({ route: 'webgl', backend: 'webgl', precision: 'float32' });
    r.pin = { float32: '(no error)', float16: '' };
  } catch (e) {
    r.pin = { float32: (e as Error).message, float16: '' };
  }
  try {
    auto.pinRoute({ route: 'webgl', backend: 'webgl', precision: 'float16' });
    r.pin.float16 = auto.route;
  } catch (e) {
    r.pin.float16 = (e as Error).message;
  }
  auto.dispose();

  // Engines loaded with a half-precision route: they run it and say so from the load on.
  const forced = {} as Record<'webgl' | 'webgl-fused', ForcedEngine>;
  for (const route of ['webgl', 'webgl-fused'] as const) {
    const e = await LNNEngine.load(model, dp, { backend: 'webgl', allowFloat16: true, route });
    const q = c.q.slice();
    const qd = c.qd.slice();
    e.advance(q, qd, c.batch, 1 / 120, rk4, 2);
    forced[route] = {
      warnings: [...e.warnings],
      precisionNote: e.precisionNote,
      routeSummary: e.routeSummary,
      report: seen(e),
    };
    e.dispose();
  }
  r.forced = forced;

  // calibrate: true times only the routes auto may take.
  const cal = await LNNEngine.load(model, dp, { backend: 'webgl', allowFloat16: true, calibrate: true });
  r.calibrated = {
    timed: cal.routeTimings.map((t) => `${t.route}@${t.batch}`).sort(),
    routeSummary: cal.routeSummary,
    routes: AUTO_BATCHES.map((b) => cal.routeFor(b)),
  };
  cal.dispose();
  r.counts = { before, warm, repeated, disposed: tensorCounts() };

  // Without `allowFloat16` the webgl backend is refused on this context (no float32 render targets).
  const plain = await LNNEngine.load(model, dp, { backend: 'webgl' });
  r.withoutAllow = { backend: plain.backend, warnings: [...plain.warnings] };
  plain.dispose();
  return r;
}

/** `?mode=highp10`: the routes of `auto` on a context whose fragment highp has 10 mantissa bits. */
async function highpCheck(r: Float16Result): Promise<Float16Result> {
  const model = await loadModel(new URL('/models/double-pendulum-lnn/model.json', location.href));
  const engine = await LNNEngine.load(model, createSystem('double-pendulum'), { backend: 'webgl' });
  r.auto = {
    availableRoutes: engine.availableRoutes,
    routeSummary: engine.routeSummary,
    warnings: [...engine.warnings],
    precisionNote: engine.precisionNote,
    engineCapabilities: engine.webglCapabilities,
    batches: AUTO_BATCHES.map((batch) => ({
      batch,
      routeFor: engine.routeFor(batch),
      describe: engine.describeRoute(batch),
      advanced: seen(engine),
    })),
  };
  engine.dispose();
  return r;
}

publishPage(run, (r) => {
  window.__float16 = r as Float16Result;
});
