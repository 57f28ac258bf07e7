/**
 * lnn models that take atanh(q̇) as velocity inputs (`input.velocityEmbedding: "rapidity"`, speed limit
 * c = 1) on every Node route of the learned engine, alone and together with the sin/cos angle embedding:
 * q̈ against the float64 reference evaluator, itself checked against the Euler–Lagrange equation from
 * central differences of the reference L; solve flags, |q̇| ≥ 1 refused as a failed state with q̈ = 0,
 * no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { System } from '../src/core/types';
import { LNNEngine } from '../src/engines/LNNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { initBackend } from '../src/learned/backend';
import type { LearnedEngineOptions, RouteName } from '../src/learned/LearnedEngine';
import { createModel } from '../src/model/artifacts';
import type { AngleEmbedding } from '../src/model/inputMap';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations, referenceLagrangian } from '../src/model/reference';
import { paramsFromModel, specFromModel } from '../src/nn/mlp';
import { SolveFlag, solveSymmetric64 } from '../src/nn/solve64';
import { createSystem } from '../src/systems/registry';
import { relErr } from './support/errors';
import { tensorTerms } from './support/tensorTerms';

/**
 * A random lnn with velocity inputs atanh(q̇) and non-negative kernels after the first layer (L convex
 * in its inputs, so H_φφ ≻ 0; H_vv = D H_φφ D + diag(φ'' ∂L/∂φ) is positive definite at many states).
 */
function rapidityModel(
  dof: number,
  angles: boolean[],
  angleEmbedding: AngleEmbedding,
  seed: number,
  system: string,
): LoadedModel {
  // Trained (nominally) on the system it drives: a model of another system id is refused.
  const base = createRandomModel({
    system: { id: system, params: {} },
    dof,
    angles,
    angleEmbedding,
    hidden: [24, 24],
    biasStd: 0.3,
    seed,
    qdScale: 0.5,
  });
  return createModel(
    { ...base.metadata, input: { ...base.metadata.input, velocityEmbedding: 'rapidity' } },
    base.layers.map((l, i) => ({ kernel: i === 0 ? l.kernel : l.kernel.map(Math.abs), bias: l.bias })),
  );
}

/** Terms of the Euler–Lagrange equation of one state by central differences of the float64 L. */
function differencedTerms(model: LoadedModel, q: number[], v: number[]) {
  const n = q.length;
  const L = (qq: number[], vv: number[]) => referenceLagrangian(model, qq, vv);
  const h = 1e-5;
  const shifted = (x: number[], i: number, d: number) => x.map((y, j) => (j === i ? y + d : y));
  const gv = (qq: number[], vv: number[]) =>
    vv.map((_, i) => (L(qq, shifted(vv, i, h)) - L(qq, shifted(vv, i, -h))) / (2 * h));
  const gq = q.map((_, i) => (L(shifted(q, i, h), v) - L(shifted(q, i, -h), v)) / (2 * h));
  const s = 1e-4;
  const hvv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const up = gv(q, shifted(v, j, s));
    const down = gv(q, shifted(v, j, -s));
    for (let i = 0; i < n; i++) hvv[i * n + j] = (up[i] - down[i]) / (2 * s);
  }
  // H_vq q̇: the change of ∂L/∂q̇ as q moves along q̇.
  const ahead = gv(
    q.map((x, i) => x + s * v[i]),
    v,
  );
  const behind = gv(
    q.map((x, i) => x - s * v[i]),
    v,
  );
  const hu = ahead.map((x, i) => (x - behind[i]) / (2 * s));
  return { gq, gv: gv(q, v), hvv, hu };
}

/** q̈ and flags of a batch from {@link differencedTerms}, solved like the routes solve. */
function differencedAccelerations(model: LoadedModel, q: Float64Array, qd: Float64Array, batch: number) {
  const n = q.length / batch;
  const qdd = new Float64Array(q.length);
  const flags = new Uint8Array(batch);
  for (let b = 0; b < batch; b++) {
    const qb = Array.from(q.subarray(b * n, b * n + n));
    const vb = Array.from(qd.subarray(b * n, b * n + n));
    if (vb.some((x) => Math.abs(x) >= 1)) {
      flags[b] = SolveFlag.failed;
      continue;
    }
    const t = differencedTerms(model, qb, vb);
    const rhs = Float64Array.from(t.gq, (g, i) => g - t.hu[i]);
    flags[b] = solveSymmetric64(Float64Array.from(t.hvv), 0, rhs, 0, qdd, b * n, n);
  }
  return { qdd, flags };
}

interface Case {
  name: string;
  model: LoadedModel;
  system: System;
  threads: boolean;
}

const CASES: Case[] = [
  {
    name: 'dof 1, no angle (relativistic-particle shape)',
    model: rapidityModel(1, [false], 'wrap', 4, 'relativistic-particle'),
    system: createSystem('relativistic-particle'),
    threads: false,
  },
  {
    name: 'dof 2, wrapped angles',
    model: rapidityModel(2, [true, true], 'wrap', 8, 'double-pendulum'),
    system: createSystem('double-pendulum'),
    threads: true,
  },
  {
    name: 'dof 3, sincos angles [true, false, true]',
    model: rapidityModel(3, [true, false, true], 'sincos', 6, 'chain'),
    system: createSystem('chain', { links: 3 }),
    threads: false,
  },
];

const batch = 16;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  // Models paired with systems whose angle flags differ on purpose (a notice, not an error).
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe.each(CASES)('rapidity lnn, $name', ({ model, system, threads }) => {
  const n = model.metadata.dof;
  const q = Float64Array.from({ length: batch * n }, (_, i) => 5 * Math.sin(1.3 * i + 1));
  // |q̇| up to 0.95, and the last state at the speed limit (outside the Lagrangian's domain).
  const qd = Float64Array.from({ length: batch * n }, (_, i) => 0.95 * Math.cos(0.7 * i + 0.4));
  qd[(batch - 1) * n] = 1;
  const ref = differencedAccelerations(model, q, qd, batch);
  // The float64 reference evaluator (exact derivatives through the same input map).
  const exact = new Float64Array(batch * n);
  const exactFlags = new Uint8Array(batch);
  referenceAccelerations(model, q, qd, exact, batch, { flags: exactFlags });

  it('the float64 differences are well posed at most states', () => {
    const ok = ref.flags.filter((f) => f === SolveFlag.ok).length;
    expect(ok, 'states with a positive-definite H_vv').toBeGreaterThanOrEqual(batch / 4);
    expect(ref.flags[batch - 1], '|q̇| = 1 is outside the domain').toBe(SolveFlag.failed);
    expect(Array.from(exactFlags), 'reference flags').toEqual(Array.from(ref.flags));
    expect(relErr(exact, ref.qdd), 'reference q̈ vs differences').toBeLessThan(1e-4);
  });

  const routes: { label: string; options: LearnedEngineOptions & { route: RouteName }; tol: number }[] = [
    // Against the float64 reference: equal up to summation order on the float64 route.
    { label: 'js', options: { backend: 'wasm', route: 'js' }, tol: 1e-9 },
    { label: 'wasm', options: { backend: 'wasm', route: 'wasm' }, tol: 1e-3 },
    { label: 'cpu', options: { backend: 'cpu', route: 'cpu' }, tol: 1e-3 },
  ];
  if (threads) {
    routes.push({
      label: 'wasm, 2 threads',
      options: { backend: 'wasm', route: 'wasm', threads: 2, parallelAbove: 4 },
      tol: 1e-3,
    });
  }

  for (const { label, options, tol } of routes) {
    it(`route ${label}: q̈ and flags as the float64 differences; q̇ at the limit fails with q̈ = 0; no leaks`, async () => {
      const before = tf.memory().numTensors;
      const engine = await LNNEngine.load(model, system, options);
      const out = new Float64Array(batch * n).fill(Number.NaN);
      engine.accelerations(q, qd, out, batch);
      expect(engine.lastReport.route).toBe(options.route);
      const flags = engine.lastReport.flags;
      expect(Array.from(flags), 'flags').toEqual(Array.from(ref.flags));
      for (let b = 0; b < batch; b++) {
        const got = out.subarray(b * n, b * n + n);
        if (flags[b] === SolveFlag.failed) {
          expect(Array.from(got), `state ${b}: failed → q̈ = 0`).toEqual(new Array(n).fill(0));
          continue;
        }
        const want = exact.subarray(b * n, b * n + n);
        expect(relErr(got, want), `${label} q̈ of state ${b}`).toBeLessThan(tol);
      }
      const mid = tf.memory().numTensors;
      engine.accelerations(q, qd, out, batch);
      expect(tf.memory().numTensors, 'tensor count flat over calls').toBe(mid);
      engine.dispose();
      expect(tf.memory().numTensors, 'dispose frees the weights').toBe(before);
    });
  }

  it('tensors: lnnTerms gives ∂L/∂q̇, H_vv, H_vq q̇ against q̇ (not φ); lnnAccelerations; resident RK4', async () => {
    const before = tf.memory().numTensors;
    const params = paramsFromModel(model);
    const spec = specFromModel(model);
    const m = batch - 1; // states inside the domain
    const r = tensorTerms(params, spec, q, qd, m, n);
    tf.dispose([...params.kernels, ...params.biases]);
    expect(tf.memory().numTensors, 'no tensors left').toBe(before);
    for (let b = 0; b < m; b++) {
      const t = differencedTerms(
        model,
        Array.from(q.subarray(b * n, b * n + n)),
        Array.from(qd.subarray(b * n, b * n + n)),
      );
      expect(relErr(r.gv.subarray(b * n, b * n + n), t.gv), `∂L/∂q̇ of state ${b}`).toBeLessThan(1e-4);
      expect(relErr(r.hvv.subarray(b * n * n, (b + 1) * n * n), t.hvv), `H_vv of state ${b}`).toBeLessThan(
        1e-3,
      );
      expect(relErr(r.hu.subarray(b * n, b * n + n), t.hu), `H_vq q̇ of state ${b}`).toBeLessThan(1e-3);
      expect(r.flags[b], `flag of state ${b}`).toBe(ref.flags[b]);
      if (ref.flags[b] === SolveFlag.ok) {
        expect(
          relErr(r.qdd.subarray(b * n, b * n + n), ref.qdd.subarray(b * n, b * n + n)),
          `q̈ of state ${b}`,
        ).toBeLessThan(1e-3);
      }
    }
    // The resident step (op by op on the backend) against the float64 js route, on the well-posed states.
    const okStates = Array.from({ length: batch }, (_, b) => b).filter((b) => ref.flags[b] === SolveFlag.ok);
    const pick = (x: Float64Array) =>
      Float64Array.from(okStates.flatMap((b) => Array.from(x.subarray(b * n, b * n + n))));
    const q0 = pick(q);
    const v0 = pick(qd).map((x) => 0.5 * x);
    const resident = await LNNEngine.load(model, system, { backend: 'wasm', route: 'wasm', resident: true });
    const js = await LNNEngine.load(model, system, { backend: 'wasm', route: 'js' });
    const [qa, va, qb, vb] = [q0.slice(), v0.slice(), q0.slice(), v0.slice()];
    const rk4 = new RungeKutta4();
    resident.advance(qa, va, okStates.length, 1 / 240, rk4, 2);
    js.advance(qb, vb, okStates.length, 1 / 240, rk4, 2);
    expect(resident.lastReport.path).toBe('resident');
    expect(Array.from(resident.lastReport.flags), 'flags over the stages').toEqual(
      Array.from(js.lastReport.flags),
    );
    expect(relErr(qa, qb), 'q after two substeps').toBeLessThan(1e-6);
    expect(relErr(va, vb), 'q̇ after two substeps').toBeLessThan(1e-3);
    resident.dispose();
    js.dispose();
    expect(tf.memory().numTensors, 'engines freed').toBe(before);
  });
});
