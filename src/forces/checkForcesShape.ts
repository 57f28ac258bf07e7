import type { Forces } from '../core/types.js';

/**
 * Check that `forces` fit a batch of `batch` states of a system with `dof` coordinates: the same dof
 * and at least `batch` copies. Every engine calls it before it evaluates forces.
 * @param who the engine, named in the error (e.g. `analytic engine`)
 * @throws Error naming both shapes
 */
export function checkForcesShape(who: string, forces: Forces, dof: number, batch: number): void {
  if (forces.dof !== dof) {
    throw new Error(`${who}: forces for dof ${forces.dof} given to a system with dof ${dof}.`);
  }
  if (forces.count < batch) {
    throw new Error(`${who}: forces describe ${forces.count} copies but the batch has ${batch} states.`);
  }
}
