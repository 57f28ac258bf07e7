/**
 * The numerics policy of every H_vv q̈ = rhs solve of the learned engines, in one place. Each substrate
 * implements it: `solve.ts` (tensors, differentiable), `solve64.ts` (float64 JS) and the GLSL solve of the
 * fused WebGL route (`gpu/programs/solve.ts`, which interpolates these constants into its source).
 *
 * The policy, per state:
 * 1. H is symmetrised ((H + Hᵀ)/2). A non-finite H or rhs fails (flag `failed`, q̈ = 0).
 * 2. Definiteness: the LDLᵀ pivots d_k (elimination without pivoting) all have the sign s of the first
 *    one and s·d_k > PD_TOLERANCE · max_i |H_ii|. Then H is solved as is (flag `ok`).
 * 3. Otherwise H + shift·I is solved, shift = {@link shiftFor} (flag `regularised`).
 * 4. Failure: the shifted system fails when one of its pivots is at most
 *    SINGULAR_PIVOT_RELATIVE · max |A_ij| in absolute value, or when the solution is not finite.
 */

/** Per-state outcome of a solve. */
export const SolveFlag = {
  /** H_vv definite (positive, or negative for a learned L of flipped sign); solved as is. */
  ok: 0,
  /** H_vv indefinite or nearly singular: solved with H_vv + ε·sign(tr H_vv)·I. */
  regularised: 1,
  /** No finite solution (non-finite input or H_vv + ε·I singular): q̈ set to 0 for that state. */
  failed: 2,
} as const;

/** One of the {@link SolveFlag} values. */
export type SolveFlagValue = (typeof SolveFlag)[keyof typeof SolveFlag];

/**
 * H_vv counts as definite when every LDLᵀ pivot d_k has the sign s of the first one and
 * s·d_k > PD_TOLERANCE · max_i |H_ii|. Either sign is accepted: the Euler–Lagrange equations of L and −L
 * coincide, so a trained network may learn the Lagrangian with a negative factor (its H_vv is then
 * negative definite and its learned energy is −E).
 * The value sits above float32 rounding of a well-conditioned H (≈1e-7 relative) and flags matrices whose
 * condition number exceeds ~1e6, where float32 accelerations are meaningless anyway.
 */
export const PD_TOLERANCE = 1e-6;

/**
 * Relative default of the diagonal shift: ε = DEFAULT_EPSILON_RELATIVE · mean |diag H_vv|, or this value
 * itself when the diagonal is zero.
 */
export const DEFAULT_EPSILON_RELATIVE = 1e-3;

/**
 * A pivot of the shifted system (elimination with partial pivoting) counts as singular when its absolute
 * value is at most SINGULAR_PIVOT_RELATIVE · max |A_ij|. Zero: only an exactly zero pivot fails there;
 * a pivot that is merely tiny yields a huge or non-finite solution, and a non-finite one fails.
 */
export const SINGULAR_PIVOT_RELATIVE = 0;

/**
 * The magnitude of the diagonal shift: `epsilon` when given, else DEFAULT_EPSILON_RELATIVE · `diagAbsMean`
 * (or DEFAULT_EPSILON_RELATIVE itself when `diagAbsMean` is zero).
 */
export function shiftMagnitude(diagAbsMean: number, epsilon: number | undefined): number {
  return epsilon ?? (diagAbsMean > 0 ? DEFAULT_EPSILON_RELATIVE * diagAbsMean : DEFAULT_EPSILON_RELATIVE);
}

/**
 * The signed shift for one matrix: {@link shiftMagnitude}, with the sign of the trace (+ for a zero
 * trace), so that the shift moves H towards the definiteness it mostly has.
 * @param diagAbsMean mean |H_ii| @param trace Σ H_ii
 * @param epsilon magnitude of the shift, or undefined for the relative default
 */
export function shiftFor(diagAbsMean: number, trace: number, epsilon: number | undefined): number {
  const size = shiftMagnitude(diagAbsMean, epsilon);
  return trace < 0 ? -size : size;
}
