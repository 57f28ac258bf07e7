import {
  type AppliedEvent,
  type IntegratorId,
  LEARNED_ENGINE_IDS,
  type SceneDefinition,
  SceneRunner,
  type SceneSystem,
  World,
} from '../src/index.js';
import { wasmPaths } from './backend';
import type { Lane } from './Lane';
import { Recorder } from './Recorder';

/** Most push records a run keeps (about 100 s of a drag at 240 steps/s on four lanes). */
export const MAX_PUSH_RECORDS = 100_000;

/** Stepping settings shared by every lane of a scene. */
export interface SimulationSettings {
  /** Step in seconds between recorded samples; split into `substeps` integrator steps. @default 1/120 */
  dt: number;
  /** Integrator steps per `dt`. @default 1 */
  substeps: number;
  /** Integrator used by every lane. @default 'rk4' */
  integrator: IntegratorId;
  /** Simulated seconds per wall-clock second. @default 1 */
  timeScale: number;
  /** Most `dt` steps one frame may take; the rest of the backlog is dropped (bail-out). @default 6 */
  maxStepsPerFrame: number;
  /** Backend passed to learned engines (`webgl`, `wasm`, `cpu`, `js`); undefined = the engine's choice. */
  learnedBackend?: string;
  /** Rayleigh damping C on every lane whose engine takes forces (0: none). @default 0 */
  damping: number;
}

/**
 * One external push on one lane, as applied at a step boundary: a force held over the coming step
 * (`force`, N, on point `point` of copy `copy`), an impulse (`impulse`, N·s), a damping change
 * (`damping`, C), or a state edit of a 3D view's drag (`state`: copy `copy` set to `value` = [q, q̇];
 * `poke`: a grid system's node at point `point` pressed to height `value[0]` with a Gaussian bump of
 * width `value[1]` nodes around it; see `applyStateEdit` in View3D.ts). `step` is the World's step count
 * before the step (integrator steps: `dt / substeps`).
 */
export interface PushRecord {
  step: number;
  lane: string;
  kind: 'force' | 'impulse' | 'damping' | 'state' | 'poke';
  point: number;
  copy: number;
  /** `[Fx, Fy, Fz]`, `[Jx, Jy, Jz]`, `[C]`, `[...q, ...q̇]` of one copy, or `[height, width]`. */
  value: number[];
}

/** Default {@link SimulationSettings}. */
export const defaultSettings: SimulationSettings = {
  dt: 1 / 120,
  substeps: 1,
  integrator: 'rk4',
  timeScale: 1,
  maxStepsPerFrame: 6,
  damping: 0,
};

/** Options of {@link Simulation.build}. */
export interface BuildOptions {
  /** Lane key divergence is measured against. @default 'analytic' */
  referenceKey?: string;
  /** Called for every scene event as it fires (markers, scene pauses). */
  onEvent?: (event: AppliedEvent) => void;
}

/**
 * The app's view of a scene's physics: the scene runs in the core {@link SceneRunner} (the same code
 * `three-lnn scene` runs headless, so the numbers match), driven by the frame clock the app owns
 * (fixed timestep, accumulator, interpolation — the World's). The app's own settings (integrator,
 * `dt` split into substeps, lanes switched off or unavailable) are applied to the scene definition
 * before it runs. Adds the guards' bookkeeping and a bounded recording of the run.
 */
export class Simulation {
  /** The running scene (null before {@link Simulation.build}). */
  runner: SceneRunner | null = null;
  lanes: Lane[] = [];
  /** Lane that divergence is measured against (normally the analytic one). */
  reference: Lane | null = null;
  readonly settings: SimulationSettings;
  readonly recorder = new Recorder();
  /** `dt` steps taken since the run started. */
  steps = 0;
  /** The definition as written by the scene (before the app's settings are applied). */
  definition: SceneDefinition | null = null;
  /**
   * Every push of this run (drags, plucks, damping changes), in step order, per lane that took it; cut
   * back with the recording when a replay branches. Exported with the run.
   */
  readonly pushes: PushRecord[] = [];
  /** Push records not kept because the log reached {@link MAX_PUSH_RECORDS}. */
  pushesDropped = 0;
  /** Whether anything pushed this run (a drag, a pluck, or damping): the export marks it `forced`. */
  forced = false;
  private options: BuildOptions = {};
  private substepCount = 0;
  private readonly stepListeners = new Set<(sim: Simulation) => void>();
  private readonly invalidReasons = new Map<string, string>();
  private readonly idleWorld = new World();
  private pausedWhileIdle = false;

  constructor(settings: Partial<SimulationSettings> = {}) {
    this.settings = { ...defaultSettings, ...settings };
  }

  /** The running scene's world (an empty one before the first build). */
  get world(): World {
    return this.runner?.world ?? this.idleWorld;
  }

  /** Simulated time of the current state, seconds. */
  get t(): number {
    return this.world.time;
  }

  /** Whether the clock is stopped (by the user or by a scene's `pause` event); survives restarts. */
  get paused(): boolean {
    return this.runner ? this.runner.world.paused : this.pausedWhileIdle;
  }

  set paused(p: boolean) {
    this.pausedWhileIdle = p;
    if (this.runner) this.runner.world.paused = p;
  }

  /** Simulated seconds per wall-clock second. */
  get timeScale(): number {
    return this.settings.timeScale;
  }

  set timeScale(s: number) {
    this.settings.timeScale = s;
    if (this.runner) this.runner.world.timeScale = s;
  }

  /** Render interpolation factor of the last frame. */
  get alpha(): number {
    return this.world.alpha;
  }

  /** Called after every `dt` step. Returns an unsubscribe function. */
  onStep(listener: (sim: Simulation) => void): () => void {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  /**
   * Run `definition` with the current settings over `lanes` (one per scene system, same ids). Lanes that
   * are unavailable or switched off are left out of the run.
   * @throws SceneError when the scene is invalid
   */
  async build(definition: SceneDefinition, lanes: Lane[], options: BuildOptions = {}): Promise<void> {
    this.definition = definition;
    this.lanes = lanes;
    this.options = options;
    this.reference = lanes.find((l) => l.key === (options.referenceKey ?? 'analytic')) ?? null;
    await this.rebuild();
  }

  /**
   * Start the run again from t = 0 with the current settings: a new {@link SceneRunner} (engines are
   * recreated; learned ones from the models already loaded).
   */
  async rebuild(keepState = false): Promise<void> {
    const def = this.definition;
    if (!def) return;
    const wasPaused = this.paused;
    this.pausedWhileIdle = wasPaused;
    // To continue a run on new engines (after a lost GPU context): the CPU-side state and clock.
    const kept = keepState
      ? {
          states: new Map(
            this.lanes
              .filter((l) => l.handle)
              .map((l) => [
                l.key,
                [
                  Float64Array.from(l.q),
                  Float64Array.from(l.qd),
                  Float64Array.from(l.handle!.forces.ledger.work),
                ],
              ]),
          ),
          pushes: this.pushes.slice(),
          pushesDropped: this.pushesDropped,
          forced: this.forced,
          time: this.world.time,
          stepCount: this.world.stepCount,
          steps: this.steps,
        }
      : null;
    this.runner?.dispose();
    this.runner = null;
    for (const lane of this.lanes) lane.bind(null);
    const running = this.lanes.filter(
      (l) => l.enabled && l.status !== 'unavailable' && l.status !== 'loading',
    );
    const ids = new Set(running.map((l) => l.key));
    const { dt, substeps, integrator } = this.settings;
    const h = dt / substeps;
    const byKey = new Map(this.lanes.map((l) => [l.key, l]));
    const runDef: SceneDefinition = {
      ...def,
      dt: h,
      duration: Math.max(1, Math.round(def.duration / h)) * h,
      systems: def.systems
        .filter((s) => ids.has(s.id))
        .map((s): SceneSystem => {
          const lane = byKey.get(s.id)!;
          const learned = (LEARNED_ENGINE_IDS as readonly string[]).includes(lane.engineId);
          return {
            ...s,
            integrator,
            ...(lane.model ? { model: lane.model } : {}),
            ...(learned && this.settings.learnedBackend ? { backend: this.settings.learnedBackend } : {}),
            q0: Array.from(lane.q0),
            qd0: Array.from(lane.qd0),
            count: lane.batch,
          };
        }),
      // The app records on its own, with bounded memory.
      recorders: [],
      events: (def.events ?? []).filter(
        (e) => !('target' in e) || e.target === undefined || ids.has(e.target),
      ),
    };
    const runner = await SceneRunner.create(runDef, {
      // Learned engines split batches of 64+ states over worker threads where the page allows it, and
      // run on parameters the user changed away from their model's training values (the lane label says so).
      engineDefaults: { threads: 'auto', wasmPaths, outsideTraining: 'run' },
      resolveModel: (model, s) => byKey.get(s.id)?.loadedModel ?? model,
      onEvent: (e) => this.options.onEvent?.(e),
      world: { fixedTimeStep: h, maxSubSteps: this.settings.maxStepsPerFrame * substeps },
    });
    this.runner = runner;
    // A pause pressed while the run was being rebuilt counts.
    runner.world.paused = this.pausedWhileIdle;
    runner.world.timeScale = this.settings.timeScale;
    runner.world.on('postStep', () => this.afterWorldStep());
    this.pushes.length = 0;
    this.pushesDropped = 0;
    this.forced = false;
    runner.world.on('invalid', (e) => this.invalidReasons.set(e.handle.name, e.reason));
    for (const lane of this.lanes) lane.bind(ids.has(lane.key) ? runner.handle(lane.key) : null);
    this.applyDamping();
    this.substepCount = 0;
    this.invalidReasons.clear();
    if (kept) {
      for (const lane of this.lanes) {
        const st = kept.states.get(lane.key);
        if (st && lane.handle) {
          lane.handle.setState(st[0], st[1]);
          // The run's ledger goes on: E₀ from the start, the work done so far.
          lane.handle.energy0.set(lane.energy0);
          if (st[2].length === lane.handle.count) lane.handle.forces.ledger.work.set(st[2]);
        }
      }
      // No spread: the log may hold up to MAX_PUSH_RECORDS records.
      this.pushes.length = 0;
      for (const r of kept.pushes) this.pushes.push(r);
      this.pushesDropped = kept.pushesDropped;
      this.forced = kept.forced;
      runner.world.setClock({ time: kept.time, stepCount: kept.stepCount });
      this.steps = kept.steps;
      return;
    }
    this.steps = 0;
    this.recorder.start(this.lanes);
    this.recorder.sample(0, 0, this.lanes, this.reference);
  }

  /**
   * At most this many steps of `dt` per frame, under `maxStepsPerFrame` (the app's load governor sets it
   * when stepping cannot keep real time: slow motion). Steps due beyond it are dropped from the clock,
   * never shortened or skipped: the run takes the same steps, later in wall time. null: no cap.
   */
  stepCap: number | null = null;

  /**
   * Advance by a wall-clock frame delta in seconds (clamped to 0.25 s, so a background tab does not
   * return to a backlog). Returns the number of World steps taken.
   */
  advance(frameSeconds: number): number {
    const r = this.runner;
    if (!r) return 0;
    const { dt, substeps, timeScale, maxStepsPerFrame } = this.settings;
    r.world.timeScale = timeScale;
    const delta = Math.min(Math.max(frameSeconds, 0), 0.25);
    const perFrame = this.stepCap === null ? maxStepsPerFrame : Math.min(maxStepsPerFrame, this.stepCap);
    return r.world.step(dt / substeps, delta, perFrame * substeps);
  }

  /**
   * Set Rayleigh damping C on every lane whose engine takes forces, from the next step on (kept for
   * restarts); lanes that take none are marked (their label says `forces unsupported`).
   */
  setDamping(c: number): void {
    if (!(Number.isFinite(c) && c >= 0)) throw new Error(`damping must be a finite number >= 0, got ${c}`);
    this.settings.damping = c;
    this.applyDamping();
  }

  /** Note a push (the pointer drag's force or impulse, a 3D view's state edit) in the run's log. */
  recordPush(record: PushRecord): void {
    // Bounded: a long drag logs a record per lane per step; past the cap records are counted, not kept.
    if (this.pushes.length < MAX_PUSH_RECORDS) this.pushes.push(record);
    else this.pushesDropped++;
    // A state edit reaches every lane, whether its engine takes forces or not: no lane is marked.
    if (record.kind === 'state' || record.kind === 'poke') this.forced = true;
    else this.markForced();
  }

  /** The run is forced from now on: lanes whose engine takes no forces say so. */
  markForced(): void {
    this.forced = true;
    for (const lane of this.lanes) lane.forcesUsed = true;
  }

  private applyDamping(): void {
    const c = this.settings.damping;
    const step = this.world.stepCount;
    for (const lane of this.lanes) {
      const h = lane.handle;
      if (!h || h.forces.unsupported !== null) continue;
      h.forces.setDamping(c);
      if (c > 0 || this.forced)
        this.pushes.push({ step, lane: lane.key, kind: 'damping', point: -1, copy: -1, value: [c] });
    }
    if (c > 0) this.markForced();
    else if (!this.forced) for (const lane of this.lanes) lane.forcesUsed = false;
  }

  /** One `dt` step of every lane now, also while paused (the ‘step’ button). */
  stepOnce(): void {
    this.stepN(1);
  }

  /** `n` steps of `dt` now, regardless of pause and clock. */
  stepN(n: number): void {
    this.runner?.advance(n * this.settings.substeps);
  }

  /**
   * Continue the run from recorded sample `index`: restores every lane's state and the clock, drops the
   * recording after it. Scene events after that moment fire again when it is reached.
   */
  resumeFrom(index: number): void {
    const rec = this.recorder;
    const r = this.runner;
    if (!r || !rec.replayable || index < 0 || index >= rec.length) return;
    rec.restore(index, this.lanes);
    rec.truncate(index);
    this.steps = rec.stepIndex[index];
    r.world.setClock({ time: rec.t[index], stepCount: this.steps * this.settings.substeps });
    // Pushes after the moment branched from are no longer part of the run.
    const at = this.steps * this.settings.substeps;
    let keep = 0;
    while (keep < this.pushes.length && this.pushes[keep].step < at) keep++;
    this.pushes.length = keep;
    // Branched from before the first push (and no damping): the run is unforced again.
    if (keep === 0 && this.settings.damping === 0) {
      this.forced = false;
      for (const lane of this.lanes) lane.forcesUsed = false;
    }
    this.substepCount = 0;
    for (const lane of this.lanes) lane.bind(lane.handle);
  }

  /** Frees the run (its engines) and forgets the lanes. */
  dispose(): void {
    this.runner?.dispose();
    this.runner = null;
    for (const lane of this.lanes) lane.dispose();
    this.lanes = [];
    this.reference = null;
    this.stepListeners.clear();
  }

  private afterWorldStep(): void {
    this.substepCount++;
    if (this.substepCount < this.settings.substeps) return;
    this.substepCount = 0;
    this.steps++;
    const t = this.world.time;
    for (const lane of this.lanes) lane.afterStep(t, this.invalidReasons.get(lane.key));
    this.recorder.sample(t, this.steps, this.lanes, this.reference);
    for (const fn of this.stepListeners) fn(this);
  }
}
