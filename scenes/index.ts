/**
 * The registry of demo scenes: the app's gallery lists them in this order, the first is the default,
 * and the browser smoke test runs every one of them.
 */
import { chain } from './chain';
import { chaosField } from './chaosField';
import { doublePendulum } from './doublePendulum';
import { relativisticParticle } from './relativisticParticle';
import type { SceneModule } from './types';
import { vibratingString } from './vibratingString';
import { yourLagrangian } from './yourLagrangian';

/** Every registered scene, default first. */
export const sceneModules: readonly SceneModule[] = [
  doublePendulum,
  chaosField,
  chain,
  vibratingString,
  relativisticParticle,
  yourLagrangian,
];

/** The scene registered under `id`, or undefined. */
export function findScene(id: string): SceneModule | undefined {
  return sceneModules.find((m) => m.id === id);
}

export type { SceneModule, SceneOption, SceneOptionValues } from './types';
