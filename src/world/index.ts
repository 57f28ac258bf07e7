export { Emitter, type Listener } from './Emitter';
export { SystemHandle } from './SystemHandle';
export type { JsonValue, SystemSnapshot, WorldSnapshot } from './snapshot';
export {
  type AddOptions,
  type FromJsonOptions,
  type InvalidEvent,
  type StepEvent,
  World,
  type WorldEvents,
  type WorldOptions,
} from './World';
