/**
 * The sin/cos angle embedding (`input.angleEmbedding: "sincos"`) in the float64 reference evaluator:
 * its ∂L/∂q, H_vv, H_vq and q̈ against finite differences of L alone (model-independent), exact
 * periodicity and smoothness across θ = ±π, the input ordering written out by hand, and q̈ against the
 * JAX trainer's float64 evaluation (a committed fixture) of a model it exported and of one written here.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/model/artifacts';
import { formatModelSummary, inspectModel } from '../src/model/inspect';
import { loadModel } from '../src/model/loadModel';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import {
  referenceAccelerations,
  referenceEnergy,
  referenceForward,
  referenceLagrangian,
  referenceTerms,
} from '../src/model/reference';
import { writeModel } from '../src/model/saveModel';
import { SolveFlag } from '../src/nn/solve64';

const repo = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'three-lnn-sincos-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TAU = 2 * Math.PI;

function sincosModel(extra: Parameters<typeof createRandomModel>[0] = {}): LoadedModel {
  return createRandomModel({ angleEmbedding: 'sincos', hidden: [16, 16], biasStd: 0.3, seed: 7, ...extra });
}

/**
 * Central difference of f at 0 with Richardson extrapolation ((4 D(h/2) − D(h)) / 3): error O(h⁴), so a
 * coarse h keeps the float64 rounding error (≈ ε·|f| / h or / h²) small.
 */
function richardson(d: (h: number) => number, h: number): number {
  return (4 * d(h / 2) - d(h)) / 3;
}

/** ∂L/∂q, ∂L/∂q̇, H_vv and H_vq of one state by finite differences of referenceLagrangian only. */
function finiteDifferenceTerms(model: LoadedModel, q: number[], qd: number[], h = 1e-2) {
  const n = q.length;
  const L = (dq: number[], dv: number[]) =>
    referenceLagrangian(
      model,
      q.map((v, i) => v + dq[i]),
      qd.map((v, i) => v + dv[i]),
    );
  const e = (i: number, h: number) => Array.from({ length: n }, (_, k) => (k === i ? h : 0));
  const zero = new Array<number>(n).fill(0);
  const gq = Array.from({ length: n }, (_, i) =>
    richardson((s) => (L(e(i, s), zero) - L(e(i, -s), zero)) / (2 * s), h),
  );
  const gv = Array.from({ length: n }, (_, i) =>
    richardson((s) => (L(zero, e(i, s)) - L(zero, e(i, -s))) / (2 * s), h),
  );
  const hvv: number[] = [];
  const hvq: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < n; c++) {
      // ∂²L/∂q̇_i∂q̇_c (the plain second difference when i = c: the mixed formula with equal directions
      // is the same second difference at step 2s).
      hvv.push(
        richardson(
          (s) =>
            (L(zero, add(e(i, s), e(c, s))) -
              L(zero, add(e(i, s), e(c, -s))) -
              L(zero, add(e(i, -s), e(c, s))) +
              L(zero, add(e(i, -s), e(c, -s)))) /
            (4 * s * s),
          h,
        ),
      );
      hvq.push(
        richardson(
          (s) =>
            (L(e(c, s), e(i, s)) - L(e(c, -s), e(i, s)) - L(e(c, s), e(i, -s)) + L(e(c, -s), e(i, -s))) /
            (4 * s * s),
          h,
        ),
      );
    }
  }
  return { gq, gv, hvv, hvq };
}

function add(a: number[], b: number[]): number[] {
  return a.map((v, i) => v + b[i]);
}

/** q̈ = H_vv⁻¹ (∂L/∂q − H_vq q̇) for n = 2 in closed form. */
function solve2(hvv: ArrayLike<number>, hvq: ArrayLike<number>, gq: ArrayLike<number>, qd: number[]) {
  const r0 = gq[0] - hvq[0] * qd[0] - hvq[1] * qd[1];
  const r1 = gq[1] - hvq[2] * qd[0] - hvq[3] * qd[1];
  const det = hvv[0] * hvv[3] - hvv[1] * hvv[2];
  return [(hvv[3] * r0 - hvv[1] * r1) / det, (hvv[0] * r1 - hvv[2] * r0) / det];
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  const scale = Math.max(maxAbs(want), 1e-300);
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(got[i] - want[i]) / scale, `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThan(rel);
  }
}

describe('sincos angle embedding in the float64 reference', () => {
  const states: [string, number[], number[]][] = [
    ['generic state', [0.7, -2.1], [1.3, -0.4]],
    ['on the seam θ = ±π (where wrap is not smooth)', [Math.PI, -Math.PI], [-2, 3]],
    ['far outside [−π, π)', [0.7 + 3 * TAU, -2.1 - 5 * TAU], [0.5, 2]],
  ];
  for (const [label, q, qd] of states) {
    it(`∂L/∂q, ∂L/∂q̇, H_vv, H_vq, energy and q̈ match finite differences of L (${label})`, () => {
      const model = sincosModel();
      expect(model.metadata.architecture.layers[0]).toBe(6);
      const t = referenceTerms(model, q, qd);
      const fd = finiteDifferenceTerms(model, q, qd);
      expectClose(t.gq, fd.gq, 1e-9, '∂L/∂q');
      expectClose(t.gv, fd.gv, 1e-9, '∂L/∂q̇');
      expectClose(t.hvv, fd.hvv, 1e-7, 'H_vv');
      expectClose(t.hvq, fd.hvq, 1e-7, 'H_vq');
      const e = qd[0] * fd.gv[0] + qd[1] * fd.gv[1] - referenceLagrangian(model, q, qd);
      expect(Math.abs(referenceEnergy(model, q, qd) - e)).toBeLessThan(1e-9 * Math.max(1, Math.abs(e)));
      const qdd = new Float64Array(2);
      referenceAccelerations(model, q, qd, qdd, 1, { epsilon: 0 });
      expectClose(qdd, solve2(fd.hvv, fd.hvq, fd.gq, qd), 1e-6, 'q̈');
    });
  }

  it('is exactly periodic: q and q + 2πk give the same terms and q̈', () => {
    const model = sincosModel({ seed: 11 });
    const q = [0.4, -1.2];
    const qd = [0.8, -1.5];
    const t0 = referenceTerms(model, q, qd);
    const a0 = new Float64Array(2);
    referenceAccelerations(model, q, qd, a0, 1, { epsilon: 0 });
    for (const k of [
      [1, 0],
      [0, -1],
      [3, 7],
    ]) {
      const qk = [q[0] + TAU * k[0], q[1] + TAU * k[1]];
      const t = referenceTerms(model, qk, qd);
      // Only the rounding of q + 2πk separates the two (|Δq| ≲ 1e-15·|q|).
      expect(Math.abs(t.L - t0.L)).toBeLessThan(1e-13);
      expectClose(t.gq, t0.gq, 1e-12, `∂L/∂q, shift ${k}`);
      expectClose(t.hvv, t0.hvv, 1e-12, `H_vv, shift ${k}`);
      expectClose(t.hvq, t0.hvq, 1e-12, `H_vq, shift ${k}`);
      const a = new Float64Array(2);
      referenceAccelerations(model, qk, qd, a, 1, { epsilon: 0 });
      expectClose(a, a0, 1e-11, `q̈, shift ${k}`);
    }
  });

  it('feeds the network (cos θ, sin θ)·qScale per angle, in coordinate order, then q̇·qdScale', () => {
    // Input scales ≠ 1 so that a missing scale shows; the input written out by hand, not via inputMap.
    const model = sincosModel({ qScale: 0.8, qdScale: 0.3, outputScale: 2.5, seed: 5 });
    const q = [0.9, -2.4];
    const qd = [1.1, -0.7];
    const y = (x: number[]) => 2.5 * referenceForward(model, x)[0];
    const x = [
      0.8 * Math.cos(q[0]),
      0.8 * Math.sin(q[0]),
      0.8 * Math.cos(q[1]),
      0.8 * Math.sin(q[1]),
      0.3 * qd[0],
      0.3 * qd[1],
    ];
    const L = referenceLagrangian(model, q, qd);
    expect(Math.abs(L - y(x))).toBeLessThan(1e-14 * Math.max(1, Math.abs(L)));
    // The check can fail: sin before cos, or the two angles swapped, is another function.
    const swapped = [x[1], x[0], x[3], x[2], x[4], x[5]];
    const angles = [x[2], x[3], x[0], x[1], x[4], x[5]];
    expect(Math.abs(L - y(swapped))).toBeGreaterThan(1e-6);
    expect(Math.abs(L - y(angles))).toBeGreaterThan(1e-6);
  });

  it('is smooth across θ = ±π, where the wrap embedding of the same kind of network jumps', () => {
    const d = 1e-9;
    const qd = [0.6, -1.3];
    const jump = (model: LoadedModel) =>
      Math.abs(
        referenceLagrangian(model, [Math.PI - d, 0.3], qd) -
          referenceLagrangian(model, [Math.PI + d, 0.3], qd),
      );
    const sincos = sincosModel({ seed: 9 });
    const wrap = createRandomModel({ hidden: [16, 16], biasStd: 0.3, seed: 9 });
    expect(wrap.metadata.input.angleEmbedding).toBeUndefined();
    expect(jump(sincos)).toBeLessThan(1e-7);
    expect(jump(wrap)).toBeGreaterThan(1e-3);
    // ∂L/∂q is continuous too (it is −∂L/∂x_cos·sin θ + ∂L/∂x_sin·cos θ).
    const gm = referenceTerms(sincos, [Math.PI - d, 0.3], qd).gq;
    const gp = referenceTerms(sincos, [Math.PI + d, 0.3], qd).gq;
    expectClose(gp, gm, 1e-7, '∂L/∂q across the seam');
  });

  it('mixes a sin/cos angle with a non-angle coordinate (one identity input)', () => {
    // A sincos model with one non-angle coordinate: 2 + 1 + 2 inputs, and FD still agree.
    const model = sincosModel({ angles: [true, false], seed: 13 });
    expect(model.metadata.architecture.layers[0]).toBe(5);
    const q = [2.9, 0.35];
    const qd = [-0.8, 1.7];
    const t = referenceTerms(model, q, qd);
    const fd = finiteDifferenceTerms(model, q, qd);
    expectClose(t.gq, fd.gq, 1e-9, '∂L/∂q');
    expectClose(t.hvq, fd.hvq, 1e-7, 'H_vq');
    expectClose(t.hvv, fd.hvv, 1e-7, 'H_vv');
  });
});

/**
 * The JAX side of the comparison, committed (training/make_sincos_fixture.py writes it; pytest
 * training/tests/test_sincos_fixture.py checks that the trainer still computes it): a tiny model trained
 * and exported by the trainer (its metadata, its weight layout), the model below as written by writeModel,
 * and q̈ of both at a few states in the JAX trainer, float64 from the stored float32 weights — through its
 * explicit derivatives (predict_qdd) and through nested autodiff of its Lagrangian (predict_qdd_one).
 */
const FIXTURE = join(repo, 'training', 'tests', 'fixtures', 'sincos-jax');
const WRITTEN_FILES = ['model.json', 'weights.bin'];

interface JaxQdd {
  /** The angle embedding the trainer read from the model. */
  embedding: string;
  /** q̈ per state, [batch][2]. */
  explicit: number[][];
  autodiff: number[][];
}

interface SincosJaxFixture {
  q: number[][];
  qd: number[][];
  trained: JaxQdd;
  written: JaxQdd;
}

/**
 * The model TypeScript writes and the trainer reads: softplus with non-negative kernels after the first
 * layer is convex in its inputs, so H_vv is positive definite at every state.
 */
function convexSincosModel(): LoadedModel {
  const rnd = sincosModel({ seed: 21, outputScale: 1.7, qScale: 0.9, qdScale: 0.2 });
  return createModel(
    rnd.metadata,
    rnd.layers.map((l, i) => ({ kernel: i === 0 ? l.kernel : l.kernel.map(Math.abs), bias: l.bias })),
  );
}

describe('sincos models: the float64 reference reproduces the JAX trainer (training/tests/fixtures/sincos-jax)', () => {
  // `UPDATE_SINCOS_FIXTURE=1 npx vitest run test/model-sincos.test.ts` rewrites the fixture's written/ (then
  // run training/make_sincos_fixture.py for its q̈), so a plain test run never modifies tracked files.
  it('the committed TypeScript-written model is byte for byte what writeModel writes now', async () => {
    const model = convexSincosModel();
    if (process.env.UPDATE_SINCOS_FIXTURE) {
      rmSync(join(FIXTURE, 'written'), { recursive: true, force: true });
      await writeModel(join(FIXTURE, 'written'), model);
    }
    const written = join(dir, 'written');
    await writeModel(written, model);
    expect(readdirSync(written).sort()).toEqual(WRITTEN_FILES);
    expect(readdirSync(join(FIXTURE, 'written')).sort()).toEqual(WRITTEN_FILES);
    for (const file of WRITTEN_FILES) {
      const now = readFileSync(join(written, file));
      const committed = readFileSync(join(FIXTURE, 'written', file));
      expect(
        now.equals(committed),
        `written/${file} differs from the fixture: regenerate it (UPDATE_SINCOS_FIXTURE=1 npx vitest run test/model-sincos.test.ts, then .venv/bin/python training/make_sincos_fixture.py)`,
      ).toBe(true);
    }
  });

  it('q̈ of a trainer-exported model and of a TypeScript-written model agree to ~1e-9', async () => {
    const jax = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as SincosJaxFixture;
    const models: [string, LoadedModel, JaxQdd][] = [
      ['trainer-exported', await loadModel(join(FIXTURE, 'trained')), jax.trained],
      ['TypeScript-written', await loadModel(join(FIXTURE, 'written')), jax.written],
    ];
    expect(models[0][1].metadata.input.angleEmbedding).toBe('sincos');
    expect(models[0][1].metadata.architecture.layers[0]).toBe(6);
    const { q, qd } = jax;
    const batch = q.length;
    expect(batch).toBeGreaterThan(0);
    for (const [label, model, want] of models) {
      expect(want.embedding, `${label}: the trainer reads the embedding`).toBe('sincos');
      expect(want.explicit.length).toBe(batch);
      expect(want.autodiff.length).toBe(batch);
      const ref = new Float64Array(batch * 2);
      const flags = new Uint8Array(batch);
      // ε = 0: an indefinite H_vv (likely after 20 training steps) is solved as is, as the trainer does.
      referenceAccelerations(model, q.flat(), qd.flat(), ref, batch, { flags, epsilon: 0 });
      if (label === 'TypeScript-written') {
        expect([...flags], `${label}: H_vv positive definite at every state`).toEqual(
          new Array(batch).fill(SolveFlag.ok),
        );
      }
      for (let b = 0; b < batch; b++) {
        expect(flags[b], `${label}: state ${b} solved`).not.toBe(SolveFlag.failed);
        for (let i = 0; i < 2; i++) {
          const r = ref[b * 2 + i];
          const tol = 1e-9 * Math.max(1, Math.abs(r));
          const e = want.explicit[b][i];
          const a = want.autodiff[b][i];
          expect(Math.abs(e - r), `${label} q̈[${b},${i}]: explicit JAX ${e}, reference ${r}`).toBeLessThan(
            tol,
          );
          expect(Math.abs(a - r), `${label} q̈[${b},${i}]: autodiff JAX ${a}, reference ${r}`).toBeLessThan(
            tol,
          );
        }
      }
    }
  });
});

describe('rapidity velocity embedding (atanh q̇ inputs) in the float64 reference', () => {
  const withRapidity = (model: LoadedModel) =>
    createModel(
      { ...model.metadata, input: { ...model.metadata.input, velocityEmbedding: 'rapidity' } },
      model.layers,
    );

  for (const [label, base] of [
    ['wrap angles', createRandomModel({ hidden: [16, 16], biasStd: 0.3, seed: 17, qdScale: 0.6 })],
    ['sincos angles', sincosModel({ seed: 18, qdScale: 0.6 })],
  ] as const) {
    it(`∂L/∂q̇, H_vv (with the atanh curvature), H_vq and ∂L/∂q match finite differences of L (${label})`, () => {
      const model = withRapidity(base);
      const q = [0.7, -2.1];
      const qd = [0.45, -0.7];
      const t = referenceTerms(model, q, qd);
      // A smaller step than for q̇ itself: atanh's high derivatives are large near |q̇| = 1.
      const fd = finiteDifferenceTerms(model, q, qd, 2e-3);
      expectClose(t.gq, fd.gq, 1e-9, '∂L/∂q');
      expectClose(t.gv, fd.gv, 1e-9, '∂L/∂q̇');
      expectClose(t.hvv, fd.hvv, 1e-7, 'H_vv');
      expectClose(t.hvq, fd.hvq, 1e-7, 'H_vq');
      // The embedding is used at all: the same weights fed q̇ itself give another L.
      expect(Math.abs(t.L - referenceLagrangian(base, q, qd))).toBeGreaterThan(1e-6);
    });
  }

  it('a state with |q̇| ≥ 1 is flagged failed with q̈ = 0, not NaN', () => {
    const model = withRapidity(sincosModel({ seed: 19 }));
    const qdd = new Float64Array(4);
    const flags = new Uint8Array(2);
    referenceAccelerations(model, [0.1, 0.2, 0.1, 0.2], [0.3, 0.2, 1, 0.2], qdd, 2, { flags });
    expect(flags[1]).toBe(SolveFlag.failed);
    expect([qdd[2], qdd[3]]).toEqual([0, 0]);
    expect(flags[0]).not.toBe(SolveFlag.failed);
    expect(Number.isFinite(qdd[0]) && Number.isFinite(qdd[1])).toBe(true);
  });
});

describe('inspect shows how angles enter the network', () => {
  it('names every network input, in order, for sincos, wrap and lgn models', () => {
    const cases: [LoadedModel, string, string[]][] = [
      [sincosModel(), 'sincos', ['cos q1', 'sin q1', 'cos q2', 'sin q2', 'q̇1', 'q̇2']],
      [sincosModel({ angles: [false, true] }), 'sincos', ['q1', 'cos q2', 'sin q2', 'q̇1', 'q̇2']],
      [createRandomModel({ hidden: [8] }), 'wrap', ['wrap(q1)', 'wrap(q2)', 'q̇1', 'q̇2']],
      [createRandomModel({ kind: 'lgn', hidden: [8] }), 'wrap', ['q_a', 'q_b', 'q̇_a', 'q̇_b']],
      [
        createModel(
          {
            ...sincosModel().metadata,
            input: {
              qScale: [1, 1],
              qdScale: [1, 1],
              angleEmbedding: 'sincos',
              velocityEmbedding: 'rapidity',
            },
          },
          sincosModel().layers,
        ),
        'sincos',
        ['cos q1', 'sin q1', 'cos q2', 'sin q2', 'atanh(q̇1)', 'atanh(q̇2)'],
      ],
    ];
    for (const [model, embedding, names] of cases) {
      const s = inspectModel(model);
      expect(s.input.angleEmbedding).toBe(embedding);
      expect(s.input.names).toEqual(names);
      expect(s.input.names.length).toBe(model.metadata.architecture.layers[0]);
      expect(formatModelSummary(s)).toContain(`x = (${names.join(', ')})`);
    }
    expect(formatModelSummary(inspectModel(sincosModel()))).toMatch(/^input +sin\/cos of angles: /m);
    expect(formatModelSummary(inspectModel(createRandomModel({ hidden: [8] })))).toMatch(
      /^input +wrapped angles: /m,
    );
  });
});
