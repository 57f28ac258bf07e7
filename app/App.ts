import type GUI from 'lil-gui';
import { type DragPoint, PointerDrag } from '../plugins/three/index.js';
import { findScene, type SceneModule, sceneModules } from '../scenes/index.js';
import { resolveOptions, viewOf } from '../scenes/types.js';
import { type AppliedEvent, INTEGRATOR_IDS, type IntegratorId, type SceneDefinition } from '../src/index.js';
import { type BackendChoice, type BackendReport, initBackend } from './backend.js';
import { Controls, type ControlsHost, writeUrl } from './Controls.js';
import type { RunInfo } from './exportRun.js';
import { FieldView } from './FieldView.js';
import type { Lane } from './Lane.js';
import { LearnPanel } from './learn/LearnPanel.js';
import { LearnSession } from './learn/LearnSession.js';
import { LOAD_LEVELS, LoadGovernor, type LoadLevel, PACES, type Pace } from './loadGovernor.js';
import { LEARNED_ENGINES, loadLane } from './loadLane.js';
import { PendulumFieldView } from './PendulumFieldView.js';
import { Plots } from './Plots.js';
import { RigView } from './RigView.js';
import { laneRoutes, pinLaneRoutes } from './routes.js';
import { Shell } from './Shell.js';
import { Simulation } from './Simulation.js';
import { Stage } from './Stage.js';
import { SurfaceView } from './SurfaceView.js';
import { sceneLanes } from './sceneLanes.js';
import { Timeline, type TimelineHost } from './Timeline.js';
import { type AppUrlState, type EngineRoute, formatUrlState, parseUrlState } from './urlState.js';
import { type StateEdit, type View3D, ViewDrag } from './View3D.js';

/**
 * The comparison app: opens a scene as lanes (one per engine) over a {@link Simulation}, and runs the
 * frame loop that advances it and updates the parts around it: the 3D {@link Stage}, the page
 * {@link Shell} (legend, banners, gallery), the {@link Plots}, the {@link Timeline} (replay, export) and
 * the lil-gui {@link Controls}. The view's state lives in the URL.
 */
export class App implements ControlsHost, TimelineHost {
  sim: Simulation = new Simulation();
  module: SceneModule | null = null;
  definition: SceneDefinition | null = null;
  lanes: Lane[] = [];
  backend: BackendReport | null = null;
  /** The view's shareable state (mirrored in the address bar). */
  url: AppUrlState;
  /** Frames rendered since start. */
  frame = 0;
  /** Milliseconds spent per part of the frame since the scene opened (physics, views, render, plots). */
  readonly timings = { frames: 0, physics: 0, views: 0, render: 0, plots: 0 };
  /**
   * Lowers what is drawn (pixel ratio, trail points, plot refreshes; never the physics) when frames miss
   * the 60 fps budget for a while, and raises it again with headroom. Fed only by the page's own
   * animation loop: under the manual clock ({@link App.setManualClock}) it stays at full load.
   */
  readonly governor = new LoadGovernor();
  /** Milliseconds the last frame spent stepping the physics (the governor's cue for slow motion). */
  private lastPhysicsMs = 0;
  private manual = false;
  readonly shell: Shell;
  readonly stage: Stage;
  readonly plots: Plots;
  readonly timeline: Timeline;
  readonly controls: Controls;
  rigView: RigView | null = null;
  fieldView: FieldView | null = null;
  /** A 3D scene's own view (membrane surface, field of pendulums), or null. */
  sceneView: View3D | null = null;
  /**
   * Drag and pluck (the three.js plugin's {@link PointerDrag}): a press on a bob of any lane pushes the
   * same point of every lane with the same force, set at step boundaries. Null without WebGL.
   */
  readonly drag: PointerDrag | null;
  /**
   * Drag in a 3D scene's own view ({@link ViewDrag}): a press on a body (a membrane's surface, a pendulum
   * of the field) grabs it and edits the same state of every lane at each step; logged with the pushes.
   * Null without WebGL.
   */
  readonly viewDrag: ViewDrag | null;
  /** "Learn this scene": a network trained in a worker, drawn as an extra lane ({@link LearnSession}). */
  readonly learn: LearnSession = new LearnSession(this);
  private learnPanel: LearnPanel | null = null;
  private lastTime = 0;
  private plotClock = 0;
  private readonly hud: HTMLElement | null;
  private externallyDriven = false;
  private wasPausedBeforeLoss = false;
  private opening: Promise<unknown> | null = null;

  constructor(root: HTMLElement) {
    this.url = parseUrlState(location.search);
    this.shell = new Shell(root, {
      openScene: (id) => void this.openScene(id),
      shareLink: () => {
        this.url.routes = this.routes();
        this.writeUrl();
        return location.href;
      },
    });
    const el = this.shell.elements;
    this.controls = new Controls(el.gui, this);
    this.plots = new Plots(el.plots);
    this.stage = new Stage(el.viewport, {
      content: () => this,
      banner: (...args) => this.shell.banner(...args),
      clearBanner: (id) => this.shell.clearBanner(id),
      onContextLost: () => {
        this.wasPausedBeforeLoss = this.sim.paused;
        this.sim.paused = true;
      },
      onContextRestored: () => this.recoverContext(),
    });
    this.timeline = new Timeline(el.timeline, this);
    this.hud = el.viewport.querySelector('.hud');
    this.drag = this.createDrag();
    this.viewDrag = this.createViewDrag();
  }

  /** The drag over a 3D scene's own view: state edits of every running lane, logged as pushes. */
  private createViewDrag(): ViewDrag | null {
    const el = this.stage.pointerElement;
    if (!el) return null;
    const app = this;
    const host = {
      get world() {
        return app.sim.world;
      },
      get view() {
        return app.sceneView;
      },
      get lanes() {
        return app.lanes;
      },
      record: (lane: Lane, edit: StateEdit, step: number) => {
        app.sim.recordPush({
          step,
          lane: lane.key,
          kind: edit.kind,
          point: edit.point,
          copy: edit.copy,
          value: [...edit.value],
        });
      },
    };
    return new ViewDrag(host, this.stage.camera, el, this.stage.orbit);
  }

  /**
   * The pointer drag over the 3D view: grabs the nearest bob (joint, node) of any drawn lane and pulls the
   * same point of every lane with the same world-space force F = k (pointer − x) − c ẋ, computed from the
   * grabbed lane (or, where its engine takes no forces, the first lane that does); a flick plucks all of
   * them. Forces are set in the World's `preStep`, so a run is a function of its steps, and every push is
   * logged per lane ({@link Simulation.pushes}). Lanes whose engine takes no forces are not pushed and say
   * so.
   */
  private createDrag(): PointerDrag | null {
    const el = this.stage.pointerElement;
    if (!el) return null;
    const app = this;
    const drawn = () => app.rigView?.dragSystems() ?? [];
    const source = {
      get world() {
        return app.sim.world;
      },
      get systems() {
        return drawn().map((d) => d.system);
      },
    };
    const drag = new PointerDrag(source, this.stage.camera, el, {
      controls: this.stage.orbit,
      targets: (grab) => {
        const all = drawn();
        // The grabbed lane first: it drives the spring when its engine takes forces.
        all.sort((a, b) => Number(b.system === grab.system) - Number(a.system === grab.system));
        return all
          .filter((d) => grab.copy < d.system.count && grab.point < d.system.system.pointCount)
          .map((d): DragPoint => ({ system: d.system, copy: grab.copy, point: grab.point }));
      },
    });
    const laneOf = (system: DragPoint['system']) => drawn().find((d) => d.system === system)?.lane;
    const note = () => {
      for (const lane of this.lanes) lane.forcesUsed = true;
      this.renderLegend();
    };
    drag.on('grab', note);
    drag.on('unsupported', note);
    drag.on('force', (e) => {
      const lane = laneOf(e.system);
      if (lane) {
        this.sim.recordPush({
          step: e.step,
          lane: lane.key,
          kind: 'force',
          point: e.point,
          copy: e.copy,
          value: [...e.force],
        });
      }
    });
    drag.on('impulse', (e) => {
      const lane = laneOf(e.system);
      if (lane) {
        this.sim.recordPush({
          step: e.step,
          lane: lane.key,
          kind: 'impulse',
          point: e.point,
          copy: e.copy,
          value: [...e.impulse],
        });
      }
    });
    return drag;
  }

  /** When true, only {@link App.runFrames} advances the app (the animation loop just idles). */
  get manualClock(): boolean {
    return this.manual;
  }

  /**
   * Take the clock (`true`: only {@link App.runFrames} advances the app) or give it back. Taking it also
   * puts the load governor back to full load and keeps it there, so that what tests draw does not
   * depend on how fast the page ran before.
   */
  setManualClock(on: boolean): void {
    this.manual = on;
    this.governor.reset();
    this.applyLoad(this.governor.level, this.governor.pace);
  }

  /** The load level in use (see {@link LoadGovernor}). */
  get loadLevel(): LoadLevel {
    return this.governor.level;
  }

  /** The pace in use (see {@link LoadGovernor}): real time, or slow motion when stepping cannot keep up. */
  get pace(): Pace {
    return this.governor.pace;
  }

  /** Initialise TF.js, open the scene named in the URL (or the default) and start the frame loop. */
  async start(): Promise<void> {
    this.backend = await initBackend((this.url.backend as BackendChoice) ?? 'auto');
    const urlProblems = this.url.problems ?? [];
    if (urlProblems.length > 0) {
      this.banner(`Parts of the link were left out: ${urlProblems.slice(0, 3).join('; ')}.`, 'warn');
    }
    if (this.backend.fallbackReason)
      this.banner(`TF.js fell back to ${this.backend.name}: ${this.backend.fallbackReason}.`, 'warn');
    await this.openScene(this.url.scene ?? sceneModules[0].id, this.url.options, true);
    this.lastTime = performance.now();
    this.stage.startLoop((now) => this.onAnimationFrame(now));
  }

  /** Ids of the registered scenes. */
  get sceneIds(): string[] {
    return sceneModules.map((m) => m.id);
  }

  /** Show a message over the viewport; `id` replaces an earlier one with the same id. */
  banner(text: string, level: 'info' | 'warn' | 'error', id?: string, timeoutMs?: number): void {
    this.shell.banner(text, level, id, timeoutMs);
  }

  /**
   * Open a scene: build its definition with the given options, create its lanes (learned engines that
   * cannot load become ‘unavailable’, never an error), views, plots and controls.
   * @param keepUrlState apply the initial-state / settings overrides from the URL (first load)
   */
  async openScene(
    id: string,
    options: Record<string, string | number> = {},
    keepUrlState = false,
  ): Promise<void> {
    await this.settled();
    const p = this.open(id, options, keepUrlState);
    this.opening = p;
    try {
      await p;
    } finally {
      if (this.opening === p) this.opening = null;
    }
  }

  /** Resolves when no scene is being opened or rebuilt. */
  async settled(): Promise<void> {
    while (this.opening) await this.opening.catch(() => {});
  }

  /** Run `n` frames now with a fixed frame time (the test hook; bypasses the animation loop's clock). */
  async runFrames(n: number, frameSeconds = 1 / 60): Promise<void> {
    await this.settled();
    this.externallyDriven = true;
    try {
      for (let i = 0; i < n; i++) {
        this.tick(frameSeconds);
        // Yield now and then so the page stays responsive (and the browser can composite).
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 0));
      }
      this.plots.update(this.sim.recorder, true);
    } finally {
      this.externallyDriven = false;
      this.lastTime = performance.now();
    }
  }

  /** Restart the run from the initial state with the current settings (models stay loaded). */
  async restart(): Promise<void> {
    await this.settled();
    this.drag?.release();
    this.viewDrag?.release();
    this.timeline.reset();
    const rebuild = this.sim.rebuild();
    this.opening = rebuild;
    try {
      await rebuild;
      this.pinRoutes();
    } catch (err) {
      this.banner(`Restart failed: ${(err as Error).message}`, 'error');
    } finally {
      if (this.opening === rebuild) this.opening = null;
    }
    this.rigView?.clearTrails();
    this.fieldView?.reset();
    this.plots.update(this.sim.recorder, true);
    this.renderLegend();
    this.writeUrl();
  }

  /** The route each running learned lane takes now, by lane key. */
  routes(): Record<string, EngineRoute> {
    return laneRoutes(this.lanes);
  }

  // ---------------------------------------------------------------- hosts of the parts

  /** The lanes drawn: the scene's, and the learned lane while one trains. */
  get viewLanes(): readonly Lane[] {
    return this.learn.lane ? [...this.lanes, this.learn.lane] : this.lanes;
  }

  /** The Learn folder of the controls (see {@link LearnPanel}). */
  buildLearnFolder(gui: GUI): GUI {
    this.learnPanel?.dispose();
    this.learnPanel = new LearnPanel(gui, this.learn);
    return this.learnPanel.folder;
  }

  /** The learned lane appeared or went: draw the lanes again (not while a scene opens: it draws its own). */
  lanesChanged(): void {
    if (this.opening || !this.module || this.fieldView || !this.rigView) return;
    this.rigView.dispose();
    this.rigView = null;
    const module = this.module;
    this.buildView(resolveOptions(module, this.url.options));
    this.stage.frame();
    this.renderLegend();
  }

  stepOnce(): void {
    this.timeline.stepOnce();
  }

  updateTimeline(): void {
    this.timeline.update();
  }

  frameCamera(): void {
    this.stage.frame();
  }

  toggleGallery(open: boolean): void {
    this.shell.toggleGallery(open);
  }

  writeUrl(): void {
    writeUrl(this.url);
  }

  clearTrails(): void {
    this.rigView?.clearTrails();
  }

  refreshControls(): void {
    this.controls.refresh();
  }

  runInfo(): RunInfo {
    const routes = this.routes();
    const search = formatUrlState({ ...this.url, routes });
    return {
      scene: this.module?.id ?? '',
      dt: this.sim.settings.dt,
      substeps: this.sim.settings.substeps,
      integrator: this.sim.settings.integrator,
      backend: this.backend?.name ?? '',
      url: `${location.origin}${location.pathname}${search}`,
      routes,
      forced: this.sim.forced,
      damping: this.sim.settings.damping,
      pushes: this.sim.pushes,
      pushesDropped: this.sim.pushesDropped,
    };
  }

  exportName(): string {
    return `three-lnn-${this.module?.id ?? 'run'}-${this.sim.t.toFixed(1)}s`;
  }

  // ---------------------------------------------------------------- frame loop

  private onAnimationFrame(now: number): void {
    if (this.externallyDriven || this.manual || this.opening) {
      this.lastTime = now;
      this.governor.clearWindow();
      return;
    }
    const intervalMs = now - this.lastTime;
    this.lastTime = now;
    const workMs = this.tick(intervalMs / 1000);
    if (this.sim.paused || this.timeline.replaying) return;
    const { changed, level, pace } = this.governor.sample(intervalMs, workMs, this.lastPhysicsMs);
    if (changed) this.applyLoad(level, pace);
  }

  /**
   * Draw at a load level and step at a pace: the stage's pixel ratio, the trails' drawn points, the
   * plots' refresh interval, the most steps per frame; the viewport's corner says what is lowered (text,
   * so it reads on touch screens too).
   */
  private applyLoad(level: LoadLevel, pace: Pace): void {
    this.stage.setPixelRatioCap(level.pixelRatioCap);
    this.rigView?.setTrailScale(level.trailScale);
    this.sim.stepCap = pace.stepsPerFrame;
    if (!this.hud) return;
    const lines: string[] = [];
    if (level.level > 0) {
      lines.push(
        `Lighter drawing ${level.level}/${LOAD_LEVELS.length - 1}: ${level.name} (frames missed 60 fps; physics unchanged)`,
      );
    }
    if (pace.level > 0) {
      lines.push(
        `Slow motion ${pace.level}/${PACES.length - 1}: ${pace.name.replace('slow motion: ', '')} (stepping misses real time; same trajectory)`,
      );
    }
    this.hud.textContent = lines.join('\n');
    this.hud.dataset.load = String(level.level);
    this.hud.dataset.pace = String(pace.level);
  }

  /**
   * One frame: advance the clock, loop the scene if it asks to, update views, plots and timeline.
   * Returns the milliseconds it took.
   */
  private tick(delta: number): number {
    if (this.stage.contextLost) return 0;
    const tm = this.timings;
    const live = !this.timeline.replaying;
    // No pushes into a replay (scrubbing back): the recording is not the live run.
    for (const drag of [this.drag, this.viewDrag]) {
      if (!drag) continue;
      drag.enabled = live && !this.opening;
      if (!live) drag.release();
    }
    const t0 = performance.now();
    if (live) this.sim.advance(delta);
    this.learn.tick();
    const loop = this.module?.loopAfter;
    if (loop && this.sim.t >= loop && live && !this.opening) void this.restart();
    const t1 = performance.now();
    this.lastPhysicsMs = t1 - t0;
    this.rigView?.update(this.sim.t);
    this.fieldView?.update(this.sim.t);
    this.sceneView?.update(this.sim.t);
    const t2 = performance.now();
    this.stage.render();
    const t3 = performance.now();
    this.plotClock += delta;
    if (this.plotClock > this.governor.level.plotSeconds) {
      this.plotClock = 0;
      if (live) this.plots.update(this.sim.recorder);
      this.timeline.update();
      this.renderLegend();
    }
    const t4 = performance.now();
    tm.frames++;
    tm.physics += t1 - t0;
    tm.views += t2 - t1;
    tm.render += t3 - t2;
    tm.plots += t4 - t3;
    this.frame++;
    return t4 - t0;
  }

  /** Compile every shader and run one frame of rendering before the clock starts. */
  private async warmUp(): Promise<void> {
    this.rigView?.update();
    this.fieldView?.update(0);
    this.sceneView?.update(0);
    if (!this.stage.hasRenderer) return;
    await this.stage.compile();
    this.rigView?.clearTrails();
    this.stage.render();
  }

  // ---------------------------------------------------------------- scene lifecycle

  private async open(id: string, options: Record<string, string | number>, keepUrlState: boolean) {
    const module = findScene(id) ?? sceneModules[0];
    if (module.id !== id) this.banner(`Unknown scene '${id}', showing '${module.id}'.`, 'warn');
    const opts = resolveOptions(
      module,
      Object.fromEntries(Object.entries(options).map(([k, v]) => [k, String(v)])),
    );
    let def: SceneDefinition;
    try {
      def = module.build(opts);
    } catch (err) {
      this.banner(`Scene '${module.id}': ${(err as Error).message}`, 'error');
      if (module === sceneModules[0]) throw err;
      // A bad option (e.g. a Lagrangian that does not parse) keeps the scene that runs; on first
      // load, the default scene opens instead.
      if (!this.module) setTimeout(() => void this.openScene(sceneModules[0].id), 0);
      return;
    }
    this.teardownScene();
    Object.assign(this.timings, { frames: 0, physics: 0, views: 0, render: 0, plots: 0 });
    this.module = module;
    this.definition = def;
    if (!keepUrlState) {
      this.url = {
        ...this.url,
        options: {},
        q0: undefined,
        qd0: undefined,
        off: [],
        models: {},
        params: {},
        routes: {},
        dt: undefined,
        substeps: undefined,
        integrator: undefined,
      };
    }
    this.url.scene = module.id;
    this.url.options = Object.fromEntries(
      (module.options ?? [])
        .filter((o) => opts[o.name] !== o.default)
        .map((o) => [o.name, String(opts[o.name])]),
    );
    this.shell.setScene(module.title, module.summary);

    const s = this.sim.settings;
    s.dt = this.url.dt ?? def.dt;
    s.substeps = Math.max(1, Math.round(this.url.substeps ?? 1));
    const integ = (this.url.integrator ?? def.systems[0]?.integrator ?? 'rk4') as IntegratorId;
    s.integrator = INTEGRATOR_IDS.includes(integ) ? integ : 'rk4';
    s.timeScale = this.url.timeScale ?? 1;
    s.damping = this.url.damping ?? 0;

    this.lanes = sceneLanes(def, this.url);
    this.buildView(opts);
    this.plots.phaseIndex = Math.min(
      this.url.phase ?? module.phaseCoordinate?.(opts) ?? 0,
      (this.lanes[0]?.system.dof ?? 1) - 1,
    );
    this.plots.setLanes(this.lanes, module.coordinates);
    this.renderLegend();
    const choice = this.url.backend ?? 'auto';
    this.sim.settings.learnedBackend = choice === 'auto' ? undefined : choice;
    await Promise.all(this.lanes.map((lane) => loadLane(lane, this.sim.settings.learnedBackend)));
    for (const lane of this.lanes) {
      if (lane.status === 'unavailable') this.shell.notices.push(`${lane.key}: ${lane.reason}`);
    }
    this.sim.paused = this.url.paused ?? false;
    await this.sim.build(def, this.lanes, {
      referenceKey: module.reference ?? 'analytic',
      onEvent: (e) => this.onSceneEvent(e),
    });
    this.pinRoutes();
    this.fieldView?.reset();
    this.rigView?.clearTrails();
    this.controls.build();
    this.renderLegend();
    this.timeline.reset();
    this.stage.frame();
    await this.warmUp();
    this.plots.update(this.sim.recorder, true);
    this.writeUrl();
  }

  private buildView(options: Record<string, string | number>): void {
    const module = this.module!;
    const view = viewOf(module, options);
    if (view.kind === 'surface' || view.kind === 'pendulums') {
      const lanes = this.lanes;
      this.sceneView =
        view.kind === 'surface' ? new SurfaceView(lanes, view) : new PendulumFieldView(lanes, view);
      this.stage.scene.add(this.sceneView.group);
      return;
    }
    if (view.kind === 'field') {
      const ref = this.lanes.find((l) => l.key === (module.reference ?? 'analytic')) ?? null;
      this.fieldView = new FieldView(this.lanes, view, ref);
      this.stage.scene.add(this.fieldView.group);
      return;
    }
    this.rigView = new RigView(this.viewLanes, {
      layout: this.url.layout ?? view.layout ?? 'side',
      spacing: view.spacing,
      pointRadius: view.pointRadius,
      rodRadius: view.rodRadius,
      trailPoint: view.trailPoint,
      trailLength: view.trailLength,
      labelY: view.labelY,
      referenceKey: module.reference ?? 'analytic',
      stackVertically: view.stackVertically,
      offset: view.offset,
      ruler: view.ruler,
      lightFront: view.lightFront,
      threeD: view.threeD,
    });
    this.rigView.setTrails(this.url.trails ?? (view.trailLength ?? 240) > 0);
    this.rigView.setTrailScale(this.governor.level.trailScale);
    this.stage.scene.add(this.rigView.group);
  }

  private teardownScene(): void {
    this.drag?.release();
    this.viewDrag?.release();
    void this.learn.discard({ quiet: true });
    this.learnPanel?.dispose();
    this.learnPanel = null;
    this.sim.dispose();
    this.sim = new Simulation();
    this.rigView?.dispose();
    this.fieldView?.dispose();
    this.sceneView?.dispose();
    this.rigView = null;
    this.fieldView = null;
    this.sceneView = null;
    this.controls.clear();
    this.lanes = [];
  }

  /** Pin the routes the link names (a replay); say so where one cannot be taken here. */
  private pinRoutes(): void {
    for (const { key, text } of pinLaneRoutes(this.lanes, this.url.routes))
      this.banner(text, 'warn', `route-${key}`);
  }

  /** After a context restore: rebuild GPU engines from the CPU-side state and clock, then resume. */
  private async recoverContext(): Promise<void> {
    if (this.backend?.name === 'webgl' && this.lanes.some((l) => LEARNED_ENGINES.has(l.engineId))) {
      try {
        await this.sim.rebuild(true);
        this.pinRoutes();
      } catch (err) {
        this.banner(`Rebuilding the learned engines failed: ${(err as Error).message}`, 'error');
      }
    }
    await this.warmUp();
    this.sim.paused = this.wasPausedBeforeLoss;
  }

  /** A scene event fired: show markers, follow scene-wide pauses in the controls. */
  private onSceneEvent(e: AppliedEvent): void {
    if (e.type === 'marker' && e.label)
      this.banner(`t = ${e.t.toFixed(2)} s — ${e.label}`, 'info', 'marker', 3500);
    if ((e.type === 'pause' || e.type === 'resume') && e.target === undefined) {
      this.controls.refresh();
      this.timeline.update();
    }
  }

  renderLegend(): void {
    this.shell.renderLegend(this.viewLanes, this.backend);
  }
}
