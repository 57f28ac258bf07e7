import { describe, expect, it } from 'vitest';
import type { AccelerationFn, Integrator } from '../src/core/types';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { LagrangianEngine } from '../src/engines/LagrangianEngine';
import { createEngine, hasEngine, listEngines, registerEngine } from '../src/engines/registry';
import { createIntegrator } from '../src/integrators/registry';
import { createRng } from '../src/math/random';
import { createSystem, listSystems } from '../src/systems/registry';

const dp = createSystem('double-pendulum');

describe('engine registry', () => {
  it('ships the exact engines', () => {
    expect(listEngines()).toEqual(expect.arrayContaining(['analytic', 'lagrangian']));
    expect(hasEngine('analytic')).toBe(true);
  });

  it('creates engines by id', async () => {
    const a = await createEngine('analytic', dp);
    const l = await createEngine('lagrangian', dp);
    expect(a).toBeInstanceOf(AnalyticEngine);
    expect(l).toBeInstanceOf(LagrangianEngine);
    expect(a.system).toBe(dp);
  });

  it('names an unknown id and lists the known ones', async () => {
    await expect(createEngine('lnn-typo', dp)).rejects.toThrow(
      /Unknown engine 'lnn-typo'. Known engines: .*analytic/,
    );
  });

  it('registers sync and async factories and passes the options through', async () => {
    let seen: unknown;
    registerEngine('test-async', async (system, options) => {
      seen = options;
      return new AnalyticEngine(system);
    });
    const engine = await createEngine('test-async', dp, { model: 'x', backend: 'cpu', extra: 1 });
    expect(engine.id).toBe('analytic');
    expect(seen).toEqual({ model: 'x', backend: 'cpu', extra: 1 });
    expect(listEngines()).toContain('test-async');
  });

  it('rejects a bad registration', () => {
    expect(() => registerEngine('', () => new AnalyticEngine(dp))).toThrow(/non-empty string/);
    expect(() => registerEngine('x', 42 as never)).toThrow(/factory must be a function/);
  });
});

describe('CPU engines', () => {
  it('step hands the integrator one bound q̈ function, created once', () => {
    const engine = new AnalyticEngine(createSystem('simple-pendulum'));
    const seen: AccelerationFn[] = [];
    const spy: Integrator = {
      id: 'rk4',
      name: 'spy',
      order: 4,
      symplectic: false,
      adaptive: false,
      step: (f) => {
        seen.push(f);
      },
    };
    const q = new Float64Array(2);
    engine.step(q, q, 1, 0.01, spy);
    engine.step(q, q, 1, 0.01, spy);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]).toBe(engine.accelerationFn);
  });

  const cases = [
    { label: 'default parameters', system: dp },
    {
      label: 'm1=2, m2=0.7, l1=1.3, l2=0.5, g=1.62',
      system: dp.withParams({ m1: 2, m2: 0.7, l1: 1.3, l2: 0.5, g: 1.62 }),
    },
  ];
  for (const { label, system } of cases) {
    for (const id of ['rk4', 'leapfrog', 'dopri5'] as const) {
      it(`analytic step equals ${id} on the closed form bitwise (double pendulum, ${label})`, () => {
        const engine = new AnalyticEngine(system);
        expect(engine.fusedRk4).toBe(true);
        const batch = 64;
        const rng = createRng(11);
        const q = new Float64Array(2 * batch);
        const qd = new Float64Array(2 * batch);
        for (let b = 0; b < batch; b++)
          system.sample(rng, q.subarray(2 * b, 2 * b + 2), qd.subarray(2 * b, 2 * b + 2));
        const q2 = q.slice();
        const qd2 = qd.slice();
        const a = createIntegrator(id);
        const b = createIntegrator(id);
        for (let i = 0; i < 50; i++) {
          engine.step(q, qd, batch, 0.01, a);
          b.step((x, v, out, n) => system.accelerations(x, v, out, n), q2, qd2, 2, batch, 0.01);
        }
        expect(Array.from(q)).toEqual(Array.from(q2));
        expect(Array.from(qd)).toEqual(Array.from(qd2));
      });
    }
  }

  it('the fused kernel can be switched off, and is off for other systems', async () => {
    expect(new AnalyticEngine(dp, { fused: false }).fusedRk4).toBe(false);
    expect(((await createEngine('analytic', dp, { fused: false })) as AnalyticEngine).fusedRk4).toBe(false);
    expect(new AnalyticEngine(createSystem('chain', { links: 2 })).fusedRk4).toBe(false);
  });

  for (const info of listSystems()) {
    it(`lagrangian engine equals the closed form on ${info.id} (32 sampled states)`, () => {
      const system = createSystem(info.id);
      const n = system.dof;
      const batch = 32;
      const rng = createRng(3);
      const q = new Float64Array(batch * n);
      const qd = new Float64Array(batch * n);
      for (let b = 0; b < batch; b++) {
        system.sample(rng, q.subarray(b * n, (b + 1) * n), qd.subarray(b * n, (b + 1) * n));
      }
      const exact = new Float64Array(batch * n);
      const viaL = new Float64Array(batch * n);
      system.accelerations(q, qd, exact, batch);
      const engine = new LagrangianEngine(system);
      engine.accelerations(q, qd, viaL, batch);
      for (let i = 0; i < batch * n; i++) {
        const tol = 1e-10 * (1 + Math.abs(exact[i]));
        expect(Math.abs(viaL[i] - exact[i]), `${info.id}: q̈[${i}] ${viaL[i]} vs ${exact[i]}`).toBeLessThan(
          tol,
        );
      }
      const e = engine.energy(q.subarray(0, n), qd.subarray(0, n));
      const e0 = system.energy(q.subarray(0, n), qd.subarray(0, n));
      expect(Math.abs(e - e0), `${info.id}: energy`).toBeLessThan(1e-10 * (1 + Math.abs(e0)));
    });
  }

  it('dispose is idempotent', () => {
    const engine = new LagrangianEngine(dp);
    engine.dispose();
    engine.dispose();
    expect(engine.disposed).toBe(true);
  });
});
