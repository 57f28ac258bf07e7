import type { Engine, System } from '../core/types.js';
import { AnalyticEngine } from '../engines/AnalyticEngine.js';
import { createEngine, type EngineOptions } from '../engines/registry.js';
import { createIntegrator } from '../integrators/registry.js';
import { checkModelSystemId } from '../model/checkSystem.js';
import {
  type AddOptions,
  checkEngineInstance,
  engineOptionsOf,
  refuseParamsWithInstance,
  type SystemSpec,
  systemFrom,
} from './addOptions.js';
import { checkAddOptions, checkClock, checkDt, checkMaxSubSteps, checkTimeScale } from './checks.js';
import { Emitter } from './Emitter.js';
import { SystemHandle } from './SystemHandle.js';
import {
  type FromJsonOptions,
  loadSnapshot,
  restoreWorld,
  snapshotWorld,
  type WorldSnapshot,
} from './snapshot.js';
import type { InvalidEvent, StepEvent, WorldClock, WorldEvents, WorldOptions } from './types.js';

export type { AddOptions, FromJsonOptions, InvalidEvent, StepEvent, WorldClock, WorldEvents, WorldOptions };

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
  /** While true, {@link World.step} does nothing; {@link World.stepN} still steps. */
  paused = false;
  /** Steps taken by the last {@link World.step} call. */
  lastSubSteps = 0;
  /** Whole steps dropped by the bail-out so far. */
  droppedSteps = 0;
  /** `preStep`, `postStep` and `invalid` events. */
  readonly events = new Emitter<WorldEvents>();

  private readonly handles: SystemHandle[] = [];
  private nextId = 1;
  private readonly stepEvent: StepEvent = { world: this, dt: 0 };
  private clockTime = 0;
  private clockSteps = 0;
  private clockAccumulator = 0;
  private clockAlpha = 0;
  private stepSize = 1 / 120;
  private subStepLimit = 10;
  private scale = 1;

  constructor(options: WorldOptions = {}) {
    this.fixedTimeStep = options.fixedTimeStep ?? 1 / 120;
    this.maxSubSteps = options.maxSubSteps ?? 10;
    this.timeScale = options.timeScale ?? 1;
  }

  /** Simulated time in seconds (sum of the steps taken). Set with {@link World.setClock}. */
  get time(): number {
    return this.clockTime;
  }

  /** Fixed steps taken so far. Set with {@link World.setClock}. */
  get stepCount(): number {
    return this.clockSteps;
  }

  /** Frame time not yet simulated, in seconds (0 ≤ accumulator < dt after a step call). */
  get accumulator(): number {
    return this.clockAccumulator;
  }

  /** Interpolation factor of the last accumulator step: accumulator / dt. */
  get alpha(): number {
    return this.clockAlpha;
  }

  /**
   * Step used by {@link World.stepN} when none is given, in seconds.
   * @throws Error on set, unless a finite number > 0
   */
  get fixedTimeStep(): number {
    return this.stepSize;
  }

  set fixedTimeStep(dt: number) {
    checkDt(dt, 'fixedTimeStep');
    this.stepSize = dt;
  }

  /**
   * Default `maxSubSteps` of {@link World.step}.
   * @throws Error on set, unless an integer >= 1
   */
  get maxSubSteps(): number {
    return this.subStepLimit;
  }

  set maxSubSteps(n: number) {
    checkMaxSubSteps(n);
    this.subStepLimit = n;
  }

  /**
   * Factor applied to `timeSinceLastCalled` (slow motion < 1 < fast forward).
   * @throws Error on set, unless a finite number >= 0
   */
  get timeScale(): number {
    return this.scale;
  }

  set timeScale(s: number) {
    checkTimeScale(s);
    this.scale = s;
  }

  /**
   * Set the clock: to continue a run at a known time (a rewind, a rebuilt world). States are left as
   * they are.
   * @throws Error for a non-finite time, a step count that is not an integer >= 0, a negative
   * accumulator or an alpha outside [0, 1]
   * @example world.setClock({ time: 2.5, stepCount: 300 });
   */
  setClock(clock: WorldClock): void {
    const { time, stepCount, accumulator = 0, alpha = 0 } = checkClock(clock);
    this.clockTime = time;
    this.clockSteps = stepCount;
    this.clockAccumulator = accumulator;
    this.clockAlpha = alpha;
  }

  /** Put the clock back to zero: time, step count, accumulator and alpha. States are left as they are. */
  resetClock(): void {
    this.setClock({ time: 0, stepCount: 0 });
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
   * Add a system (`count` copies), given as an instance or a registered id (with `params`), with an
   * engine and an integrator. Engines given by id are created through the engine registry (the
   * learned ones loaded on first use), with `engineOptions` and the `model`, `backend`, `route` and
   * `outsideTraining` shorthands; a learned engine may load a model: hence async.
   * An engine instance must have been built for the system added (same id, dof and parameter values),
   * and takes no `params`: it steps its own `engine.system`.
   * @throws Error for an unknown system, engine or integrator, a bad state length or a non-finite
   * number, `params` beside an engine instance, an engine instance built for another system or other
   * parameter values; ModelFormatError for a model trained on another system (or other parameter
   * values, unless `outsideTraining: 'run'`).
   * @example await world.add('double-pendulum', { params: { l1: 1.2 }, engine: 'lnn', model, outsideTraining: 'run' });
   */
  async add(spec: SystemSpec, options: AddOptions = {}): Promise<SystemHandle> {
    const engineSpec = options.engine ?? 'analytic';
    if (typeof engineSpec !== 'string') return this.addSync(spec, options);
    const system = systemFrom(spec, options.params);
    const engineOptions = engineOptionsOf(options);
    checkAddOptions(this, system, options);
    const engine = await createEngine(engineSpec, system, engineOptions);
    try {
      return this.insert(system, engine, true, options, engineOptions);
    } catch (error) {
      engine.dispose();
      throw error;
    }
  }

  /**
   * Add without awaiting: `options.engine` must be an engine instance (built for the system added, see
   * {@link World.add}), or omitted for the analytic engine.
   * @throws Error when `options.engine` is an id other than `'analytic'` (use {@link World.add}), and as
   * {@link World.add} does.
   */
  addSync(spec: SystemSpec, options: AddOptions = {}): SystemHandle {
    const engineSpec = options.engine ?? 'analytic';
    if (typeof engineSpec === 'object') refuseParamsWithInstance(engineSpec, options.params);
    const system = systemFrom(spec, options.params, 'World.addSync');
    const engineOptions = engineOptionsOf(options);
    checkAddOptions(this, system, options);
    if (typeof engineSpec === 'string') {
      if (engineSpec !== 'analytic') {
        throw new Error(
          `World.addSync: engine '${engineSpec}' must be created asynchronously; use await world.add()`,
        );
      }
      return this.insert(system, new AnalyticEngine(system), true, options, engineOptions);
    }
    checkEngineInstance(engineSpec, system);
    const trained = engineSpec.model?.metadata.system.id;
    if (trained !== undefined) {
      const source = (engineSpec.model as { source?: unknown }).source;
      checkModelSystemId(
        trained,
        system.id,
        typeof source === 'string' ? source : `of the '${engineSpec.id}' engine`,
      );
    }
    return this.insert(system, engineSpec, false, options, engineOptions);
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
    this.clockAccumulator += timeSinceLastCalled * this.scale;
    const due = Math.floor(this.clockAccumulator / dt + BOUNDARY_TOLERANCE);
    const substeps = Math.min(due, maxSubSteps);
    for (let i = 0; i < substeps; i++) this.internalStep(dt);
    // Bail-out: whole steps beyond maxSubSteps are dropped, the fraction is kept.
    this.droppedSteps += due - substeps;
    this.clockAccumulator -= due * dt;
    if (this.clockAccumulator < 0) this.clockAccumulator = 0;
    this.clockAlpha = Math.min(this.clockAccumulator / dt, 1);
    for (const h of this.handles) h.interpolate(this.clockAlpha);
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
   * 3. for each system: keep the state as "previous", engine.step (from the world's time, under the
   *    handle's forces), guard against non-finite results, add the forces' work to the ledger;
   * 4. advance time; `postStep`.
   */
  internalStep(dt: number): void {
    for (const h of this.handles) this.checkState(h);
    const event = this.stepEvent;
    event.dt = dt;
    this.events.emit('preStep', event);
    const t0 = this.clockTime;
    for (const h of this.handles) {
      h.previousQ.set(h.q);
      h.previousQd.set(h.qd);
      if (h.allInvalid) continue;
      try {
        h.engine.step(h.q, h.qd, h.count, dt, h.integrator, t0, h.forces.forStep());
      } catch (error) {
        this.freezeAll(h, error);
        continue;
      }
      this.guard(h);
      try {
        // The ledger evaluates the forces at the step's Hermite midpoint, where a callback may throw.
        h.forces.afterStep(t0, dt, h.previousQ, h.previousQd);
      } catch (error) {
        this.freezeAll(h, error);
      }
    }
    this.clockSteps++;
    this.clockTime += dt;
    this.events.emit('postStep', event);
  }

  /**
   * The world as plain JSON (exact: float64 numbers round-trip through JSON), with each learned
   * engine's route (see src/world/snapshot.ts).
   */
  toJSON(): WorldSnapshot {
    return snapshotWorld(this);
  }

  /**
   * Put this world back into the state of `json`, which must hold the same systems (names, system
   * ids, counts, in order) — for rewinding. Engines and integrators stay as they are; an engine that
   * can (`pinRoute`) takes the route the snapshot recorded.
   * @throws Error when the snapshot is malformed or describes different systems (use World.fromJSON).
   */
  restore(json: WorldSnapshot): void {
    restoreWorld(this, json);
  }

  /**
   * A new world from a snapshot: systems from the system registry (or `options.createSystem`),
   * engines from the engine registry (or `options.engines`) on their recorded routes, then the exact
   * saved state.
   */
  static async fromJSON(json: WorldSnapshot, options: FromJsonOptions = {}): Promise<World> {
    const world = new World();
    try {
      await loadSnapshot(world, json, options);
    } catch (error) {
      world.dispose();
      throw error;
    }
    return world;
  }

  private insert(
    system: System,
    engine: Engine,
    ownsEngine: boolean,
    options: AddOptions,
    engineOptions: EngineOptions,
  ): SystemHandle {
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
      engineOptions,
      integrator,
      integratorOptions,
      count,
      q: options.q0 ?? new Float64Array(system.dof),
      qd: options.qd0 ?? new Float64Array(system.dof),
    });
    if (options.forces !== undefined) handle.forces.set(options.forces);
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
