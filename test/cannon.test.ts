import { Body, type GSSolver, Sphere, Vec3, World } from 'cannon-es';
import { describe, expect, it } from 'vitest';
import {
  attachLagrangian,
  buildCannonChain,
  buildCannonDoublePendulum,
  buildCannonPendulum,
  buildCannonString,
  CannonEngine,
  cannonSubsteps,
  cannonTuning,
  stepCannon,
} from '../plugins/cannon/index';
import { LNNPhysics } from '../plugins/three/index';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { createEngine, listEngines } from '../src/engines/registry';
import { createIntegrator } from '../src/integrators/registry';
import { createSystem } from '../src/systems/registry';

const G = 9.8;

function bob(world: World, radius = 0.1): Body {
  const b = new Body({ mass: 1, shape: new Sphere(radius), linearDamping: 0, angularDamping: 0 });
  world.addBody(b);
  return b;
}

describe('attachLagrangian', () => {
  it('moves attached bodies by the Lagrangian dynamics: positions and velocities of system.positions', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const b1 = bob(world);
    const b2 = bob(world);
    const origin = { x: 1, y: 3, z: -2 };
    const q0 = [2, 1];
    const detach = await attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', q0, origin });
    expect(b1.type, 'attached bodies are kinematic').toBe(Body.KINEMATIC);

    // Independent reference: the same engine and integrator stepped by the same dt.
    const system = createSystem('double-pendulum');
    const engine = new AnalyticEngine(system);
    const rk4 = createIntegrator('rk4');
    const q = Float64Array.from(q0);
    const qd = new Float64Array(2);
    const p = new Float64Array(9);
    const h = 1 / 240;
    for (let i = 0; i < 480; i++) {
      const before = [b2.position.x, b2.position.y];
      world.step(h);
      engine.step(q, qd, 1, h, rk4);
      system.positions(q, p);
      for (const [k, b] of [
        [1, b1],
        [2, b2],
      ] as const) {
        expect(Math.abs(b.position.x - origin.x - p[3 * k]), `x of point ${k} at step ${i}`).toBeLessThan(
          1e-12,
        );
        expect(Math.abs(b.position.y - origin.y - p[3 * k + 1]), `y of point ${k} at step ${i}`).toBeLessThan(
          1e-12,
        );
        expect(b.position.z, `z of point ${k}`).toBe(origin.z);
      }
      if (i > 0) {
        // Written velocities are the point velocities: compare with the central difference over steps.
        const vxMid = (b2.position.x - before[0]) / h;
        expect(Math.abs(vxMid - b2.velocity.x), `vx of the lower bob at step ${i}`).toBeLessThan(0.1);
      }
    }
    expect(detach.time, 'simulated time').toBeCloseTo(2, 12);
    expect(Array.from(detach.q), 'live state equals the reference').toEqual(Array.from(q));
    detach();
    expect(b1.type, 'detach restores the type').toBe(Body.DYNAMIC);
  });

  it('leaves other bodies to cannon: a free-falling sphere follows semi-implicit Euler exactly', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const [b1, b2] = [bob(world), bob(world)];
    const ball = bob(world, 0.2);
    ball.position.set(5, 10, 0);
    await attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', q0: [1, -1] });
    const h = 1 / 120;
    const n = 120;
    for (let i = 0; i < n; i++) world.step(h);
    // Cannon's integrator: v_{k+1} = v_k − g h, y_{k+1} = y_k + h v_{k+1}  ⇒  y_n = y_0 − g h² n(n+1)/2.
    expect(ball.position.y, 'falling sphere height').toBeCloseTo(10 - (G * h * h * n * (n + 1)) / 2, 10);
    expect(ball.velocity.y, 'falling sphere velocity').toBeCloseTo(-G * h * n, 10);
    expect(ball.position.x, 'no sideways motion').toBe(5);
  });

  it('contacts see the written velocities: the swinging bob knocks a resting ball away', async () => {
    // Zero world gravity keeps the ball resting; the pendulum's own g is the system's.
    const world = new World({ gravity: new Vec3(0, 0, 0) });
    const b1 = bob(world, 0.05);
    const b2 = bob(world, 0.1);
    const ball = bob(world, 0.1);
    ball.position.set(0.25, -2, 0); // just right of the lowest point of the lower bob
    const detach = await attachLagrangian(world, {
      bodies: [b1, b2],
      system: 'double-pendulum',
      q0: [-1.2, -1.2],
    });
    let hitSpeed = 0;
    for (let i = 0; i < 600 && ball.velocity.length() === 0; i++) {
      hitSpeed = b2.velocity.length();
      world.step(1 / 600);
    }
    expect(ball.velocity.length(), 'the ball was hit').toBeGreaterThan(0);
    expect(ball.velocity.x, 'pushed along the swing').toBeGreaterThan(0);
    // A kinematic body at speed v hitting a ball at rest gives it ~(1 + e) v along the normal; without
    // the written velocity only the small penetration correction would act.
    expect(ball.velocity.length(), `ball speed vs bob speed ${hitSpeed}`).toBeGreaterThan(0.5 * hitSpeed);
    detach();
  });

  it('detach leaves the bodies dynamic with their last velocity', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const [b1, b2] = [bob(world), bob(world)];
    const detach = await attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', q0: [1, 1] });
    for (let i = 0; i < 30; i++) world.step(1 / 60);
    const v = b2.velocity.clone();
    detach();
    detach();
    expect(b2.type).toBe(Body.DYNAMIC);
    expect(b2.velocity.almostEquals(v, 0), 'velocity kept').toBe(true);
    const y = b2.position.y;
    world.step(1 / 60);
    expect(b2.position.y, 'now moved by cannon').not.toBe(y);
  });

  it('a non-finite state freezes the system and is reported, never thrown out of cannon’s step', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const [b1, b2] = [bob(world), bob(world)];
    const system = createSystem('double-pendulum');
    let broken = false;
    class Breaking extends AnalyticEngine {
      override accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
        super.accelerations(q, qd, qdd, batch);
        if (broken) qdd.fill(Number.NaN);
      }
    }
    const reports: string[] = [];
    const attached = await attachLagrangian(world, {
      bodies: [b1, b2],
      system,
      engine: new Breaking(system, { fused: false }),
      q0: [1, 0.5],
      onInvalid: (e) => reports.push(e.reason),
    });
    for (let i = 0; i < 10; i++) world.step(1 / 120);
    const last = Array.from(attached.q);
    const at = b2.position.clone();
    broken = true;
    expect(() => world.step(1 / 120), 'cannon’s step does not throw').not.toThrow();
    expect(reports, 'reported once').toHaveLength(1);
    expect(reports[0]).toMatch(/non-finite/);
    expect(attached.invalid, 'flagged').toBe(true);
    expect(Array.from(attached.q), 'frozen at the last finite state').toEqual(last);
    for (let i = 0; i < 5; i++) world.step(1 / 120);
    expect(reports, 'not reported again').toHaveLength(1);
    expect(b2.position.almostEquals(at, 1e-12), 'the body stands at its last finite place').toBe(true);
    expect(b2.velocity.length(), 'and stands still').toBe(0);
    expect(b1.type, 'still attached').toBe(Body.KINEMATIC);
    broken = false;
    attached.setState([1, 0.5], [0, 0]);
    expect(attached.invalid, 'setState resumes').toBe(false);
    world.step(1 / 120);
    expect(attached.q[0], 'moving again').not.toBe(1);
    attached();
  });

  it('rejects bad input with clear errors', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const [b1, b2] = [bob(world), bob(world)];
    const stray = new Body({ mass: 1, shape: new Sphere(0.1) });
    await expect(attachLagrangian(world, { bodies: [stray], system: 'double-pendulum' })).rejects.toThrow(
      /not in this world/,
    );
    await expect(
      attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', points: [1, 3] }),
    ).rejects.toThrow(/points\[1\] = 3 is not a point of 'double-pendulum'/);
    await expect(attachLagrangian(world, { bodies: [b1], system: 'no-such-system' })).rejects.toThrow(
      /Unknown system 'no-such-system'/,
    );
    await expect(
      attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', q0: [1, 2, 3] }),
    ).rejects.toThrow(/q0 has 3 entries/);
    const other = {
      ...new AnalyticEngine(createSystem('double-pendulum')),
      system: { id: 'pendulum', dof: 1 },
    };
    await expect(
      attachLagrangian(world, {
        bodies: [b1, b2],
        system: 'double-pendulum',
        engine: other as unknown as AnalyticEngine,
      }),
    ).rejects.toThrow(/engine is for system 'pendulum'/);
    expect(b1.type, 'failed attaches change nothing').toBe(Body.DYNAMIC);
  });

  it('an engine instance gets the World’s checks: no params beside it, built for the same parameter values', async () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const [b1, b2] = [bob(world), bob(world)];
    const engine = new AnalyticEngine(createSystem('double-pendulum'));
    await expect(
      attachLagrangian(world, { bodies: [b1, b2], system: 'double-pendulum', engine, params: { l1: 2 } }),
    ).rejects.toThrow(/'params' cannot be applied to the engine instance given/);
    await expect(
      attachLagrangian(world, {
        bodies: [b1, b2],
        system: createSystem('double-pendulum', { l1: 2 }),
        engine,
      }),
    ).rejects.toThrow(/other parameter values than the system given: l1 = 1 \(engine\) ≠ 2 \(system\)/);
    expect([b1.type, b2.type], 'failed attaches change nothing').toEqual([Body.DYNAMIC, Body.DYNAMIC]);
    // Params with an engine id reach the engine's system.
    const attached = await attachLagrangian(world, {
      bodies: [b1, b2],
      system: 'double-pendulum',
      engine: 'analytic',
      params: { l1: 2 },
    });
    expect(attached.system.params.l1).toBe(2);
    expect(attached.engine.system.params.l1).toBe(2);
    attached();
  });
});

describe('cannon-es builders', () => {
  it('setState then readState round-trips (q, q̇)', () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const dp = buildCannonDoublePendulum(world, {}, { origin: { x: 2, y: 1, z: 0 } });
    const q = new Float64Array(2);
    const qd = new Float64Array(2);
    dp.setState([2.5, -7], [3, -4]);
    dp.readState(q, qd);
    expect(q[0]).toBeCloseTo(2.5, 12);
    expect(q[1], 'unwrapped to the state set, not into (−π, π]').toBeCloseTo(-7, 12);
    expect(qd[0]).toBeCloseTo(3, 8);
    expect(qd[1]).toBeCloseTo(-4, 8);
  });

  it('rejects a world whose gravity does not match the system', () => {
    const world = new World();
    expect(() => buildCannonDoublePendulum(world)).toThrow(
      /gravity \(0, 0, 0\) does not match the system's g = 9.8/,
    );
  });

  it('the tuned double pendulum loses little energy over 20 s (figure printed)', () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const q0 = [(3 * Math.PI) / 7, (3 * Math.PI) / 4];
    const dp = buildCannonDoublePendulum(world, {}, { q0 });
    const scale = dp.system.energyScale;
    const e0 = dp.energy();
    expect(e0, 'initial energy from the exact system').toBeCloseTo(dp.system.energy(q0, [0, 0]), 9);
    let worst = 0;
    for (let i = 0; i < 20 * 60; i++) {
      stepCannon(world, dp.dt, dp.substeps);
      worst = Math.max(worst, Math.abs(dp.energy() - e0) / scale);
    }
    const final = (dp.energy() - e0) / scale;
    console.log(
      `cannon double pendulum, q0 = (3π/7, 3π/4), dt 1/60 × ${dp.substeps} substeps: ` +
        `ΔE(20 s) = ${(100 * final).toFixed(3)}% of ${scale.toFixed(1)}, max |ΔE| = ${(100 * worst).toFixed(3)}%`,
    );
    // The error oscillates (semi-implicit Euler): the end value is one sample of it, the peak is what to bound.
    // Measured peak 0.325% at 1/600-s steps; 0.5% leaves room for round-off paths, while cannon's default
    // damping or untuned SPOOK parameters cost several percent or more.
    expect(worst, 'peak |ΔE| over 20 s, share of the energy scale').toBeLessThan(0.005);
    expect(Math.abs(final), 'energy change over 20 s, share of the energy scale').toBeLessThan(0.005);
  });
});

describe('cannon-es builders for the other systems', () => {
  it('the pendulum follows the exact solution closely', () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    const p = buildCannonPendulum(world, { l: 2 }, { q0: [1.2] });
    const system = createSystem('simple-pendulum', { l: 2 });
    const exact = new AnalyticEngine(system);
    const rk4 = createIntegrator('rk4');
    const qe = Float64Array.from([1.2]);
    const qde = new Float64Array(1);
    const q = new Float64Array(1);
    const qd = new Float64Array(1);
    for (let i = 0; i < 120; i++) {
      stepCannon(world, p.dt, p.substeps);
      for (let k = 0; k < 4; k++) exact.step(qe, qde, 1, p.dt / 4, rk4);
    }
    p.readState(q, qd);
    expect(Math.abs(q[0] - qe[0]), `θ after 2 s: cannon ${q[0]}, exact ${qe[0]}`).toBeLessThan(5e-3);
    expect(Math.abs(qd[0] - qde[0]), 'θ̇ after 2 s').toBeLessThan(2e-2);
  });

  it('a 6-link chain keeps its energy and its rods', () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) });
    (world.solver as GSSolver).iterations = 30;
    const q0 = [0.8, 0.6, 0.4, 0.2, 0, -0.2];
    const chain = buildCannonChain(world, { links: 6 }, { q0 });
    expect(chain.bodies.length, 'one body per bob').toBe(6);
    expect(chain.anchors.length, 'one pivot').toBe(1);
    const e0 = chain.energy();
    for (let i = 0; i < 5 * 60; i++) stepCannon(world, chain.dt, chain.substeps);
    const drift = Math.abs(chain.energy() - e0) / chain.system.energyScale;
    console.log(
      `cannon 6-link chain: |ΔE(5 s)| = ${(100 * drift).toFixed(3)}% of ${chain.system.energyScale}`,
    );
    expect(drift, 'energy drift share over 5 s').toBeLessThan(0.02);
    const [a, b] = [chain.bodies[2], chain.bodies[3]];
    expect(Math.abs(a.position.distanceTo(b.position) - 1), 'rod length').toBeLessThan(1e-2);
  });

  it('the string is the discrete wave equation under symplectic Euler, to round-off', () => {
    const world = new World({ gravity: new Vec3(0, -G, 0) }); // the string cancels gravity
    const system = createSystem('string', { nodes: 12 });
    const n = system.dof;
    const q0 = Array.from({ length: n }, (_, i) => 0.1 * Math.sin((2 * Math.PI * (i + 1)) / (n + 1)));
    const s = buildCannonString(world, system, { q0, substeps: 4 });
    const exact = new AnalyticEngine(system);
    const euler = createIntegrator('symplectic-euler');
    const q = Float64Array.from(q0);
    const qd = new Float64Array(n);
    for (let i = 0; i < 240; i++) {
      stepCannon(world, s.dt, s.substeps);
      for (let k = 0; k < s.substeps; k++) exact.step(q, qd, 1, s.h, euler);
    }
    const qc = new Float64Array(n);
    const qdc = new Float64Array(n);
    s.readState(qc, qdc);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(qc[i] - q[i]), `node ${i} displacement`).toBeLessThan(1e-10);
      expect(Math.abs(qdc[i] - qd[i]), `node ${i} velocity`).toBeLessThan(1e-9);
    }
    expect(s.bodies[0].position.x, 'nodes stay on their x').toBeCloseTo(0.1, 12);
    s.remove();
    expect(world.bodies.length, 'remove() takes the bodies out').toBe(0);
  });
});

describe('the cannon engine', () => {
  it('is registered by importing the plugin and tracks the exact system at small amplitude', async () => {
    expect(listEngines()).toContain('cannon');
    const system = createSystem('double-pendulum');
    const engine = await createEngine('cannon', system);
    expect(engine).toBeInstanceOf(CannonEngine);
    const rk4 = createIntegrator('rk4');
    const exact = new AnalyticEngine(system);
    const q = Float64Array.from([0.2, -0.1, 0.2, -0.1]);
    const qd = new Float64Array(4);
    const qe = Float64Array.from([0.2, -0.1]);
    const qde = new Float64Array(2);
    const dt = 0.01;
    for (let i = 0; i < 200; i++) {
      engine.step(q, qd, 2, dt, rk4);
      exact.step(qe, qde, 1, dt, rk4);
    }
    expect(q[0], 'identical copies in one batch give identical results').toBe(q[2]);
    expect(qd[1]).toBe(qd[3]);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(q[i] - qe[i]), `q[${i}] after 2 s vs exact`).toBeLessThan(5e-3);
    }
    const qdd = new Float64Array(2);
    const qddExact = new Float64Array(2);
    engine.accelerations(Float64Array.from([1, 2]), Float64Array.from([0.5, -1]), qdd, 1);
    system.accelerations(Float64Array.from([1, 2]), Float64Array.from([0.5, -1]), qddExact, 1);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(qdd[i] - qddExact[i]), `finite-difference q̈[${i}]`).toBeLessThan(
        0.05 * Math.abs(qddExact[i]) + 0.05,
      );
    }
    engine.dispose();
    expect(() => engine.step(q, qd, 2, dt, rk4)).toThrow(/after dispose/);
  });

  it('runs inside the three.js plugin as a ghost of the exact system', async () => {
    const physics = await LNNPhysics({ fixedTimeStep: 1 / 120 });
    const dp = await physics.addSystem('double-pendulum', { name: 'dp', q0: [0.3, 0.2] });
    const ghost = await physics.addGhost(dp, { engine: 'cannon' });
    expect(ghost.system.engine).toBeInstanceOf(CannonEngine);
    for (let f = 0; f < 60; f++) physics.step(1 / 60);
    for (let i = 0; i < 2; i++) {
      expect(
        Math.abs(ghost.system.handle.q[i] - dp.handle.q[i]),
        `q[${i}] cannon vs exact after 1 s`,
      ).toBeLessThan(5e-3);
    }
    physics.dispose();
  });

  it('is repeatable: the same inputs give bit-identical outputs', async () => {
    const system = createSystem('double-pendulum');
    const run = async () => {
      const engine = await createEngine('cannon', system);
      const q = Float64Array.from([2, 1]);
      const qd = Float64Array.from([0, 0]);
      for (let i = 0; i < 120; i++) engine.step(q, qd, 1, 1 / 60, createIntegrator('rk4'));
      engine.dispose();
      return [...q, ...qd];
    };
    expect(await run()).toEqual(await run());
  });

  it("keeps the double pendulum's energy at the app's settings, as the tuned builder does (figures printed)", () => {
    // The app and scenes/doublePendulum.ts step the cannon lane by dt = 1/120 (RK4 is ignored by cannon).
    const system = createSystem('double-pendulum');
    const q0 = [(3 * Math.PI) / 7, (3 * Math.PI) / 4];
    const e0 = system.energy(q0, [0, 0]);
    const scale = system.energyScale;
    const dt = 1 / 120;
    const steps = 20 * 120;
    const run = (maxSubstep: number) => {
      const engine = new CannonEngine(system, { maxSubstep });
      const q = Float64Array.from(q0);
      const qd = new Float64Array(2);
      const energies: number[] = [];
      for (let i = 0; i < steps; i++) {
        engine.step(q, qd, 1, dt);
        energies.push(system.energy(q, qd));
      }
      engine.dispose();
      const worst = Math.max(...energies.map((e) => Math.abs(e - e0)));
      const worst2s = Math.max(...energies.slice(0, 240).map((e) => Math.abs(e - e0)));
      return { energies, worst, worst2s, final: energies[steps - 1] - e0 };
    };
    const tuned = run(cannonTuning.substep);
    const half = run(cannonTuning.substep / 2);

    // The same bodies built by hand and advanced with stepCannon at the same cannon step: the engine adds
    // nothing of its own (no re-placing between calls, no other tuning).
    const world = new World({ gravity: new Vec3(0, -system.params.g, 0) });
    const dp = buildCannonDoublePendulum(world, system, { q0, dt });
    expect(dp.substeps, 'builder substeps at dt = 1/120').toBe(cannonSubsteps(dt));
    const q = new Float64Array(2);
    const qd = new Float64Array(2);
    let mismatch = 0;
    for (let i = 0; i < steps; i++) {
      stepCannon(world, dp.dt, dp.substeps);
      dp.readState(q, qd);
      mismatch = Math.max(mismatch, Math.abs(system.energy(q, qd) - tuned.energies[i]));
    }

    const pct = (x: number) => `${(100 * x).toFixed(3)}%`;
    console.log(
      `CannonEngine double pendulum, dt 1/120 × ${cannonSubsteps(dt)} cannon steps, q0 = (3π/7, 3π/4): ` +
        `peak |ΔE(0–20 s)| = ${pct(tuned.worst / scale)} of ${scale.toFixed(1)} ` +
        `(${pct(tuned.worst2s / Math.abs(e0))} of |E₀| = ${Math.abs(e0).toFixed(3)} within 2 s), ` +
        `ΔE(20 s) = ${pct(tuned.final / scale)}; half the step: peak ${pct(half.worst / scale)}; ` +
        `engine vs builder max |ΔE difference| = ${mismatch.toExponential(1)}`,
    );
    expect(mismatch, 'engine and builder energies at the same cannon step').toBeLessThan(1e-9);
    // Bound as for the builder: measured peak 0.325% of the scale at 1/600-s steps.
    expect(tuned.worst / scale, 'peak |ΔE| over 20 s, share of the energy scale').toBeLessThan(0.005);
    // The error is the first-order integrator's, not a read-back artefact: halving the step about halves it.
    const ratio = tuned.worst / half.worst;
    expect(ratio, 'peak |ΔE| ratio, step h vs h/2').toBeGreaterThan(1.5);
    expect(ratio, 'peak |ΔE| ratio, step h vs h/2').toBeLessThan(4);
  });
});
