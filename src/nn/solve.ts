import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_EPSILON_RELATIVE, PD_TOLERANCE, SolveFlag } from './solvePolicy.js';
import { tidy } from './tidy.js';

/** Solutions of a batch of linear systems with one {@link SolveFlag} per system. */
export interface TensorSolve {
  /** `[batch, n]`. */
  x: tf.Tensor2D;
  /** `[batch]` int32: SolveFlag.ok, .regularised or .failed. */
  flags: tf.Tensor1D;
}

// Masks are float 0/1 tensors built from ops that have (zero) gradients — Step, Maximum, Min, Cast,
// IsFinite — so that tf.grad / tf.variableGrads can run through a solve: TF.js has no gradient for
// Greater, Less, LogicalOr or All and refuses any tape that contains them.

/** 1 where a > b, else 0. */
function gt(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
  return tf.step(tf.sub(a, b));
}

/** A 0/1 mask as a boolean condition for tf.where. */
function toBool(mask: tf.Tensor): tf.Tensor {
  return tf.cast(mask, 'bool');
}

/**
 * Per-state signed shift `[batch]`: magnitude `epsilon`, or the relative default from the mean |diagonal|;
 * sign of the trace (the tensor form of `shiftFor` in solvePolicy.ts).
 */
function shiftTensor(diagAbsMean: tf.Tensor1D, trace: tf.Tensor1D, epsilon: number | undefined): tf.Tensor1D {
  const size =
    epsilon !== undefined
      ? tf.fill(diagAbsMean.shape, epsilon)
      : tf.where(
          toBool(gt(diagAbsMean, 0)),
          tf.mul(diagAbsMean, DEFAULT_EPSILON_RELATIVE),
          tf.fill(diagAbsMean.shape, DEFAULT_EPSILON_RELATIVE),
        );
  // sign(trace) with sign(0) = +1.
  return tf.mul(size, tf.sub(1, tf.mul(gt(tf.neg(trace), 0), 2))) as tf.Tensor1D;
}

/** `[batch]` 0/1: every entry of row b of every tensor (each `[batch, …]`) is finite. */
function finiteRows(batch: number, ...ts: tf.Tensor[]): tf.Tensor1D {
  let all: tf.Tensor = tf.ones([batch]);
  for (const t of ts) {
    if (t.size === 0) continue;
    all = tf.mul(all, tf.min(tf.cast(tf.isFinite(tf.reshape(t, [batch, -1])), 'float32'), 1));
  }
  return all as tf.Tensor1D;
}

/**
 * Replace non-finite solutions, and the solutions of systems with a non-finite input (`inputFinite` 0),
 * by 0 and mark them failed; `bad` is the 0/1 regularised mask.
 */
function finish(x: tf.Tensor2D, bad: tf.Tensor1D, inputFinite: tf.Tensor1D): TensorSolve {
  const finiteRow = tf.mul(tf.min(tf.cast(tf.isFinite(x), 'float32'), 1), inputFinite);
  const flags = tf.cast(
    tf.where(toBool(finiteRow), bad, tf.fill(bad.shape, SolveFlag.failed)),
    'int32',
  ) as tf.Tensor1D;
  const safe = tf.where(toBool(tf.expandDims(finiteRow, 1)), x, tf.zerosLike(x)) as tf.Tensor2D;
  return { x: safe, flags };
}

/** `[batch]` 0/1: some pivot lacks the sign of the first one or is within `tol` of zero. */
function indefinite(pivots: tf.Tensor1D[], tol: tf.Tensor1D): tf.Tensor1D {
  const sign = tf.sub(1, tf.mul(gt(tf.neg(pivots[0]), 0), 2));
  let bad = tf.sub(1, gt(tf.mul(sign, pivots[0]), tol));
  for (let k = 1; k < pivots.length; k++) {
    bad = tf.maximum(bad, tf.sub(1, gt(tf.mul(sign, pivots[k]), tol)));
  }
  // A 0/0 pivot (e.g. an all-zero H) is NaN here: count it as not definite.
  return tf.where(tf.isNaN(bad), tf.onesLike(bad), bad) as tf.Tensor1D;
}

/**
 * The columns of `t` `[batch, m]` as `[batch]` tensors. `tf.unstack` with a single output has no working
 * gradient (TF.js hands its gradient function one tensor where it expects a list), so m = 1 reshapes.
 */
function columns(t: tf.Tensor2D): tf.Tensor1D[] {
  return t.shape[1] === 1
    ? [tf.reshape(t, [t.shape[0]]) as tf.Tensor1D]
    : (tf.unstack(t, 1) as tf.Tensor1D[]);
}

/**
 * Solve H x = r for a batch of small symmetric matrices on tensors (differentiable), with the policy of
 * `solvePolicy.ts`. n ≤ 3 uses closed forms; larger n unrolled Gauss–Jordan elimination. Each H is
 * symmetrised; when it is not definite (LDLᵀ pivots not all of one sign, or one within
 * PD_TOLERANCE · max |H_ii| of zero; either sign is accepted, see `PD_TOLERANCE`) it is replaced by
 * H + ε·sign(tr H)·I and flagged `regularised`; a non-finite solution becomes 0 and is flagged `failed`.
 *
 * The definiteness test and the shift are those of the float64 and GLSL solves; the elimination of the
 * shifted system is not. For n > 3 it runs without row pivoting, where `solveSymmetric64` and the GLSL
 * solve pivot (partial pivoting): a row exchange picks rows by comparing values, so the op graph would
 * depend on the data and the solve would stop being one fixed, differentiable expression of H that
 * `tf.grad` can run through (TF.js has no gradient for the comparisons and gathers it would need). For a
 * shifted matrix that is definite the pivots are those of LDLᵀ and need no exchange; for one that stays
 * indefinite a tiny pivot gives a non-finite (flagged `failed`) or less accurate solution here than there.
 * @param h `[batch, n, n]` @param r `[batch, n]`
 * @param epsilon magnitude of the diagonal shift (default relative: DEFAULT_EPSILON_RELATIVE · mean |diag H|)
 * @example const { x, flags } = solveSymmetric(hvv, rhs);
 */
export function solveSymmetric(h: tf.Tensor3D, r: tf.Tensor2D, epsilon?: number): TensorSolve {
  return tidy(() => {
    const [batch, n] = r.shape;
    const hs = tf.mul(tf.add(h, tf.transpose(h, [0, 2, 1])), 0.5) as tf.Tensor3D;
    if (n > 3) return solveGaussJordan(hs, r, epsilon);
    // Entries as [batch] tensors.
    const e = columns(tf.reshape(hs, [batch, n * n]));
    const rr = columns(r);
    const at = (i: number, j: number) => e[i * n + j];
    const diagAbs = Array.from({ length: n }, (_, i) => tf.abs(at(i, i)));
    const diagMax = diagAbs.reduce((m, d) => tf.maximum(m, d));
    const tol = tf.mul(diagMax, PD_TOLERANCE) as tf.Tensor1D;
    let trace: tf.Tensor = at(0, 0);
    for (let i = 1; i < n; i++) trace = tf.add(trace, at(i, i));
    const diagAbsMean = tf.div(
      diagAbs.reduce((s, d) => tf.add(s, d)),
      n,
    ) as tf.Tensor1D;
    const shift = shiftTensor(diagAbsMean, trace as tf.Tensor1D, epsilon);
    let bad: tf.Tensor1D;
    let x: tf.Tensor2D;
    if (n === 1) {
      bad = indefinite([at(0, 0)], tol);
      const a = tf.add(at(0, 0), tf.mul(bad, shift));
      x = tf.reshape(tf.div(rr[0], a), [batch, 1]);
    } else if (n === 2) {
      const [a, b, d] = [at(0, 0), at(0, 1), at(1, 1)];
      const det = tf.sub(tf.mul(a, d), tf.square(b));
      bad = indefinite([a, tf.div(det, a) as tf.Tensor1D], tol);
      const s = tf.mul(bad, shift);
      const a2 = tf.add(a, s);
      const d2 = tf.add(d, s);
      const det2 = tf.sub(tf.mul(a2, d2), tf.square(b));
      const x0 = tf.div(tf.sub(tf.mul(d2, rr[0]), tf.mul(b, rr[1])), det2);
      const x1 = tf.div(tf.sub(tf.mul(a2, rr[1]), tf.mul(b, rr[0])), det2);
      x = tf.stack([x0, x1], 1) as tf.Tensor2D;
    } else {
      const [a, b, c, d, e2, f] = [at(0, 0), at(0, 1), at(0, 2), at(1, 1), at(1, 2), at(2, 2)];
      const det3 = (a2: tf.Tensor, d2: tf.Tensor, f2: tf.Tensor) =>
        tf.add(
          tf.sub(
            tf.mul(a2, tf.sub(tf.mul(d2, f2), tf.square(e2))),
            tf.mul(b, tf.sub(tf.mul(b, f2), tf.mul(e2, c))),
          ),
          tf.mul(c, tf.sub(tf.mul(b, e2), tf.mul(d2, c))),
        );
      // LDLᵀ pivots: a, minor2 / a, det / minor2.
      const minor2 = tf.sub(tf.mul(a, d), tf.square(b));
      bad = indefinite(
        [a, tf.div(minor2, a) as tf.Tensor1D, tf.div(det3(a, d, f), minor2) as tf.Tensor1D],
        tol,
      );
      const s = tf.mul(bad, shift);
      const [A, D, F] = [tf.add(a, s), tf.add(d, s), tf.add(f, s)];
      const det = det3(A, D, F);
      // Cofactors of the symmetric matrix [[A,b,c],[b,D,e],[c,e,F]].
      const c00 = tf.sub(tf.mul(D, F), tf.square(e2));
      const c01 = tf.sub(tf.mul(c, e2), tf.mul(b, F));
      const c02 = tf.sub(tf.mul(b, e2), tf.mul(c, D));
      const c11 = tf.sub(tf.mul(A, F), tf.square(c));
      const c12 = tf.sub(tf.mul(b, c), tf.mul(A, e2));
      const c22 = tf.sub(tf.mul(A, D), tf.square(b));
      const row = (p: tf.Tensor, q: tf.Tensor, s2: tf.Tensor) =>
        tf.div(tf.add(tf.add(tf.mul(p, rr[0]), tf.mul(q, rr[1])), tf.mul(s2, rr[2])), det);
      x = tf.stack([row(c00, c01, c02), row(c01, c11, c12), row(c02, c12, c22)], 1) as tf.Tensor2D;
    }
    return finish(x, bad, finiteRows(batch, hs, r));
  });
}

/** Unrolled Gauss–Jordan elimination without pivoting on [H | r], returning the pivots. */
function eliminate(h: tf.Tensor3D, r: tf.Tensor2D): { x: tf.Tensor2D; pivots: tf.Tensor1D[] } {
  const [batch, n] = r.shape;
  let A = tf.concat([h, tf.reshape(r, [batch, n, 1])], 2) as tf.Tensor3D; // [batch, n, n+1]
  const pivots: tf.Tensor1D[] = [];
  for (let k = 0; k < n; k++) {
    const rowK = tf.slice(A, [0, k, 0], [batch, 1, n + 1]); // [batch, 1, n+1]
    const p = tf.slice(rowK, [0, 0, k], [batch, 1, 1]); // [batch, 1, 1]
    pivots.push(tf.reshape(p, [batch]));
    const normalised = tf.div(rowK, p);
    const col = tf.slice(A, [0, 0, k], [batch, n, 1]); // [batch, n, 1]
    const mask = tf.tensor3d(
      Array.from({ length: n }, (_, i) => (i === k ? 0 : 1)),
      [1, n, 1],
    );
    // Rows i ≠ k: A_i −= A_ik · (row_k / p); row k becomes row_k / p.
    const eliminated = tf.sub(A, tf.mul(tf.mul(col, mask), normalised));
    const isK = tf.tensor3d(
      Array.from({ length: n }, (_, i) => (i === k ? 1 : 0)),
      [1, n, 1],
    );
    A = tf.add(tf.mul(eliminated, tf.sub(1, isK)), tf.mul(normalised, isK)) as tf.Tensor3D;
  }
  const x = tf.reshape(tf.slice(A, [0, 0, n], [batch, n, 1]), [batch, n]) as tf.Tensor2D;
  return { x, pivots };
}

/** General-n symmetric solve with detection and regularisation (see {@link solveSymmetric}). */
function solveGaussJordan(h: tf.Tensor3D, r: tf.Tensor2D, epsilon: number | undefined): TensorSolve {
  const [batch, n] = r.shape;
  const eye = tf.reshape(tf.eye(n), [1, n, n]);
  const diag = tf.sum(tf.mul(h, eye), 2) as tf.Tensor2D; // [batch, n]
  const diagAbs = tf.abs(diag);
  const tol = tf.mul(tf.max(diagAbs, 1), PD_TOLERANCE);
  const first = eliminate(h, r);
  const notPd = indefinite(first.pivots, tol as tf.Tensor1D);
  const trace = tf.sum(diag, 1) as tf.Tensor1D;
  const shift = tf.mul(notPd, shiftTensor(tf.mean(diagAbs, 1) as tf.Tensor1D, trace, epsilon));
  const shifted = tf.add(h, tf.mul(tf.reshape(shift, [batch, 1, 1]), eye)) as tf.Tensor3D;
  const second = eliminate(shifted, r);
  const x = tf.where(toBool(tf.expandDims(notPd, 1)), second.x, first.x) as tf.Tensor2D;
  return finish(x, notPd, finiteRows(batch, h, r));
}

/**
 * Solve batched symmetric tridiagonal systems (Thomas algorithm, unrolled over n, differentiable) with
 * the detection and regularisation of {@link solveSymmetric} (the Thomas pivots are the LDLᵀ pivots).
 * @param diag `[batch, n]` @param off `[batch, n−1]` (entry i couples i and i+1) @param r `[batch, n]`
 */
export function solveTridiagonal(
  diag: tf.Tensor2D,
  off: tf.Tensor2D,
  r: tf.Tensor2D,
  epsilon?: number,
): TensorSolve {
  return tidy(() => {
    const [batch, n] = diag.shape;
    const d = columns(diag);
    const o = n > 1 ? columns(off) : [];
    const rr = columns(r);
    const diagAbs = tf.abs(diag);
    const tol = tf.mul(tf.max(diagAbs, 1), PD_TOLERANCE) as tf.Tensor1D;
    const thomas = (shift: tf.Tensor1D | null) => {
      const c: tf.Tensor1D[] = [];
      const y: tf.Tensor1D[] = [];
      const pivots: tf.Tensor1D[] = [];
      for (let i = 0; i < n; i++) {
        let p: tf.Tensor1D = shift ? tf.add(d[i], shift) : d[i];
        let rhs: tf.Tensor1D = rr[i];
        if (i > 0) {
          p = tf.sub(p, tf.mul(o[i - 1], c[i - 1]));
          rhs = tf.sub(rhs, tf.mul(o[i - 1], y[i - 1]));
        }
        pivots.push(p);
        c.push(i + 1 < n ? tf.div(o[i], p) : tf.zeros([batch]));
        y.push(tf.div(rhs, p));
      }
      const x: tf.Tensor1D[] = new Array(n);
      x[n - 1] = y[n - 1];
      for (let i = n - 2; i >= 0; i--) x[i] = tf.sub(y[i], tf.mul(c[i], x[i + 1]));
      return { x: tf.stack(x, 1) as tf.Tensor2D, pivots };
    };
    const first = thomas(null);
    const notPd = indefinite(first.pivots, tol);
    const shift = tf.mul(
      notPd,
      shiftTensor(tf.mean(diagAbs, 1) as tf.Tensor1D, tf.sum(diag, 1) as tf.Tensor1D, epsilon),
    ) as tf.Tensor1D;
    const second = thomas(shift);
    return finish(
      tf.where(toBool(tf.expandDims(notPd, 1)), second.x, first.x) as tf.Tensor2D,
      notPd,
      finiteRows(batch, diag, off, r),
    );
  });
}
