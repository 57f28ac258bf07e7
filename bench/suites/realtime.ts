/**
 * Small-batch learned stepping in Node, one run per comparison: q̈/s of the fused plain-JS route against
 * TF.js wasm (op by op) and the float64 reference evaluator at batch 1 … 64, RK4 of a single learned
 * double pendulum (dt = 1/120) per route, the routes the `lnn` engine's automatic choice
 * (`route: 'auto'`) gives per batch, and the real-time capacity (pendulums at 60 RK4 steps/s of 1/60 s)
 * per route.
 */
import { cpuUsage } from 'node:process';
import { LNNEngine } from '../../src/engines/LNNEngine';
import { initBackend } from '../../src/learned/backend';
import type { RouteName } from '../../src/learned/LearnedEngine';
import { createRandomModel } from '../../src/model/randomModel';
import { referenceAccelerations } from '../../src/model/reference';
import { createSystem } from '../../src/systems/registry';
import { routeEngine } from '../pages/routeEngine';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'realtime';

function states(batch: number) {
  const q = Float64Array.from({ length: 2 * batch }, (_, i) => 2 * Math.sin(1.7 * i + 0.3));
  const qd = Float64Array.from({ length: 2 * batch }, (_, i) => 0.5 * Math.cos(2.3 * i));
  return { q, qd };
}

/** Calls per second of `fn` (after one warm-up call) over `budgetMs`, wall and CPU time. */
function rate(fn: () => void, budgetMs: number): { wall: number; cpu: number } {
  fn();
  let calls = 0;
  const c0 = cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  while (calls < 2 || elapsed < budgetMs) {
    fn();
    calls++;
    elapsed = performance.now() - t0;
  }
  const c = cpuUsage(c0);
  return { wall: calls / (elapsed / 1000), cpu: calls / ((c.user + c.system) / 1e6) };
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const budget = options.quick ? 100 : 700;
  await initBackend({ backend: 'wasm' });
  const model = createRandomModel({ seed: 1 });
  const rows: BenchRow[] = [];
  const json: Record<string, unknown> = { model: 'random weights 4→128→128→1 softplus' };
  const batches = [1, 4, 16, 64];
  const qdd: Record<string, Record<number, { wall: number; cpu: number }>> = {
    js: {},
    wasm: {},
    'reference (float64)': {},
  };
  for (const batch of batches) {
    const { q, qd } = states(batch);
    const out = new Float64Array(2 * batch);
    for (const route of ['js', 'wasm'] as RouteName[]) {
      const r = await routeEngine(model, route);
      const x = rate(() => r.accelerations(q, qd, out, batch), budget);
      qdd[route][batch] = { wall: x.wall * batch, cpu: x.cpu * batch };
      r.dispose();
    }
    const x = rate(() => referenceAccelerations(model, q, qd, out, batch), budget);
    qdd['reference (float64)'][batch] = { wall: x.wall * batch, cpu: x.cpu * batch };
  }
  for (const [route, byBatch] of Object.entries(qdd)) {
    const row: BenchRow = { measure: 'q̈/s (wall; per CPU-s)', route };
    for (const b of batches)
      row[`batch ${b}`] = `${Math.round(byBatch[b].wall)}; ${Math.round(byBatch[b].cpu)}`;
    rows.push(row);
  }
  json.qddPerSecond = qdd;

  const single: Record<string, unknown> = {};
  for (const route of ['js', 'wasm'] as RouteName[]) {
    const r = await routeEngine(model, route);
    const { q, qd } = states(1);
    const x = rate(() => r.advance(q, qd, 1, 1 / 120, 1), budget);
    r.dispose();
    single[route] = { stepsPerSecond: x.wall, stepsPerCpuSecond: x.cpu, realTime: x.wall / 120 };
    rows.push({
      measure: 'single DP RK4 dt=1/120: × real time (wall; per CPU-s)',
      route,
      'batch 1': `${(x.wall / 120).toFixed(1)}; ${(x.cpu / 120).toFixed(1)}`,
    });
  }
  json.singlePendulum = single;

  const auto: Record<string, unknown> = {};
  const engine = await LNNEngine.load(model, createSystem('double-pendulum'), { backend: 'wasm' });
  for (const batch of [1, 16, 64]) auto[batch] = engine.routeFor(batch);
  auto.jsBelow = engine.jsBelow;
  rows.push({ measure: "route: 'auto' (engine.routeSummary)", route: engine.routeSummary });
  engine.dispose();
  // The opt-in calibration on this machine, for comparison with the fixed plan.
  const calibrated = await LNNEngine.load(model, createSystem('double-pendulum'), {
    backend: 'wasm',
    calibrate: true,
  });
  auto.calibrated = Object.fromEntries([1, 16, 64].map((batch) => [batch, calibrated.routeFor(batch)]));
  auto.timings = calibrated.routeTimings;
  rows.push({
    measure: "route: 'auto', calibrate: true (engine.routeSummary)",
    route: calibrated.routeSummary,
  });
  calibrated.dispose();
  json.autoSelect = auto;

  const capacity: Record<string, unknown> = {};
  for (const route of ['js', 'wasm'] as RouteName[]) {
    const r = await routeEngine(model, route);
    const per: { batch: number; msPerStep: number; capacity: number }[] = [];
    for (const batch of [64, 256]) {
      const { q, qd } = states(batch);
      const x = rate(() => r.advance(q, qd, batch, 1 / 60, 1), budget);
      per.push({ batch, msPerStep: 1000 / x.wall, capacity: Math.floor((batch * x.wall) / 60) });
    }
    r.dispose();
    capacity[route] = per;
    rows.push({
      measure: 'learned DPs at 60 RK4 steps/s (dt=1/60)',
      route,
      'batch 64': per[0].capacity,
      'batch 256': per[1].capacity,
    });
  }
  json.capacity = capacity;
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return { rows: rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? '']))), json };
}
