/**
 * lnn models whose angles enter the network as (cos θ, sin θ) (`input.angleEmbedding: "sincos"`) on every
 * Node route of the learned engine — plain JS, fused wasm and cpu kernels (also split over worker
 * threads), plain-op tensors (`lnnAccelerations`, the resident step) — against the float64 reference:
 * same q̈ within float32 tolerance, periodic in the angles, the same solve flags, no tensor leaks, and
 * weight gradients for training.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { System } from '../src/core/types';
import { LNNEngine } from '../src/engines/LNNEngine';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { initBackend } from '../src/learned/backend';
import { createModel } from '../src/model/artifacts';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations, referenceTerms } from '../src/model/reference';
import { paramsFromModel, specFromModel } from '../src/nn/mlp';
import { registerGradients } from '../src/nn/registerGradients';
import { createSystem } from '../src/systems/registry';
import { relErr } from './support/errors';
import { tensorTerms } from './support/tensorTerms';
import { checkWeightGradients, type WeightProbe } from './support/weightGradients';

/** Deterministic states: q over several turns (so wrapping matters), q̇ in [−3, 3]. */
function states(batch: number, n: number): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let i = 0; i < q.length; i++) {
    q[i] = 7 * Math.sin(1.3 * i + 1) + 0.1 * i;
    qd[i] = 3 * Math.cos(0.7 * i + 0.4);
  }
  return { q, qd };
}

/** `q` with 2π added to every angle coordinate (`angles` `[n]`). */
function turned(q: Float64Array, angles: readonly boolean[]): Float64Array {
  const n = angles.length;
  return q.map((v, j) => (angles[j % n] ? v + 2 * Math.PI : v));
}

/**
 * `model` with non-negative kernels after the first layer: a softplus network is then convex in its
 * inputs, and L convex in q̇ (H_vv ≻ 0) at every state.
 */
function convex(model: LoadedModel): LoadedModel {
  return createModel(
    model.metadata,
    model.layers.map((l, i) => ({ kernel: i === 0 ? l.kernel : l.kernel.map(Math.abs), bias: l.bias })),
  );
}

interface Case {
  name: string;
  model: LoadedModel;
  system: System;
}

const CASES: Case[] = [
  {
    name: 'double pendulum shape (two angles)',
    model: createRandomModel({ angleEmbedding: 'sincos', biasStd: 0.3, hidden: [32, 32], seed: 12 }),
    system: createSystem('double-pendulum'),
  },
  {
    name: 'dof 3, angles [true, false, true]',
    model: createRandomModel({
      angleEmbedding: 'sincos',
      biasStd: 0.3,
      hidden: [32, 32],
      dof: 3,
      angles: [true, false, true],
      seed: 5,
      system: { id: 'chain', params: { links: 3 } }, // a model of another system id is refused
    }),
    system: createSystem('chain', { links: 3 }),
  },
];

/** Engine routes in Node: name, engine options, q̈ tolerance against the float64 reference. */
const ROUTES = [
  { label: 'js', options: { backend: 'wasm', route: 'js' }, tol: 1e-9 },
  { label: 'wasm (fused kernels)', options: { backend: 'wasm', route: 'wasm' }, tol: 1e-3 },
  {
    label: 'wasm, 2 threads',
    options: { backend: 'wasm', route: 'wasm', threads: 2, parallelAbove: 8 },
    tol: 1e-3,
  },
  { label: 'cpu (fused kernels)', options: { backend: 'cpu', route: 'cpu' }, tol: 1e-3 },
] as const;

const batch = 24;

beforeAll(async () => {
  await registerGradients();
  await initBackend({ backend: 'wasm' });
  // The dof-3 case pairs a mixed-angle model with the all-angle chain on purpose (a notice, not an error).
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterAll(() => {
  vi.restoreAllMocks();
});

describe.each(CASES)('sincos lnn, $name', ({ model, system }) => {
  const n = model.metadata.dof;
  const { angles } = model.metadata;
  const { q, qd } = states(batch, n);
  const q2 = turned(q, angles);
  const ref = new Float64Array(batch * n);
  const refFlags = new Uint8Array(batch);
  referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });

  it('the model really embeds its angles (one extra input each)', () => {
    const extra = angles.filter(Boolean).length;
    expect(model.metadata.input.angleEmbedding).toBe('sincos');
    expect(model.metadata.architecture.layers[0], 'input width').toBe(2 * n + extra);
  });

  for (const { label, options, tol } of ROUTES) {
    it(`route ${label}: q̈ equals the float64 reference, is 2π-periodic in the angles, flags agree, no leaks`, async () => {
      const before = tf.memory().numTensors;
      const engine = await LNNEngine.load(model, system, options);
      if ('threads' in options) expect(engine.threads, 'worker pool started').toBe(2);
      const out = new Float64Array(batch * n);
      engine.accelerations(q, qd, out, batch);
      expect(engine.lastReport.route, 'route taken').toBe(options.route);
      expect(Array.from(engine.lastReport.flags), 'solve flags as in the reference').toEqual(
        Array.from(refFlags),
      );
      expect(relErr(out, ref), `${label} q̈ vs reference`).toBeLessThan(tol);
      const afterFirst = tf.memory().numTensors;
      const shifted = new Float64Array(batch * n);
      engine.accelerations(q2, qd, shifted, batch);
      expect(Array.from(engine.lastReport.flags), 'flags at q + 2π').toEqual(Array.from(refFlags));
      // float64 features: cos(q + 2π) = cos q to ~1e-15, so the float32 routes see the same inputs too.
      expect(relErr(shifted, out), `${label} q̈ at q + 2π vs at q`).toBeLessThan(tol);
      engine.accelerations(q, qd, out, batch);
      expect(tf.memory().numTensors, 'tensor count flat over repeated calls').toBe(afterFirst);
      engine.dispose();
      expect(tf.memory().numTensors, 'dispose frees the weights').toBe(before);
    });
  }

  it('resident RK4 steps on wasm follow the float64 js route', async () => {
    // Random weights leave H_vv indefinite at most states, and a regularised, nearly singular H_vv lets
    // float32 and float64 part ways within a step: the convex variant keeps every stage well posed.
    const pd = convex(model);
    const resident = await LNNEngine.load(pd, system, { backend: 'wasm', route: 'wasm', resident: true });
    const js = await LNNEngine.load(pd, system, { backend: 'wasm', route: 'js' });
    const rk4 = new RungeKutta4();
    const [qa, va, qb, vb] = [q.slice(), qd.slice(), q.slice(), qd.slice()];
    const before = tf.memory().numTensors;
    resident.advance(qa, va, batch, 1 / 240, rk4, 2);
    expect(resident.lastReport.path, 'resident path').toBe('resident');
    expect(tf.memory().numTensors, 'no tensors left by a resident advance').toBe(before);
    js.advance(qb, vb, batch, 1 / 240, rk4, 2);
    expect(Array.from(resident.lastReport.flags), 'worst flags over the stages').toEqual(
      Array.from(js.lastReport.flags),
    );
    expect(js.lastReport.regularised, 'H_vv positive definite at every stage').toBe(0);
    expect(relErr(qa, qb), 'q after two substeps').toBeLessThan(1e-6);
    expect(relErr(va, vb), 'q̇ after two substeps').toBeLessThan(1e-3);
    resident.dispose();
    js.dispose();
  });

  for (const backend of ['wasm', 'cpu'] as const) {
    it(`${backend}: lnnTerms and lnnAccelerations on tensors equal the reference; periodic; no leaks`, async () => {
      await initBackend({ backend });
      const before = tf.memory().numTensors;
      const params = paramsFromModel(model);
      const spec = specFromModel(model);
      const run = (qv: Float64Array) => tensorTerms(params, spec, qv, qd, batch, n);
      const r = run(q);
      // Each piece against the float64 terms of the same states.
      const gq = new Float64Array(batch * n);
      const gv = new Float64Array(batch * n);
      const hvv = new Float64Array(batch * n * n);
      const hu = new Float64Array(batch * n);
      for (let b = 0; b < batch; b++) {
        const s = referenceTerms(model, q.subarray(b * n, b * n + n), qd.subarray(b * n, b * n + n));
        gq.set(s.gq, b * n);
        gv.set(s.gv, b * n);
        hvv.set(s.hvv, b * n * n);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) hu[b * n + i] += s.hvq[i * n + j] * qd[b * n + j];
        }
      }
      expect(relErr(r.gq, gq), '∂L/∂q through the cos/sin slopes').toBeLessThan(1e-4);
      expect(relErr(r.gv, gv), '∂L/∂q̇').toBeLessThan(1e-4);
      expect(relErr(r.hvv, hvv), 'H_vv').toBeLessThan(1e-4);
      expect(relErr(r.hu, hu), 'H_vq q̇').toBeLessThan(1e-4);
      expect(Array.from(r.flags), 'flags').toEqual(Array.from(refFlags));
      expect(relErr(r.qdd, ref), 'q̈').toBeLessThan(1e-3);
      // Raw q + 2π in float32 (no wrapping on this path): the inputs differ by float32 rounding only.
      expect(relErr(run(q2).qdd, r.qdd), 'q̈ at q + 2π').toBeLessThan(1e-3);
      tf.dispose([...params.kernels, ...params.biases]);
      expect(tf.memory().numTensors, 'no tensors left').toBe(before);
      await initBackend({ backend: 'wasm' });
    });
  }
});

describe('sincos lnn: training gradients', () => {
  it('tf.variableGrads of a q̈ loss matches float64 finite differences (first layer and beyond)', () => {
    const model = convex(
      createRandomModel({ angleEmbedding: 'sincos', hidden: [16, 16], seed: 21, biasStd: 0.3 }),
    );
    const b = 5;
    const { q, qd } = states(b, 2);
    const target = new Float64Array(b * 2).map((_, i) => Math.sin(i));
    // First-kernel rows 0–3 are the cos/sin inputs (16 columns each), rows 4–5 the velocities.
    const probes: WeightProbe[] = [
      [0, 'kernel', 3],
      [0, 'kernel', 16 + 5],
      [0, 'kernel', 32 + 7],
      [0, 'kernel', 48 + 2],
      [0, 'kernel', 64 + 9],
      [0, 'bias', 4],
      [1, 'kernel', 7],
    ];
    for (const c of checkWeightGradients(model, q, qd, target, probes)) {
      expect(
        Math.abs(c.autodiff - c.finiteDifference),
        `${c.label}: autodiff ${c.autodiff}, finite difference ${c.finiteDifference}`,
      ).toBeLessThan(2e-2 * Math.abs(c.finiteDifference) + 1e-3);
    }
  });
});
