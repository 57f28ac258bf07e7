/**
 * The linear part of an external force in the model's units (α·Q_c `[batch * dof]`, the buffer may be
 * longer; α·C `[dof]`), applied on the GPU at every stage: rhs += α·Q_c − α·C ⊙ q̇.
 */
export interface GpuLinearForce {
  readonly constant: Float64Array | null;
  readonly damping: Float64Array | null;
}

/** A fused GPU stepper (`WebGLLnnStepper`, the `webgl-fused` route): q̈ and whole RK4 advances, one readback each. */
export interface GpuStepper {
  /**
   * `q`, `qd`, `qdd` `[batch * dof]`; per-state flags in {@link GpuStepper.flags}. `force`: α·Q
   * `[batch * dof]` added to the right-hand side, or null.
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    force?: Float64Array | null,
  ): void;
  /**
   * `substeps` RK4 steps of `dt` in place; flags: worst over all stages. States marked in `skip` are
   * neither evaluated nor written (flag failed); states whose increment is not finite are not written
   * and get marked in `skip` (flag failed). `force`: the linear part of an external force, uploaded once
   * and applied at every stage; null or absent: none.
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    substeps?: number,
    skip?: Uint8Array,
    force?: GpuLinearForce | null,
  ): void;
  /** SolveFlag per state of the last call `[capacity]`. */
  readonly flags: Uint8Array;
  /** Free its programs' tensors. Idempotent. */
  dispose(): void;
}
