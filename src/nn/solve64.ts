/**
 * Float64 solves of H_vv q̈ = rhs in plain JS, with positive-definiteness detection and regularisation.
 * A learned H_vv can be singular or indefinite; these routines never return NaN silently: each state
 * gets a {@link SolveFlag}.
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
 * 1e-6 sits above float32 rounding of a well-conditioned H (≈1e-7 relative) and flags matrices whose
 * condition number exceeds ~1e6, where float32 accelerations are meaningless anyway.
 */
export const PD_TOLERANCE = 1e-6;

/** Relative default of the diagonal shift: ε = DEFAULT_EPSILON_RELATIVE · mean |diag H_vv| (or this value itself when the diagonal is zero). */
export const DEFAULT_EPSILON_RELATIVE = 1e-3;

/**
 * The signed shift for one matrix: magnitude `epsilon` when given, else the relative default; its sign
 * follows the trace, so that the shift moves H towards the definiteness it mostly has.
 */
export function shiftFor(diagAbsMean: number, trace: number, epsilon: number | undefined): number {
  const size =
    epsilon ?? (diagAbsMean > 0 ? DEFAULT_EPSILON_RELATIVE * diagAbsMean : DEFAULT_EPSILON_RELATIVE);
  return trace < 0 ? -size : size;
}

/** Scratch for {@link solveSymmetric64}, grown on demand. */
let scratchA = new Float64Array(0);
let scratchX = new Float64Array(0);

/**
 * Solve one symmetric n×n system H x = r in float64. H is symmetrised ((H+Hᵀ)/2) first, since a float32
 * Hessian is symmetric only to rounding.
 * @param h `[n * n]` row-major, read at `hOff`
 * @param r `[n]`, read at `rOff`
 * @param out `[n]`, written at `outOff`
 * @param epsilon diagonal shift used when H is not definite (default: relative, see {@link shiftFor})
 * @returns the {@link SolveFlag} of this system
 */
export function solveSymmetric64(
  h: ArrayLike<number>,
  hOff: number,
  r: ArrayLike<number>,
  rOff: number,
  out: Float64Array,
  outOff: number,
  n: number,
  epsilon?: number,
): SolveFlagValue {
  const m = n + 1;
  if (scratchA.length < n * m) scratchA = new Float64Array(n * m);
  if (scratchX.length < n) scratchX = new Float64Array(n);
  const A = scratchA;
  let finite = true;
  let diagMax = 0;
  let diagSum = 0;
  let trace = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (h[hOff + i * n + j] + h[hOff + j * n + i]);
      A[i * m + j] = v;
      if (!Number.isFinite(v)) finite = false;
    }
    const ri = r[rOff + i];
    A[i * m + n] = ri;
    if (!Number.isFinite(ri)) finite = false;
    const d = Math.abs(A[i * m + i]);
    diagMax = Math.max(diagMax, d);
    diagSum += d;
    trace += A[i * m + i];
  }
  if (!finite) {
    for (let i = 0; i < n; i++) out[outOff + i] = 0;
    return SolveFlag.failed;
  }
  // LDLᵀ pivots without pivoting = Gaussian elimination pivots of a symmetric matrix; all of one sign
  // iff H is definite (Sylvester). Eliminate on the augmented copy and keep it if it succeeds.
  const tol = PD_TOLERANCE * diagMax;
  const sign = A[0] < 0 ? -1 : 1;
  let pd = diagMax > 0;
  for (let k = 0; k < n && pd; k++) {
    const p = A[k * m + k];
    if (!(sign * p > tol)) {
      pd = false;
      break;
    }
    for (let i = k + 1; i < n; i++) {
      const f = A[i * m + k] / p;
      if (f === 0) continue;
      for (let j = k; j <= n; j++) A[i * m + j] -= f * A[k * m + j];
    }
  }
  if (pd) {
    backSubstitute(A, n, out, outOff);
    return SolveFlag.ok;
  }
  // Not definite: shift the diagonal, then Gaussian elimination with partial pivoting, which also
  // handles a shifted matrix that is still indefinite.
  const eps = shiftFor(diagSum / n, trace, epsilon);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i * m + j] = 0.5 * (h[hOff + i * n + j] + h[hOff + j * n + i]);
    A[i * m + i] += eps;
    A[i * m + n] = r[rOff + i];
  }
  for (let k = 0; k < n; k++) {
    let piv = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(A[i * m + k]) > Math.abs(A[piv * m + k])) piv = i;
    if (piv !== k) {
      for (let j = 0; j <= n; j++) {
        const t = A[k * m + j];
        A[k * m + j] = A[piv * m + j];
        A[piv * m + j] = t;
      }
    }
    const p = A[k * m + k];
    if (p === 0) {
      for (let i = 0; i < n; i++) out[outOff + i] = 0;
      return SolveFlag.failed;
    }
    for (let i = k + 1; i < n; i++) {
      const f = A[i * m + k] / p;
      if (f === 0) continue;
      for (let j = k; j <= n; j++) A[i * m + j] -= f * A[k * m + j];
    }
  }
  backSubstitute(A, n, out, outOff);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[outOff + i])) {
      for (let j = 0; j < n; j++) out[outOff + j] = 0;
      return SolveFlag.failed;
    }
  }
  return SolveFlag.regularised;
}

/** Back substitution on an upper-triangular augmented matrix `[n × (n+1)]`. */
function backSubstitute(A: Float64Array, n: number, out: Float64Array, outOff: number): void {
  const m = n + 1;
  for (let i = n - 1; i >= 0; i--) {
    let s = A[i * m + n];
    for (let j = i + 1; j < n; j++) s -= A[i * m + j] * out[outOff + j];
    out[outOff + i] = s / A[i * m + i];
  }
}

/**
 * Batched {@link solveSymmetric64}.
 * @param h `[batch * n * n]` @param r `[batch * n]` @param out `[batch * n]` @param flags `[batch]` (written)
 * @returns the number of states that were not {@link SolveFlag.ok}
 */
export function solveSymmetricBatch64(
  h: ArrayLike<number>,
  r: ArrayLike<number>,
  out: Float64Array,
  flags: Uint8Array,
  n: number,
  batch: number,
  epsilon?: number,
): number {
  let bad = 0;
  for (let b = 0; b < batch; b++) {
    const f = solveSymmetric64(h, b * n * n, r, b * n, out, b * n, n, epsilon);
    flags[b] = f;
    if (f !== SolveFlag.ok) bad++;
  }
  return bad;
}

let scratchC = new Float64Array(0);
let scratchD = new Float64Array(0);

/**
 * Solve one symmetric tridiagonal system (Thomas algorithm, O(n)) with the same detection and
 * regularisation as {@link solveSymmetric64}.
 * @param diag `[n]` at `dOff` @param off `[n − 1]` (entry i couples i and i+1) at `oOff`
 * @param r `[n]` at `rOff` @param out `[n]` at `outOff`
 */
export function solveTridiagonal64(
  diag: ArrayLike<number>,
  dOff: number,
  off: ArrayLike<number>,
  oOff: number,
  r: ArrayLike<number>,
  rOff: number,
  out: Float64Array,
  outOff: number,
  n: number,
  epsilon?: number,
): SolveFlagValue {
  if (scratchC.length < n) {
    scratchC = new Float64Array(n);
    scratchD = new Float64Array(n);
  }
  let diagMax = 0;
  let diagSum = 0;
  let trace = 0;
  let finite = true;
  for (let i = 0; i < n; i++) {
    const d = diag[dOff + i];
    trace += d;
    if (!Number.isFinite(d) || !Number.isFinite(r[rOff + i])) finite = false;
    if (i + 1 < n && !Number.isFinite(off[oOff + i])) finite = false;
    diagMax = Math.max(diagMax, Math.abs(d));
    diagSum += Math.abs(d);
  }
  const fail = (): SolveFlagValue => {
    for (let i = 0; i < n; i++) out[outOff + i] = 0;
    return SolveFlag.failed;
  };
  if (!finite) return fail();
  const tol = PD_TOLERANCE * diagMax;
  // Thomas pivots are the LDLᵀ pivots: all of one sign iff definite.
  const sign = diag[dOff] < 0 ? -1 : 1;
  const thomas = (shift: number, requirePd: boolean): boolean => {
    const c = scratchC;
    const y = scratchD;
    for (let i = 0; i < n; i++) {
      const o = i > 0 ? off[oOff + i - 1] : 0;
      const p = diag[dOff + i] + shift - (i > 0 ? o * c[i - 1] : 0);
      if (requirePd ? !(sign * p > tol) : p === 0) return false;
      c[i] = i + 1 < n ? off[oOff + i] / p : 0;
      y[i] = (r[rOff + i] - (i > 0 ? o * y[i - 1] : 0)) / p;
    }
    for (let i = n - 1; i >= 0; i--) out[outOff + i] = y[i] - (i + 1 < n ? c[i] * out[outOff + i + 1] : 0);
    return true;
  };
  if (diagMax > 0 && thomas(0, true)) return SolveFlag.ok;
  if (!thomas(shiftFor(diagSum / n, trace, epsilon), false)) return fail();
  for (let i = 0; i < n; i++) if (!Number.isFinite(out[outOff + i])) return fail();
  return SolveFlag.regularised;
}
