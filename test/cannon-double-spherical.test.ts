import { Vec3, World } from 'cannon-es';
import { describe, expect, it } from 'vitest';
import {
  buildCannonDoubleSphericalPendulum,
  CannonEngine,
  type CannonSystem,
  cannonBuilders,
  cannonSubsteps,
  stepCannon,
} from '../plugins/cannon/index';
import { DOUBLE_SPHERICAL_START } from '../scenes/doubleSphericalRide';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { createIntegrator } from '../src/integrators/registry';
import { createRng } from '../src/math/random';
import { createSystem } from '../src/systems/registry';

/**
 * The double spherical pendulum as two cannon-es ball-and-socket rods: the state read back in the system's
 * chart, its energy at the double-spherical-ride scene's step, and how closely it follows the exact system.
 */

const G = 9.8;
/** The double-spherical-ride scene's frame step. */
const DT = 1 / 120;

function world(): World {
  return new World({ gravity: new Vec3(0, -G, 0) });
}

/** The scene's start and eight states from the system's sampler (seeded). */
function starts(): { q0: number[]; qd0: number[] }[] {
  const sys = createSystem('double-spherical-pendulum');
  const rng = createRng(2024);
  const q = new Float64Array(4);
  const qd = new Float64Array(4);
  const out = [{ q0: [...DOUBLE_SPHERICAL_START.q0], qd0: [...DOUBLE_SPHERICAL_START.qd0] }];
  for (let k = 0; k < 8; k++) {
    sys.sample(rng, q, qd);
    out.push({ q0: Array.from(q), qd0: Array.from(qd) });
  }
  return out;
}

/** Largest distance per axis between the bodies' bobs and the exact system's at state q. */
function bobGap(c: CannonSystem, q: Float64Array, pts: Float64Array): number {
  c.system.positions(q, pts);
  let gap = 0;
  for (let k = 1; k <= 2; k++) {
    const p = c.pointBody[k].position;
    gap = Math.max(
      gap,
      Math.abs(p.x - pts[3 * k]),
      Math.abs(p.y - pts[3 * k + 1]),
      Math.abs(p.z - pts[3 * k + 2]),
    );
  }
  return gap;
}

/**
 * Run cannon-es and the exact system (RK4 at DT / 8) side by side from one start for `seconds`, the cannon
 * world advanced in frames of DT split into `substeps`: the peak |ΔE| / energyScale and the peak bob gap.
 */
function race(
  q0: number[],
  qd0: number[],
  seconds: number,
  substeps: number,
): { energy: number; gap: number } {
  const w = world();
  const c = buildCannonDoubleSphericalPendulum(w, {}, { dt: DT, substeps, q0, qd0 });
  const exact = new AnalyticEngine(c.system);
  const rk4 = createIntegrator('rk4');
  const qe = Float64Array.from(q0);
  const qde = Float64Array.from(qd0);
  const pts = new Float64Array(9);
  const e0 = c.system.energy(q0, qd0);
  let energy = 0;
  let gap = 0;
  for (let i = 0; i < Math.round(seconds / DT); i++) {
    stepCannon(w, DT, substeps);
    for (let k = 0; k < 8; k++) exact.step(qe, qde, 1, DT / 8, rk4);
    energy = Math.max(energy, Math.abs(c.energy() - e0) / c.system.energyScale);
    gap = Math.max(gap, bobGap(c, qe, pts));
  }
  return { energy, gap };
}

describe('buildCannonDoubleSphericalPendulum', () => {
  it('builds two moving spheres on two distance constraints of lengths l1, l2, free in 3D', () => {
    const w = world();
    const params = { m1: 1.5, m2: 0.7, l1: 1.2, l2: 0.8 };
    const c = buildCannonDoubleSphericalPendulum(w, params, { q0: [0.3, -0.4, 0.2, 0.55] });
    expect(c.system.id).toBe('double-spherical-pendulum');
    expect(
      c.bodies.map((b) => b.mass),
      'bob masses m1, m2',
    ).toEqual([1.5, 0.7]);
    expect(c.anchors.length, 'one static pivot').toBe(1);
    expect(c.constraints.length, 'one rod per segment').toBe(2);
    const [pivot, b1, b2] = c.pointBody;
    expect(b1.position.distanceTo(pivot.position), 'upper rod length').toBeCloseTo(1.2, 12);
    expect(b2.position.distanceTo(b1.position), 'lower rod length').toBeCloseTo(0.8, 12);
    expect(Math.abs(b2.position.z), 'the start is out of the x–y plane').toBeGreaterThan(0.1);
    for (const b of c.bodies) expect(b.linearFactor.z, 'free along z').toBe(1);
    expect(cannonBuilders.get('double-spherical-pendulum'), 'registered for the cannon engine').toBe(
      buildCannonDoubleSphericalPendulum,
    );
    c.remove();
    expect(w.bodies.length, 'remove takes every body out').toBe(0);
  });

  it('setState then readState round-trips (q, q̇) to float64 precision, β unwrapped to the state set', () => {
    const w = world();
    const c = buildCannonDoubleSphericalPendulum(w, {}, { origin: { x: 2, y: 1, z: -3 } });
    const q = new Float64Array(4);
    const qd = new Float64Array(4);
    let worstQ = 0;
    let worstQd = 0;
    const states = [...starts(), { q0: [0.4, 2 * Math.PI + 0.3, -0.9, -7], qd0: [3, -4, 5, -6] }];
    for (const { q0, qd0 } of states) {
      c.setState(q0, qd0);
      c.readState(q, qd);
      for (let i = 0; i < 4; i++) {
        worstQ = Math.max(worstQ, Math.abs(q[i] - q0[i]));
        worstQd = Math.max(worstQd, Math.abs(qd[i] - qd0[i]) / Math.max(1, Math.abs(qd0[i])));
      }
    }
    console.log(
      `cannon double spherical, set/read round trip over ${states.length} states: |Δq| ${worstQ.toExponential(2)}, |Δq̇| ${worstQd.toExponential(2)} (relative)`,
    );
    expect(worstQ, 'max |Δq| after set/read (rad)').toBeLessThan(1e-13);
    // q is read from the positions exactly; the bodies' velocities are set from a central difference of the
    // positions along q̇ (pointVelocities, step 1e-5 / |q̇|) and read back by a least-squares fit through the
    // same differences per coordinate: the O(step²) truncation leaves about 5e-11 (measured 4.9e-11).
    expect(worstQd, 'max |Δq̇| after set/read, relative to max(1, |q̇|)').toBeLessThan(1e-9);
  });

  it('rejects a world whose gravity does not match and a state of the wrong size', () => {
    expect(() => buildCannonDoubleSphericalPendulum(new World())).toThrow(
      /gravity \(0, 0, 0\) does not match the system's g = 9.8/,
    );
    expect(() => buildCannonDoubleSphericalPendulum(world(), {}, { q0: [0.1, 0.2] })).toThrow(
      /q0 has 2 entries, the system has 4 degrees of freedom/,
    );
    expect(() => buildCannonDoubleSphericalPendulum(world(), createSystem('spherical-pendulum'))).toThrow(
      /expects a 'double-spherical-pendulum' system, got 'spherical-pendulum'/,
    );
  });

  it('keeps its energy over 5 s at the scene step, with an error first order in the cannon step (figures printed)', () => {
    const fine = cannonSubsteps(DT);
    expect(fine, 'the scene step splits into cannon steps of 1/600 s').toBe(5);
    let worst = 0;
    let worstCoarse = 0;
    let worstFine = 0;
    for (const { q0, qd0 } of starts()) {
      const a = race(q0, qd0, 5, fine).energy;
      worst = Math.max(worst, a);
      // Halving the cannon step halves the error: semi-implicit Euler with SPOOK rods is first order.
      if (worstFine === 0) {
        worstCoarse = a;
        worstFine = race(q0, qd0, 5, 2 * fine).energy;
      }
    }
    const ratio = worstCoarse / worstFine;
    console.log(
      `cannon double spherical, 5 s at dt 1/120 × ${fine} substeps, 9 starts: peak |ΔE| ${worst.toExponential(2)} of the energy scale; scene start at 1/600 s vs 1/1200 s: ${worstCoarse.toExponential(2)} / ${worstFine.toExponential(2)} = ${ratio.toFixed(2)}`,
    );
    expect(ratio, 'energy error ratio when the cannon step is halved (first order: 2)').toBeGreaterThan(1.5);
    expect(ratio, 'energy error ratio when the cannon step is halved (first order: 2)').toBeLessThan(3);
    expect(worst, 'peak |ΔE| / energyScale over 5 s, 9 starts').toBeLessThan(BOUND_ENERGY);
  });

  it('follows the exact system for the first 0.5 s (bob gap first order in the cannon step)', () => {
    const { q0, qd0 } = starts()[0];
    const a = race(q0, qd0, 0.5, cannonSubsteps(DT)).gap;
    const b = race(q0, qd0, 0.5, 2 * cannonSubsteps(DT)).gap;
    console.log(
      `cannon double spherical vs exact, 0.5 s from the scene start: bob gap ${a.toExponential(2)} at 1/600 s, ${b.toExponential(2)} at 1/1200 s (ratio ${(a / b).toFixed(2)})`,
    );
    expect(a / b, 'gap ratio when the cannon step is halved (first order: 2)').toBeGreaterThan(1.5);
    expect(a, 'max bob distance per axis from the exact one over 0.5 s (l = 1)').toBeLessThan(BOUND_GAP);
  });

  it('runs as the cannon engine, repeatably', async () => {
    const sys = createSystem('double-spherical-pendulum');
    const run = () => {
      const e = new CannonEngine(sys);
      const q = Float64Array.from(DOUBLE_SPHERICAL_START.q0);
      const qd = Float64Array.from(DOUBLE_SPHERICAL_START.qd0);
      for (let i = 0; i < 120; i++) e.step(q, qd, 1, DT, createIntegrator('rk4'));
      e.dispose();
      return [...q, ...qd];
    };
    const a = run();
    expect(a.every(Number.isFinite), 'finite after 1 s').toBe(true);
    expect(run(), 'same inputs, same outputs').toEqual(a);
  });
});

/**
 * Peak |ΔE| / energyScale over 5 s at 1/600-s cannon steps: measured 7.4e-4 over the nine starts (scene start
 * 7.0e-4). Cannon's semi-implicit Euler with SPOOK rods makes an energy error that oscillates with an
 * amplitude first order in the step (the ratio 2.00 the test measures), the same order as the planar double
 * pendulum's 0.33% at this tuning (plugins/cannon/CannonBuildOptions.ts) for a start seven times as energetic above rest;
 * 1e-3 bounds it with a third to spare. Untuned SPOOK parameters or cannon's default damping cost percents.
 */
const BOUND_ENERGY = 1e-3;
/** Bob gap from the exact system over the first 0.5 s at 1/600-s steps: measured 2.0e-3 (l = 1). */
const BOUND_GAP = 3e-3;
