/**
 * Cross-implementation parity: the same weights give the same L, energy and q̈ in the JAX trainer
 * (training/make_parity_fixture.py, float64 from the stored float32 weights) and in the TypeScript
 * evaluators — the float64 reference (tight tolerance) and the float32 tensor code on wasm. The cases
 * cover both input maps: angles as wrap(θ) and as (cos θ, sin θ) (`input.angleEmbedding`), velocities as
 * q̇ and as atanh(q̇) (`input.velocityEmbedding`), and both together.
 */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import {
  type AngleEmbedding,
  angleEmbeddingOf,
  inputMapOf,
  type VelocityEmbedding,
  velocityEmbeddingOf,
} from '../src/model/inputMap';
import { loadModel } from '../src/model/loadModel';
import type { LoadedModel } from '../src/model/metadata';
import { referenceAccelerations, referenceEnergy, referenceLagrangian } from '../src/model/reference';
import { baselineAccelerations } from '../src/nn/baseline';
import { lgnAccelerations } from '../src/nn/lgn';
import { lnnAccelerations } from '../src/nn/lnn';
import { disposeParams, paramsFromModel, specFromModel } from '../src/nn/mlp';
import { SolveFlag } from '../src/nn/solve64';

const DIR = new URL('../training/tests/fixtures/parity/', import.meta.url);
const CASES = [
  'dp-lnn',
  'chain3-lnn-tanh',
  'string-lgn',
  'dp-baseline',
  'relativistic-lnn',
  'dp-lnn-sincos',
  'relativistic-lnn-rapidity',
  'dp-lnn-sincos-rapidity',
];

/**
 * The input maps the cases must carry (absent: wrap / identity), so that a fixture regenerated without
 * them fails here instead of comparing the default layout twice.
 */
const EMBEDDINGS: Record<string, { angle: AngleEmbedding; velocity: VelocityEmbedding; width: number }> = {
  'dp-lnn': { angle: 'wrap', velocity: 'identity', width: 4 },
  'relativistic-lnn': { angle: 'wrap', velocity: 'identity', width: 2 },
  'dp-lnn-sincos': { angle: 'sincos', velocity: 'identity', width: 6 },
  'relativistic-lnn-rapidity': { angle: 'wrap', velocity: 'rapidity', width: 2 },
  'dp-lnn-sincos-rapidity': { angle: 'sincos', velocity: 'rapidity', width: 6 },
};

interface Expected {
  q: number[][];
  qd: number[][];
  dof: number;
  qdd: number[][];
  L?: number[];
  energy?: number[];
}

function relErr(a: number, b: number, scale: number): number {
  return Math.abs(a - b) / (scale + Math.abs(b));
}

describe('Python/TypeScript parity (training/tests/fixtures/parity)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  for (const name of CASES) {
    it(`${name}: L, energy and q̈ agree`, async () => {
      const model: LoadedModel = await loadModel(new URL(`${name}/`, DIR).pathname);
      const exp = JSON.parse(readFileSync(new URL(`${name}/expected.json`, DIR), 'utf8')) as Expected;
      const layout = EMBEDDINGS[name];
      if (layout) {
        expect(angleEmbeddingOf(model.metadata), `${name} input.angleEmbedding`).toBe(layout.angle);
        expect(velocityEmbeddingOf(model.metadata), `${name} input.velocityEmbedding`).toBe(layout.velocity);
        expect(inputMapOf(model.metadata).width, `${name} network inputs`).toBe(layout.width);
        expect(model.metadata.architecture.layers[0]).toBe(layout.width);
      }
      const batch = exp.q.length;
      const n = exp.q[0].length;
      const q = Float64Array.from(exp.q.flat());
      const qd = Float64Array.from(exp.qd.flat());
      const want = exp.qdd.flat();
      const qScale = Math.max(...want.map(Math.abs));

      // float64 reference: agreement to ~1e-9 where H_vv is positive definite (no regularisation).
      const out = new Float64Array(batch * n);
      const flags = new Uint8Array(batch);
      referenceAccelerations(model, q, qd, out, batch, { flags });
      let compared = 0;
      for (let b = 0; b < batch; b++) {
        if (flags[b] !== SolveFlag.ok) continue;
        compared++;
        for (let i = 0; i < n; i++) {
          expect(relErr(out[b * n + i], want[b * n + i], 1), `${name} reference q̈[${b},${i}]`).toBeLessThan(
            1e-8,
          );
        }
        if (exp.L && exp.energy) {
          const qb = exp.q[b];
          const vb = exp.qd[b];
          expect(relErr(referenceLagrangian(model, qb, vb), exp.L[b], 1), `${name} L[${b}]`).toBeLessThan(
            1e-9,
          );
          expect(relErr(referenceEnergy(model, qb, vb), exp.energy[b], 1), `${name} E[${b}]`).toBeLessThan(
            1e-9,
          );
        }
      }
      expect(compared, `${name}: every state has a positive-definite H_vv`).toBe(batch);

      // float32 tensors (wasm): agreement at float32 precision, relative to the largest |q̈|.
      const before = tf.memory().numTensors;
      const params = paramsFromModel(model);
      const spec = specFromModel(model);
      const qt = tf.tensor2d(Float32Array.from(q), [batch, n], 'float32');
      const vt = tf.tensor2d(Float32Array.from(qd), [batch, n], 'float32');
      let got: Float32Array;
      let tflags: Int32Array | undefined;
      if (model.metadata.kind === 'baseline') {
        const a = baselineAccelerations(params, spec, qt, vt);
        got = a.dataSync() as Float32Array;
        a.dispose();
      } else {
        const r =
          model.metadata.kind === 'lgn'
            ? lgnAccelerations(params, spec, qt, vt)
            : lnnAccelerations(params, spec, qt, vt);
        got = r.qdd.dataSync() as Float32Array;
        tflags = r.flags.dataSync() as Int32Array;
        r.qdd.dispose();
        r.flags.dispose();
      }
      qt.dispose();
      vt.dispose();
      disposeParams(params);
      expect(tf.memory().numTensors, `${name}: no leaked tensors`).toBe(before);
      for (let b = 0; b < batch; b++) {
        if (flags[b] !== SolveFlag.ok || (tflags && tflags[b] !== SolveFlag.ok)) continue;
        for (let i = 0; i < n; i++) {
          expect(
            Math.abs(got[b * n + i] - want[b * n + i]) / (1 + qScale),
            `${name} tensor q̈[${b},${i}] = ${got[b * n + i]} vs ${want[b * n + i]}`,
          ).toBeLessThan(2e-3);
        }
      }
    });
  }
});
