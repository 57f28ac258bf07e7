import GUI, { type Controller } from 'lil-gui';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import { CSS2DRenderer } from 'three/examples/jsm/renderers/CSS2DRenderer.js';
import { backendInfo, paramControls, worldControls } from '../plugins/gui';
import { sceneModules } from '../scenes/index';
import { engineColor, engineLabels } from '../scenes/palette';
import { resolveOptions, type SceneModule, viewOf } from '../scenes/types';
import type { IntegratorId, System } from '../src/core/types';
import { INTEGRATOR_IDS } from '../src/integrators/registry';
import type { AppliedEvent, SceneDefinition, SceneSystem } from '../src/scene/types';
import { createSystem, listSystems } from '../src/systems/registry';
import { type BackendChoice, type BackendReport, initBackend, tensorMemory } from './backend';
import { download, runToCsv, runToJson } from './exportRun';
import { FieldView } from './FieldView';
import { Lane } from './Lane';
import { loadLane } from './loadLane';
import { listModels } from './models';
import { Plots } from './Plots';
import { escapeHtml, RigView } from './RigView';
import { Simulation } from './Simulation';
import { type AppUrlState, formatUrlState, parseUrlState } from './urlState';

/** Snapshot of one lane for the test hook and the console. */
export interface LaneSnapshot {
  key: string;
  engine: string;
  label: string;
  status: string;
  reason: string;
  enabled: boolean;
  batch: number;
  /** The lane's system parameters. */
  params: Record<string, number>;
  q: number[];
  qd: number[];
  energy: number;
  drift: number;
  divergence: number;
  outOfRange: boolean;
  finite: boolean;
}

/** Engines that run a learned model (TF.js). */
const LEARNED_ENGINES = new Set(['lnn', 'baseline', 'lgn']);

/** Time steps offered in the GUI (seconds). */
const STEP_CHOICES: Record<string, number> = {
  '1/30 s': 1 / 30,
  '1/60 s': 1 / 60,
  '1/120 s': 1 / 120,
  '1/240 s': 1 / 240,
  '1/480 s': 1 / 480,
  '1/1000 s': 1 / 1000,
};

/** Model name from a scene's model path/URL (`assets/models/<name>` or `/models/<name>/`). */
function modelName(model: string | undefined): string | undefined {
  if (!model) return undefined;
  const parts = model.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] || undefined;
}

/** A flat `[count * dof]` array from `[dof]` or `[count][dof]`. */
function flatten(v: SceneSystem['q0'], dof: number): number[] {
  if (!v || v.length === 0) return new Array(dof).fill(0);
  if (typeof v[0] === 'number') return v as number[];
  return (v as number[][]).flat();
}

/**
 * The comparison app: a three.js view of the current scene's lanes, lil-gui controls, live plots, a
 * timeline that records, replays and exports the run, a scene gallery, and the view's state in the
 * URL. Owns the frame clock; the physics runs in a {@link Simulation} over the core World.
 */
export class App {
  sim: Simulation = new Simulation();
  module: SceneModule | null = null;
  definition: SceneDefinition | null = null;
  lanes: Lane[] = [];
  backend: BackendReport | null = null;
  /** Frames rendered since start. */
  frame = 0;
  /** Milliseconds spent per part of the frame since the scene opened (physics, views, render, plots). */
  readonly timings = { frames: 0, physics: 0, views: 0, render: 0, plots: 0 };
  /** Errors the app flagged (engine failures, guards), newest last. */
  readonly notices: string[] = [];
  private renderer: THREE.WebGLRenderer | null = null;
  private labelRenderer: CSS2DRenderer | null = null;
  private readonly scene3 = new THREE.Scene();
  private readonly camera = new THREE.PerspectiveCamera(45, 1, 0.05, 200);
  private controls: OrbitControls | null = null;
  private rigView: RigView | null = null;
  private fieldView: FieldView | null = null;
  private plots: Plots;
  private gui: GUI;
  private sceneFolders: GUI[] = [];
  private readonly dom: Record<string, HTMLElement> = {};
  private url: AppUrlState;
  private lastTime = 0;
  private plotClock = 0;
  private externallyDriven = false;
  /** When true, only {@link App.runFrames} advances the app (the animation loop just idles). */
  manualClock = false;
  private contextLost = false;
  private wasPausedBeforeLoss = false;
  /** Index of the recorded sample shown while scrubbing, or −1 when live. */
  private replayIndex = -1;
  private opening: Promise<unknown> | null = null;
  private backendCtl: {
    update(info: { name: string; precision: string; fallbackReason?: string | null }): void;
  } | null = null;
  private controllers: Controller[] = [];

  constructor(private readonly root: HTMLElement) {
    this.url = parseUrlState(location.search);
    this.buildLayout();
    this.gui = new GUI({ container: this.dom.gui, title: 'Controls' });
    this.plots = new Plots(this.dom.plots);
    this.initRenderer();
    this.buildGallery();
    this.buildTimeline();
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
    if (this.renderer) {
      this.renderer.setAnimationLoop((now) => this.onAnimationFrame(now));
    } else {
      const tick = (now: number) => {
        this.onAnimationFrame(now);
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }
  }

  /** Ids of the registered scenes. */
  get sceneIds(): string[] {
    return sceneModules.map((m) => m.id);
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
    const run = async () => {
      const module = sceneModules.find((m) => m.id === id) ?? sceneModules[0];
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
          scene: module.id,
          options: {},
          q0: undefined,
          qd0: undefined,
          off: [],
          models: {},
          params: {},
        };
        this.url.dt = undefined;
        this.url.substeps = undefined;
        this.url.integrator = undefined;
      }
      this.url.scene = module.id;
      this.url.options = Object.fromEntries(
        (module.options ?? [])
          .filter((o) => opts[o.name] !== o.default)
          .map((o) => [o.name, String(opts[o.name])]),
      );
      this.dom.title.textContent = module.title;
      this.dom.subtitle.textContent = module.summary;

      const s = this.sim.settings;
      s.dt = this.url.dt ?? def.dt;
      s.substeps = Math.max(1, Math.round(this.url.substeps ?? 1));
      const integ = (this.url.integrator ?? def.systems[0]?.integrator ?? 'rk4') as IntegratorId;
      s.integrator = INTEGRATOR_IDS.includes(integ) ? integ : 'rk4';
      s.timeScale = this.url.timeScale ?? 1;

      this.lanes = def.systems.map((sys) => this.makeLane(sys));
      for (const lane of this.lanes) lane.enabled = !this.url.off.includes(lane.key);
      this.applyInitialOverride();
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
        if (lane.status === 'unavailable') this.notices.push(`${lane.key}: ${lane.reason}`);
      }
      this.sim.paused = this.url.paused ?? false;
      await this.sim.build(def, this.lanes, {
        referenceKey: module.reference ?? 'analytic',
        onEvent: (e) => this.onSceneEvent(e),
      });
      this.fieldView?.reset();
      this.rigView?.clearTrails();
      this.buildGui();
      this.renderLegend();
      this.replayIndex = -1;
      this.frameCamera(def);
      await this.warmUp();
      this.plots.update(this.sim.recorder, true);
      this.writeUrl();
    };
    await this.settled();
    const p = run();
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

  /** Plain snapshot of every lane. */
  snapshot(): LaneSnapshot[] {
    const rec = this.sim.recorder;
    const last = rec.length - 1;
    return this.lanes.map((lane, l) => {
      const tr = rec.tracks[l];
      const q = Array.from(lane.q);
      const qd = Array.from(lane.qd);
      return {
        key: lane.key,
        engine: lane.engineId,
        label: lane.label,
        status: lane.status,
        reason: lane.reason,
        enabled: lane.enabled,
        batch: lane.batch,
        params: { ...lane.system.params },
        q: q.slice(0, 64),
        qd: qd.slice(0, 64),
        energy: lane.energy(0),
        drift: tr && last >= 0 ? tr.drift[last] : Number.NaN,
        divergence: tr && last >= 0 ? tr.divergence[last] : Number.NaN,
        outOfRange: lane.outOfRange,
        finite: q.every(Number.isFinite) && qd.every(Number.isFinite),
      };
    });
  }

  /** Draw statistics of the plots. */
  get plotStats() {
    return { ...this.plots.stats };
  }

  /** GPU and tensor memory in use (for leak checks). */
  memory(): { numTensors: number; numBytes: number; geometries: number; textures: number; programs: number } {
    const info = this.renderer?.info;
    return {
      ...tensorMemory(),
      geometries: info?.memory.geometries ?? 0,
      textures: info?.memory.textures ?? 0,
      programs: info?.programs?.length ?? 0,
    };
  }

  /** The renderer's canvas (null without WebGL). */
  get canvas(): HTMLCanvasElement | null {
    return this.renderer?.domElement ?? null;
  }

  /** Whether the WebGL context is currently lost. */
  get isContextLost(): boolean {
    return this.contextLost;
  }

  // ---------------------------------------------------------------- frame loop

  private onAnimationFrame(now: number): void {
    if (this.externallyDriven || this.manualClock || this.opening) {
      this.lastTime = now;
      return;
    }
    const delta = (now - this.lastTime) / 1000;
    this.lastTime = now;
    this.tick(delta);
  }

  /** One frame: advance the clock, loop the scene if it asks to, update views, plots and timeline. */
  private tick(delta: number): void {
    if (this.contextLost) return;
    const tm = this.timings;
    const t0 = performance.now();
    if (this.replayIndex < 0) this.sim.advance(delta);
    const loop = this.module?.loopAfter;
    if (loop && this.sim.t >= loop && this.replayIndex < 0 && !this.opening) void this.restart();
    const t1 = performance.now();
    this.rigView?.update(this.sim.t);
    this.fieldView?.update(this.sim.t);
    const t2 = performance.now();
    this.render();
    const t3 = performance.now();
    this.plotClock += delta;
    if (this.plotClock > 0.12) {
      this.plotClock = 0;
      if (this.replayIndex < 0) this.plots.update(this.sim.recorder);
      this.updateTimeline();
      this.renderLegend();
    }
    const t4 = performance.now();
    tm.frames++;
    tm.physics += t1 - t0;
    tm.views += t2 - t1;
    tm.render += t3 - t2;
    tm.plots += t4 - t3;
    this.frame++;
  }

  private render(): void {
    if (!this.renderer || this.contextLost) return;
    this.controls?.update();
    this.renderer.render(this.scene3, this.camera);
    this.labelRenderer?.render(this.scene3, this.camera);
  }

  /** Compile every shader and run one frame of rendering before the clock starts. */
  private async warmUp(): Promise<void> {
    this.rigView?.update();
    this.fieldView?.update(0);
    if (!this.renderer) return;
    try {
      await this.renderer.compileAsync(this.scene3, this.camera);
    } catch {
      this.renderer.compile(this.scene3, this.camera);
    }
    this.rigView?.clearTrails();
    this.render();
  }

  // ---------------------------------------------------------------- scene building

  private makeLane(sys: SceneSystem): Lane {
    let system: System;
    if (typeof sys.system === 'string') {
      // Parameter overrides from the GUI / URL, for the parameters this system has.
      const specs = listSystems().find((x) => x.id === sys.system)?.params ?? [];
      const extra = Object.fromEntries(
        Object.entries(this.url.params).filter(([k]) => specs.some((p) => p.name === k && !p.integer)),
      );
      system = createSystem(sys.system, { ...(sys.params ?? {}), ...extra });
    } else
      system = sys.params && Object.keys(sys.params).length ? sys.system.withParams(sys.params) : sys.system;
    const engine = sys.engine ?? 'analytic';
    const lane = new Lane({
      key: sys.id,
      engine,
      label: sys.view?.label ?? engineLabels[engine] ?? sys.id,
      color: sys.view?.color ?? engineColor(engine),
      system,
      batch: sys.count ?? 1,
      model: this.url.models[sys.id] ?? modelName(sys.model),
    });
    lane.setInitial(flatten(sys.q0, system.dof), flatten(sys.qd0, system.dof));
    return lane;
  }

  /** Initial state from the URL (same for every lane of matching dof and batch 1). */
  private applyInitialOverride(): void {
    const { q0, qd0 } = this.url;
    if (!q0 && !qd0) return;
    for (const lane of this.lanes) {
      const dof = lane.system.dof;
      const q = q0 && q0.length === dof ? q0 : Array.from(lane.q0.subarray(0, dof));
      const qd = qd0 && qd0.length === dof ? qd0 : Array.from(lane.qd0.subarray(0, dof));
      if (lane.batch === 1) lane.setInitial(q, qd);
    }
  }

  private buildView(options: Record<string, string | number>): void {
    const view = viewOf(this.module!, options);
    if (view.kind === 'field') {
      const ref = this.lanes.find((l) => l.key === (this.module!.reference ?? 'analytic')) ?? null;
      this.fieldView = new FieldView(this.lanes, view, ref);
      this.scene3.add(this.fieldView.group);
      return;
    }
    this.rigView = new RigView(this.lanes, {
      layout: this.url.layout ?? view.layout ?? 'side',
      spacing: view.spacing,
      pointRadius: view.pointRadius,
      rodRadius: view.rodRadius,
      trailPoint: view.trailPoint,
      trailLength: view.trailLength,
      labelY: view.labelY,
      referenceKey: this.module!.reference ?? 'analytic',
      stackVertically: view.stackVertically,
      offset: view.offset,
      ruler: view.ruler,
      lightFront: view.lightFront,
    });
    this.rigView.setTrails(this.url.trails ?? (view.trailLength ?? 240) > 0);
    this.scene3.add(this.rigView.group);
  }

  private teardownScene(): void {
    this.sim.dispose();
    this.sim = new Simulation();
    this.rigView?.dispose();
    this.fieldView?.dispose();
    this.rigView = null;
    this.fieldView = null;
    for (const f of this.sceneFolders) f.destroy();
    this.sceneFolders = [];
    this.lanes = [];
  }

  /** Restart the run from the initial state with the current settings (models stay loaded). */
  async restart(): Promise<void> {
    await this.settled();
    this.replayIndex = -1;
    const rebuild = this.sim.rebuild();
    this.opening = rebuild;
    try {
      await rebuild;
    } catch (err) {
      this.banner(`Restart failed: ${(err as Error).message}`, 'error');
    } finally {
      if (this.opening === rebuild) this.opening = null;
    }
    this.afterRestart();
  }

  /** A scene event fired: show markers, follow scene-wide pauses in the controls. */
  private onSceneEvent(e: AppliedEvent): void {
    if (e.type === 'marker' && e.label)
      this.banner(`t = ${e.t.toFixed(2)} s — ${e.label}`, 'info', 'marker', 3500);
    if ((e.type === 'pause' || e.type === 'resume') && e.target === undefined) {
      this.guiRefresh?.();
      this.updateTimeline();
    }
  }

  private frameCamera(def: SceneDefinition): void {
    const cam = def.camera;
    const target = new THREE.Vector3(...(cam?.target ?? [0, 0, 0]));
    const pos = new THREE.Vector3(...(cam?.position ?? [0, 0, 10]));
    this.camera.fov = cam?.fov ?? 45;
    // Fit what is drawn into this viewport's aspect: the field's grids, or the lanes' bounds (centred,
    // seen from the scene camera's direction).
    let width = (this.fieldView?.width ?? 4) + 0.6;
    let height = this.fieldView ? this.fieldView.size + 1.4 : 5.4;
    let fit = false;
    if (this.rigView) {
      const b = this.rigView.bounds();
      const size = b.getSize(new THREE.Vector3());
      const centre = b.getCenter(new THREE.Vector3());
      pos.add(new THREE.Vector3(centre.x - target.x, centre.y - target.y, 0));
      target.set(centre.x, centre.y, target.z);
      width = size.x + 0.5;
      height = size.y + 0.5;
      fit = true;
    }
    const vfov = THREE.MathUtils.degToRad(this.camera.fov);
    const hfov = 2 * Math.atan(Math.tan(vfov / 2) * this.camera.aspect);
    const needed = Math.max(width / 2 / Math.tan(hfov / 2), height / 2 / Math.tan(vfov / 2));
    const dir = pos.clone().sub(target);
    if (fit || dir.length() < needed) dir.setLength(needed);
    this.camera.position.copy(target).add(dir);
    this.camera.updateProjectionMatrix();
    if (this.controls) {
      this.controls.target.copy(target);
      this.controls.update();
    } else {
      this.camera.lookAt(target);
    }
  }

  // ---------------------------------------------------------------- renderer and context loss

  private initRenderer(): void {
    const holder = this.dom.viewport;
    try {
      const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
      renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
      renderer.outputColorSpace = THREE.SRGBColorSpace;
      renderer.toneMapping = THREE.ACESFilmicToneMapping;
      holder.prepend(renderer.domElement);
      this.renderer = renderer;
    } catch (err) {
      this.renderer = null;
      this.banner(
        `WebGL is not available (${(err as Error).message}). The 3D view is off; physics, plots and export still run, and learned engines use WASM.`,
        'error',
      );
      return;
    }
    const labels = new CSS2DRenderer();
    labels.domElement.className = 'labels';
    holder.append(labels.domElement);
    this.labelRenderer = labels;

    this.scene3.background = new THREE.Color('#0d1117');
    this.scene3.add(new THREE.HemisphereLight(0xc8d8ff, 0x1a1f29, 1.6));
    const key = new THREE.DirectionalLight(0xffffff, 2.2);
    key.position.set(3, 6, 8);
    this.scene3.add(key);
    const grid = new THREE.GridHelper(40, 80, 0x263041, 0x182030);
    grid.rotation.x = Math.PI / 2;
    grid.position.z = -1.5;
    this.scene3.add(grid);

    this.controls = new OrbitControls(this.camera, labels.domElement);
    this.controls.enableDamping = true;
    this.controls.dampingFactor = 0.12;

    const canvas = this.renderer.domElement;
    canvas.addEventListener('webglcontextlost', (e) => {
      // preventDefault lets the browser restore the context; the CPU-side state keeps the run.
      e.preventDefault();
      this.contextLost = true;
      this.wasPausedBeforeLoss = this.sim.paused;
      this.sim.paused = true;
      this.banner(
        'The WebGL context was lost: paused. Waiting for the browser to restore it…',
        'warn',
        'context',
      );
    });
    canvas.addEventListener('webglcontextrestored', () => {
      void this.recoverContext();
    });
    new ResizeObserver(() => this.resize()).observe(holder);
    this.resize();
  }

  /** After a context restore: rebuild GPU resources from the CPU-side state, then resume. */
  private async recoverContext(): Promise<void> {
    this.contextLost = false;
    // GPU engines lose their buffers with the context: rebuild the run's engines and continue from the
    // CPU-side state and clock.
    if (this.backend?.name === 'webgl' && this.lanes.some((l) => LEARNED_ENGINES.has(l.engineId))) {
      try {
        await this.sim.rebuild(true);
      } catch (err) {
        this.banner(`Rebuilding the learned engines failed: ${(err as Error).message}`, 'error');
      }
    }
    await this.warmUp();
    this.sim.paused = this.wasPausedBeforeLoss;
    this.clearBanner('context');
    this.banner(
      'WebGL context restored; the run continues from where it paused.',
      'info',
      'context-ok',
      4000,
    );
  }

  private resize(): void {
    const holder = this.dom.viewport;
    const w = Math.max(1, holder.clientWidth);
    const h = Math.max(1, holder.clientHeight);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.renderer?.setSize(w, h);
    this.labelRenderer?.setSize(w, h);
    if (this.definition) this.frameCamera(this.definition);
  }

  // ---------------------------------------------------------------- DOM

  private buildLayout(): void {
    this.root.innerHTML = `
      <header class="topbar">
        <div class="brand"><span class="logo"></span>three-lnn</div>
        <div class="scene-title"><h1></h1><p></p></div>
        <div class="top-actions">
          <span class="backend-badge" title="TF.js backend used by learned engines"></span>
          <button class="btn" data-act="gallery">Scenes</button>
          <button class="btn" data-act="share" title="Copy a link to this view">Share</button>
        </div>
      </header>
      <main class="main">
        <section class="stage">
          <div class="viewport">
            <div class="legend"></div>
            <div class="banners"></div>
            <div class="hud"></div>
          </div>
          <div class="plots"></div>
        </section>
        <aside class="side">
          <div class="gui"></div>
        </aside>
      </main>
      <footer class="timeline"></footer>
      <div class="gallery" hidden></div>`;
    const q = (sel: string) => this.root.querySelector(sel) as HTMLElement;
    Object.assign(this.dom, {
      title: q('.scene-title h1'),
      subtitle: q('.scene-title p'),
      badge: q('.backend-badge'),
      viewport: q('.viewport'),
      legend: q('.legend'),
      banners: q('.banners'),
      hud: q('.hud'),
      gui: q('.gui'),
      plots: q('.plots'),
      timeline: q('.timeline'),
      gallery: q('.gallery'),
    });
    q('[data-act=gallery]').addEventListener('click', () => this.toggleGallery(true));
    q('[data-act=share]').addEventListener('click', () => {
      this.writeUrl();
      void navigator.clipboard?.writeText(location.href).catch(() => {});
      this.banner('Link to this view copied (also in the address bar).', 'info', 'share', 2500);
    });
  }

  private buildGallery(): void {
    const g = this.dom.gallery;
    g.innerHTML = `<div class="gallery-panel"><header><h2>Scenes</h2><button class="btn" data-act="close">Close</button></header><div class="cards"></div></div>`;
    const cards = g.querySelector('.cards') as HTMLElement;
    for (const m of sceneModules) {
      const card = document.createElement('button');
      card.className = 'card';
      card.dataset.scene = m.id;
      card.innerHTML = `<h3>${escapeHtml(m.title)}</h3><p>${escapeHtml(m.summary)}</p><code>${escapeHtml(m.id)}</code>`;
      card.addEventListener('click', () => {
        this.toggleGallery(false);
        void this.openScene(m.id);
      });
      cards.append(card);
    }
    // A page of its own: the exact engine on the GPU, far more pendulums than the lanes here.
    const field = document.createElement('a');
    field.className = 'card';
    field.href = 'field.html';
    field.dataset.page = 'field';
    field.innerHTML =
      '<h3>GPU field ↗</h3><p>262,144 exact double pendulums released from rest on a grid of angles, stepped and drawn on the GPU (DoublePendulumField, float32): the chaos map, live.</p><code>field.html</code>';
    cards.append(field);
    g.querySelector('[data-act=close]')!.addEventListener('click', () => this.toggleGallery(false));
    g.addEventListener('click', (e) => {
      if (e.target === g) this.toggleGallery(false);
    });
  }

  private toggleGallery(open: boolean): void {
    this.dom.gallery.hidden = !open;
  }

  private buildTimeline(): void {
    const t = this.dom.timeline;
    t.innerHTML = `
      <button class="btn icon" data-act="reset" title="Reset to the initial state">⟲</button>
      <button class="btn icon" data-act="play" title="Play / pause">❚❚</button>
      <button class="btn icon" data-act="step" title="One step">⇥</button>
      <span class="rec" title="Every step is recorded"><i></i>REC</span>
      <input type="range" class="scrub" min="0" max="0" step="1" value="0" aria-label="Timeline" />
      <span class="time">t = 0.00 s</span>
      <button class="btn" data-act="live" hidden>Back to live</button>
      <span class="spacer"></span>
      <button class="btn" data-act="csv" title="Download the recorded run as CSV">CSV</button>
      <button class="btn" data-act="json" title="Download the recorded run as JSON">JSON</button>`;
    const q = (sel: string) => t.querySelector(sel) as HTMLElement;
    q('[data-act=reset]').addEventListener('click', () => void this.restart());
    q('[data-act=play]').addEventListener('click', () => this.togglePlay());
    q('[data-act=step]').addEventListener('click', () => this.stepOnce());
    q('[data-act=live]').addEventListener('click', () => this.goLive());
    q('[data-act=csv]').addEventListener('click', () => this.exportRun('csv'));
    q('[data-act=json]').addEventListener('click', () => this.exportRun('json'));
    const scrub = q('.scrub') as HTMLInputElement;
    scrub.addEventListener('input', () => this.scrubTo(Number(scrub.value)));
  }

  /** Toggle play / pause; playing from a replayed moment continues the run from there. */
  togglePlay(): void {
    if (this.replayIndex >= 0) {
      this.sim.resumeFrom(this.replayIndex);
      this.replayIndex = -1;
      this.rigView?.clearTrails();
      this.sim.paused = false;
    } else {
      this.sim.paused = !this.sim.paused;
    }
    this.guiRefresh?.();
    this.updateTimeline();
  }

  /** One fixed step (pauses). */
  stepOnce(): void {
    if (this.replayIndex >= 0) this.goLive();
    this.sim.paused = true;
    this.sim.stepOnce();
    this.guiRefresh?.();
    this.updateTimeline();
  }

  /** Show recorded sample `index` (pauses; the live state is untouched until play). */
  scrubTo(index: number): void {
    const rec = this.sim.recorder;
    if (rec.length === 0) return;
    const i = Math.max(0, Math.min(rec.length - 1, Math.round(index)));
    this.sim.paused = true;
    if (i === rec.length - 1) {
      this.goLive();
      return;
    }
    this.replayIndex = i;
    this.lanes.forEach((lane, l) => {
      const tr = rec.tracks[l];
      const h = lane.handle;
      if (!tr || !h || tr.states === 0) return;
      const n = tr.states * tr.dof;
      h.interpolatedQ.set(tr.q.subarray(i * n, (i + 1) * n));
    });
    this.rigView?.clearTrails();
    this.guiRefresh?.();
    this.updateTimeline();
  }

  /** Leave replay: show the live state again. */
  goLive(): void {
    this.replayIndex = -1;
    for (const lane of this.lanes) lane.handle?.interpolate(1);
    this.rigView?.clearTrails();
    this.updateTimeline();
  }

  private updateTimeline(): void {
    const rec = this.sim.recorder;
    const t = this.dom.timeline;
    const scrub = t.querySelector('.scrub') as HTMLInputElement;
    scrub.max = String(Math.max(0, rec.length - 1));
    const idx = this.replayIndex >= 0 ? this.replayIndex : rec.length - 1;
    scrub.value = String(idx);
    scrub.disabled = !rec.replayable;
    const time = idx >= 0 ? rec.t[idx] : 0;
    (t.querySelector('.time') as HTMLElement).textContent =
      this.replayIndex >= 0
        ? `t = ${time.toFixed(2)} s (replay of ${rec.t[rec.length - 1].toFixed(2)} s)`
        : `t = ${this.sim.t.toFixed(2)} s`;
    (t.querySelector('[data-act=play]') as HTMLElement).textContent =
      this.sim.paused || this.replayIndex >= 0 ? '▶' : '❚❚';
    (t.querySelector('[data-act=live]') as HTMLElement).hidden = this.replayIndex < 0;
    t.classList.toggle('replaying', this.replayIndex >= 0);
    t.classList.toggle('paused', this.sim.paused);
  }

  private exportRun(kind: 'csv' | 'json'): void {
    const name = `three-lnn-${this.module?.id ?? 'run'}-${this.sim.t.toFixed(1)}s`;
    const info = {
      scene: this.module?.id ?? '',
      dt: this.sim.settings.dt,
      substeps: this.sim.settings.substeps,
      integrator: this.sim.settings.integrator,
      backend: this.backend?.name ?? '',
    };
    if (kind === 'csv') download(`${name}.csv`, runToCsv(this.sim.recorder, this.lanes), 'text/csv');
    else download(`${name}.json`, runToJson(this.sim.recorder, this.lanes, info), 'application/json');
  }

  /** The recorded run as text (what the export buttons download). */
  exportText(kind: 'csv' | 'json'): string {
    const info = {
      scene: this.module?.id ?? '',
      dt: this.sim.settings.dt,
      substeps: this.sim.settings.substeps,
      integrator: this.sim.settings.integrator,
      backend: this.backend?.name ?? '',
    };
    return kind === 'csv'
      ? runToCsv(this.sim.recorder, this.lanes)
      : runToJson(this.sim.recorder, this.lanes, info);
  }

  private renderLegend(): void {
    const items = this.lanes.map((lane) => {
      const st =
        lane.status === 'running'
          ? lane.enabled
            ? lane.outOfRange
              ? ['warn', 'outside training range']
              : lane.reason
                ? ['warn', lane.reason]
                : lane.warnings.length > 0
                  ? ['warn', `${runningNote(lane)} · ${lane.warnings[0]}`]
                  : ['ok', runningNote(lane)]
            : ['muted', 'off']
          : lane.status === 'loading'
            ? ['muted', 'loading…']
            : lane.status === 'stopped'
              ? ['err', `stopped — ${lane.reason}`]
              : ['muted', `unavailable — ${lane.reason}`];
      return `<li class="${st[0]}" data-lane="${escapeHtml(lane.key)}" title="${escapeHtml(st[1])}"><i style="background:${lane.color}"></i><b>${escapeHtml(lane.label)}</b><span>${escapeHtml(st[1])}</span></li>`;
    });
    const html = `<ul>${items.join('')}</ul>`;
    if (this.dom.legend.innerHTML !== html) this.dom.legend.innerHTML = html;
    const b = this.backend;
    this.dom.badge.textContent = b ? `TF.js ${b.name} · ${b.precision}` : 'TF.js …';
    this.dom.badge.classList.toggle('warn', !!b?.fallbackReason);
    this.dom.badge.title = b?.fallbackReason ?? 'TF.js backend used by learned engines';
  }

  /** Show a message over the viewport; `id` replaces an earlier one with the same id. */
  banner(text: string, level: 'info' | 'warn' | 'error', id?: string, timeoutMs?: number): void {
    if (level !== 'info') this.notices.push(text);
    const el = document.createElement('div');
    el.className = `banner ${level}`;
    el.textContent = text;
    if (id) {
      this.clearBanner(id);
      el.dataset.id = id;
    }
    const close = document.createElement('button');
    close.textContent = '×';
    close.title = 'Dismiss';
    close.addEventListener('click', () => el.remove());
    el.append(close);
    this.dom.banners.append(el);
    if (timeoutMs) setTimeout(() => el.remove(), timeoutMs);
  }

  private clearBanner(id: string): void {
    this.dom.banners.querySelector(`[data-id="${id}"]`)?.remove();
  }

  // ---------------------------------------------------------------- GUI

  private guiRefresh: (() => void) | null = null;

  private buildGui(): void {
    const gui = this.gui;
    const sim = this.sim;
    const module = this.module!;
    const folders: GUI[] = [];
    this.controllers = [];

    // Simulation: clock and stepping.
    const wc = worldControls(gui, sim, {
      title: 'Simulation',
      onStep: () => this.stepOnce(),
      onReset: () => void this.restart(),
      onChange: () => {
        this.url.timeScale = sim.timeScale;
        this.url.paused = sim.paused || undefined;
        this.updateTimeline();
        this.writeUrl();
      },
    });
    folders.push(wc.folder);
    const settings = {
      integrator: sim.settings.integrator,
      dt: closestStep(sim.settings.dt),
      substeps: sim.settings.substeps,
    };
    // A stepping setting is kept in the simulation and the URL, and restarts the run from its start state.
    const applyStepping = <K extends keyof typeof settings>(key: K, value: (typeof settings)[K]): void => {
      (sim.settings as typeof settings)[key] = value;
      (this.url as Partial<typeof settings>)[key] = value;
      this.writeUrl();
      void this.restart();
    };
    wc.folder
      .add(settings, 'integrator', INTEGRATOR_IDS)
      .name('Integrator')
      .onChange((id: IntegratorId) => applyStepping('integrator', id));
    wc.folder
      .add(settings, 'dt', STEP_CHOICES)
      .name('Time step')
      .onChange((dt: number) => applyStepping('dt', dt));
    wc.folder
      .add(settings, 'substeps', 1, 16, 1)
      .name('Substeps')
      .onFinishChange((n: number) => applyStepping('substeps', n));
    this.guiRefresh = () => wc.refresh();

    // Engines: on/off per lane, model choice for learned lanes, TF.js backend.
    const engines = gui.addFolder('Engines');
    folders.push(engines);
    const toggles: Record<string, boolean> = {};
    for (const lane of this.lanes) {
      toggles[lane.key] = lane.enabled;
      const c = engines
        .add(toggles, lane.key)
        .name(lane.label)
        .onChange((on: boolean) => {
          lane.enabled = on;
          this.url.off = this.lanes.filter((l) => !l.enabled).map((l) => l.key);
          this.writeUrl();
          void this.restart();
        });
      c.domElement.style.setProperty('--lane-color', lane.color);
      c.domElement.classList.add('lane-toggle');
      if (lane.status === 'unavailable') {
        c.disable();
        c.domElement.title = lane.reason;
      }
    }
    void this.addModelChoices(engines);
    const backendSel = { backend: (this.url.backend ?? 'auto') as BackendChoice };
    engines
      .add(backendSel, 'backend', ['auto', 'webgl', 'wasm', 'cpu', 'js'])
      .name('Learned backend')
      .onChange(async (b: BackendChoice) => {
        this.url.backend = b;
        this.backend = await initBackend(b);
        this.backendCtl?.update(this.backend);
        this.writeUrl();
        await this.openScene(module.id, this.url.options, true);
      });
    if (this.backend) this.backendCtl = backendInfo(engines, this.backend);

    // Initial state: per-coordinate sliders for small systems.
    const dof = this.lanes[0]?.system.dof ?? 0;
    const single = this.lanes.every((l) => l.batch === 1 && l.system.dof === dof);
    if (single && dof > 0 && dof <= 4 && module.initialStateControls !== false) {
      const init = gui.addFolder('Initial state');
      folders.push(init);
      const names = module.coordinates ?? Array.from({ length: dof }, (_, i) => `q${i}`);
      const state: Record<string, number> = {};
      const ref = this.lanes[0];
      const isAngle = ref.system.angles;
      for (let i = 0; i < dof; i++) {
        state[`q${i}`] = ref.q0[i];
        state[`v${i}`] = ref.qd0[i];
      }
      const apply = () => {
        const q = Array.from({ length: dof }, (_, i) => state[`q${i}`]);
        const qd = Array.from({ length: dof }, (_, i) => state[`v${i}`]);
        this.url.q0 = q;
        this.url.qd0 = qd;
        for (const lane of this.lanes) lane.setInitial(q, qd);
        void this.restart();
      };
      for (let i = 0; i < dof; i++) {
        const lim = isAngle[i] ? Math.PI : 3;
        init
          .add(state, `q${i}`, -lim, lim, 0.01)
          .name(names[i] ?? `q${i}`)
          .onFinishChange(apply);
      }
      for (let i = 0; i < dof; i++) {
        const lim = isAngle[i] ? 10 : 0.95;
        init
          .add(state, `v${i}`, -lim, lim, 0.01)
          .name(`d${names[i] ?? `q${i}`}/dt`)
          .onFinishChange(apply);
      }
      init
        .add(
          {
            random: () => {
              let seed = (Math.random() * 2 ** 32) >>> 0;
              const rng = () => {
                seed = (seed + 0x6d2b79f5) >>> 0;
                let t = seed;
                t = Math.imul(t ^ (t >>> 15), t | 1);
                t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
                return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
              };
              const q = new Float64Array(dof);
              const qd = new Float64Array(dof);
              ref.system.sample(rng, q, qd);
              for (let i = 0; i < dof; i++) {
                state[`q${i}`] = isAngle[i] ? Math.atan2(Math.sin(q[i]), Math.cos(q[i])) : q[i];
                state[`v${i}`] = isAngle[i] ? qd[i] * 0.2 : qd[i];
              }
              for (const c of init.controllers) c.updateDisplay();
              apply();
            },
          },
          'random',
        )
        .name('Random state');
    }

    // System parameters (masses, lengths, g, …) when every lane runs the same registry system; counts
    // (links, nodes) stay with the scene's options, which also size the initial state.
    const sysId = this.definition?.systems[0]?.system;
    const sameSystem =
      typeof sysId === 'string' && (this.definition?.systems ?? []).every((s) => s.system === sysId);
    const specs = sameSystem
      ? (listSystems().find((x) => x.id === sysId)?.params ?? []).filter((p) => !p.integer)
      : [];
    if (specs.length > 0 && this.lanes[0]) {
      const pf = paramControls(gui, specs, this.lanes[0].system.params, {
        title: 'System parameters',
        onChange: (values) => {
          this.url.params = Object.fromEntries(
            specs.filter((p) => values[p.name] !== p.default).map((p) => [p.name, values[p.name]]),
          );
          this.writeUrl();
          void this.openScene(module.id, this.url.options, true);
        },
      });
      pf.close();
      folders.push(pf);
    }

    // Scene options (e.g. number of links, the typed Lagrangian).
    if (module.options?.length) {
      const sf = gui.addFolder('Scene');
      folders.push(sf);
      const values = resolveOptions(module, this.url.options);
      for (const opt of module.options) {
        let c: Controller;
        if (opt.choices) c = sf.add(values, opt.name, invert(opt.choices));
        else if (opt.text) c = sf.add(values, opt.name);
        else c = sf.add(values, opt.name, opt.min, opt.max, opt.step);
        c.name(opt.label).onFinishChange(() => {
          void this.openScene(module.id, { ...values }, true);
        });
        if (opt.text) c.domElement.classList.add('text-option');
      }
    }

    // View: layout, trails, phase coordinate.
    const vf = gui.addFolder('View');
    folders.push(vf);
    if (this.rigView) {
      const v = { layout: this.rigView.layout, trails: this.url.trails ?? true };
      vf.add(v, 'layout', { 'Side by side': 'side', 'Overlay (ghosts)': 'overlay' })
        .name('Layout')
        .onChange((l: 'side' | 'overlay') => {
          this.rigView?.setLayout(l);
          this.url.layout = l;
          if (this.definition) this.frameCamera(this.definition);
          this.writeUrl();
        });
      vf.add(v, 'trails')
        .name('Trails')
        .onChange((on: boolean) => {
          this.rigView?.setTrails(on);
          this.url.trails = on;
          this.writeUrl();
        });
    }
    if (dof > 0) {
      const names = module.coordinates ?? Array.from({ length: dof }, (_, i) => `q${i}`);
      const choices = Object.fromEntries(names.slice(0, Math.min(dof, 16)).map((n, i) => [n, i]));
      const p = { phase: this.plots.phaseIndex };
      vf.add(p, 'phase', choices)
        .name('Phase portrait of')
        .onChange((i: number) => {
          this.plots.phaseIndex = Number(i);
          this.plots.setLanes(this.lanes, module.coordinates);
          this.plots.update(this.sim.recorder, true);
          this.url.phase = Number(i);
          this.writeUrl();
        });
    }
    vf.add({ gallery: () => this.toggleGallery(true) }, 'gallery').name('Scene gallery…');
    this.sceneFolders = folders;
  }

  private async addModelChoices(folder: GUI): Promise<void> {
    const models = await listModels();
    for (const lane of this.lanes) {
      if (!['lnn', 'baseline', 'lgn'].includes(lane.engineId)) continue;
      const fitting = models.filter(
        (m) =>
          (m.kind === null || m.kind === lane.engineId) && (m.system === null || m.system === lane.system.id),
      );
      if (fitting.length === 0) continue;
      const names = fitting.map((m) => m.name);
      const sel = { model: lane.model && names.includes(lane.model) ? lane.model : names[0] };
      folder
        .add(sel, 'model', names)
        .name(`${lane.label} model`)
        .onChange((name: string) => {
          this.url.models[lane.key] = name;
          this.writeUrl();
          void this.openScene(this.module!.id, this.url.options, true);
        });
    }
  }

  /** After a change that restarted the run. */
  private afterRestart(): void {
    this.rigView?.clearTrails();
    this.fieldView?.reset();
    this.replayIndex = -1;
    this.plots.update(this.sim.recorder, true);
    this.renderLegend();
    this.writeUrl();
  }

  private writeUrl(): void {
    const search = formatUrlState(this.url);
    if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
  }
}

/** Route report of a learned engine (`lastReport` of the core LearnedEngine), when it has one. */
interface RouteReport {
  backend: string;
  path: string;
  threads?: number;
  totals?: { regularised: number; failed: number };
}

/** ‘running’, plus where a learned engine computes and how many of its solves needed help. */
function runningNote(lane: Lane): string {
  const r = (lane.handle?.engine as { lastReport?: RouteReport } | undefined)?.lastReport;
  if (!r || !LEARNED_ENGINES.has(lane.engineId)) return 'running';
  const threads = (r.threads ?? 1) > 1 ? `, ${r.threads} threads` : '';
  const route =
    r.path === 'js'
      ? 'plain JS, float64'
      : `${r.backend}${r.path === 'resident' ? ', GPU-resident' : ''}${threads}`;
  const fixes =
    r.totals && r.totals.regularised + r.totals.failed > 0
      ? ` · ${r.totals.regularised} regularised solves`
      : '';
  return `running on ${route}${fixes}`;
}

function closestStep(dt: number): number {
  let best = 1 / 120;
  for (const v of Object.values(STEP_CHOICES)) if (Math.abs(v - dt) < Math.abs(best - dt)) best = v;
  return Math.abs(best - dt) < 1e-12 ? best : dt;
}

function invert(choices: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(choices).map(([v, label]) => [label, v]));
}
