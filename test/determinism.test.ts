/**
 * Deterministic routes: the shipped double-pendulum LNN loaded twice gives bitwise-identical trajectories
 * under the default `route: 'auto'` (which times nothing), whatever a clock says. With calibration on and
 * a noisy injected clock, each run keeps one route for the whole run, and a fresh load replays it bit for
 * bit after `pinRoute(describeRoute(batch))`.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { LNNEngine } from '../src/engines/LNNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { initBackend } from '../src/learned/backend';
import { createRng } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import type { LoadedModel } from '../src/model/metadata';
import { createSystem } from '../src/systems/registry';

const STEPS = 200;
const BATCHES = [1, 2, 3, 12];

/** A clock in ms that jumps by 0–8 ms per read, from its own seed: timings become noise. */
function noisyClock(seed: number): () => number {
  const rng = createRng(seed);
  let t = 0;
  return () => (t += 8 * rng());
}

/** `STEPS` RK4 steps of `batch` double pendulums; the final state and every route the steps took. */
function trajectory(engine: LNNEngine, batch: number): { state: number[]; routes: Set<string> } {
  const q = Float64Array.from({ length: 2 * batch }, (_, i) => 1.2 + 0.3 * Math.sin(i + 1));
  const qd = Float64Array.from({ length: 2 * batch }, (_, i) => 0.4 * Math.cos(2 * i + 1));
  const rk4 = new RungeKutta4();
  const routes = new Set<string>();
  for (let s = 0; s < STEPS; s++) {
    engine.step(q, qd, batch, 1 / 120, rk4);
    routes.add(engine.lastReport.route);
  }
  return { state: [...q, ...qd], routes };
}

describe('deterministic routes (shipped double-pendulum-lnn, Node)', () => {
  let model: LoadedModel;
  const dp = createSystem('double-pendulum');
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    model = await loadModel(resolve(import.meta.dirname, '..', 'assets', 'models', 'double-pendulum-lnn'));
  });

  it("default 'auto': two loads give bitwise-identical trajectories at every batch size, on one route each", async () => {
    const before = tf.memory().numTensors;
    const a = await LNNEngine.load(model, dp, { backend: 'wasm' });
    const b = await LNNEngine.load(model, dp, { backend: 'wasm' });
    expect(a.routeTimings, 'nothing timed at load').toEqual([]);
    expect(a.routeSummary, 'same plan').toBe(b.routeSummary);
    for (const batch of BATCHES) {
      const ta = trajectory(a, batch);
      const tb = trajectory(b, batch);
      expect([...ta.routes], `batch ${batch}: one route for the run`).toEqual([a.routeFor(batch)]);
      expect(tb.state, `batch ${batch}: bitwise-identical trajectories`).toEqual(ta.state);
      expect(ta.state.every(Number.isFinite), `batch ${batch}: finite`).toBe(true);
    }
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors, 'no tensors left').toBe(before);
  });

  it('calibrated under a noisy clock: one route per run, replayed bit for bit by a fresh load after pinRoute', async () => {
    const before = tf.memory().numTensors;
    for (const seed of [1, 2]) {
      const calibrated = await LNNEngine.load(model, dp, {
        backend: 'wasm',
        calibrate: { now: noisyClock(seed) },
      });
      expect(calibrated.routeTimings.length, 'timed').toBe(4);
      expect(calibrated.routeSummary, 'calibrated plan').toMatch(/^auto \(calibrated\): /);
      for (const batch of BATCHES) {
        const recorded = calibrated.describeRoute(batch);
        const run = trajectory(calibrated, batch);
        expect([...run.routes], `seed ${seed}, batch ${batch}: the plan's route for the whole run`).toEqual([
          recorded.route,
        ]);
        const replay = await LNNEngine.load(model, dp, { backend: 'wasm' });
        replay.pinRoute(recorded);
        expect(replay.describeRoute(batch), 'pinned').toEqual(recorded);
        const again = trajectory(replay, batch);
        expect(
          again.state,
          `seed ${seed}, batch ${batch}: replay on ${recorded.route} is bitwise identical`,
        ).toEqual(run.state);
        replay.dispose();
      }
      calibrated.dispose();
    }
    expect(tf.memory().numTensors, 'no tensors left').toBe(before);
  });

  it('pinRoute refuses a route this engine cannot take, or one recorded in another precision, naming what it offers', async () => {
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm' });
    expect(() => engine.pinRoute({ route: 'webgl-fused', backend: 'webgl', precision: 'float32' })).toThrow(
      /cannot replay route 'webgl-fused' .*offers js \(js, float64\), wasm \(wasm, float32\)/,
    );
    expect(() => engine.pinRoute({ route: 'wasm', backend: 'wasm', precision: 'float16' })).toThrow(
      /cannot replay route 'wasm' as recorded \(wasm, float16\): here it runs on wasm in float32/,
    );
    expect(engine.route, 'setting unchanged').toBe('auto');
    engine.pinRoute({ route: 'js', backend: 'js', precision: 'float64' });
    expect(engine.route, 'pinned').toBe('js');
    engine.dispose();
  });
  it('decides the route once per step and once per advance, whatever the stages and substeps', async () => {
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm' });
    const rk4 = new RungeKutta4();
    for (const [batch, route] of [
      [1, 'wasm'],
      [8, 'js'],
    ] as const) {
      if (route === 'js') engine.route = 'js';
      const q = new Float64Array(2 * batch).fill(0.7);
      const qd = new Float64Array(2 * batch).fill(0.1);
      const decide = vi.spyOn(engine, 'routeFor');
      engine.step(q, qd, batch, 1 / 120, rk4);
      expect(decide, `${route}: one RK4 step (4 stages)`).toHaveBeenCalledTimes(1);
      decide.mockClear();
      engine.advance(q, qd, batch, 1 / 120, rk4, 4);
      expect(decide, `${route}: one advance of 4 RK4 substeps (16 stages)`).toHaveBeenCalledTimes(1);
      expect(engine.lastReport.totals.evaluations, `${route}: the stages ran`).toBeGreaterThan(0);
      decide.mockRestore();
    }
    engine.dispose();
  });
});
