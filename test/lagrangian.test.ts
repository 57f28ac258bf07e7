import { describe, expect, it } from 'vitest';
import type { Ops, System } from '../src/core/types';
import { defineSystem } from '../src/lagrangian/defineSystem';
import { EulerLagrangeSolver, type Lagrangian } from '../src/lagrangian/EulerLagrangeSolver';
import { JetOps } from '../src/math/JetOps';
import { numberOps } from '../src/math/numberOps';
import { createRng, uniform } from '../src/math/random';
import { Chain } from '../src/systems/Chain';
import { DoublePendulum } from '../src/systems/DoublePendulum';
import { createSystem } from '../src/systems/registry';

/** Draw `batch` states from the system's sampler into flat arrays. */
function sampleBatch(system: System, batch: number, seed: number) {
  const n = system.dof;
  const rng = createRng(seed);
  const q = new Float64Array(batch * n);
  const qd = new Float64Array(batch * n);
  for (let b = 0; b < batch; b++)
    system.sample(rng, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
  return { q, qd };
}

/** Largest per-state error relative to the state's largest |value| (norm-wise relative error). */
function maxRelError(a: Float64Array, b: Float64Array, n: number): number {
  let worst = 0;
  for (let o = 0; o < a.length; o += n) {
    let diff = 0;
    let size = 0;
    for (let i = o; i < o + n; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      size = Math.max(size, Math.abs(a[i]));
    }
    worst = Math.max(worst, size > 0 ? diff / size : diff);
  }
  return worst;
}

const cases: [string, System, number][] = [
  ['simple-pendulum', createSystem('simple-pendulum', { m: 0.7, l: 1.3, g: 9.81 }), 64],
  ['double-pendulum (paper)', createSystem('double-pendulum'), 256],
  [
    'double-pendulum (asymmetric)',
    createSystem('double-pendulum', { m1: 1.7, m2: 0.4, l1: 0.6, l2: 1.9 }),
    256,
  ],
  ['chain N=1', createSystem('chain', { links: 1 }), 64],
  ['chain N=2', createSystem('chain', { links: 2, m: 0.8, l: 1.2 }), 64],
  ['chain N=5', createSystem('chain', { links: 5 }), 32],
  ['chain N=64', createSystem('chain', { links: 64 }), 2],
  ['string N=1', createSystem('string', { nodes: 1 }), 16],
  ['string N=16', createSystem('string'), 16],
  [
    'string N=33, ρ=2.5, τ=0.3',
    createSystem('string', { nodes: 33, density: 2.5, tension: 0.3, spacing: 0.05 }),
    8,
  ],
  ['relativistic-particle', createSystem('relativistic-particle', { g: 1.7 }), 64],
  ['newtonian-particle', createSystem('newtonian-particle', { g: -2 }), 16],
];

describe('EulerLagrangeSolver equals every closed form', () => {
  for (const [label, system, batch] of cases) {
    it(`${label}: q̈, energy, momentum and L`, () => {
      const n = system.dof;
      const { q, qd } = sampleBatch(system, batch, 7);
      const exact = new Float64Array(batch * n);
      const viaJets = new Float64Array(batch * n);
      system.accelerations(q, qd, exact, batch);
      const solver = new EulerLagrangeSolver((o, a, b) => system.L(o, a, b), n);
      solver.accelerations(q, qd, viaJets, batch);
      expect(maxRelError(exact, viaJets, n), `${label}: q̈ closed form vs jets`).toBeLessThan(1e-10);

      const p1 = new Float64Array(n);
      const p2 = new Float64Array(n);
      for (let b = 0; b < batch; b++) {
        const qs = q.subarray(b * n, (b + 1) * n);
        const qds = qd.subarray(b * n, (b + 1) * n);
        const e1 = system.energy(qs, qds);
        const e2 = solver.energy(qs, qds);
        expect(Math.abs(e1 - e2), `${label}: energy of state ${b}`).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(e1)),
        );
        system.momentum(qs, qds, p1);
        solver.momentum(qs, qds, p2);
        expect(maxRelError(p1, p2, n), `${label}: momentum of state ${b}`).toBeLessThan(1e-12);
        const L1 = system.lagrangian(qs, qds);
        const L2 = system.L(numberOps, Array.from(qs), Array.from(qds));
        expect(Math.abs(L1 - L2), `${label}: lagrangian() vs L(numberOps)`).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(L1)),
        );
      }
    });
  }

  it('chain with 2 links is the double pendulum', () => {
    const dp = new DoublePendulum({ m1: 0.9, m2: 0.9, l1: 1.1, l2: 1.1, g: 3.7 });
    const chain = new Chain({ links: 2, m: 0.9, l: 1.1, g: 3.7 });
    const batch = 128;
    const { q, qd } = sampleBatch(dp, batch, 3);
    const a = new Float64Array(2 * batch);
    const b = new Float64Array(2 * batch);
    dp.accelerations(q, qd, a, batch);
    chain.accelerations(q, qd, b, batch);
    expect(maxRelError(a, b, 2), 'q̈').toBeLessThan(1e-12);
    expect(chain.energyScale, 'energy scale').toBeCloseTo(dp.energyScale, 12);
    const pa = new Float64Array(9);
    const pb = new Float64Array(9);
    dp.positions(q, pa);
    chain.positions(q, pb);
    expect(maxRelError(pa, pb, 9), 'positions').toBeLessThan(1e-14);
    expect(Math.abs(dp.energy(q, qd) - chain.energy(q, qd)), 'energy').toBeLessThan(1e-12);
  });
});

describe('JetOps derivatives', () => {
  // A function touching every operation, with q̇ inside nonlinear terms so every Hessian block is exercised.
  const f: Lagrangian = <T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T => {
    const a = o.mul(o.sin(q[0]), o.mul(qd[0], qd[1]));
    const b = o.div(o.exp(o.scale(qd[1], 0.3)), o.add(o.c(2), o.cos(o.sub(q[1], qd[0]))));
    const c = o.mul(o.pow(o.add(o.mul(qd[0], qd[0]), o.c(1.5)), -0.5), o.log(o.add(o.c(3), q[0])));
    const d = o.tanh(o.mul(o.sqrt(o.add(o.c(2), o.mul(q[1], qd[1]))), o.neg(qd[0])));
    const e = o.div(o.c(1), o.add(o.c(3), o.mul(q[0], q[1])));
    const g = o.pow(o.add(o.c(2), qd[1]), 3);
    return o.add(o.add(o.sub(a, b), o.add(c, d)), o.add(e, o.mul(o.c(0.1), g)));
  };
  const x0 = [0.3, -0.7, 0.4, 0.9]; // q0, q1, q̇0, q̇1
  const F = (x: number[]) => f(numberOps, [x[0], x[1]], [x[2], x[3]]);

  it('value, gradient and q̇ Hessian rows match central differences', () => {
    const ops = new JetOps(2);
    const v = ops.variables(x0.slice(0, 2), x0.slice(2));
    const J = f(ops, v.q, v.qd);
    expect(J.v, 'value').toBeCloseTo(F(x0), 14);
    const h = 1e-5;
    for (let j = 0; j < 4; j++) {
      const xp = x0.slice();
      const xm = x0.slice();
      xp[j] += h;
      xm[j] -= h;
      const fd = (F(xp) - F(xm)) / (2 * h);
      expect(Math.abs(J.g[j] - fd), `gradient ${j}`).toBeLessThan(1e-8);
    }
    const h2 = 1e-4;
    for (let r = 0; r < 2; r++) {
      for (let j = 0; j < 4; j++) {
        const at = (dr: number, dj: number) => {
          const x = x0.slice();
          x[2 + r] += dr;
          x[j] += dj;
          return F(x);
        };
        const fd = (at(h2, h2) - at(h2, -h2) - at(-h2, h2) + at(-h2, -h2)) / (4 * h2 * h2);
        expect(Math.abs(J.h![r * 4 + j] - fd), `∂²/∂q̇${r}∂x${j}`).toBeLessThan(1e-6);
      }
    }
    expect(J.h![0 * 4 + 3], 'H_vv symmetric').toBeCloseTo(J.h![1 * 4 + 2], 14);
  });

  it('reuses its pool: a second evaluation allocates no new jets and gives the same result', () => {
    const ops = new JetOps(2);
    const v1 = ops.variables(x0.slice(0, 2), x0.slice(2));
    const first = f(ops, v1.q, v1.qd).g.slice();
    const used = ops.used;
    const v2 = ops.variables(x0.slice(0, 2), x0.slice(2));
    const second = f(ops, v2.q, v2.qd);
    expect(ops.used, 'jets per evaluation').toBe(used);
    expect(Array.from(second.g), 'same gradient').toEqual(Array.from(first));
  });
});

describe('EulerLagrangeSolver on degenerate Lagrangians', () => {
  it('an indefinite but regular ∂²L/∂q̇² is solved by pivoted elimination', () => {
    // L = q̇0 q̇1 − ½ q0² − ½ q1²: q̈1 = −q0, q̈0 = −q1.
    const solver = new EulerLagrangeSolver(
      (o, q, qd) => o.sub(o.mul(qd[0], qd[1]), o.scale(o.add(o.mul(q[0], q[0]), o.mul(q[1], q[1])), 0.5)),
      2,
    );
    const qdd = new Float64Array(2);
    solver.accelerations(Float64Array.of(0.3, -0.8), Float64Array.of(1, 2), qdd, 1);
    expect(qdd[0], 'q̈0').toBeCloseTo(0.8, 14);
    expect(qdd[1], 'q̈1').toBeCloseTo(-0.3, 14);
  });

  it('a singular ∂²L/∂q̇² throws a clear error instead of NaN', () => {
    const solver = new EulerLagrangeSolver((o, q, qd) => {
      const s = o.add(qd[0], qd[1]);
      return o.sub(o.mul(s, s), o.mul(q[0], q[0]));
    }, 2);
    const qdd = new Float64Array(2);
    expect(() => solver.accelerations(Float64Array.of(0.1, 0.2), Float64Array.of(0, 0), qdd, 1)).toThrow(
      /singular/,
    );
  });

  it('a Lagrangian without q̇ throws', () => {
    const solver = new EulerLagrangeSolver((o, q) => o.cos(q[0]), 1);
    expect(() =>
      solver.accelerations(Float64Array.of(0.1), Float64Array.of(0), new Float64Array(1), 1),
    ).toThrow(/does not depend on q̇/);
  });

  it('a state outside the domain of L throws (relativistic particle at |q̇| > 1)', () => {
    const sys = createSystem('relativistic-particle');
    const solver = new EulerLagrangeSolver((o, q, qd) => sys.L(o, q, qd), 1);
    expect(() =>
      solver.accelerations(Float64Array.of(0), Float64Array.of(1.2), new Float64Array(1), 1),
    ).toThrow(/outside the domain/);
  });
});

describe('relativistic particle', () => {
  it('q̈ = g (1 − q̇²)^(5/2) / (1 + 2q̇²) by differentiating p = q̇ (1 − q̇²)^(−3/2) in time', () => {
    const sys = createSystem('relativistic-particle', { g: 0.6 });
    const rng = createRng(11);
    const qdd = new Float64Array(1);
    for (let k = 0; k < 20; k++) {
      const v = uniform(rng, -0.95, 0.95);
      sys.accelerations(Float64Array.of(0), Float64Array.of(v), qdd, 1);
      // dp/dt = (dp/dq̇) q̈ must equal the force g.
      const dpdv = (1 + 2 * v * v) * (1 - v * v) ** -2.5;
      expect(dpdv * qdd[0], `dp/dt at q̇ = ${v}`).toBeCloseTo(0.6, 12);
    }
    expect(() => sys.accelerations(Float64Array.of(0), Float64Array.of(1), qdd, 1)).toThrow(/≥ 1/);
  });
});

describe('defineSystem', () => {
  it('the documented spring works: q̈ = −(k/m) q, E = ½ m q̇² + ½ k q²', () => {
    const spring = defineSystem({
      id: 'spring',
      dof: 1,
      params: { m: 1, k: 4 },
      L: (o, q, qd, p) =>
        o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5 * p.m), o.scale(o.mul(q[0], q[0]), 0.5 * p.k)),
    });
    const qdd = new Float64Array(1);
    spring.accelerations(Float64Array.of(0.5), Float64Array.of(0), qdd, 1);
    expect(qdd[0], 'q̈').toBeCloseTo(-2, 14);
    expect(spring.energy([0.5], [2]), 'energy').toBeCloseTo(0.5 * 4 + 0.5 * 4 * 0.25, 14);
    const heavy = spring.withParams({ m: 2 });
    heavy.accelerations(Float64Array.of(0.5), Float64Array.of(0), qdd, 1);
    expect(qdd[0], 'q̈ with m = 2').toBeCloseTo(-1, 14);
    expect(spring.params.m, 'original unchanged').toBe(1);
    expect(() => spring.withParams({ mass: 2 }), 'unknown key').toThrow(/unknown parameter 'mass'.*m, k/);
    const p = new Float64Array(1);
    spring.momentum([0], [3], p);
    expect(p[0], 'momentum').toBe(3);
  });

  it('a parametric dof (a chain written in a few lines) matches the closed-form chain', () => {
    const chain = defineSystem({
      id: 'my-chain',
      dof: (p) => p.links,
      params: [{ name: 'links', default: 4, doc: 'links', integer: true, min: 1 }],
      angles: (p) => Array.from({ length: p.links }, () => true),
      L: (o, q, qd, p) => {
        let vx = o.c(0);
        let vy = o.c(0);
        let L = o.c(0);
        for (let i = 0; i < p.links; i++) {
          vx = o.add(vx, o.mul(o.cos(q[i]), qd[i]));
          vy = o.add(vy, o.mul(o.sin(q[i]), qd[i]));
          L = o.add(
            L,
            o.add(
              o.scale(o.add(o.mul(vx, vx), o.mul(vy, vy)), 0.5),
              o.scale(o.cos(q[i]), 9.8 * (p.links - i)),
            ),
          );
        }
        return L;
      },
    });
    expect(chain.dof, 'dof').toBe(4);
    expect(() => chain.withParams({ links: 0 }), 'links = 0').toThrow(/links/);
    const ref = new Chain({ links: 4 });
    const { q, qd } = sampleBatch(ref, 16, 5);
    const a = new Float64Array(64);
    const b = new Float64Array(64);
    ref.accelerations(q, qd, a, 16);
    chain.accelerations(q, qd, b, 16);
    expect(maxRelError(a, b, 4), 'q̈').toBeLessThan(1e-10);
  });

  it('rejects a malformed definition with a clear message', () => {
    // @ts-expect-error L missing on purpose
    expect(() => defineSystem({ id: 'x', dof: 1 })).toThrow(/L` must be a function/);
    expect(() => defineSystem({ id: 'x', dof: 0, L: (o) => o.c(0) })).toThrow(
      /dof must be a positive integer/,
    );
    expect(() => defineSystem({ id: 'x', dof: 2, angles: [true], L: (o) => o.c(0) })).toThrow(/angles has 1/);
  });
});
