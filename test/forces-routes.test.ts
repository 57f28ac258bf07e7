/**
 * External generalized forces on every Node route of the learned engines: q̈ and RK4 steps under damping,
 * a constant force and a time-dependent callback against the float64 reference with the same forces
 * (H_vv q̈ = ∂L/∂q − H_vq q̇ + α·Q), the resident advance with the linear part on the backend, no tensor
 * left behind; the baseline refuses forces; the mass scale α (model file, or measured at load); and the
 * shipped double-pendulum LNN's response to a unit generalized force against the exact M⁻¹.
 */
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Forces, System } from '../src/core/types';
import { BaselineEngine } from '../src/engines/BaselineEngine';
import { LGNEngine } from '../src/engines/LGNEngine';
import { LNNEngine } from '../src/engines/LNNEngine';
import { createForces } from '../src/forces/GeneralizedForces';
import { RungeKutta4 } from '../src/integrators/RungeKutta4';
import { EulerLagrangeSolver } from '../src/lagrangian/EulerLagrangeSolver';
import { type BackendName, initBackend } from '../src/learned/backend';
import { BASELINE_FORCE_SUPPORT, type LearnedEngine } from '../src/learned/LearnedEngine';
import type { LearnedEngineOptions } from '../src/learned/options';
import type { RouteName } from '../src/learned/Route';
import { loadModel } from '../src/model/loadModel';
import { ModelFormatError } from '../src/model/ModelFormatError';
import { MASS_SCALE_SEED, MASS_SCALE_STATES, measureMassScale } from '../src/model/massScale';
import type { LoadedModel } from '../src/model/metadata';
import { createRandomModel } from '../src/model/randomModel';
import { referenceAccelerations } from '../src/model/reference';
import { trainingBoxStates } from '../src/model/trainingStates';
import { validateMetadata } from '../src/model/validate';
import { createSystem } from '../src/systems/registry';
import { randomStringLgn } from './support/models';

/** The Node routes (as in test/route-parity.test.ts), with the resident form of the backend routes. */
const ROUTES: { route: RouteName; backend: BackendName; tol: number; resident?: boolean }[] = [
  { route: 'js', backend: 'wasm', tol: 1e-9 },
  { route: 'wasm', backend: 'wasm', tol: 1e-3 },
  { route: 'wasm', backend: 'wasm', tol: 1e-3, resident: true },
  { route: 'cpu', backend: 'cpu', tol: 1e-3 },
  { route: 'cpu', backend: 'cpu', tol: 1e-3, resident: true },
  { route: 'wasm', backend: 'cpu', tol: 1e-3 },
];

type Load = (model: LoadedModel, system: System, options: LearnedEngineOptions) => Promise<LearnedEngine>;

const KINDS: { kind: string; model: () => LoadedModel; system: () => System; load: Load }[] = [
  {
    kind: 'lnn',
    model: () => createRandomModel({ seed: 12, hidden: [32, 32], biasStd: 0.2 }),
    system: () => createSystem('double-pendulum'),
    load: (m, s, o) => LNNEngine.load(m, s, o),
  },
  {
    kind: 'lgn',
    model: () => randomStringLgn(),
    system: () => createSystem('string', { nodes: 4 }),
    load: (m, s, o) => LGNEngine.load(m, s, o),
  },
];

/** The reference q̈ under `forces` at time t: α·Q from `forces`, added to the reference's right-hand side. */
function referenceForced(
  model: LoadedModel,
  alpha: number,
  forces: Forces | null,
  q: Float64Array,
  qd: Float64Array,
  qdd: Float64Array,
  batch: number,
  t: number,
  flags?: Uint8Array,
): void {
  let force: Float64Array | null = null;
  if (forces !== null) {
    force = new Float64Array(q.length);
    forces.evaluate(t, q, qd, force, batch);
    for (let i = 0; i < force.length; i++) force[i] *= alpha;
  }
  referenceAccelerations(model, q, qd, qdd, batch, { force, flags });
}

/** max_i |a_i − b_i| / max(1, max |b|) per state, over the states whose flags agree. */
function worstRelative(a: Float64Array, b: Float64Array, n: number, batch: number): number {
  let worst = 0;
  for (let s = 0; s < batch; s++) {
    let scale = 1;
    for (let i = s * n; i < (s + 1) * n; i++) scale = Math.max(scale, Math.abs(b[i]));
    for (let i = s * n; i < (s + 1) * n; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  }
  return worst;
}

describe.each(ROUTES)(
  'forces on route $route (backend $backend, resident $resident)',
  ({ route, backend, tol, resident }) => {
    beforeAll(async () => {
      expect((await initBackend({ backend })).name).toBe(backend);
    });

    it.each(KINDS)(
      '$kind: q̈ and RK4 steps under damping, constant and Q(t) match the reference',
      async (k) => {
        const model = k.model();
        const system = k.system();
        const n = system.dof;
        const batch = 5;
        const amp = k.kind === 'lgn' ? 0.4 : 2;
        const q = Float64Array.from({ length: n * batch }, (_, i) => Math.sin(3 * i) * amp);
        const qd = Float64Array.from(
          { length: n * batch },
          (_, i) => Math.cos(5 * i) * (k.kind === 'lgn' ? 0.5 : 2),
        );

        const before = tf.memory().numTensors;
        const engine = await k.load(model, system, { backend, route, resident: resident ?? false });
        expect(engine.forceSupport, 'takes forces').toBeNull();
        const ms = engine.massScale!;
        expect(ms.source).toBe('measured at load');
        const alpha = ms.value;
        // Forces that change q̈ visibly: this random network's H_vv is far from α·M, so α·Q is small next to
        // its own right-hand side at unit size.
        const g = k.kind === 'lnn' ? 100 : 1;
        const C = Float64Array.from({ length: n }, (_, i) => g * (0.3 + 0.1 * i));
        const Qc = Float64Array.from({ length: n * batch }, (_, i) => g * Math.cos(i) * 2);
        const A = Float64Array.from({ length: n }, (_, i) => g * (1.5 - 0.2 * i));
        const omega = 7;
        const times = new Set<number>();
        const forces = createForces(
          system,
          {
            damping: C,
            constant: Qc,
            callback: (t, _q, _qd, out, b) => {
              times.add(t);
              for (let s = 0; s < b; s++)
                for (let i = 0; i < n; i++) out[s * n + i] += A[i] * Math.sin(omega * t);
            },
          },
          batch,
        );
        const linear = createForces(system, { damping: C, constant: Qc }, batch);

        // q̈ at one time: against the reference, and visibly different from the unforced q̈.
        const t = 0.3;
        const out = new Float64Array(n * batch);
        const ref = new Float64Array(n * batch);
        const free = new Float64Array(n * batch);
        engine.accelerations(q, qd, out, batch, t, forces);
        referenceForced(model, alpha, forces, q, qd, ref, batch, t);
        referenceForced(model, alpha, null, q, qd, free, batch, t);
        expect(worstRelative(out, ref, n, batch), `${k.kind} × ${route}: forced q̈`).toBeLessThan(tol);
        expect(worstRelative(free, ref, n, batch), 'the force changes q̈').toBeGreaterThan(1e-2);
        expect(engine.lastReport.route).toBe(route);

        // Zero forces and null are the unforced path, bitwise.
        const a0 = new Float64Array(n * batch);
        const a1 = new Float64Array(n * batch);
        engine.accelerations(q, qd, a0, batch);
        engine.accelerations(q, qd, a1, batch, t, createForces(system, {}, batch));
        expect([...a1]).toEqual([...a0]);

        // RK4 from t0 under the callback (stage by stage) and under the linear part (resident on the device).
        const dt = 1 / 120;
        const t0 = 0.2;
        const steps = 4;
        for (const [label, f] of [
          ['callback', forces],
          ['linear', linear],
        ] as const) {
          const qe = q.slice();
          const ve = qd.slice();
          const qr = q.slice();
          const vr = qd.slice();
          const rk4 = new RungeKutta4();
          const rk4Ref = new RungeKutta4();
          times.clear();
          for (let s = 0; s < steps; s++) {
            engine.step(qe, ve, batch, dt, rk4, t0 + s * dt, f);
            expect(engine.lastReport.route, 'on the route').toBe(route);
            if (resident) {
              expect(engine.lastReport.path, `${label}: resident path`).toBe(
                label === 'linear' ? 'resident' : 'tensor',
              );
            }
            rk4Ref.step(
              (a, b, c, m, tt) => referenceForced(model, alpha, f, a, b, c, m, tt ?? 0),
              qr,
              vr,
              n,
              batch,
              dt,
              t0 + s * dt,
            );
          }
          if (label === 'callback') {
            // The stage times of RK4: t0 + s·dt, + dt/2, + dt for every step.
            for (let s = 0; s < steps; s++) {
              for (const c of [0, 0.5, 1]) {
                const want = t0 + s * dt + c * dt;
                expect(
                  [...times].some((x) => Math.abs(x - want) < 1e-12),
                  `stage time ${want}`,
                ).toBe(true);
              }
            }
          }
          // float32 routes: q̇ carries the q̈ error of four steps of sixteen evaluations of a random network
          // whose q̈ is large next to q̇, so twice the q̈ tolerance; float64: tight.
          const stateTol = tol >= 1e-6 ? 2 * tol : Math.max(tol, 1e-11);
          expect(worstRelative(qe, qr, n, batch), `${label}: q after ${steps} steps`).toBeLessThan(stateTol);
          expect(worstRelative(ve, vr, n, batch), `${label}: q̇ after ${steps} steps`).toBeLessThan(stateTol);
        }

        // Stepping under forces leaves no tensor behind.
        const qs = q.slice();
        const vs = qd.slice();
        const rk4 = new RungeKutta4();
        engine.step(qs, vs, batch, dt, rk4, 0, forces);
        engine.step(qs, vs, batch, dt, rk4, 0, linear);
        const mid = tf.memory().numTensors;
        for (let s = 0; s < 5; s++) {
          engine.step(qs, vs, batch, dt, rk4, s * dt, forces);
          engine.step(qs, vs, batch, dt, rk4, s * dt, linear);
        }
        expect(tf.memory().numTensors, 'no tensor per step').toBe(mid);
        engine.dispose();
        expect(tf.memory().numTensors, 'tensors freed after dispose').toBe(before);
      },
    );
  },
);

describe('forces: baseline, mass scale, metadata', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('the baseline reports why it takes no forces and throws that under a non-zero force', async () => {
    const system = createSystem('double-pendulum');
    const engine = await BaselineEngine.load(
      createRandomModel({ kind: 'baseline', hidden: [16, 16], seed: 4 }),
      system,
      {
        backend: 'wasm',
      },
    );
    expect(engine.forceSupport).toBe(BASELINE_FORCE_SUPPORT);
    expect(engine.massScale).toBeNull();
    const q = Float64Array.of(0.1, 0.2);
    const qd = Float64Array.of(0.3, -0.1);
    const qdd = new Float64Array(2);
    const push = createForces(system, { constant: [1, 0] });
    expect(() => engine.accelerations(q, qd, qdd, 1, 0, push)).toThrow(BASELINE_FORCE_SUPPORT);
    expect(() => engine.step(q, qd, 1, 0.01, new RungeKutta4(), 0, push)).toThrow(BASELINE_FORCE_SUPPORT);
    // Zero forces are no forces.
    engine.accelerations(q, qd, qdd, 1, 0, createForces(system, {}));
    engine.step(q, qd, 1, 0.01, new RungeKutta4(), 0, null);
    expect(q.every(Number.isFinite)).toBe(true);
    engine.dispose();
  });

  it("without metadata.massScale the engine measures α at load, equal to measureMassScale's; with it, uses it", async () => {
    const system = createSystem('double-pendulum');
    const model = createRandomModel({ seed: 12, hidden: [32, 32], biasStd: 0.2 });
    const engine = await LNNEngine.load(model, system, { backend: 'wasm', route: 'js' });
    const m = measureMassScale(model, system, { states: MASS_SCALE_STATES, seed: MASS_SCALE_SEED });
    expect(engine.massScale).toEqual({ value: m.value, spread: m.spread, source: 'measured at load' });
    expect(m.states).toBe(MASS_SCALE_STATES);
    engine.dispose();

    const recorded = { value: 2.5, spread: 0.01, states: 100, method: 'test' };
    const withScale: LoadedModel = { ...model, metadata: { ...model.metadata, massScale: recorded } };
    const e2 = await LNNEngine.load(withScale, system, { backend: 'wasm', route: 'js' });
    expect(e2.massScale).toEqual({ value: 2.5, spread: 0.01, source: 'model' });
    // α scales the force: q̈(Q) − q̈(0) = H⁻¹ α Q.
    const q = Float64Array.of(0.4, -0.3);
    const qd = Float64Array.of(0.2, 0.1);
    const a0 = new Float64Array(2);
    const a1 = new Float64Array(2);
    const ref = new Float64Array(2);
    e2.accelerations(q, qd, a0, 1);
    e2.accelerations(q, qd, a1, 1, 0, createForces(system, { constant: [1, -2] }));
    referenceAccelerations(model, q, qd, ref, 1, { force: [2.5, -5] });
    expect(worstRelative(a1, ref, 2, 1)).toBeLessThan(1e-9);
    e2.dispose();
  });

  it('metadata.massScale is validated (typed ModelFormatError for a bad value)', () => {
    const meta = createRandomModel({ seed: 1, hidden: [8, 8] }).metadata;
    const ok = { ...meta, massScale: { value: -0.5, spread: 0.1, states: 64, method: 'least squares' } };
    expect(validateMetadata(JSON.parse(JSON.stringify(ok)), 'memory').massScale?.value).toBe(-0.5);
    const bad: [string, unknown][] = [
      ['value', { value: 0, spread: 0, states: 1, method: 'x' }],
      ['value', { value: 1e20, spread: 0, states: 1, method: 'x' }],
      ['value', { value: 'a', spread: 0, states: 1, method: 'x' }],
      ['spread', { value: 1, spread: -1, states: 1, method: 'x' }],
      ['states', { value: 1, spread: 0, states: 0.5, method: 'x' }],
      ['method', { value: 1, spread: 0, states: 1, method: '' }],
      ['massScale', 3],
    ];
    for (const [what, massScale] of bad) {
      let err: unknown;
      try {
        validateMetadata(JSON.parse(JSON.stringify({ ...meta, massScale })), 'memory');
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(ModelFormatError);
      expect((err as ModelFormatError).problem).toBe('bad-field');
      expect((err as Error).message).toContain('massScale');
    }
    const baseline = createRandomModel({ kind: 'baseline', hidden: [8], seed: 2 }).metadata;
    expect(() =>
      validateMetadata(
        JSON.parse(
          JSON.stringify({ ...baseline, massScale: { value: 1, spread: 0, states: 1, method: 'x' } }),
        ),
        'memory',
      ),
    ).toThrow(ModelFormatError);
  });

  it('shipped double-pendulum LNN: α, spread, and the response to a unit force against the exact M⁻¹', async () => {
    const model = await loadModel(
      resolve(import.meta.dirname, '..', 'assets', 'models', 'double-pendulum-lnn'),
    );
    const system = createSystem('double-pendulum');
    const measured = measureMassScale(model, system, { states: 256, seed: 2024 });
    const engine = await LNNEngine.load(model, system, { backend: 'wasm', route: 'js' });
    const alpha = engine.massScale!;
    expect(Number.isFinite(alpha.value) && alpha.value !== 0).toBe(true);
    expect(
      Math.abs(alpha.value - measured.value) / Math.abs(measured.value),
      'α stable across state sets',
    ).toBeLessThan(0.05);
    const count = 256;
    const { q, qd } = trainingBoxStates(model, 2, count, 99);
    const exact = new EulerLagrangeSolver((o, a, b) => system.L(o, a, b), 2);
    const a0 = new Float64Array(2 * count);
    const a1 = new Float64Array(2 * count);
    const want = new Float64Array(2 * count);
    const unit = new Float64Array(2 * count);
    engine.accelerations(q, qd, a0, count);
    let sum = 0;
    let worst = 0;
    let cases = 0;
    for (let i = 0; i < 2; i++) {
      unit.fill(0);
      for (let b = 0; b < count; b++) unit[b * 2 + i] = 1;
      const push = createForces(system, { constant: unit }, count);
      engine.accelerations(q, qd, a1, count, 0, push);
      exact.solveMass(q, qd, unit, want, count);
      for (let b = 0; b < count; b++) {
        const dx = a1[2 * b] - a0[2 * b] - want[2 * b];
        const dy = a1[2 * b + 1] - a0[2 * b + 1] - want[2 * b + 1];
        const e = Math.hypot(dx, dy) / Math.hypot(want[2 * b], want[2 * b + 1]);
        sum += e;
        worst = Math.max(worst, e);
        cases++;
      }
    }
    const mean = sum / cases;
    console.log(
      `double-pendulum-lnn: α = ${alpha.value.toPrecision(6)} (${alpha.source}; 256 states: ${measured.value.toPrecision(6)}), spread ${measured.spread.toPrecision(3)}; unit-force response vs exact M⁻¹e_i over ${count} states × 2: mean rel. error ${mean.toPrecision(3)}, worst ${worst.toPrecision(3)}`,
    );
    expect(mean).toBeLessThan(0.1);
    engine.dispose();
  });
});
