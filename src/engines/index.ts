export { AnalyticEngine, type AnalyticEngineOptions } from './AnalyticEngine';
export { CpuEngine } from './CpuEngine';
export { rk4DoublePendulum } from './kernels/rk4DoublePendulum';
export { LagrangianEngine } from './LagrangianEngine';
export {
  createEngine,
  type EngineFactory,
  type EngineOptions,
  hasEngine,
  listEngines,
  registerEngine,
} from './registry';
