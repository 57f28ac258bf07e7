/**
 * Routes for evaluating and stepping an `lnn` model, behind one interface, and {@link autoSelectBackend},
 * which times them on this device and picks the fastest for a batch size:
 * - `js`: the fused plain-JS evaluator ({@link createFusedLnn}) — no TF.js; best for a handful of states;
 * - `webgl-fused`: the fused WebGL programs (`src/gpu`) with GPU-resident RK4 stages;
 * - `wasm`, `webgl`, `cpu`: TF.js op by op (exact tangents on tensors, float64 solve in JS after one
 *   readback per q̈).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Integrator } from '../core/types';
import { FusedWebGLLnn } from '../gpu/FusedWebGLLnn';
import { RungeKutta4 } from '../integrators/RungeKutta4';
import type { LoadedModel } from '../model/metadata';
import { wrapAngle } from '../model/reference';
import { createFusedLnn } from './fusedLnn';
import { packedLagrangianTerms } from './lagrangianTerms';
import { disposeParams, foldScales, type MlpParams, paramsFromModel, specFromModel } from './mlp';
import { solveSymmetric64 } from './solve64';

/** Where an `lnn` model is evaluated. */
export type RouteName = 'js' | 'webgl-fused' | 'webgl' | 'wasm' | 'cpu';

/** Every {@link RouteName}. */
export const ROUTE_NAMES: readonly RouteName[] = ['js', 'webgl-fused', 'webgl', 'wasm', 'cpu'];

/** One way of evaluating an `lnn` model. */
export interface FusedRoute {
  readonly name: RouteName;
  readonly dof: number;
  /** Batched q̈: `q`, `qd`, `qdd` `[batch * n]`; per-state flags in {@link FusedRoute.flags}. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;
  /**
   * Advance `batch` states in place by `substeps` RK4 steps of `dt` (`webgl-fused`: all on the GPU with
   * one readback; other routes: RK4 on the CPU around their q̈).
   */
  advance(q: Float64Array, qd: Float64Array, batch: number, dt: number, substeps?: number): void;
  /** SolveFlag per state of the last call (worst over the stages of an advance). */
  readonly flags: Uint8Array;
  /** Free tensors. Idempotent. */
  dispose(): void;
}

/** Options of {@link createFusedRoute}. */
export interface FusedRouteOptions {
  /** Diagonal shift ε for a non-definite H_vv. @default the model's, else relative */
  epsilon?: number;
}

/**
 * Create a route. TF.js routes switch the active backend to theirs (it must be registered and
 * initialised: `await tf.setBackend(name)` or `initBackend`).
 * @throws Error when the backend of the route is not available
 */
export function createFusedRoute(
  model: LoadedModel,
  name: RouteName,
  options: FusedRouteOptions = {},
): FusedRoute {
  if (name === 'js') return jsRoute(model, options);
  const backend = name === 'webgl-fused' ? 'webgl' : name;
  if (tf.findBackend(backend) === null || !switchBackend(backend)) {
    throw new Error(
      `Route '${name}' needs the TF.js ${backend} backend, which is not initialised here; await initBackend({ backend: '${backend}' }) first or pick another route.`,
    );
  }
  if (name === 'webgl-fused') return webglFusedRoute(model, options);
  return tensorRoute(model, name, options);
}

function switchBackend(name: string): boolean {
  if (tf.getBackend() !== name) void tf.setBackend(name);
  return tf.getBackend() === name;
}

/** Worst flag per state over the stages of a CPU-side RK4 advance. */
function cpuAdvance(
  route: { accelerations: FusedRoute['accelerations']; readonly flags: Uint8Array; dof: number },
  rk4: Integrator,
  worst: { flags: Uint8Array },
  q: Float64Array,
  qd: Float64Array,
  batch: number,
  dt: number,
  substeps: number,
): void {
  if (worst.flags.length < batch) worst.flags = new Uint8Array(batch);
  const w = worst.flags;
  w.fill(0, 0, batch);
  const f = (a: Float64Array, b: Float64Array, c: Float64Array, m: number) => {
    route.accelerations(a, b, c, m);
    for (let i = 0; i < m; i++) if (route.flags[i] > w[i]) w[i] = route.flags[i];
  };
  for (let s = 0; s < substeps; s++) rk4.step(f, q, qd, route.dof, batch, dt);
}

function jsRoute(model: LoadedModel, options: FusedRouteOptions): FusedRoute {
  const f = createFusedLnn(model, options);
  const rk4 = new RungeKutta4();
  const worst = { flags: new Uint8Array(0) };
  // Flags of the last call: q̈ flags after `accelerations`, worst-over-stages after `advance`.
  let lastWasAdvance = false;
  const inner = {
    dof: f.dof,
    accelerations: f.accelerations,
    get flags() {
      return f.flags;
    },
  };
  return {
    name: 'js',
    dof: f.dof,
    get flags() {
      return lastWasAdvance ? worst.flags : f.flags;
    },
    accelerations(q, qd, qdd, batch) {
      lastWasAdvance = false;
      f.accelerations(q, qd, qdd, batch);
    },
    advance(q, qd, batch, dt, substeps = 1) {
      cpuAdvance(inner, rk4, worst, q, qd, batch, dt, substeps);
      lastWasAdvance = true;
    },
    dispose() {},
  };
}

function webglFusedRoute(model: LoadedModel, options: FusedRouteOptions): FusedRoute {
  const gpu = new FusedWebGLLnn(model, options);
  return {
    name: 'webgl-fused',
    dof: gpu.dof,
    get flags() {
      return gpu.flags;
    },
    accelerations(q, qd, qdd, batch) {
      switchBackend('webgl');
      gpu.accelerations(q, qd, qdd, batch);
    },
    advance(q, qd, batch, dt, substeps = 1) {
      switchBackend('webgl');
      gpu.advance(q, qd, batch, dt, substeps);
    },
    dispose() {
      gpu.dispose();
    },
  };
}

function tensorRoute(
  model: LoadedModel,
  name: 'webgl' | 'wasm' | 'cpu',
  options: FusedRouteOptions,
): FusedRoute {
  const spec = specFromModel(model);
  const n = model.metadata.dof;
  const k = n + 1;
  const eps = options.epsilon ?? spec.hvvEpsilon;
  const folded: MlpParams = tf.tidy(() => {
    const raw = paramsFromModel(model);
    const f = foldScales(raw, spec);
    disposeParams(raw);
    return f as unknown as tf.TensorContainer;
  }) as unknown as MlpParams;
  let q32 = new Float32Array(0);
  let v32 = new Float32Array(0);
  const hvv = new Float64Array(n * n);
  const rhs = new Float64Array(n);
  const rk4 = new RungeKutta4();
  const worst = { flags: new Uint8Array(0) };
  let flags = new Uint8Array(0);
  let disposed = false;
  const route = {
    name: name as RouteName,
    dof: n,
    get flags() {
      return flags;
    },
    accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number) {
      if (disposed) throw new Error(`Route '${name}': used after dispose().`);
      switchBackend(name);
      const size = batch * n;
      if (q32.length < size) {
        q32 = new Float32Array(size);
        v32 = new Float32Array(size);
      }
      if (flags.length < batch) flags = new Uint8Array(batch);
      for (let j = 0; j < size; j++) {
        q32[j] = spec.angles[j % n] ? wrapAngle(q[j]) : q[j];
        v32[j] = qd[j];
      }
      const out = tf.tidy(() => {
        const p = packedLagrangianTerms(
          folded,
          spec.activation,
          tf.tensor2d(q32.subarray(0, size), [batch, n]),
          tf.tensor2d(v32.subarray(0, size), [batch, n]),
        );
        return tf.concat([tf.reshape(p.hessian, [batch, k * k]), p.grad], 1);
      });
      const data = out.dataSync();
      out.dispose();
      const w = k * k + 2 * n;
      for (let b = 0; b < batch; b++) {
        const o = b * w;
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) hvv[i * n + j] = data[o + i * k + j];
          rhs[i] = data[o + k * k + i] - data[o + i * k + n];
        }
        flags[b] = solveSymmetric64(hvv, 0, rhs, 0, qdd, b * n, n, eps);
      }
    },
    advance(q: Float64Array, qd: Float64Array, batch: number, dt: number, substeps = 1) {
      cpuAdvance(route, rk4, worst, q, qd, batch, dt, substeps);
      if (flags.length < batch) flags = new Uint8Array(batch);
      flags.set(worst.flags.subarray(0, batch));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      disposeParams(folded);
    },
  };
  return route;
}

/** Options of {@link autoSelectBackend}. */
export interface AutoSelectOptions extends FusedRouteOptions {
  /** Skip the timing and use this route (it must be available). @default undefined (measure) */
  override?: RouteName;
  /** Routes to try, in order of preference on a tie. @default every route whose backend is initialised */
  candidates?: readonly RouteName[];
  /** Timing budget per route in milliseconds (after one warm-up call). @default 60 */
  budgetMs?: number;
  /** Time RK4 `advance` calls of this many substeps of 1/120 s instead of bare q̈ calls. @default 1 */
  substeps?: number;
}

/** What {@link autoSelectBackend} chose and why. */
export interface RouteChoice {
  /** The chosen route, ready to use (the others are disposed). */
  route: FusedRoute;
  name: RouteName;
  /** States advanced per second (one RK4 substep = one state-step) per timed route. */
  rates: Partial<Record<RouteName, number>>;
  /** Routes that could not be created, with the reason. */
  unavailable: Partial<Record<RouteName, string>>;
  /** One line for a UI, e.g. `js (fused plain JS): 2,400 states·steps/s; wasm 600; webgl-fused 90`. */
  summary: string;
  /** True when the choice came from `override`. */
  overridden: boolean;
}

/**
 * Time each available route on `batch` random states of `model` for a short budget and return the
 * fastest (by RK4 state-steps per second), or the `override`. The timing advances scratch states, never
 * the caller's.
 * @example const { route, summary } = autoSelectBackend(model, 16); // then route.advance(q, qd, 16, dt, 2)
 */
export function autoSelectBackend(
  model: LoadedModel,
  batch: number,
  options: AutoSelectOptions = {},
): RouteChoice {
  const unavailable: Partial<Record<RouteName, string>> = {};
  const make = (name: RouteName): FusedRoute | null => {
    try {
      return createFusedRoute(model, name, options);
    } catch (e) {
      unavailable[name] = (e as Error).message;
      return null;
    }
  };
  if (options.override) {
    const route = make(options.override);
    if (route === null) throw new Error(unavailable[options.override]);
    return {
      route,
      name: route.name,
      rates: {},
      unavailable,
      summary: `${route.name} (chosen by override)`,
      overridden: true,
    };
  }
  const candidates =
    options.candidates ??
    ROUTE_NAMES.filter((r) => r === 'js' || tf.findBackend(r === 'webgl-fused' ? 'webgl' : r) !== null);
  const budget = options.budgetMs ?? 60;
  const substeps = options.substeps ?? 1;
  const n = model.metadata.dof;
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  const rates: Partial<Record<RouteName, number>> = {};
  let best: FusedRoute | null = null;
  let bestRate = -1;
  const previous = tf.getBackend();
  for (const name of candidates) {
    const route = make(name);
    if (route === null) continue;
    for (let i = 0; i < q.length; i++) {
      q[i] = 0.3 * Math.sin(i + 1);
      qd[i] = 0.5 * Math.cos(i + 1);
    }
    route.advance(q, qd, batch, 1 / 120, substeps); // warm-up: shader compilation, JIT
    let calls = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (calls < 2 || elapsed < budget) {
      route.advance(q, qd, batch, 1 / 120, substeps);
      calls++;
      elapsed = performance.now() - t0;
    }
    const rate = (calls * batch * substeps) / (elapsed / 1000);
    rates[name] = rate;
    if (rate > bestRate) {
      best?.dispose();
      best = route;
      bestRate = rate;
    } else {
      route.dispose();
    }
  }
  if (best === null) {
    throw new Error(`autoSelectBackend: no route could be created (${JSON.stringify(unavailable)}).`);
  }
  if (best.name === 'js' && previous && tf.findBackend(previous) !== null) switchBackend(previous);
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  const order = Object.entries(rates).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
  const summary = order
    .map(([k, v], i) => (i === 0 ? `${k}: ${fmt(v ?? 0)} state-steps/s` : `${k} ${fmt(v ?? 0)}`))
    .join('; ');
  return { route: best, name: best.name, rates, unavailable, summary, overridden: false };
}
