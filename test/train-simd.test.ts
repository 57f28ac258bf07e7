/**
 * The float32 wasm-SIMD kernels of the exact loss gradient (wasm/trainKernels.ts via SimdKernels) against
 * the float64 JS reference kernels: each kernel on its own (ragged widths, extreme pre-activations), the
 * products on every path (small inner width, small output width, transposed, backend GEMM), whole
 * gradients on networks whose widths are not multiples of 4, arena growth and reuse, determinism.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src/learned/backend';
import { inputMapOf } from '../src/model/inputMap';
import type { ModelMetadata } from '../src/model/metadata';
import type { GradKernels } from '../src/train/fast/kernels';
import { type LnnNet, lnnLossGradient } from '../src/train/fast/lnnLossGradient';
import { referenceKernels } from '../src/train/fast/referenceKernels';
import { SimdKernels, type Slab } from '../src/train/fast/simdKernels';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Upload float64 values into a fresh SIMD buffer (rounded to float32) and return it with its float32 copy. */
function put(ks: SimdKernels, values: ArrayLike<number>): Slab {
  const t = ks.alloc(values.length);
  ks.view(t).set(values);
  return t;
}

/** max |a − b| / max |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den || 1);
}

describe('SIMD training kernels vs the float64 reference', () => {
  it('activate: softplus and tanh with σ′, σ″, σ‴ over extreme pre-activations and ragged widths', () => {
    const zs = [-100, -88, -87.5, -20, -1, -1e-3, -1e-30, 0, 1e-30, 1e-3, 0.5, 1, 20, 87.5, 88, 100];
    for (const act of ['softplus', 'tanh'] as const) {
      for (const h of [1, 3, 5, 16, 17]) {
        const B = Math.ceil(zs.length / h) + 1;
        const k = 2;
        const r = rng(h);
        const Z = Float32Array.from({ length: (1 + k) * B * h }, (_, i) => (i < zs.length ? zs[i] : 6 * r()));
        const bias = Float32Array.from({ length: h }, () => 0.1 * r());
        const Z64 = Float64Array.from(Z);
        const b64 = Float64Array.from(bias);
        const ref = [0, 1, 2, 3].map((i) => new Float64Array((i === 0 ? 1 + k : 1) * B * h));
        referenceKernels.activate(act, Z64, b64, B, h, k, ref[0], ref[1], ref[2], ref[3]);
        const ks = new SimdKernels();
        ks.begin();
        const z = put(ks, Z);
        const bb = put(ks, bias);
        const out = [ks.alloc((1 + k) * B * h), ks.alloc(B * h), ks.alloc(B * h), ks.alloc(B * h)];
        ks.activate(act, z, bb, B, h, k, out[0], out[1], out[2], out[3]);
        for (let o = 0; o < 4; o++) {
          const got = ks.view(out[o]);
          for (let e = 0; e < got.length; e++) {
            // float32 rounding of the inputs is shared; the kernels' own error is a few ulp of the
            // largest magnitude involved.
            const tol = 2e-6 * Math.max(1, Math.abs(ref[o][e]), Math.abs(Z[e % (B * h)]) * (o === 0 ? 1 : 0));
            expect(Math.abs(got[e] - ref[o][e]), `${act} h=${h} out ${o} entry ${e}`).toBeLessThan(tol);
          }
        }
      }
    }
  });

  it('curvature, reverse and tangent adjoints, column sums: equal to the reference on ragged rows', () => {
    const B = 7;
    const h = 13;
    const k = 3;
    const r = rng(5);
    const arr = (n: number, s = 1) => Float64Array.from({ length: n }, () => s * r());
    const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
    const [G, s1, s2, s3, dbar, zb, AJ] = [B * h, B * h, B * h, B * h, B * h, B * h, (1 + k) * B * h].map(
      (n) => f32(arr(n, 2)),
    );
    const Zd = f32(arr(k * B * h, 2));
    const rho = f32(arr(B * k));
    const nu = f32(arr(B * k));
    const ks = new SimdKernels();
    ks.begin();
    const S = (a: Float64Array) => put(ks, a);
    const [sG, ss1, ss2, ss3, sdbar, szb, sAJ, sZd, srho, snu] = [
      G,
      s1,
      s2,
      s3,
      dbar,
      zb,
      AJ,
      Zd,
      rho,
      nu,
    ].map(S);

    // curvature weights and the Hessian entries the solve reads (the SIMD kernel skips H_uu)
    const rd = new Float64Array(B * h);
    const rc = new Float64Array(B * h);
    const rH = new Float64Array(B * k * k);
    referenceKernels.curvatureHessian(G, s1, s2, Zd, B, h, k, rd, rc, rH);
    const d = ks.alloc(B * h);
    const c = ks.alloc(B * h);
    const H = ks.alloc64(B * k * k);
    ks.curvatureHessian(sG, ss1, ss2, sZd, B, h, k, d, c, H);
    expect(relDiff(ks.view(d), rd)).toBeLessThan(1e-6);
    expect(relDiff(ks.view(c), rc)).toBeLessThan(1e-6);
    const Hv = ks.view64(H);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) {
          if (i === k - 1 && j === k - 1) continue;
          const e = b * k * k + i * k + j;
          expect(Math.abs(Hv[e] - rH[e])).toBeLessThan(1e-5 * (1 + Math.abs(rH[e])));
        }

    // reverse-sweep adjoints
    const rR = new Float64Array(B * h);
    const rA = new Float64Array(B * h);
    const rgb = new Float64Array(B * h);
    const rzb = new Float64Array(B * h);
    referenceKernels.reverseAdjoint(dbar, Zd, rho, nu, s1, s2, s3, G, B, h, k, rR, rA, rgb, rzb);
    const [R, A, gb, zbar] = [0, 1, 2, 3].map(() => ks.alloc(B * h));
    ks.reverseAdjoint(sdbar, sZd, srho, snu, ss1, ss2, ss3, sG, B, h, k, R, A, gb, zbar);
    for (const [got, want] of [
      [R, rR],
      [A, rA],
      [gb, rgb],
      [zbar, rzb],
    ] as const)
      expect(relDiff(ks.view(got), want)).toBeLessThan(1e-5);

    // tangent adjoints, with and without a layer above
    for (const above of [true, false]) {
      const rY = new Float64Array((1 + k) * B * h);
      referenceKernels.tangentAdjoint(Zd, s1, s2, rc, zb, above ? AJ : null, rho, nu, rR, rA, B, h, k, rY);
      const Y = ks.alloc((1 + k) * B * h);
      ks.tangentAdjoint(sZd, ss1, ss2, c, szb, above ? sAJ : null, srho, snu, R, A, B, h, k, Y);
      expect(relDiff(ks.view(Y), rY), `above ${above}`).toBeLessThan(1e-5);
    }

    // column sums add into their output
    const rs = Float64Array.from({ length: h }, (_, i) => i);
    const out = put(ks, rs);
    referenceKernels.columnSum(G, B, h, rs);
    ks.columnSum(sG, B, h, out);
    expect(relDiff(ks.view(out), rs)).toBeLessThan(1e-6);
  });

  it('products on every path: small inner width, small output width, transposed, backend GEMM', () => {
    const r = rng(9);
    const before = tf.memory().numTensors;
    for (const [m, k, n] of [
      [37, 4, 13], // small inner width (input layer forward)
      [37, 13, 3], // small output width (down to the input layer)
      [37, 40, 21], // backend GEMM
      [8, 1, 1],
    ]) {
      const a = Float64Array.from({ length: m * k }, r);
      const b = Float64Array.from({ length: k * n }, r);
      const ks = new SimdKernels();
      ks.begin();
      const want = referenceKernels.mm(
        Float64Array.from(Float32Array.from(a)),
        m,
        k,
        Float64Array.from(Float32Array.from(b)),
        n,
      );
      expect(
        relDiff(ks.view(ks.mm(put(ks, a), m, k, put(ks, b), n)), want),
        `mm ${m}x${k}x${n}`,
      ).toBeLessThan(1e-5);
    }
    for (const [m, k, n] of [
      [41, 5, 13], // small transposed width (input layer's weight gradient)
      [41, 19, 13], // transposed in the module, then the backend GEMM
      [41, 33, 2],
    ]) {
      const a = Float64Array.from({ length: m * k }, r);
      const b = Float64Array.from({ length: m * n }, r);
      // zeros in A exercise the skip of the small path
      for (let i = 0; i < a.length; i += 3) a[i] = 0;
      const ks = new SimdKernels();
      ks.begin();
      const want = referenceKernels.mmTN(
        Float64Array.from(Float32Array.from(a)),
        m,
        k,
        Float64Array.from(Float32Array.from(b)),
        n,
      );
      expect(
        relDiff(ks.view(ks.mmTN(put(ks, a), m, k, put(ks, b), n)), want),
        `mmTN ${m}x${k}x${n}`,
      ).toBeLessThan(1e-5);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A random lnn network of the given widths (manifest-order float32 weights) on a 2-dof system. */
function randomNet(layers: number[], act: 'softplus' | 'tanh', seed: number, embedding: 'wrap' | 'sincos') {
  const meta = {
    dof: 2,
    angles: [true, false],
    input: { qScale: [0.8, 1.3], qdScale: [0.4, 0.7], angleEmbedding: embedding },
  } as unknown as ModelMetadata;
  const map = inputMapOf(meta);
  const widths = [map.width, ...layers, 1];
  const net: LnnNet = { layers: widths, activation: act, map, outputScale: 1.7 };
  const r = rng(seed);
  const weights: Float32Array[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    weights.push(
      Float32Array.from({ length: widths[l] * widths[l + 1] }, () => (2 * r()) / Math.sqrt(widths[l])),
    );
    weights.push(Float32Array.from({ length: widths[l + 1] }, () => 0.2 * r()));
  }
  return { net, weights };
}

/** States, and targets near the network's own q̈ scale. */
function batch(B: number, seed: number) {
  const r = rng(seed);
  return {
    q: Float64Array.from({ length: 2 * B }, () => 3 * r()),
    qd: Float64Array.from({ length: 2 * B }, () => 2 * r()),
    target: Float64Array.from({ length: 2 * B }, () => 4 * r()),
  };
}

function gradient<T>(ks: GradKernels<T>, net: LnnNet, w: ArrayLike<number>[], B: number, seed: number) {
  const { q, qd, target } = batch(B, seed);
  return lnnLossGradient(net, w, q, qd, target, B, 'l2', 0, ks);
}

describe('exact loss gradient on the SIMD kernels', () => {
  for (const [layers, act, emb] of [
    [[13, 7], 'softplus', 'wrap'],
    [[5], 'tanh', 'sincos'],
    [[9, 6, 11], 'softplus', 'sincos'],
    [[32, 32], 'tanh', 'wrap'],
  ] as const) {
    it(`${layers.join('→')} ${act} ${emb}: equals the float64 reference to float32 accuracy`, () => {
      const { net, weights } = randomNet([...layers], act, 3, emb);
      const w64 = weights.map((x) => Float64Array.from(x));
      const ref = gradient(referenceKernels, net, w64, 23, 4);
      const got = gradient(new SimdKernels(), net, weights, 23, 4);
      expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(1e-4);
      expect(got.failed).toBe(ref.failed);
      let norm = 0;
      for (const g of ref.grads) for (const v of g) norm = Math.max(norm, Math.abs(v));
      ref.grads.forEach((g, i) => {
        expect(got.grads[i].length).toBe(g.length);
        for (let e = 0; e < g.length; e++) expect(Math.abs(got.grads[i][e] - g[e]) / norm).toBeLessThan(2e-4);
      });
    });
  }

  it('on the cpu backend (GEMMs read back by dataSync) the gradient equals the wasm one to float32 rounding', async () => {
    const { net, weights } = randomNet([24, 20], 'softplus', 6, 'wrap');
    const onWasm = gradient(new SimdKernels(), net, weights, 40, 2);
    await initBackend({ backend: 'cpu' });
    try {
      expect(tf.getBackend()).toBe('cpu');
      const onCpu = gradient(new SimdKernels(), net, weights, 40, 2);
      let norm = 0;
      for (const g of onWasm.grads) for (const v of g) norm = Math.max(norm, Math.abs(v));
      // The backends' GEMMs sum in different orders: equal to float32 rounding, not bitwise.
      onWasm.grads.forEach((g, i) => {
        for (let e = 0; e < g.length; e++)
          expect(Math.abs(onCpu.grads[i][e] - g[e]) / norm).toBeLessThan(1e-5);
      });
    } finally {
      await initBackend({ backend: 'wasm' });
    }
  });

  it('one arena grows to the largest batch and is reused: results are bitwise those of fresh kernels', () => {
    const { net, weights } = randomNet([24, 20], 'softplus', 8, 'sincos');
    const shared = new SimdKernels();
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    for (const [B, seed] of [
      [8, 1],
      [300, 2],
      [8, 1],
      [64, 3],
    ]) {
      const a = gradient(shared, net, weights, B, seed);
      const b = gradient(new SimdKernels(), net, weights, B, seed);
      expect(a.loss).toBe(b.loss);
      a.grads.forEach((g, i) => {
        expect(Array.from(g)).toEqual(Array.from(b.grads[i]));
      });
      seen.push(shared.arenaBytes);
    }
    // grown once for the batch of 300, never again
    expect(seen[1]).toBeGreaterThan(seen[0]);
    expect(seen[3]).toBe(seen[1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a NaN state does not pass for a finite gradient', () => {
    const { net, weights } = randomNet([16, 16], 'softplus', 2, 'wrap');
    const { q, qd, target } = batch(16, 7);
    qd[5] = Number.NaN;
    const r = lnnLossGradient(net, weights, q, qd, target, 16, 'l2', 0, new SimdKernels());
    const finite = Number.isFinite(r.loss) && r.grads.every((g) => g.every(Number.isFinite));
    expect(finite && r.failed === 0).toBe(false);
  });
});
