export {
  type AddOptions,
  engineOptionsOf,
  isSystem,
  type SystemSpec,
  systemFrom,
} from './addOptions.js';
export { Emitter, type Listener } from './Emitter.js';
export { type ForcedState, ForceSupportError, HandleForces } from './HandleForces.js';
export { SystemHandle } from './SystemHandle.js';
export {
  type FromJsonOptions,
  type JsonValue,
  SNAPSHOT_VERSION,
  type SystemSnapshot,
  type WorldSnapshot,
} from './snapshot.js';
export type { InvalidEvent, StepEvent, WorldClock, WorldEvents, WorldOptions } from './types.js';
export { World } from './World.js';
