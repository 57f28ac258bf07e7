export { DormandPrince5, type DormandPrince5Options } from './DormandPrince5';
export { type IntegrateOptions, integrate } from './integrate';
export { Leapfrog } from './Leapfrog';
export { RungeKutta4 } from './RungeKutta4';
export {
  createIntegrator,
  INTEGRATOR_IDS,
  type IntegratorInfo,
  type IntegratorOptions,
  isIntegratorId,
  listIntegrators,
} from './registry';
export { SymplecticEuler } from './SymplecticEuler';
