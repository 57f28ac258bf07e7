/**
 * Float64 solves of H_vv q̈ = rhs in plain JS, with positive-definiteness detection and regularisation
 * following the policy of `solvePolicy.ts`. A learned H_vv can
 * be singular or indefinite; these routines never return NaN silently: each state gets a
 * {@link SolveFlag}.
 */

import { luSolve } from '../linalg/luSolve.js';
import {
  PD_TOLERANCE,
  SINGULAR_PIVOT_RELATIVE,
  SolveFlag,
  type SolveFlagValue,
  shiftFor,
} from './solvePolicy.js';

// The public entry (src/learned.ts) and the engines import the flags from here.
export { SolveFlag, type SolveFlagValue } from './solvePolicy.js';

/** Scratch for {@link solveSymmetric64}, grown on demand. */
let scratchA = new Float64Array(0);
/** Scratch of the shifted second pass (`luSolve` takes `[n * n]` and `[n]` separately). */
let scratchM = new Float64Array(0);
let scratchB = new Float64Array(0);

/**
 * Solve one symmetric n×n system H x = r in float64. H is symmetrised ((H+Hᵀ)/2) first, since a float32
 * Hessian is symmetric only to rounding.
 * @param h `[n * n]` row-major, read at `hOff`
 * @param r `[n]`, read at `rOff`
 * @param out `[n]`, written at `outOff`
 * @param epsilon diagonal shift used when H is not definite (default: relative, see `shiftFor` in
 *   solvePolicy.ts)
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
  if (scratchM.length < n * n) scratchM = new Float64Array(n * n);
  if (scratchB.length < n) scratchB = new Float64Array(n);
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
  // Not definite: shift the diagonal, then Gaussian elimination with partial pivoting (luSolve), which
  // also handles a shifted matrix that is still indefinite.
  const eps = shiftFor(diagSum / n, trace, epsilon);
  const M = scratchM;
  const x = scratchB;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) M[i * n + j] = 0.5 * (h[hOff + i * n + j] + h[hOff + j * n + i]);
    M[i * n + i] += eps;
    x[i] = r[rOff + i];
  }
  let solved = luSolve(M, x, x, n, SINGULAR_PIVOT_RELATIVE);
  for (let i = 0; i < n && solved; i++) solved = Number.isFinite(x[i]);
  for (let i = 0; i < n; i++) out[outOff + i] = solved ? x[i] : 0;
  return solved ? SolveFlag.regularised : SolveFlag.failed;
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
