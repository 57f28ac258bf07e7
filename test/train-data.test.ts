/**
 * Training on systems given as objects (a typed Lagrangian) and on recorded motion: the model records
 * the system so it loads back, checkpoints resume exactly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/core/types';
import { defineSystem } from '../src/lagrangian/defineSystem';
import { systemFromExpression } from '../src/lagrangian/expression';
import { initBackend } from '../src/learned/backend';
import { createRng, normal } from '../src/math/random';
import { loadModel } from '../src/model/loadModel';
import { referenceAccelerations } from '../src/model/reference';
import { createSystem } from '../src/systems/registry';
import { estimateDerivatives } from '../src/train/data/derivatives';
import { sgNoiseGain, sgWeights } from '../src/train/data/savitzkyGolay';
import { parseTrajectory, type Trajectory, TrajectoryError } from '../src/train/data/trajectory';
import { trajectorySource } from '../src/train/data/trajectoryData';
import { Trainer, TrainerOptionError, type TrainerOptions } from '../src/train/Trainer';
import type { TrainingBox } from '../src/train/trainingBox';

const dir = mkdtempSync(join(tmpdir(), 'three-lnn-train-data-'));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PENDULUM = 'qd1^2/2 + cos(q1)';
const pendulumBox: TrainingBox = { q: [[-Math.PI, Math.PI]], qd: [[-3, 3]], rapidity: false };

function typedPendulum() {
  return systemFromExpression(PENDULUM, { id: 'typed-lagrangian', angles: [true] });
}

const typed: Omit<TrainerOptions, 'system'> = {
  hidden: [16, 16],
  steps: 20,
  batch: 32,
  valEvery: 10,
  valSize: 128,
  seed: 5,
  box: pendulumBox,
};

describe('Trainer with a System object', () => {
  it('trains a typed Lagrangian; the model records id, params and the text, loads back and computes the trained q̈', async () => {
    const before = tf.memory().numTensors;
    const t = await Trainer.create({ ...typed, system: typedPendulum(), lagrangian: PENDULUM });
    const first = t.validate();
    t.run();
    const last = t.history[t.history.length - 1][1];
    expect(last, `validation q̈ L1 ${first} → ${last}`).toBeLessThan(first);
    const out = join(dir, 'typed');
    await t.save(out);
    const q = Float64Array.of(0.3, -1.2, 2.5);
    const qd = Float64Array.of(0.5, -1, 2);
    const trained = t.accelerations(q, qd, 3);
    t.dispose();
    expect(tf.memory().numTensors, 'every tensor freed').toBe(before);
    const m = await loadModel(out);
    expect(m.metadata.system.id).toBe('typed-lagrangian');
    expect((m.metadata.system as { lagrangian?: string }).lagrangian).toBe(PENDULUM);
    expect(m.metadata.dof).toBe(1);
    expect(m.metadata.angles).toEqual([true]);
    const ref = new Float64Array(3);
    referenceAccelerations(m, q, qd, ref, 3);
    for (let i = 0; i < 3; i++)
      expect(Math.abs(ref[i] - trained[i]), `q̈ of the loaded model at state ${i}`).toBeLessThan(
        1e-3 * (1 + Math.abs(ref[i])),
      );
  });

  it('accepts a defineSystem object (no text) and records its id and parameters', async () => {
    const spring = defineSystem({
      id: 'spring',
      dof: 1,
      params: { m: 1, k: 4 },
      L: (o, q, qd, p) =>
        o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5 * p.m), o.scale(o.mul(q[0], q[0]), 0.5 * p.k)),
    });
    const t = await Trainer.create({
      ...typed,
      system: spring,
      params: { k: 9 },
      steps: 2,
      box: { q: [[-1, 1]], qd: [[-1, 1]], rapidity: false },
    });
    const m = t.toModel();
    t.dispose();
    expect(m.metadata.system).toEqual({ id: 'spring', params: { m: 1, k: 9 } });
  });

  it('refuses a Lagrangian text that is not the system’s', async () => {
    await expect(
      Trainer.create({ ...typed, system: typedPendulum(), lagrangian: 'qd1^2/2 + 2*cos(q1)' }),
    ).rejects.toThrow(TrainerOptionError);
    await expect(
      Trainer.create({ ...typed, system: typedPendulum(), lagrangian: 'qd1^2/2 + cos(' }),
    ).rejects.toThrow(/does not parse/);
  });

  it('resumes a typed-Lagrangian checkpoint exactly, rebuilding the system from the recorded text', async () => {
    const opts = { ...typed, system: typedPendulum(), lagrangian: PENDULUM };
    const whole = await Trainer.create(opts);
    whole.run();
    const half = await Trainer.create(opts);
    half.run(undefined, () => half.currentStep >= 10);
    const ck = join(dir, 'typed-ck');
    await half.saveCheckpoint(ck);
    half.dispose();
    const resumed = await Trainer.resume(ck);
    expect(resumed.system.angles).toEqual([true]);
    resumed.run();
    expect(Array.from(resumed.weights())).toEqual(Array.from(whole.weights()));
    whole.dispose();
    resumed.dispose();
  });

  it('a checkpoint of a system without text resumes only with the System object given', async () => {
    const sys = defineSystem({
      id: 'my-oscillator',
      dof: 1,
      L: (o, q, qd) => o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5), o.scale(o.mul(q[0], q[0]), 0.5)),
    });
    const opts = {
      ...typed,
      system: sys,
      box: { q: [[-1, 1]], qd: [[-1, 1]], rapidity: false } as TrainingBox,
    };
    const t = await Trainer.create({ ...opts, steps: 4 });
    t.run(undefined, () => t.currentStep >= 2);
    const ck = join(dir, 'osc-ck');
    await t.saveCheckpoint(ck);
    t.dispose();
    await expect(Trainer.resume(ck)).rejects.toThrow(/pass the System object/);
    const r = await Trainer.resume(ck, { system: sys });
    r.run();
    expect(r.currentStep).toBe(4);
    r.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------
// Recorded motion

/** A plain trajectory of one coordinate: x(t) sampled at t = t0 + s·h. */
function sampled(x: (t: number) => number, h: number, T: number, t0 = 0): Trajectory {
  const t = Float64Array.from({ length: T }, (_, s) => t0 + s * h);
  return {
    layout: 'trajectory-json',
    system: null,
    params: null,
    lane: null,
    dof: 1,
    t,
    q: t.map(x),
    qd: null,
  };
}

/** Least-squares slope of log(err) against log(h). */
function slope(hs: number[], errs: number[]): number {
  const x = hs.map(Math.log);
  const y = errs.map(Math.log);
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

/** Integrate a system with classic RK4 (float64) and sample every `sub` steps: a recorded exact run. */
function record(system: System, q0: number[], qd0: number[], h: number, T: number, sub = 10) {
  const n = system.dof;
  const t = new Float64Array(T);
  const q = new Float64Array(T * n);
  const qd = new Float64Array(T * n);
  let x = Float64Array.from(q0);
  let v = Float64Array.from(qd0);
  const dt = h / sub;
  const acc = (x: Float64Array, v: Float64Array) => {
    const a = new Float64Array(n);
    system.accelerations(x, v, a, 1);
    return a;
  };
  const axpy = (a: Float64Array, k: number, b: Float64Array) => a.map((ai, i) => ai + k * b[i]);
  for (let s = 0; s < T; s++) {
    t[s] = s * h;
    q.set(x, s * n);
    qd.set(v, s * n);
    for (let k = 0; k < sub; k++) {
      const a1 = acc(x, v);
      const [x2, v2] = [axpy(x, dt / 2, v), axpy(v, dt / 2, a1)];
      const a2 = acc(x2, v2);
      const [x3, v3] = [axpy(x, dt / 2, v2), axpy(v, dt / 2, a2)];
      const a3 = acc(x3, v3);
      const [x4, v4] = [axpy(x, dt, v3), axpy(v, dt, a3)];
      const a4 = acc(x4, v4);
      x = x.map((xi, i) => xi + (dt / 6) * (v[i] + 2 * v2[i] + 2 * v3[i] + v4[i]));
      v = v.map((vi, i) => vi + (dt / 6) * (a1[i] + 2 * a2[i] + 2 * a3[i] + a4[i]));
    }
  }
  return { t, q, qd };
}

const wrapAngle = (x: number) => x - 2 * Math.PI * Math.floor((x + Math.PI) / (2 * Math.PI));

describe('Savitzky–Golay derivatives', () => {
  it('reproduce a polynomial of the fit’s degree exactly (value, first and second derivative)', () => {
    const p = (t: number) => 0.3 - 1.2 * t + 0.7 * t * t - 0.25 * t ** 3 + 0.05 * t ** 4;
    const dp = (t: number) => -1.2 + 1.4 * t - 0.75 * t * t + 0.2 * t ** 3;
    const ddp = (t: number) => 1.4 - 1.5 * t + 0.6 * t * t;
    const h = 0.05;
    const est = estimateDerivatives(sampled(p, h, 40, -1), [false], { window: 11, order: 4, qd: 'estimate' });
    expect(est.count, 'the ends where the window does not fit are trimmed').toBe(40 - 10);
    for (let s = 0; s < est.count; s++) {
      const t = -1 + (s + 5) * h;
      expect(Math.abs(est.q[s] - p(t)), `q at t=${t}`).toBeLessThan(1e-12);
      expect(Math.abs(est.qd[s] - dp(t)), `q̇ at t=${t}`).toBeLessThan(1e-10);
      expect(Math.abs(est.qdd[s] - ddp(t)), `q̈ at t=${t}`).toBeLessThan(1e-8);
    }
  });

  it.each([
    [2, 2],
    [4, 4],
  ])('on an exact trajectory the q̈ error of order %i falls as h^%i', (order, expected) => {
    // A nonlinear oscillator's exact run: the simple pendulum at large amplitude, recorded by RK4 far
    // below the sample step; q̈ compared with the system's own at the recorded states.
    const sys = createSystem('simple-pendulum');
    const hs = [0.08, 0.04, 0.02, 0.01];
    const errs = hs.map((h) => {
      const T = Math.round(2 / h) + 9;
      const run = record(sys, [2.5], [0], h, T, Math.max(2, Math.round(h / 0.0005)));
      const traj: Trajectory = { ...sampled(() => 0, h, T), q: run.q };
      const est = estimateDerivatives(traj, [false], { window: 9, order, qd: 'estimate' });
      const exact = new Float64Array(est.count);
      sys.accelerations(run.q.slice(4, 4 + est.count), run.qd.slice(4, 4 + est.count), exact, est.count);
      let e = 0;
      for (let s = 0; s < est.count; s++) e = Math.max(e, Math.abs(est.qdd[s] - exact[s]));
      return e;
    });
    const k = slope(hs, errs);
    expect(
      k,
      `order ${k.toFixed(2)} from errors ${errs.map((e) => e.toExponential(2)).join(', ')}`,
    ).toBeGreaterThan(expected - 0.3);
    expect(k).toBeLessThan(expected + 0.5);
  });

  it('with noise σ on q, the q̈ error matches the predicted noise gain σ·√Σc²/h²', () => {
    const h = 1 / 120;
    const T = 40_000;
    const sigma = 1e-3;
    const rng = createRng(7);
    const clean = (t: number) => 0.4 * Math.sin(1.3 * t);
    const noisy = sampled((t) => clean(t) + sigma * normal(rng), h, T);
    for (const [window, order] of [
      [15, 4],
      [21, 4],
      [31, 6],
    ]) {
      const est = estimateDerivatives(noisy, [false], { window, order, qd: 'estimate' });
      const m = (window - 1) / 2;
      let ss = 0;
      for (let s = 0; s < est.count; s++) {
        const t = (s + m) * h;
        ss += (est.qdd[s] + 0.4 * 1.3 * 1.3 * Math.sin(1.3 * t)) ** 2;
      }
      const rms = Math.sqrt(ss / est.count);
      const predicted = sigma * sgNoiseGain(window, order, 2, h);
      expect(
        rms / predicted,
        `window ${window} order ${order}: rms ${rms}, predicted ${predicted}`,
      ).toBeGreaterThan(0.9);
      expect(rms / predicted).toBeLessThan(1.1);
    }
    expect(
      sgWeights(15, 4, 0).reduce((a, b) => a + b),
      'smoothing weights sum to 1',
    ).toBeCloseTo(1, 12);
  });

  it('unwraps angles before differencing and wraps q after', () => {
    // A rotor turning at 3 rad/s, recorded wrapped into [−π, π): q̇ = 3, q̈ = 0 across every wrap.
    const traj = sampled((t) => wrapAngle(3 * t), 0.01, 500);
    const est = estimateDerivatives(traj, [true], { window: 9, order: 3, qd: 'estimate' });
    for (let s = 0; s < est.count; s++) {
      expect(Math.abs(est.qd[s] - 3), `q̇ at sample ${s}`).toBeLessThan(1e-9);
      expect(Math.abs(est.qdd[s]), `q̈ at sample ${s}`).toBeLessThan(1e-6);
      expect(est.q[s]).toBeGreaterThanOrEqual(-Math.PI);
      expect(est.q[s]).toBeLessThan(Math.PI);
    }
    const asLength = estimateDerivatives(traj, [false], { window: 9, order: 3, qd: 'estimate' });
    expect(
      Math.max(...Array.from(asLength.qdd, Math.abs)),
      'without unwrapping the jumps pollute q̈',
    ).toBeGreaterThan(100);
  });

  it('splits at gaps and missing values, trims each run, and refuses uneven sampling', () => {
    const traj = sampled((t) => t * t, 0.1, 60);
    traj.q[20] = Number.NaN; // a missing sample: runs [0, 20) and [21, 60)
    const est = estimateDerivatives(traj, [false], { window: 5, order: 2, qd: 'estimate' });
    expect(est.segments).toBe(2);
    expect(est.count).toBe(20 - 4 + (39 - 4));
    for (const x of est.qdd) expect(x, 'q̈ of t² is 2 in every run').toBeCloseTo(2, 9);
    const gap = sampled((t) => t, 0.1, 30);
    for (let s = 15; s < 30; s++) gap.t[s] += 0.3; // three samples missing in time
    expect(estimateDerivatives(gap, [false], { window: 5, order: 2, qd: 'estimate' }).segments).toBe(2);
    const uneven = sampled((t) => t, 0.1, 30);
    uneven.t[10] += 0.04;
    expect(() => estimateDerivatives(uneven, [false], { window: 5, order: 2, qd: 'estimate' })).toThrow(
      /uneven sampling at t = 0\.9.*resample/,
    );
    expect(() =>
      estimateDerivatives(
        sampled((t) => t, 0.1, 4),
        [false],
        { window: 5, order: 2 },
      ),
    ).toThrow(/no run of 5 uniform samples/);
    expect(() => estimateDerivatives(traj, [false], { window: 6, order: 2 })).toThrow(/odd integer/);
  });
});

/** The app's JSON export of a run (the shape app/exportRun.ts `runToJson` writes). */
function appRunJson(
  lanes: { key: string; engine: string; q: number[][]; qd: number[][] }[],
  t: number[],
): string {
  return JSON.stringify({
    format: 'three-lnn/app-run',
    version: 1,
    scene: 'double-pendulum',
    dt: t[1] - t[0],
    samples: t.length,
    every: 1,
    t,
    lanes: lanes.map((l) => ({
      key: l.key,
      engine: l.engine,
      system: 'double-pendulum',
      params: { m1: 1, m2: 1, l1: 1, l2: 1, g: 9.8 },
      model: null,
      route: null,
      status: 'ok',
      reason: null,
      q: l.q,
      qd: l.qd,
      drift: [],
      work: [],
      forces: 'taken',
      divergence: [],
    })),
  });
}

/** The app's CSV export (`runToCsv`): t, forced, then per lane `<key>.q<i>`, `<key>.qd<i>`, drift, divergence. */
function appRunCsv(
  lanes: { key: string; q: number[][]; qd: number[][] }[],
  t: number[],
  forced = false,
): string {
  const head = ['t', 'forced'];
  for (const l of lanes) {
    const n = l.q[0].length;
    for (let i = 0; i < n; i++) head.push(`${l.key}.q${i}`);
    for (let i = 0; i < n; i++) head.push(`${l.key}.qd${i}`);
    head.push(`${l.key}.drift`, `${l.key}.divergence`);
  }
  const rows = t.map((ts, s) =>
    [ts, forced ? 1 : 0, ...lanes.flatMap((l) => [...l.q[s], ...l.qd[s], 0, ''])].join(','),
  );
  return `${[head.join(','), ...rows].join('\n')}\n`;
}

/** A double-pendulum run as rows. */
function dpRows(T: number, h = 1 / 120, q0 = [2, 1], qd0 = [0, 0]) {
  const sys = createSystem('double-pendulum');
  const run = record(sys, q0, qd0, h, T);
  const rows = (x: Float64Array) => Array.from({ length: T }, (_, s) => [x[2 * s], x[2 * s + 1]]);
  return { t: Array.from(run.t), q: rows(run.q), qd: rows(run.qd), run };
}

describe('trajectory files', () => {
  const r = dpRows(50);
  const other = r.q.map(([a, b]) => [a + 1, b]);

  it("reads the app's JSON export: the first exact lane by default, another with --lane", () => {
    const text = appRunJson(
      [
        { key: 'lnn', engine: 'lnn', q: other, qd: r.qd },
        { key: 'analytic', engine: 'analytic', q: r.q, qd: r.qd },
      ],
      r.t,
    );
    const a = parseTrajectory(text);
    expect(a.layout).toBe('app-json');
    expect(a.lane).toBe('analytic');
    expect(a.system).toBe('double-pendulum');
    expect(a.params?.g).toBe(9.8);
    expect(Array.from(a.q.subarray(0, 2))).toEqual(r.q[0]);
    expect(Array.from(a.qd?.subarray(2, 4) ?? [])).toEqual(r.qd[1]);
    expect(parseTrajectory(text, { lane: 'lnn' }).q[0]).toBe(other[0][0]);
    expect(() => parseTrajectory(text, { lane: 'cannon' })).toThrow(/no lane 'cannon'; lanes: lnn, analytic/);
    // a pushed, damped or edited run is not free motion
    const forced = JSON.stringify({ ...JSON.parse(text), forced: true });
    expect(() => parseTrajectory(forced)).toThrow(/forced: true.*not the system's free motion/);
    expect(parseTrajectory(JSON.stringify({ ...JSON.parse(text), forced: false })).lane).toBe('analytic');
  });

  it("reads the app's CSV export and the plain JSON and CSV formats alike", () => {
    const csv = parseTrajectory(appRunCsv([{ key: 'analytic', q: r.q, qd: r.qd }], r.t));
    expect(csv.layout).toBe('app-csv');
    expect(csv.system, 'a CSV names no system').toBeNull();
    expect(Array.from(csv.q.subarray(0, 2)), 'the forced column is not a coordinate').toEqual(r.q[0]);
    // a pushed, damped or edited run is marked forced on every row and refused like the JSON export
    expect(() => parseTrajectory(appRunCsv([{ key: 'analytic', q: r.q, qd: r.qd }], r.t, true))).toThrow(
      /row 2 is marked forced.*not the system's free motion/,
    );
    const plain = parseTrajectory(
      JSON.stringify({
        format: 'three-lnn/trajectory',
        version: 1,
        system: 'double-pendulum',
        t: r.t,
        q: r.q,
      }),
    );
    expect(plain.qd).toBeNull();
    const plainCsv = parseTrajectory(
      `t,q1,q2,qd1,qd2\n${r.t.map((t, s) => [t, ...r.q[s], ...r.qd[s]].join(',')).join('\n')}\n`,
    );
    for (const x of [csv, plainCsv]) {
      expect(x.dof).toBe(2);
      expect(Array.from(x.t)).toEqual(r.t);
      expect(Array.from(x.q)).toEqual(Array.from(plain.q));
      expect(Array.from(x.qd ?? [])).toEqual(r.qd.flat());
    }
  });

  it.each([
    ['not JSON', '{"format": ', /not valid JSON/],
    ['an unknown format', '{"format":"other"}', /unknown format/],
    ['a bad header', 'time,x\n0,1\n', /first CSV column must be 't'/],
    ['a non-number', 't,q1\n0,1\n0.1,abc\n', /row 3, column 'q1': 'abc' is not a finite number/],
    ['a short row', 't,q1\n0,1\n0.1\n', /row 3 has 1 cells but the header has 2/],
    [
      'ragged q',
      '{"format":"three-lnn/trajectory","version":1,"system":"x","t":[0,1],"q":[[1],[1,2]]}',
      /\[1\] must hold 1 numbers/,
    ],
    [
      'a mismatched t',
      '{"format":"three-lnn/trajectory","version":1,"system":"x","t":[0,1,2],"q":[[1],[2]]}',
      /one row per time \(3\)/,
    ],
  ])('refuses %s with a one-line TrajectoryError', (_what, text, message) => {
    let err: unknown;
    try {
      parseTrajectory(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrajectoryError);
    expect(String((err as Error).message)).toMatch(message);
    expect(String((err as Error).message)).not.toContain('\n');
  });

  it('a file of another dof than the system is refused', async () => {
    const sys = createSystem('simple-pendulum');
    const text = appRunJson([{ key: 'analytic', engine: 'analytic', q: r.q, qd: r.qd }], r.t);
    await expect(trajectorySource([{ content: text, name: 'run.json' }], sys)).rejects.toThrow(
      /run\.json: the file has 2 coordinates but system 'simple-pendulum' has 1/,
    );
  });
});

describe('Trainer on recorded motion', () => {
  const sys = createSystem('double-pendulum');
  const runs = [dpRows(600, 1 / 120, [2, 1]), dpRows(600, 1 / 120, [-1, 2.5], [1, 0])];
  const files = runs.map((r, i) => ({
    content: appRunJson([{ key: 'analytic', engine: 'analytic', q: r.q, qd: r.qd }], r.t),
    name: `run${i}.json`,
  }));
  const opts: Omit<TrainerOptions, 'data'> = {
    system: 'double-pendulum',
    hidden: [16, 16],
    steps: 20,
    batch: 32,
    valEvery: 10,
    valSize: 128,
    seed: 2,
  };

  it('the estimated q̈ of an exact recording is close to the system’s; the box is the data’s', async () => {
    const source = await trajectorySource(files, sys, { window: 7, order: 6, qd: 'estimate' });
    const b = source.draw(11, 256);
    const exact = new Float64Array(512);
    sys.accelerations(Float64Array.from(b.q), Float64Array.from(b.qd), exact, 256);
    let e = 0;
    for (let i = 0; i < 512; i++) e += Math.abs(exact[i] - b.target[i]);
    expect(e / 512, 'mean |q̈_est − q̈(q̂, q̂̇)|').toBeLessThan(5e-3);
    const box = source.box(sys.angles);
    expect(box.q[0]).toEqual([-Math.PI, Math.PI]);
    expect(box.qd[0][1]).toBeLessThan(10);
    expect(source.record).toMatchObject({ kind: 'trajectory', states: 2 * (600 - 6) });
  });

  it('trains deterministically, records the data in the model, and resumes exactly only on the same data', async () => {
    const before = tf.memory().numTensors;
    const source = await trajectorySource(files, sys);
    const whole = await Trainer.create({ ...opts, data: source });
    const first = whole.validate();
    whole.run();
    expect(whole.history[whole.history.length - 1][1], 'validation on recorded states falls').toBeLessThan(
      first,
    );
    const again = await Trainer.create({ ...opts, data: await trajectorySource(files, sys) });
    again.run();
    expect(Array.from(again.weights())).toEqual(Array.from(whole.weights()));
    again.dispose();
    const m = whole.toModel();
    expect(String(m.metadata.provenance?.data)).toMatch(
      /1172 recorded states .*run0\.json lane analytic sha256/,
    );
    expect(m.metadata.trainingRanges?.qd[0][1], 'the training ranges are the data’s box').toBeLessThan(10);

    const half = await Trainer.create({ ...opts, data: source });
    half.run(undefined, () => half.currentStep >= 10);
    const ck = join(dir, 'rec-ck');
    await half.saveCheckpoint(ck);
    half.dispose();
    await expect(Trainer.resume(ck), 'no data').rejects.toThrow(/pass the same `data` to resume/);
    const changed = [{ ...files[0], content: `${files[0].content} ` }, files[1]];
    await expect(
      Trainer.resume(ck, { data: await trajectorySource(changed, sys) }),
      'another file',
    ).rejects.toThrow(/differs from the checkpoint/);
    await expect(
      Trainer.resume(ck, { data: await trajectorySource(files, sys, { window: 9 }) }),
      'other derivative settings',
    ).rejects.toThrow(/differs from the checkpoint/);
    const resumed = await Trainer.resume(ck, { data: await trajectorySource(files, sys) });
    resumed.run();
    expect(Array.from(resumed.weights())).toEqual(Array.from(whole.weights()));
    resumed.dispose();
    whole.dispose();
    expect(tf.memory().numTensors, 'every tensor freed').toBe(before);
  });

  it('three-lnn train --data: a model from an app export, system inferred; bad input is one line', async () => {
    const { execFile } = await import('node:child_process');
    const BIN = join(import.meta.dirname, '..', 'bin', 'three-lnn.mjs');
    const cli = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });
    const a = join(dir, 'run0.json');
    const b = join(dir, 'run1.csv');
    writeFileSync(a, files[0].content);
    writeFileSync(b, appRunCsv([{ key: 'analytic', q: runs[1].q, qd: runs[1].qd }], runs[1].t));
    const out = join(dir, 'cli-rec');
    const base = [
      'train',
      '--no-progress',
      '--hidden',
      '8,8',
      '--batch',
      '16',
      '--val-size',
      '64',
      '--val-every',
      '5',
    ];
    const ok = await cli([
      ...base,
      '--steps',
      '6',
      '--data',
      a,
      '--data',
      b,
      '--deriv',
      'sg:9,4',
      '--out',
      out,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).steps).toBe(6);
    const m = await loadModel(out);
    expect(m.metadata.system.id, 'the system of the JSON export').toBe('double-pendulum');
    expect(m.metadata.provenance?.dataSource).toMatchObject({
      kind: 'trajectory',
      derivatives: { method: 'sg', window: 9, order: 4, qd: 'file' },
    });
    const more = await cli([
      'train',
      '--no-progress',
      '--resume',
      out,
      '--steps',
      '8',
      '--data',
      a,
      '--data',
      b,
      '--deriv',
      'sg:9,4',
    ]);
    expect(more.code, more.stderr).toBe(0);
    const wrong = await cli([
      'train',
      '--no-progress',
      '--resume',
      out,
      '--steps',
      '9',
      '--data',
      a,
      '--deriv',
      'sg:9,4',
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/differs from the checkpoint/);
    for (const [args, message] of [
      [['--data', b], /do not name their system \(CSV\); add --system/],
      [
        ['--data', a, '--system', 'simple-pendulum'],
        /recorded 'double-pendulum' but --system is 'simple-pendulum'/,
      ],
      [['--data', b, '--system', 'simple-pendulum'], /has 2 coordinates but system 'simple-pendulum' has 1/],
      [['--data', a, '--deriv', 'sg:8,2'], /odd integer/],
      [['--data', a, '--lane', 'nope'], /no lane 'nope'; lanes: analytic/],
    ] as [string[], RegExp][]) {
      const r = await cli([...base, '--steps', '2', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
