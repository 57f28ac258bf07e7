import type { App, LaneSnapshot } from './App';

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
  /** The recorded run as CSV or JSON text. */
  exportText(kind: 'csv' | 'json'): string;
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
}

declare global {
  interface Window {
    __threeLnn?: TestHook;
  }
}

/** Install `window.__threeLnn` for `app`; `ready` turns true when the first scene runs. */
export function installTestHook(app: App): TestHook {
  const hook: TestHook = {
    ready: false,
    scenes: app.sceneIds,
    scene: () => app.module?.id ?? '',
    frame: () => app.frame,
    time: () => ({ t: app.sim.t, steps: app.sim.steps, paused: app.sim.paused }),
    lanes: () => app.snapshot(),
    openScene: (id, options = {}) => app.openScene(id, options),
    frames: (n, frameSeconds) => app.runFrames(n, frameSeconds),
    manual: (on) => {
      app.manualClock = on;
    },
    settled: () => app.settled(),
    step: async (n) => {
      await app.settled();
      app.sim.paused = true;
      app.sim.stepN(n);
      await app.runFrames(1);
    },
    plots: () => app.plotStats,
    memory: () => app.memory(),
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
    exportText: (kind) => app.exportText(kind),
    notices: () => [...app.notices],
    contextLost: () => app.isContextLost,
    poison: (key) => {
      const h = app.lanes.find((l) => l.key === key)?.handle;
      if (!h) throw new Error(`no running lane '${key}'`);
      h.q[0] = Number.NaN;
    },
    legend: (key) => document.querySelector(`.legend li[data-lane="${key}"]`)?.textContent ?? '',
    timings: () => ({ ...app.timings }),
  };
  window.__threeLnn = hook;
  const wait = () => {
    if (app.module && app.frame > 0) hook.ready = true;
    else requestAnimationFrame(wait);
  };
  requestAnimationFrame(wait);
  return hook;
}
