import type { Engine, EngineId, Integrator, IntegratorId, System } from '../core/types.js';
import { AnalyticEngine } from '../engines/AnalyticEngine.js';
import { createEngine, type EngineOptions } from '../engines/registry.js';
import { createIntegrator, type IntegratorOptions, isIntegratorId } from '../integrators/registry.js';
import { createSystem } from '../systems/registry.js';
import { Emitter } from './Emitter.js';
import { fillState, SystemHandle } from './SystemHandle.js';
import type { JsonValue, SystemSnapshot, WorldSnapshot } from './snapshot.js';

/** Options of the {@link World} constructor. */
export interface WorldOptions {
  /**
   * Step used by {@link World.stepN} when no step is given.
   * @default 1 / 120
   */
  fixedTimeStep?: number;
  /**
   * Default most fixed steps one {@link World.step} call with a frame time may take.
   * @default 10
   */
  maxSubSteps?: number;
}

/** Options of {@link World.add}. */
export interface AddOptions {
  /**
   * An engine instance (kept by the caller, not disposed by the world) or an engine id, created
   * through the engine registry (and disposed by the world).
   * @default 'analytic'
   */
  engine?: Engine | EngineId;
  /**
   * Options for an engine created by id (for example `{ model: 'assets/models/dp' }`).
   * @default {}
   */
  engineOptions?: EngineOptions;
  /**
   * Integrator id or instance.
   * @default 'rk4'
   */
  integrator?: IntegratorId | Integrator;
  /**
   * Options when `integrator` is an id (dopri5 tolerances).
   * @default {}
   */
  integratorOptions?: IntegratorOptions;
  /**
   * Initial q, `[dof]` (all copies alike) or `[count * dof]`.
   * @default zeros
   */
  q0?: ArrayLike<number>;
  /**
   * Initial q̇, `[dof]` or `[count * dof]`.
   * @default zeros
   */
  qd0?: ArrayLike<number>;
  /**
   * Number of copies stepped as one batch.
   * @default 1
   */
  count?: number;
  /**
   * Name, unique within the world.
   * @default `${system.id}-${n}`
   */
  name?: string;
}

/** Options of {@link World.fromJSON}. */
export interface FromJsonOptions {
  /**
   * Builds a system from its id and parameters.
   * @default the system registry's `createSystem`
   */
  createSystem?: (id: string, params: Record<string, number>) => System;
  /**
   * Engine instances to use instead of creating them from the snapshot, by system name
   * (for engines whose options are not JSON, such as an in-memory model).
   * @default {}
   */
  engines?: Record<string, Engine>;
}

/** Payload of `preStep` and `postStep`. The object is reused between steps: copy what you keep. */
export interface StepEvent {
  world: World;
  /** The fixed step being taken. */
  dt: number;
}

/** Payload of `invalid`: a system produced a non-finite state and was frozen. */
export interface InvalidEvent {
  world: World;
  handle: SystemHandle;
  /** Index of the frozen copy within the handle. */
  index: number;
  /** What went wrong, in words. */
  reason: string;
  /** The error thrown by the engine or integrator, if one was. */
  error?: unknown;
}

/** Events of a {@link World}. */
export interface WorldEvents {
  preStep: StepEvent;
  postStep: StepEvent;
  invalid: InvalidEvent;
}

/**
 * Frames that end within this fraction of a step of a step boundary count as reaching it, so that
 * round-off in summed frame times never loses a step (10 s at 144 fps with dt = 1/120 is 1200 steps).
 */
const BOUNDARY_TOLERANCE = 1e-9;

/**
 * Systems, each advanced by an engine and an integrator, on a fixed-timestep clock owned by the caller.
 *
 * - `step(dt)`: one deterministic step of `dt`.
 * - `step(dt, timeSinceLastCalled, maxSubSteps)`: a fixed-timestep accumulator. The (time-scaled)
 *   frame time is added to an accumulator and as many whole steps of `dt` as it holds are taken, at
 *   most `maxSubSteps`; beyond that the excess whole steps are dropped (the simulation runs slower than
 *   real time rather than spiralling), keeping the fraction. `alpha = accumulator / dt` ∈ [0, 1) is
 *   the interpolation factor, and every handle's interpolated state is the state at `alpha` between its
 *   previous and current step. Results depend only on `dt` and the number of steps, never on the
 *   frame rate.
 * - Each step runs {@link World.internalStep}: check state → `preStep` → each system: engine step →
 *   non-finite guard → `postStep`.
 *
 * A system whose state becomes non-finite (or whose engine or integrator throws) is put back to its
 * last finite state — the state before the failed step — flagged in `handle.invalid` and frozen, and an
 * `invalid` event is emitted: NaN never propagates. The same happens to a copy whose state was set
 * non-finite from outside between steps (it goes back to the state before the last step).
 *
 * Adding is async, because engines given by id may load models: `await world.add(system, options)`.
 * With an engine instance at hand, {@link World.addSync} adds without awaiting.
 * @example
 * const world = new World();
 * const dp = await world.add(createSystem('double-pendulum'), { q0: [2, 1], integrator: 'rk4' });
 * let last = performance.now();
 * renderer.setAnimationLoop((now) => {
 *   world.step(1 / 120, (now - last) / 1000);
 *   last = now;
 *   dp.positions(0, points); // interpolated for smooth rendering
 * });
 */
export class World {
  /** Simulated time in seconds (sum of the steps taken). */
  time = 0;
  /** Fixed steps taken so far. */
  stepCount = 0;
  /** Frame time not yet simulated, in seconds (0 ≤ accumulator < dt after a step call). */
  accumulator = 0;
  /** Interpolation factor of the last accumulator step: accumulator / dt. */
  alpha = 0;
  /** While true, {@link World.step} does nothing; {@link World.stepN} still steps. */
  paused = false;
  /** Factor applied to `timeSinceLastCalled` (slow motion < 1 < fast forward). */
  timeScale = 1;
  /** Step used by {@link World.stepN} when none is given. */
  fixedTimeStep: number;
  /** Default `maxSubSteps` of {@link World.step}. */
  maxSubSteps: number;
  /** Steps taken by the last {@link World.step} call. */
  lastSubSteps = 0;
  /** Whole steps dropped by the bail-out so far. */
  droppedSteps = 0;
  /** `preStep`, `postStep` and `invalid` events. */
  readonly events = new Emitter<WorldEvents>();

  private readonly handles: SystemHandle[] = [];
  private nextId = 1;
  private readonly stepEvent: StepEvent = { world: this, dt: 0 };

  constructor(options: WorldOptions = {}) {
    const { fixedTimeStep = 1 / 120, maxSubSteps = 10 } = options;
    checkDt(fixedTimeStep, 'fixedTimeStep');
    checkMaxSubSteps(maxSubSteps);
    this.fixedTimeStep = fixedTimeStep;
    this.maxSubSteps = maxSubSteps;
  }

  /** The systems in the world, in the order they are stepped. */
  get systems(): readonly SystemHandle[] {
    return this.handles;
  }

  /** The handle named `name`, if any. */
  get(name: string): SystemHandle | undefined {
    return this.handles.find((h) => h.name === name);
  }

  /** Listen to an event (shorthand for `world.events.on`). */
  on<K extends keyof WorldEvents>(type: K, listener: (event: WorldEvents[K]) => void): this {
    this.events.on(type, listener);
    return this;
  }

  /** Stop listening (shorthand for `world.events.off`). */
  off<K extends keyof WorldEvents>(type: K, listener: (event: WorldEvents[K]) => void): this {
    this.events.off(type, listener);
    return this;
  }

  /** Listen to the next event of a type only (shorthand for `world.events.once`). */
  once<K extends keyof WorldEvents>(type: K, listener: (event: WorldEvents[K]) => void): this {
    this.events.once(type, listener);
    return this;
  }

  /**
   * Add `system` (`count` copies) with an engine and an integrator. Engines given by id are created
   * through the engine registry, which may load a model: hence async.
   * @throws Error for an unknown engine or integrator, a bad state length or a non-finite number.
   */
  async add(system: System, options: AddOptions = {}): Promise<SystemHandle> {
    const engineSpec = options.engine ?? 'analytic';
    if (typeof engineSpec !== 'string') return this.addSync(system, options);
    this.validateAdd(system, options);
    const engine = await createEngine(engineSpec, system, options.engineOptions ?? {});
    try {
      return this.insert(system, engine, true, options);
    } catch (error) {
      engine.dispose();
      throw error;
    }
  }

  /**
   * Add without awaiting: `options.engine` must be an engine instance, or omitted for the analytic
   * engine.
   * @throws Error when `options.engine` is an id other than `'analytic'` (use {@link World.add}).
   */
  addSync(system: System, options: AddOptions = {}): SystemHandle {
    const engineSpec = options.engine ?? 'analytic';
    this.validateAdd(system, options);
    if (typeof engineSpec === 'string') {
      if (engineSpec !== 'analytic') {
        throw new Error(
          `World.addSync: engine '${engineSpec}' must be created asynchronously; use await world.add()`,
        );
      }
      return this.insert(system, new AnalyticEngine(system), true, options);
    }
    if (engineSpec.system.id !== system.id || engineSpec.system.dof !== system.dof) {
      throw new Error(
        `World.add: the engine is for system '${engineSpec.system.id}' (dof ${engineSpec.system.dof}), ` +
          `not '${system.id}' (dof ${system.dof})`,
      );
    }
    return this.insert(system, engineSpec, false, options);
  }

  /** Remove a system; disposes its engine when the world created it. */
  remove(handle: SystemHandle): void {
    const i = this.handles.indexOf(handle);
    if (i < 0) return;
    this.handles.splice(i, 1);
    if (handle.ownsEngine) handle.engine.dispose();
  }

  /** Remove every system, dispose the engines the world created, drop all listeners. Idempotent. */
  dispose(): void {
    for (const h of [...this.handles]) this.remove(h);
    this.events.clear();
  }

  /**
   * Advance the world.
   * - `step(dt)`: exactly one step of `dt`; the interpolated state is the new state.
   * - `step(dt, timeSinceLastCalled, maxSubSteps?)`: fixed-timestep accumulator (see class docs).
   * Does nothing while {@link World.paused}.
   * @param dt fixed step in seconds, > 0
   * @param timeSinceLastCalled real time since the last call in seconds, ≥ 0 (scaled by timeScale)
   * @param maxSubSteps most steps this call may take; excess whole steps are dropped
   * @returns the number of steps taken
   */
  step(dt: number, timeSinceLastCalled?: number, maxSubSteps: number = this.maxSubSteps): number {
    checkDt(dt, 'dt');
    if (this.paused) {
      this.lastSubSteps = 0;
      return 0;
    }
    if (timeSinceLastCalled === undefined) {
      this.internalStep(dt);
      for (const h of this.handles) h.interpolate(1);
      this.lastSubSteps = 1;
      return 1;
    }
    if (!(timeSinceLastCalled >= 0) || !Number.isFinite(timeSinceLastCalled)) {
      throw new Error(
        `World.step: timeSinceLastCalled must be a finite number >= 0, got ${timeSinceLastCalled}`,
      );
    }
    checkMaxSubSteps(maxSubSteps);
    if (!(this.timeScale >= 0) || !Number.isFinite(this.timeScale)) {
      throw new Error(`World: timeScale must be a finite number >= 0, got ${this.timeScale}`);
    }
    this.accumulator += timeSinceLastCalled * this.timeScale;
    const due = Math.floor(this.accumulator / dt + BOUNDARY_TOLERANCE);
    const substeps = Math.min(due, maxSubSteps);
    for (let i = 0; i < substeps; i++) this.internalStep(dt);
    // Bail-out: whole steps beyond maxSubSteps are dropped, the fraction is kept.
    this.droppedSteps += due - substeps;
    this.accumulator -= due * dt;
    if (this.accumulator < 0) this.accumulator = 0;
    this.alpha = Math.min(this.accumulator / dt, 1);
    for (const h of this.handles) h.interpolate(this.alpha);
    this.lastSubSteps = substeps;
    return substeps;
  }

  /**
   * Take `n` steps of `dt` now, paused or not (single-stepping a paused simulation). The
   * interpolated state is the new state.
   */
  stepN(n: number, dt: number = this.fixedTimeStep): void {
    if (!(Number.isInteger(n) && n >= 0)) throw new Error(`World.stepN: n must be an integer >= 0, got ${n}`);
    checkDt(dt, 'dt');
    for (let i = 0; i < n; i++) this.internalStep(dt);
    for (const h of this.handles) h.interpolate(1);
  }

  /**
   * One step of every system, in a fixed order:
   * 1. check state — a copy whose state was set non-finite between steps is restored and frozen;
   * 2. `preStep`;
   * 3. for each system: keep the state as "previous", engine.step, guard against non-finite results;
   * 4. advance time; `postStep`.
   */
  internalStep(dt: number): void {
    for (const h of this.handles) this.checkState(h);
    const event = this.stepEvent;
    event.dt = dt;
    this.events.emit('preStep', event);
    for (const h of this.handles) {
      h.previousQ.set(h.q);
      h.previousQd.set(h.qd);
      if (h.allInvalid) continue;
      try {
        h.engine.step(h.q, h.qd, h.count, dt, h.integrator);
      } catch (error) {
        this.freezeAll(h, error);
        continue;
      }
      this.guard(h);
    }
    this.stepCount++;
    this.time += dt;
    this.events.emit('postStep', event);
  }

  /** The world as plain JSON (exact: float64 numbers round-trip through JSON). */
  toJSON(): WorldSnapshot {
    return {
      format: 'three-lnn/world',
      version: 1,
      time: this.time,
      stepCount: this.stepCount,
      accumulator: this.accumulator,
      alpha: this.alpha,
      paused: this.paused,
      timeScale: this.timeScale,
      fixedTimeStep: this.fixedTimeStep,
      maxSubSteps: this.maxSubSteps,
      systems: this.handles.map(snapshotOf),
    };
  }

  /**
   * Put this world back into the state of `json`, which must hold the same systems (names, system
   * ids, counts, in order) — for rewinding. Engines and integrators stay as they are.
   * @throws Error when the snapshot is malformed or describes different systems (use World.fromJSON).
   */
  restore(json: WorldSnapshot): void {
    checkSnapshot(json);
    if (json.systems.length !== this.handles.length) {
      throw new Error(
        `World.restore: the snapshot has ${json.systems.length} systems, this world ${this.handles.length}; ` +
          'use World.fromJSON to build a new world',
      );
    }
    json.systems.forEach((s, i) => {
      const h = this.handles[i];
      if (s.name !== h.name || s.system.id !== h.system.id || s.count !== h.count) {
        throw new Error(
          `World.restore: system ${i} is '${s.name}' (${s.system.id} ×${s.count}) in the snapshot but ` +
            `'${h.name}' (${h.system.id} ×${h.count}) here; use World.fromJSON`,
        );
      }
    });
    for (let i = 0; i < json.systems.length; i++) applySnapshot(this.handles[i], json.systems[i]);
    this.applyClock(json);
  }

  /**
   * A new world from a snapshot: systems from the system registry (or `options.createSystem`),
   * engines from the engine registry (or `options.engines`), then the exact saved state.
   */
  static async fromJSON(json: WorldSnapshot, options: FromJsonOptions = {}): Promise<World> {
    checkSnapshot(json);
    const make = options.createSystem ?? createSystem;
    const world = new World({ fixedTimeStep: json.fixedTimeStep, maxSubSteps: json.maxSubSteps });
    try {
      for (const s of json.systems) {
        const system = make(s.system.id, s.system.params);
        const handle = await world.add(system, {
          name: s.name,
          engine: options.engines?.[s.name] ?? s.engine,
          engineOptions: s.engineOptions,
          integrator: s.integrator,
          integratorOptions: s.integratorOptions,
          count: s.count,
          q0: s.q,
          qd0: s.qd,
        });
        applySnapshot(handle, s);
      }
    } catch (error) {
      world.dispose();
      throw error;
    }
    world.applyClock(json);
    return world;
  }

  private applyClock(json: WorldSnapshot): void {
    this.time = json.time;
    this.stepCount = json.stepCount;
    this.accumulator = json.accumulator;
    this.alpha = json.alpha;
    this.paused = json.paused;
    this.timeScale = json.timeScale;
    this.fixedTimeStep = json.fixedTimeStep;
    this.maxSubSteps = json.maxSubSteps;
  }

  private validateAdd(system: System, options: AddOptions): void {
    const count = options.count ?? 1;
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new Error(`World.add: count must be an integer >= 1, got ${count}`);
    }
    if (options.name !== undefined && this.get(options.name)) {
      throw new Error(`World.add: a system named '${options.name}' already exists; choose another name`);
    }
    const integrator = options.integrator ?? 'rk4';
    if (typeof integrator === 'string' && !isIntegratorId(integrator)) {
      createIntegrator(integrator); // throws the error listing the known integrators
    }
    // Check the initial state before an engine is created (it may be expensive).
    const scratch = new Float64Array(system.dof * count);
    fillState(scratch, options.q0 ?? new Float64Array(system.dof), system.dof, count, 'World.add: q0');
    fillState(scratch, options.qd0 ?? new Float64Array(system.dof), system.dof, count, 'World.add: qd0');
  }

  private insert(system: System, engine: Engine, ownsEngine: boolean, options: AddOptions): SystemHandle {
    const count = options.count ?? 1;
    const spec = options.integrator ?? 'rk4';
    const integratorOptions = options.integratorOptions ?? {};
    const integrator = typeof spec === 'string' ? createIntegrator(spec, integratorOptions) : spec;
    const id = this.nextId++;
    let name = options.name ?? `${system.id}-${id}`;
    while (options.name === undefined && this.get(name)) name = `${system.id}-${this.nextId++}`;
    if (this.get(name))
      throw new Error(`World.add: a system named '${name}' already exists; choose another name`);
    const handle = new SystemHandle({
      id,
      name,
      system,
      engine,
      ownsEngine,
      engineOptions: options.engineOptions ?? {},
      integrator,
      integratorOptions,
      count,
      q: options.q0 ?? new Float64Array(system.dof),
      qd: options.qd0 ?? new Float64Array(system.dof),
    });
    this.handles.push(handle);
    return handle;
  }

  /** Stage 1: a copy whose current state is not finite (set from outside) goes back to its previous state. */
  private checkState(h: SystemHandle): void {
    const { q, qd, dof } = h;
    for (let c = 0; c < h.count; c++) {
      if (h.invalid[c] === 1) continue;
      for (let i = c * dof, end = i + dof; i < end; i++) {
        if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) {
          this.freeze(h, c, 'state was set to a non-finite value between steps');
          break;
        }
      }
    }
  }

  /** Stage 3b: frozen copies stay put; a copy that became non-finite is restored, flagged and frozen. */
  private guard(h: SystemHandle): void {
    const { q, qd, dof, previousQ, previousQd } = h;
    for (let c = 0; c < h.count; c++) {
      const start = c * dof;
      const end = start + dof;
      if (h.invalid[c] === 1) {
        for (let i = start; i < end; i++) {
          q[i] = previousQ[i];
          qd[i] = previousQd[i];
        }
        continue;
      }
      for (let i = start; i < end; i++) {
        if (!Number.isFinite(q[i]) || !Number.isFinite(qd[i])) {
          this.freeze(h, c, `non-finite state after a step at t = ${this.time}`);
          break;
        }
      }
    }
  }

  private freeze(h: SystemHandle, c: number, reason: string, error?: unknown): void {
    const start = c * h.dof;
    for (let i = start; i < start + h.dof; i++) {
      h.q[i] = h.previousQ[i];
      h.qd[i] = h.previousQd[i];
    }
    h.invalid[c] = 1;
    const event: InvalidEvent = { world: this, handle: h, index: c, reason };
    if (error !== undefined) event.error = error;
    this.events.emit('invalid', event);
  }

  private freezeAll(h: SystemHandle, error: unknown): void {
    h.lastError = error;
    const message = error instanceof Error ? error.message : String(error);
    for (let c = 0; c < h.count; c++) {
      if (h.invalid[c] === 1) {
        // Already frozen: only undo whatever the failed step wrote.
        const start = c * h.dof;
        h.q.set(h.previousQ.subarray(start, start + h.dof), start);
        h.qd.set(h.previousQd.subarray(start, start + h.dof), start);
      } else {
        this.freeze(h, c, `the engine or integrator failed at t = ${this.time}: ${message}`, error);
      }
    }
  }
}

function checkDt(dt: number, what: string): void {
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0) {
    throw new Error(`World: ${what} must be a finite number > 0, got ${dt}`);
  }
}

function checkMaxSubSteps(n: number): void {
  if (!(Number.isInteger(n) && n >= 1))
    throw new Error(`World: maxSubSteps must be an integer >= 1, got ${n}`);
}

function jsonSafe(options: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(options)) {
    if (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))
      out[k] = v;
    else if (v instanceof URL) out[k] = v.href;
  }
  return out;
}

function snapshotOf(h: SystemHandle): SystemSnapshot {
  const invalid: number[] = [];
  h.invalid.forEach((f, i) => {
    if (f === 1) invalid.push(i);
  });
  const integratorOptions: Record<string, number> = {};
  for (const [k, v] of Object.entries(h.integratorOptions))
    if (typeof v === 'number') integratorOptions[k] = v;
  return {
    name: h.name,
    system: { id: h.system.id, params: { ...h.system.params } },
    engine: h.engine.id,
    engineOptions: jsonSafe(h.engineOptions),
    integrator: h.integrator.id,
    integratorOptions,
    count: h.count,
    q: Array.from(h.q),
    qd: Array.from(h.qd),
    previousQ: Array.from(h.previousQ),
    previousQd: Array.from(h.previousQd),
    invalid,
  };
}

function applySnapshot(h: SystemHandle, s: SystemSnapshot): void {
  h.setState(s.q, s.qd);
  fillState(h.previousQ, s.previousQ, h.dof, h.count, `${s.name}: previousQ`);
  fillState(h.previousQd, s.previousQd, h.dof, h.count, `${s.name}: previousQd`);
  for (const i of s.invalid) {
    if (!(Number.isInteger(i) && i >= 0 && i < h.count)) {
      throw new Error(`${s.name}: invalid copy index ${i} is out of range [0, ${h.count})`);
    }
    h.invalid[i] = 1;
  }
}

function checkSnapshot(json: WorldSnapshot): void {
  if (json === null || typeof json !== 'object' || json.format !== 'three-lnn/world' || json.version !== 1) {
    throw new Error(
      "World snapshot: expected { format: 'three-lnn/world', version: 1, ... } from world.toJSON()",
    );
  }
  for (const key of [
    'time',
    'stepCount',
    'accumulator',
    'alpha',
    'timeScale',
    'fixedTimeStep',
    'maxSubSteps',
  ] as const) {
    if (typeof json[key] !== 'number' || !Number.isFinite(json[key])) {
      throw new Error(`World snapshot: '${key}' must be a finite number, got ${json[key]}`);
    }
  }
  if (!Array.isArray(json.systems)) throw new Error("World snapshot: 'systems' must be an array");
}
