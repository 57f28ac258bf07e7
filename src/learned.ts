/**
 * three-lnn/learned — the learned-physics runtime: the model format (load, validate, save, inspect),
 * exact LNN derivatives on TensorFlow.js, and the `lnn`, `baseline` and `lgn` engines.
 *
 * A separate entry point from the core index so that scenes using only exact physics never load
 * TensorFlow.js. Importing it registers the learned engines with `createEngine`.
 *
 * @example
 * import { World, createSystem } from 'three-lnn';
 * import { shippedModel } from 'three-lnn/learned';
 * const world = new World();
 * await world.add(createSystem('double-pendulum'), {
 *   engine: 'lnn', engineOptions: { model: shippedModel('double-pendulum-lnn') }, q0: [2, 1], qd0: [0, 0],
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
  resolveWasmPaths,
} from './learned/backend.js';
export {
  CALIBRATION_SUBSTEPS,
  type CalibrationOptions,
  measureRoutes,
  type RouteMeasurement,
} from './learned/calibrate.js';
export {
  FLOAT32_MANTISSA_BITS,
  formatWebGLCapabilities,
  halfPrecisionReasons,
  type ShaderPrecision,
  softwareWebGL,
  type WebGLCapabilities,
  webglCapabilities,
  webglPrecision,
} from './learned/capabilities.js';
export type { EngineReport } from './learned/EngineReport.js';
export {
  BASELINE_FORCE_SUPPORT,
  type EngineMassScale,
  LearnedEngine,
  type PrecisionNote,
} from './learned/LearnedEngine.js';
export { type LearnedEngineInit, openEngine } from './learned/openEngine.js';
export type { LearnedEngineOptions } from './learned/options.js';
export {
  compareToReference,
  formatPrecisionError,
  PRECISION_SEED,
  PRECISION_STATES,
  type PrecisionError,
  precisionStates,
} from './learned/precision.js';
export {
  type EngineKernels,
  ROUTE_NAMES,
  type Route,
  type RouteAdvance,
  type RouteContext,
  type RouteName,
  type RoutePrecision,
} from './learned/Route.js';
export {
  autoRoutes,
  CALIBRATION_CAP,
  FIXED_JS_BELOW,
  FIXED_WEBGL_FUSED_BELOW,
  type PlanInput,
  type PlanMode,
  planRoutes,
  planSummary,
  type RouteCost,
  type RoutePlan,
  type RouteTiming,
  WEBGL_ROUTES,
} from './learned/RoutePlanner.js';
export { ROUTE_TABLE } from './learned/routes/index.js';
export type { GpuStepper as FusedStepper } from './gpu/GpuStepper.js';
export {
  TENSOR_INTEGRATORS,
  type TensorAccelerationFn,
  type TensorIntegrator,
  tensorFormOf,
  tensorRk4,
  tensorSymplecticEuler,
} from './integrators/tensor.js';
export { BaselineEngine } from './engines/BaselineEngine.js';
export { LGNEngine } from './engines/LGNEngine.js';
export { LNNEngine } from './engines/LNNEngine.js';
export { learnedOptions, registerLearnedEngines } from './engines/learned.js';
export { WebGLLnnStepper, type WebGLLnnStepperOptions } from './gpu/WebGLLnnStepper.js';
export {
  ASSETS_META_NAME,
  type AssetLocations,
  type AssetOptions,
  assetLocations,
  configureAssets,
  SHIPPED_MODELS,
  type ShippedModelName,
  shippedModel,
} from './model/assets.js';
export { type CheckModelOptions, checkModelForSystem, trainingMismatches } from './model/checkSystem.js';
export { formatModelSummary, inspectModel, type ModelSummary } from './model/inspect.js';
export { type LoadModelOptions, loadModel, type ModelSource } from './model/loadModel.js';
export { ModelFormatError, type ModelProblem, showValue } from './model/ModelFormatError.js';
export { MODEL_LIMITS } from './model/validate.js';
export {
  FORMAT_VERSION,
  type LoadedModel,
  type MassScaleSpec,
  type ModelKind,
  type ModelMetadata,
} from './model/metadata.js';
export {
  MASS_SCALE_METHOD,
  MASS_SCALE_SEED,
  MASS_SCALE_STATES,
  type MassScaleOptions,
  measureMassScale,
} from './model/massScale.js';
export { trainingBoxStates } from './model/trainingStates.js';
export { createRandomModel, type RandomModelOptions } from './model/randomModel.js';
export {
  referenceAccelerations,
  referenceEnergy,
  referenceLagrangian,
  referenceMassMatrix,
  wrapAngle,
} from './model/reference.js';
export { saveModel, writeModel } from './model/saveModel.js';
export { createFusedLnn, type FusedLnn, type FusedLnnOptions } from './nn/jsLnn.js';
export { SolveFlag, type SolveFlagValue, solveSymmetric64 } from './nn/solve64.js';

// Training (TF.js; `three-lnn train`) and evaluation protocols (`three-lnn eval`).
export {
  type LossName,
  type StepInfo,
  Trainer,
  TrainerOptionError,
  type TrainerOptions,
} from './train/Trainer.js';
export { defaultTrainingBox, sampleBox, type TrainingBox } from './train/trainingBox.js';
export { type GradientMethod, GRADIENT_METHODS } from './train/fast/exactGradient.js';

export { type EvaluateOptions, type EvaluationReport, evaluateModel } from './eval/evaluateModel.js';
export {
  energyDrift,
  energyDriftFromSampler,
  energyErrorFromSampler,
  type Metric,
  qddError,
  stringModes,
} from './eval/protocols.js';
