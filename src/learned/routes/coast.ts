import { SolveFlag } from '../../nn/solve64.js';
import type { StateGuard } from '../../nn/stateGuard.js';

/**
 * Scratch for the GPU-resident routes, whose stages run out of reach of the per-call failed-state
 * policy: states the policy rejects at the start are left out there (uploaded as zeros) and stepped
 * with q̈ = 0, flag failed, as the staged path steps them.
 */
export class ResidentScratch {
  private skip = new Uint8Array(0);
  private flagBuf = new Uint8Array(0);

  /** `[batch]`: non-zero for the states `guard` rejects (see `StateGuard.screen`). */
  skipMask(guard: StateGuard, q: Float64Array, qd: Float64Array, batch: number): Uint8Array {
    if (this.skip.length < batch) this.skip = new Uint8Array(batch);
    const skip = this.skip.subarray(0, batch);
    skip.fill(0);
    guard.screen(q, qd, batch, skip);
    return skip;
  }

  /** A zeroed flags buffer `[batch]`. */
  flags(batch: number): Uint8Array {
    if (this.flagBuf.length < batch) this.flagBuf = new Uint8Array(batch);
    const f = this.flagBuf.subarray(0, batch);
    f.fill(0);
    return f;
  }
}

/**
 * Step the states marked in `skip` as failed states: q̈ = 0 in every stage, so q += dt·q̇ per substep
 * and q̇ stays; their flag becomes failed.
 * @param q `[batch * dof]` @param qd `[batch * dof]` @param skip `[batch]` @param flags `[batch]`
 */
export function coastFailed(
  q: Float64Array,
  qd: Float64Array,
  dof: number,
  batch: number,
  dt: number,
  substeps: number,
  skip: Uint8Array,
  flags: Uint8Array,
): void {
  const n = dof;
  for (let b = 0; b < batch; b++) {
    if (skip[b] === 0) continue;
    flags[b] = SolveFlag.failed;
    for (let s = 0; s < substeps; s++) for (let i = b * n; i < (b + 1) * n; i++) q[i] += dt * qd[i];
  }
}
