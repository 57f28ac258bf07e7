import { describe, expect, it } from 'vitest';
import type { AccelerationFn, System } from '../src/core/types';
import { createIntegrator } from '../src/integrators/registry';
import { EulerLagrangeSolver } from '../src/lagrangian/EulerLagrangeSolver';
import { symmetricEigenvalues } from '../src/linalg/symmetricEigenvalues';
import { createRng, uniform } from '../src/math/random';
import { createSystem, listSystems } from '../src/systems/registry';
import { SPHERICAL_MIN_COS } from '../src/systems/SphericalPendulum';
import type { String3D } from '../src/systems/String3D';
import { stringModeFrequencies } from '../src/systems/stringModeFrequencies';

/** The app's default step (app/Simulation.ts). */
const APP_DT = 1 / 120;

type V3 = [number, number, number];

const dot = (a: V3, b: V3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const axpy = (k: number, a: V3, b: V3): V3 => [k * a[0] + b[0], k * a[1] + b[1], k * a[2] + b[2]];

/**
 * The chart as the docs state it: a rod of length l at angles (α, β) points along
 * (cos α sin β, −cos α cos β, sin α); returns the rod vector and its velocity.
 */
function rod(l: number, a: number, b: number, wa: number, wb: number): { r: V3; v: V3 } {
  const [sa, ca, sb, cb] = [Math.sin(a), Math.cos(a), Math.sin(b), Math.cos(b)];
  return {
    r: [l * ca * sb, -l * ca * cb, l * sa],
    v: [l * (-sa * sb * wa + ca * cb * wb), l * (sa * cb * wa + ca * sb * wb), l * ca * wa],
  };
}

/**
 * Second derivatives of the chart angles α = asin(z/l), β = atan2(x, −y) of a rod with Cartesian vector r,
 * velocity v and acceleration a: the inverse chart differentiated twice, no mass matrix involved.
 */
function angleAccelerations(r: V3, v: V3, a: V3, l: number): [number, number] {
  const s = r[2] / l;
  const sd = v[2] / l;
  const sdd = a[2] / l;
  const c2 = 1 - s * s;
  const alpha = sdd / Math.sqrt(c2) + (s * sd * sd) / c2 ** 1.5;
  const [x, w, xd, wd, xdd, wdd] = [r[0], -r[1], v[0], -v[1], a[0], -a[1]];
  const rho2 = x * x + w * w;
  const num = xd * w - x * wd;
  const beta = (xdd * w - x * wdd) / rho2 - (2 * num * (x * xd + w * wd)) / (rho2 * rho2);
  return [alpha, beta];
}

/**
 * Newtonian reference of the spherical pendulum: the bob under gravity and the rod's tension,
 * a = G − λ r with λ from the constraint's second derivative r·a + |v|² = 0.
 */
function sphericalReference(p: { l: number; g: number }): AccelerationFn {
  const G: V3 = [0, -p.g, 0];
  return (q, qd, qdd, batch) => {
    for (let i = 0; i < 2 * batch; i += 2) {
      const { r, v } = rod(p.l, q[i], q[i + 1], qd[i], qd[i + 1]);
      const lambda = (dot(r, G) + dot(v, v)) / (p.l * p.l);
      const [aa, ab] = angleAccelerations(r, v, axpy(-lambda, r, G), p.l);
      qdd[i] = aa;
      qdd[i + 1] = ab;
    }
  };
}

/**
 * Newtonian reference of the double spherical pendulum: bob accelerations with rod tensions λ1, λ2
 * (per unit length) from the two constraints' second derivatives, a 2×2 linear system:
 *   m1 a1 = m1 G − λ1 r1 + λ2 d,  m2 a2 = m2 G − λ2 d,  d = r2 − r1.
 */
function doubleSphericalReference(p: {
  m1: number;
  m2: number;
  l1: number;
  l2: number;
  g: number;
}): AccelerationFn {
  const G: V3 = [0, -p.g, 0];
  return (q, qd, qdd, batch) => {
    for (let o = 0; o < 4 * batch; o += 4) {
      const { r: r1, v: v1 } = rod(p.l1, q[o], q[o + 1], qd[o], qd[o + 1]);
      const { r: d, v: vd } = rod(p.l2, q[o + 2], q[o + 3], qd[o + 2], qd[o + 3]);
      // r1·a1 + |v1|² = 0 and d·(a2 − a1) + |vd|² = 0 with a1, a2 − a1 linear in λ1, λ2.
      const a11 = -(p.l1 * p.l1) / p.m1;
      const a12 = dot(r1, d) / p.m1;
      const b1 = -dot(r1, G) - dot(v1, v1);
      const a21 = dot(d, r1) / p.m1;
      const a22 = -(1 / p.m1 + 1 / p.m2) * p.l2 * p.l2;
      const b2 = -dot(vd, vd);
      const det = a11 * a22 - a12 * a21;
      const l1 = (b1 * a22 - a12 * b2) / det;
      const l2 = (a11 * b2 - a21 * b1) / det;
      const acc1 = axpy(l2 / p.m1, d, axpy(-l1 / p.m1, r1, G));
      const accD = sub(axpy(l1 / p.m1, r1, [0, 0, 0]), axpy(l2 * (1 / p.m1 + 1 / p.m2), d, [0, 0, 0]));
      const [x1, y1] = angleAccelerations(r1, v1, acc1, p.l1);
      const [x2, y2] = angleAccelerations(d, vd, accD, p.l2);
      qdd[o] = x1;
      qdd[o + 1] = y1;
      qdd[o + 2] = x2;
      qdd[o + 3] = y2;
    }
  };
}

/** Classic RK4, written here so the reference trajectories share no code with the library. */
function referenceRk4(f: AccelerationFn, q: Float64Array, qd: Float64Array, h: number, steps: number): void {
  const n = q.length;
  const k = Array.from({ length: 8 }, () => new Float64Array(n));
  const qs = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let s = 0; s < steps; s++) {
    // k[2i] = q̇ slope, k[2i+1] = q̈ slope of stage i.
    for (let st = 0; st < 4; st++) {
      const c = st === 0 ? 0 : st === 3 ? h : h / 2;
      for (let i = 0; i < n; i++) {
        qs[i] = st === 0 ? q[i] : q[i] + c * k[2 * st - 2][i];
        vs[i] = st === 0 ? qd[i] : qd[i] + c * k[2 * st - 1][i];
      }
      k[2 * st].set(vs);
      f(qs, vs, k[2 * st + 1], 1);
    }
    for (let i = 0; i < n; i++) {
      q[i] += (h / 6) * (k[0][i] + 2 * k[2][i] + 2 * k[4][i] + k[6][i]);
      qd[i] += (h / 6) * (k[1][i] + 2 * k[3][i] + 2 * k[5][i] + k[7][i]);
    }
  }
}

/** The library's RK4 on the system's closed form, `steps` steps of `dt`; calls `each` after every step. */
function libraryRk4(
  sys: System,
  q: Float64Array,
  qd: Float64Array,
  dt: number,
  steps: number,
  each?: (q: Float64Array, qd: Float64Array) => void,
): void {
  const rk4 = createIntegrator('rk4');
  const f: AccelerationFn = (a, b, c, batch) => sys.accelerations(a, b, c, batch);
  for (let s = 0; s < steps; s++) {
    rk4.step(f, q, qd, sys.dof, 1, dt);
    each?.(q, qd);
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function maxPointDistance(sys: System, qa: Float64Array, qb: Float64Array): number {
  const pa = new Float64Array(sys.pointCount * 3);
  const pb = new Float64Array(sys.pointCount * 3);
  sys.positions(qa, pa);
  sys.positions(qb, pb);
  let m = 0;
  for (let i = 0; i < sys.pointCount; i++) {
    m = Math.max(
      m,
      Math.hypot(pa[3 * i] - pb[3 * i], pa[3 * i + 1] - pb[3 * i + 1], pa[3 * i + 2] - pb[3 * i + 2]),
    );
  }
  return m;
}

/** States: half from the sampler, half from a wider box (|α| ≤ 1.4, any β, |q̇| ≤ 5), all finite. */
function states(sys: System, count: number, seed: number): { q: Float64Array; qd: Float64Array } {
  const n = sys.dof;
  const rng = createRng(seed);
  const q = new Float64Array(count * n);
  const qd = new Float64Array(count * n);
  for (let b = 0; b < count; b++) {
    const qs = q.subarray(b * n, (b + 1) * n);
    const qds = qd.subarray(b * n, (b + 1) * n);
    if (b % 2 === 0) sys.sample(rng, qs, qds);
    else {
      for (let i = 0; i < n; i += 2) {
        qs[i] = uniform(rng, -1.4, 1.4);
        qs[i + 1] = uniform(rng, -Math.PI, Math.PI);
        qds[i] = uniform(rng, -5, 5);
        qds[i + 1] = uniform(rng, -5, 5);
      }
    }
  }
  return { q, qd };
}

const pendulums: { id: string; params: Record<string, number>; reference: (p: never) => AccelerationFn }[] = [
  { id: 'spherical-pendulum', params: {}, reference: sphericalReference },
  { id: 'spherical-pendulum', params: { m: 0.3, l: 1.7, g: 3.2 }, reference: sphericalReference },
  { id: 'double-spherical-pendulum', params: {}, reference: doubleSphericalReference },
  {
    id: 'double-spherical-pendulum',
    params: { m1: 2, m2: 0.5, l1: 0.7, l2: 1.3, g: 9.81 },
    reference: doubleSphericalReference,
  },
];

describe('3D systems: registry and System contract', () => {
  it('the registry lists the three 3D systems with documented parameters', () => {
    const list = listSystems();
    for (const id of ['spherical-pendulum', 'double-spherical-pendulum', 'string-3d']) {
      const info = list.find((s) => s.id === id);
      expect(info, `${id} registered`).toBeDefined();
      for (const p of info!.params) expect(p.doc.length, `${id}.${p.name} doc`).toBeGreaterThan(0);
    }
    expect(createSystem('string-3d', { nodes: 5 }).dof, 'string-3d dof = 2 × nodes').toBe(10);
    expect(() => createSystem('string-3d', { nodes: 0 }), 'nodes ≥ 1').toThrow(/string-3d.*'nodes'/);
    expect(() => createSystem('spherical-pendulum', { l: 0 }), 'l > 0').toThrow(/spherical-pendulum.*'l'/);
    expect(() => createSystem('double-spherical-pendulum', { mass: 1 }), 'unknown key').toThrow(
      /unknown parameter 'mass'.*m1, m2, l1, l2, g/,
    );
  });

  const systems: System[] = [
    createSystem('spherical-pendulum'),
    createSystem('double-spherical-pendulum', { l1: 1.2, l2: 0.7 }),
    createSystem('string-3d'),
    createSystem('string-3d', { nodes: 1 }),
  ];
  for (const sys of systems) {
    it(`${sys.id} (dof ${sys.dof}): E = q̇·p − L, batching, deterministic sampler, exact point Jacobian`, () => {
      const n = sys.dof;
      expect(sys.angles.length, 'angles').toBe(n);
      for (const [i, j] of sys.segments) {
        expect(i >= 0 && j >= 0 && i < sys.pointCount && j < sys.pointCount, `segment ${i}-${j}`).toBe(true);
      }
      const batch = 8;
      const { q, qd } = states(sys, batch, 7);
      const again = new Float64Array(n);
      sys.sample(createRng(7), again, new Float64Array(n));
      expect(Array.from(again), 'sampler is deterministic for a seed').toEqual(Array.from(q.subarray(0, n)));
      const p = new Float64Array(n);
      const J = new Float64Array(3 * n);
      const p1 = new Float64Array(sys.pointCount * 3);
      const p0 = new Float64Array(sys.pointCount * 3);
      for (let b = 0; b < batch; b++) {
        const qs = q.slice(b * n, (b + 1) * n);
        const qds = qd.slice(b * n, (b + 1) * n);
        sys.momentum(qs, qds, p);
        let e = -sys.lagrangian(qs, qds);
        for (let i = 0; i < n; i++) e += qds[i] * p[i];
        expect(Math.abs(sys.energy(qs, qds) - e), `E = q̇·p − L, state ${b}`).toBeLessThan(
          1e-12 * Math.max(1, Math.abs(e)),
        );
        for (let point = 0; point < sys.pointCount; point++) {
          sys.pointJacobian!(qs, point, J);
          for (let j = 0; j < n; j++) {
            const eps = 1e-6;
            const qp = Float64Array.from(qs);
            const qm = Float64Array.from(qs);
            qp[j] += eps;
            qm[j] -= eps;
            sys.positions(qp, p1);
            sys.positions(qm, p0);
            for (let r = 0; r < 3; r++) {
              const fd = (p1[3 * point + r] - p0[3 * point + r]) / (2 * eps);
              expect(Math.abs(J[r * n + j] - fd), `∂x[${point}].${'xyz'[r]}/∂q${j}`).toBeLessThan(1e-8);
            }
          }
        }
      }
      const all = new Float64Array(batch * n);
      sys.accelerations(q, qd, all, batch);
      const one = new Float64Array(n);
      for (let b = 0; b < batch; b++) {
        sys.accelerations(q.slice(b * n, (b + 1) * n), qd.slice(b * n, (b + 1) * n), one, 1);
        expect(Array.from(all.subarray(b * n, (b + 1) * n)), `batch row ${b}`).toEqual(Array.from(one));
      }
    });
  }

  it('the pendulums draw the chart the docs state: bob at l(cos α sin β, −cos α cos β, sin α), planar at α = 0', () => {
    const sp = createSystem('spherical-pendulum', { l: 1.5 });
    const pts = new Float64Array(6);
    sp.positions([0.3, -0.8], pts);
    const { r } = rod(1.5, 0.3, -0.8, 0, 0);
    expect(Array.from(pts), 'pivot then bob').toEqual([0, 0, 0, ...r]);
    // α = 0 (and α1 = α2 = 0) reduce to the planar pendulums with θ = β.
    const planar = new Float64Array(9);
    const spatial = new Float64Array(9);
    createSystem('double-pendulum').positions([0.7, -1.9], planar);
    createSystem('double-spherical-pendulum').positions([0, 0.7, 0, -1.9], spatial);
    for (let i = 0; i < 9; i++) expect(spatial[i], `point coordinate ${i}`).toBeCloseTo(planar[i], 15);
    const a = new Float64Array(2);
    const b = new Float64Array(4);
    createSystem('double-pendulum').accelerations(
      Float64Array.of(0.7, -1.9),
      Float64Array.of(1.1, -2.3),
      a,
      1,
    );
    createSystem('double-spherical-pendulum').accelerations(
      Float64Array.of(0, 0.7, 0, -1.9),
      Float64Array.of(0, 1.1, 0, -2.3),
      b,
      1,
    );
    expect(Math.abs(b[0]) + Math.abs(b[2]), 'planar motion stays planar').toBeLessThan(1e-13);
    expect(b[1], 'θ̈1 of the planar double pendulum').toBeCloseTo(a[0], 12);
    expect(b[3], 'θ̈2 of the planar double pendulum').toBeCloseTo(a[1], 12);
  });
});

describe('pendulums: q̈ against Newtonian dynamics with constraint forces', () => {
  for (const { id, params, reference } of pendulums) {
    it(`${id} ${JSON.stringify(params)}: closed form = Cartesian reference = Euler–Lagrange on L to 1e-9 (200 states)`, () => {
      const sys = createSystem(id, params);
      const n = sys.dof;
      const batch = 200;
      const { q, qd } = states(sys, batch, 11);
      const closed = new Float64Array(batch * n);
      const ref = new Float64Array(batch * n);
      const viaL = new Float64Array(batch * n);
      sys.accelerations(q, qd, closed, batch);
      reference(sys.params as never)(q, qd, ref, batch);
      new EulerLagrangeSolver((o, a, b) => sys.L(o, a, b), n).accelerations(q, qd, viaL, batch);
      let worst = 0;
      for (let b = 0; b < batch; b++) {
        const scale = Math.max(1, maxAbs(ref.subarray(b * n, (b + 1) * n)));
        for (let i = 0; i < n; i++) {
          const k = b * n + i;
          const err = Math.abs(closed[k] - ref[k]) / scale;
          worst = Math.max(worst, err);
          expect(err, `state ${b}, q̈${i}: ${closed[k]} vs Newton ${ref[k]}`).toBeLessThan(1e-9);
          expect(Math.abs(viaL[k] - ref[k]) / scale, `state ${b}, q̈${i} via L`).toBeLessThan(1e-9);
        }
      }
      console.log(
        `[systems3d] ${id} ${JSON.stringify(params)}: max |q̈ − q̈_Newton| / max(1, |q̈|∞) = ${worst.toExponential(2)}`,
      );
    });
  }
});

describe('pendulums: trajectories and energy under RK4', () => {
  for (const { id, params, reference } of pendulums) {
    it(`${id} ${JSON.stringify(params)}: RK4 at dt = 1/120 tracks the reference (RK4 at dt/32 on the Newtonian q̈) with order 4`, () => {
      const sys = createSystem(id, params);
      const n = sys.dof;
      const ref = reference(sys.params as never);
      const duration = 2;
      const { q: q0s, qd: qd0s } = states(sys, 4, 21);
      for (let s = 0; s < 4; s += 2) {
        // Sampled states only: they stay inside the chart's well-conditioned box.
        const q0 = q0s.slice(s * n, (s + 1) * n);
        const qd0 = qd0s.slice(s * n, (s + 1) * n);
        const qr = q0.slice();
        const qdr = qd0.slice();
        referenceRk4(ref, qr, qdr, APP_DT / 32, Math.round((duration / APP_DT) * 32));
        const errs: number[] = [];
        for (const dt of [APP_DT, APP_DT / 2]) {
          const q = q0.slice();
          const qd = qd0.slice();
          libraryRk4(sys, q, qd, dt, Math.round(duration / dt));
          errs.push(maxPointDistance(sys, q, qr));
        }
        const order = Math.log2(errs[0] / errs[1]);
        console.log(
          `[systems3d] ${id} state ${s}: point error after ${duration} s, RK4 dt = 1/120: ${errs[0].toExponential(2)}, dt = 1/240: ${errs[1].toExponential(2)}, order ${order.toFixed(2)}`,
        );
        expect(errs[0], 'point error at the app dt').toBeLessThan(1e-6);
        expect(order, 'empirical order of RK4').toBeGreaterThan(3.5);
        expect(order, 'empirical order of RK4').toBeLessThan(4.7);
      }
    });

    it(`${id} ${JSON.stringify(params)}: energy drift of RK4 at dt = 1/120 over 20 s (16 sampled states)`, () => {
      const sys = createSystem(id, params);
      const n = sys.dof;
      const rng = createRng(5);
      let worst = 0;
      for (let s = 0; s < 16; s++) {
        const q = new Float64Array(n);
        const qd = new Float64Array(n);
        sys.sample(rng, q, qd);
        const e0 = sys.energy(q, qd);
        libraryRk4(sys, q, qd, APP_DT, 20 * 120, (a, b) => {
          worst = Math.max(worst, Math.abs(sys.energy(a, b) - e0) / sys.energyScale);
        });
      }
      console.log(
        `[systems3d] ${id} ${JSON.stringify(params)}: max |E(t) − E(0)| / energyScale over 20 s, RK4 dt = 1/120: ${worst.toExponential(2)}`,
      );
      expect(worst, 'relative energy drift').toBeLessThan(1e-6);
    });
  }
});

describe('spherical pendulum: closed-form motions', () => {
  const m = 0.7;
  const l = 1.5;
  const g = 9.8;
  const sp = createSystem('spherical-pendulum', { m, l, g });

  /** Chart state of a bob at Cartesian r with velocity v (the inverse chart, differentiated once). */
  function chartState(r: V3, v: V3): { q: Float64Array; qd: Float64Array } {
    const a = Math.asin(r[2] / l);
    const w = -r[1];
    return {
      q: Float64Array.of(a, Math.atan2(r[0], w)),
      qd: Float64Array.of(v[2] / (l * Math.cos(a)), (v[0] * w + r[0] * v[1]) / (r[0] * r[0] + w * w)),
    };
  }

  for (const cone of [0.3, 0.8, 1.2]) {
    it(`conical pendulum at cone angle ${cone}: steady precession at Ω² = g/(l cos α), constant height`, () => {
      const omega = Math.sqrt(g / (l * Math.cos(cone)));
      const psi0 = 0.4;
      const rho = l * Math.sin(cone);
      const at = (psi: number): V3 => [rho * Math.cos(psi), -l * Math.cos(cone), rho * Math.sin(psi)];
      const { q, qd } = chartState(at(psi0), [
        -omega * rho * Math.sin(psi0),
        0,
        omega * rho * Math.cos(psi0),
      ]);
      const period = (2 * Math.PI) / omega;
      const steps = 4000;
      const pts = new Float64Array(6);
      let heightErr = 0;
      let radiusErr = 0;
      let step = 0;
      let quarterErr = 0;
      libraryRk4(sp, q, qd, period / steps, steps, (qs) => {
        step++;
        sp.positions(qs, pts);
        heightErr = Math.max(heightErr, Math.abs(pts[4] + l * Math.cos(cone)));
        radiusErr = Math.max(radiusErr, Math.abs(Math.hypot(pts[3], pts[5]) - rho));
        if (step === steps / 4) {
          const want = at(psi0 + Math.PI / 2);
          quarterErr = Math.hypot(pts[3] - want[0], pts[4] - want[1], pts[5] - want[2]);
        }
      });
      sp.positions(q, pts);
      const back = at(psi0);
      const endErr = Math.hypot(pts[3] - back[0], pts[4] - back[1], pts[5] - back[2]);
      expect(heightErr / l, 'height stays l cos α').toBeLessThan(1e-9);
      expect(radiusErr / l, 'radius stays l sin α').toBeLessThan(1e-9);
      expect(quarterErr / l, 'a quarter turn after a quarter period').toBeLessThan(1e-9);
      expect(endErr / l, 'back at the start after 2π/Ω').toBeLessThan(1e-9);
    });
  }

  it('small oscillations at ω² = g/l in both directions (linearisation and an elliptical orbit)', () => {
    const w2 = g / l;
    const rest = new Float64Array(2);
    const qdd = new Float64Array(2);
    const qdd2 = new Float64Array(2);
    const e = 1e-6;
    for (let j = 0; j < 2; j++) {
      const qp = new Float64Array(2);
      const qm = new Float64Array(2);
      qp[j] = e;
      qm[j] = -e;
      sp.accelerations(qp, rest, qdd, 1);
      sp.accelerations(qm, rest, qdd2, 1);
      for (let i = 0; i < 2; i++) {
        const d = (qdd[i] - qdd2[i]) / (2 * e);
        expect(d, `∂q̈${i}/∂q${j} at rest`).toBeCloseTo(i === j ? -w2 : 0, 8);
      }
    }
    // Amplitude ε along β (swing) and ε along α (tilt), a quarter period apart: an ellipse, period 2π/ω.
    const eps = 1e-4;
    const w = Math.sqrt(w2);
    const q = Float64Array.of(0, eps);
    const qd = Float64Array.of(eps * w, 0);
    const steps = 2000;
    let tiltMax = 0;
    libraryRk4(sp, q, qd, (2 * Math.PI) / w / steps, steps, (qs) => {
      tiltMax = Math.max(tiltMax, Math.abs(qs[0]));
    });
    expect(Math.abs(q[0]) / eps, 'α back to 0 after one period').toBeLessThan(1e-6);
    expect(Math.abs(q[1] - eps) / eps, 'β back to ε after one period').toBeLessThan(1e-6);
    expect(Math.abs(tiltMax - eps) / eps, 'the tilt reaches the same amplitude ε').toBeLessThan(1e-4);
  });
});

describe('chart singularity: samplers stay in the well-conditioned box', () => {
  it(`spherical pendulum: 20000 samples have cos α ≥ ${SPHERICAL_MIN_COS}, E ≤ −½ m g l and finite q̈; the box and its trajectories stay there`, () => {
    for (const params of [{}, { m: 2, l: 0.5, g: 1.6 }]) {
      const sp = createSystem('spherical-pendulum', params);
      const { m, l, g } = sp.params;
      const rng = createRng(9);
      const q = new Float64Array(2);
      const qd = new Float64Array(2);
      const qdd = new Float64Array(2);
      let minCos = 1;
      for (let k = 0; k < 20000; k++) {
        sp.sample(rng, q, qd);
        minCos = Math.min(minCos, Math.cos(q[0]));
        expect(sp.energy(q, qd), 'E ≤ −½ m g l').toBeLessThanOrEqual(-0.5 * m * g * l * (1 - 1e-12));
        sp.accelerations(q, qd, qdd, 1);
        expect(Number.isFinite(qdd[0]) && Number.isFinite(qdd[1]), 'finite q̈').toBe(true);
      }
      expect(minCos, 'cos α of every sample').toBeGreaterThanOrEqual(SPHERICAL_MIN_COS - 1e-15);
      console.log(
        `[systems3d] spherical-pendulum ${JSON.stringify(params)}: min cos α over 20000 samples ${minCos.toFixed(4)} (cond M ≤ ${(1 / minCos ** 2).toFixed(2)})`,
      );
      // Energy E ≤ −½ m g l confines every trajectory to cos α ≥ ½.
      let trajMin = 1;
      for (let s = 0; s < 8; s++) {
        sp.sample(rng, q, qd);
        libraryRk4(sp, q, qd, APP_DT, 10 * 120, (qs) => {
          trajMin = Math.min(trajMin, Math.cos(qs[0]));
        });
      }
      expect(trajMin, 'cos α along 10 s trajectories').toBeGreaterThan(SPHERICAL_MIN_COS - 1e-6);
    }
  });

  it('spherical pendulum: q̈ is finite on a grid over the box |α| ≤ π/3, any β, |q̇| ≤ 20', () => {
    const sp = createSystem('spherical-pendulum');
    const grid = 21;
    const q = new Float64Array(2 * grid ** 4);
    const qd = new Float64Array(2 * grid ** 4);
    let b = 0;
    for (let i = 0; i < grid; i++)
      for (let j = 0; j < grid; j++)
        for (let k = 0; k < grid; k++)
          for (let h = 0; h < grid; h++, b++) {
            q[2 * b] = (Math.PI / 3) * ((2 * i) / (grid - 1) - 1);
            q[2 * b + 1] = Math.PI * ((2 * j) / (grid - 1) - 1);
            qd[2 * b] = 20 * ((2 * k) / (grid - 1) - 1);
            qd[2 * b + 1] = 20 * ((2 * h) / (grid - 1) - 1);
          }
    const qdd = new Float64Array(q.length);
    sp.accelerations(q, qd, qdd, grid ** 4);
    expect(qdd.every(Number.isFinite), 'finite q̈ across the box').toBe(true);
    // The singular set is where the docs say: β̈ grows like 1/cos α towards α = π/2.
    sp.accelerations(Float64Array.of(Math.PI / 2 - 1e-9, 0.3), Float64Array.of(1, 1), qdd, 1);
    expect(Math.abs(qdd[1]), 'β̈ next to α = π/2').toBeGreaterThan(1e8);
  });

  it('double spherical pendulum: 5000 samples keep cos α_i ≥ ½ and E − E_rest ≤ D; M is well conditioned; trajectories stay in the box', () => {
    for (const params of [{}, { m1: 2, m2: 0.5, l1: 0.7, l2: 1.3, g: 9.81 }]) {
      const dsp = createSystem('double-spherical-pendulum', params);
      const { m1, m2, l1, l2, g } = dsp.params;
      const eRest = -g * ((m1 + m2) * l1 + m2 * l2);
      const D = 0.5 * g * Math.min((m1 + m2) * l1, m2 * l2);
      const rng = createRng(13);
      const q = new Float64Array(4);
      const qd = new Float64Array(4);
      const qdd = new Float64Array(4);
      const col = new Float64Array(4);
      const M = new Float64Array(16);
      let minCos = 1;
      let maxCond = 0;
      for (let k = 0; k < 5000; k++) {
        dsp.sample(rng, q, qd);
        minCos = Math.min(minCos, Math.cos(q[0]), Math.cos(q[2]));
        expect(dsp.energy(q, qd) - eRest, 'E − E_rest ≤ D').toBeLessThanOrEqual(D * (1 + 1e-12));
        dsp.accelerations(q, qd, qdd, 1);
        expect(qdd.every(Number.isFinite), 'finite q̈').toBe(true);
        if (k % 10 === 0) {
          // M's columns are p(q, e_j).
          for (let j = 0; j < 4; j++) {
            const e = new Float64Array(4);
            e[j] = 1;
            dsp.momentum(q, e, col);
            for (let i = 0; i < 4; i++) M[i * 4 + j] = col[i];
          }
          const ev = symmetricEigenvalues(M, 4);
          maxCond = Math.max(maxCond, ev[3] / ev[0]);
        }
      }
      expect(minCos, 'cos α_i of every sample').toBeGreaterThanOrEqual(SPHERICAL_MIN_COS - 1e-15);
      console.log(
        `[systems3d] double-spherical-pendulum ${JSON.stringify(params)}: min cos α_i over 5000 samples ${minCos.toFixed(4)}, max cond(M) ${maxCond.toFixed(1)}`,
      );
      expect(maxCond, 'condition number of M over the box').toBeLessThan(1e3);
      let trajMin = 1;
      for (let s = 0; s < 8; s++) {
        dsp.sample(rng, q, qd);
        libraryRk4(dsp, q, qd, APP_DT, 10 * 120, (qs) => {
          trajMin = Math.min(trajMin, Math.cos(qs[0]), Math.cos(qs[2]));
        });
      }
      expect(trajMin, 'cos α_i along 10 s trajectories').toBeGreaterThan(SPHERICAL_MIN_COS - 1e-6);
    }
  });
});

describe('3D string', () => {
  const configs = [{ nodes: 1 }, { nodes: 16 }, { nodes: 7, spacing: 0.3, density: 2, tension: 5 }];

  for (const params of configs) {
    it(`${JSON.stringify(params)}: each polarisation is the planar string; q̈ equals Euler–Lagrange on L`, () => {
      const s = createSystem('string-3d', params) as String3D;
      const flat = s.planar();
      const N = flat.dof;
      const n = s.dof;
      const batch = 16;
      const rng = createRng(3);
      const q = Float64Array.from({ length: batch * n }, () => uniform(rng, -0.2, 0.2));
      const qd = Float64Array.from({ length: batch * n }, () => uniform(rng, -1, 1));
      const qdd = new Float64Array(batch * n);
      const viaL = new Float64Array(batch * n);
      s.accelerations(q, qd, qdd, batch);
      new EulerLagrangeSolver((o, a, b) => s.L(o, a, b), n).accelerations(q, qd, viaL, batch);
      const scale = Math.max(1, maxAbs(qdd));
      for (let i = 0; i < batch * n; i++) {
        expect(Math.abs(viaL[i] - qdd[i]) / scale, `q̈[${i}] via L`).toBeLessThan(1e-10);
      }
      const pol = new Float64Array(N);
      const polA = new Float64Array(N);
      for (let b = 0; b < batch; b++) {
        for (let p = 0; p < 2; p++) {
          for (let i = 0; i < N; i++) pol[i] = q[b * n + 2 * i + p];
          flat.accelerations(pol, new Float64Array(N), polA, 1);
          for (let i = 0; i < N; i++) {
            expect(qdd[b * n + 2 * i + p], `state ${b}, node ${i + 1}, ${'yz'[p]}`).toBe(polA[i]);
          }
        }
      }
    });

    it(`${JSON.stringify(params)}: mode frequencies of both polarisations are stringModeFrequencies, twice each`, () => {
      const s = createSystem('string-3d', params) as String3D;
      const n = s.dof;
      // q̈ = A q; columns of A are q̈ at unit displacements (from L, via jets). M = ρΔx I, so −A is symmetric.
      const solver = new EulerLagrangeSolver((o, a, b) => s.L(o, a, b), n);
      const q = new Float64Array(n * n);
      for (let j = 0; j < n; j++) q[j * n + j] = 1;
      const cols = new Float64Array(n * n);
      solver.accelerations(q, new Float64Array(n * n), cols, n);
      const minusA = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) minusA[i * n + j] = -cols[j * n + i];
      const w2 = symmetricEigenvalues(minusA, n);
      const exact = stringModeFrequencies(s.planar());
      for (let k = 0; k < n; k++) {
        const want = exact[Math.floor(k / 2)];
        expect(Math.abs(Math.sqrt(w2[k]) - want) / want, `eigenvalue ${k}`).toBeLessThan(1e-10);
      }
    });
  }

  it('RK4 at dt = 1/120 against the exact modal solution: order 4, small energy drift', () => {
    const s = createSystem('string-3d') as String3D;
    const n = s.dof;
    const N = n / 2;
    const w = stringModeFrequencies(s.planar());
    const q0 = new Float64Array(n);
    const qd0 = new Float64Array(n);
    s.sample(createRng(17), q0, qd0);
    // Exact solution: project each polarisation on the standing modes φ_k(i) = sin(kπi/(N+1)).
    const exactAt = (t: number): Float64Array => {
      const out = new Float64Array(n);
      for (let p = 0; p < 2; p++) {
        for (let k = 1; k <= N; k++) {
          let a = 0;
          let v = 0;
          for (let i = 0; i < N; i++) {
            const phi = Math.sin((k * Math.PI * (i + 1)) / (N + 1));
            a += q0[2 * i + p] * phi;
            v += qd0[2 * i + p] * phi;
          }
          a *= 2 / (N + 1);
          v *= 2 / (N + 1);
          const c = a * Math.cos(w[k - 1] * t) + (v / w[k - 1]) * Math.sin(w[k - 1] * t);
          for (let i = 0; i < N; i++) out[2 * i + p] += c * Math.sin((k * Math.PI * (i + 1)) / (N + 1));
        }
      }
      return out;
    };
    const duration = 5;
    const want = exactAt(duration);
    const errs: number[] = [];
    for (const dt of [APP_DT, APP_DT / 2]) {
      const q = q0.slice();
      const qd = qd0.slice();
      libraryRk4(s, q, qd, dt, Math.round(duration / dt));
      errs.push(maxAbs(q.map((x, i) => x - want[i])));
    }
    const order = Math.log2(errs[0] / errs[1]);
    const e0 = s.energy(q0, qd0);
    let drift = 0;
    libraryRk4(s, q0.slice(), qd0.slice(), APP_DT, 20 * 120, (a, b) => {
      drift = Math.max(drift, Math.abs(s.energy(a, b) - e0) / s.energyScale);
    });
    console.log(
      `[systems3d] string-3d: displacement error after ${duration} s, RK4 dt = 1/120: ${errs[0].toExponential(2)}, 1/240: ${errs[1].toExponential(2)}, order ${order.toFixed(2)}; max |E(t) − E(0)| / energyScale over 20 s: ${drift.toExponential(2)}`,
    );
    expect(errs[0] / maxAbs(q0), 'relative displacement error at the app dt').toBeLessThan(1e-4);
    expect(order, 'empirical order of RK4').toBeGreaterThan(3.5);
    expect(order, 'empirical order of RK4').toBeLessThan(4.7);
    expect(drift, 'relative energy drift').toBeLessThan(3e-5);
  });

  for (const k of [1, 3]) {
    it(`a circularly polarised mode ${k} (y = A φ cos ωt, z = A φ sin ωt) keeps a constant radius and turns at ω_${k}`, () => {
      const s = createSystem('string-3d', { nodes: 16 }) as String3D;
      const N = s.dof / 2;
      const w = stringModeFrequencies(s.planar())[k - 1];
      const A = 0.05;
      const phi = Float64Array.from({ length: N }, (_, i) => Math.sin((k * Math.PI * (i + 1)) / (N + 1)));
      const q = new Float64Array(2 * N);
      const qd = new Float64Array(2 * N);
      for (let i = 0; i < N; i++) {
        q[2 * i] = A * phi[i];
        qd[2 * i + 1] = A * w * phi[i];
      }
      const steps = 10 * 120;
      let radiusErr = 0;
      let step = 0;
      let phaseErr = 0;
      libraryRk4(s, q, qd, APP_DT, steps, (qs) => {
        step++;
        const t = step * APP_DT;
        for (let i = 0; i < N; i++) {
          radiusErr = Math.max(
            radiusErr,
            Math.abs(Math.hypot(qs[2 * i], qs[2 * i + 1]) - A * Math.abs(phi[i])),
          );
          if (Math.abs(phi[i]) > 0.5) {
            // The node's angle in the y–z plane advances at ω (sign of φ_i flips it by π).
            const ang = Math.atan2(qs[2 * i + 1] * Math.sign(phi[i]), qs[2 * i] * Math.sign(phi[i]));
            const d = Math.atan2(Math.sin(ang - w * t), Math.cos(ang - w * t));
            phaseErr = Math.max(phaseErr, Math.abs(d));
          }
        }
      });
      console.log(
        `[systems3d] string-3d circular mode ${k} (ω = ${w.toFixed(4)}): max radius error / A over 10 s at dt = 1/120: ${(radiusErr / A).toExponential(2)}, max phase error ${phaseErr.toExponential(2)} rad`,
      );
      expect(radiusErr / A, 'constant radius').toBeLessThan(1e-6);
      expect(phaseErr, 'turns at ω_k').toBeLessThan(1e-5);
    });
  }

  it('points are the N + 2 nodes at (iΔx, y_i, z_i), fixed ends included', () => {
    const s = createSystem('string-3d', { nodes: 2, spacing: 0.5 });
    const pts = new Float64Array(s.pointCount * 3);
    s.positions([1, 2, 3, 4], pts);
    expect(Array.from(pts), 'points').toEqual([0, 0, 0, 0.5, 1, 2, 1, 3, 4, 1.5, 0, 0]);
  });
});
