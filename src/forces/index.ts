export { checkForcesShape } from './checkForcesShape.js';
export {
  createForces,
  type ForceCallback,
  type ForceSpec,
  ForceSpecError,
  GeneralizedForces,
} from './GeneralizedForces.js';
export { IMPULSE_MAX_SUBSTEPS, ImpulseSolver } from './ImpulseSolver.js';
export { PointForces } from './pointForce.js';
export { WorkLedger } from './WorkLedger.js';
