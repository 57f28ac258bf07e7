import { describe, expect, it } from 'vitest';
import { typedSystem } from '../scenes/yourLagrangian.js';
import type { Engine, System } from '../src/core/types.js';
import { AnalyticEngine } from '../src/engines/AnalyticEngine.js';
import { LagrangianEngine } from '../src/engines/LagrangianEngine.js';
import { createForces, ForceSpecError, GeneralizedForces } from '../src/forces/index.js';
import { createIntegrator } from '../src/integrators/registry.js';
import { defineSystem } from '../src/lagrangian/defineSystem.js';
import { createSystem } from '../src/systems/registry.js';
import { ForceSupportError, World } from '../src/world/index.js';

/** Linear response of θ̈ + γθ̇ + ω0²θ = f cos ωt: amplitude and phase lag of the steady state. */
function linearResponse(f: number, gamma: number, w0: number, w: number): { amp: number; phase: number } {
  const re = w0 * w0 - w * w;
  const im = gamma * w;
  return { amp: f / Math.hypot(re, im), phase: Math.atan2(im, re) };
}

/**
 * Run a driven, damped simple pendulum (m l² θ̈ = −m g l sin θ − C θ̇ + F0 cos ωt) in a World and fit the
 * steady state θ ≈ a cos ωt + b sin ωt over the last `fit` periods (trapezoid over whole periods).
 */
async function drivenPendulum(
  engine: 'analytic' | 'lagrangian',
  w: number,
  options: { C: number; F0: number; settle: number; fit: number; perPeriod: number },
): Promise<{ amp: number; phase: number }> {
  const system = createSystem('simple-pendulum', { m: 1.5, l: 0.8, g: 9.81 });
  const world = new World();
  const T = (2 * Math.PI) / w;
  const dt = T / options.perPeriod;
  const { C, F0 } = options;
  const h = await world.add(system, {
    engine,
    integrator: 'rk4',
    forces: {
      damping: C,
      callback: (t, _q, _qd, out, batch) => {
        for (let b = 0; b < batch; b++) out[b] += F0 * Math.cos(w * t);
      },
    },
  });
  const settleSteps = options.settle * options.perPeriod;
  world.stepN(settleSteps, dt);
  let a = 0;
  let b = 0;
  const n = options.fit * options.perPeriod;
  for (let k = 0; k < n; k++) {
    const t = (settleSteps + k) * dt;
    a += h.q[0] * Math.cos(w * t);
    b += h.q[0] * Math.sin(w * t);
    world.stepN(1, dt);
  }
  a *= 2 / n;
  b *= 2 / n;
  world.dispose();
  return { amp: Math.hypot(a, b), phase: Math.atan2(b, a) };
}

describe('exact engines under forces, against closed forms', () => {
  const m = 1.5;
  const l = 0.8;
  const g = 9.81;
  const w0 = Math.sqrt(g / l);
  const C = 0.6; // γ = C / (m l²) = 0.625 s⁻¹
  const gamma = C / (m * l * l);
  const F0 = 1e-3 * m * l * l; // steady amplitudes ≲ 1e-3 rad: sin θ = θ to 2e-7 relative

  for (const [label, w] of [
    ['at resonance', w0],
    ['below resonance', 0.5 * w0],
    ['above resonance', 1.7 * w0],
  ] as const) {
    it(`a driven, damped small-angle pendulum ${label}: steady amplitude and phase within 1e-4 relative`, async () => {
      const expected = linearResponse(F0 / (m * l * l), gamma, w0, w);
      // Transients decay as e^{−γt/2}: 60 periods of ≥ 1.8 s leave < 1e-14.
      const settle = Math.ceil((2 * 34) / gamma / ((2 * Math.PI) / w));
      for (const engine of ['analytic', 'lagrangian'] as const) {
        const got = await drivenPendulum(engine, w, { C, F0, settle, fit: 4, perPeriod: 2000 });
        expect(Math.abs(got.amp - expected.amp) / expected.amp).toBeLessThan(1e-4);
        expect(Math.abs(got.phase - expected.phase)).toBeLessThan(1e-4 * Math.PI);
      }
    });
  }

  it("a damped pendulum's energy decays as the linear damped oscillator's, E(t) to 1e-4 relative", async () => {
    const system = createSystem('simple-pendulum', { m, l, g });
    const world = new World();
    const theta0 = 1e-3;
    const h = await world.add(system, { integrator: 'rk4', q0: [theta0], forces: { damping: C } });
    const dt = 1e-3;
    const wd = Math.sqrt(w0 * w0 - (gamma * gamma) / 4);
    for (const t of [1, 2.5, 5]) {
      world.stepN(Math.round(t / dt) - world.stepCount, dt);
      // θ(t) = θ0 e^{−γt/2} (cos ωd t + γ/(2ωd) sin ωd t), θ̇ = −θ0 ω0²/ωd e^{−γt/2} sin ωd t.
      const decay = Math.exp((-gamma * t) / 2);
      const th = theta0 * decay * (Math.cos(wd * t) + (gamma / (2 * wd)) * Math.sin(wd * t));
      const thd = ((-theta0 * w0 * w0) / wd) * decay * Math.sin(wd * t);
      const E = 0.5 * m * l * l * thd * thd + 0.5 * m * g * l * th * th - m * g * l; // small-angle energy
      const got = h.energy(0);
      // Relative to the oscillation energy (the constant −mgl is exact in both).
      expect(Math.abs(got - E) / (0.5 * m * g * l * theta0 * theta0 * decay * decay)).toBeLessThan(1e-4);
      expect(h.ledger(0) / (0.5 * m * g * l * theta0 * theta0)).toBeLessThan(1e-9);
    }
    world.dispose();
  });

  it('E − E0 − W stays at integrator error over 10 s on a double pendulum (damping, constant and a driving callback)', async () => {
    const world = new World();
    const dp = createSystem('double-pendulum');
    const specs = {
      damping: { damping: [0.3, 0.1] },
      constant: { constant: [0.8, -0.5] },
      callback: {
        callback: (t: number, q: Float64Array, _qd: Float64Array, out: Float64Array, batch: number) => {
          for (let b = 0; b < batch; b++) out[2 * b + 1] += 2 * Math.sin(3 * t) * Math.cos(q[2 * b]);
        },
      },
    };
    const results: Record<string, { ledger: number; work: number }> = {};
    for (const [name, forces] of Object.entries(specs)) {
      const h = await world.add(dp, { name, integrator: 'rk4', q0: [1.2, -0.4], qd0: [0.5, 1], forces });
      void h;
    }
    world.stepN(10_000, 1e-3);
    for (const h of world.systems) {
      results[h.name] = { ledger: h.ledger(0), work: h.forces.ledger.work[0] };
      // Work is substantial (the forces do change the energy) …
      expect(Math.abs(h.forces.ledger.work[0])).toBeGreaterThan(0.1);
      // … and the ledger closes to ≤ 1e-8 of the energy scale 29.4.
      expect(Math.abs(h.ledger(0)) / dp.energyScale).toBeLessThan(1e-8);
    }
    console.log(`ledger over 10 s at dt = 1e-3 (RK4): ${JSON.stringify(results)}`);
    world.dispose();
  });

  it('analytic and lagrangian engines give the same forced trajectory (1e-11), on every integrator', () => {
    const system = createSystem('chain', { links: 3 });
    const forces = createForces(system, {
      damping: 0.2,
      constant: [0.5, 0, -0.3],
      callback: (t, _q, qd, out, batch) => {
        for (let i = 0; i < batch * 3; i++) out[i] += Math.sin(t) * qd[i] * 0.1;
      },
    });
    for (const id of ['rk4', 'leapfrog', 'symplectic-euler', 'dopri5'] as const) {
      const runs = [new AnalyticEngine(system), new LagrangianEngine(system)].map((e: Engine) => {
        const q = Float64Array.of(0.4, 1.1, -0.7);
        const qd = Float64Array.of(0.2, -0.3, 0.6);
        const integ = createIntegrator(id);
        for (let k = 0; k < 200; k++) e.step(q, qd, 1, 5e-3, integ, k * 5e-3, forces);
        return [...q, ...qd];
      });
      for (let i = 0; i < 6; i++) expect(runs[0][i]).toBeCloseTo(runs[1][i], 10);
    }
  });

  it('stage times reach the force: RK4 is fourth order under a time-dependent force', () => {
    // θ̈ = −θ + sin(2t) (unit harmonic oscillator, a NewtonianParticle would be linear too):
    // exact θ(t) = (2 sin t − sin 2t)/3 from rest at 0.
    const osc = defineSystem({
      id: 'unit-oscillator',
      dof: 1,
      L: (o, q, qd) => o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5), o.scale(o.mul(q[0], q[0]), 0.5)),
    });
    const forces = createForces(osc, { callback: (t, _q, _qd, out) => (out[0] += Math.sin(2 * t)) });
    const engine = new LagrangianEngine(osc);
    const errorAt = (steps: number): number => {
      const q = new Float64Array(1);
      const qd = new Float64Array(1);
      const dt = 2 / steps;
      const rk4 = createIntegrator('rk4');
      for (let k = 0; k < steps; k++) engine.step(q, qd, 1, dt, rk4, k * dt, forces);
      return Math.abs(q[0] - (2 * Math.sin(2) - Math.sin(4)) / 3);
    };
    const order = Math.log2(errorAt(40) / errorAt(80));
    expect(order).toBeGreaterThan(3.8);
    expect(order).toBeLessThan(4.3);
  });
});

describe('impulses and point forces', () => {
  it('a generalized impulse on a simple pendulum changes θ̇ by p / (m l²), and the ledger stays closed', async () => {
    const world = new World();
    const h = await world.add(createSystem('simple-pendulum', { m: 2, l: 0.5 }), { q0: [0.3], qd0: [0.1] });
    const dv = h.forces.applyImpulse([0.4]);
    expect(dv[0]).toBeCloseTo(0.4 / (2 * 0.25), 12);
    expect(h.qd[0]).toBeCloseTo(0.1 + 0.8, 12);
    expect(Math.abs(h.ledger(0))).toBeLessThan(1e-12);
    world.dispose();
  });

  it.each(['analytic', 'lagrangian'] as const)(
    'an impulse on the relativistic particle (%s) jumps the momentum q̇/(1 − q̇²)^(3/2) by p exactly; the ledger stays closed',
    (engineId) => {
      const system = createSystem('relativistic-particle');
      const momentum = (v: number) => v * (1 - v * v) ** -1.5;
      /** The speed whose momentum is P (bisection on (−1, 1): momentum is increasing). */
      const speedOf = (P: number) => {
        let lo = -1 + 1e-15;
        let hi = 1 - 1e-15;
        for (let i = 0; i < 200; i++) {
          const mid = 0.5 * (lo + hi);
          if (momentum(mid) < P) lo = mid;
          else hi = mid;
        }
        return 0.5 * (lo + hi);
      };
      for (const [v0, P] of [
        [0.5, 0.3],
        [0, 2], // from rest, a kick that a linear Δq̇ = p / H(0) would send past c
        [0.9, -3],
      ]) {
        const world = new World();
        const engine = engineId === 'analytic' ? new AnalyticEngine(system) : new LagrangianEngine(system);
        const h = world.addSync(system, { engine, q0: [0.2], qd0: [v0] });
        h.forces.applyImpulse([P]);
        const want = speedOf(momentum(v0) + P);
        expect(Math.abs(h.qd[0] - want), `q̇ after ${P} from ${v0}: ${h.qd[0]} vs ${want}`).toBeLessThan(1e-9);
        expect(Math.abs(h.qd[0]), 'below c').toBeLessThan(1);
        expect(
          Math.abs(h.ledger(0)),
          `ledger after the impulse (W = ${h.forces.ledger.work[0]})`,
        ).toBeLessThan(1e-9);
        world.dispose();
      }
    },
  );

  it('a point impulse on the lower bob of a double pendulum matches M⁻¹ Jᵀ J from the closed forms', async () => {
    const world = new World();
    const dp = createSystem('double-pendulum', { m1: 1.3, m2: 0.7, l1: 1.1, l2: 0.9 });
    const q = [0.7, -0.4];
    const h = await world.add(dp, { q0: q, qd0: [0, 0] });
    const J = [0.3, 0.2, 0];
    h.forces.applyPointImpulse(2, J);
    // Generalized impulse p_i = l_i (cos θ_i Jx + sin θ_i Jy); mass matrix of the double pendulum.
    const [m1, m2, l1, l2] = [1.3, 0.7, 1.1, 0.9];
    const p = [
      l1 * (Math.cos(q[0]) * J[0] + Math.sin(q[0]) * J[1]),
      l2 * (Math.cos(q[1]) * J[0] + Math.sin(q[1]) * J[1]),
    ];
    const M11 = (m1 + m2) * l1 * l1;
    const M12 = m2 * l1 * l2 * Math.cos(q[0] - q[1]);
    const M22 = m2 * l2 * l2;
    const det = M11 * M22 - M12 * M12;
    expect(h.qd[0]).toBeCloseTo((M22 * p[0] - M12 * p[1]) / det, 12);
    expect(h.qd[1]).toBeCloseTo((M11 * p[1] - M12 * p[0]) / det, 12);
    // All the impulse's work went into kinetic energy.
    expect(Math.abs(h.ledger(0))).toBeLessThan(1e-12);
    world.dispose();
  });

  it('a held point force does the work the ledger records, on a chain', async () => {
    const world = new World();
    const h = await world.add(createSystem('chain', { links: 4 }), {
      q0: [0.1, 0.2, 0.3, 0.4],
      integrator: 'rk4',
    });
    h.forces.setPointForce(4, [2, 0, 0]);
    world.stepN(500, 1e-3);
    expect(Math.abs(h.forces.ledger.work[0])).toBeGreaterThan(0.05);
    expect(Math.abs(h.ledger(0)) / h.system.energyScale).toBeLessThan(1e-6);
    h.forces.setPointForce(4, null);
    expect(h.forces.active).toBe(false);
    world.dispose();
  });

  it("every built-in system's point Jacobian equals the derivative of its positions", () => {
    const ids: [string, Record<string, number>][] = [
      ['simple-pendulum', {}],
      ['double-pendulum', { l1: 1.2, l2: 0.7 }],
      ['chain', { links: 4 }],
      ['string', {}],
      ['relativistic-particle', {}],
      ['newtonian-particle', {}],
    ];
    const systems: System[] = ids.map(([id, params]) => createSystem(id, params));
    // The app's typed-Lagrangian scene draws its coordinates as a chain with its own Jacobian.
    systems.push(typedSystem('qd1^2/2 + qd2^2/2 + cos(q1) + cos(q2)'));
    let checked = 0;
    for (const system of systems) {
      const n = system.dof;
      const q = Float64Array.from({ length: n }, (_, i) => 0.3 + 0.17 * i);
      const J = new Float64Array(3 * n);
      const p1 = new Float64Array(system.pointCount * 3);
      const p0 = new Float64Array(system.pointCount * 3);
      for (let point = 0; point < system.pointCount; point++) {
        system.pointJacobian!(q, point, J);
        for (let j = 0; j < n; j++) {
          const e = 1e-6;
          const qp = Float64Array.from(q);
          const qm = Float64Array.from(q);
          qp[j] += e;
          qm[j] -= e;
          system.positions(qp, p1);
          system.positions(qm, p0);
          for (let r = 0; r < 3; r++) {
            expect(J[r * n + j]).toBeCloseTo((p1[3 * point + r] - p0[3 * point + r]) / (2 * e), 7);
          }
        }
      }
      checked++;
    }
    expect(checked).toBe(7);
  });
});

describe('force errors are typed one-liners', () => {
  it('bad specs name the part and what is expected', () => {
    const s = createSystem('double-pendulum');
    expect(() => createForces(s, { damping: -1 })).toThrow(ForceSpecError);
    expect(() => createForces(s, { damping: -1 })).toThrow(/damping must be a finite number >= 0/);
    expect(() => createForces(s, { damping: [1, 2, 3] })).toThrow(/one number or 2/);
    expect(() => createForces(s, { constant: [1, Number.NaN] })).toThrow(
      /constant\[1\] must be a finite number/,
    );
    expect(() => createForces(s, { drag: 1 } as never)).toThrow(/unknown key 'drag'/);
    const f = new GeneralizedForces(1, 1, {
      callback: (_t, _q, _qd, out) => {
        out[0] = Number.POSITIVE_INFINITY;
      },
    });
    expect(() => f.evaluate(0, new Float64Array(1), new Float64Array(1), new Float64Array(1), 1)).toThrow(
      /callback gave a non-finite Q/,
    );
  });

  it('an engine that declares no force support is refused with its reason; the state is untouched', async () => {
    const world = new World();
    const system = createSystem('simple-pendulum');
    const engine = new AnalyticEngine(system);
    Object.defineProperty(engine, 'forceSupport', { value: 'this test engine has no mass matrix' });
    const h = world.addSync(system, { engine, q0: [0.2] });
    expect(() => h.forces.setDamping(0.1)).toThrow(ForceSupportError);
    expect(() => h.forces.setDamping([0.1])).toThrow(ForceSupportError);
    // Zero damping is no force: clearing is allowed, as a number or per coordinate.
    expect(() => h.forces.setDamping(0)).not.toThrow();
    expect(() => h.forces.setDamping([0])).not.toThrow();
    expect(() => h.forces.applyImpulse([1])).toThrow(/this test engine has no mass matrix/);
    expect(h.qd[0]).toBe(0);
    expect(() =>
      world.addSync(system, { engine: new AnalyticEngine(system), forces: { damping: -2 } }),
    ).toThrow(ForceSpecError);
    world.dispose();
  });

  it('forces of another shape than the batch are refused by name on the exact engines', () => {
    const dp = createSystem('double-pendulum');
    const engine = new AnalyticEngine(dp);
    const q = new Float64Array(4);
    const qdd = new Float64Array(4);
    const one = createForces(dp, { damping: 0.1 }, 1);
    expect(() => engine.accelerations(q, q, qdd, 2, 0, one)).toThrow(
      /analytic engine: forces describe 1 copies but the batch has 2 states/,
    );
    const wrongDof = createForces(createSystem('simple-pendulum'), { damping: 0.1 }, 2);
    expect(() => new LagrangianEngine(dp).accelerations(q, q, qdd, 2, 0, wrongDof)).toThrow(
      /forces for dof 1 given to a system with dof 2/,
    );
  });

  it("a callback that fails only where the ledger samples it (the step's midpoint) freezes that system, not the world", () => {
    const world = new World();
    const system = createSystem('simple-pendulum');
    const dt = 0.01;
    // Leapfrog samples Q at the step's ends only; the ledger's Simpson rule also at t0 + dt/2.
    const bad = world.addSync(system, {
      engine: new AnalyticEngine(system),
      integrator: 'leapfrog',
      q0: [0.3],
      forces: {
        callback: (t, _q, _qd, out) => {
          out[0] = Math.abs(t - 0.5 * dt) < 1e-12 ? Number.NaN : 0.1;
        },
      },
    });
    const good = world.addSync(system, { engine: new AnalyticEngine(system), q0: [0.3] });
    const q0 = bad.q[0];
    expect(() => world.step(dt)).not.toThrow();
    expect(bad.invalid[0], 'frozen').toBe(1);
    expect(bad.q[0], 'at its last finite state').toBe(q0);
    expect(String(bad.lastError)).toMatch(/non-finite Q/);
    expect(bad.forces.ledger.work[0], 'no partial work').toBe(0);
    expect(good.q[0], 'the other system stepped').not.toBe(q0);
    expect(world.stepCount).toBe(1);
    world.dispose();
  });

  it('a system without a point Jacobian refuses point forces but takes generalized ones', async () => {
    const custom = defineSystem({
      id: 'custom-points',
      dof: 1,
      L: (o, q, qd) => o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5), o.scale(o.mul(q[0], q[0]), 0.5)),
      positions: (q, out) => {
        out[0] = q[0];
        out[1] = 0;
        out[2] = 0;
      },
      pointCount: 1,
    });
    const world = new World();
    const h = world.addSync(custom, { q0: [0.5] });
    expect(() => h.forces.setPointForce(0, [1, 0, 0])).toThrow(/gives no point Jacobian/);
    h.forces.setDamping(0.5);
    world.stepN(100, 0.01);
    expect(h.energy(0)).toBeLessThan(0.125);
    world.dispose();
  });
});

describe('the ledger in snapshots', () => {
  it('a restored world carries E(0) and W, so the ledger continues where it was', async () => {
    const world = new World();
    const h = await world.add(createSystem('double-pendulum'), {
      name: 'dp',
      q0: [1, 0.5],
      forces: { damping: 0.4 },
    });
    world.stepN(300, 1e-3);
    const snap = world.toJSON();
    const before = h.ledger(0);
    const work = h.forces.ledger.work[0];
    world.stepN(300, 1e-3);
    world.restore(snap);
    expect(h.forces.ledger.work[0]).toBe(work);
    expect(h.ledger(0)).toBe(before);
    const copy = await World.fromJSON(JSON.parse(JSON.stringify(snap)));
    expect(copy.get('dp')!.ledger(0)).toBe(before);
    expect(() =>
      world.restore({
        ...snap,
        systems: [{ ...snap.systems[0], ledger: { energy0: [Number.NaN], work: [0] } }],
      }),
    ).toThrow(/'ledger.energy0' must be 1 finite numbers/);
    world.dispose();
    copy.dispose();
  });
});
