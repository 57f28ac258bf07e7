import type { SystemHandle } from './SystemHandle.js';
import type { World } from './World.js';

/** Options of the {@link World} constructor. */
export interface WorldOptions {
  /**
   * Step used by {@link World.stepN} when no step is given.
   * @default 1 / 120
   */
  fixedTimeStep?: number;
  /**
   * Default most fixed steps one {@link World.step} call with a frame time may take.
   * @default 10
   */
  maxSubSteps?: number;
  /**
   * Factor applied to `timeSinceLastCalled` (slow motion < 1 < fast forward).
   * @default 1
   */
  timeScale?: number;
}

/** The clock of a {@link World}, for {@link World.setClock}. */
export interface WorldClock {
  /** Simulated time in seconds, finite. */
  time: number;
  /** Fixed steps taken, an integer ≥ 0. */
  stepCount: number;
  /**
   * Frame time not yet simulated, in seconds, ≥ 0.
   * @default 0
   */
  accumulator?: number;
  /**
   * Interpolation factor, in [0, 1].
   * @default 0
   */
  alpha?: number;
}

/** Payload of `preStep` and `postStep`. The object is reused between steps: copy what you keep. */
export interface StepEvent {
  world: World;
  /** The fixed step being taken. */
  dt: number;
}

/** Payload of `invalid`: a system produced a non-finite state and was frozen. */
export interface InvalidEvent {
  world: World;
  handle: SystemHandle;
  /** Index of the frozen copy within the handle. */
  index: number;
  /** What went wrong, in words. */
  reason: string;
  /** The error thrown by the engine or integrator, if one was. */
  error?: unknown;
}

/** Events of a {@link World}. */
export interface WorldEvents {
  preStep: StepEvent;
  postStep: StepEvent;
  invalid: InvalidEvent;
}
