/**
 * The membrane (src/systems/Membrane.ts) and the grid LGN (src/nn/lgn.ts, src/engines/LGNEngine.ts,
 * src/linalg/graphSolve.ts):
 * - the exact membrane against its own Lagrangian (exact Euler–Lagrange), the closed-form mode
 *   frequencies (eigenvectors of q̈, and the period of an RK4 run) and its RK4 energy drift;
 * - the sparse solve's policy (flags of definite, negative-definite, indefinite, zero and non-finite
 *   systems), float64 and tensor, against dense solves;
 * - the grid LGN's float64 terms against finite differences of its L, and every Node route (js, wasm, cpu,
 *   wasm next to cpu, resident cpu) against the float64 reference, with RK4 advances and no tensor left;
 * - hostile graph fields refused with typed one-line errors;
 * - the shipped membrane-lgn (trained on a 4×4 grid) on a 64×64 membrane: every mode frequency measured
 *   within 1 % of the closed form, and the energy within 0.5 % over 10 s.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LGNEngine } from '../src/engines/LGNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { EulerLagrangeSolver } from '../src/lagrangian/EulerLagrangeSolver';
import { type BackendName, initBackend } from '../src/learned/backend';
import type { RouteName } from '../src/learned/Route';
import { CG_TENSOR_ITERATIONS, gridEdges, solveGraph64 } from '../src/linalg/graphSolve';
import { createRng } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError } from '../src/model/ModelFormatError';
import { type LoadedModel, lgnGrid, type ModelMetadata } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import {
  referenceAccelerations,
  referenceEnergy,
  referenceLagrangian,
  referenceTerms,
} from '../src/model/reference';
import { validateMetadata } from '../src/model/validate';
import { solveGridCg } from '../src/nn/lgn';
import { solveSymmetric64 } from '../src/nn/solve64';
import { PD_TOLERANCE, SolveFlag } from '../src/nn/solvePolicy';
import { Membrane, membraneModeShape } from '../src/systems/Membrane';
import { membraneModeFrequencies } from '../src/systems/membraneModeFrequencies';
import { createSystem } from '../src/systems/registry';

const MEMBRANE_MODEL = 'assets/models/membrane-lgn';

/** A seeded state: q ~ U[−a, a), q̇ ~ U[−v, v). */
function randomState(n: number, seed: number, a = 0.1, v = 0.5): { q: Float64Array; qd: Float64Array } {
  const rng = createRng(seed);
  return {
    q: Float64Array.from({ length: n }, () => a * (2 * rng() - 1)),
    qd: Float64Array.from({ length: n }, () => v * (2 * rng() - 1)),
  };
}

describe('exact membrane', () => {
  it('q̈ and energy follow from its Lagrangian (exact Euler–Lagrange on jets)', () => {
    const sys = new Membrane({ nx: 4, ny: 3, spacing: 0.2, tension: 2, density: 0.5 });
    const n = sys.dof;
    expect(createSystem('membrane', { nx: 4, ny: 3 }).dof, 'registered').toBe(12);
    const solver = new EulerLagrangeSolver((o, q, qd) => sys.L(o, q, qd), n);
    for (let s = 0; s < 3; s++) {
      const { q, qd } = randomState(n, 10 + s);
      const want = new Float64Array(n);
      solver.accelerations(q, qd, want, 1);
      const got = new Float64Array(n);
      sys.accelerations(q, qd, got, 1);
      for (let i = 0; i < n; i++) {
        expect(Math.abs(got[i] - want[i]), `q̈[${i}] state ${s}`).toBeLessThan(1e-9 * (1 + Math.abs(want[i])));
      }
      const p = new Float64Array(n);
      sys.momentum(q, qd, p);
      let qdp = 0;
      for (let i = 0; i < n; i++) qdp += qd[i] * p[i];
      expect(sys.energy(q, qd), 'E = q̇·p − L').toBeCloseTo(qdp - sys.lagrangian(q, qd), 12);
    }
  });

  it('every mode shape is an eigenvector of q̈ with −ω_jk² (closed form), nx ≠ ny', () => {
    const sys = new Membrane({ nx: 5, ny: 4, spacing: 0.1, tension: 1.5, density: 0.8 });
    const w = membraneModeFrequencies(sys);
    const phi = new Float64Array(sys.dof);
    const qdd = new Float64Array(sys.dof);
    let worst = 0;
    for (let k = 1; k <= 4; k++) {
      for (let j = 1; j <= 5; j++) {
        membraneModeShape(5, 4, j, k, phi);
        sys.accelerations(phi, new Float64Array(sys.dof), qdd, 1);
        const w2 = w[(k - 1) * 5 + j - 1] ** 2;
        for (let i = 0; i < sys.dof; i++) worst = Math.max(worst, Math.abs(qdd[i] + w2 * phi[i]) / w2);
      }
    }
    expect(worst, 'max |q̈ + ω² φ| / ω² over all 20 modes').toBeLessThan(1e-12);
  });

  it('an RK4 run of mode (2, 1) on 16×12 oscillates with the closed-form period; energy drift under RK4', () => {
    const sys = new Membrane({ nx: 16, ny: 12 });
    const n = sys.dof;
    const w = membraneModeFrequencies(sys)[1]; // (j, k) = (2, 1)
    const phi = membraneModeShape(16, 12, 2, 1, new Float64Array(n));
    const q = phi.map((v) => 0.05 * v);
    const qd = new Float64Array(n);
    const e0 = sys.energy(q, qd);
    const rk4 = new RungeKutta4();
    const dt = 0.002;
    const f = (a: Float64Array, b: Float64Array, out: Float64Array) => sys.accelerations(a, b, out, 1);
    // The projection on φ is 0.05‖φ‖² cos ωt: find its first upward zero crossing after a minimum.
    const norm = phi.reduce((s, v) => s + v * v, 0);
    let prev = 0.05;
    let t = 0;
    const crossings: number[] = [];
    while (crossings.length < 2 && t < 20) {
      rk4.step(f, q, qd, n, 1, dt);
      t += dt;
      let a = 0;
      for (let i = 0; i < n; i++) a += q[i] * phi[i];
      a /= norm;
      if (prev < 0 !== a < 0) crossings.push(t - (dt * a) / (a - prev));
      prev = a;
    }
    const period = 2 * (crossings[1] - crossings[0]);
    expect(Math.abs(period - (2 * Math.PI) / w) / ((2 * Math.PI) / w), 'period vs 2π/ω_21').toBeLessThan(
      1e-6,
    );
    const drift = Math.abs(sys.energy(q, qd) - e0) / e0;
    expect(drift, `RK4 dt=${dt}: relative energy drift after ${t.toFixed(2)} s`).toBeLessThan(1e-8);
  });

  it('positions are row-major with the fixed boundary, and the point Jacobian moves interior points along y', () => {
    const sys = new Membrane({ nx: 3, ny: 2, spacing: 0.5 });
    expect(sys.pointCount).toBe(5 * 4);
    const q = Float64Array.from({ length: 6 }, (_, i) => i + 1);
    const pos = new Float64Array(3 * sys.pointCount);
    sys.positions(q, pos);
    // Node (i, j) = q[j·nx + i] is point (j + 1)·(nx + 2) + i + 1.
    expect([pos[3 * 6], pos[3 * 6 + 1], pos[3 * 6 + 2]], 'node (0, 0)').toEqual([0.5, 1, 0.5]);
    expect(pos[3 * (2 * 5 + 3) + 1], 'node (2, 1)').toBe(6);
    expect(pos[3 * 4 + 1], 'a boundary point').toBe(0);
    const jac = new Float64Array(3 * sys.dof);
    sys.pointJacobian(q, 2 * 5 + 3, jac);
    expect(Array.from(jac.subarray(6, 12)), 'y row').toEqual([0, 0, 0, 0, 0, 1]);
  });
});

/** A dense copy of the sparse grid matrix (diag + one coupling per edge). */
function denseOf(nx: number, ny: number, diag: Float64Array, off: Float64Array): number[] {
  const g = gridEdges(nx, ny);
  const n = nx * ny;
  const h = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) h[i * n + i] = diag[i];
  for (let e = 0; e < g.a.length; e++) {
    if (g.a[e] < 0 || g.b[e] < 0) continue;
    h[g.a[e] * n + g.b[e]] += off[e];
    h[g.b[e] * n + g.a[e]] += off[e];
  }
  return h;
}

describe('sparse solve: the policy of every other solve', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  const nx = 4;
  const ny = 3;
  const n = nx * ny;
  const g = gridEdges(nx, ny);
  const rhs = Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.2));
  /** A mass-matrix-like grid matrix: diagonal `d`, couplings `c` between neighbours. */
  const matrix = (d: (i: number) => number, c: number) => ({
    diag: Float64Array.from({ length: n }, (_, i) => d(i)),
    off: Float64Array.from({ length: g.a.length }, (_, e) =>
      g.a[e] >= 0 && g.b[e] >= 0 ? c * (1 + 0.1 * (e % 3)) : 0,
    ),
  });
  const cases: [string, ReturnType<typeof matrix>, number, number?][] = [
    ['positive definite', matrix((i) => 2 + 0.1 * i, 0.3), SolveFlag.ok],
    ['negative definite (L of flipped sign)', matrix((i) => -(2 + 0.1 * i), -0.3), SolveFlag.ok],
    ['indefinite diagonal', matrix((i) => (i === 5 ? -1 : 2), 0.1), SolveFlag.regularised],
    ['definite diagonal, indefinite through the couplings', matrix(() => 1, 0.9), SolveFlag.regularised],
    [
      'a pivot PD_TOLERANCE/2 · max|H_ii|',
      matrix((i) => (i === 7 ? PD_TOLERANCE / 2 : 1), 0),
      SolveFlag.regularised,
    ],
    ['zero matrix: shifted', matrix(() => 0, 0), SolveFlag.regularised],
    ['zero matrix, epsilon 0: failed', matrix(() => 0, 0), SolveFlag.failed, 0],
    ['non-finite entry: failed', matrix((i) => (i === 3 ? Number.NaN : 1), 0.1), SolveFlag.failed],
  ];

  it.each(cases)('%s: float64 and tensor flags, solutions against a dense solve', (_, m, flag, epsilon) => {
    const x = new Float64Array(n);
    const got = solveGraph64(g, m.diag, 0, m.off, 0, rhs, 0, x, 0, epsilon);
    expect(got, 'float64 flag').toBe(flag);
    const dense = new Float64Array(n);
    const denseFlag = solveSymmetric64(denseOf(nx, ny, m.diag, m.off), 0, rhs, 0, dense, 0, n, epsilon);
    if (flag === SolveFlag.failed) {
      expect(
        x.every((v) => v === 0),
        'failed: x = 0',
      ).toBe(true);
    } else {
      expect(denseFlag, 'the dense solve takes the same branch').toBe(flag);
      const scale = Math.max(1, ...dense.map(Math.abs));
      for (let i = 0; i < n; i++) expect(Math.abs(x[i] - dense[i]) / scale, `x[${i}]`).toBeLessThan(1e-10);
    }
    // Tensor: the grid layout of the same matrix.
    const offX = new Float32Array(ny * (nx - 1));
    const offY = new Float32Array((ny - 1) * nx);
    for (let e = 0; e < g.a.length; e++) {
      const a = g.a[e];
      const b = g.b[e];
      if (a < 0 || b < 0) continue;
      if (b === a + 1) offX[Math.floor(a / nx) * (nx - 1) + (a % nx)] = m.off[e];
      else offY[a] = m.off[e];
    }
    const before = tf.memory().numTensors;
    const t = solveGridCg(
      tf.tensor3d(Float32Array.from(m.diag), [1, ny, nx]),
      tf.tensor3d(offX, [1, ny, nx - 1]),
      tf.tensor3d(offY, [1, ny - 1, nx]),
      tf.tensor2d(Float32Array.from(rhs), [1, n]),
      epsilon,
    );
    const tx = t.x.dataSync();
    expect(t.flags.dataSync()[0], 'tensor flag').toBe(flag);
    if (flag !== SolveFlag.failed) {
      const scale = Math.max(1, ...dense.map(Math.abs));
      for (let i = 0; i < n; i++)
        expect(Math.abs(tx[i] - dense[i]) / scale, `tensor x[${i}]`).toBeLessThan(1e-3);
    }
    tf.dispose([t.x, t.flags]);
    expect(tf.memory().numTensors - before, 'no tensor left beyond the inputs').toBe(4);
    tf.disposeVariables();
  });

  it(`the tensor CG converges within ${CG_TENSOR_ITERATIONS} iterations on a mass-matrix-like 16×16 grid`, () => {
    const side = 16;
    const inputs = [
      tf.fill([2, side, side], 1.2) as tf.Tensor3D,
      tf.fill([2, side, side - 1], 0.15) as tf.Tensor3D,
      tf.fill([2, side - 1, side], -0.1) as tf.Tensor3D,
      tf.randomUniform([2, side * side], -1, 1, 'float32', 3) as tf.Tensor2D,
    ] as const;
    const t = solveGridCg(inputs[0], inputs[1], inputs[2], inputs[3]);
    expect(Array.from(t.flags.dataSync()), 'both states ok').toEqual([SolveFlag.ok, SolveFlag.ok]);
    tf.dispose([t.x, t.flags, ...inputs]);
  });
});

/**
 * A random grid lgn for `nx` × `ny` whose output layer has positive weights: each edge term is a positive
 * sum of softplus units of linear inputs, so H_vv is positive definite and every route takes the `ok`
 * branch.
 */
function randomGridLgn(nx: number, ny: number, seed = 7): LoadedModel {
  const m = createRandomModel({
    kind: 'lgn',
    dof: nx * ny,
    hidden: [16],
    seed,
    biasStd: 0.3,
    qScale: 10,
    qdScale: 1,
    system: { id: 'membrane', params: { nx, ny, spacing: 0.1, density: 1, tension: 1 } },
  });
  const last = m.layers[m.layers.length - 1];
  for (let i = 0; i < last.kernel.length; i++) last.kernel[i] = Math.abs(last.kernel[i]);
  m.metadata.graph = { type: 'grid', nx, ny, boundary: 'fixed' };
  return m;
}

describe('grid LGN: float64 reference', () => {
  const model = randomGridLgn(3, 2);

  it('∂L/∂q, ∂L/∂q̇ and H_vv of the edge sum equal central differences of L', () => {
    const { q, qd } = randomState(6, 4);
    const t = referenceTerms(model, q, qd);
    const eps = 1e-5;
    const L = (a: Float64Array, b: Float64Array) => referenceLagrangian(model, a, b);
    for (let i = 0; i < 6; i++) {
      const qp = q.slice();
      const qm = q.slice();
      qp[i] += eps;
      qm[i] -= eps;
      const vp = qd.slice();
      const vm = qd.slice();
      vp[i] += eps;
      vm[i] -= eps;
      expect(t.gq[i], `∂L/∂q_${i}`).toBeCloseTo((L(qp, qd) - L(qm, qd)) / (2 * eps), 6);
      expect(t.gv[i], `∂L/∂q̇_${i}`).toBeCloseTo((L(q, vp) - L(q, vm)) / (2 * eps), 6);
      const gvp = referenceTerms(model, q, vp).gv;
      const gvm = referenceTerms(model, q, vm).gv;
      const gvq = referenceTerms(model, qp, qd).gv;
      const gvqm = referenceTerms(model, qm, qd).gv;
      for (let j = 0; j < 6; j++) {
        expect(t.hvv[j * 6 + i], `H_vv[${j},${i}]`).toBeCloseTo((gvp[j] - gvm[j]) / (2 * eps), 5);
        expect(t.hvq[j * 6 + i], `H_vq[${j},${i}]`).toBeCloseTo((gvq[j] - gvqm[j]) / (2 * eps), 5);
      }
    }
    // Neighbours couple, others do not: node 0 = (0, 0) and node 5 = (2, 1) share no edge.
    expect(t.hvv[0 * 6 + 5], 'no coupling between non-neighbours').toBe(0);
  });

  it('the sparse q̈ equals the dense solve of the same terms, and the energy is q̇·∂L/∂q̇ − L', () => {
    const batch = 3;
    const { q, qd } = randomState(6 * batch, 9);
    const qdd = new Float64Array(6 * batch);
    const flags = new Uint8Array(batch);
    referenceAccelerations(model, q, qd, qdd, batch, { flags });
    for (let b = 0; b < batch; b++) {
      expect(flags[b], `state ${b} definite`).toBe(SolveFlag.ok);
      const qs = q.subarray(6 * b, 6 * b + 6);
      const vs = qd.subarray(6 * b, 6 * b + 6);
      const t = referenceTerms(model, qs, vs);
      const rhs = new Float64Array(6);
      for (let i = 0; i < 6; i++) {
        rhs[i] = t.gq[i];
        for (let j = 0; j < 6; j++) rhs[i] -= t.hvq[i * 6 + j] * vs[j];
      }
      const dense = new Float64Array(6);
      solveSymmetric64(t.hvv, 0, rhs, 0, dense, 0, 6);
      for (let i = 0; i < 6; i++) {
        expect(Math.abs(qdd[6 * b + i] - dense[i]), `q̈[${i}] state ${b}`).toBeLessThan(
          1e-10 * (1 + Math.abs(dense[i])),
        );
      }
      let e = -t.L;
      for (let i = 0; i < 6; i++) e += vs[i] * t.gv[i];
      expect(referenceEnergy(model, qs, vs), 'energy').toBeCloseTo(e, 12);
    }
  });

  it('runs any grid: the run grid comes from the system, a wrong size is refused', () => {
    expect(lgnGrid(model.metadata, createSystem('membrane', { nx: 7, ny: 5 }))).toEqual({ nx: 7, ny: 5 });
    expect(() => lgnGrid(model.metadata, createSystem('string', { nodes: 6 }))).toThrow(/nx, ny/);
    const { q, qd } = randomState(35, 2);
    expect(() =>
      referenceAccelerations(model, q, qd, new Float64Array(35), 1, { grid: { nx: 6, ny: 6 } }),
    ).toThrow(/pass the run grid/);
    // Without a grid: the training grid when it fits, else one row (35 × 1).
    const row = new Float64Array(35);
    referenceAccelerations(model, q, qd, row, 1);
    const strip = new Float64Array(35);
    referenceAccelerations(model, q, qd, strip, 1, { grid: { nx: 35, ny: 1 } });
    expect(Array.from(row), 'default: one row').toEqual(Array.from(strip));
    const out = new Float64Array(35);
    referenceAccelerations(model, q, qd, out, 1, { grid: { nx: 7, ny: 5 } });
    expect(out.every(Number.isFinite), '7×5 q̈ finite').toBe(true);
  });
});

/** Node routes: name, engine backend, resident, tolerance against the float64 reference. */
const ROUTES: { route: RouteName; backend: BackendName; resident: boolean; tol: number }[] = [
  { route: 'js', backend: 'wasm', resident: false, tol: 1e-9 },
  { route: 'wasm', backend: 'wasm', resident: false, tol: 1e-3 },
  { route: 'cpu', backend: 'cpu', resident: false, tol: 1e-3 },
  { route: 'wasm', backend: 'cpu', resident: false, tol: 1e-3 },
  { route: 'cpu', backend: 'cpu', resident: true, tol: 1e-3 },
];

describe.each(ROUTES)('grid LGN on route $route ($backend engine, resident $resident)', (r) => {
  beforeAll(async () => {
    expect((await initBackend({ backend: r.backend })).name, 'backend').toBe(r.backend);
  });

  it('q̈ equals the float64 reference on a 5×4 grid of a model trained on 3×2; RK4 advances; dispose frees tensors', async () => {
    const model = randomGridLgn(3, 2);
    const system = createSystem('membrane', { nx: 5, ny: 4 });
    const n = system.dof;
    const batch = 3;
    const { q, qd } = randomState(n * batch, 21);
    const ref = new Float64Array(n * batch);
    const refFlags = new Uint8Array(batch);
    referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags, grid: { nx: 5, ny: 4 } });
    expect(Array.from(refFlags), 'reference flags').toEqual([0, 0, 0]);
    const before = tf.memory().numTensors;
    const engine = await LGNEngine.load(model, system, {
      backend: r.backend,
      route: r.route,
      resident: r.resident,
    });
    expect(engine.grid, 'run grid').toEqual({ nx: 5, ny: 4 });
    const out = new Float64Array(n * batch);
    engine.accelerations(q, qd, out, batch);
    expect(engine.lastReport.route, 'route').toBe(r.route);
    expect(Array.from(engine.lastReport.flags.subarray(0, batch)), 'flags').toEqual([0, 0, 0]);
    let scale = 1;
    for (const v of ref) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < n * batch; i++) {
      expect(Math.abs(out[i] - ref[i]) / scale, `q̈[${i}] ${out[i]} vs ${ref[i]}`).toBeLessThan(r.tol);
    }
    // Advances: compare with the same advances on the float64 reference.
    const q1 = q.slice();
    const v1 = qd.slice();
    const q2 = q.slice();
    const v2 = qd.slice();
    const rk4 = new RungeKutta4();
    const f = (a: Float64Array, b: Float64Array, o: Float64Array) =>
      referenceAccelerations(model, a, b, o, batch, { grid: { nx: 5, ny: 4 } });
    for (let s = 0; s < 5; s++) {
      engine.advance(q1, v1, batch, 1 / 240, rk4, 2);
      expect(engine.lastReport.route, 'every advance on the route').toBe(r.route);
      expect(engine.lastReport.path, 'resident advances stay on the backend').toBe(
        r.resident ? 'resident' : r.route === 'js' ? 'js' : 'tensor',
      );
      for (let k = 0; k < 2; k++) rk4.step(f, q2, v2, n, batch, 1 / 240);
    }
    let worst = 0;
    for (let i = 0; i < n * batch; i++) worst = Math.max(worst, Math.abs(v1[i] - v2[i]));
    expect(worst, '10 RK4 steps: q̇ against the float64 reference').toBeLessThan(r.tol * 10);
    expect(engine.energy(q1.subarray(0, n), v1.subarray(0, n)), 'energy finite').toSatisfy(Number.isFinite);
    engine.dispose();
    expect(tf.memory().numTensors, 'tensors freed after dispose').toBe(before);
  });
});

describe('hostile graph fields', () => {
  /** The metadata of a valid 3×2 grid model, with `graph` replaced. */
  const withGraph = (graph: unknown, dof = 6): ModelMetadata =>
    ({ ...structuredClone(randomGridLgn(3, 2).metadata), graph, dof }) as ModelMetadata;
  const cases: [string, unknown, number, string, RegExp][] = [
    ['unknown type', { type: 'torus', boundary: 'fixed' }, 6, 'bad-field', /not supported/],
    ['free boundary', { type: 'grid', nx: 3, ny: 2, boundary: 'free' }, 6, 'bad-field', /not supported/],
    ['nx not an integer', { type: 'grid', nx: 2.5, ny: 2, boundary: 'fixed' }, 5, 'bad-field', /graph\.nx/],
    ['ny missing', { type: 'grid', nx: 3, boundary: 'fixed' }, 6, 'bad-field', /graph\.ny/],
    ['nx huge', { type: 'grid', nx: 1e9, ny: 1, boundary: 'fixed' }, 6, 'too-large', /largest grid side/],
    ['nx · ny ≠ dof', { type: 'grid', nx: 3, ny: 3, boundary: 'fixed' }, 6, 'shape-mismatch', /dof/],
    ['graph a string', 'grid', 6, 'bad-field', /not supported/],
  ];
  it.each(cases)('%s: a typed one-line error', (_, graph, dof, problem, message) => {
    let err: unknown;
    try {
      validateMetadata(withGraph(graph, dof), 'hostile.json');
    } catch (e) {
      err = e;
    }
    expect(err, 'refused').toBeInstanceOf(ModelFormatError);
    const e = err as ModelFormatError;
    expect(e.problem, e.message).toBe(problem);
    expect(e.message, 'names the problem').toMatch(message);
    expect(e.message.includes('\n'), 'one line').toBe(false);
  });

  it('a valid grid passes', () => {
    expect(() =>
      validateMetadata(withGraph({ type: 'grid', nx: 3, ny: 2, boundary: 'fixed' }), 'ok.json'),
    ).not.toThrow();
  });
});

describe('shipped membrane-lgn (trained on a 4×4 grid) on a 64×64 membrane', () => {
  const side = 64;
  const system = new Membrane({ nx: side, ny: side });
  const n = system.dof;
  let model: LoadedModel;

  beforeAll(async () => {
    model = await loadModel(MEMBRANE_MODEL);
    await initBackend({ backend: 'wasm' });
  });

  it('was trained on at most 6×6 nodes and runs any grid', () => {
    const g = model.metadata.graph;
    expect(g?.type, 'a grid model').toBe('grid');
    if (g?.type === 'grid') expect(g.nx * g.ny, 'training grid ≤ 6×6').toBeLessThanOrEqual(36);
  });

  it('every mode frequency measured on a 64×64 grid is within 1 % of the closed form', async () => {
    // ω² of mode φ from the learned q̈ at rest: −φ·q̈(εφ)/(ε‖φ‖²), symmetrised over ±ε (removes the
    // even part of the learned force), on the wasm route (float32 network, float64 solve). Modes
    // j, k ∈ {1, 2, 4, 8, 16, 32, 64}: the lowest, the middle and the highest of the grid.
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
    const qdd = new Float64Array(q.length);
    const engine = await LGNEngine.load(model, system, { backend: 'wasm', route: 'wasm' });
    engine.accelerations(q, new Float64Array(q.length), qdd, 2 * count);
    const flags = Array.from(engine.lastReport.flags.subarray(0, 2 * count));
    engine.dispose();
    expect(
      flags.every((f) => f === SolveFlag.ok),
      'H_vv definite for every state',
    ).toBe(true);
    let worst = 0;
    let worstAt = '';
    m = 0;
    const rows: string[] = [];
    for (const k of ks) {
      for (const j of ks) {
        membraneModeShape(side, side, j, k, phi);
        let num = 0;
        let den = 0;
        for (let i = 0; i < n; i++) {
          num += phi[i] * (qdd[2 * m * n + i] - qdd[(2 * m + 1) * n + i]);
          den += phi[i] * phi[i];
        }
        const w = Math.sqrt(-num / (2 * eps * den));
        const w0 = exact[(k - 1) * side + j - 1];
        const rel = Math.abs(w - w0) / w0;
        if (rel > worst) {
          worst = rel;
          worstAt = `(${j}, ${k})`;
        }
        if (j === k || k === 1)
          rows.push(`(${j},${k}) ω ${w.toFixed(5)} exact ${w0.toFixed(5)} err ${(100 * rel).toFixed(3)}%`);
        m++;
      }
    }
    console.log(
      `membrane-lgn 64×64 mode frequencies (${count} modes), worst ${(100 * worst).toFixed(3)}% at ${worstAt}\n  ${rows.join('\n  ')}`,
    );
    expect(worst, `worst relative frequency error, at mode ${worstAt}`).toBeLessThan(0.01);
  }, 600_000);

  it('energy within 0.5 % over 10 s (RK4, the system sampler, exact energy of the learned trajectory)', async () => {
    const engine = await LGNEngine.load(model, system, { backend: 'wasm', route: 'wasm' });
    const q = new Float64Array(n);
    const qd = new Float64Array(n);
    system.sample(createRng(0), q, qd);
    const e0 = system.energy(q, qd);
    const rk4 = new RungeKutta4();
    // dt = 0.05: ω·dt ≤ 1.42 for every mode of the grid (RK4 is stable to 2.83); 200 steps.
    const dt = 0.05;
    let worst = 0;
    for (let s = 0; s < Math.round(10 / dt); s += 5) {
      engine.advance(q, qd, 1, dt, rk4, 5);
      expect(engine.lastReport.flags[0], `ok at step ${s}`).toBe(SolveFlag.ok);
      worst = Math.max(worst, Math.abs(system.energy(q, qd) - e0) / e0);
    }
    engine.dispose();
    console.log(`membrane-lgn 64×64, 10 s RK4 dt=${dt}: max |E(t) − E(0)|/E(0) = ${worst.toExponential(3)}`);
    expect(worst, 'max relative energy error over 10 s').toBeLessThan(0.005);
  }, 600_000);
});
