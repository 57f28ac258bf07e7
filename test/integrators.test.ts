import { describe, expect, it } from 'vitest';
import type { AccelerationFn, IntegratorId } from '../src/core/types';
import { DormandPrince5 } from '../src/integrators/DormandPrince5';
import { integrate } from '../src/integrators/integrate';
import { createIntegrator, INTEGRATOR_IDS, listIntegrators } from '../src/integrators/registry';
import { createRng } from '../src/math/random';
import { DoublePendulum } from '../src/systems/DoublePendulum';

/** Harmonic oscillator q̈ = −ω² q, exact solution known. */
const OMEGA = 1.7;
const oscillator: AccelerationFn = (q, _qd, qdd, batch) => {
  for (let i = 0; i < batch; i++) qdd[i] = -OMEGA * OMEGA * q[i];
};
function oscillatorExact(q0: number, v0: number, t: number): [number, number] {
  const c = Math.cos(OMEGA * t);
  const s = Math.sin(OMEGA * t);
  return [q0 * c + (v0 / OMEGA) * s, -q0 * OMEGA * s + v0 * c];
}

/** Simple pendulum q̈ = −(g/l) sin q: separable and nonlinear. */
const pendulum: AccelerationFn = (q, _qd, qdd, batch) => {
  for (let i = 0; i < batch; i++) qdd[i] = -9.8 * Math.sin(q[i]);
};
const pendulumEnergy = (q: number, v: number) => 0.5 * v * v - 9.8 * Math.cos(q);

const dp = new DoublePendulum();
const dpAccel: AccelerationFn = (q, qd, qdd, batch) => dp.accelerations(q, qd, qdd, batch);
const DP_Q0 = [(3 * Math.PI) / 7, (3 * Math.PI) / 4];

/** Least-squares slope of log(err) against log(dt). */
function slope(dts: number[], errs: number[]): number {
  const x = dts.map(Math.log);
  const y = errs.map(Math.log);
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) ** 2;
  }
  return num / den;
}

/** Loose enough that every Dormand–Prince substep is accepted: one `step(dt)` is one plain DP step. */
function fixedStepDopri5(dt: number): DormandPrince5 {
  return new DormandPrince5({ rtol: 1e6, atol: 1e6, firstStep: dt });
}

function run(id: IntegratorId, f: AccelerationFn, q0: number[], qd0: number[], t1: number, dt: number) {
  const q = Float64Array.from(q0);
  const qd = Float64Array.from(qd0);
  const integrator = id === 'dopri5' ? fixedStepDopri5(dt) : createIntegrator(id);
  integrate(f, q, qd, q0.length, 1, { t1, dt, integrator });
  if (integrator instanceof DormandPrince5) {
    expect(integrator.lastAccepted, 'loose-tolerance dopri5 takes one substep per step').toBe(1);
  }
  return { q, qd };
}

describe('integrator registry', () => {
  it('lists every method with exact names and declared properties', () => {
    const infos = listIntegrators();
    expect(infos.map((i) => i.id)).toEqual(['symplectic-euler', 'leapfrog', 'rk4', 'dopri5']);
    const byId = Object.fromEntries(infos.map((i) => [i.id, i]));
    expect(byId['symplectic-euler']).toMatchObject({ order: 1, symplectic: true, adaptive: false });
    expect(byId.leapfrog).toMatchObject({ order: 2, symplectic: true, adaptive: false });
    expect(byId.rk4).toMatchObject({ order: 4, symplectic: false, adaptive: false });
    expect(byId.dopri5).toMatchObject({ order: 5, symplectic: false, adaptive: true });
  });

  it('rejects an unknown id with the list of known ones', () => {
    expect(() => createIntegrator('euler' as IntegratorId)).toThrow(
      /Unknown integrator 'euler'.*symplectic-euler, leapfrog, rk4, dopri5/,
    );
  });

  it('rejects state arrays of the wrong length', () => {
    const q = new Float64Array(3);
    expect(() => createIntegrator('rk4').step(oscillator, q, new Float64Array(4), 2, 2, 0.1)).toThrow(
      /dof \* batch = 2 \* 2 = 4.*q.length = 3/,
    );
  });
});

describe('empirical convergence order (regression of log error on log dt)', () => {
  const declared = Object.fromEntries(listIntegrators().map((i) => [i.id, i.order]));
  // Step sizes per method: errors well above round-off and in the asymptotic regime.
  const dtsFor: Record<IntegratorId, number[]> = {
    'symplectic-euler': [0.02, 0.01, 0.005, 0.0025, 0.00125],
    leapfrog: [0.04, 0.02, 0.01, 0.005, 0.0025],
    rk4: [0.08, 0.04, 0.02, 0.01, 0.005],
    dopri5: [0.16, 0.08, 0.04, 0.02, 0.01],
  };

  const dpDtsFor: Record<IntegratorId, number[]> = {
    'symplectic-euler': [0.01, 0.005, 0.0025, 0.00125, 0.000625],
    leapfrog: [0.02, 0.01, 0.005, 0.0025, 0.00125],
    rk4: [0.04, 0.02, 0.01, 0.005, 0.0025],
    dopri5: [0.02, 0.01, 0.005, 0.0025],
  };

  for (const id of INTEGRATOR_IDS) {
    it(`${id}: harmonic oscillator vs the exact solution`, () => {
      const t1 = 2.56;
      const [qe, ve] = oscillatorExact(1, 0.5, t1);
      const dts = dtsFor[id];
      const errs = dts.map((dt) => {
        const { q, qd } = run(id, oscillator, [1], [0.5], t1, dt);
        return Math.max(Math.abs(q[0] - qe), Math.abs(qd[0] - ve));
      });
      const p = slope(dts, errs);
      expect(Math.abs(p - declared[id]), `${id}: slope ${p.toFixed(3)}, errors ${errs}`).toBeLessThan(0.3);
    });

    it(`${id}: double pendulum vs a tight dopri5 reference`, () => {
      const t1 = 1.28;
      const ref = { q: Float64Array.from(DP_Q0), qd: new Float64Array(2) };
      integrate(dpAccel, ref.q, ref.qd, 2, 1, {
        t1,
        integrator: new DormandPrince5({ rtol: 1e-13, atol: 1e-13 }),
      });
      const dts = dpDtsFor[id];
      const errs = dts.map((dt) => {
        const { q, qd } = run(id, dpAccel, DP_Q0, [0, 0], t1, dt);
        let e = 0;
        for (let i = 0; i < 2; i++)
          e = Math.max(e, Math.abs(q[i] - ref.q[i]), Math.abs(qd[i] - ref.qd[i]) / 10);
        return e;
      });
      const p = slope(dts, errs);
      expect(Math.abs(p - declared[id]), `${id}: slope ${p.toFixed(3)}, errors ${errs}`).toBeLessThan(0.3);
    });
  }
});

describe('dopri5 as ground truth', () => {
  it('matches the exact oscillator to 1e-10 over 20 s with the default tolerances', () => {
    const q = Float64Array.of(1, -0.3);
    const qd = Float64Array.of(0.5, 2);
    integrate(oscillator, q, qd, 1, 2, { t1: 20, dt: 0.1 });
    for (let b = 0; b < 2; b++) {
      const [qe, ve] = oscillatorExact([1, -0.3][b], [0.5, 2][b], 20);
      expect(Math.abs(q[b] - qe), `q[${b}]`).toBeLessThan(1e-10);
      expect(Math.abs(qd[b] - ve), `qd[${b}]`).toBeLessThan(1e-10);
    }
  });

  it('takes several internal substeps for a large dt and lands exactly on it', () => {
    const ig = new DormandPrince5();
    const q = Float64Array.of(1);
    const qd = Float64Array.of(0);
    ig.step(oscillator, q, qd, 1, 1, 3);
    expect(ig.lastAccepted, 'accepted substeps').toBeGreaterThan(10);
    const [qe] = oscillatorExact(1, 0, 3);
    expect(Math.abs(q[0] - qe)).toBeLessThan(1e-11);
  });

  it('integrates backwards with a negative dt, returning to the start', () => {
    const ig = new DormandPrince5();
    const q = Float64Array.from(DP_Q0);
    const qd = Float64Array.of(0, 0);
    ig.step(dpAccel, q, qd, 2, 1, 2);
    ig.step(dpAccel, q, qd, 2, 1, -2);
    expect(Math.abs(q[0] - DP_Q0[0]) + Math.abs(q[1] - DP_Q0[1]), 'q back at start').toBeLessThan(1e-9);
  });

  it('throws a clear error instead of returning NaN for a non-finite state', () => {
    const q = Float64Array.of(Number.NaN, 0);
    expect(() => new DormandPrince5().step(dpAccel, q, new Float64Array(2), 2, 1, 0.01)).toThrow(
      /not finite/,
    );
  });

  it('rejects invalid tolerances', () => {
    expect(() => new DormandPrince5({ rtol: 0 })).toThrow(/rtol must be > 0/);
  });
});

describe('energy behaviour', () => {
  for (const id of ['symplectic-euler', 'leapfrog'] as const) {
    it(`${id}: bounded energy error on a pendulum over 10^5 steps (no secular drift)`, () => {
      const dt = 0.05;
      const steps = 100_000;
      const q = Float64Array.of(2);
      const qd = Float64Array.of(0);
      const e0 = pendulumEnergy(q[0], qd[0]);
      const ig = createIntegrator(id);
      let early = 0;
      let late = 0;
      for (let k = 1; k <= steps; k++) {
        ig.step(pendulum, q, qd, 1, 1, dt);
        const err = Math.abs(pendulumEnergy(q[0], qd[0]) - e0);
        if (k <= steps / 10) early = Math.max(early, err);
        else if (k > steps / 2) late = Math.max(late, err);
      }
      // The first tenth covers ~200 periods, so `early` is the oscillation amplitude of the error.
      expect(late, `${id}: late max |ΔE| ${late} vs early ${early}`).toBeLessThan(1.5 * early);
      expect(early, `${id}: |ΔE| amplitude`).toBeLessThan(id === 'leapfrog' ? 0.1 : 2);
    });
  }

  it('leapfrog is time-reversible on a separable system', () => {
    const q = Float64Array.of(2);
    const qd = Float64Array.of(0.3);
    const ig = createIntegrator('leapfrog');
    for (let k = 0; k < 1000; k++) ig.step(pendulum, q, qd, 1, 1, 0.01);
    for (let k = 0; k < 1000; k++) ig.step(pendulum, q, qd, 1, 1, -0.01);
    expect(Math.abs(q[0] - 2) + Math.abs(qd[0] - 0.3), 'state back at start').toBeLessThan(1e-11);
  });

  it('rk4 at dt = 0.005 on the double pendulum from (3π/7, 3π/4, 0, 0) drifts ≤ 1e-5 of 29.4 over 100 s', () => {
    const q = Float64Array.from(DP_Q0);
    const qd = Float64Array.of(0, 0);
    const e0 = dp.energy(q, qd);
    let worst = 0;
    integrate(dpAccel, q, qd, 2, 1, {
      t1: 100,
      dt: 0.005,
      integrator: 'rk4',
      onStep: (_k, _t, qs, qds) => {
        worst = Math.max(worst, Math.abs(dp.energy(qs, qds) - e0));
      },
    });
    expect(dp.energyScale).toBeCloseTo(29.4, 12);
    expect(worst / dp.energyScale, `max relative energy error ${worst / 29.4}`).toBeLessThanOrEqual(1e-5);
  });
});

describe('batching', () => {
  const batch = 16;
  const rng = createRng(7);
  const q0 = new Float64Array(batch * 2);
  const qd0 = new Float64Array(batch * 2);
  for (let b = 0; b < batch; b++) {
    dp.sample(rng, q0.subarray(2 * b, 2 * b + 2), qd0.subarray(2 * b, 2 * b + 2));
  }

  for (const id of ['symplectic-euler', 'leapfrog', 'rk4'] as const) {
    it(`${id}: a batch of 16 equals 16 single integrations bitwise`, () => {
      const q = q0.slice();
      const qd = qd0.slice();
      integrate(dpAccel, q, qd, 2, batch, { t1: 0.5, dt: 0.005, integrator: id });
      for (let b = 0; b < batch; b++) {
        const qs = q0.slice(2 * b, 2 * b + 2);
        const qds = qd0.slice(2 * b, 2 * b + 2);
        integrate(dpAccel, qs, qds, 2, 1, { t1: 0.5, dt: 0.005, integrator: id });
        expect(Array.from(q.subarray(2 * b, 2 * b + 2)), `q of state ${b}`).toEqual(Array.from(qs));
        expect(Array.from(qd.subarray(2 * b, 2 * b + 2)), `qd of state ${b}`).toEqual(Array.from(qds));
      }
    });
  }

  it('dopri5: a batch agrees with single integrations to its tolerance', () => {
    const q = q0.slice();
    const qd = qd0.slice();
    integrate(dpAccel, q, qd, 2, batch, { t1: 0.5 });
    for (let b = 0; b < batch; b++) {
      const qs = q0.slice(2 * b, 2 * b + 2);
      const qds = qd0.slice(2 * b, 2 * b + 2);
      integrate(dpAccel, qs, qds, 2, 1, { t1: 0.5 });
      for (let i = 0; i < 2; i++) expect(Math.abs(q[2 * b + i] - qs[i]), `state ${b}`).toBeLessThan(1e-9);
    }
  });

  it('reuses its buffers: a smaller batch after a larger one gives the same results', () => {
    const ig = createIntegrator('rk4');
    const big = q0.slice();
    ig.step(dpAccel, big, qd0.slice(), 2, batch, 0.01);
    const small = q0.slice(0, 2);
    ig.step(dpAccel, small, qd0.slice(0, 2), 2, 1, 0.01);
    expect(Array.from(small)).toEqual(Array.from(big.subarray(0, 2)));
  });
});

describe('integrate()', () => {
  it('rejects a duration that is not a multiple of dt, dt <= 0, and a non-finite start', () => {
    const q = Float64Array.of(1);
    const qd = Float64Array.of(0);
    expect(() => integrate(oscillator, q, qd, 1, 1, { t1: 1, dt: 0.3 })).toThrow(/not a whole multiple/);
    expect(() => integrate(oscillator, q, qd, 1, 1, { t1: 1, dt: 0 })).toThrow(/dt must be/);
    expect(() =>
      integrate(oscillator, Float64Array.of(Number.POSITIVE_INFINITY), qd, 1, 1, { t1: 1 }),
    ).toThrow(/not finite at index 0/);
  });

  it('reports each step with time k·dt', () => {
    const times: number[] = [];
    const n = integrate(oscillator, Float64Array.of(1), Float64Array.of(0), 1, 1, {
      t1: 0.3,
      dt: 0.1,
      integrator: 'rk4',
      onStep: (_k, t) => times.push(t),
    });
    expect(n).toBe(3);
    expect(times).toEqual([0.1, 0.2, 0.1 * 3]);
  });
});
