export { AnalyticEngine, type AnalyticEngineOptions } from './AnalyticEngine.js';
export { CpuEngine } from './CpuEngine.js';
export { rk4DoublePendulum } from './kernels/rk4DoublePendulum.js';
export { LagrangianEngine } from './LagrangianEngine.js';
export {
  createEngine,
  type EngineFactory,
  type EngineOptions,
  hasEngine,
  LEARNED_ENGINE_IDS,
  listEngines,
  listLoadableEngines,
  loadEngine,
  registerEngine,
  registerEngineLoader,
} from './registry.js';
