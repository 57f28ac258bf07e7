/**
 * A second-order forward-mode jet of a scalar function of the 2n inputs x = [q_0..q_{n−1}, q̇_0..q̇_{n−1}]:
 * its value, its full gradient, and the rows of its Hessian that belong to q̇ — exactly what the
 * Euler–Lagrange equation needs (∂L/∂q, ∂²L/∂q̇∂q̇, ∂²L/∂q̇∂q). Those rows are closed under every
 * arithmetic rule (the chain rule for row i only reads row i, the gradient and the value), so no other
 * Hessian entry is ever needed.
 *
 * Jets are created and recycled by {@link JetOps}; a jet is valid until the next `JetOps.variables` call.
 */
export class Jet {
  /** Value. */
  v = 0;
  /**
   * What the jet depends on: 0 constant (`g`, `h` unused), 1 q only (`g[n..2n)` is zero, `h` unused),
   * 2 anything (all valid). Lets arithmetic skip the many zero blocks of a typical Lagrangian.
   */
  dep: 0 | 1 | 2 = 0;
  /** Gradient over the 2n inputs: `[2n]`, entries `[0, n)` are ∂/∂q, `[n, 2n)` are ∂/∂q̇. */
  readonly g: Float64Array;
  /**
   * Hessian rows of q̇: `[n * 2n]`, `h[r * 2n + j]` = ∂²/∂q̇_r ∂x_j (so columns `[0, n)` form H_vq and
   * columns `[n, 2n)` form H_vv). Allocated on first use.
   */
  h: Float64Array | null = null;

  /** @param n degrees of freedom of the function's inputs */
  constructor(readonly n: number) {
    this.g = new Float64Array(2 * n);
  }
}
