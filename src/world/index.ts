export { Emitter, type Listener } from './Emitter.js';
export { SystemHandle } from './SystemHandle.js';
export type { JsonValue, SystemSnapshot, WorldSnapshot } from './snapshot.js';
export {
  type AddOptions,
  type FromJsonOptions,
  type InvalidEvent,
  type StepEvent,
  World,
  type WorldEvents,
  type WorldOptions,
} from './World.js';
