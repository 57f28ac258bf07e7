export { defineScene, isScene } from './defineScene';
export { type RunSceneOptions, runScene } from './runScene';
export { SceneError } from './SceneError';
export { SceneRunner, type SceneRunnerOptions } from './SceneRunner';
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
  SceneRecorder,
  SceneRun,
  SceneSystem,
  SceneView,
  SetStateEvent,
  Vec3,
} from './types';
