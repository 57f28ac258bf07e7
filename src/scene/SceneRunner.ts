import type { System } from '../core/types.js';
import type { EngineOptions } from '../engines/registry.js';
import type { ForceSpec } from '../forces/GeneralizedForces.js';
import { createRng, normal } from '../math/random.js';
import { systemFrom } from '../world/addOptions.js';
import { ForceSupportError } from '../world/HandleForces.js';
import type { SystemHandle } from '../world/SystemHandle.js';
import type { WorldOptions } from '../world/types.js';
import { World } from '../world/World.js';
import { defineScene } from './defineScene.js';
import { SceneError } from './SceneError.js';
import type {
  AppliedEvent,
  Recording,
  Scene,
  SceneDefinition,
  SceneEvent,
  SceneFailure,
  SceneRun,
  SceneSystem,
} from './types.js';

/** Options of {@link SceneRunner.create}. */
export interface SceneRunnerOptions {
  /**
   * Turns a scene system's `model` into what its engine loads: a directory path in Node, a URL in a
   * browser (e.g. `(m) => new URL(m, import.meta.url)`).
   * @default the string as written
   */
  resolveModel?: (model: string, system: SceneSystem) => string | URL | object;
  /**
   * Called after each event has been applied (a renderer shows markers, reacts to a scene pause).
   * @default none
   */
  onEvent?: (event: AppliedEvent, runner: SceneRunner) => void;
  /**
   * Options of the underlying World (a renderer may set `maxSubSteps` for its accumulator).
   * @default { fixedTimeStep: scene.dt }
   */
  world?: WorldOptions;
  /**
   * Last step recorded by the recorders; later steps still run but are not recorded.
   * @default the scene's duration / dt
   */
  recordSteps?: number;
  /**
   * Options every engine of the scene is created with; a system's own `model`, `backend` and
   * `outsideTraining` take precedence. E.g. `{ threads: 'auto', wasmPaths }` lets learned engines split
   * large batches over worker threads, and `{ outsideTraining: 'run' }` runs every learned system whose
   * scene entry does not say otherwise on parameters other than its model's training values (the app
   * and `three-lnn scene --outside-training` do this). Engines ignore options they do not know.
   * @default {}
   */
  engineDefaults?: EngineOptions;
}

/** A recorder with its buffers. */
interface ActiveRecorder {
  name: string;
  handle: SystemHandle;
  every: number;
  data: Recording;
}

/** Round-off-free time of step k (e.g. 0.3 rather than 0.30000000000000004). */
function timeOf(step: number, dt: number): number {
  return Number((step * dt).toPrecision(12));
}

/** `[dof]` or `[count][dof]` as the flat `[dof]` or `[count * dof]` the World takes. */
function flatState(v: SceneSystem['q0']): number[] | undefined {
  if (v === undefined) return undefined;
  return v.length > 0 && Array.isArray(v[0]) ? (v as number[][]).flat() : (v as number[]);
}

/**
 * Runs a scene on a {@link World}: builds its systems, fires its events at their step boundaries and
 * feeds its recorders. Events and recorders hang on the world's `postStep`, so the numbers are the
 * same however the world is driven — `advance(n)` headless, or `world.step(dt, frameTime)` from a
 * renderer's animation loop.
 *
 * At each step boundary k (k = 0 when created, then after every step): the events due at k are
 * applied in the order written, then every recorder with k % every = 0 records.
 * @example
 * const runner = await SceneRunner.create(scene);
 * runner.advance(runner.steps);
 * const run = runner.result();
 * runner.dispose();
 * @example
 * // In a renderer: the caller owns the clock.
 * renderer.setAnimationLoop((now) => { runner.world.step(runner.dt, (now - last) / 1000); last = now; draw(); });
 */
export class SceneRunner {
  /** The validated scene. */
  readonly scene: Scene;
  /** The world holding the scene's systems (one handle per scene system, named by its `id`). */
  readonly world: World;
  /** Fixed step, seconds. */
  readonly dt: number;
  /** Steps in the scene's duration. */
  readonly steps: number;
  /** Last step the recorders record. */
  recordSteps: number;

  private readonly handles = new Map<string, SystemHandle>();
  private readonly eventsAt = new Map<number, SceneEvent[]>();
  private readonly recorders: ActiveRecorder[] = [];
  private readonly applied: AppliedEvent[] = [];
  private readonly failures: SceneFailure[] = [];
  /** Scene systems held still by a targeted `pause`. */
  private readonly held = new Set<SystemHandle>();
  /** Invalid flags of held systems, saved while the world steps (held copies are marked frozen). */
  private readonly savedFlags = new Map<SystemHandle, Uint8Array>();
  private readonly onEvent?: SceneRunnerOptions['onEvent'];
  private readonly listeners: (() => void)[] = [];

  private constructor(scene: Scene, world: World, options: SceneRunnerOptions) {
    this.scene = scene;
    this.world = world;
    this.dt = scene.dt;
    this.steps = Math.round(scene.duration / scene.dt);
    this.recordSteps = options.recordSteps ?? this.steps;
    this.onEvent = options.onEvent;
  }

  /**
   * Build the scene's systems and engines (learned engines load their models: hence async), then
   * process step boundary 0 (events at t = 0, first records).
   * @throws SceneError naming the scene system at fault (unknown system, engine or integrator, a
   *   vector whose length is not the system's dof, bad parameters)
   */
  static async create(
    definition: SceneDefinition | Scene,
    options: SceneRunnerOptions = {},
  ): Promise<SceneRunner> {
    const scene = defineScene(definition);
    const world = new World({ fixedTimeStep: scene.dt, ...options.world });
    const runner = new SceneRunner(scene, world, options);
    try {
      for (const [i, s] of scene.systems.entries()) await runner.addSystem(s, i, options);
      runner.schedule();
      runner.attach();
    } catch (err) {
      world.dispose();
      throw err;
    }
    runner.boundary(0);
    return runner;
  }

  /** The world handle of scene system `id`. @throws SceneError for an unknown id */
  handle(id: string): SystemHandle {
    const h = this.handles.get(id);
    if (!h)
      throw new SceneError(
        `scene '${this.scene.name}': no system '${id}'; systems: ${[...this.handles.keys()].join(', ')}.`,
      );
    return h;
  }

  /** Steps taken so far (the current step boundary). */
  get stepIndex(): number {
    return this.world.stepCount;
  }

  /** Simulated time, stepIndex · dt. */
  get time(): number {
    return timeOf(this.world.stepCount, this.dt);
  }

  /** Whether the scene's duration has been reached. */
  get done(): boolean {
    return this.world.stepCount >= this.steps;
  }

  /** Take `n` steps now (even while the scene is paused). */
  advance(n = 1): void {
    this.world.stepN(n, this.dt);
  }

  /** The run so far as plain JSON. The arrays are the runner's own: copy before changing them. */
  result(): SceneRun {
    const recordings: Record<string, Recording> = {};
    for (const r of this.recorders) recordings[r.name] = r.data;
    return {
      format: 'three-lnn/scene-run',
      version: 1,
      scene: this.scene.name,
      dt: this.dt,
      duration: this.time,
      steps: this.world.stepCount,
      systems: this.scene.systems.map((s) => {
        const h = this.handles.get(s.id)!;
        return {
          id: s.id,
          system: h.system.id,
          params: { ...h.system.params },
          engine: h.engine.id,
          integrator: h.integrator.id,
          count: h.count,
          dof: h.dof,
          ...(s.forces !== undefined ? { forces: s.forces } : {}),
        };
      }),
      events: this.applied,
      failures: this.failures,
      recordings,
    };
  }

  /** Remove the runner's listeners and dispose the world (and the engines it created). Idempotent. */
  dispose(): void {
    for (const off of this.listeners.splice(0)) off();
    this.world.dispose();
  }

  private async addSystem(s: SceneSystem, i: number, options: SceneRunnerOptions): Promise<void> {
    const where = `scene '${this.scene.name}': systems[${i}] ('${s.id}')`;
    let system: System;
    try {
      system = systemFrom(s.system, s.params);
    } catch (err) {
      throw new SceneError(`${where}: ${(err as Error).message}`);
    }
    const count = s.count ?? 1;
    const q0 = flatState(s.q0);
    const qd0 = flatState(s.qd0);
    for (const [key, v] of [
      ['q0', q0],
      ['qd0', qd0],
    ] as const) {
      if (v !== undefined && v.length !== system.dof && v.length !== system.dof * count) {
        throw new SceneError(
          `${where}: ${key} has ${v.length} numbers; ${system.id} has ${system.dof} degrees of freedom, ` +
            `so give [${system.dof}] or [${count}][${system.dof}].`,
        );
      }
    }
    try {
      const handle = await this.world.add(system, {
        name: s.id,
        engine: s.engine ?? 'analytic',
        engineOptions: options.engineDefaults,
        model: s.model !== undefined && options.resolveModel ? options.resolveModel(s.model, s) : s.model,
        backend: s.backend,
        outsideTraining: s.outsideTraining,
        integrator: s.integrator ?? 'rk4',
        count,
        ...(q0 ? { q0 } : {}),
        ...(qd0 ? { qd0 } : {}),
        ...(s.forces ? { forces: forceSpec(s.forces) } : {}),
      });
      this.handles.set(s.id, handle);
    } catch (err) {
      if (err instanceof ForceSupportError) {
        throw new SceneError(
          `${where}: engine '${s.engine ?? 'analytic'}' takes no forces (${err.message.replace(/^forces: /, '')}); remove its forces or use an engine that takes them (analytic, lagrangian, cannon, lnn, lgn).`,
          { cause: err },
        );
      }
      throw new SceneError(`${where}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Index events by the step boundary they fire at; check their vectors against the systems. */
  private schedule(): void {
    this.scene.events.forEach((e, i) => {
      const target = 'target' in e && e.target !== undefined ? this.handles.get(e.target) : undefined;
      const dof = target?.dof;
      const where = `scene '${this.scene.name}': events[${i}]`;
      for (const key of ['q', 'qd', 'p'] as const) {
        const v = (e as unknown as Record<string, unknown>)[key];
        if (Array.isArray(v) && v.length !== dof) {
          throw new SceneError(
            `${where}.${key} has ${v.length} numbers; '${target?.name}' has ${dof} degrees of freedom.`,
          );
        }
      }
      if (e.type === 'impulse' && target !== undefined && e.qd === undefined) {
        const why = target.forces.unsupported;
        if (why !== null) {
          throw new SceneError(
            `${where} (impulse ${e.p !== undefined ? 'p' : 'on a point'}): engine '${target.engine.id}' of '${target.name}' takes no forces or impulses (${why}); use qd (a velocity change) or an engine that takes forces.`,
          );
        }
        if (e.point !== undefined) {
          const system = target.system;
          if (e.point >= system.pointCount) {
            throw new SceneError(
              `${where}.point ${e.point} does not exist; '${target.name}' (${system.id}) has ${system.pointCount} drawn points (0 to ${system.pointCount - 1}).`,
            );
          }
          if (system.pointJacobian === undefined) {
            throw new SceneError(
              `${where}: ${system.id} gives no point Jacobian, so an impulse on a point is undefined; give a generalized impulse p.`,
            );
          }
        }
      }
      const step = Math.max(0, Math.ceil(e.at / this.dt - 1e-9));
      const list = this.eventsAt.get(step) ?? [];
      list.push(e);
      this.eventsAt.set(step, list);
    });
    for (const r of this.scene.recorders) {
      const data: Recording = { target: r.target, every: r.every, t: [], step: [] };
      for (const q of r.quantities) data[q] = [];
      this.recorders.push({ name: r.name, handle: this.handles.get(r.target)!, every: r.every, data });
    }
  }

  /** Hook into the world's steps. */
  private attach(): void {
    const pre = (): void => {
      // Held systems are marked frozen for the duration of the step, so the world leaves them as they are.
      for (const h of this.held) {
        this.savedFlags.set(h, Uint8Array.from(h.invalid));
        h.invalid.fill(1);
      }
    };
    const post = (): void => {
      for (const [h, flags] of this.savedFlags) h.invalid.set(flags);
      this.savedFlags.clear();
      this.boundary(this.world.stepCount);
    };
    const invalid = (e: { handle: SystemHandle; index: number; reason: string }): void => {
      const step = this.world.stepCount + 1;
      this.failures.push({
        target: e.handle.name,
        index: e.index,
        step,
        t: timeOf(step, this.dt),
        reason: e.reason,
      });
    };
    this.world.on('preStep', pre).on('postStep', post).on('invalid', invalid);
    this.listeners.push(
      () => this.world.off('preStep', pre),
      () => this.world.off('postStep', post),
      () => this.world.off('invalid', invalid),
    );
  }

  /** Step boundary k: apply the events due, then record. */
  private boundary(k: number): void {
    for (const e of this.eventsAt.get(k) ?? []) this.apply(e, k);
    if (k > this.recordSteps) return;
    for (const r of this.recorders) if (k % r.every === 0) this.record(r, k);
  }

  /** Copies an event acts on. */
  private copies(h: SystemHandle, index: number | undefined): number[] {
    return index === undefined ? Array.from({ length: h.count }, (_, c) => c) : [index];
  }

  private apply(e: SceneEvent, k: number): void {
    const log: AppliedEvent = { type: e.type, at: e.at, step: k, t: timeOf(k, this.dt) };
    switch (e.type) {
      case 'impulse': {
        const h = this.handle(e.target);
        for (const c of this.copies(h, e.index)) {
          if (e.qd !== undefined) {
            for (let i = 0; i < h.dof; i++) h.qd[c * h.dof + i] += e.qd[i];
            continue;
          }
          try {
            if (e.p !== undefined) h.forces.applyImpulse(e.p, c, k * this.dt);
            else h.forces.applyPointImpulse(e.point!, e.J!, c, k * this.dt);
          } catch (err) {
            // The engine's mass matrix gave no finite velocity change: the copy is left as it was and frozen.
            if (h.invalid[c] === 0) {
              h.invalid[c] = 1;
              this.failures.push({
                target: h.name,
                index: c,
                step: k,
                t: timeOf(k, this.dt),
                reason: `the impulse could not be applied: ${(err as Error).message}`,
              });
            }
          }
        }
        break;
      }
      case 'setState': {
        const h = this.handle(e.target);
        for (const c of this.copies(h, e.index)) {
          const o = c * h.dof;
          if (e.q) h.q.set(e.q, o);
          if (e.qd) h.qd.set(e.qd, o);
          // A jump, not motion: no interpolation across it; a frozen copy comes back to life.
          h.previousQ.set(h.q.subarray(o, o + h.dof), o);
          h.previousQd.set(h.qd.subarray(o, o + h.dof), o);
          h.interpolatedQ.set(h.q.subarray(o, o + h.dof), o);
          h.interpolatedQd.set(h.qd.subarray(o, o + h.dof), o);
          h.invalid[c] = 0;
        }
        break;
      }
      case 'perturb': {
        const h = this.handle(e.target);
        const rng = createRng(e.seed ?? 1);
        const sq = e.q ?? 0;
        const sv = e.qd ?? 0;
        for (const c of this.copies(h, e.index)) {
          for (let i = c * h.dof; i < (c + 1) * h.dof; i++) h.q[i] += sq * normal(rng);
          for (let i = c * h.dof; i < (c + 1) * h.dof; i++) h.qd[i] += sv * normal(rng);
        }
        break;
      }
      case 'pause':
      case 'resume': {
        if (e.target === undefined) {
          this.world.paused = e.type === 'pause';
        } else {
          const h = this.handle(e.target);
          if (e.type === 'pause') this.held.add(h);
          else this.held.delete(h);
        }
        break;
      }
      case 'marker':
        log.label = e.label;
        break;
    }
    if ('target' in e && e.target !== undefined) log.target = e.target;
    this.applied.push(log);
    this.onEvent?.(log, this);
  }

  private record(r: ActiveRecorder, k: number): void {
    const { handle: h, data } = r;
    const dof = h.dof;
    data.t.push(timeOf(k, this.dt));
    data.step.push(k);
    const copy = (a: Float64Array, c: number): number[] => Array.from(a.subarray(c * dof, (c + 1) * dof));
    if (data.q) data.q.push(Array.from({ length: h.count }, (_, c) => copy(h.q, c)));
    if (data.qd) data.qd.push(Array.from({ length: h.count }, (_, c) => copy(h.qd, c)));
    if (data.energy) {
      data.energy.push(
        Array.from({ length: h.count }, (_, c) => {
          const e = h.system.energy(
            h.q.subarray(c * dof, (c + 1) * dof),
            h.qd.subarray(c * dof, (c + 1) * dof),
          );
          return Number.isFinite(e) ? e : null;
        }),
      );
    }
    if (data.engineEnergy) {
      data.engineEnergy.push(
        Array.from({ length: h.count }, (_, c) => {
          const e = h.engineEnergy(c);
          return e !== undefined && Number.isFinite(e) ? e : null;
        }),
      );
    }
    if (data.work) {
      const w = h.forces.ledger.work;
      data.work.push(Array.from({ length: h.count }, (_, c) => (Number.isFinite(w[c]) ? w[c] : null)));
    }
    if (data.ledger) {
      data.ledger.push(
        Array.from({ length: h.count }, (_, c) => {
          const v = h.ledger(c);
          return Number.isFinite(v) ? v : null;
        }),
      );
    }
    if (data.positions) {
      const out = new Float64Array(h.system.pointCount * 3);
      data.positions.push(
        Array.from({ length: h.count }, (_, c) => {
          h.system.positions(h.q.subarray(c * dof, (c + 1) * dof), out);
          return Array.from(out);
        }),
      );
    }
  }
}

/** A scene system's forces as the World takes them: a `[count][dof]` constant flattened. */
function forceSpec(f: NonNullable<SceneSystem['forces']>): ForceSpec {
  return {
    ...(f.damping !== undefined ? { damping: f.damping } : {}),
    ...(f.constant !== undefined ? { constant: flatState(f.constant)! } : {}),
  };
}
