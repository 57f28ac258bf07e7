/**
 * The grid LGN (`membrane-lgn` on a 12 × 10 membrane, nx ≠ ny) with `LGNEngine` on the webgl backend in
 * headless Chromium (test/browser/lnn-pages/membrane-webgl.ts), against the float64 reference
 * (`referenceAccelerations` on the run grid) and the Node engines:
 * - q̈ on every route of a webgl engine (`webgl`: float32 network on the GPU and float64 CG; `wasm` next
 *   to it; `js`) and of the resident grid kernel (`gridTermsFolded` + `solveGridCg` on the GPU), with no
 *   backend fallback and `webgl-fused` refused for a grid model;
 * - a resident RK4 run on webgl (20 steps of a random batch; 100 steps of a smooth start, for the learned
 *   energy) and the resident route on wasm (Node) against RK4 on the float64 reference;
 * - tensor counts flat over repeated calls and back to their start after `dispose()`;
 * - the step time per node on 32 × 32 and 64 × 64 grids, resident and with per-stage readback (printed,
 *   not asserted);
 * - the app's drum-membrane scene with its learned lane on the webgl backend and the webgl route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { LGNEngine } from '../../src/engines/LGNEngine';
import { RungeKutta4 } from '../../src/integrators/RungeKutta4';
import { initBackend } from '../../src/learned/backend';
import { loadModel } from '../../src/model/loadModel';
import type { LoadedModel } from '../../src/model/metadata';
import { referenceAccelerations, referenceEnergy } from '../../src/model/reference';
import { SolveFlag } from '../../src/nn/solvePolicy';
import { createSystem } from '../../src/systems/registry';
import { type BrowserHarness, startBrowserHarness } from '../support/browser';
import { relErr } from '../support/errors';
import {
  energyCase,
  GRID,
  type MembraneWebglResult,
  membraneCase,
  TRAJECTORY,
} from './lnn-pages/membrane-cases';

declare const window: Window & {
  __membraneWebgl?: MembraneWebglResult | { error: string };
  __threeLnn: TestHook;
};

const MEMBRANE_MODEL = 'assets/models/membrane-lgn';

/** Float64 reference q̈ `[batch * n]` and flags of the membrane case on `grid`. */
function referenceQdd(
  model: LoadedModel,
  grid: { nx: number; ny: number },
): { qdd: Float64Array; flags: number[] } {
  const c = membraneCase();
  const qdd = new Float64Array(c.q.length);
  const flags = new Uint8Array(c.batch);
  referenceAccelerations(model, c.q, c.qd, qdd, c.batch, { flags, grid });
  return { qdd, flags: Array.from(flags) };
}

/** The membrane case after the trajectory's RK4 steps on the float64 reference q̈. */
function referenceTrajectory(model: LoadedModel): { q: Float64Array; qd: Float64Array } {
  const c = membraneCase();
  const q = c.q.slice();
  const qd = c.qd.slice();
  const rk4 = new RungeKutta4();
  const f = (a: Float64Array, b: Float64Array, o: Float64Array, m: number) => {
    referenceAccelerations(model, a, b, o, m, { grid: GRID });
  };
  for (let s = 0; s < TRAJECTORY.steps; s++) rk4.step(f, q, qd, GRID.nx * GRID.ny, c.batch, TRAJECTORY.dt);
  return { q, qd };
}

/** Largest |E(t) − E(0)| / E(0) of a sequence of energies. */
function maxDrift(values: readonly number[]): number {
  let worst = 0;
  for (const v of values) worst = Math.max(worst, Math.abs(v - values[0]) / Math.abs(values[0]));
  return worst;
}

describe('grid LGN (membrane-lgn, 12×10) on webgl in headless Chromium', () => {
  let h: BrowserHarness;
  let r: MembraneWebglResult;
  let model: LoadedModel;
  let ref: { qdd: Float64Array; flags: number[] };

  beforeAll(async () => {
    h = await startBrowserHarness();
    const p = await h.openPage('/test/browser/lnn-pages/membrane-webgl.html');
    await p.page.waitForFunction(() => window.__membraneWebgl !== undefined, null, { timeout: 400_000 });
    const got = (await p.page.evaluate(() => window.__membraneWebgl))!;
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
    expect('error' in got ? got.error : undefined, 'page error').toBeUndefined();
    r = got as MembraneWebglResult;
    model = await loadModel(MEMBRANE_MODEL);
    ref = referenceQdd(model, GRID);
    await initBackend({ backend: 'wasm' });
  }, 420_000);

  afterAll(async () => {
    await h?.close();
  });

  it('ran on webgl with float32 render targets, no fallback; the run grid is 12×10; webgl-fused is not offered', () => {
    expect(r.backend, 'backend').toBe('webgl');
    expect(r.float32, 'WEBGL_RENDER_FLOAT32_CAPABLE').toBe(true);
    expect(r.warnings, 'fallback warnings').toEqual([]);
    expect(r.grid, 'run grid from the system').toEqual(GRID);
    expect(r.availableRoutes, 'routes of a webgl lgn engine').toEqual(['js', 'webgl', 'wasm']);
    expect(ref.flags, 'reference: H_vv definite for every state').toEqual(
      new Array(ref.flags.length).fill(SolveFlag.ok),
    );
  });

  it('the case tells nx from ny: the reference on 10×12 differs from the one on 12×10', () => {
    const swapped = referenceQdd(model, { nx: GRID.ny, ny: GRID.nx });
    expect(relErr(swapped.qdd, ref.qdd), 'q̈ on the swapped grid').toBeGreaterThan(0.1);
  });

  it('q̈ on every route of a webgl engine = float64 reference (float32 tolerance), each on its own backend', () => {
    const expected: Record<string, { path: string; backend: string; tol: number }> = {
      // js: the float64 reference evaluator itself.
      js: { path: 'js', backend: 'webgl', tol: 1e-12 },
      // Float32 network (each edge's terms to ~1e-7 relative), float64 CG.
      wasm: { path: 'tensor', backend: 'wasm', tol: 1e-3 },
      webgl: { path: 'tensor', backend: 'webgl', tol: 2e-3 },
    };
    for (const [route, want] of Object.entries(expected)) {
      const got = r.routes[route];
      expect({ route: got.route, path: got.path, backend: got.backend }, `${route}: report`).toEqual({
        route,
        path: want.path,
        backend: want.backend,
      });
      expect(got.flags, `${route}: flags`).toEqual(ref.flags);
      const err = relErr(got.qdd, ref.qdd);
      console.log(
        `membrane-lgn 12×10, 6 states, route ${route}: q̈ relErr vs float64 ${err.toExponential(2)}`,
      );
      expect(err, `${route}: q̈ vs float64 reference`).toBeLessThan(want.tol);
    }
  });

  it('the resident grid kernel (gridTermsFolded + solveGridCg on the GPU) gives the reference q̈', () => {
    expect(r.residentFlags, 'flags of the float32 CG').toEqual(ref.flags);
    // Float32 network and CG to a relative residual of 4e-6 on a well-conditioned (mass-like) H_vv.
    const err = relErr(r.residentQdd, ref.qdd);
    console.log(
      `membrane-lgn 12×10, 6 states, resident grid kernel: q̈ relErr vs float64 ${err.toExponential(2)}`,
    );
    expect(err, 'resident q̈ vs float64 reference').toBeLessThan(2e-3);
  });

  it('resident RK4 on webgl (browser) and on wasm (Node) follow RK4 on the float64 reference', async () => {
    const want = referenceTrajectory(model);
    expect({ path: r.trajectory.path, route: r.trajectory.route }, 'webgl: stayed on the GPU').toEqual({
      path: 'resident',
      route: 'webgl',
    });
    expect(r.trajectory.flags, 'webgl: flags over the run').toEqual(ref.flags);
    expect(relErr(r.trajectory.q, want.q), 'webgl: q after the steps').toBeLessThan(1e-3);
    expect(relErr(r.trajectory.qd, want.qd), 'webgl: q̇ after the steps').toBeLessThan(1e-3);

    // The resident route on wasm in Node (the same tensor CG, on another backend).
    const c = membraneCase();
    const system = createSystem('membrane', { nx: GRID.nx, ny: GRID.ny });
    const engine = await LGNEngine.load(model, system, { backend: 'wasm', route: 'wasm', resident: true });
    const q = c.q.slice();
    const qd = c.qd.slice();
    const rk4 = new RungeKutta4();
    for (let s = 0; s < TRAJECTORY.steps; s++) engine.step(q, qd, c.batch, TRAJECTORY.dt, rk4);
    const report = { path: engine.lastReport.path, route: engine.lastReport.route };
    engine.dispose();
    expect(report, 'wasm: stayed on the backend').toEqual({ path: 'resident', route: 'wasm' });
    console.log(
      `membrane-lgn 12×10, ${TRAJECTORY.steps} resident RK4 steps: q̇ relErr vs float64 webgl ${relErr(r.trajectory.qd, want.qd).toExponential(2)}, wasm ${relErr(qd, want.qd).toExponential(2)}`,
    );
    expect(relErr(q, want.q), 'wasm resident: q after the steps').toBeLessThan(1e-3);
    expect(relErr(qd, want.qd), 'wasm resident: q̇ after the steps').toBeLessThan(1e-3);
  });

  it('learned energy over 100 resident RK4 steps on webgl stays within the float64 run’s drift + 1e-4', () => {
    const e = energyCase();
    expect(r.energy.path, 'the energy run stayed on the GPU').toBe('resident');
    expect(r.energy.values.length, 'energies: start + one per step').toBe(e.steps + 1);
    expect(
      r.energy.flags.every((f) => f === SolveFlag.ok),
      'H_vv definite at every step',
    ).toBe(true);
    // The same run with the float64 reference q̈: RK4's own drift at this dt.
    const q = e.q.slice();
    const qd = e.qd.slice();
    const rk4 = new RungeKutta4();
    const f = (a: Float64Array, b: Float64Array, o: Float64Array, m: number) => {
      referenceAccelerations(model, a, b, o, m, { grid: GRID });
    };
    const values = [referenceEnergy(model, q, qd, GRID)];
    for (let s = 0; s < e.steps; s++) {
      rk4.step(f, q, qd, GRID.nx * GRID.ny, 1, e.dt);
      values.push(referenceEnergy(model, q, qd, GRID));
    }
    expect(r.energy.values[0], 'same start energy').toBeCloseTo(values[0], 12);
    const drift64 = maxDrift(values);
    const drift = maxDrift(r.energy.values);
    console.log(
      `membrane-lgn 12×10, ${e.steps} RK4 steps dt=1/60: max |ΔE|/E webgl resident ${drift.toExponential(3)}, float64 reference ${drift64.toExponential(3)}`,
    );
    // A systematic relative q̈ error δ changes E at a rate ≲ δ·|q̇·H_vv·q̈| ≈ δ·2ωE, so by ≲ 2δωT·E over the
    // run (ω₂₁ ≈ 5.5 rad/s, T = 1.67 s: ≈ 18δ·E). At the float32 CG's residual target δ = 4e-6 that is
    // 7e-5: 1e-4 over the float64 run's own RK4 drift.
    expect(drift, 'max relative energy change').toBeLessThan(drift64 + 1e-4);
  });

  it('tensors flat over 3 more rounds of every route; dispose returns to the count before', () => {
    expect(r.tensors.warm, 'the engine holds its weights').toBeGreaterThan(r.tensors.before);
    expect(r.tensors.repeated, '3 more rounds: no tensor growth').toBe(r.tensors.warm);
    expect(r.tensors.disposed, 'dispose frees every tensor').toBe(r.tensors.before);
  });

  it('prints the webgl RK4 step time per node on 32×32 and 64×64 (resident, and per-stage readback)', () => {
    expect(
      r.timings.map((t) => `${t.nx}×${t.ny} ${t.route} ${t.path}`),
      'timed runs and the path each took',
    ).toEqual(['32×32 webgl resident', '64×64 webgl resident', '32×32 webgl tensor', '64×64 webgl tensor']);
    for (const t of r.timings) {
      expect(
        t.flags.every((f) => f === SolveFlag.ok),
        `${t.nx}×${t.ny} ${t.path}: H_vv definite at every timed step`,
      ).toBe(true);
      console.log(
        `membrane-lgn ${t.nx}×${t.ny} on webgl, ${t.path} RK4 (batch 1, ${t.steps} steps): ${t.msPerStep.toFixed(1)} ms/step, ${t.usPerNode.toFixed(2)} µs per node per step`,
      );
    }
  });

  it('drum-membrane in the app (12×12, backend webgl, lgn lane pinned to the webgl route) steps the learned lane', async () => {
    const p = await h.openPage('/?scene=drum-membrane&o.side=12&backend=webgl&r.lgn=webgl,webgl,float32');
    try {
      await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 150_000 });
      await p.page.evaluate(() => window.__threeLnn.manual(true));
      const before = (await p.page.evaluate(() => window.__threeLnn.lanes())).find((l) => l.key === 'lgn');
      await p.page.evaluate(() => window.__threeLnn.frames(2));
      const backend = await p.page.evaluate(() => window.__threeLnn.backend());
      const routes = await p.page.evaluate(() => window.__threeLnn.routes());
      const lgn = (await p.page.evaluate(() => window.__threeLnn.lanes())).find((l) => l.key === 'lgn');
      expect(backend?.name, 'the app runs its learned engines on webgl').toBe('webgl');
      expect(lgn?.status, `learned lane: ${lgn?.reason}`).toBe('running');
      expect(routes.lgn, 'the lane takes the webgl route').toEqual({
        route: 'webgl',
        backend: 'webgl',
        precision: 'float32',
      });
      expect(lgn?.params, 'the lane runs the 12×12 grid').toMatchObject({ nx: 12, ny: 12 });
      expect(lgn?.finite, 'finite state').toBe(true);
      expect(lgn?.q, 'the membrane moved').not.toEqual(before?.q);
      expect(p.errors, p.errors.join('\n')).toEqual([]);
    } finally {
      await p.close();
    }
  }, 300_000);
});
