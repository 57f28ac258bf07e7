/**
 * three-lnn/cannon: learned or exact Lagrangian dynamics inside cannon-es worlds, cannon-es versions of the
 * systems, and the `cannon` engine (registered on import).
 * @example
 * import { attachLagrangian, buildCannonDoublePendulum, stepCannon } from 'three-lnn/cannon';
 */
import './registerCannonEngine';

export {
  type AttachLagrangianOptions,
  attachLagrangian,
  type LagrangianAttachment,
} from './attachLagrangian';
export { buildCannonChain } from './buildCannonChain';
export { buildCannonDoublePendulum } from './buildCannonDoublePendulum';
export { buildCannonPendulum } from './buildCannonPendulum';
export { buildCannonString } from './buildCannonString';
export { type CannonBuildOptions, cannonSubsteps, cannonTuning, type Vec3Like } from './CannonBuildOptions';
export { CannonEngine, type CannonEngineOptions } from './CannonEngine';
export type { CannonSystem } from './CannonSystem';
export { type CannonBuilder, cannonBuilders } from './cannonBuilders';
export { registerCannonEngine } from './registerCannonEngine';
export { stepCannon } from './stepCannon';
