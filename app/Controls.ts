import GUI, { type Controller } from 'lil-gui';
import { backendInfo, paramControls, worldControls } from '../plugins/gui/index.js';
import type { PointerDrag } from '../plugins/three/index.js';
import type { SceneModule } from '../scenes/index.js';
import { resolveOptions } from '../scenes/types.js';
import {
  createRng,
  INTEGRATOR_IDS,
  type IntegratorId,
  listSystems,
  type SceneDefinition,
} from '../src/index.js';
import { type BackendChoice, type BackendReport, initBackend } from './backend.js';
import type { Lane } from './Lane.js';
import { LEARNED_ENGINES } from './loadLane.js';
import { listModels } from './models.js';
import type { Plots } from './Plots.js';
import type { RigView } from './RigView.js';
import type { Simulation } from './Simulation.js';
import { type AppUrlState, formatUrlState } from './urlState.js';

/** Time steps offered in the GUI (seconds). */
const STEP_CHOICES: Record<string, number> = {
  '1/30 s': 1 / 30,
  '1/60 s': 1 / 60,
  '1/120 s': 1 / 120,
  '1/240 s': 1 / 240,
  '1/480 s': 1 / 480,
  '1/1000 s': 1 / 1000,
};

/** Backends the ‘Learned backend’ control offers. */
const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgl', 'wasm', 'cpu', 'js'];

/** What the controls read and change in the app. */
export interface ControlsHost {
  readonly sim: Simulation;
  readonly url: AppUrlState;
  readonly lanes: readonly Lane[];
  readonly module: SceneModule | null;
  readonly definition: SceneDefinition | null;
  readonly rigView: RigView | null;
  readonly plots: Plots;
  /** The pointer drag over the view (null without WebGL). */
  readonly drag: PointerDrag | null;
  /** The active TF.js backend (replaced by the ‘Learned backend’ control). */
  backend: BackendReport | null;
  /** Restart the run from its initial state with the current settings. */
  restart(): Promise<void>;
  /** Open a scene; `keepUrlState` keeps the overrides in {@link ControlsHost.url}. */
  openScene(id: string, options: Record<string, string | number>, keepUrlState: boolean): Promise<void>;
  /** One fixed step (the timeline's). */
  stepOnce(): void;
  /** Redraw the timeline. */
  updateTimeline(): void;
  /** Frame the camera on the content again. */
  frameCamera(): void;
  toggleGallery(open: boolean): void;
  /** Write {@link ControlsHost.url} to the address bar. */
  writeUrl(): void;
  /** Redraw the legend (lane statuses). */
  renderLegend(): void;
  /** The Learn folder ("learn this scene"), when the host offers one. */
  buildLearnFolder?(gui: GUI): GUI | null;
}

/**
 * The lil-gui panel of the open scene, one folder per concern: Simulation (clock and stepping), Engines
 * (lanes on/off, models, backend), Initial state, System parameters, Scene options and View. Every
 * change is kept in the app's URL state.
 */
export class Controls {
  private readonly gui: GUI;
  private folders: GUI[] = [];
  private refreshClock: (() => void) | null = null;

  constructor(
    container: HTMLElement,
    private readonly host: ControlsHost,
  ) {
    this.gui = new GUI({ container, title: 'Controls' });
  }

  /** Build the folders of the open scene (replacing the previous scene's). */
  build(): void {
    this.clear();
    const { gui, host } = this;
    const sim = simulationFolder(gui, host);
    this.refreshClock = sim.refresh;
    this.folders = [
      sim.folder,
      enginesFolder(gui, host),
      forcesFolder(gui, host),
      initialStateFolder(gui, host),
      parametersFolder(gui, host),
      sceneFolder(gui, host),
      viewFolder(gui, host),
      host.buildLearnFolder?.(gui) ?? null,
    ].filter((f): f is GUI => f !== null);
  }

  /** Remove the scene's folders. */
  clear(): void {
    for (const f of this.folders) f.destroy();
    this.folders = [];
    this.refreshClock = null;
  }

  /** Re-read the clock (paused, time scale) into the controls. */
  refresh(): void {
    this.refreshClock?.();
  }
}

/** Write the URL state to the address bar (replacing the entry) when it changed. */
export function writeUrl(state: AppUrlState): void {
  const search = formatUrlState(state);
  if (search !== location.search) history.replaceState(null, '', `${location.pathname}${search}`);
}

/** Simulation: play/pause, step, reset, time scale, and the stepping settings (which restart the run). */
function simulationFolder(gui: GUI, host: ControlsHost): { folder: GUI; refresh: () => void } {
  const sim = host.sim;
  const wc = worldControls(gui, sim, {
    title: 'Simulation',
    onStep: () => host.stepOnce(),
    onReset: () => void host.restart(),
    onChange: () => {
      host.url.timeScale = sim.timeScale;
      host.url.paused = sim.paused || undefined;
      host.updateTimeline();
      host.writeUrl();
    },
  });
  const settings = {
    integrator: sim.settings.integrator,
    dt: closestStep(sim.settings.dt),
    substeps: sim.settings.substeps,
  };
  // A stepping setting is kept in the simulation and the URL, and restarts the run from its start state.
  const applyStepping = <K extends keyof typeof settings>(key: K, value: (typeof settings)[K]): void => {
    (sim.settings as typeof settings)[key] = value;
    (host.url as Partial<typeof settings>)[key] = value;
    host.writeUrl();
    void host.restart();
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
  return { folder: wc.folder, refresh: () => wc.refresh() };
}

/**
 * Forces: Rayleigh damping C on every lane whose engine takes forces (kept in the URL as `damp`), and the
 * drag's spring. Dragging a bob pushes the same point of every lane with the same force.
 */
function forcesFolder(gui: GUI, host: ControlsHost): GUI {
  const ff = gui.addFolder('Forces');
  const v = { damping: host.sim.settings.damping, stiffness: host.drag?.stiffness ?? 60 };
  ff.add(v, 'damping', 0, 2, 0.01)
    .name('Damping C')
    .onChange((c: number) => {
      host.sim.setDamping(c);
      host.url.damping = c > 0 ? c : undefined;
      host.writeUrl();
      host.renderLegend();
    });
  if (host.drag) {
    const drag = host.drag;
    ff.add(v, 'stiffness', 5, 200, 1)
      .name('Drag spring k')
      .onChange((k: number) => {
        drag.stiffness = k;
      });
  }
  ff.domElement.title =
    'Drag a bob (mouse or finger) to pull it; the same push goes to every lane. A quick flick on release plucks.';
  return ff;
}

/** Engines: on/off per lane, the model of each learned lane, the TF.js backend. */
function enginesFolder(gui: GUI, host: ControlsHost): GUI {
  const engines = gui.addFolder('Engines');
  const toggles: Record<string, boolean> = {};
  for (const lane of host.lanes) {
    toggles[lane.key] = lane.enabled;
    const c = engines
      .add(toggles, lane.key)
      .name(lane.label)
      .onChange((on: boolean) => {
        lane.enabled = on;
        host.url.off = host.lanes.filter((l) => !l.enabled).map((l) => l.key);
        host.writeUrl();
        void host.restart();
      });
    c.domElement.style.setProperty('--lane-color', lane.color);
    c.domElement.classList.add('lane-toggle');
    if (lane.status === 'unavailable') {
      c.disable();
      c.domElement.title = lane.reason;
    }
  }
  void addModelChoices(engines, host);
  const sel = { backend: (host.url.backend ?? 'auto') as BackendChoice };
  let info: { update(report: BackendReport): void } | null = null;
  engines
    .add(sel, 'backend', BACKEND_CHOICES)
    .name('Learned backend')
    .onChange(async (b: BackendChoice) => {
      host.url.backend = b;
      // Routes recorded on another backend no longer apply.
      host.url.routes = {};
      host.backend = await initBackend(b);
      info?.update(host.backend);
      host.writeUrl();
      const module = host.module;
      if (module) await host.openScene(module.id, host.url.options, true);
    });
  if (host.backend) info = backendInfo(engines, host.backend);
  return engines;
}

/** A model choice for every learned lane that has more than the models listed for it. */
async function addModelChoices(folder: GUI, host: ControlsHost): Promise<void> {
  const models = await listModels();
  for (const lane of host.lanes) {
    if (!LEARNED_ENGINES.has(lane.engineId)) continue;
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
        host.url.models[lane.key] = name;
        delete host.url.routes[lane.key];
        host.writeUrl();
        const module = host.module;
        if (module) void host.openScene(module.id, host.url.options, true);
      });
  }
}

/** Initial state: per-coordinate sliders for small systems (every lane one state of the same dof). */
function initialStateFolder(gui: GUI, host: ControlsHost): GUI | null {
  const module = host.module;
  const lanes = host.lanes;
  const dof = lanes[0]?.system.dof ?? 0;
  const single = lanes.every((l) => l.batch === 1 && l.system.dof === dof);
  if (!module || !single || dof === 0 || dof > 4 || module.initialStateControls === false) return null;
  const init = gui.addFolder('Initial state');
  const names = coordinateNames(module, dof);
  const state: Record<string, number> = {};
  const ref = lanes[0];
  const isAngle = ref.system.angles;
  for (let i = 0; i < dof; i++) {
    state[`q${i}`] = ref.q0[i];
    state[`v${i}`] = ref.qd0[i];
  }
  const apply = () => {
    const q = Array.from({ length: dof }, (_, i) => state[`q${i}`]);
    const qd = Array.from({ length: dof }, (_, i) => state[`v${i}`]);
    host.url.q0 = q;
    host.url.qd0 = qd;
    for (const lane of lanes) lane.setInitial(q, qd);
    void host.restart();
  };
  for (let i = 0; i < dof; i++) {
    const lim = isAngle[i] ? Math.PI : 3;
    init.add(state, `q${i}`, -lim, lim, 0.01).name(names[i]).onFinishChange(apply);
  }
  for (let i = 0; i < dof; i++) {
    const lim = isAngle[i] ? 10 : 0.95;
    init.add(state, `v${i}`, -lim, lim, 0.01).name(`d${names[i]}/dt`).onFinishChange(apply);
  }
  const random = () => {
    const rng = createRng((Math.random() * 2 ** 32) >>> 0);
    const q = new Float64Array(dof);
    const qd = new Float64Array(dof);
    ref.system.sample(rng, q, qd);
    for (let i = 0; i < dof; i++) {
      state[`q${i}`] = isAngle[i] ? Math.atan2(Math.sin(q[i]), Math.cos(q[i])) : q[i];
      state[`v${i}`] = isAngle[i] ? qd[i] * 0.2 : qd[i];
    }
    for (const c of init.controllers) c.updateDisplay();
    apply();
  };
  init.add({ random }, 'random').name('Random state');
  return init;
}

/**
 * System parameters (masses, lengths, g, …) when every lane runs the same registry system; counts (links,
 * nodes) stay with the scene's options, which also size the initial state.
 */
function parametersFolder(gui: GUI, host: ControlsHost): GUI | null {
  const module = host.module;
  const systems = host.definition?.systems ?? [];
  const sysId = systems[0]?.system;
  const sameSystem = typeof sysId === 'string' && systems.every((s) => s.system === sysId);
  const specs = sameSystem
    ? (listSystems().find((x) => x.id === sysId)?.params ?? []).filter((p) => !p.integer)
    : [];
  if (!module || specs.length === 0 || !host.lanes[0]) return null;
  const pf = paramControls(gui, specs, host.lanes[0].system.params, {
    title: 'System parameters',
    onChange: (values) => {
      host.url.params = Object.fromEntries(
        specs.filter((p) => values[p.name] !== p.default).map((p) => [p.name, values[p.name]]),
      );
      host.writeUrl();
      void host.openScene(module.id, host.url.options, true);
    },
  });
  pf.close();
  return pf;
}

/** Scene options (e.g. number of links, the typed Lagrangian): a change reopens the scene. */
function sceneFolder(gui: GUI, host: ControlsHost): GUI | null {
  const module = host.module;
  if (!module?.options?.length) return null;
  const sf = gui.addFolder('Scene');
  const values = resolveOptions(module, host.url.options);
  for (const opt of module.options) {
    let c: Controller;
    if (opt.choices) c = sf.add(values, opt.name, invert(opt.choices));
    else if (opt.text) c = sf.add(values, opt.name);
    else c = sf.add(values, opt.name, opt.min, opt.max, opt.step);
    c.name(opt.label).onFinishChange(() => {
      void host.openScene(module.id, { ...values }, true);
    });
    if (opt.text) c.domElement.classList.add('text-option');
  }
  return sf;
}

/** View: layout, trails, the phase portrait's coordinate, the gallery. */
function viewFolder(gui: GUI, host: ControlsHost): GUI {
  const vf = gui.addFolder('View');
  const rig = host.rigView;
  if (rig) {
    const v = { layout: rig.layout, trails: host.url.trails ?? true };
    vf.add(v, 'layout', { 'Side by side': 'side', 'Overlay (ghosts)': 'overlay' })
      .name('Layout')
      .onChange((l: 'side' | 'overlay') => {
        rig.setLayout(l);
        host.url.layout = l;
        host.frameCamera();
        host.writeUrl();
      });
    vf.add(v, 'trails')
      .name('Trails')
      .onChange((on: boolean) => {
        rig.setTrails(on);
        host.url.trails = on;
        host.writeUrl();
      });
  }
  const dof = host.lanes[0]?.system.dof ?? 0;
  const module = host.module;
  if (dof > 0 && module) {
    const names = coordinateNames(module, dof);
    const choices = Object.fromEntries(names.slice(0, Math.min(dof, 16)).map((n, i) => [n, i]));
    const p = { phase: host.plots.phaseIndex };
    vf.add(p, 'phase', choices)
      .name('Phase portrait of')
      .onChange((i: number) => {
        host.plots.phaseIndex = Number(i);
        host.plots.setLanes(host.lanes, module.coordinates);
        host.plots.update(host.sim.recorder, true);
        host.url.phase = Number(i);
        host.writeUrl();
      });
  }
  vf.add({ gallery: () => host.toggleGallery(true) }, 'gallery').name('Scene gallery…');
  return vf;
}

/** The scene's names of the coordinates, `q<i>` where it has none. */
function coordinateNames(module: SceneModule, dof: number): string[] {
  return Array.from({ length: dof }, (_, i) => module.coordinates?.[i] ?? `q${i}`);
}

/** The stored step nearest `dt`, or `dt` itself when no choice matches it exactly. */
function closestStep(dt: number): number {
  let best = 1 / 120;
  for (const v of Object.values(STEP_CHOICES)) if (Math.abs(v - dt) < Math.abs(best - dt)) best = v;
  return Math.abs(best - dt) < 1e-12 ? best : dt;
}

/** `{ value: label }` as lil-gui's `{ label: value }`. */
function invert(choices: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(choices).map(([v, label]) => [label, v]));
}
