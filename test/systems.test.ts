import { describe, expect, it } from 'vitest';
import type { System } from '../src/core/types';
import { createRng } from '../src/math/random';
import { Chain } from '../src/systems/Chain';
import { DoublePendulum } from '../src/systems/DoublePendulum';
import { createSystem, listSystems } from '../src/systems/registry';

const ids = [
  'simple-pendulum',
  'double-pendulum',
  'chain',
  'string',
  'relativistic-particle',
  'newtonian-particle',
  'spherical-pendulum',
  'double-spherical-pendulum',
  'string-3d',
  'membrane',
];

describe('system registry', () => {
  it('lists every system with its parameters and defaults', () => {
    const list = listSystems();
    expect(
      list.map((s) => s.id),
      'ids',
    ).toEqual(ids);
    const dp = list.find((s) => s.id === 'double-pendulum')!;
    expect(dp.dof, 'double pendulum dof').toBe(2);
    expect(Object.fromEntries(dp.params.map((p) => [p.name, p.default])), 'paper defaults').toEqual({
      m1: 1,
      m2: 1,
      l1: 1,
      l2: 1,
      g: 9.8,
    });
    expect(list.find((s) => s.id === 'chain')!.dof, 'chain dof depends on links').toBe('links');
    for (const info of list)
      for (const p of info.params) expect(p.doc.length, `${info.id}.${p.name} doc`).toBeGreaterThan(0);
  });

  it('unknown ids and parameters are rejected with the valid choices', () => {
    expect(() => createSystem('tripple-pendulum'), 'unknown id').toThrow(
      /Unknown system 'tripple-pendulum'.*double-pendulum/,
    );
    expect(() => createSystem('double-pendulum', { mass: 2 }), 'unknown key').toThrow(
      /unknown parameter 'mass'.*m1, m2, l1, l2, g/,
    );
  });

  it('invalid values are rejected', () => {
    const bad: [string, Record<string, number>, RegExp][] = [
      ['chain', { links: 0 }, /links/],
      ['chain', { links: 2.5 }, /integer/],
      ['chain', { links: 100000 }, /≤ 256/],
      ['chain', { m: -1 }, /'m'.*> 0/],
      ['double-pendulum', { l1: 0 }, /'l1'/],
      ['double-pendulum', { g: Number.NaN }, /'g'.*finite/],
      ['string', { nodes: 0 }, /nodes/],
      ['string', { spacing: -0.1 }, /spacing/],
      ['string', { density: 0 }, /density/],
      ['simple-pendulum', { m: Number.POSITIVE_INFINITY }, /'m'/],
    ];
    for (const [id, params, message] of bad) {
      expect(() => createSystem(id, params), `${id} ${JSON.stringify(params)}`).toThrow(message);
    }
  });

  it('withParams returns a new system and leaves the original unchanged', () => {
    const a = createSystem('chain');
    const b = a.withParams({ links: 7 });
    expect(a.dof, 'original dof').toBe(3);
    expect(b.dof, 'new dof').toBe(7);
    expect(b.params.m, 'other params kept').toBe(1);
    expect(() => a.withParams({ nodes: 3 }), 'key of another system').toThrow(/unknown parameter 'nodes'/);
  });
});

describe('every system is consistent', () => {
  const systems: System[] = [
    ...ids.map((id) => createSystem(id)),
    createSystem('chain', { links: 1 }),
    createSystem('chain', { links: 64 }),
    createSystem('string', { nodes: 1 }),
  ];
  for (const sys of systems) {
    it(`${sys.id} (dof ${sys.dof}): shapes, sampler, E = q̇·p − L, batching`, () => {
      const n = sys.dof;
      expect(sys.angles.length, 'angles').toBe(n);
      for (const [i, j] of sys.segments) {
        expect(i >= 0 && j >= 0 && i < sys.pointCount && j < sys.pointCount, `segment ${i}-${j}`).toBe(true);
      }
      expect(sys.energyScale > 0 && Number.isFinite(sys.energyScale), 'energy scale').toBe(true);

      const batch = 8;
      const q = new Float64Array(batch * n);
      const qd = new Float64Array(batch * n);
      const rng = createRng(1);
      for (let b = 0; b < batch; b++) sys.sample(rng, q.subarray(b * n), qd.subarray(b * n));
      const again = new Float64Array(n);
      sys.sample(createRng(1), again, new Float64Array(n));
      expect(Array.from(again), 'sampler is deterministic for a seed').toEqual(Array.from(q.subarray(0, n)));
      for (const v of [...q, ...qd]) expect(Number.isFinite(v), 'finite sample').toBe(true);

      const p = new Float64Array(n);
      const pts = new Float64Array(sys.pointCount * 3);
      for (let b = 0; b < batch; b++) {
        const qs = q.subarray(b * n, (b + 1) * n);
        const qds = qd.subarray(b * n, (b + 1) * n);
        sys.momentum(qs, qds, p);
        let e = -sys.lagrangian(qs, qds);
        for (let i = 0; i < n; i++) e += qds[i] * p[i];
        expect(Math.abs(sys.energy(qs, qds) - e), `E = q̇·p − L, state ${b}`).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(e)),
        );
        pts.fill(Number.NaN);
        sys.positions(qs, pts);
        for (const v of pts) expect(Number.isFinite(v), 'every position written').toBe(true);
      }

      // A batch equals state-by-state evaluation (no cross-talk between rows).
      const all = new Float64Array(batch * n);
      sys.accelerations(q, qd, all, batch);
      const one = new Float64Array(n);
      for (let b = 0; b < batch; b++) {
        sys.accelerations(q.slice(b * n, (b + 1) * n), qd.slice(b * n, (b + 1) * n), one, 1);
        expect(Array.from(all.subarray(b * n, (b + 1) * n)), `state ${b}`).toEqual(Array.from(one));
      }
    });
  }
});

describe('specific systems', () => {
  it('double pendulum: paper defaults, energy scale 29.4, rod lengths in positions', () => {
    const dp = new DoublePendulum();
    expect(dp.energyScale, 'energy scale').toBeCloseTo(29.4, 12);
    expect(dp.energy([0, 0], [0, 0]), 'energy at rest at the bottom').toBeCloseTo(-29.4, 12);
    const pts = new Float64Array(9);
    dp.withParams({ l1: 2, l2: 0.5 }).positions([0.7, -1.9], pts);
    expect(Math.hypot(pts[3], pts[4]), 'upper rod').toBeCloseTo(2, 14);
    expect(Math.hypot(pts[6] - pts[3], pts[7] - pts[4]), 'lower rod').toBeCloseTo(0.5, 14);
    expect(pts[4], 'hangs below the pivot at θ = 0.7').toBeLessThan(0);
    const rng = createRng(4);
    const q = new Float64Array(2);
    const qd = new Float64Array(2);
    for (let k = 0; k < 200; k++) {
      dp.sample(rng, q, qd);
      expect(q[0] >= 0 && q[0] < 2 * Math.PI && q[1] >= 0 && q[1] < 2 * Math.PI, 'θ in [0, 2π)').toBe(true);
      expect(Math.abs(qd[0]) <= 10 && Math.abs(qd[1]) <= 10, 'ω in [−10, 10)').toBe(true);
    }
  });

  it('simple pendulum: small oscillations at ω² = g/l', () => {
    const p = createSystem('simple-pendulum', { l: 2, g: 9.8 });
    const qdd = new Float64Array(1);
    p.accelerations(Float64Array.of(1e-6), Float64Array.of(0), qdd, 1);
    expect(qdd[0] / 1e-6, 'q̈/θ').toBeCloseTo(-4.9, 8);
  });

  it('chain: links hang straight down at rest and the bottom bob is N·l below the pivot', () => {
    const c = new Chain({ links: 10, l: 0.3 });
    const pts = new Float64Array(c.pointCount * 3);
    c.positions(new Float64Array(10), pts);
    expect(pts[3 * 10 + 1], 'bottom bob').toBeCloseTo(-3, 12);
    const qdd = new Float64Array(10);
    c.accelerations(new Float64Array(10), new Float64Array(10), qdd, 1);
    expect(Math.max(...qdd.map(Math.abs)), 'equilibrium').toBe(0);
  });

  it('relativistic and Newtonian particles agree at small speed and the sampler stays below c', () => {
    const rel = createSystem('relativistic-particle', { g: 2 });
    const newt = createSystem('newtonian-particle', { g: 2 });
    const a = new Float64Array(1);
    const b = new Float64Array(1);
    rel.accelerations(Float64Array.of(0), Float64Array.of(1e-4), a, 1);
    newt.accelerations(Float64Array.of(0), Float64Array.of(1e-4), b, 1);
    expect(a[0], 'small-speed limit').toBeCloseTo(b[0], 6);
    const rng = createRng(2);
    const q = new Float64Array(1);
    const qd = new Float64Array(1);
    for (let k = 0; k < 500; k++) {
      rel.sample(rng, q, qd);
      expect(Math.abs(qd[0]), '|q̇| < 1').toBeLessThan(1);
    }
  });

  it('string: points include both fixed ends', () => {
    const s = createSystem('string', { nodes: 3, spacing: 0.5 });
    const pts = new Float64Array(s.pointCount * 3);
    s.positions([1, 2, 3], pts);
    expect(Array.from(pts), 'points').toEqual([0, 0, 0, 0.5, 1, 0, 1, 2, 0, 1.5, 3, 0, 2, 0, 0]);
  });
});
