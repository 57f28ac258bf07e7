/**
 * The registry of demo scenes: the app's gallery lists them in this order, the first is the default,
 * and the browser smoke test runs every one of them.
 */
import { doublePendulum } from './doublePendulum';
import type { SceneModule } from './types';

/** Every registered scene, default first. */
export const sceneModules: readonly SceneModule[] = [doublePendulum];

/** The scene registered under `id`, or undefined. */
export function findScene(id: string): SceneModule | undefined {
  return sceneModules.find((m) => m.id === id);
}

export type { SceneModule, SceneOption, SceneOptionValues } from './types';
