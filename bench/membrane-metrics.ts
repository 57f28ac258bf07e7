/**
 * Measures the shipped membrane-lgn and records the figures in its model.json (`massScale` and
 * `metrics.modeFrequencies`, `metrics.energyError`, `metrics.qddL1`), next to the trainer's own
 * `validationQddL1`. The protocols are those of test/membrane.test.ts:
 *
 * - mode frequencies on a 64×64 membrane: ω_jk from the learned q̈ of mode shapes displaced by ±0.01 at
 *   rest, −φ·(q̈(+εφ) − q̈(−εφ)) / (2ε‖φ‖²), for j, k ∈ {1, 2, 4, 8, 16, 32, 64} (49 modes), wasm route,
 *   against ω_jk = (2c/h)·√(sin²(jπ/130) + sin²(kπ/130));
 * - energy on a 64×64 membrane: `starts` states of the system sampler (seeds 0 …), RK4 dt = 0.05 for 10 s
 *   on the wasm route, max over time of |E(t) − E(0)|/E(0) with the exact energy of the learned trajectory;
 * - q̈ L1 on the 4×4 training grid: mean |q̈_learned − q̈_exact| over uniform training-box states (seed 1);
 * - α (massScale) by `measureMassScale` over 4096 states on the training grid.
 *
 * Run: `npx tsx bench/membrane-metrics.ts [starts] [--write]` (without --write it only prints).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { LGNEngine } from '../src/engines/LGNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { initBackend } from '../src/learned/backend';
import { createRng } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import { measureMassScale } from '../src/model/massScale';
import { SolveFlag } from '../src/nn/solvePolicy';
import { Membrane, membraneModeShape } from '../src/systems/Membrane';
import { membraneModeFrequencies } from '../src/systems/membraneModeFrequencies';

const DIR = 'assets/models/membrane-lgn';
const starts = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3);
const write = process.argv.includes('--write');
const date = new Date().toISOString().slice(0, 10);
const evaluator = 'bench/membrane-metrics.ts (wasm)';

await initBackend({ backend: 'wasm' });
const model = await loadModel(DIR);
const meta = model.metadata;
const side = 64;
const system = new Membrane({ nx: side, ny: side });
const n = system.dof;

// Mode frequencies.
const ks = [1, 2, 4, 8, 16, 32, 64];
const exact = membraneModeFrequencies(system);
const eps = 1e-2;
const count = ks.length * ks.length;
const q = new Float64Array(2 * count * n);
const phi = new Float64Array(n);
let m = 0;
for (const k of ks) {
  for (const j of ks) {
    membraneModeShape(side, side, j, k, phi);
    for (let i = 0; i < n; i++) {
      q[2 * m * n + i] = eps * phi[i];
      q[(2 * m + 1) * n + i] = -eps * phi[i];
    }
    m++;
  }
}
const engine = await LGNEngine.load(model, system, { backend: 'wasm', route: 'wasm' });
const qdd = new Float64Array(q.length);
engine.accelerations(q, new Float64Array(q.length), qdd, 2 * count);
const errors: number[] = [];
m = 0;
for (const k of ks) {
  for (const j of ks) {
    membraneModeShape(side, side, j, k, phi);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      num += phi[i] * (qdd[2 * m * n + i] - qdd[(2 * m + 1) * n + i]);
      den += phi[i] * phi[i];
    }
    const w0 = exact[(k - 1) * side + j - 1];
    errors.push(Math.abs(Math.sqrt(-num / (2 * eps * den)) - w0) / w0);
    m++;
  }
}
const modeFrequencies = {
  value: Math.max(...errors),
  meanRelError: errors.reduce((a, b) => a + b, 0) / errors.length,
  modesWithin1Percent: errors.filter((e) => e < 0.01).length,
  modes: count,
  nodes: `${side}x${side}`,
  protocol:
    'max over modes (j, k), j, k in {1, 2, 4, 8, 16, 32, 64}, of |omega_jk - exact|/exact, omega_jk from the learned qdd of mode shapes displaced by +-0.01 at rest on a 64x64 grid; exact (2c/h) sqrt(sin^2(j pi/130) + sin^2(k pi/130))',
  evaluator,
  date,
};
console.log('modeFrequencies', modeFrequencies);

// Energy over 10 s.
const rk4 = new RungeKutta4();
const dt = 0.05;
const worst: number[] = [];
for (let s = 0; s < starts; s++) {
  const q0 = new Float64Array(n);
  const v0 = new Float64Array(n);
  system.sample(createRng(s), q0, v0);
  const e0 = system.energy(q0, v0);
  let w = 0;
  for (let step = 0; step < Math.round(10 / dt); step += 5) {
    engine.advance(q0, v0, 1, dt, rk4, 5);
    if (engine.lastReport.flags[0] !== SolveFlag.ok)
      throw new Error(`start ${s}: flag ${engine.lastReport.flags[0]}`);
    w = Math.max(w, Math.abs(system.energy(q0, v0) - e0) / e0);
  }
  worst.push(w);
  console.log(`start ${s}: max |E(t) - E(0)|/E(0) = ${w.toExponential(3)}`);
}
engine.dispose();
const energyError = {
  value: worst.reduce((a, b) => a + b, 0) / worst.length,
  max: Math.max(...worst),
  starts,
  nodes: `${side}x${side}`,
  protocol: `${starts} starts from the system sampler (seeds 0..${starts - 1}), RK4 dt=0.05 for 10 s on a 64x64 grid; mean over starts of max over time of |E(t)-E(0)|/E(0), exact energy of the learned trajectory`,
  evaluator,
  date,
};
console.log('energyError', energyError);

// q̈ L1 on the training grid.
const grid = meta.graph?.type === 'grid' ? meta.graph : { nx: 4, ny: 4 };
const train = new Membrane({ ...meta.system.params, nx: grid.nx, ny: grid.ny });
const states = 20000;
const rng = createRng(1);
const [qlo, qhi] = meta.trainingRanges?.q[0] ?? [-0.1, 0.1];
const [vlo, vhi] = meta.trainingRanges?.qd[0] ?? [-1, 1];
const tq = Float64Array.from({ length: states * train.dof }, () => qlo + (qhi - qlo) * rng());
const tv = Float64Array.from({ length: states * train.dof }, () => vlo + (vhi - vlo) * rng());
const small = await LGNEngine.load(model, train, { backend: 'wasm', route: 'wasm' });
const got = new Float64Array(tq.length);
small.accelerations(tq, tv, got, states);
small.dispose();
const want = new Float64Array(tq.length);
train.accelerations(tq, tv, want, states);
let l1 = 0;
let abs = 0;
for (let i = 0; i < tq.length; i++) {
  l1 += Math.abs(got[i] - want[i]);
  abs += Math.abs(want[i]);
}
const qddL1 = {
  value: l1 / tq.length,
  meanAbsQdd: abs / tq.length,
  states,
  nodes: `${grid.nx}x${grid.ny}`,
  protocol: `mean |qdd_pred - qdd_exact| over ${states} uniform states (seed 1) from the training box per node, on the ${grid.nx}x${grid.ny} training grid`,
  evaluator,
  date,
};
console.log('qddL1', qddL1);

const massScale = measureMassScale(model, train, { states: 4096 });
console.log('massScale', massScale);

if (write) {
  const path = `${DIR}/model.json`;
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const m3 = json.userDefinedMetadata.threeLnn;
  m3.massScale = massScale;
  m3.metrics = { ...m3.metrics, modeFrequencies, energyError, qddL1 };
  writeFileSync(path, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`wrote ${path}`);
}
