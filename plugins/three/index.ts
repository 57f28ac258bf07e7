/**
 * three-lnn/three: drop exact or learned Lagrangian physics into a three.js scene.
 * @example
 * import { LNNPhysics } from 'three-lnn/three';
 * const physics = await LNNPhysics();
 */

export { pointVelocities } from '../../src/index.js';
export { BINDING_KEY } from './bindings.js';
export { DebugHelper, type DebugHelperOptions } from './DebugHelper.js';
export {
  DoublePendulumField,
  type DoublePendulumFieldOptions,
  type FieldState,
} from './DoublePendulumField.js';
export { fixedPoints } from './fixedPoints.js';
export { InstancedBobs, type InstancedBobsOptions } from './InstancedBobs.js';
export { type Ghost, LNNPhysics, type LNNPhysicsInstance } from './LNNPhysics.js';
export type {
  AddSystemOptions,
  BindingAxis,
  BindingBase,
  GhostOptions,
  LinkBinding,
  LNNPhysicsOptions,
  MeshBinding,
  PointBinding,
  SystemSpec,
} from './LNNPhysicsOptions.js';
export type { PhysicsEvents } from './PhysicsEvents.js';
export { PhysicsSystem } from './PhysicsSystem.js';
export {
  type DragPoint,
  type DragSource,
  PointerDrag,
  type PointerDragEvents,
  type PointerDragOptions,
} from './PointerDrag.js';
export { SystemHelper, type SystemHelperOptions } from './SystemHelper.js';
export { TrailLine } from './TrailLine.js';
export { inRange, type TrainingRanges, trainingRangesOf } from './trainingRanges.js';
export type { Vec3Like } from './Vec3Like.js';
