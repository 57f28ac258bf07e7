import type GUI from 'lil-gui';

/**
 * What {@link worldControls} drives: a core `World`, or anything with the same clock fields (for example
 * an object that swaps its World when a run restarts).
 */
export interface ClockLike {
  /** While true, the clock does not advance. */
  paused: boolean;
  /** Simulated seconds per wall-clock second. */
  timeScale: number;
  /** Step used by the ‘step’ button when `dt` is not given. */
  readonly fixedTimeStep?: number;
  /** Take `n` steps of `dt` now (World.stepN). */
  stepN?(n: number, dt?: number): void;
}

/** Options of {@link worldControls}. */
export interface WorldControlsOptions {
  /** Folder title. @default 'Simulation' */
  title?: string;
  /** Step taken by the ‘step’ button, seconds. @default clock.fixedTimeStep */
  dt?: number;
  /** Called after any control changed the world (e.g. to redraw). @default undefined */
  onChange?: () => void;
  /** Replaces the ‘step’ button's `clock.stepN(1, dt)` (e.g. to take several sub-steps). @default undefined */
  onStep?: () => void;
  /** Called by the ‘reset’ button; omitted hides the button. @default undefined */
  onReset?: () => void;
}

/** What {@link worldControls} returns: the folder and a way to refresh the displayed values. */
export interface WorldControls {
  readonly folder: GUI;
  /** Re-read the world's values into the controllers (after changing them in code). */
  refresh(): void;
  /** Remove the folder. */
  destroy(): void;
}

/**
 * lil-gui controls for a core `World` (or any {@link ClockLike}): play / pause, a single step, reset and
 * the time scale. The clock stays the single source of truth: the controls write to it and read back
 * from it.
 * @example
 * const gui = new GUI();
 * worldControls(gui, world, { dt: 1 / 120, onReset: () => handle.setState(q0, qd0) });
 */
export function worldControls(gui: GUI, world: ClockLike, options: WorldControlsOptions = {}): WorldControls {
  const folder = gui.addFolder(options.title ?? 'Simulation');
  const changed = () => options.onChange?.();
  const actions = {
    playPause: () => {
      world.paused = !world.paused;
      playCtl.name(world.paused ? '▶ Play' : '❚❚ Pause');
      changed();
    },
    step: () => {
      world.paused = true;
      if (options.onStep) options.onStep();
      else world.stepN?.(1, options.dt ?? world.fixedTimeStep);
      playCtl.name('▶ Play');
      changed();
    },
    reset: () => {
      options.onReset?.();
      changed();
    },
  };
  const playCtl = folder.add(actions, 'playPause').name(world.paused ? '▶ Play' : '❚❚ Pause');
  folder.add(actions, 'step').name('Step');
  if (options.onReset) folder.add(actions, 'reset').name('Reset');
  const speed = folder.add(world, 'timeScale', 0.05, 4, 0.05).name('Time scale').onChange(changed);
  return {
    folder,
    refresh() {
      playCtl.name(world.paused ? '▶ Play' : '❚❚ Pause');
      speed.updateDisplay();
    },
    destroy() {
      folder.destroy();
    },
  };
}
