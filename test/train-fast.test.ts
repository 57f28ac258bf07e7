/**
 * The hand-derived q̈-loss gradient of the fast trainer (src/train/fast): against central finite
 * differences of its own float64 loss, its forward q̈ against the float64 reference evaluator, its float32
 * form (TF.js GEMMs) against the float64 one, against TF.js autodiff through the tensor q̈, and against
 * JAX autodiff through the JAX trainer's q̈ (training/make_grad_fixture.py writes `grad.json`).
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import { inputMapOf } from '../src/model/inputMap';
import { loadModel } from '../src/model/loadModel';
import type { LoadedModel } from '../src/model/metadata';
import { referenceAccelerations } from '../src/model/reference';
import { lnnAccelerations } from '../src/nn/lnn';
import { type MlpParams, specFromModel } from '../src/nn/mlp';
import { registerGradients } from '../src/nn/registerGradients';
import { type LnnNet, lnnLossGradient } from '../src/train/fast/lnnLossGradient';
import { referenceKernels } from '../src/train/fast/referenceKernels';
import { SimdKernels } from '../src/train/fast/simdKernels';
import type { LossName, TrainerOptions } from '../src/train/options';

const DIR = new URL('../training/tests/fixtures/parity/', import.meta.url);
const CASES = ['dp-lnn', 'chain3-lnn-tanh', 'dp-lnn-sincos', 'relativistic-lnn'];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await registerGradients();
});

function netOf(model: LoadedModel): LnnNet {
  const m = model.metadata;
  return {
    layers: m.architecture.layers,
    activation: m.architecture.activation as 'softplus' | 'tanh',
    map: inputMapOf(m),
    outputScale: m.output.scale,
  };
}

function weightsOf(model: LoadedModel): Float64Array[] {
  return model.layers.flatMap((l) => [Float64Array.from(l.kernel), Float64Array.from(l.bias)]);
}

/** A deterministic batch: states near the fixture's box and targets near the reference q̈. */
function batchFor(model: LoadedModel, batch: number, seed: number) {
  const n = model.metadata.dof;
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const q = Float64Array.from({ length: batch * n }, () => 2 * rnd());
  const qd = Float64Array.from({ length: batch * n }, () => 0.8 * rnd());
  const ref = new Float64Array(batch * n);
  referenceAccelerations(model, q, qd, ref, batch);
  const target = Float64Array.from(ref, (v) => v + 0.5 * rnd() * (1 + Math.abs(v)));
  return { q, qd, ref, target, n };
}

const LOSSES: LossName[] = ['l2', 'l1', 'huber'];

describe('fast LNN loss gradient (hand-derived backward)', () => {
  for (const name of CASES) {
    it(`${name}: float64 gradient = central differences of the float64 loss (l2, l1, huber)`, async () => {
      const model = await loadModel(new URL(`${name}/`, DIR).pathname);
      const net = netOf(model);
      const w = weightsOf(model);
      const { q, qd, target } = batchFor(model, 7, 11);
      for (const loss of LOSSES) {
        const g = lnnLossGradient(net, w, q, qd, target, 7, loss, 0.3, referenceKernels);
        expect(g.failed).toBe(0);
        const lossAt = (vi: number, e: number, dw: number) => {
          const ww = w.map((x) => Float64Array.from(x));
          ww[vi][e] += dw;
          return lnnLossGradient(net, ww, q, qd, target, 7, loss, 0.3, referenceKernels).loss;
        };
        let worst = 0;
        let probes = 0;
        for (let vi = 0; vi < w.length; vi++) {
          // The output bias shifts L by a constant: q̈ does not depend on it.
          if (vi === w.length - 1) {
            expect(Math.abs(g.grads[vi][0])).toBe(0);
            continue;
          }
          for (let e = 0; e < w[vi].length; e += Math.max(1, Math.floor(w[vi].length / 6))) {
            const h = 1e-6;
            const fd = (lossAt(vi, e, h) - lossAt(vi, e, -h)) / (2 * h);
            const err = Math.abs(g.grads[vi][e] - fd) / (1e-6 + Math.abs(fd));
            worst = Math.max(worst, err);
            probes++;
          }
        }
        expect(probes).toBeGreaterThan(10);
        // float32 storage of the gradient (≈6e-8) and O(h²) difference error; l1's kink is far away.
        expect(worst, `${name} ${loss}`).toBeLessThan(2e-5);
      }
    });

    it(`${name}: forward q̈ is the float64 reference's (loss against it vanishes)`, async () => {
      const model = await loadModel(new URL(`${name}/`, DIR).pathname);
      const { q, qd, ref, n } = batchFor(model, 9, 5);
      const g = lnnLossGradient(netOf(model), weightsOf(model), q, qd, ref, 9, 'l2', 0, referenceKernels);
      const scale = ref.reduce((a, v) => a + v * v, 0) / (9 * n);
      expect(g.loss / scale).toBeLessThan(1e-24);
      // and a wrong target gives a loss of its size
      const off = Float64Array.from(ref, (v) => v + 1);
      expect(
        lnnLossGradient(netOf(model), weightsOf(model), q, qd, off, 9, 'l2', 0, referenceKernels).loss,
      ).toBeCloseTo(1, 9);
    });

    it(`${name}: float32 on TF.js GEMMs matches float64, and TF.js autodiff`, async () => {
      const model = await loadModel(new URL(`${name}/`, DIR).pathname);
      const net = netOf(model);
      const B = 32;
      const { q, qd, target, n } = batchFor(model, B, 3);
      const w32 = model.layers.flatMap((l) => [l.kernel, l.bias]);
      const g64 = lnnLossGradient(net, weightsOf(model), q, qd, target, B, 'l2', 0, referenceKernels);
      const before = tf.memory().numTensors;
      const g32 = lnnLossGradient(net, w32, q, qd, target, B, 'l2', 0, new SimdKernels());
      expect(tf.memory().numTensors).toBe(before);
      // TF.js autodiff through the tensor q̈ (what the trainer differentiated before).
      const vars: MlpParams = tf.tidy(() => ({
        kernels: model.layers.map((l) => tf.variable(tf.tensor2d(l.kernel, [l.inSize, l.outSize]))),
        biases: model.layers.map((l) => tf.variable(tf.tensor1d(l.bias))),
      }));
      const spec = specFromModel(model);
      const auto = tf.tidy(() => {
        const Q = tf.tensor2d(Float32Array.from(q), [B, n]);
        const V = tf.tensor2d(Float32Array.from(qd), [B, n]);
        const T = tf.tensor2d(Float32Array.from(target), [B, n]);
        const { grads } = tf.variableGrads(
          () => tf.mean(tf.square(tf.sub(lnnAccelerations(vars, spec, Q, V).qdd, T))) as tf.Scalar,
        );
        const all = [...vars.kernels, ...vars.biases] as tf.Variable[];
        return model.layers.flatMap((_, l) => [
          grads[(all[l] as tf.Variable).name]?.dataSync() ?? null,
          grads[(all[model.layers.length + l] as tf.Variable).name]?.dataSync() ?? null,
        ]);
      });
      tf.dispose([...vars.kernels, ...vars.biases]);
      let norm = 0;
      for (const g of g64.grads) for (const v of g) norm = Math.max(norm, Math.abs(v));
      for (let vi = 0; vi < g64.grads.length; vi++) {
        for (let e = 0; e < g64.grads[vi].length; e++) {
          const ref = g64.grads[vi][e];
          expect(Math.abs(g32.grads[vi][e] - ref) / norm).toBeLessThan(1e-4);
          const a = auto[vi];
          expect(Math.abs((a ? a[e] : 0) - ref) / norm).toBeLessThan(1e-3);
        }
      }
      expect(Math.abs(g32.loss - g64.loss) / g64.loss).toBeLessThan(1e-4);
    });
  }

  for (const name of CASES) {
    it(`${name}: gradient = JAX autodiff of the JAX trainer's loss (l1, l2; float64)`, async () => {
      const dir = new URL(`${name}/`, DIR).pathname;
      const model = await loadModel(dir);
      const exp = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8')) as {
        q: number[][];
        qd: number[][];
      };
      const fx = JSON.parse(readFileSync(`${dir}grad.json`, 'utf8')) as {
        target: number[][];
        losses: Record<'l1' | 'l2', { loss: number; grads: number[][] }>;
      };
      const B = exp.q.length;
      const q = Float64Array.from(exp.q.flat());
      const qd = Float64Array.from(exp.qd.flat());
      const target = Float64Array.from(fx.target.flat());
      for (const loss of ['l1', 'l2'] as const) {
        const g = lnnLossGradient(
          netOf(model),
          weightsOf(model),
          q,
          qd,
          target,
          B,
          loss,
          0,
          referenceKernels,
        );
        const ref = fx.losses[loss];
        expect(Math.abs(g.loss - ref.loss) / ref.loss).toBeLessThan(1e-10);
        let norm = 0;
        for (const v of ref.grads.flat()) norm = Math.max(norm, Math.abs(v));
        let worst = 0;
        ref.grads.forEach((gr, vi) => {
          expect(g.grads[vi].length).toBe(gr.length);
          gr.forEach((v, e) => {
            worst = Math.max(worst, Math.abs(g.grads[vi][e] - v) / norm);
          });
        });
        // float32 storage of the hand-derived gradient is the only difference.
        expect(worst, `${name} ${loss}`).toBeLessThan(1e-6);
      }
    });
  }
});

describe('Trainer with the exact gradient', () => {
  const small: TrainerOptions = {
    system: 'double-pendulum',
    hidden: [16, 16],
    batch: 32,
    steps: 25,
    valEvery: 25,
    valSize: 64,
    seed: 3,
  };

  it('follows the autodiff trainer step for step (same batches, gradients equal to float32 rounding)', async () => {
    const { Trainer } = await import('../src/train/Trainer');
    const before = tf.memory().numTensors;
    const exact = await Trainer.create({ ...small, gradient: 'exact' });
    const auto = await Trainer.create({ ...small, gradient: 'autodiff' });
    let lossGap = 0;
    for (let s = 0; s < 25; s++) {
      const a = exact.step();
      const b = auto.step();
      expect(a.skipped || b.skipped).toBe(false);
      lossGap = Math.max(lossGap, Math.abs(a.loss - b.loss) / b.loss);
    }
    const wa = exact.weights();
    const wb = auto.weights();
    let norm = 0;
    let diff = 0;
    for (let i = 0; i < wa.length; i++) {
      norm = Math.max(norm, Math.abs(wb[i]));
      diff = Math.max(diff, Math.abs(wa[i] - wb[i]));
    }
    // Adam divides by √v: tiny gradient differences move weights by up to ~lr per step; 25 steps at
    // lr ≤ 1e-3 bound the drift far below the weights' scale.
    expect(diff / norm).toBeLessThan(2e-3);
    expect(lossGap).toBeLessThan(1e-3);
    exact.dispose();
    auto.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic and refuses models it does not apply to', async () => {
    const { Trainer } = await import('../src/train/Trainer');
    const a = await Trainer.create({ ...small, steps: 5, gradient: 'exact' });
    const b = await Trainer.create({ ...small, steps: 5, gradient: 'exact' });
    a.run();
    b.run();
    expect(Buffer.from(a.weights().buffer).equals(Buffer.from(b.weights().buffer))).toBe(true);
    a.dispose();
    b.dispose();
    await expect(
      Trainer.create({ ...small, kind: 'baseline', activation: 'relu', gradient: 'exact' }),
    ).rejects.toThrow(/gradient.*exact does not apply: it differentiates lnn models/);
  });
});
