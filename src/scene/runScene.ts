import { SceneError } from './SceneError.js';
import { SceneRunner, type SceneRunnerOptions } from './SceneRunner.js';
import type { Scene, SceneDefinition, SceneRun } from './types.js';

/** Options of {@link runScene}. */
export interface RunSceneOptions extends Omit<SceneRunnerOptions, 'recordSteps'> {
  /**
   * Simulated time in seconds, a whole number of the scene's steps.
   * @default the scene's duration
   */
  duration?: number;
}

/**
 * Run a scene headless from t = 0 to `duration` and return its recordings as plain JSON. Deterministic:
 * the same scene gives the same numbers on every run, in Node and in a browser.
 * @throws SceneError for an invalid scene or duration
 * @example
 * const run = await runScene(scene, { duration: 10 });
 * run.recordings.dp.energy; // [T][count]
 */
export async function runScene(
  scene: SceneDefinition | Scene,
  options: RunSceneOptions = {},
): Promise<SceneRun> {
  const { duration, ...runnerOptions } = options;
  let steps: number | undefined;
  if (duration !== undefined) {
    const ratio = duration / scene.dt;
    steps = Math.round(ratio);
    if (!Number.isFinite(duration) || duration <= 0 || Math.abs(ratio - steps) > 1e-9 * Math.max(1, steps)) {
      throw new SceneError(
        `scene '${scene.name}': duration ${duration} is not a positive whole number of dt = ${scene.dt} steps.`,
      );
    }
  }
  const runner = await SceneRunner.create(scene, {
    ...runnerOptions,
    ...(steps !== undefined ? { recordSteps: steps } : {}),
  });
  try {
    runner.advance(steps ?? runner.steps);
    return runner.result();
  } finally {
    runner.dispose();
  }
}
