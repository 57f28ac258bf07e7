/**
 * The work of {@link lnnLossGradient} below its orchestration: three matrix products and four fused
 * elementwise kernels over row-major buffers, behind handles `T` that an implementation owns. Two exist:
 * `referenceKernels` (plain JS, float64: the reference for tests) and `SimdKernels` (float32: wasm SIMD
 * kernels in one arena, GEMMs on the TF.js backend — the trainer's path).
 *
 * Layouts (B states, h units, k = n + 1 tangent directions): a block is B rows of h, row-major; tangent
 * stacks are direction-major, row (i·B + b); per-state coefficients are [B, k]; the Hessian is [B, k, k].
 */
export interface GradKernels<T> {
  /** Whether buffers hold float64 (the reference) or float32. */
  readonly float64: boolean;
  /** Start one gradient evaluation: buffers of the previous one may be reused from here on. */
  begin(): void;
  /** A working-precision buffer of `size` values; zero-filled when `zero`, else undefined contents. */
  alloc(size: number, zero?: boolean): T;
  /** A zero-filled float64 buffer (the Hessian). */
  alloc64(size: number): T;
  /** Values `offset … offset + size` of `t`, sharing its storage. */
  sub(t: T, offset: number, size: number): T;
  /** A typed-array view of `t`, valid until the next `alloc` (which may move the storage). */
  view(t: T): Float32Array | Float64Array;
  /** A float64 view of a buffer from {@link alloc64}, valid until the next `alloc`. */
  view64(t: T): Float64Array;
  /** C `[m, n]` = A `[m, k]` · B `[k, n]`, a new buffer. */
  mm(a: T, m: number, k: number, b: T, n: number): T;
  /** C `[k, n]` = Aᵀ · B for A `[m, k]`, B `[m, n]`, a new buffer. */
  mmTN(a: T, m: number, k: number, b: T, n: number): T;
  /**
   * a = σ(z + bias) and σ′, σ″, σ‴ on the B primal rows of Z; `next` = [a; σ′ ⊙ Ż] ((1 + k)·B rows).
   */
  activate(
    act: 'softplus' | 'tanh',
    Z: T,
    bias: T,
    B: number,
    h: number,
    k: number,
    next: T,
    s1: T,
    s2: T,
    s3: T,
  ): void;
  /**
   * δ = ḡ σ′, c = ḡ σ″, and H_b += Ż_bᵀ diag(c_b) Ż_b (at least the n × n block and the entries (i, n),
   * (n, i) the solve reads).
   */
  curvatureHessian(G: T, s1: T, s2: T, Zd: T, B: number, h: number, k: number, delta: T, c: T, H: T): void;
  /**
   * R = ρ·Ż, A = ν·Ż, c̄ = −R A; ḡ̄ = δ̄ σ′ + c̄ σ″ (→ gb) and z̄ = ḡ (δ̄ σ″ + c̄ σ‴) (→ zb).
   */
  reverseAdjoint(
    dbar: T,
    Zd: T,
    rho: T,
    nu: T,
    s1: T,
    s2: T,
    s3: T,
    G: T,
    B: number,
    h: number,
    k: number,
    R: T,
    A: T,
    gb: T,
    zb: T,
  ): void;
  /**
   * Y = [z̄; Ż̄_0 … Ż̄_{k−1}]: Ż̄_i = −c (ρ_i A + ν_i R) + J̄_i σ′, z̄ = zb + ā σ′ + Σ_i J̄_i Ż_i σ″, with
   * `AJ` = [ā; J̄] from the layer above (null at the top).
   */
  tangentAdjoint(
    Zd: T,
    s1: T,
    s2: T,
    c: T,
    zb: T,
    AJ: T | null,
    rho: T,
    nu: T,
    R: T,
    A: T,
    B: number,
    h: number,
    k: number,
    Y: T,
  ): void;
  /** out[w] += Σ_b src[b, w] over `rows` rows of `cols`. */
  columnSum(src: T, rows: number, cols: number, out: T): void;
}
