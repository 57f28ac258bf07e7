import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaselineEngine } from '../src/engines/BaselineEngine';
import { LGNEngine } from '../src/engines/LGNEngine';
import { LNNEngine } from '../src/engines/LNNEngine';
import { learnedOptions } from '../src/engines/learned';
import { createEngine } from '../src/engines/registry';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { initBackend } from '../src/learned/backend';
import type { EngineReport } from '../src/learned/LearnedEngine';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';
import { World } from '../src/world/World';
import { randomStringLgn } from './support/models';

describe('learned engine routes (Node: js and wasm)', () => {
  const model = createRandomModel({ seed: 12, hidden: [32, 32], biasStd: 0.2 });
  const dp = createSystem('double-pendulum');
  const batch = 6;
  const q = Float64Array.from({ length: 2 * batch }, (_, i) => Math.sin(3 * i) * 4);
  const qd = Float64Array.from({ length: 2 * batch }, (_, i) => Math.cos(5 * i) * 8);
  const ref = new Float64Array(2 * batch);
  const refFlags = new Uint8Array(batch);
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });
  });

  // Forced-route parity against the float64 reference, per route and model kind: test/route-parity.test.ts.

  it("default 'auto' times nothing: a fixed plan by backend, kind and batch size (wasm wherever it is available)", async () => {
    const reports: EngineReport[] = [];
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm', onReport: (r) => reports.push(r) });
    expect(engine.routeTimings, 'no timing at load').toEqual([]);
    expect(engine.jsBelow, 'fixed js threshold').toBe(0);
    expect(
      [1, 2, 3, 8, 10_000].map((b) => engine.routeFor(b)),
      'routes per batch',
    ).toEqual(['wasm', 'wasm', 'wasm', 'wasm', 'wasm']);
    expect(engine.routeSummary, 'summary').toBe('auto: wasm');
    engine.jsBelow = 2;
    expect(engine.routeSummary, 'a threshold set by hand').toBe('auto: js ≤ 2 states, then wasm');
    expect(engine.describeRoute(1), 'js route described').toEqual({
      route: 'js',
      backend: 'js',
      precision: 'float64',
    });
    expect(engine.describeRoute(64), 'wasm route described').toEqual({
      route: 'wasm',
      backend: 'wasm',
      precision: 'float32',
    });
    engine.dispose();
    const baseline = await BaselineEngine.load(
      createRandomModel({ kind: 'baseline', hidden: [16], seed: 4 }),
      dp,
      {
        backend: 'wasm',
      },
    );
    expect(baseline.routeFor(1), 'baseline: the backend from one state').toBe('wasm');
    baseline.dispose();
    expect(reports, 'no reports without calls').toEqual([]);
  });

  it("'auto' with calibrate: true times every available route and splits batch sizes at the measured crossover", async () => {
    const reports: EngineReport[] = [];
    const engine = await LNNEngine.load(model, dp, {
      backend: 'wasm',
      calibrate: true,
      onReport: (r) => reports.push(r),
    });
    expect(engine.route, 'default setting').toBe('auto');
    expect(engine.availableRoutes, 'routes in Node').toEqual(['js', 'wasm']);
    const timed = engine.routeTimings.map((t) => `${t.route}@${t.batch}`).sort();
    expect(timed, 'both routes timed at 1 and 8 states').toEqual(['js@1', 'js@8', 'wasm@1', 'wasm@8']);
    for (const t of engine.routeTimings) {
      expect(t.stateStepsPerSecond, `${t.route}@${t.batch} rate`).toBeGreaterThan(0);
    }
    expect(engine.webglFusedBelow, 'no webgl-fused in Node').toBe(0);
    expect(reports, 'calibration does not report').toEqual([]);
    expect(engine.lastReport.totals.evaluations, 'calibration does not count').toBe(0);
    // The crossover is where the timed costs meet: js up to jsBelow, the backend above it.
    expect(engine.routeFor(Math.max(1, engine.jsBelow)), 'at the threshold').toBe(
      engine.jsBelow >= 1 ? 'js' : 'wasm',
    );
    expect(engine.routeFor(engine.jsBelow + 1), 'above the threshold').toBe('wasm');
    expect(engine.routeSummary, 'summary names the setting and the rates').toMatch(
      /^auto \(calibrated\): .*state-steps\/s at 1 \/ 8 states: .*js .*wasm/,
    );
    engine.jsBelow = 0;
    engine.accelerations(q, qd, new Float64Array(2 * batch), batch);
    expect(engine.lastReport.route, 'threshold overridden').toBe('wasm');
    expect(reports.length, 'reports after calibration').toBe(1);
    engine.dispose();
  });

  it('the route can be overridden after load; an unavailable route is a clear error', async () => {
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm', jsBelow: 0 });
    expect(engine.routeTimings, 'a numeric jsBelow skips the timing').toEqual([]);
    engine.route = 'js';
    engine.advance(q.slice(), qd.slice(), batch, 1 / 120, new RungeKutta4());
    expect(engine.lastReport.route, 'forced js').toBe('js');
    expect(engine.lastReport.path, 'js path').toBe('js');
    expect(engine.routeSummary).toBe('js (forced)');
    expect(() => {
      engine.route = 'webgl-fused';
    }, 'no webgl in Node').toThrow(/route 'webgl-fused' is not available.*auto, js, wasm/);
    expect(engine.route, 'setting unchanged after a rejected override').toBe('js');
    engine.route = 'auto';
    expect(engine.routeFor(batch), 'back to auto with jsBelow 0').toBe('wasm');
    engine.dispose();
    await expect(
      LNNEngine.load(model, dp, { backend: 'wasm', route: 'cpu' }),
      'other backend',
    ).rejects.toThrow(/route 'cpu' is not available/);
    await expect(
      LNNEngine.load(model, dp, { backend: 'js', route: 'wasm' }),
      'no wasm route on the js backend',
    ).rejects.toThrow(/route 'wasm' is not available here \(backend js\); use one of auto, js\./);
  });

  it('a route whose backend fell back follows the fallback with a warning', async () => {
    // No WebGL in Node: webgl falls back to wasm, so webgl-fused becomes auto.
    const engine = await LNNEngine.load(model, dp, { backend: 'webgl', route: 'webgl-fused', jsBelow: 0 });
    expect(engine.backend, 'fallback backend').toBe('wasm');
    expect(engine.route, 'route after the fallback').toBe('auto');
    expect(engine.warnings.join('\n'), 'warning').toMatch(/route 'webgl-fused' needs the webgl backend/);
    engine.dispose();
  });

  it("an engine on cpu also offers the wasm route: forced 'wasm' equals the cpu route, weights on wasm are uploaded once and freed by dispose", async () => {
    await initBackend({ backend: 'cpu' });
    const count = () => ({
      all: tf.memory().numTensors,
      cpu: tf.engine().registry.cpu.numDataIds(),
      wasm: tf.engine().registry.wasm.numDataIds(),
    });
    const before = count();
    const engine = await LNNEngine.load(model, dp, { backend: 'cpu', route: 'cpu' });
    expect(engine.backend, 'backend').toBe('cpu');
    expect(tf.getBackend(), 'loading leaves the engine backend active').toBe('cpu');
    expect(engine.availableRoutes, 'routes of a cpu engine').toEqual(['js', 'cpu', 'wasm']);
    expect(engine.routeFor(batch), 'the forced backend route').toBe('cpu');
    const onCpu = new Float64Array(2 * batch);
    engine.accelerations(q, qd, onCpu, batch);
    expect(engine.lastReport.route, 'cpu route').toBe('cpu');
    expect(engine.lastReport.backend, 'cpu computed').toBe('cpu');
    const loaded = count();
    expect(loaded.wasm, 'no wasm weights before the wasm route is used').toBe(before.wasm);

    engine.route = 'wasm';
    const onWasm = new Float64Array(2 * batch);
    engine.accelerations(q, qd, onWasm, batch);
    expect(engine.lastReport.route, 'wasm route').toBe('wasm');
    expect(engine.lastReport.path, 'wasm route path').toBe('tensor');
    expect(engine.lastReport.backend, 'wasm computed').toBe('wasm');
    expect(tf.getBackend(), 'the active backend is restored after the call').toBe('cpu');
    for (let i = 0; i < 2 * batch; i++) {
      const scale = Math.max(1, Math.abs(onCpu[i - (i % 2)]), Math.abs(onCpu[i - (i % 2) + 1]));
      expect(Math.abs(onWasm[i] - onCpu[i]) / scale, `q̈[${i}] wasm vs cpu`).toBeLessThan(1e-4);
    }
    const withWasm = count();
    expect(withWasm.wasm, 'wasm weights uploaded on first use').toBeGreaterThan(loaded.wasm);
    expect(withWasm.cpu, 'cpu tensors unchanged by the wasm route').toBe(loaded.cpu);
    const rk4 = new RungeKutta4();
    const q1 = q.slice();
    const v1 = qd.slice().map((v) => v * 0.01);
    for (let s = 0; s < 20; s++) engine.advance(q1, v1, batch, 1 / 240, rk4, 2);
    expect(engine.lastReport.route, 'advance on the wasm route').toBe('wasm');
    expect(q1.every(Number.isFinite), 'state finite').toBe(true);
    expect(tf.getBackend(), 'restored after advance').toBe('cpu');
    expect(count(), 'no tensor growth on either backend over repeated calls').toEqual(withWasm);

    engine.dispose();
    expect(count(), 'dispose frees the weights on both backends').toEqual(before);
    await initBackend({ backend: 'wasm' });
  });

  it('baseline and lgn engines on cpu: the wasm route gives the q̈ of the cpu route and frees its weights', async () => {
    await initBackend({ backend: 'cpu' });
    const baseline = createRandomModel({ kind: 'baseline', hidden: [16, 16], seed: 4 });
    const lgn = randomStringLgn();
    const cases = [
      ['baseline', () => BaselineEngine.load(baseline, dp, { backend: 'cpu', route: 'cpu' }), 2],
      [
        'lgn',
        () => LGNEngine.load(lgn, createSystem('string', { nodes: 4 }), { backend: 'cpu', route: 'cpu' }),
        4,
      ],
    ] as const;
    for (const [label, load, n] of cases) {
      const before = tf.memory().numTensors;
      const engine = await load();
      const sq = Float64Array.from({ length: n * 3 }, (_, i) => 0.3 * Math.sin(2 * i + 1));
      const sqd = Float64Array.from({ length: n * 3 }, (_, i) => 0.4 * Math.cos(3 * i));
      const onCpu = new Float64Array(n * 3);
      const onWasm = new Float64Array(n * 3);
      engine.accelerations(sq, sqd, onCpu, 3);
      engine.route = 'wasm';
      engine.accelerations(sq, sqd, onWasm, 3);
      expect(engine.lastReport.route, `${label}: wasm route`).toBe('wasm');
      let worst = 0;
      for (let i = 0; i < onCpu.length; i++) worst = Math.max(worst, Math.abs(onWasm[i] - onCpu[i]));
      const scale = Math.max(1, ...Array.from(onCpu, Math.abs));
      expect(worst / scale, `${label}: wasm vs cpu q̈`).toBeLessThan(1e-4);
      expect(tf.getBackend(), `${label}: cpu active again`).toBe('cpu');
      engine.dispose();
      expect(tf.memory().numTensors, `${label}: dispose frees both weight sets`).toBe(before);
    }
    await initBackend({ backend: 'wasm' });
  });

  it("'auto' with calibrate: true on cpu times the wasm route too and takes the cheapest route per batch size", async () => {
    await initBackend({ backend: 'cpu' });
    const engine = await LNNEngine.load(model, dp, { backend: 'cpu', calibrate: true });
    const timed = engine.routeTimings.map((t) => `${t.route}@${t.batch}`).sort();
    expect(timed, 'every route timed at 1 and 8 states').toEqual([
      'cpu@1',
      'cpu@8',
      'js@1',
      'js@8',
      'wasm@1',
      'wasm@8',
    ]);
    // The cost model of each route from its two timings: ms = fixed + perState · batch.
    const ms = (route: string, b: number) =>
      engine.routeTimings.find((t) => t.route === route && t.batch === b)!.ms;
    const cost = (route: string, batch: number) => {
      const perState = Math.max(0, (ms(route, 8) - ms(route, 1)) / 7);
      return Math.max(0, ms(route, 1) - perState) + perState * batch;
    };
    const summary = engine.routeSummary;
    const js = engine.jsBelow;
    expect(js, 'js range capped').toBeLessThanOrEqual(256);
    // js up to the last batch where it is the cheapest of all; from there on the cheaper of cpu and wasm.
    if (js > 0) {
      expect(cost('js', js), `js cheapest at jsBelow = ${js} (${summary})`).toBeLessThanOrEqual(
        Math.min(cost('cpu', js), cost('wasm', js)),
      );
    }
    for (const b of [1, 2, 8, 64, 256, 1000, 100_000]) {
      const chosen = engine.routeFor(b);
      if (b <= js) {
        expect(chosen, `batch ${b} ≤ jsBelow`).toBe('js');
        continue;
      }
      if (b <= 256) {
        expect(cost('js', b), `batch ${b}: js is not the cheapest above jsBelow`).toBeGreaterThan(
          Math.min(cost('cpu', b), cost('wasm', b)),
        );
      }
      const cheapest = Math.min(cost('cpu', b), cost('wasm', b));
      expect(
        cost(chosen, b),
        `batch ${b}: ${chosen} is the cheaper of cpu and wasm (${summary})`,
      ).toBeCloseTo(cheapest, 9);
    }
    console.log(`cpu engine: ${engine.routeSummary}`);
    if (engine.routeFor(64) === 'wasm')
      expect(engine.routeSummary, 'the summary names the wasm range').toMatch(/^auto \(calibrated\): .*wasm/);
    engine.dispose();
    await initBackend({ backend: 'wasm' });
  });

  it('registry options pass a route through and reject an unknown one', () => {
    expect(learnedOptions({ route: 'js' }).route).toBe('js');
    expect(() => learnedOptions({ route: 'gpu' }), 'unknown route').toThrow(/Unknown route 'gpu'/);
  });

  it('a threshold set by hand on a cpu engine with the wasm route replaces only that threshold: wasm stays after js', async () => {
    await initBackend({ backend: 'cpu' });
    const engine = await LNNEngine.load(model, dp, { backend: 'cpu' });
    expect(engine.availableRoutes, 'routes').toEqual(['js', 'cpu', 'wasm']);
    const fixed = 'auto: js ≤ 2 states, then wasm';
    expect(engine.routeSummary, 'the fixed plan').toBe(fixed);
    // biome-ignore lint/correctness/noSelfAssign: assigning the value read must keep the plan
    engine.jsBelow = engine.jsBelow;
    expect(engine.routeSummary, 'jsBelow = jsBelow').toBe(fixed);
    // biome-ignore lint/correctness/noSelfAssign: as above
    engine.webglFusedBelow = engine.webglFusedBelow;
    expect(engine.routeSummary, 'webglFusedBelow = webglFusedBelow').toBe(fixed);
    engine.jsBelow = 4;
    expect(engine.routeSummary, 'jsBelow 4').toBe('auto: js ≤ 4 states, then wasm');
    expect(
      [4, 5, 1000].map((b) => engine.routeFor(b)),
      'routes at 4, 5, 1000',
    ).toEqual(['js', 'wasm', 'wasm']);
    engine.jsBelow = 0;
    expect(engine.routeSummary, 'jsBelow 0: no js range').toBe('auto: wasm');
    const qdd = new Float64Array(2 * batch);
    engine.accelerations(q, qd, qdd, 1);
    expect(engine.lastReport.route, 'one state on wasm').toBe('wasm');
    engine.jsBelow = 'auto';
    expect(engine.routeSummary, "'auto': the fixed threshold again").toBe(fixed);
    engine.dispose();
    const option = await LNNEngine.load(model, dp, { backend: 'cpu', jsBelow: 0 });
    expect(option.routeSummary, 'the option jsBelow: 0').toBe('auto: wasm');
    option.dispose();
    await initBackend({ backend: 'wasm' });
  });

  /** A clock in ms that moves 4 ms per read: every route times the same, so the plan is the same each time. */
  const steadyClock = () => {
    let t = 0;
    return () => (t += 4);
  };

  it('a jsBelow set by hand overrides the measured threshold, before or after calibration; the rest stays measured', async () => {
    const measured = await LNNEngine.load(model, dp, {
      backend: 'wasm',
      calibrate: { now: steadyClock(), maxThreshold: 64 },
    });
    const own = measured.jsBelow;
    expect(own, 'equal timings: js up to the cap').toBe(64);
    measured.dispose();
    const engine = await LNNEngine.load(model, dp, {
      backend: 'wasm',
      jsBelow: 4,
      calibrate: { now: steadyClock(), maxThreshold: 64 },
    });
    expect(engine.routeTimings.length, 'timed at load').toBe(4);
    expect(engine.jsBelow, 'the option wins over the measured threshold').toBe(4);
    expect(engine.routeSummary).toMatch(/^auto \(calibrated\): js ≤ 4 states, then wasm · state-steps\/s/);
    engine.jsBelow = 1;
    expect(engine.calibrate({ now: steadyClock(), maxThreshold: 64 }), 'assigned before calibrate()').toBe(1);
    expect(engine.routeSummary).toMatch(/^auto \(calibrated\): js ≤ 1 states, then wasm · /);
    engine.jsBelow = 'auto';
    expect(engine.jsBelow, "'auto': the measured threshold").toBe(own);
    engine.jsBelow = 3;
    expect(engine.routeSummary, 'assigned after calibrate()').toMatch(
      /^auto \(calibrated\): js ≤ 3 states, then wasm · /,
    );
    engine.dispose();
  });

  it('registry options pass calibrate through as a boolean or { now, maxThreshold }, by createEngine and World.add', async () => {
    const now = () => 0;
    expect(learnedOptions({ calibrate: true }).calibrate, 'boolean').toBe(true);
    expect(learnedOptions({ calibrate: { now, maxThreshold: 3 } }).calibrate, 'object').toEqual({
      now,
      maxThreshold: 3,
    });
    expect(learnedOptions({}).calibrate, 'absent').toBeUndefined();
    expect(() => learnedOptions({ calibrate: 'yes' }), 'a string').toThrow(/Unknown calibrate 'yes'/);
    expect(() => learnedOptions({ calibrate: { now: 5 } }), 'a clock that is no function').toThrow(
      /calibrate\.now must be a function/,
    );
    expect(() => learnedOptions({ calibrate: { maxThreshold: -1 } }), 'a negative cap').toThrow(
      /calibrate\.maxThreshold must be a finite number ≥ 0, got -1/,
    );
    const created = (await createEngine('lnn', dp, {
      model,
      backend: 'wasm',
      calibrate: { now: steadyClock(), maxThreshold: 3 },
    })) as LNNEngine;
    expect(created.routeTimings.length, 'createEngine: timed with the clock given').toBe(4);
    expect(created.jsBelow, 'createEngine: the cap given').toBe(3);
    created.dispose();
    const world = new World();
    const handle = await world.add(dp, {
      engine: 'lnn',
      model,
      backend: 'wasm',
      engineOptions: { calibrate: { now: steadyClock(), maxThreshold: 2 } },
    });
    const engine = handle.engine as LNNEngine;
    expect(engine.routeTimings.length, 'World.add: timed').toBe(4);
    expect(engine.jsBelow, 'World.add: the cap given').toBe(2);
    world.dispose();
  });
});
