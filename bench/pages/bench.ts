/**
 * In-page benchmark functions for bench/suites/browser.ts: q̈ throughput per route and batch, RK4 steps
 * of a single learned double pendulum, real-time capacity, analytic capacity and tensor memory. Each
 * function measures for a time budget and returns plain numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AnalyticEngine } from '../../src/engines/AnalyticEngine';
import { RungeKutta4 } from '../../src/integrators/RungeKutta4';
import type { RouteName } from '../../src/learned/LearnedEngine';
import { loadModel } from '../../src/model/loadModel';
import type { LoadedModel } from '../../src/model/metadata';
import { createRandomModel } from '../../src/model/randomModel';
import { createSystem } from '../../src/systems/registry';
import { routeEngine } from './routeEngine';

let cached: { model: LoadedModel; label: string } | null = null;

/**
 * The shipped double-pendulum LNN when the dev server lists it, else a random-weight model of the
 * default shape (4→128→128→1 softplus, the same cost per q̈).
 */
export async function benchModel(): Promise<{ model: LoadedModel; label: string }> {
  if (cached) return cached;
  try {
    const index = (await (await fetch('/models/index.json')).json()) as { models: { name: string }[] };
    if (index.models.some((m) => m.name === 'double-pendulum-lnn')) {
      const model = await loadModel(new URL('/models/double-pendulum-lnn/model.json', location.href));
      cached = { model, label: `double-pendulum-lnn (${model.metadata.architecture.layers.join('→')})` };
      return cached;
    }
  } catch {
    /* fall through to the random model */
  }
  cached = { model: createRandomModel({ seed: 1 }), label: 'random weights 4→128→128→1 softplus' };
  return cached;
}

function states(batch: number): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(2 * batch);
  const qd = new Float64Array(2 * batch);
  for (let i = 0; i < q.length; i++) {
    q[i] = 2 * Math.sin(1.7 * i + 0.3);
    qd[i] = 0.5 * Math.cos(2.3 * i);
  }
  return { q, qd };
}

/** Repeat `fn` after one warm-up call until `budgetMs` has passed (at least `minCalls`); ms per call. */
function timeIt(fn: () => void, budgetMs: number, minCalls = 2): { msPerCall: number; calls: number } {
  fn();
  let calls = 0;
  const t0 = performance.now();
  let elapsed = 0;
  while (calls < minCalls || elapsed < budgetMs) {
    fn();
    calls++;
    elapsed = performance.now() - t0;
  }
  return { msPerCall: elapsed / calls, calls };
}

/** q̈ evaluations per second of `route` at `batch`. */
export async function qddRate(route: RouteName, batch: number, budgetMs: number): Promise<number> {
  const { model } = await benchModel();
  const r = await routeEngine(model, route);
  try {
    const { q, qd } = states(batch);
    const out = new Float64Array(2 * batch);
    const t = timeIt(() => r.accelerations(q, qd, out, batch), budgetMs, 1);
    return batch / (t.msPerCall / 1000);
  } finally {
    r.dispose();
  }
}

/**
 * A single learned double pendulum, RK4, dt = 1/120: milliseconds of compute per simulated 1/120 s,
 * advancing `substeps` steps per call (one readback per call on webgl-fused).
 */
export async function singleRk4(route: RouteName, substeps: number, budgetMs: number): Promise<number> {
  const { model } = await benchModel();
  const r = await routeEngine(model, route);
  try {
    const { q, qd } = states(1);
    const t = timeIt(() => r.advance(q, qd, 1, 1 / 120, substeps), budgetMs);
    return t.msPerCall / substeps;
  } finally {
    r.dispose();
  }
}

/** Milliseconds per RK4 step (dt = 1/60) of `batch` learned pendulums on `route`. */
export async function stepMs(route: RouteName, batch: number, budgetMs: number): Promise<number> {
  const { model } = await benchModel();
  const r = await routeEngine(model, route);
  try {
    const { q, qd } = states(batch);
    return timeIt(() => r.advance(q, qd, batch, 1 / 60, 1), budgetMs, 1).msPerCall;
  } finally {
    r.dispose();
  }
}

/** Milliseconds per RK4 step (dt = 1/60) of `batch` analytic double pendulums (fused analytic kernel). */
export function analyticStepMs(batch: number, budgetMs: number): number {
  const engine = new AnalyticEngine(createSystem('double-pendulum'));
  const rk4 = new RungeKutta4();
  const { q, qd } = states(batch);
  return timeIt(() => engine.step(q, qd, batch, 1 / 60, rk4), budgetMs, 1).msPerCall;
}

/** tf.memory() before and after `steps` RK4 steps (dt = 1/120) of one pendulum on `route`. */
export async function memoryOver(route: RouteName, steps: number, substeps: number) {
  const { model } = await benchModel();
  const r = await routeEngine(model, route);
  try {
    const { q, qd } = states(1);
    r.advance(q, qd, 1, 1 / 120, substeps);
    const before = tf.memory();
    for (let s = 0; s < steps / substeps; s++) r.advance(q, qd, 1, 1 / 120, substeps);
    const after = tf.memory();
    return {
      numTensorsBefore: before.numTensors,
      numTensorsAfter: after.numTensors,
      numBytesBefore: before.numBytes,
      numBytesAfter: after.numBytes,
    };
  } finally {
    r.dispose();
  }
}
