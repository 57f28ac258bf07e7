/**
 * three-lnn — the engine core. A deliberate public index: every name a user needs, re-exported
 * explicitly. Nothing here depends on three.js or the DOM; it runs in Node and in browsers.
 *
 * @example
 * import { World, createSystem } from 'three-lnn';
 * const world = new World();
 * const pendulum = await world.add(createSystem('double-pendulum'), { q0: [2, 1], qd0: [0, 0] });
 * world.step(1 / 120);
 */

// Contracts
export type {
  AccelerationFn,
  Engine,
  EngineId,
  EngineRoute,
  ForceSupport,
  Forces,
  Integrator,
  IntegratorId,
  Ops,
  Params,
  Rng,
  System,
} from './core/types.js';

// Systems
export { Chain, type ChainParams, MAX_CHAIN_LINKS } from './systems/Chain.js';
export { DoublePendulum, type DoublePendulumParams } from './systems/DoublePendulum.js';
export {
  DoubleSphericalPendulum,
  type DoubleSphericalPendulumParams,
} from './systems/DoubleSphericalPendulum.js';
export {
  MAX_MEMBRANE_SIDE,
  Membrane,
  type MembraneParams,
  membraneModeFrequency,
  membraneModeShape,
} from './systems/Membrane.js';
export { NewtonianParticle, type NewtonianParticleParams } from './systems/NewtonianParticle.js';
export { type ParamSpec, resolveParams } from './systems/params.js';
export {
  PARTICLE_MAX_SPEED,
  RelativisticParticle,
  type RelativisticParticleParams,
} from './systems/RelativisticParticle.js';
export { createSystem, listSystems, registerSystem, type SystemInfo } from './systems/registry.js';
export { SimplePendulum, type SimplePendulumParams } from './systems/SimplePendulum.js';
export {
  SPHERICAL_MIN_COS,
  SphericalPendulum,
  type SphericalPendulumParams,
  tiltSwingAngles,
} from './systems/SphericalPendulum.js';
export { MAX_STRING_NODES, type StringParams, StringSystem } from './systems/StringSystem.js';
export { String3D, type String3DParams } from './systems/String3D.js';
export { stringModeFrequencies } from './systems/stringModeFrequencies.js';
export { pointVelocities } from './systems/kinematics.js';

// Exact Lagrangian mechanics
export { EulerLagrangeSolver, type Lagrangian } from './lagrangian/EulerLagrangeSolver.js';
export { defineSystem } from './lagrangian/defineSystem.js';
export {
  LagrangianSystem,
  type ParametricLagrangian,
  type SystemDefinition,
} from './lagrangian/LagrangianSystem.js';
export {
  compileExpression,
  type ExpressionNode,
  type ExpressionSystemOptions,
  MAX_EXPRESSION_LENGTH,
  parseExpression,
  systemFromExpression,
} from './lagrangian/expression.js';
export { ExpressionError } from './lagrangian/ExpressionError.js';
export { Jet } from './math/Jet.js';
export { JetOps } from './math/JetOps.js';
export { numberOps } from './math/numberOps.js';
export { createRng, normal, uniform } from './math/random.js';
export { SymmetricSolver } from './linalg/SymmetricSolver.js';
export { symmetricEigenvalues } from './linalg/symmetricEigenvalues.js';

// Integrators
export {
  createIntegrator,
  DormandPrince5,
  type DormandPrince5Options,
  INTEGRATOR_IDS,
  type IntegrateOptions,
  type IntegratorInfo,
  type IntegratorOptions,
  integrate,
  isIntegratorId,
  Leapfrog,
  listIntegrators,
  RungeKutta4,
  SymplecticEuler,
} from './integrators/index.js';

// Engines
export {
  AnalyticEngine,
  type AnalyticEngineOptions,
  CpuEngine,
  createEngine,
  type EngineFactory,
  type EngineOptions,
  hasEngine,
  LagrangianEngine,
  LEARNED_ENGINE_IDS,
  listEngines,
  listLoadableEngines,
  loadEngine,
  registerEngine,
  registerEngineLoader,
} from './engines/index.js';

// External forces: damping, constant and callback Q, forces and impulses on points, the work ledger
export {
  checkForcesShape,
  createForces,
  type ForceCallback,
  type ForceSpec,
  ForceSpecError,
  GeneralizedForces,
  IMPULSE_MAX_SUBSTEPS,
  ImpulseSolver,
  PointForces,
  WorkLedger,
} from './forces/index.js';

// World
export {
  type AddOptions,
  Emitter,
  type FromJsonOptions,
  type InvalidEvent,
  isSystem,
  type JsonValue,
  type Listener,
  ForceSupportError,
  type ForcedState,
  HandleForces,
  SNAPSHOT_VERSION,
  type StepEvent,
  type SystemSnapshot,
  type SystemSpec,
  SystemHandle,
  systemFrom,
  World,
  type WorldClock,
  type WorldEvents,
  type WorldOptions,
  type WorldSnapshot,
} from './world/index.js';

// Angles, model metadata and the one check of a model against a system (no TensorFlow.js is loaded by these)
export { wrapAngle } from './model/inputMap.js';
export { MODEL_KINDS, type ModelKind, type ModelMetadata } from './model/metadata.js';
export {
  type CheckModelOptions,
  checkModelForSystem,
  type ModelBinding,
  trainingMismatches,
} from './model/checkSystem.js';
export { ModelFormatError, type ModelProblem, showValue } from './model/ModelFormatError.js';

// Where the shipped models and the wasm binaries are served (no TensorFlow.js is loaded by these)
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

// Scripted scenes
export * from './scene/index.js';

// Training data: recorded trajectories (formats, derivative estimates) and the box of fresh states, as
// sources for the trainer (`three-lnn/learned`'s Trainer, option `data`). TF.js-free.
export { BoxSource } from './train/data/BoxSource.js';
export type { DataRecord, DataSource, TrainingBatch } from './train/data/DataSource.js';
export {
  DEFAULT_SG_ORDER,
  DEFAULT_SG_WINDOW,
  type DerivativeOptions,
  estimateDerivatives,
} from './train/data/derivatives.js';
export { sgProblem } from './train/data/savitzkyGolay.js';
export {
  parseTrajectory,
  TRAJECTORY_FORMAT,
  type Trajectory,
  TrajectoryError,
} from './train/data/trajectory.js';
export { readTrajectories, type TrajectoryFile, trajectorySource } from './train/data/trajectoryData.js';
export { TrajectorySource } from './train/data/TrajectorySource.js';
