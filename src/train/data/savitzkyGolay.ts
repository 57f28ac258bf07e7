/**
 * Savitzky–Golay derivative filters: the least-squares polynomial of degree `order` through a centred
 * window of `window` uniform samples, differentiated at the centre. For a derivative d the estimate is
 * a fixed linear combination Σ_k c_k y_{j+k} / h^d, so white noise of standard deviation σ on y gives an
 * estimate with standard deviation σ·√(Σ c_k²) / h^d ({@link sgNoiseGain}), and on a smooth signal the
 * error falls as h^(order + 1 − d), one order more where that is odd (the symmetric window cancels it).
 */

/** Largest window accepted (samples). */
export const MAX_SG_WINDOW = 401;
/** Largest polynomial degree accepted. */
export const MAX_SG_ORDER = 8;

/**
 * Check a window and an order for derivatives up to `maxDeriv`.
 * @returns null when they fit, else a one-line reason naming the fix
 */
export function sgProblem(window: number, order: number, maxDeriv: number): string | null {
  if (!Number.isInteger(window) || window < 3 || window > MAX_SG_WINDOW || window % 2 === 0)
    return `the window must be an odd integer from 3 to ${MAX_SG_WINDOW}, got ${window}`;
  if (!Number.isInteger(order) || order < maxDeriv || order > MAX_SG_ORDER)
    return `the order must be an integer from ${maxDeriv} to ${MAX_SG_ORDER} (at least the derivative taken), got ${order}`;
  if (order >= window) return `the order (${order}) must be below the window (${window})`;
  return null;
}

/**
 * Weights c_k (k = −m … m, m = (window − 1)/2) of the d-th derivative at the window's centre, for unit
 * sample spacing: d! times row d of (AᵀA)⁻¹Aᵀ with A_{k,i} = (k/m)^i, rescaled by m^−d.
 * @throws Error for a window and order that do not fit (see {@link sgProblem})
 */
export function sgWeights(window: number, order: number, deriv: number): Float64Array {
  const problem = sgProblem(window, order, deriv);
  if (problem) throw new Error(`Savitzky–Golay: ${problem}.`);
  const m = (window - 1) / 2;
  const p = order + 1;
  // Normal matrix G = AᵀA on the scaled abscissae x = k/m (well conditioned for any window).
  const g = new Float64Array(p * p);
  for (let k = -m; k <= m; k++) {
    const x = k / m;
    for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) g[i * p + j] += x ** (i + j);
  }
  // Solve G y = e_d: row d of G⁻¹ (G is symmetric).
  const y = solve(g, p, deriv);
  let factorial = 1;
  for (let i = 2; i <= deriv; i++) factorial *= i;
  const out = new Float64Array(window);
  for (let k = -m; k <= m; k++) {
    const x = k / m;
    let s = 0;
    for (let i = 0; i < p; i++) s += y[i] * x ** i;
    out[k + m] = (factorial * s) / m ** deriv;
  }
  return out;
}

/**
 * Predicted standard deviation of the d-th derivative estimate per unit standard deviation of white
 * noise on the samples: √(Σ c_k²) / h^d.
 * @param h sample spacing
 */
export function sgNoiseGain(window: number, order: number, deriv: number, h: number): number {
  const c = sgWeights(window, order, deriv);
  let s = 0;
  for (const x of c) s += x * x;
  return Math.sqrt(s) / h ** deriv;
}

/**
 * Apply weights `c` (from {@link sgWeights}) along `y` (`count` samples, stride `stride`, from `offset`)
 * at every centre where the window fits: `out[j − m]` for j = m … count − 1 − m, divided by h^d.
 */
export function sgApply(
  c: Float64Array,
  y: Float64Array,
  count: number,
  h: number,
  deriv: number,
  out: Float64Array,
): void {
  const m = (c.length - 1) / 2;
  const scale = 1 / h ** deriv;
  for (let j = m; j < count - m; j++) {
    let s = 0;
    for (let k = -m; k <= m; k++) s += c[k + m] * y[j + k];
    out[j - m] = s * scale;
  }
}

/** Solve G y = e_col for a symmetric positive definite `[p, p]` matrix by Gaussian elimination. */
function solve(gIn: Float64Array, p: number, col: number): Float64Array {
  const a = Float64Array.from(gIn);
  const b = new Float64Array(p);
  b[col] = 1;
  for (let i = 0; i < p; i++) {
    let piv = i;
    for (let r = i + 1; r < p; r++) if (Math.abs(a[r * p + i]) > Math.abs(a[piv * p + i])) piv = r;
    if (piv !== i) {
      for (let c = 0; c < p; c++) [a[i * p + c], a[piv * p + c]] = [a[piv * p + c], a[i * p + c]];
      [b[i], b[piv]] = [b[piv], b[i]];
    }
    for (let r = i + 1; r < p; r++) {
      const f = a[r * p + i] / a[i * p + i];
      for (let c = i; c < p; c++) a[r * p + c] -= f * a[i * p + c];
      b[r] -= f * b[i];
    }
  }
  const y = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = b[i];
    for (let c = i + 1; c < p; c++) s -= a[i * p + c] * y[c];
    y[i] = s / a[i * p + i];
  }
  return y;
}
