export { DormandPrince5, type DormandPrince5Options } from './DormandPrince5.js';
export { type IntegrateOptions, integrate } from './integrate.js';
export { Leapfrog } from './Leapfrog.js';
export { RungeKutta4 } from './RungeKutta4.js';
export {
  createIntegrator,
  INTEGRATOR_IDS,
  type IntegratorInfo,
  type IntegratorOptions,
  isIntegratorId,
  listIntegrators,
} from './registry.js';
export { SymplecticEuler } from './SymplecticEuler.js';
