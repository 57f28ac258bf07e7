/** A fused GPU stepper (`WebGLLnnStepper`, the `webgl-fused` route): q̈ and whole RK4 advances, one readback each. */
export interface GpuStepper {
  /** `q`, `qd`, `qdd` `[batch * dof]`; per-state flags in {@link GpuStepper.flags}. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;
  /**
   * `substeps` RK4 steps of `dt` in place; flags: worst over all stages. States marked in `skip` are
   * neither evaluated nor written (flag failed); states whose increment is not finite are not written
   * and get marked in `skip` (flag failed).
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    substeps?: number,
    skip?: Uint8Array,
  ): void;
  /** SolveFlag per state of the last call `[capacity]`. */
  readonly flags: Uint8Array;
  /** Free its programs' tensors. Idempotent. */
  dispose(): void;
}
