/**
 * three-lnn/cannon: learned or exact Lagrangian dynamics inside cannon-es worlds, cannon-es versions of the
 * systems, and the `cannon` engine (registered on import).
 * @example
 * import { attachLagrangian, buildCannonDoublePendulum, stepCannon } from 'three-lnn/cannon';
 */
import './registerCannonEngine.js';

export {
  type AttachLagrangianOptions,
  attachLagrangian,
  type LagrangianAttachment,
} from './attachLagrangian.js';
export { buildCannonChain } from './buildCannonChain.js';
export { buildCannonDoublePendulum } from './buildCannonDoublePendulum.js';
export { buildCannonDoubleSphericalPendulum } from './buildCannonDoubleSphericalPendulum.js';
export { buildCannonPendulum } from './buildCannonPendulum.js';
export { buildCannonSphericalPendulum } from './buildCannonSphericalPendulum.js';
export { buildCannonString } from './buildCannonString.js';
export {
  type CannonBuildOptions,
  cannonSubsteps,
  cannonTuning,
  type Vec3Like,
} from './CannonBuildOptions.js';
export { CannonEngine, type CannonEngineOptions } from './CannonEngine.js';
export type { CannonSystem } from './CannonSystem.js';
export { type CannonBuilder, cannonBuilders } from './cannonBuilders.js';
export { LagrangianContacts, type LagrangianImpact } from './lagrangianContacts.js';
export { registerCannonEngine } from './registerCannonEngine.js';
export { stepCannon } from './stepCannon.js';
