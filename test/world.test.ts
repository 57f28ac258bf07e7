import { describe, expect, it } from 'vitest';
import type { Engine, EngineRoute } from '../src/core/types';
import { AnalyticEngine } from '../src/engines/AnalyticEngine';
import { CpuEngine } from '../src/engines/CpuEngine';
import { registerEngine } from '../src/engines/registry';
import { integrate } from '../src/integrators/integrate';
import { ModelFormatError } from '../src/model/ModelFormatError';
import { createSystem } from '../src/systems/registry';
import { Emitter } from '../src/world/Emitter';
import type { InvalidEvent } from '../src/world/World';
import { World } from '../src/world/World';

const dp = createSystem('double-pendulum');
const Q0 = [(3 * Math.PI) / 7, (3 * Math.PI) / 4];

/** Runs `seconds` of frames at `fps` through the accumulator; returns the world. */
async function runAtFps(fps: number, seconds: number, dt = 1 / 120): Promise<World> {
  const world = new World();
  await world.add(dp, { q0: Q0, qd0: [0, 0], name: 'dp' });
  const frames = Math.round(seconds * fps);
  for (let f = 0; f < frames; f++) world.step(dt, 1 / fps);
  return world;
}

/** q̈ = −sin q except that it returns NaN once q exceeds `limit`: a stand-in for a diverging model. */
class BlowUpEngine extends CpuEngine {
  readonly id = 'blow-up';
  constructor(private readonly limit: number) {
    super(createSystem('simple-pendulum'));
  }
  protected unforced(q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    for (let i = 0; i < batch; i++) qdd[i] = q[i] > this.limit ? Number.NaN : -Math.sin(q[i]);
  }
}

describe('World.step: fixed-timestep accumulator', () => {
  it('10 s at 144 fps with dt = 1/120 takes exactly 1200 steps', async () => {
    const world = await runAtFps(144, 10);
    expect(world.stepCount).toBe(1200);
    expect(world.droppedSteps).toBe(0);
    expect(world.time).toBeCloseTo(10, 10);
  });

  it('30, 60 and 144 fps over 10 s give bitwise identical states', async () => {
    const states = await Promise.all([30, 60, 144].map((fps) => runAtFps(fps, 10)));
    const [a, b, c] = states.map((w) => [...w.systems[0].q, ...w.systems[0].qd]);
    expect(states.map((w) => w.stepCount)).toEqual([1200, 1200, 1200]);
    expect(b, '60 fps vs 30 fps').toEqual(a);
    expect(c, '144 fps vs 30 fps').toEqual(a);
  });

  it('equals the same number of direct integrator steps bitwise', async () => {
    const world = await runAtFps(60, 2);
    const q = Float64Array.from(Q0);
    const qd = new Float64Array(2);
    integrate((x, v, a, n) => dp.accelerations(x, v, a, n), q, qd, 2, 1, {
      t1: 2,
      dt: 1 / 120,
      integrator: 'rk4',
    });
    expect(world.stepCount).toBe(240);
    expect(Array.from(world.systems[0].q)).toEqual(Array.from(q));
    expect(Array.from(world.systems[0].qd)).toEqual(Array.from(qd));
  });

  it('keeps the fraction as alpha and interpolates between the previous and current state', () => {
    const world = new World();
    const h = world.addSync(dp, { q0: Q0 });
    expect(world.step(0.01, 0.025)).toBe(2);
    expect(world.accumulator).toBeCloseTo(0.005, 15);
    expect(world.alpha).toBeCloseTo(0.5, 12);
    for (let i = 0; i < 2; i++) {
      const expected = h.previousQ[i] + world.alpha * (h.q[i] - h.previousQ[i]);
      expect(h.interpolatedQ[i], `interpolated q[${i}]`).toBe(expected);
      expect(h.interpolatedQ[i]).not.toBe(h.q[i]);
    }
    // A frame shorter than the remaining fraction takes no step and only moves alpha.
    const before = Array.from(h.q);
    expect(world.step(0.01, 0.002)).toBe(0);
    expect(Array.from(h.q)).toEqual(before);
    expect(world.alpha).toBeCloseTo(0.7, 10);
  });

  it('bails out after maxSubSteps, dropping whole steps and keeping the fraction', () => {
    const world = new World();
    world.addSync(dp, { q0: Q0 });
    expect(world.step(0.01, 1.003, 5)).toBe(5);
    expect(world.stepCount).toBe(5);
    expect(world.droppedSteps).toBe(95);
    expect(world.accumulator).toBeCloseTo(0.003, 12);
    expect(world.time).toBeCloseTo(0.05, 15);
  });

  it('scales frame time by timeScale', () => {
    const world = new World();
    world.addSync(dp, { q0: Q0 });
    world.timeScale = 0.5;
    for (let f = 0; f < 60; f++) world.step(1 / 120, 1 / 60);
    expect(world.stepCount).toBe(60);
    expect(world.time).toBeCloseTo(0.5, 12);
    expect(() => {
      world.timeScale = -1;
    }, 'checked where it is set').toThrow(/timeScale must be a finite number >= 0, got -1/);
    expect(world.timeScale, 'unchanged').toBe(0.5);
    expect(() => new World({ timeScale: Number.NaN })).toThrow(/timeScale must be/);
    expect(() => {
      world.maxSubSteps = 0;
    }).toThrow(/maxSubSteps must be an integer >= 1/);
    expect(() => {
      world.fixedTimeStep = -1;
    }).toThrow(/fixedTimeStep must be a finite number > 0/);
  });

  it('does nothing while paused; stepN steps anyway', () => {
    const world = new World({ fixedTimeStep: 0.01 });
    const h = world.addSync(dp, { q0: Q0 });
    world.paused = true;
    expect(world.step(0.01, 1)).toBe(0);
    expect(world.step(0.01)).toBe(0);
    expect(world.stepCount).toBe(0);
    expect(world.accumulator, 'paused frames do not accumulate').toBe(0);
    world.stepN(3);
    expect(world.stepCount).toBe(3);
    expect(world.time).toBeCloseTo(0.03, 15);
    expect(Array.from(h.interpolatedQ)).toEqual(Array.from(h.q));
  });

  it('a single-argument step is one deterministic step', () => {
    const a = new World();
    const b = new World();
    const ha = a.addSync(dp, { q0: Q0 });
    const hb = b.addSync(dp, { q0: Q0 });
    for (let i = 0; i < 10; i++) a.step(0.005);
    b.stepN(10, 0.005);
    expect(a.stepCount).toBe(10);
    expect(Array.from(ha.q)).toEqual(Array.from(hb.q));
    expect(Array.from(ha.interpolatedQ)).toEqual(Array.from(ha.q));
  });

  it('rejects dt <= 0, a negative frame time and a bad maxSubSteps', () => {
    const world = new World();
    expect(() => world.step(0)).toThrow(/dt must be a finite number > 0/);
    expect(() => world.step(0.01, -1)).toThrow(/timeSinceLastCalled/);
    expect(() => world.step(0.01, 0.1, 0)).toThrow(/maxSubSteps/);
    expect(() => world.stepN(1.5)).toThrow(/integer/);
  });
});

describe('World events', () => {
  it('fires preStep and postStep around each step, in order', () => {
    const world = new World();
    const h = world.addSync(dp, { q0: Q0 });
    const log: string[] = [];
    let qAtPre = 0;
    world.on('preStep', (e) => {
      log.push(`pre ${e.dt}`);
      qAtPre = h.q[0];
    });
    world.on('postStep', (e) => {
      log.push(`post ${e.dt} ${h.q[0] !== qAtPre}`);
    });
    world.step(0.01, 0.02);
    expect(log).toEqual(['pre 0.01', 'post 0.01 true', 'pre 0.01', 'post 0.01 true']);
  });

  it('emitter: once fires once, off removes, listeners may unsubscribe while firing', () => {
    const e = new Emitter<{ x: number }>();
    const seen: string[] = [];
    const a = (v: number) => seen.push(`a${v}`);
    const b = (v: number) => {
      seen.push(`b${v}`);
      e.off('x', b);
    };
    e.on('x', a)
      .on('x', b)
      .once('x', (v) => seen.push(`o${v}`));
    e.emit('x', 1);
    e.emit('x', 2);
    e.off('x', a);
    e.emit('x', 3);
    expect(seen).toEqual(['a1', 'b1', 'o1', 'a2']);
    const c = (v: number) => seen.push(`c${v}`);
    e.once('x', c);
    e.off('x', c);
    e.emit('x', 4);
    expect(seen).toEqual(['a1', 'b1', 'o1', 'a2']);
  });
});

describe('World non-finite guard', () => {
  it('restores the last finite state, flags, freezes and emits invalid; the other copies go on', () => {
    const world = new World();
    const engine = new BlowUpEngine(1.0);
    // Copy 0 swings past q = 1 (q̈ turns NaN); copy 1 stays small.
    const h = world.addSync(engine.system, { engine, q0: [0.5, 0.1], qd0: [2, 0], count: 2 });
    const events: InvalidEvent[] = [];
    world.on('invalid', (e) => events.push(e));
    let lastFinite = 0;
    for (let i = 0; i < 200; i++) {
      if (h.invalid[0] === 0) lastFinite = h.q[0];
      world.step(0.01);
      expect(Number.isFinite(h.q[0]) && Number.isFinite(h.qd[0]), `finite at step ${i}`).toBe(true);
    }
    expect(Array.from(h.invalid)).toEqual([1, 0]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ handle: h, index: 0 });
    expect(events[0].reason).toMatch(/non-finite/);
    expect(h.q[0], 'frozen at the last finite state').toBe(lastFinite);
    expect(h.q[0]).toBeLessThanOrEqual(1.0 + 0.05);
    expect(h.q[1], 'copy 1 keeps moving').not.toBe(0.1);
  });

  it('freezes the whole handle when the integrator throws (dopri5 on a non-finite q̈)', () => {
    const world = new World();
    const engine = new BlowUpEngine(1.0);
    const h = world.addSync(engine.system, { engine, integrator: 'dopri5', q0: [0.9], qd0: [2] });
    const events: InvalidEvent[] = [];
    world.on('invalid', (e) => events.push(e));
    for (let i = 0; i < 20; i++) world.step(0.05);
    expect(h.invalid[0]).toBe(1);
    expect(events).toHaveLength(1);
    expect(events[0].error).toBeInstanceOf(Error);
    expect(h.lastError).toBe(events[0].error);
    expect(Number.isFinite(h.q[0])).toBe(true);
  });

  it('catches a non-finite state written between steps', () => {
    const world = new World();
    const h = world.addSync(dp, { q0: Q0 });
    world.step(0.01);
    h.q[1] = Number.NaN;
    world.step(0.01);
    expect(h.invalid[0]).toBe(1);
    // The corrupted state is unusable, so the copy goes back to the state before the last step.
    expect(Array.from(h.q)).toEqual(Q0);
    expect(Array.from(h.qd)).toEqual([0, 0]);
    h.setState(Q0, [0, 0]);
    expect(h.anyInvalid, 'setState clears the flags').toBe(false);
  });
});

describe('World.add', () => {
  it('validates the state, the engine and the integrator with clear messages', async () => {
    const world = new World();
    await expect(world.add(dp, { q0: [1, 2, 3] })).rejects.toThrow(/q0 must have 2 numbers.*got 3/);
    await expect(world.add(dp, { q0: [1, Number.NaN] })).rejects.toThrow(/q0\[1\] must be a finite number/);
    await expect(world.add(dp, { engine: 'nope' })).rejects.toThrow(/Unknown engine 'nope'.*analytic/);
    await expect(world.add(dp, { integrator: 'euler' as 'rk4' })).rejects.toThrow(
      /Unknown integrator 'euler'/,
    );
    await expect(world.add(dp, { count: 0 })).rejects.toThrow(/count must be an integer >= 1/);
    await world.add(dp, { name: 'a' });
    await expect(world.add(dp, { name: 'a' })).rejects.toThrow(/already exists/);
    expect(() => world.addSync(dp, { engine: 'lagrangian' })).toThrow(/await world.add/);
    const other = new AnalyticEngine(createSystem('simple-pendulum'));
    expect(() => world.addSync(dp, { engine: other })).toThrow(/engine is for system 'simple-pendulum'/);
    expect(world.systems).toHaveLength(1);
  });

  it('a batch of copies equals separate systems bitwise', async () => {
    const world = new World();
    const count = 8;
    const q0: number[] = [];
    const qd0: number[] = [];
    for (let c = 0; c < count; c++) {
      q0.push(0.3 * c, -0.2 * c);
      qd0.push(0.1 * c, 1 - 0.2 * c);
    }
    const batch = await world.add(dp, { q0, qd0, count });
    const singles = [];
    for (let c = 0; c < count; c++) {
      singles.push(await world.add(dp, { q0: q0.slice(2 * c, 2 * c + 2), qd0: qd0.slice(2 * c, 2 * c + 2) }));
    }
    world.stepN(100, 0.01);
    for (let c = 0; c < count; c++) {
      expect(Array.from(batch.q.subarray(2 * c, 2 * c + 2)), `copy ${c}`).toEqual(Array.from(singles[c].q));
      expect(Array.from(batch.qd.subarray(2 * c, 2 * c + 2)), `copy ${c}`).toEqual(Array.from(singles[c].qd));
    }
  });

  it('a [dof] initial state is shared by every copy; positions and energy read one copy', () => {
    const world = new World();
    const h = world.addSync(dp, { q0: Q0, count: 3 });
    expect(Array.from(h.q)).toEqual([...Q0, ...Q0, ...Q0]);
    const expected = new Float64Array(9);
    dp.positions(Q0, expected);
    expect(Array.from(h.positions(2))).toEqual(Array.from(expected));
    expect(h.energy(1)).toBe(dp.energy(Q0, [0, 0]));
    expect(() => h.energy(3)).toThrow(/out of range/);
  });

  it('the lagrangian engine created by id tracks the analytic one', async () => {
    const world = new World();
    const a = await world.add(dp, { q0: Q0, name: 'analytic' });
    const l = await world.add(dp, { q0: Q0, engine: 'lagrangian', name: 'lagrangian' });
    world.stepN(200, 0.005);
    expect(l.engineId).toBe('lagrangian');
    for (let i = 0; i < 2; i++) expect(Math.abs(l.q[i] - a.q[i]), `q[${i}]`).toBeLessThan(1e-10);
  });

  it('remove and dispose dispose only the engines the world created', async () => {
    const world = new World();
    const mine = new AnalyticEngine(dp);
    const kept = await world.add(dp, { engine: mine });
    const created = await world.add(dp);
    const createdEngine = created.engine as Engine & { disposed: boolean };
    world.remove(created);
    expect(createdEngine.disposed).toBe(true);
    expect(world.systems).toEqual([kept]);
    world.dispose();
    expect(mine.disposed).toBe(false);
    expect(world.systems).toHaveLength(0);
  });
});

describe('World snapshots', () => {
  async function scene(): Promise<World> {
    const world = new World({ fixedTimeStep: 0.004 });
    await world.add(dp, { q0: Q0, qd0: [0.3, -1], name: 'dp' });
    await world.add(createSystem('chain', { links: 3 }), {
      q0: [0.4, 0.2, -0.1],
      count: 2,
      engine: 'lagrangian',
      integrator: 'dopri5',
      integratorOptions: { rtol: 1e-10, atol: 1e-10 },
      name: 'chain',
    });
    world.step(0.004, 0.0917);
    return world;
  }

  it('round-trips through JSON text exactly and continues identically', async () => {
    const world = await scene();
    const json = world.toJSON();
    const text = JSON.stringify(json);
    const copy = await World.fromJSON(JSON.parse(text));
    expect(JSON.stringify(copy.toJSON())).toBe(text);
    expect(copy.systems[1].engineId).toBe('lagrangian');
    expect(copy.systems[1].integratorId).toBe('dopri5');
    for (let f = 0; f < 30; f++) {
      world.step(0.004, 1 / 60);
      copy.step(0.004, 1 / 60);
    }
    expect(JSON.stringify(copy.toJSON())).toBe(JSON.stringify(world.toJSON()));
  });

  it('restore rewinds a world in place; a mismatching snapshot is refused', async () => {
    const world = await scene();
    const saved = JSON.parse(JSON.stringify(world.toJSON()));
    world.stepN(50);
    world.paused = true;
    world.restore(saved);
    expect(world.toJSON()).toEqual(saved);
    const other = new World();
    other.addSync(dp);
    expect(() => other.restore(saved)).toThrow(/World.fromJSON/);
    expect(() => other.restore({ format: 'x' } as never)).toThrow(/three-lnn\/world/);
  });

  it('keeps the invalid flags', async () => {
    const world = new World();
    const h = world.addSync(dp, { q0: Q0, count: 2 });
    h.q[2] = Number.POSITIVE_INFINITY;
    world.step(0.01);
    const copy = await World.fromJSON(JSON.parse(JSON.stringify(world.toJSON())));
    expect(Array.from(copy.systems[0].invalid)).toEqual([0, 1]);
  });
});

describe('World.add: one way to add a system', () => {
  it('takes a registered id with params, and flattens model/backend/route/outsideTraining into the engine options', async () => {
    const seen: Record<string, unknown>[] = [];
    registerEngine('recording-test', (system, options) => {
      seen.push({ ...options });
      return new AnalyticEngine(system);
    });
    const world = new World();
    const h = await world.add('double-pendulum', {
      params: { l1: 1.2 },
      engine: 'recording-test',
      engineOptions: { threads: 2, backend: 'cpu' },
      model: 'assets/models/x',
      backend: 'wasm',
      route: 'js',
      outsideTraining: 'run',
      q0: Q0,
    });
    expect(h.system.id).toBe('double-pendulum');
    expect(h.system.params.l1, 'params applied through the registry').toBe(1.2);
    expect(seen, 'the shorthands win over engineOptions').toEqual([
      { threads: 2, backend: 'wasm', model: 'assets/models/x', route: 'js', outsideTraining: 'run' },
    ]);
    expect(h.engineOptions, 'kept for snapshots').toEqual(seen[0]);
    // An instance with params goes through withParams.
    const h2 = world.addSync(dp, { params: { g: 1.6 } });
    expect(h2.system.params.g).toBe(1.6);
    expect(dp.params.g, 'the instance is left alone').toBe(9.8);
    await expect(world.add('no-such-system')).rejects.toThrow(/Unknown system 'no-such-system'/);
    await expect(world.add(42 as never)).rejects.toThrow(/expected a System or a registered system id/);
    expect(() => world.addSync(dp, { engine: new AnalyticEngine(dp), model: 'x' })).toThrow(
      /'model' configures an engine created by id/,
    );
  });

  it('refuses an engine instance whose model was trained on another system, with the typed error', () => {
    const world = new World();
    const engine = Object.assign(Object.create(new AnalyticEngine(dp)) as AnalyticEngine, {
      model: { source: 'memory', metadata: { kind: 'lnn', system: { id: 'chain' } } },
    });
    let error: unknown;
    try {
      world.addSync(dp, { engine });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelFormatError);
    expect((error as ModelFormatError).problem).toBe('system-mismatch');
    expect(world.systems).toHaveLength(0);
  });
});

describe('World.add: an engine instance steps its own system', () => {
  it('refuses params beside an engine instance (they would reach the handle, not the engine)', async () => {
    const world = new World();
    const engine = new AnalyticEngine(dp);
    await expect(world.add('double-pendulum', { engine, params: { l1: 2 } })).rejects.toThrow(
      /'params' cannot be applied to the engine instance given.*pass an engine built for the system with these parameters.*or an engine id/,
    );
    expect(() => world.addSync(dp, { engine, params: { l1: 2 } })).toThrow(/'params' cannot be applied/);
    expect(world.systems, 'nothing added').toHaveLength(0);
    // With an engine id the parameters reach the engine's system too.
    const byId = await world.add('double-pendulum', { engine: 'analytic', params: { l1: 2 } });
    expect(byId.engine.system.params.l1).toBe(2);
  });

  it('refuses an engine instance built for other parameter values, naming each one', () => {
    const world = new World();
    const moon = createSystem('double-pendulum', { l1: 2, g: 1.6 });
    expect(() => world.addSync(moon, { engine: new AnalyticEngine(dp) })).toThrow(
      /engine steps 'double-pendulum' with other parameter values than the system given: l1 = 1 \(engine\) ≠ 2 \(system\), g = 9\.8 \(engine\) ≠ 1\.6 \(system\); pass an engine built for this system/,
    );
    expect(() => world.addSync(createSystem('simple-pendulum'), { engine: new AnalyticEngine(dp) })).toThrow(
      /engine is for system 'double-pendulum' \(dof 2\), not 'simple-pendulum'/,
    );
    expect(world.systems, 'nothing added').toHaveLength(0);
    // An engine built for equal values (another instance of the same system) is accepted, and the
    // handle and its engine step the same parameters.
    const engine = new AnalyticEngine(createSystem('double-pendulum', { l1: 2, g: 1.6 }));
    const h = world.addSync(moon, { engine, q0: Q0 });
    expect(h.system.params).toEqual(engine.system.params);
    const reference = world.addSync(moon, { q0: Q0 });
    world.stepN(20, 0.01);
    expect(Array.from(h.q)).toEqual(Array.from(reference.q));
  });
});

describe('World.restore: all or nothing', () => {
  /**
   * A stand-in for a learned engine: a `route` setting ('auto' or a route it offers), describeRoute and
   * pinRoute, which refuses routes it does not offer as a learned engine does.
   */
  class PickyEngine extends AnalyticEngine {
    route = 'auto';
    constructor(
      system: ReturnType<typeof createSystem>,
      private readonly offers: readonly string[],
    ) {
      super(system);
    }
    describeRoute(): EngineRoute {
      const route = this.route === 'auto' ? this.offers[0] : this.route;
      return { route, backend: route, precision: route === 'js' ? 'float64' : 'float32' };
    }
    pinRoute(recorded: EngineRoute): void {
      if (!this.offers.includes(recorded.route)) {
        throw new Error(
          `picky engine: cannot replay route '${recorded.route}'; offers ${this.offers.join(', ')}`,
        );
      }
      this.route = recorded.route;
    }
  }

  async function twoSystems(): Promise<{ world: World; a: PickyEngine; b: PickyEngine }> {
    const world = new World();
    const a = new PickyEngine(dp, ['js', 'wasm']);
    const b = new PickyEngine(dp, ['js']);
    world.addSync(dp, { engine: a, q0: Q0, name: 'a' });
    world.addSync(dp, { engine: b, q0: [0.3, -0.2], name: 'b', count: 2 });
    world.step(0.01, 0.055);
    return { world, a, b };
  }

  it('a route the second engine cannot take: throws, and states, clock and routes stay as they were', async () => {
    const { world, a, b } = await twoSystems();
    const snapshot = JSON.parse(JSON.stringify(world.toJSON()));
    snapshot.systems[0].route = { route: 'wasm', backend: 'wasm', precision: 'float32' };
    snapshot.systems[1].route = { route: 'webgl', backend: 'webgl', precision: 'float32' };
    world.stepN(7);
    world.paused = true;
    const before = JSON.stringify(world.toJSON());
    expect(() => world.restore(snapshot)).toThrow(/cannot replay route 'webgl'/);
    expect(JSON.stringify(world.toJSON()), 'states, clock and recorded routes unchanged').toBe(before);
    expect([a.route, b.route], "the first engine's route setting is put back").toEqual(['auto', 'auto']);
    // The same snapshot with routes the engines take restores in full.
    snapshot.systems[1].route = { route: 'js', backend: 'js', precision: 'float64' };
    world.restore(snapshot);
    expect(world.toJSON()).toEqual(snapshot);
    expect([a.route, b.route]).toEqual(['wasm', 'js']);
  });

  it('a bad second system or a bad clock is found before anything is written', async () => {
    const { world } = await twoSystems();
    const good = JSON.parse(JSON.stringify(world.toJSON()));
    world.stepN(5);
    const before = JSON.stringify(world.toJSON());
    const badIndex = structuredClone(good);
    badIndex.systems[1].invalid = [2];
    expect(() => world.restore(badIndex)).toThrow(/invalid copy index 2 is out of range \[0, 2\)/);
    const badState = structuredClone(good);
    badState.systems[1].previousQd = [0, Number.NaN];
    expect(() => world.restore(badState)).toThrow(/b: previousQd\[1\] must be a finite number/);
    for (const [key, value, message] of [
      ['maxSubSteps', 1.5, /maxSubSteps must be an integer >= 1/],
      ['alpha', 2, /alpha must be in \[0, 1\]/],
      ['stepCount', -1, /stepCount must be an integer >= 0/],
      ['fixedTimeStep', 0, /fixedTimeStep must be a finite number > 0/],
    ] as const) {
      expect(() => world.restore({ ...good, [key]: value }), key).toThrow(message);
    }
    expect(JSON.stringify(world.toJSON()), 'unchanged').toBe(before);
  });
});

describe('World clock', () => {
  it('setClock and resetClock; time, stepCount, accumulator and alpha are read-only', () => {
    const world = new World();
    world.addSync(dp, { q0: Q0 });
    world.step(1 / 120, 0.055);
    expect(world.stepCount).toBe(6);
    expect(world.accumulator).toBeGreaterThan(0);
    world.setClock({ time: 2.5, stepCount: 300 });
    expect([world.time, world.stepCount, world.accumulator, world.alpha]).toEqual([2.5, 300, 0, 0]);
    world.stepN(1, 0.01);
    expect(world.time).toBeCloseTo(2.51, 12);
    expect(world.stepCount).toBe(301);
    world.setClock({ time: 1, stepCount: 2, accumulator: 0.004, alpha: 0.5 });
    expect([world.accumulator, world.alpha]).toEqual([0.004, 0.5]);
    world.resetClock();
    expect([world.time, world.stepCount, world.accumulator, world.alpha]).toEqual([0, 0, 0, 0]);
    expect(() => world.setClock({ time: Number.NaN, stepCount: 0 })).toThrow(/time must be a finite number/);
    expect(() => world.setClock({ time: 0, stepCount: 1.5 })).toThrow(/stepCount must be an integer >= 0/);
    expect(() => world.setClock({ time: 0, stepCount: 0, accumulator: -1 })).toThrow(/accumulator/);
    expect(() => world.setClock({ time: 0, stepCount: 0, alpha: 2 })).toThrow(/alpha must be in \[0, 1\]/);
    expect(() => {
      (world as unknown as { time: number }).time = 5;
    }, 'time has no setter').toThrow(TypeError);
    expect(world.time).toBe(0);
  });
});

describe('World snapshots: routes', () => {
  /** An exact engine standing in for a learned one: it describes a route and records the routes pinned. */
  class RoutedEngine extends AnalyticEngine {
    pinned: EngineRoute[] = [];
    current: EngineRoute = { route: 'wasm', backend: 'wasm', precision: 'float32' };
    describeRoute(batch: number): EngineRoute {
      return batch > 1 ? { route: 'js', backend: 'js', precision: 'float64' } : this.current;
    }
    pinRoute(route: EngineRoute): void {
      this.pinned.push(route);
      this.current = route;
    }
  }

  it('records each routed engine’s route, and restore / fromJSON pin it', async () => {
    const world = new World();
    const routed = new RoutedEngine(dp);
    world.addSync(dp, { engine: routed, q0: Q0, name: 'learned' });
    world.addSync(dp, { q0: Q0, name: 'exact', count: 2 });
    world.stepN(3, 0.01);
    const json = JSON.parse(JSON.stringify(world.toJSON()));
    expect(json.version).toBe(2);
    expect(json.systems[0].route).toEqual({ route: 'wasm', backend: 'wasm', precision: 'float32' });
    expect('route' in json.systems[1], 'exact engines record no route').toBe(false);

    routed.current = { route: 'cpu', backend: 'cpu', precision: 'float32' };
    world.stepN(2, 0.01);
    world.restore(json);
    expect(routed.pinned, 'restore pins the recorded route').toEqual([json.systems[0].route]);
    expect(world.toJSON()).toEqual(json);

    const fresh = new RoutedEngine(dp);
    const copy = await World.fromJSON(json, { engines: { learned: fresh } });
    expect(fresh.pinned, 'fromJSON pins it too').toEqual([json.systems[0].route]);
    expect(copy.toJSON()).toEqual(json);
  });

  it('still reads version-1 snapshots (no routes)', async () => {
    const world = new World();
    world.addSync(dp, { q0: Q0, name: 'dp' });
    world.stepN(2, 0.01);
    const v1 = { ...JSON.parse(JSON.stringify(world.toJSON())), version: 1 };
    const copy = await World.fromJSON(v1);
    expect(copy.time).toBe(world.time);
    expect(Array.from(copy.systems[0].q)).toEqual(Array.from(world.systems[0].q));
    expect(() => copy.restore({ ...v1, version: 3 })).toThrow(/version: 1 or 2/);
  });
});
