import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import { createModel } from '../src/model/artifacts';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations, referenceTerms, wrapAngle } from '../src/model/reference';
import { eulerLagrange, lnnAccelerations, lnnEnergy, lnnTerms } from '../src/nn/lnn';
import { foldScales, type MlpParams, paramsFromModel, specFromModel } from '../src/nn/mlp';
import { registerGradients } from '../src/nn/registerGradients';
import {
  disposeFusedWeights,
  fusedLagrangianPack,
  prepareFusedWeights,
  registerFusedKernels,
} from '../src/nn/wasmKernels';
import { DoublePendulum } from '../src/systems/DoublePendulum';
import { relErr as sharedRelErr } from './support/errors';
import { checkWeightGradients, type WeightProbe } from './support/weightGradients';

/** Shared relErr with this file's floor of 1e-6. */
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number =>
  sharedRelErr(a, b, floor);

/** A model whose L is convex in (q, q̇): one softplus layer with positive output weights (H_vv ≻ 0). */
function convexModel(dof: number, width: number, seed: number): LoadedModel {
  const m = createRandomModel({ dof, hidden: [width], seed, biasStd: 0.5, qdScale: 0.5 });
  const layers = m.layers.map((l, i) => ({
    kernel: i === m.layers.length - 1 ? l.kernel.map(Math.abs) : l.kernel,
    bias: l.bias,
  }));
  return createModel(m.metadata, layers);
}

/** Deterministic test states: q spread over several turns (wrapping), q̇ in [−8, 8]. */
function states(batch: number, n: number, seed = 1): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let i = 0; i < q.length; i++) {
    q[i] = 7 * Math.sin(1.3 * i + seed) + 0.1 * i;
    qd[i] = 8 * Math.cos(0.7 * i * seed + 0.4);
  }
  return { q, qd };
}

const hvqTimesQd = (hvq: Float64Array, qd: ArrayLike<number>, n: number): number[] =>
  Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += hvq[i * n + j] * qd[j];
    return s;
  });

describe('float64 reference evaluator vs central finite differences', () => {
  for (const activation of ['softplus', 'tanh'] as const) {
    it(`gradient, H_vv and H_vq of a ${activation} LNN match finite differences of L and ∇L`, () => {
      const n = 2;
      const model = createRandomModel({ dof: n, hidden: [24, 16], activation, seed: 5, biasStd: 0.4 });
      const q = [0.4, -1.1];
      const qd = [2.5, -3.5];
      const t = referenceTerms(model, q, qd);
      const h = 1e-5;
      const shifted = (arr: number[], i: number, d: number) => arr.map((v, j) => (j === i ? v + d : v));
      for (let i = 0; i < n; i++) {
        const dLdq =
          (referenceTerms(model, shifted(q, i, h), qd).L - referenceTerms(model, shifted(q, i, -h), qd).L) /
          (2 * h);
        const dLdv =
          (referenceTerms(model, q, shifted(qd, i, h)).L - referenceTerms(model, q, shifted(qd, i, -h)).L) /
          (2 * h);
        expect(Math.abs(dLdq - t.gq[i]), `∂L/∂q_${i}`).toBeLessThan(1e-8 * (1 + Math.abs(t.gq[i])));
        expect(Math.abs(dLdv - t.gv[i]), `∂L/∂q̇_${i}`).toBeLessThan(1e-8 * (1 + Math.abs(t.gv[i])));
        // Column i of H_vv and H_vq from differences of ∂L/∂q̇.
        const vp = referenceTerms(model, q, shifted(qd, i, h)).gv;
        const vm = referenceTerms(model, q, shifted(qd, i, -h)).gv;
        const qp = referenceTerms(model, shifted(q, i, h), qd).gv;
        const qm = referenceTerms(model, shifted(q, i, -h), qd).gv;
        for (let r = 0; r < n; r++) {
          const hvv = (vp[r] - vm[r]) / (2 * h);
          const hvq = (qp[r] - qm[r]) / (2 * h);
          expect(Math.abs(hvv - t.hvv[r * n + i]), `H_vv[${r},${i}]`).toBeLessThan(
            1e-7 * (1e-3 + Math.abs(hvv)),
          );
          expect(Math.abs(hvq - t.hvq[r * n + i]), `H_vq[${r},${i}]`).toBeLessThan(
            1e-7 * (1e-3 + Math.abs(hvq)),
          );
        }
      }
    });
  }

  it('q̈ satisfies the Euler–Lagrange equation H_vv q̈ + H_vq q̇ = ∂L/∂q', () => {
    const model = convexModel(3, 32, 2);
    const { q, qd } = states(4, 3);
    const qdd = new Float64Array(12);
    const flags = new Uint8Array(4);
    referenceAccelerations(model, q, qd, qdd, 4, { flags });
    expect(Array.from(flags), 'a convex L has a positive definite H_vv').toEqual([0, 0, 0, 0]);
    for (let b = 0; b < 4; b++) {
      const t = referenceTerms(model, q.subarray(3 * b, 3 * b + 3), qd.subarray(3 * b, 3 * b + 3));
      const hq = hvqTimesQd(t.hvq, qd.subarray(3 * b), 3);
      for (let i = 0; i < 3; i++) {
        let lhs = hq[i];
        for (let j = 0; j < 3; j++) lhs += t.hvv[i * 3 + j] * qdd[3 * b + j];
        expect(Math.abs(lhs - t.gq[i]), `state ${b}, row ${i}`).toBeLessThan(1e-10 * (1 + Math.abs(t.gq[i])));
      }
    }
  });

  it('angle inputs are wrapped: q and q + 2π give identical terms', () => {
    const model = createRandomModel({ dof: 2, hidden: [16], seed: 9 });
    const a = referenceTerms(model, [0.3, -2], [1, 2]);
    const b = referenceTerms(model, [0.3 + 2 * Math.PI, -2 - 4 * Math.PI], [1, 2]);
    expect(relErr(b.hvv, a.hvv), 'H_vv').toBeLessThan(1e-12);
    expect(Math.abs(b.L - a.L), 'L').toBeLessThan(1e-12);
    expect(wrapAngle(Math.PI), 'wrap(π) = −π').toBeCloseTo(-Math.PI, 14);
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`exact LNN derivatives on TF.js tensors (${backend})`, () => {
    beforeAll(async () => {
      await registerGradients();
      const choice = await initBackend({ backend });
      expect(choice.name, 'backend initialised without fallback').toBe(backend);
    });

    const cases = [
      { n: 1, hidden: [32, 32], activation: 'softplus' as const },
      { n: 2, hidden: [48, 48], activation: 'softplus' as const },
      { n: 2, hidden: [16, 16, 16], activation: 'tanh' as const },
      { n: 3, hidden: [32, 24], activation: 'softplus' as const },
      { n: 5, hidden: [32], activation: 'softplus' as const },
    ];
    for (const c of cases) {
      it(`L, ∇L, H_vv, H_vq q̇ and q̈ match the float64 reference: n=${c.n}, ${c.hidden.join('×')} ${c.activation}`, () => {
        const model = createRandomModel({
          dof: c.n,
          hidden: c.hidden,
          activation: c.activation,
          seed: c.n,
          biasStd: 0.3,
        });
        const batch = 7;
        const { q, qd } = states(batch, c.n, c.n);
        const params = paramsFromModel(model);
        const spec = specFromModel(model);
        const before = tf.memory().numTensors;
        const [Lt, gq, gv, hvv, hu, qdd, flags] = tf.tidy(() => {
          const Q = tf.tensor2d(Float32Array.from(q), [batch, c.n]);
          const V = tf.tensor2d(Float32Array.from(qd), [batch, c.n]);
          const t = lnnTerms(params, spec, Q, V);
          const a = lnnAccelerations(params, spec, Q, V);
          return [t.L, t.gq, t.gv, t.hvv, t.hvqQd, a.qdd, a.flags].map((x) => x.dataSync());
        });
        expect(tf.memory().numTensors, 'no tensors leak').toBe(before);
        const refQdd = new Float64Array(batch * c.n);
        const refFlags = new Uint8Array(batch);
        referenceAccelerations(model, q, qd, refQdd, batch, { flags: refFlags });
        for (let b = 0; b < batch; b++) {
          const s = (x: ArrayLike<number>, len: number) => Array.from(x).slice(b * len, (b + 1) * len);
          const r = referenceTerms(
            model,
            q.subarray(b * c.n, (b + 1) * c.n),
            qd.subarray(b * c.n, (b + 1) * c.n),
          );
          expect(relErr([Lt[b]], [r.L]), `L of state ${b}`).toBeLessThan(2e-5);
          expect(relErr(s(gq, c.n), r.gq), `∂L/∂q of state ${b}`).toBeLessThan(2e-5);
          expect(relErr(s(gv, c.n), r.gv), `∂L/∂q̇ of state ${b}`).toBeLessThan(2e-5);
          expect(relErr(s(hvv, c.n * c.n), r.hvv), `H_vv of state ${b}`).toBeLessThan(2e-5);
          expect(
            relErr(s(hu, c.n), hvqTimesQd(r.hvq, qd.subarray(b * c.n), c.n)),
            `H_vq q̇ of state ${b}`,
          ).toBeLessThan(2e-5);
          expect(flags[b], `solve flag of state ${b}`).toBe(refFlags[b]);
          // q̈ inherits H_vv's conditioning: compare relative to its own size, looser.
          expect(relErr(s(qdd, c.n), s(refQdd, c.n)), `q̈ of state ${b}`).toBeLessThan(2e-3);
        }
        for (const t of [...params.kernels, ...params.biases]) t.dispose();
      });
    }

    for (const activation of ['softplus', 'tanh'] as const) {
      it(`the fused ${backend} kernels give the same H_vv, H_vq q̇ and ∂L/∂x as the reference (${activation})`, () => {
        expect(registerFusedKernels(backend), 'fused kernels exist for this backend').toBe(true);
        for (const n of [1, 2, 3]) {
          const model = createRandomModel({
            dof: n,
            hidden: [24, 20, 16],
            activation,
            seed: 20 + n,
            biasStd: 0.5,
          });
          const batch = 5;
          const k = n + 1;
          const { q, qd } = states(batch, n, n + 1);
          // Stacked input rows: x = (wrap(q), q̇) per state, then the directions e_{q̇_i} and u = (q̇, 0).
          const xs = new Float32Array(batch * (1 + k) * 2 * n);
          for (let b = 0; b < batch; b++) {
            for (let i = 0; i < n; i++) {
              xs[b * 2 * n + i] = wrapAngle(q[b * n + i]);
              xs[b * 2 * n + n + i] = qd[b * n + i];
              xs[(batch + b * k + i) * 2 * n + n + i] = 1;
              xs[(batch + b * k + n) * 2 * n + i] = qd[b * n + i];
            }
          }
          const spec = specFromModel(model);
          const params = paramsFromModel(model);
          const data = tf.tidy(() => {
            const weights = prepareFusedWeights(foldScales(params, spec));
            const out = fusedLagrangianPack(
              weights,
              activation,
              tf.tensor2d(xs, [batch * (1 + k), 2 * n]),
              n,
            ).dataSync();
            disposeFusedWeights(weights);
            return out;
          });
          tf.dispose([...params.kernels, ...params.biases]);
          const width = n * k + 2 * n;
          for (let b = 0; b < batch; b++) {
            const r = referenceTerms(model, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
            const row = Array.from(data.subarray(b * width, (b + 1) * width));
            const hvv = Array.from({ length: n * n }, (_, t) => row[Math.floor(t / n) * k + (t % n)]);
            const hu = Array.from({ length: n }, (_, i) => row[i * k + n]);
            expect(relErr(hvv, r.hvv), `n=${n} state ${b}: H_vv`).toBeLessThan(2e-5);
            expect(
              relErr(hu, hvqTimesQd(r.hvq, qd.subarray(b * n), n)),
              `n=${n} state ${b}: H_vq q̇`,
            ).toBeLessThan(2e-5);
            expect(relErr(row.slice(n * k, n * k + n), r.gq), `n=${n} state ${b}: ∂L/∂q`).toBeLessThan(2e-5);
            expect(relErr(row.slice(n * k + n), r.gv), `n=${n} state ${b}: ∂L/∂q̇`).toBeLessThan(2e-5);
          }
        }
      });
    }

    it('the explicit Hessian equals nested tf.grad through tf.softplus', () => {
      const model = createRandomModel({
        dof: 2,
        hidden: [16, 16],
        seed: 4,
        biasStd: 0.3,
        angles: [false, false],
      });
      const params = paramsFromModel(model);
      const spec = specFromModel(model);
      const q = tf.tensor2d([0.3, -0.7, 1.1, 0.2], [2, 2]);
      const qd = tf.tensor2d([1.5, -2, 0.3, 4], [2, 2]);
      const explicit = tf.tidy(() => lnnTerms(params, spec, q, qd).hvv.dataSync());
      // ∂/∂q̇ of (∂L/∂q̇_j), summed over the batch (states are independent), for each j.
      const gv = (v: tf.Tensor) =>
        tf.grad((x: tf.Tensor) => tf.sum(plainLagrangian(params, spec, q, x as tf.Tensor2D)))(v);
      const rows = [0, 1].map((j) =>
        tf.tidy(() =>
          tf
            .grad((v: tf.Tensor) => tf.sum(tf.slice(gv(v), [0, j], [2, 1])))(qd)
            .dataSync(),
        ),
      );
      for (let b = 0; b < 2; b++) {
        for (let j = 0; j < 2; j++) {
          for (let i = 0; i < 2; i++) {
            const auto = rows[j][b * 2 + i];
            const mine = explicit[b * 4 + j * 2 + i];
            expect(Math.abs(auto - mine), `H_vv[${b}][${j},${i}]`).toBeLessThan(
              1e-4 * (1e-3 + Math.abs(auto)),
            );
          }
        }
      }
      for (const t of [...params.kernels, ...params.biases, q, qd]) t.dispose();
    });

    it('Euler–Lagrange assembly and solve reproduce the closed-form double pendulum from an analytic L in tensor ops', () => {
      const dp = new DoublePendulum({ m1: 1.3, m2: 0.8, l1: 1.1, l2: 0.7, g: 9.8 });
      const { m1, m2, l1, l2, g } = dp.params;
      const batch = 6;
      const { q, qd } = states(batch, 2, 3);
      // L(q, q̇) of the double pendulum, written in TF.js ops, per state [batch].
      const L = (Q: tf.Tensor, V: tf.Tensor): tf.Tensor => {
        const [t1, t2] = tf.unstack(Q, 1);
        const [w1, w2] = tf.unstack(V, 1);
        const T = tf.addN([
          tf.mul(tf.square(w1), 0.5 * (m1 + m2) * l1 * l1),
          tf.mul(tf.square(w2), 0.5 * m2 * l2 * l2),
          tf.mul(tf.mul(tf.mul(w1, w2), tf.cos(tf.sub(t1, t2))), m2 * l1 * l2),
        ]);
        const negV = tf.add(tf.mul(tf.cos(t1), (m1 + m2) * g * l1), tf.mul(tf.cos(t2), m2 * g * l2));
        return tf.add(T, negV);
      };
      const qdd = tf.tidy(() => {
        const Q = tf.tensor2d(Float32Array.from(q), [batch, 2]);
        const V = tf.tensor2d(Float32Array.from(qd), [batch, 2]);
        const grads = (fq: tf.Tensor, fv: tf.Tensor, f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([fq, fv]);
        const [gq, gv] = grads(Q, V, L);
        // Row j of H_vv and H_vq: derivatives of ∂L/∂q̇_j.
        const rows = [0, 1].map((j) =>
          grads(Q, V, (a, b) => tf.slice(grads(a, b, L)[1], [0, j], [batch, 1])),
        );
        const hvv = tf.stack(
          rows.map((r) => r[1]),
          1,
        ) as tf.Tensor3D;
        const hvq = tf.stack(
          rows.map((r) => r[0]),
          1,
        ) as tf.Tensor3D;
        const hvqQd = tf.reshape(tf.matMul(hvq, tf.reshape(V, [batch, 2, 1])), [batch, 2]) as tf.Tensor2D;
        const terms = { L: L(Q, V) as tf.Tensor1D, gq: gq as tf.Tensor2D, gv: gv as tf.Tensor2D, hvv, hvqQd };
        const { x, flags } = eulerLagrange(terms);
        expect(Array.from(flags.dataSync()), 'the true H_vv is positive definite').toEqual(
          new Array(batch).fill(0),
        );
        return x.dataSync();
      });
      const exact = new Float64Array(batch * 2);
      dp.accelerations(q, qd, exact, batch);
      expect(relErr(qdd, exact), 'q̈ vs closed form').toBeLessThan(1e-4);
    });

    it('tf.variableGrads differentiates q̈ with respect to the weights (vs float64 finite differences)', () => {
      const model = convexModel(2, 16, 7);
      const batch = 5;
      const { q, qd } = states(batch, 2, 2);
      const target = new Float64Array(batch * 2).map((_, i) => Math.sin(i));
      const probes: WeightProbe[] = [
        [0, 'kernel', 3],
        [0, 'kernel', 20],
        [0, 'bias', 5],
        [1, 'kernel', 7],
        [0, 'bias', 11],
      ];
      for (const c of checkWeightGradients(model, q, qd, target, probes)) {
        expect(
          Math.abs(c.autodiff - c.finiteDifference),
          `${c.label}: autodiff ${c.autodiff}, finite difference ${c.finiteDifference}`,
        ).toBeLessThan(2e-2 * Math.abs(c.finiteDifference) + 1e-3);
      }
    });

    it('learned energy E = q̇·∂L/∂q̇ − L matches the reference', () => {
      const model = createRandomModel({ dof: 2, hidden: [32, 32], seed: 12, biasStd: 0.2 });
      const params = paramsFromModel(model);
      const { q, qd } = states(3, 2);
      const e = tf.tidy(() =>
        lnnEnergy(
          params,
          specFromModel(model),
          tf.tensor2d(Float32Array.from(q), [3, 2]),
          tf.tensor2d(Float32Array.from(qd), [3, 2]),
        ).dataSync(),
      );
      for (let b = 0; b < 3; b++) {
        const r = referenceTerms(model, q.subarray(2 * b, 2 * b + 2), qd.subarray(2 * b, 2 * b + 2));
        const ref = qd[2 * b] * r.gv[0] + qd[2 * b + 1] * r.gv[1] - r.L;
        expect(Math.abs(e[b] - ref), `E of state ${b}`).toBeLessThan(1e-5 * (1 + Math.abs(ref)));
      }
      for (const t of [...params.kernels, ...params.biases]) t.dispose();
    });

    let tensorsBefore = 0;
    beforeEach(() => {
      tensorsBefore = tf.memory().numTensors;
    });
    afterEach((ctx) => {
      expect(tf.memory().numTensors, `${ctx.task.name}: tensors left behind`).toBe(tensorsBefore);
    });
  });
}

/** L(q, q̇) `[batch]` as a plain differentiable forward pass (for the nested-autodiff cross-check). */
function plainLagrangian(
  params: MlpParams,
  spec: ReturnType<typeof specFromModel>,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
): tf.Tensor {
  let a: tf.Tensor = tf.concat([tf.mul(q, spec.qScale as number[]), tf.mul(qd, spec.qdScale as number[])], 1);
  const last = params.kernels.length - 1;
  for (let l = 0; l <= last; l++) {
    const z = tf.add(tf.matMul(a as tf.Tensor2D, params.kernels[l]), params.biases[l]);
    a = l === last ? z : tf.softplus(z);
  }
  return tf.mul(tf.reshape(a, [-1]), spec.outputScale);
}
