/**
 * The grid LGN's sparse solve against node count: the shipped membrane-lgn (trained on 4×4) on square
 * membranes of 16², 32², 64² and 128² nodes at a state from the system sampler. Per size: the float64
 * conjugate-gradient solve of the learned H_vv (src/linalg/graphSolve.ts) alone — its CG iterations and
 * time per solve, and that time per node (flat when the cost grows linearly) — and one whole q̈ on the
 * `wasm` route (every edge through the network, assembly, solve). No dense (N²)² matrix is formed.
 *
 * Run: `npm run bench -- membrane` (`-- --quick` for a short smoke run).
 */
import { LGNEngine } from '../../src/engines/LGNEngine';
import { gridEdges, lastGraphSolveIterations, solveGraph64 } from '../../src/linalg/graphSolve';
import { createRng } from '../../src/math/random';
import { loadModel } from '../../src/model/loadModel';
import { referenceGridTerms } from '../../src/model/reference';
import { Membrane } from '../../src/systems/Membrane';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'membrane';

const SIDES = [16, 32, 64, 128];

/** Median milliseconds of `fn` over `repeats` runs of at least `minMs` each (after one warm-up call). */
function timeMs(fn: () => void, repeats: number, minMs: number): number {
  fn();
  const per: number[] = [];
  for (let r = 0; r < repeats; r++) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs || calls === 0) {
      fn();
      calls++;
      t = performance.now();
    }
    per.push((t - t0) / calls);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const model = await loadModel('assets/models/membrane-lgn');
  const repeats = options.quick ? 3 : 7;
  const minMs = options.quick ? 20 : 200;
  const rows: BenchRow[] = [];
  for (const side of SIDES) {
    const system = new Membrane({ nx: side, ny: side });
    const n = system.dof;
    const q = new Float64Array(n);
    const qd = new Float64Array(n);
    system.sample(createRng(1), q, qd);
    const grid = { nx: side, ny: side };
    const g = gridEdges(side, side);
    const t = referenceGridTerms(model, q, qd, grid);
    const x = new Float64Array(n);
    const flag = solveGraph64(g, t.diag, 0, t.off, 0, t.rhs, 0, x, 0);
    const iterations = lastGraphSolveIterations();
    const solveMs = timeMs(() => solveGraph64(g, t.diag, 0, t.off, 0, t.rhs, 0, x, 0), repeats, minMs);
    const engine = await LGNEngine.load(model, system, { backend: 'wasm', route: 'wasm' });
    const qdd = new Float64Array(n);
    const qddMs = timeMs(() => engine.accelerations(q, qd, qdd, 1), repeats, minMs);
    engine.dispose();
    rows.push({
      nodes: n,
      edges: g.a.length,
      flag,
      cgIterations: iterations,
      solveMs,
      solveNsPerNode: (solveMs * 1e6) / n,
      qddWasmMs: qddMs,
      qddUsPerNode: (qddMs * 1e3) / n,
    });
  }
  return { rows, json: { model: 'assets/models/membrane-lgn', state: 'Membrane.sample, seed 1', rows } };
}
