import { Vector3 } from 'three';
import type { App } from './App.js';
import { tensorMemory } from './backend.js';
import type { Lane } from './Lane.js';
import type { LearnSettings, LearnState } from './learn/LearnSession.js';
import { LOAD_LEVELS } from './loadGovernor.js';
import type { PushRecord } from './Simulation.js';
import type { EngineRoute } from './urlState.js';
import { applyStateEdit } from './View3D.js';

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

/**
 * A small, stable surface for browser tests and for poking at the app from the console:
 * `window.__threeLnn`.
 */
export interface TestHook {
  /** True once the first scene is open and the frame loop runs. */
  ready: boolean;
  /** Registered scene ids (gallery order). */
  scenes: string[];
  /** Id of the open scene. */
  scene(): string;
  /** Frames rendered so far. */
  frame(): number;
  /** Simulated time and steps. */
  time(): { t: number; steps: number; paused: boolean };
  /** Every lane's state and status. */
  lanes(): LaneSnapshot[];
  /** Open a scene (with option values) and wait until it runs. */
  openScene(id: string, options?: Record<string, string | number>): Promise<void>;
  /** Render `n` frames now with a fixed frame time (default 1/60 s), independent of the page's clock. */
  frames(n: number, frameSeconds?: number): Promise<void>;
  /**
   * With `true`, the page's own animation loop stops advancing the app: only {@link TestHook.frames}
   * does (deterministic tests). `false` gives the clock back.
   */
  manual(on: boolean): void;
  /** Resolves when no scene is being opened or restarted. */
  settled(): Promise<void>;
  /** Restart the run from its initial state, as the reset button does (pinned routes stay pinned). */
  restart(): Promise<void>;
  /** Pause the clock and take exactly `n` steps of `dt` (deterministic, for comparisons). */
  step(n: number): Promise<void>;
  /** Points drawn by each plot at the last redraw, and the redraw count. */
  plots(): { energy: number; divergence: number; phase: number; redraws: number };
  /** TF.js and three.js memory in use. */
  memory(): { numTensors: number; numBytes: number; geometries: number; textures: number; programs: number };
  /** Active TF.js backend and precision. */
  backend(): { name: string; precision: string; fallbackReason: string | null } | null;
  /** Settings in use. */
  settings(): { dt: number; substeps: number; integrator: string; timeScale: number };
  /** Recorded samples so far. */
  recorded(): number;
  /** The recorded run as CSV or JSON text (the JSON carries the routes and the link that replays it). */
  exportText(kind: 'csv' | 'json'): string;
  /** The route each running learned lane takes now, by lane key. */
  routes(): Record<string, EngineRoute>;
  /** Warnings and errors the app showed. */
  notices(): string[];
  /** Milliseconds spent per part of the frame since the scene opened. */
  timings(): { frames: number; physics: number; views: number; render: number; plots: number };
  /**
   * Write NaN into a lane's state (as a faulty engine would), to exercise the guards: the next step
   * restores the last finite state, freezes the lane and flags it.
   */
  poison(laneKey: string): void;
  /** Text of the legend entry of a lane. */
  legend(laneKey: string): string;
  /** Whether the WebGL context is lost right now. */
  contextLost(): boolean;
  /** The camera: distance to the point it orbits (zooming changes it) and its position. */
  camera(): { distance: number; position: [number, number, number] };
  /**
   * The 3D stage: whether the scene is drawn in 3D (ground, shadows), the camera's kind, whether the key
   * light casts shadows, and what a 3D scene view draws (instances and a vertex checksum per lane).
   */
  view3d(): {
    threeD: boolean;
    perspective: boolean;
    shadows: boolean;
    view: { kind: string; instances: Record<string, number>; vertexSum: Record<string, number> } | null;
  };
  /**
   * The responsive layout: columns of the lane grid (lanes in one row: as many as lanes; 0 without rig
   * lanes) and whether the controls drawer is open (small screens).
   */
  layout(): { laneColumns: number; drawerOpen: boolean };
  /**
   * Where point `point` of copy `copy` of a drawn lane is on the page now (client px, the rendered,
   * interpolated state), and its world position; null when the lane is not drawn. Rig lanes and the
   * bodies of a 3D scene's own view (a membrane's grid points, rim included; a field's pendulums) alike.
   */
  pointOnScreen(
    laneKey: string,
    point: number,
    copy?: number,
  ): { x: number; y: number; world: [number, number, number] } | null;
  /** Where a world point is on the page now (client px), as {@link TestHook.pointOnScreen} projects. */
  screenOf(world: [number, number, number]): { x: number; y: number } | null;
  /**
   * The pointer drag: what is held now (lane key, copy, point; by the rig drag or a 3D view's drag), its
   * spring, and the state edit a 3D view's drag applies at each step while held.
   */
  drag(): {
    held: { lane: string; copy: number; point: number } | null;
    stiffness: number;
    enabled: boolean;
    edit: { kind: string; point: number; copy: number; value: number[] } | null;
  } | null;
  /**
   * Replay the run from its log: restart from the initial state and take as many steps as the run took,
   * applying every logged push (forces, impulses, damping, state edits) before the step it was logged at.
   * Returns every lane's full state before and after, and the push counts; the same run gives bitwise
   * the same states.
   */
  replay(): Promise<{
    steps: number;
    before: { key: string; q: number[]; qd: number[] }[];
    after: { key: string; q: number[]; qd: number[] }[];
    pushes: number;
    replayedPushes: number;
  }>;
  /** Every push of the run so far (drags, plucks, damping), per lane and step. */
  pushes(): PushRecord[];
  /**
   * Forces per lane: why its engine takes none (or null), the work W done on copy 0, its energy ledger
   * E − E₀ − W and whether forces are in use; plus whether the run is marked forced and the damping.
   */
  forces(): {
    forced: boolean;
    damping: number;
    lanes: { key: string; unsupported: string | null; work: number; ledger: number; note: string }[];
  };
  /** Set the damping C of every lane that takes forces (as the Forces → Damping control). */
  setDamping(c: number): void;
  /**
   * The load level the app draws at (its load governor: 0 is full load; lowered when frames miss 60 fps
   * for a while, never under the manual clock), with what it sets and what the canvas uses now.
   */
  load(): {
    level: number;
    name: string;
    levels: number;
    pixelRatioCap: number;
    trailScale: number;
    plotSeconds: number;
    /** The pace (0: real time; higher: at most `stepsPerFrame` steps per frame, slow motion). */
    pace: number;
    paceName: string;
    stepsPerFrame: number | null;
    pixelRatio: number;
    trailPoints: number;
    shown: string;
  };
  /**
   * "Learn this scene": the run's state (status, step, loss, validation q̈ L1, swaps, box), the learned
   * lane (null before the first checkpoint) and whether it runs the last good checkpoint.
   */
  learn(): LearnState & { lane: LaneSnapshot | null; settled: boolean; available: string | null };
  /** Start learning the open scene (settings over the panel's defaults). */
  learnStart(settings?: Partial<LearnSettings>): Promise<void>;
  /** Stop, resume or discard the run (discard frees the worker, the lane and its engine). */
  learnControl(action: 'stop' | 'resume' | 'discard'): Promise<void>;
  /** The last good checkpoint's files: model.json text and weights.bin as base64; null before one. */
  learnExport(): Promise<{ modelJson: string; weightsBase64: string } | null>;
  /** q̈ of the learned lane's model at `batch` states (`[batch * dof]` each), as the lane computes it. */
  learnAccel(q: number[], qd: number[], batch: number): number[] | null;
}

declare global {
  interface Window {
    __threeLnn?: TestHook;
  }
}

/** Plain snapshot of one lane; `l` is its index in the recording. */
function snapshotOf(app: App, lane: Lane, l: number): LaneSnapshot {
  const rec = app.sim.recorder;
  const last = rec.length - 1;
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
}

/** Install `window.__threeLnn` for `app`; `ready` turns true when the first scene runs. */
export function installTestHook(app: App): TestHook {
  const hook: TestHook = {
    ready: false,
    scenes: app.sceneIds,
    scene: () => app.module?.id ?? '',
    frame: () => app.frame,
    time: () => ({ t: app.sim.t, steps: app.sim.steps, paused: app.sim.paused }),
    lanes: () => app.lanes.map((lane, l) => snapshotOf(app, lane, l)),
    openScene: (id, options = {}) => app.openScene(id, options),
    frames: (n, frameSeconds) => app.runFrames(n, frameSeconds),
    manual: (on) => app.setManualClock(on),
    settled: () => app.settled(),
    restart: () => app.restart(),
    step: async (n) => {
      await app.settled();
      app.sim.paused = true;
      app.sim.stepN(n);
      await app.runFrames(1);
    },
    plots: () => ({ ...app.plots.stats }),
    memory: () => ({ ...tensorMemory(), ...app.stage.gpuMemory }),
    backend: () =>
      app.backend
        ? {
            name: app.backend.name,
            precision: app.backend.precision,
            fallbackReason: app.backend.fallbackReason,
          }
        : null,
    settings: () => ({ ...app.sim.settings }),
    recorded: () => app.sim.recorder.length,
    exportText: (kind) => app.timeline.exportText(kind),
    routes: () => app.routes(),
    notices: () => [...app.shell.notices],
    contextLost: () => app.stage.contextLost,
    poison: (key) => {
      const h = app.lanes.find((l) => l.key === key)?.handle;
      if (!h) throw new Error(`no running lane '${key}'`);
      h.q[0] = Number.NaN;
    },
    legend: (key) => document.querySelector(`.legend li[data-lane="${key}"]`)?.textContent ?? '',
    timings: () => ({ ...app.timings }),
    camera: () => ({
      distance: app.stage.cameraDistance,
      position: app.stage.camera.position.toArray() as [number, number, number],
    }),
    view3d: () => ({
      threeD: app.stage.threeD,
      perspective: app.stage.camera.isPerspectiveCamera === true,
      shadows: app.stage.shadows,
      view: app.sceneView?.probe() ?? null,
    }),
    layout: () => ({ laneColumns: app.stage.laneColumns, drawerOpen: app.shell.drawerOpen }),
    pointOnScreen: (key, point, copy = 0) => {
      const d = app.rigView?.dragSystems().find((x) => x.lane.key === key);
      const p = d ? d.system.position(copy, point) : (app.sceneView?.pointOf?.(key, point, copy) ?? null);
      const world = p?.toArray() as [number, number, number] | undefined;
      const at = world ? hook.screenOf(world) : null;
      return at && world ? { ...at, world } : null;
    },
    screenOf: (world) => {
      const el = app.stage.pointerElement;
      if (!el) return null;
      const p = new Vector3(...world);
      app.stage.camera.updateMatrixWorld();
      p.project(app.stage.camera);
      const r = el.getBoundingClientRect();
      return { x: r.left + ((p.x + 1) / 2) * r.width, y: r.top + ((1 - p.y) / 2) * r.height };
    },
    drag: () => {
      const drag = app.drag;
      if (!drag) return null;
      const g = drag.grabbed;
      const lane = g ? app.rigView?.dragSystems().find((d) => d.system === g.system)?.lane : undefined;
      const v = app.viewDrag?.grabbed ?? null;
      const edit = app.viewDrag?.currentEdit ?? null;
      return {
        held:
          g && lane
            ? { lane: lane.key, copy: g.copy, point: g.point }
            : v
              ? { lane: v.lane.key, copy: v.copy, point: v.point }
              : null,
        stiffness: drag.stiffness,
        enabled: drag.enabled,
        edit: edit ? { ...edit, value: [...edit.value] } : null,
      };
    },
    replay: () => replayRun(app),
    pushes: () => app.sim.pushes.map((p) => ({ ...p, value: [...p.value] })),
    forces: () => ({
      forced: app.sim.forced,
      damping: app.sim.settings.damping,
      lanes: app.lanes.map((lane) => ({
        key: lane.key,
        unsupported: lane.forcesUnsupported,
        work: lane.handle?.forces.ledger.work[0] ?? 0,
        ledger: lane.handle ? lane.ledger(0) : Number.NaN,
        note: lane.forcesNote,
      })),
    }),
    setDamping: (c) => {
      app.sim.setDamping(c);
      app.url.damping = c > 0 ? c : undefined;
      app.renderLegend();
    },
    load: () => ({
      ...app.loadLevel,
      pace: app.pace.level,
      paceName: app.pace.name,
      stepsPerFrame: app.pace.stepsPerFrame,
      levels: LOAD_LEVELS.length,
      pixelRatio: app.stage.pixelRatio,
      trailPoints: app.rigView?.trailPoints ?? 0,
      shown: document.querySelector('.viewport .hud')?.textContent ?? '',
    }),
    ...learnHooks(app),
  };
  window.__threeLnn = hook;
  const wait = () => {
    if (app.module && app.frame > 0) hook.ready = true;
    else requestAnimationFrame(wait);
  };
  requestAnimationFrame(wait);
  return hook;
}

/** Every lane's full state (float64 as numbers). */
function statesOf(app: App): { key: string; q: number[]; qd: number[] }[] {
  return app.lanes.map((l) => ({ key: l.key, q: Array.from(l.q), qd: Array.from(l.qd) }));
}

/** See {@link TestHook.replay}. */
async function replayRun(app: App): Promise<Awaited<ReturnType<TestHook['replay']>>> {
  await app.settled();
  const log = app.sim.pushes.map((p) => ({ ...p, value: [...p.value] }));
  const steps = app.sim.world.stepCount;
  const before = statesOf(app);
  await app.restart();
  const sim = app.sim;
  const runner = sim.runner;
  if (!runner) throw new Error('replay: the run did not restart');
  sim.paused = true;
  const world = sim.world;
  const byStep = new Map<number, PushRecord[]>();
  for (const p of log) byStep.set(p.step, [...(byStep.get(p.step) ?? []), p]);
  const handleOf = (key: string) => app.lanes.find((l) => l.key === key)?.handle ?? null;
  // Forces are held over a step: set where logged, cleared at the first step without one (as the drag does).
  let held: PushRecord[] = [];
  const onPreStep = () => {
    const now = byStep.get(world.stepCount) ?? [];
    const forces = now.filter((p) => p.kind === 'force');
    for (const p of held) {
      if (!forces.some((f) => f.lane === p.lane && f.point === p.point && f.copy === p.copy))
        handleOf(p.lane)?.forces.setPointForce(p.point, null, p.copy);
    }
    held = forces;
    for (const p of now) {
      const h = handleOf(p.lane);
      if (!h) continue;
      if (p.kind === 'force') h.forces.setPointForce(p.point, [p.value[0], p.value[1], p.value[2]], p.copy);
      else if (p.kind === 'impulse')
        h.forces.applyPointImpulse(p.point, [p.value[0], p.value[1], p.value[2]], p.copy, world.time);
      else if (p.kind === 'damping') h.forces.setDamping(p.value[0]);
      else applyStateEdit(h, { kind: p.kind, point: p.point, copy: p.copy, value: p.value });
      if (p.kind !== 'damping' || p.step > 0) sim.recordPush({ ...p, value: [...p.value] });
    }
  };
  world.on('preStep', onPreStep);
  try {
    runner.advance(steps);
  } finally {
    world.off('preStep', onPreStep);
    for (const p of held) handleOf(p.lane)?.forces.setPointForce(p.point, null, p.copy);
  }
  await app.runFrames(1, 0);
  return { steps, before, after: statesOf(app), pushes: log.length, replayedPushes: sim.pushes.length };
}

/** The "Learn this scene" part of the hook. */
function learnHooks(
  app: App,
): Pick<TestHook, 'learn' | 'learnStart' | 'learnControl' | 'learnExport' | 'learnAccel'> {
  const session = app.learn;
  return {
    learn: () => {
      const lane = session.lane;
      return {
        ...structuredClone({ ...session.state }),
        lane: lane ? snapshotOf(app, lane, -1) : null,
        settled: session.settled,
        available: session.unavailableReason(),
      };
    },
    learnStart: (settings = {}) =>
      session.start({ ...session.defaults(settings.fineTune ?? false), ...settings }),
    learnControl: async (action) => {
      if (action === 'stop') session.stop();
      else if (action === 'resume') session.resume();
      else await session.discard();
    },
    learnExport: async () => {
      const files = await session.exportFiles();
      if (!files) return null;
      const bytes = new Uint8Array(files.weights);
      let bin = '';
      for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
      return { modelJson: files.modelJson, weightsBase64: btoa(bin) };
    },
    learnAccel: (q, qd, batch) => session.accelerations(q, qd, batch),
  };
}
