import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../src/core/types';
import { BaselineEngine } from '../src/engines/BaselineEngine';
import { LGNEngine } from '../src/engines/LGNEngine';
import { initBackend } from '../src/learned/backend';
import type { LearnedEngine } from '../src/learned/LearnedEngine';
import { readBack } from '../src/learned/readBack';
import '../src/engines/learned';
import { LNNEngine } from '../src/engines/LNNEngine';
import { createEngine, listEngines } from '../src/engines/registry';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { SymplecticEuler } from '../src/integrators/SymplecticEuler';
import { createModel } from '../src/model/artifacts';
import { ModelFormatError } from '../src/model/ModelFormatError';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations, referenceEnergy } from '../src/model/reference';
import { writeModel } from '../src/model/saveModel';
import { SolveFlag } from '../src/nn/solve64';
import { createSystem } from '../src/systems/registry';
import { relErr } from './support/errors';
import { randomStringLgn } from './support/models';

const dp = createSystem('double-pendulum');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** L convex in (q, q̇): one softplus layer with positive output weights, so H_vv ≻ 0 everywhere. */
function convexModel(dof: number, width: number, seed: number): LoadedModel {
  const m = createRandomModel({ dof, hidden: [width], seed, biasStd: 0.5, qdScale: 0.5 });
  const last = m.layers.length - 1;
  return createModel(
    m.metadata,
    m.layers.map((l, i) => ({ kernel: i === last ? l.kernel.map(Math.abs) : l.kernel, bias: l.bias })),
  );
}

/**
 * A random two-dof L shaped like mechanics: a third of the units see only q̇ (positive weights: a convex
 * kinetic term), a third see q and q̇ (positive, weaker: configuration-dependent inertia), a third see
 * only q (weak potential). H_vv ≻ 0 everywhere and the motion stays in a bounded range over seconds.
 */
function mechanicalModel(width: number, seed: number): LoadedModel {
  const m = createRandomModel({ dof: 2, hidden: [width], seed, biasStd: 0.3, qdScale: 1 });
  const third = Math.floor(width / 3);
  const k0 = Float32Array.from(m.layers[0].kernel);
  for (let j = 0; j < width; j++) {
    for (let r = 0; r < 4; r++) {
      const isQ = r < 2;
      if ((j < third && isQ) || (j >= 2 * third && !isQ)) k0[r * width + j] = 0;
    }
  }
  const k1 = Float32Array.from(m.layers[1].kernel).map((v, j) =>
    j < third ? Math.abs(v) : j < 2 * third ? 0.2 * Math.abs(v) : 0.05 * v,
  );
  return createModel(m.metadata, [
    { kernel: k0, bias: m.layers[0].bias },
    { kernel: k1, bias: m.layers[1].bias },
  ]);
}

function states(batch: number, n: number, scale = 1): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(batch * n).map((_, i) => 3 * Math.sin(1.7 * i + 0.3) * scale);
  const qd = new Float64Array(batch * n).map((_, i) => 4 * Math.cos(0.9 * i) * scale);
  return { q, qd };
}

beforeAll(async () => {
  // Both TF.js backends exist in this process; engines switch between them.
  expect((await initBackend({ backend: 'cpu' })).name, 'cpu backend').toBe('cpu');
  expect((await initBackend({ backend: 'wasm' })).name, 'wasm backend').toBe('wasm');
});

describe('learned engines: registry and errors', () => {
  it('registers lnn, baseline and lgn and builds them from a model directory', async () => {
    expect(listEngines(), 'registered engines').toEqual(expect.arrayContaining(['lnn', 'baseline', 'lgn']));
    const path = join(dir, 'lnn');
    await writeModel(path, createRandomModel({ hidden: [8, 8], seed: 1 }));
    const engine = (await createEngine('lnn', dp, { model: path, backend: 'wasm' })) as LNNEngine;
    expect(engine.id, 'engine kind').toBe('lnn');
    expect(engine.backend, 'backend in use').toBe('wasm');
    engine.dispose();
  });

  it('rejects a missing model, a wrong kind, a dof mismatch and an unknown backend with clear errors', async () => {
    await expect(createEngine('lnn', dp, {}), 'no model').rejects.toThrow(/needs a model.*--model/);
    const baseline = createRandomModel({ kind: 'baseline', hidden: [4], seed: 1 });
    await expect(LNNEngine.load(baseline, dp), 'kind').rejects.toThrow(ModelFormatError);
    const three = createRandomModel({ dof: 3, hidden: [4], seed: 1 });
    await expect(LNNEngine.load(three, dp), 'dof').rejects.toThrow(/3 degrees of freedom/);
    await expect(
      createEngine('lnn', dp, { model: createRandomModel({ hidden: [4] }), backend: 'tpu' }),
      'backend',
    ).rejects.toThrow(/Unknown backend 'tpu'/);
  });

  it('rejects wrong array sizes and use after dispose', async () => {
    const engine = await LNNEngine.load(createRandomModel({ hidden: [4], seed: 2 }), dp, { backend: 'cpu' });
    const q = new Float64Array(4);
    expect(() => engine.accelerations(q, q, new Float64Array(2), 2), 'short qdd').toThrow(
      /batch × dof = 2 × 2 = 4/,
    );
    engine.dispose();
    engine.dispose();
    expect(() => engine.accelerations(q, q, q, 2), 'after dispose').toThrow(/after dispose/);
  });

  it('calibrate() after dispose throws the same Error as the other methods, on every backend', async () => {
    const model = createRandomModel({ hidden: [4], seed: 2 });
    for (const backend of ['cpu', 'wasm', 'js'] as const) {
      const engine = await LNNEngine.load(model, dp, { backend });
      engine.dispose();
      expect(() => engine.calibrate(), `${backend}: calibrate()`).toThrow(
        /^lnn engine: used after dispose\(\)\.$/,
      );
      expect(() => engine.calibrate({ maxThreshold: 4 }), `${backend}: calibrate(options)`).toThrow(
        /used after dispose/,
      );
    }
    const baseline = await BaselineEngine.load(
      createRandomModel({ kind: 'baseline', hidden: [4], seed: 2 }),
      dp,
      {
        backend: 'wasm',
      },
    );
    baseline.dispose();
    expect(() => baseline.calibrate(), 'baseline').toThrow(/^baseline engine: used after dispose\(\)\.$/);
  });
});

describe('learned engines: the same q̈ on every path', () => {
  const backends = ['cpu', 'wasm', 'js'] as const;

  it('lnn: cpu, wasm and plain JS agree with the float64 reference', async () => {
    const model = createRandomModel({ hidden: [32, 32], seed: 3, biasStd: 0.3 });
    const batch = 9;
    const { q, qd } = states(batch, 2);
    const ref = new Float64Array(2 * batch);
    const refFlags = new Uint8Array(batch);
    referenceAccelerations(model, q, qd, ref, batch, { flags: refFlags });
    for (const backend of backends) {
      const engine = await LNNEngine.load(model, dp, { backend, route: backend });
      const qdd = new Float64Array(2 * batch);
      engine.accelerations(q, qd, qdd, batch);
      const tol = backend === 'js' ? 1e-12 : 2e-3;
      expect(relErr(qdd, ref), `${backend} q̈`).toBeLessThan(tol);
      expect(Array.from(engine.lastReport.flags), `${backend} flags`).toEqual(Array.from(refFlags));
      expect(engine.lastReport.path, 'path').toBe(backend === 'js' ? 'js' : 'tensor');
      engine.dispose();
    }
  });

  it('baseline: cpu, wasm and plain JS agree with the float64 reference', async () => {
    const model = createRandomModel({
      kind: 'baseline',
      hidden: [32, 32],
      activation: 'relu',
      seed: 4,
      biasStd: 0.2,
    });
    const batch = 5;
    const { q, qd } = states(batch, 2);
    const ref = new Float64Array(2 * batch);
    referenceAccelerations(model, q, qd, ref, batch);
    for (const backend of backends) {
      const engine = await BaselineEngine.load(model, dp, { backend, route: backend });
      const qdd = new Float64Array(2 * batch);
      engine.accelerations(q, qd, qdd, batch);
      expect(relErr(qdd, ref), `${backend} q̈`).toBeLessThan(backend === 'js' ? 1e-12 : 1e-5);
      expect('energy' in engine, 'a baseline has no energy').toBe(false);
      engine.dispose();
    }
  });

  it('lgn: one model runs strings of any length; cpu, wasm, JS and the dense reference agree', async () => {
    const model = randomStringLgn();
    for (const nodes of [1, 4, 9]) {
      const string = createSystem('string', { nodes });
      const batch = 3;
      const { q, qd } = states(batch, nodes, 0.3);
      const ref = new Float64Array(nodes * batch);
      const flags = new Uint8Array(batch);
      referenceAccelerations(model, q, qd, ref, batch, { flags });
      for (const backend of backends) {
        const engine = await LGNEngine.load(model, string, { backend, route: backend });
        const qdd = new Float64Array(nodes * batch);
        engine.accelerations(q, qd, qdd, batch);
        expect(relErr(qdd, ref), `${backend}, ${nodes} nodes`).toBeLessThan(backend === 'js' ? 1e-12 : 2e-3);
        expect(Array.from(engine.lastReport.flags), `${backend} flags`).toEqual(Array.from(flags));
        engine.dispose();
      }
    }
  });

  it('resident RK4 (all stages on the backend, one readback) matches per-stage RK4', async () => {
    const model = convexModel(2, 32, 6);
    const batch = 6;
    const rk4 = new RungeKutta4();
    for (const backend of ['cpu', 'wasm'] as const) {
      const staged = await LNNEngine.load(model, dp, { backend, resident: false, route: backend });
      const resident = await LNNEngine.load(model, dp, { backend, resident: true, route: backend });
      const a = states(batch, 2, 0.5);
      const b = states(batch, 2, 0.5);
      for (let s = 0; s < 10; s++) {
        staged.step(a.q, a.qd, batch, 0.01, rk4);
        resident.step(b.q, b.qd, batch, 0.01, rk4);
      }
      expect(resident.lastReport.path, 'resident path used').toBe('resident');
      expect(relErr(b.q, a.q), `${backend} q after 10 steps`).toBeLessThan(1e-4);
      expect(relErr(b.qd, a.qd), `${backend} q̇ after 10 steps`).toBeLessThan(1e-4);
      // Two substeps with one readback equal two steps.
      const c = states(batch, 2, 0.5);
      for (let s = 0; s < 5; s++) resident.advance(c.q, c.qd, batch, 0.01, rk4, 2);
      expect(relErr(c.q, b.q), `${backend} advance(…, 2) ≡ 2 × step`).toBeLessThan(1e-4);
      staged.dispose();
      resident.dispose();
    }
  });
});

describe('learned engines: physics and guards', () => {
  it('the learned energy is conserved by RK4 under the learned dynamics (H_vv ≻ 0, bounded forces)', async () => {
    const model = mechanicalModel(48, 7);
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm' });
    const q = Float64Array.from([0.4, -0.8]);
    const qd = Float64Array.from([1.0, -0.5]);
    const e0 = engine.energy(q, qd);
    expect(e0, 'engine energy = reference energy').toBeCloseTo(referenceEnergy(model, q, qd), 12);
    const rk4 = new RungeKutta4();
    let maxDrift = 0;
    let ePrev = e0;
    for (let s = 0; s < 400; s++) {
      engine.step(q, qd, 1, 0.005, rk4);
      const e = engine.energy(q, qd);
      maxDrift = Math.max(maxDrift, Math.abs(e - e0));
      ePrev = e;
    }
    expect(engine.lastReport.flags[0], 'H_vv stayed definite').toBe(SolveFlag.ok);
    expect(
      maxDrift / Math.max(1, Math.abs(e0)),
      `relative drift of E (E0 = ${e0}, E_end = ${ePrev})`,
    ).toBeLessThan(1e-4);
    engine.dispose();
  });

  it('angles are wrapped: q and q + 2πk give the same q̈', async () => {
    const engine = await LNNEngine.load(createRandomModel({ hidden: [16], seed: 8 }), dp, {
      backend: 'wasm',
    });
    const q = Float64Array.from([0.3, -1.2]);
    const qd = Float64Array.from([2, 1]);
    const a = new Float64Array(2);
    const b = new Float64Array(2);
    engine.accelerations(q, qd, a, 1);
    engine.accelerations(Float64Array.from([0.3 + 4 * Math.PI, -1.2 - 2 * Math.PI]), qd, b, 1);
    expect(relErr(b, a), 'q̈ after wrapping').toBeLessThan(1e-5);
    engine.dispose();
  });

  it('an indefinite H_vv is regularised and reported; a non-finite state is reported failed with q̈ = 0, never NaN', async () => {
    const model = createRandomModel({ hidden: [32, 32], seed: 9, biasStd: 0.3 });
    const reports: number[] = [];
    for (const backend of ['cpu', 'wasm', 'js'] as const) {
      const engine = await LNNEngine.load(model, dp, {
        backend,
        route: backend,
        onReport: (r) => reports.push(r.regularised),
      });
      const q = Float64Array.from([0.5, 0.1, Number.NaN, 0, 1, 2]);
      const qd = Float64Array.from([1, 2, 0, 0, -3, 1]);
      const qdd = new Float64Array(6);
      engine.accelerations(q, qd, qdd, 3);
      const r = engine.lastReport;
      expect(r.flags[1], `${backend}: NaN state flagged failed`).toBe(SolveFlag.failed);
      expect([qdd[2], qdd[3]], `${backend}: failed state gets q̈ = 0`).toEqual([0, 0]);
      expect(qdd.every(Number.isFinite), `${backend}: no NaN anywhere`).toBe(true);
      expect(r.failed, 'failed count').toBe(1);
      // A random L is indefinite almost everywhere: those states are regularised, not NaN.
      expect(r.regularised, `${backend}: regularised count includes the failed one`).toBeGreaterThanOrEqual(
        2,
      );
      expect(r.totals.evaluations, 'evaluations counted').toBe(3);
      engine.dispose();
    }
    expect(reports.length, 'onReport called once per call').toBe(3);
  });

  it('tf.memory().numTensors stays flat over 10,000 steps, and dispose frees every tensor', async () => {
    const base = tf.memory().numTensors;
    const engine = await LNNEngine.load(createRandomModel({ hidden: [8, 8], seed: 10 }), dp, {
      backend: 'wasm',
    });
    const afterLoad = tf.memory().numTensors;
    expect(afterLoad, 'the engine holds its weights').toBeGreaterThan(base);
    const batch = 4;
    const { q, qd } = states(batch, 2, 0.1);
    const euler = new SymplecticEuler();
    for (let s = 0; s < 10_000; s++) engine.step(q, qd, batch, 1e-4, euler);
    expect(tf.memory().numTensors, 'after 10,000 staged steps').toBe(afterLoad);
    const resident = await LNNEngine.load(createRandomModel({ hidden: [8, 8], seed: 10 }), dp, {
      backend: 'wasm',
      resident: true,
      jsBelow: 0,
    });
    const withBoth = tf.memory().numTensors;
    const rk4 = new RungeKutta4();
    for (let s = 0; s < 300; s++) resident.step(q, qd, batch, 1e-4, rk4);
    expect(tf.memory().numTensors, 'after 300 resident RK4 steps').toBe(withBoth);
    engine.dispose();
    resident.dispose();
    expect(tf.memory().numTensors, 'dispose freed every tensor').toBe(base);
  });

  it('a resident step whose readback throws frees its result tensor and passes the Error on', async () => {
    const engine = await LNNEngine.load(createRandomModel({ hidden: [8, 8], seed: 10 }), dp, {
      backend: 'wasm',
      resident: true,
      route: 'wasm',
    });
    const batch = 3;
    const { q, qd } = states(batch, 2, 0.1);
    const rk4 = new RungeKutta4();
    engine.step(q, qd, batch, 1e-3, rk4);
    expect(engine.lastReport.path, 'resident path').toBe('resident');
    const held = tf.memory().numTensors;
    const readBack = vi.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementationOnce(() => {
      throw new Error('readback lost');
    });
    try {
      expect(() => engine.step(q, qd, batch, 1e-3, rk4), 'the Error of the readback').toThrow(
        'readback lost',
      );
      expect(readBack, 'the readback was the one that threw').toHaveBeenCalledTimes(1);
    } finally {
      readBack.mockRestore();
    }
    expect(tf.memory().numTensors, 'no tensor left behind').toBe(held);
    engine.step(q, qd, batch, 1e-3, rk4);
    expect(q.every(Number.isFinite), 'steps on afterwards').toBe(true);
    engine.dispose();
  });

  it('readBack frees its result when the readback throws', () => {
    const held = tf.memory().numTensors;
    const readBackSpy = vi.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementationOnce(() => {
      throw new Error('readback lost');
    });
    try {
      expect(() => readBack(() => tf.add(tf.ones([2, 3]), tf.ones([2, 3])))).toThrow('readback lost');
    } finally {
      readBackSpy.mockRestore();
    }
    expect(tf.memory().numTensors, 'no tensor left behind').toBe(held);
    expect(Array.from(readBack(() => tf.ones([2]))), 'reads back afterwards').toEqual([1, 1]);
    expect(tf.memory().numTensors, 'and frees').toBe(held);
  });

  it('small batches take the plain-JS route below the calibrated threshold, with the same q̈', async () => {
    const model = createRandomModel({ hidden: [32, 32], seed: 12, biasStd: 0.2 });
    const engine = await LNNEngine.load(model, dp, { backend: 'wasm' });
    expect(engine.jsBelow, 'calibrated threshold').toBeGreaterThanOrEqual(0);
    expect(engine.jsBelow, 'calibrated threshold is capped').toBeLessThanOrEqual(256);
    const { q, qd } = states(3, 2);
    const viaTensor = new Float64Array(6);
    const viaJs = new Float64Array(6);
    engine.jsBelow = 0;
    engine.accelerations(q, qd, viaTensor, 3);
    expect(engine.lastReport.path, 'tensor route').toBe('tensor');
    engine.jsBelow = 3;
    engine.accelerations(q, qd, viaJs, 3);
    expect(engine.lastReport.path, 'JS route').toBe('js');
    expect(relErr(viaJs, viaTensor), 'both routes agree').toBeLessThan(2e-3);
    engine.dispose();
  });

  it('worker threads (Node, wasm) give bitwise the same q̈ as one thread', async () => {
    const model = createRandomModel({ hidden: [32, 32], seed: 13, biasStd: 0.2 });
    const batch = 301;
    const { q, qd } = states(batch, 2);
    const one = await LNNEngine.load(model, dp, { backend: 'wasm', jsBelow: 0 });
    const two = await LNNEngine.load(model, dp, {
      backend: 'wasm',
      jsBelow: 0,
      threads: 2,
      parallelAbove: 16,
    });
    expect(two.threads, 'pool started').toBe(2);
    const a = new Float64Array(2 * batch);
    const b = new Float64Array(2 * batch);
    for (let r = 0; r < 3; r++) {
      one.accelerations(q, qd, a, batch);
      two.accelerations(q, qd, b, batch);
      expect(Array.from(b), `call ${r}: identical q̈`).toEqual(Array.from(a));
    }
    // A larger batch grows the shared buffers.
    const big = states(700, 2);
    const c = new Float64Array(1400);
    const d = new Float64Array(1400);
    one.accelerations(big.q, big.qd, c, 700);
    two.accelerations(big.q, big.qd, d, 700);
    expect(Array.from(d), 'identical after the buffers grew').toEqual(Array.from(c));
    expect(Array.from(two.lastReport.flags), 'flags').toEqual(Array.from(one.lastReport.flags));
    one.dispose();
    two.dispose();
  });

  it('engines implement the core Engine contract', async () => {
    const engine: Engine = await LNNEngine.load(createRandomModel({ hidden: [4], seed: 11 }), dp, {
      backend: 'js',
    });
    expect(engine.system, 'system').toBe(dp);
    expect(typeof engine.energy, 'energy').toBe('function');
    expect((engine as LearnedEngine).warnings, 'no warnings for a matching system').toEqual([]);
    engine.dispose();
  });
});
