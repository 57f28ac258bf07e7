import type { World } from 'cannon-es';
import type { System } from '../../src/core/types';
import { buildCannonChain } from './buildCannonChain';
import { buildCannonDoublePendulum } from './buildCannonDoublePendulum';
import { buildCannonPendulum } from './buildCannonPendulum';
import { buildCannonString } from './buildCannonString';
import type { CannonBuildOptions } from './CannonBuildOptions';
import type { CannonSystem } from './CannonSystem';

/** A builder of the cannon-es version of one kind of system. */
export type CannonBuilder = (world: World, system: System, options: CannonBuildOptions) => CannonSystem;

/** The cannon-es builders by system id: the systems the `cannon` engine can run. */
export const cannonBuilders: ReadonlyMap<string, CannonBuilder> = new Map<string, CannonBuilder>([
  ['simple-pendulum', buildCannonPendulum],
  ['double-pendulum', buildCannonDoublePendulum],
  ['chain', buildCannonChain],
  ['string', buildCannonString],
]);
