import type { IntegratorId } from '../src/core/types';
import { World } from '../src/world/World';
import type { Lane } from './Lane';
import { Recorder } from './Recorder';

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
}

/** Default {@link SimulationSettings}. */
export const defaultSettings: SimulationSettings = {
  dt: 1 / 120,
  substeps: 1,
  integrator: 'rk4',
  timeScale: 1,
  maxStepsPerFrame: 6,
};

/**
 * The app's view of a scene's physics: one {@link World} holding every lane, advanced by the frame
 * clock the app owns (fixed timestep, accumulator, interpolation — the World's), plus guards and a
 * recording of the run. A step of `dt` is `substeps` World steps of `dt / substeps`.
 */
export class Simulation {
  readonly world = new World();
  lanes: Lane[] = [];
  /** Lane that divergence is measured against (normally the analytic one). */
  reference: Lane | null = null;
  readonly settings: SimulationSettings;
  readonly recorder = new Recorder();
  /** `dt` steps taken since the last reset. */
  steps = 0;
  private substepCount = 0;
  private readonly stepListeners = new Set<(sim: Simulation) => void>();
  private readonly invalidReasons = new Map<string, string>();

  constructor(settings: Partial<SimulationSettings> = {}) {
    this.settings = { ...defaultSettings, ...settings };
    this.world.on('postStep', () => this.afterWorldStep());
    this.world.on('invalid', (e) => {
      this.invalidReasons.set(e.handle.name, e.reason);
    });
  }

  /** Simulated time of the current state, seconds. */
  get t(): number {
    return this.world.time;
  }

  get paused(): boolean {
    return this.world.paused;
  }

  set paused(p: boolean) {
    this.world.paused = p;
  }

  /** Render interpolation factor of the last frame. */
  get alpha(): number {
    return this.world.alpha;
  }

  /** Replace the lanes (and reference), put the loaded ones in the world, start a fresh recording. */
  setLanes(lanes: Lane[], referenceKey = 'analytic'): void {
    for (const lane of this.lanes) if (!lanes.includes(lane)) lane.dispose(this.world);
    this.lanes = lanes;
    this.reference = lanes.find((l) => l.key === referenceKey) ?? null;
    this.reset();
  }

  /** Called after every `dt` step. Returns an unsubscribe function. */
  onStep(listener: (sim: Simulation) => void): () => void {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  /** Switch every lane to another integrator and restart from the initial state. */
  setIntegrator(id: IntegratorId): void {
    this.settings.integrator = id;
    this.reset();
  }

  /**
   * Advance by a wall-clock frame delta in seconds (clamped to 0.25 s, so a background tab does not
   * return to a backlog). Returns the number of World steps taken.
   */
  advance(frameSeconds: number): number {
    const { dt, substeps, timeScale, maxStepsPerFrame } = this.settings;
    this.world.timeScale = timeScale;
    const delta = Math.min(Math.max(frameSeconds, 0), 0.25);
    return this.world.step(dt / substeps, delta, maxStepsPerFrame * substeps);
  }

  /** One `dt` step of every lane now, also while paused (the ‘step’ button). */
  stepOnce(): void {
    const { dt, substeps } = this.settings;
    this.world.stepN(substeps, dt / substeps);
  }

  /** `n` steps of `dt` now, regardless of pause and clock. */
  stepN(n: number): void {
    const { dt, substeps } = this.settings;
    this.world.stepN(n * substeps, dt / substeps);
  }

  /** Back to the initial states at t = 0 with the current settings, and a new recording. */
  reset(): void {
    const w = this.world;
    for (const lane of this.lanes) lane.attach(w, this.settings.integrator);
    w.time = 0;
    w.stepCount = 0;
    w.accumulator = 0;
    w.alpha = 0;
    this.steps = 0;
    this.substepCount = 0;
    this.invalidReasons.clear();
    this.recorder.start(this.lanes);
    this.recorder.sample(0, 0, this.lanes, this.reference);
  }

  /** Switch a lane on or off; the run restarts so every lane starts from the same state. */
  setEnabled(lane: Lane, enabled: boolean): void {
    lane.enabled = enabled;
    if (!enabled) lane.detach(this.world);
    this.reset();
  }

  /**
   * Continue the run from recorded sample `index`: restores every lane's state and drops the
   * recording after it.
   */
  resumeFrom(index: number): void {
    const rec = this.recorder;
    if (!rec.replayable || index < 0 || index >= rec.length) return;
    rec.restore(index, this.lanes);
    rec.truncate(index);
    this.world.time = rec.t[index];
    this.steps = rec.stepIndex[index];
    this.world.accumulator = 0;
    this.substepCount = 0;
    for (const lane of this.lanes) {
      if (lane.status === 'stopped') {
        lane.status = 'running';
        lane.reason = '';
        lane.stoppedAt = Number.NaN;
      }
    }
  }

  /** Frees every lane's engine and the world. */
  dispose(): void {
    for (const lane of this.lanes) lane.dispose(this.world);
    this.lanes = [];
    this.reference = null;
    this.stepListeners.clear();
    this.world.dispose();
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
