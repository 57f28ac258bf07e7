/**
 * The registry of demo scenes: the app's gallery lists them in this order, the first is the default,
 * and the browser smoke test runs every one of them.
 */
import { chain } from './chain.js';
import { chaosField } from './chaosField.js';
import { doublePendulum } from './doublePendulum.js';
import { doubleSphericalRide } from './doubleSphericalRide.js';
import { drumMembrane } from './drumMembrane.js';
import { relativisticParticle } from './relativisticParticle.js';
import { sphericalField } from './sphericalField.js';
import { sphericalRide } from './sphericalRide.js';
import type { SceneModule } from './types.js';
import { vibratingString } from './vibratingString.js';
import { whirlingString } from './whirlingString.js';
import { yourLagrangian } from './yourLagrangian.js';

/** Every registered scene, default first. */
export const sceneModules: readonly SceneModule[] = [
  doublePendulum,
  chaosField,
  chain,
  vibratingString,
  relativisticParticle,
  yourLagrangian,
  sphericalRide,
  doubleSphericalRide,
  whirlingString,
  drumMembrane,
  sphericalField,
];

/** The scene registered under `id`, or undefined. */
export function findScene(id: string): SceneModule | undefined {
  return sceneModules.find((m) => m.id === id);
}

export type { SceneModule, SceneOption, SceneOptionValues } from './types.js';
