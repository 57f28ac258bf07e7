import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineScene,
  runScene,
  type SceneDefinition,
  SceneError,
  type SceneEvent,
  type SceneRun,
  type SceneSystem,
} from '../src/scene/index';
import '../src/engines/learned';

/**
 * Forces in scenes: a system's `forces` (damping, constant) from t = 0, `impulse` events with a
 * generalized impulse `p` or a point impulse `point`/`J`, the `work` and `ledger` recordings, the
 * checks of hostile scene input, and an engine that takes no forces refused by name.
 */

const ROOT = join(import.meta.dirname, '..');
/** Simple pendulum parameters: Δθ̇ = p / (m l²) = p / 0.5. */
const M = 2;
const L = 0.5;
const DT = 0.001;
/** The impulse fires at step 1000 (t = 1 s). */
const T_KICK = 1;
const K_KICK = 1000;
const P = 0.3;
const C = 0.2;

/** A damped simple pendulum, kicked at t = 1 s by `events`, recorded every step. */
function pendulumScene(events: SceneEvent[], extra: Partial<SceneSystem> = {}): SceneDefinition {
  return {
    name: 'damped-kick',
    dt: DT,
    duration: 2,
    systems: [
      {
        id: 'p',
        system: 'simple-pendulum',
        params: { m: M, l: L },
        q0: [1],
        qd0: [0],
        forces: { damping: C },
        ...extra,
      },
    ],
    events,
    recorders: [{ target: 'p', every: 1, quantities: ['q', 'qd', 'energy', 'work', 'ledger'] }],
  };
}

const kick: SceneEvent = { at: T_KICK, type: 'impulse', target: 'p', p: [P] };

function series(run: SceneRun, key: 'q' | 'qd'): number[] {
  return run.recordings.p[key]!.map((r) => r[0][0]);
}

describe('scene forces: damping and a timed generalized impulse', () => {
  it('the impulse at T changes θ̇ by p/(m l²) (closed form), and nothing before T', async () => {
    const kicked = await runScene(pendulumScene([kick]));
    const plain = await runScene(pendulumScene([]));
    const qd1 = series(kicked, 'qd');
    const qd0 = series(plain, 'qd');
    // Before the kick both runs are the same run, bit for bit.
    expect(qd1.slice(0, K_KICK)).toEqual(qd0.slice(0, K_KICK));
    expect(series(kicked, 'q').slice(0, K_KICK + 1)).toEqual(series(plain, 'q').slice(0, K_KICK + 1));
    // At the boundary of t = T the record shows the kicked state: the jump is M⁻¹ p = p / (m l²).
    expect(kicked.recordings.p.t[K_KICK]).toBe(T_KICK);
    expect(qd1[K_KICK] - qd0[K_KICK]).toBeCloseTo(P / (M * L * L), 12);
    expect(kicked.events).toEqual([{ type: 'impulse', at: T_KICK, step: K_KICK, t: T_KICK, target: 'p' }]);
  });

  it('energy decays under damping, and the ledger E − E(0) − W stays within 1e-9 (impulse work included)', async () => {
    const run = await runScene(pendulumScene([kick]));
    const rec = run.recordings.p;
    const energy = rec.energy!.map((r) => r[0]!);
    const work = rec.work!.map((r) => r[0]!);
    const ledger = rec.ledger!.map((r) => r[0]!);
    // dE/dt = −C θ̇² ≤ 0 between kicks: energy never rises (to round-off), and falls by a lot.
    for (let k = 1; k < energy.length; k++) {
      if (k === K_KICK) continue;
      expect(energy[k]).toBeLessThanOrEqual(energy[k - 1] + 1e-12);
    }
    expect(energy[K_KICK - 1] - energy[0]).toBeLessThan(-0.5);
    // The kick's work p·(θ̇⁻ + θ̇⁺)/2 is exactly the kinetic-energy jump of this quadratic T.
    const dW = work[K_KICK] - work[K_KICK - 1];
    const dE = energy[K_KICK] - energy[K_KICK - 1];
    expect(Math.abs(dW - dE)).toBeLessThan(1e-3); // the damping's work over one step of 1 ms is included
    // RK4 at dt = 1 ms: the ledger is O(dt⁴) per unit time; 1e-9 is ~100× what it reaches here.
    for (const v of ledger) expect(Math.abs(v)).toBeLessThan(1e-9);
    expect(ledger[0]).toBe(0);
    expect(work[0]).toBe(0);
    expect(work.at(-1)!).toBeLessThan(-0.5);
    expect(run.systems[0].forces).toEqual({ damping: C });
  });

  it('is bitwise reproducible: two runs give the same JSON', async () => {
    const a = await runScene(
      pendulumScene([kick, { at: 1.5, type: 'impulse', target: 'p', point: 1, J: [0.4, 0, 0] }]),
    );
    const b = await runScene(
      pendulumScene([kick, { at: 1.5, type: 'impulse', target: 'p', point: 1, J: [0.4, 0, 0] }]),
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('a point impulse J on the bob gives Δθ̇ = Jx cos θ / (m l) (p = J(q)ᵀ J)', async () => {
    const J = 0.4;
    const pointKick: SceneEvent = { at: T_KICK, type: 'impulse', target: 'p', point: 1, J: [J, 0, 0] };
    const kicked = await runScene(pendulumScene([pointKick]));
    const plain = await runScene(pendulumScene([]));
    const theta = series(plain, 'q')[K_KICK];
    const jump = series(kicked, 'qd')[K_KICK] - series(plain, 'qd')[K_KICK];
    expect(jump).toBeCloseTo((J * L * Math.cos(theta)) / (M * L * L), 12);
  });

  it('a constant force and per-copy rows: the run ledger stays ~0 for every copy', async () => {
    const run = await runScene({
      ...pendulumScene([{ ...kick, index: 1 }], {
        count: 2,
        q0: [[1], [0.5]],
        forces: { damping: [C], constant: [[0.3], [-0.2]] },
      }),
      duration: 1.5,
    });
    const ledger = run.recordings.p.ledger!;
    for (const row of ledger) for (const v of row) expect(Math.abs(v!)).toBeLessThan(1e-9);
    // Only copy 1 was kicked: copy 0's work has no jump at T.
    const w = run.recordings.p.work!;
    expect(Math.abs(w[K_KICK][0]! - w[K_KICK - 1][0]!)).toBeLessThan(1e-2);
    expect(Math.abs(w[K_KICK][1]! - w[K_KICK - 1][1]!)).toBeGreaterThan(0.1);
  });

  it('the same scene on the lagrangian engine gives the same trajectory to 1e-9', async () => {
    const a = await runScene(pendulumScene([kick]));
    const b = await runScene(pendulumScene([kick], { engine: 'lagrangian' }));
    const qa = series(a, 'q');
    const qb = series(b, 'q');
    const va = series(a, 'qd');
    const vb = series(b, 'qd');
    for (let k = 0; k < qa.length; k++) {
      expect(Math.abs(qa[k] - qb[k])).toBeLessThan(1e-9);
      expect(Math.abs(va[k] - vb[k])).toBeLessThan(1e-9);
    }
  });
});

describe('scene forces: hostile input is refused with one SceneError naming the field', () => {
  const withForces = (forces: unknown): SceneDefinition =>
    pendulumScene([], { forces: forces as SceneSystem['forces'] });
  const withEvent = (e: unknown): SceneDefinition => pendulumScene([e as SceneEvent]);
  const bad: [string, () => unknown, RegExp][] = [
    [
      'negative damping',
      () => defineScene(withForces({ damping: -1 })),
      /forces \('p'\)\.damping must be a coefficient C in \[0, 1000000\]/,
    ],
    [
      'damping a string',
      () => defineScene(withForces({ damping: 'abc' })),
      /damping must be a number ≥ 0 or an array/,
    ],
    ['damping NaN', () => defineScene(withForces({ damping: Number.NaN })), /damping must be a coefficient/],
    [
      'damping Infinity',
      () => defineScene(withForces({ damping: Number.POSITIVE_INFINITY })),
      /damping must be a coefficient/,
    ],
    [
      'damping over the bound',
      () => defineScene(withForces({ damping: 1e7 })),
      /damping must be a coefficient C in \[0, 1000000\] .*, got 10000000\./,
    ],
    [
      'damping array with a negative',
      () => defineScene(withForces({ damping: [0.1, -2] })),
      /damping\[1\] must be ≥ 0/,
    ],
    [
      'forces not an object',
      () => defineScene(withForces([1])),
      /forces \('p'\) must be an object \{ damping\?, constant\? \}/,
    ],
    [
      'unknown forces key',
      () => defineScene(withForces({ drag: 1 })),
      /unknown key 'drag'; expected damping or constant/,
    ],
    [
      'a callback',
      () => defineScene(withForces({ callback: () => {} })),
      /forces \('p'\)\.callback: a scene is plain data/,
    ],
    [
      'constant not finite',
      () => defineScene(withForces({ constant: [Number.NaN] })),
      /constant must be an array of finite numbers/,
    ],
    [
      'constant over the bound',
      () => defineScene(withForces({ constant: [2e6] })),
      /constant\[0\] must be at most 1000000 in magnitude/,
    ],
    [
      'impulse with qd and p',
      () => defineScene(withEvent({ ...kick, qd: [1] })),
      /needs exactly one of qd .*, got qd, p/,
    ],
    [
      'impulse with nothing',
      () => defineScene(withEvent({ at: 1, type: 'impulse', target: 'p' })),
      /needs exactly one of .* got none/,
    ],
    [
      'impulse p not finite',
      () => defineScene(withEvent({ ...kick, p: ['x'] })),
      /events\[0\]\.p must be an array of finite numbers/,
    ],
    [
      'impulse p over the bound',
      () => defineScene(withEvent({ ...kick, p: [1e9] })),
      /events\[0\]\.p\[0\] must be at most 1000000/,
    ],
    [
      'J of two numbers',
      () => defineScene(withEvent({ at: 1, type: 'impulse', target: 'p', point: 1, J: [1, 0] })),
      /events\[0\]\.J must be 3 numbers/,
    ],
    [
      'point not an integer',
      () => defineScene(withEvent({ at: 1, type: 'impulse', target: 'p', point: 0.5, J: [1, 0, 0] })),
      /events\[0\]\.point must be the index/,
    ],
    [
      'J without point',
      () => defineScene(withEvent({ at: 1, type: 'impulse', target: 'p', J: [1, 0, 0] })),
      /events\[0\]\.point must be the index/,
    ],
  ];
  it.each(bad)('defineScene rejects %s', (_name, make, message) => {
    expect(make).toThrow(SceneError);
    expect(make).toThrow(message);
    let text = '';
    try {
      make();
    } catch (err) {
      text = (err as Error).message;
    }
    expect(text).not.toMatch(/\n/);
  });

  it('checks against the physics when the run starts: dof, points, constant length', async () => {
    await expect(runScene(pendulumScene([{ ...kick, p: [1, 2] }]))).rejects.toThrow(
      /events\[0\]\.p has 2 numbers; 'p' has 1 degrees of freedom/,
    );
    await expect(
      runScene(pendulumScene([{ at: 1, type: 'impulse', target: 'p', point: 2, J: [1, 0, 0] }])),
    ).rejects.toThrow(/events\[0\]\.point 2 does not exist; 'p' \(simple-pendulum\) has 2 drawn points/);
    await expect(runScene(pendulumScene([], { forces: { constant: [1, 2, 3] } }))).rejects.toThrow(
      /systems\[0\] \('p'\): forces: constant must have 1 numbers/,
    );
    await expect(runScene(pendulumScene([], { forces: { damping: [1, 2] } }))).rejects.toThrow(SceneError);
  });

  it('an engine that takes no forces (baseline) is refused, naming the engine', async () => {
    const model = join(ROOT, 'assets', 'models', 'double-pendulum-baseline');
    const scene: SceneDefinition = {
      name: 'baseline-forces',
      dt: 0.01,
      duration: 0.1,
      systems: [
        {
          id: 'b',
          system: 'double-pendulum',
          engine: 'baseline',
          model,
          q0: [1, 0],
          forces: { damping: 0.1 },
        },
      ],
    };
    await expect(runScene(scene)).rejects.toThrow(SceneError);
    await expect(runScene(scene)).rejects.toThrow(/systems\[0\] \('b'\): engine 'baseline' takes no forces/);
    // A generalized impulse on it is refused before the run; a velocity kick (qd) still works.
    const impulse: SceneDefinition = {
      ...scene,
      systems: [{ ...scene.systems[0], forces: undefined }],
      events: [{ at: 0.05, type: 'impulse', target: 'b', p: [1, 0] }],
    };
    await expect(runScene(impulse)).rejects.toThrow(
      /events\[0\] \(impulse p\): engine 'baseline' of 'b' takes no forces/,
    );
    const velocity = await runScene({
      ...impulse,
      events: [{ at: 0.05, type: 'impulse', target: 'b', qd: [1, 0] }],
    });
    expect(velocity.steps).toBe(10);
  });
});
