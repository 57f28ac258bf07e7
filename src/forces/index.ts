export {
  createForces,
  type ForceCallback,
  type ForceSpec,
  ForceSpecError,
  GeneralizedForces,
} from './GeneralizedForces.js';
export { ImpulseSolver } from './ImpulseSolver.js';
export { PointForces } from './pointForce.js';
export { WorkLedger } from './WorkLedger.js';
