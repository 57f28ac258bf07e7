export { defineScene, isScene } from './defineScene.js';
export { type RunSceneOptions, runScene } from './runScene.js';
export { SceneError } from './SceneError.js';
export { SceneRunner, type SceneRunnerOptions } from './SceneRunner.js';
export type {
  AppliedEvent,
  ImpulseEvent,
  MarkerEvent,
  PauseEvent,
  PerturbEvent,
  RecordedQuantity,
  Recording,
  ResumeEvent,
  Scene,
  SceneCamera,
  SceneDefinition,
  SceneEvent,
  SceneFailure,
  SceneForces,
  SceneRecorder,
  SceneRun,
  SceneSystem,
  SceneView,
  SetStateEvent,
  Vec3,
} from './types.js';
