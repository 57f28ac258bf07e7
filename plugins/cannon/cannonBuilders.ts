import type { World } from 'cannon-es';
import type { System } from '../../src/index.js';
import { buildCannonChain } from './buildCannonChain.js';
import { buildCannonDoublePendulum } from './buildCannonDoublePendulum.js';
import { buildCannonDoubleSphericalPendulum } from './buildCannonDoubleSphericalPendulum.js';
import { buildCannonPendulum } from './buildCannonPendulum.js';
import { buildCannonSphericalPendulum } from './buildCannonSphericalPendulum.js';
import { buildCannonString } from './buildCannonString.js';
import type { CannonBuildOptions } from './CannonBuildOptions.js';
import type { CannonSystem } from './CannonSystem.js';

/** A builder of the cannon-es version of one kind of system. */
export type CannonBuilder = (world: World, system: System, options: CannonBuildOptions) => CannonSystem;

/** The cannon-es builders by system id: the systems the `cannon` engine can run. */
export const cannonBuilders: ReadonlyMap<string, CannonBuilder> = new Map<string, CannonBuilder>([
  ['simple-pendulum', buildCannonPendulum],
  ['double-pendulum', buildCannonDoublePendulum],
  ['chain', buildCannonChain],
  ['string', buildCannonString],
  ['spherical-pendulum', buildCannonSphericalPendulum],
  ['double-spherical-pendulum', buildCannonDoubleSphericalPendulum],
]);
