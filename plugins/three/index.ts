/**
 * three-lnn/three: drop exact or learned Lagrangian physics into a three.js scene.
 * @example
 * import { LNNPhysics } from 'three-lnn/three';
 * const physics = await LNNPhysics();
 */
export { DebugHelper, type DebugHelperOptions } from './DebugHelper';
export {
  DoublePendulumField,
  type DoublePendulumFieldOptions,
  type FieldState,
} from './DoublePendulumField';
export { fixedPoints } from './fixedPoints';
export { InstancedBobs, type InstancedBobsOptions } from './InstancedBobs';
export { type Ghost, LNNPhysics, type LNNPhysicsInstance } from './LNNPhysics';
export type {
  AddSystemOptions,
  GhostOptions,
  LNNPhysicsOptions,
  MeshBinding,
  SystemSpec,
} from './LNNPhysicsOptions';
export type { PhysicsEvents } from './PhysicsEvents';
export { PhysicsSystem } from './PhysicsSystem';
export { pointVelocities } from './pointVelocities';
export { SystemHelper, type SystemHelperOptions } from './SystemHelper';
export { TrailLine } from './TrailLine';
export { inRange, type TrainingRanges, trainingRangesOf } from './trainingRanges';
export type { Vec3Like } from './Vec3Like';
