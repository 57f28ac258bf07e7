/**
 * three-lnn/learned — the learned-physics runtime: the model format (load, validate, save, inspect),
 * exact LNN derivatives on TensorFlow.js, and the `lnn`, `baseline` and `lgn` engines.
 *
 * A separate entry point from the core index so that scenes using only exact physics never load
 * TensorFlow.js. Importing it registers the learned engines with `createEngine`.
 *
 * @example
 * import { World, createSystem } from 'three-lnn';
 * import 'three-lnn/learned';
 * const world = new World();
 * await world.add(createSystem('double-pendulum'), {
 *   engine: 'lnn', model: '/models/double-pendulum-lnn/model.json', q0: [2, 1], qd0: [0, 0],
 * });
 */
export {
  BACKEND_NAMES,
  type BackendChoice,
  type BackendName,
  type BackendOptions,
  defaultBackend,
  ensureBackend,
  initBackend,
} from './backend/backend';
export {
  CALIBRATION_SUBSTEPS,
  type EngineReport,
  type FusedStepper,
  LearnedEngine,
  type LearnedEngineOptions,
  ROUTE_NAMES,
  type RouteName,
  type RouteTiming,
} from './backend/LearnedEngine';
export { BaselineEngine } from './engines/BaselineEngine';
export { LGNEngine } from './engines/LGNEngine';
export { LNNEngine } from './engines/LNNEngine';
export { learnedOptions, registerLearnedEngines } from './engines/learned';
export { FusedWebGLLnn, type FusedWebGLLnnOptions } from './gpu/FusedWebGLLnn';
export { checkModelForSystem } from './model/checkSystem';
export { formatModelSummary, inspectModel, type ModelSummary } from './model/inspect';
export { type LoadModelOptions, loadModel, type ModelSource } from './model/loadModel';
export { ModelFormatError, type ModelProblem } from './model/ModelFormatError';
export { FORMAT_VERSION, type LoadedModel, type ModelKind, type ModelMetadata } from './model/metadata';
export { createRandomModel, type RandomModelOptions } from './model/randomModel';
export { referenceAccelerations, referenceEnergy, referenceLagrangian, wrapAngle } from './model/reference';
export { saveModel, writeModel } from './model/saveModel';
export { createFusedLnn, type FusedLnn, type FusedLnnOptions } from './nn/fusedLnn';
export { SolveFlag, type SolveFlagValue, solveSymmetric64 } from './nn/solve64';

// Training (TF.js; `three-lnn train`) and evaluation protocols (`three-lnn eval`).
export { type LossName, sampleBox, type StepInfo, Trainer, type TrainerOptions } from './train/Trainer';
export { defaultTrainingBox, type TrainingBox } from './train/trainingBox';
export { type EvaluateOptions, type EvaluationReport, evaluateModel } from './eval/evaluateModel';
export { energyDrift, energyDriftFromSampler, type Metric, qddError, stringModes } from './eval/protocols';
