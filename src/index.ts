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
  Integrator,
  IntegratorId,
  Ops,
  Params,
  Rng,
  System,
} from './core/types';

// Systems
export { Chain, type ChainParams, MAX_CHAIN_LINKS } from './systems/Chain';
export { DoublePendulum, type DoublePendulumParams } from './systems/DoublePendulum';
export { NewtonianParticle, type NewtonianParticleParams } from './systems/NewtonianParticle';
export { type ParamSpec, resolveParams } from './systems/params';
export {
  PARTICLE_MAX_SPEED,
  RelativisticParticle,
  type RelativisticParticleParams,
} from './systems/RelativisticParticle';
export { createSystem, listSystems, registerSystem, type SystemInfo } from './systems/registry';
export { SimplePendulum, type SimplePendulumParams } from './systems/SimplePendulum';
export { MAX_STRING_NODES, type StringParams, StringSystem } from './systems/StringSystem';
export { stringModeFrequencies } from './systems/stringModeFrequencies';

// Exact Lagrangian mechanics
export { EulerLagrangeSolver, type Lagrangian } from './lagrangian/EulerLagrangeSolver';
export { defineSystem } from './lagrangian/defineSystem';
export {
  LagrangianSystem,
  type ParametricLagrangian,
  type SystemDefinition,
} from './lagrangian/LagrangianSystem';
export {
  compileExpression,
  type ExpressionNode,
  type ExpressionSystemOptions,
  parseExpression,
  systemFromExpression,
} from './lagrangian/expression';
export { ExpressionError } from './lagrangian/ExpressionError';
export { Jet } from './math/Jet';
export { JetOps } from './math/JetOps';
export { numberOps } from './math/numberOps';
export { createRng, normal, uniform } from './math/random';
export { SymmetricSolver } from './linalg/SymmetricSolver';
export { symmetricEigenvalues } from './linalg/symmetricEigenvalues';

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
} from './integrators/index';

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
  listEngines,
  registerEngine,
} from './engines/index';

// World
export {
  type AddOptions,
  Emitter,
  type FromJsonOptions,
  type InvalidEvent,
  type StepEvent,
  type SystemSnapshot,
  SystemHandle,
  World,
  type WorldEvents,
  type WorldOptions,
  type WorldSnapshot,
} from './world/index';

// Scripted scenes
export * from './scene/index';
