import * as tf from '@tensorflow/tfjs-core';
import type { InputMap } from '../model/inputMap.js';
import type { Activation } from '../model/metadata.js';
import { type ActivationValues, activation, curvature } from './activations.js';
import { embedQ, type MlpParams, spreadToInputs, sumToCoordinates } from './mlp.js';
import { tidy } from './tidy.js';

/**
 * The pieces of the Euler–Lagrange equation for a batch, from one scalar network L(q, q̇).
 * Solve `hvv · q̈ = gq − hvqQd` for the accelerations.
 */
export interface LagrangianTerms {
  /** L(q, q̇) `[batch]`. */
  L: tf.Tensor1D;
  /** ∂L/∂q `[batch, n]`. */
  gq: tf.Tensor2D;
  /** ∂L/∂q̇ `[batch, n]`. */
  gv: tf.Tensor2D;
  /** H_vv = ∂²L/∂q̇∂q̇ᵀ `[batch, n, n]`. */
  hvv: tf.Tensor3D;
  /** H_vq q̇ with H_vq = ∂²L/∂q̇∂qᵀ `[batch, n]`. */
  hvqQd: tf.Tensor2D;
}

/**
 * Everything in three tensors, the compact form for one readback: `hessian` `[batch, n+1, n+1]` holds
 * the Hessian of L against the tangent directions (e_{q̇_1}, …, e_{q̇_n}, u = (q̇, 0)); its first n rows
 * are `[H_vv | H_vq q̇]`; `grad` `[batch, 2n]` is (∂L/∂q, ∂L/∂q̇); `value` `[batch]` is L.
 */
export interface PackedTerms {
  hessian: tf.Tensor3D;
  grad: tf.Tensor2D;
  value: tf.Tensor1D;
}

/**
 * Exact first and second input derivatives of a scalar MLP L(x), x = [q, q̇] (unscaled: fold the
 * scales in first with `foldScales`), without nested autodiff:
 * - forward tangents J_l = ∂z_l/∂x only along the n velocity directions and u = (q̇, 0) (enough for
 *   H_vv and H_vq q̇), carried as extra rows of the layer GEMM: `[batch·(n+1), width]`;
 * - reverse adjoints ḡ_l = ∂L/∂a_l (ordinary backprop of one scalar);
 * - curvature at the nonlinearities: ∇²L = Σ_l J_lᵀ diag(ḡ_l ⊙ σ''(z_l)) J_l.
 *
 * With an input map that is not the identity (`sincos`: angles enter as cos q, sin q), x is the feature
 * vector of `map` (unscaled), the tangent along u is (slope ⊙ q̇ per q input, 0) and ∂L/∂q_i sums
 * slope ⊙ ∂L/∂x over the inputs of coordinate i; the output layout is the same. With velocities fed as
 * φ = atanh(q̇) (`rapidity`), the derivatives against φ are turned into derivatives against q̇ at the end
 * (D = diag φ'(q̇)): H_vv = D H_φφ D + diag(φ'' ⊙ ∂L/∂φ), H_vq q̇ = D H_φu, ∂L/∂q̇ = D ∂L/∂φ (see
 * `applyVelocityMap`); a state with |q̇_i| ≥ 1 is outside the domain and its terms are not finite.
 *
 * Differentiable with respect to `params` (first order), so `tf.variableGrads` trains through it.
 * @param params folded weights; the last layer has one output
 * @param q positions `[batch, n]` (already wrapped when `map` is absent or the identity)
 * @param qd velocities `[batch, n]`
 * @param map the model's input map (`inputMapOf`); absent: x = (q, q̇)
 */
export function packedLagrangianTerms(
  params: MlpParams,
  act: Activation,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
  map?: InputMap,
): PackedTerms {
  return tidy(() => {
    const [batch, n] = q.shape;
    const k = n + 1;
    const L = params.kernels.length;
    const W0 = params.kernels[0];
    const w0 = W0.shape[1];
    const embedded = map !== undefined && !map.identity ? map : null;
    const rapidity = map !== undefined && map.velocity === 'rapidity';
    // The velocity inputs: q̇, or atanh(q̇). The tangent along u moves q only, so it keeps q̇ itself.
    const v = rapidity ? tf.atanh(qd) : qd;
    // Layer 0: z = x W0 + b0. Its tangents: along e_{q̇_i} the constant row qWidth+i of W0; along
    // u = (q̇, 0) the input-space direction u_x = (slope ⊙ q̇ per q input, 0) times W0, which is
    // q̇ · W0[0:n] for x = (q, q̇).
    let x: tf.Tensor2D;
    let tu: tf.Tensor;
    let slopes: tf.Tensor2D | null = null;
    const qWidth = embedded ? embedded.qWidth : n;
    if (embedded) {
      const e = embedQ(embedded, q);
      slopes = e.slopes;
      x = tf.concat([e.features, v], 1);
      const ux = tf.mul(e.slopes, spreadToInputs(embedded, qd)) as tf.Tensor2D;
      tu = tf.reshape(tf.matMul(ux, tf.slice(W0, [0, 0], [qWidth, w0])), [batch, 1, w0]);
    } else {
      x = tf.concat([q, v], 1);
      tu = tf.reshape(tf.matMul(qd, tf.slice(W0, [0, 0], [n, w0])), [batch, 1, w0]);
    }
    let z = tf.add(tf.matMul(x, W0), params.biases[0]) as tf.Tensor2D;
    const tv = tf.broadcastTo(tf.reshape(tf.slice(W0, [qWidth, 0], [n, w0]), [1, n, w0]), [batch, n, w0]);
    let T = tf.concat([tv, tu], 1) as tf.Tensor3D; // [batch, k, width]: ∂z/∂x along the k directions
    const tangents: tf.Tensor3D[] = [];
    const values: ActivationValues[] = [];
    let a: tf.Tensor2D = z;
    for (let l = 0; l < L - 1; l++) {
      if (l > 0) {
        const W = params.kernels[l];
        const width = W.shape[1];
        z = tf.add(tf.matMul(a, W), params.biases[l]) as tf.Tensor2D;
        T = tf.reshape(tf.matMul(tf.reshape(T, [batch * k, T.shape[2]]), W), [batch, k, width]);
      }
      const v = activation(act, z);
      tangents.push(T);
      values.push(v);
      a = v.a as tf.Tensor2D;
      T = tf.mul(T, tf.expandDims(v.d1, 1)) as tf.Tensor3D; // tangents of a_l
    }
    const Wout = params.kernels[L - 1];
    const value = tf.reshape(tf.add(tf.matMul(a, Wout), params.biases[L - 1]), [batch]) as tf.Tensor1D;
    // Reverse sweep. ḡ of the last hidden layer is the output kernel (a row, broadcast over the batch).
    let gbar: tf.Tensor = tf.reshape(Wout, [1, Wout.shape[0]]);
    let hessian: tf.Tensor3D | null = null;
    let grad: tf.Tensor2D | null = null;
    if (L === 1) {
      grad = tf.broadcastTo(gbar, [batch, qWidth + n]) as tf.Tensor2D;
    }
    for (let l = L - 2; l >= 0; l--) {
      const v = values[l];
      const delta = tf.mul(gbar, v.d1) as tf.Tensor2D; // ∂L/∂z_l
      const c = curvature(act, delta, v);
      if (c !== null) {
        const Tl = tangents[l];
        const h = tf.matMul(tf.mul(Tl, tf.expandDims(c, 1)), Tl, false, true) as tf.Tensor3D;
        hessian = hessian === null ? h : (tf.add(hessian, h) as tf.Tensor3D);
      }
      if (l > 0) gbar = timesTransposed(delta, params.kernels[l]);
      else grad = timesTransposed(delta, W0);
    }
    if (embedded && slopes && grad) {
      // ∂L/∂x → (∂L/∂q, ∂L/∂q̇): chain rule through the q features.
      const gx = tf.slice(grad, [0, 0], [batch, qWidth]) as tf.Tensor2D;
      const gq = sumToCoordinates(embedded, tf.mul(gx, slopes) as tf.Tensor2D);
      grad = tf.concat([gq, tf.slice(grad, [0, qWidth], [batch, n])], 1) as tf.Tensor2D;
    }
    const h = hessian ?? (tf.zeros([batch, k, k]) as tf.Tensor3D);
    if (rapidity) return { ...velocityToQd(qd, h, grad as tf.Tensor2D), value };
    return { hessian: h, grad: grad as tf.Tensor2D, value };
  });
}

/**
 * Derivatives against the velocity inputs φ = atanh(q̇) turned into derivatives against q̇ (the tensor
 * form of `applyVelocityMap`): with D = diag φ'(q̇) = diag 1/(1 − q̇²) and φ'' = 2q̇/(1 − q̇²)²,
 * H_vv = D H_φφ D + diag(φ'' ⊙ ∂L/∂φ), H_vq q̇ = D H_φu, ∂L/∂q̇ = D ∂L/∂φ; ∂L/∂q and H_uu are unchanged.
 * @param hessian `[batch, n+1, n+1]` against (e_φ1 … e_φn, u) @param grad `[batch, 2n]` (∂L/∂q, ∂L/∂φ)
 */
function velocityToQd(
  qd: tf.Tensor2D,
  hessian: tf.Tensor3D,
  grad: tf.Tensor2D,
): { hessian: tf.Tensor3D; grad: tf.Tensor2D } {
  const [batch, n] = qd.shape;
  const d = tf.div(1, tf.sub(1, tf.square(qd))) as tf.Tensor2D;
  const d2 = tf.mul(tf.mul(qd, 2), tf.square(d));
  const gphi = tf.slice(grad, [0, n], [batch, n]);
  const hvv = tf.add(
    tf.mul(tf.slice(hessian, [0, 0, 0], [batch, n, n]), tf.mul(tf.expandDims(d, 2), tf.expandDims(d, 1))),
    tf.mul(tf.reshape(tf.eye(n), [1, n, n]), tf.expandDims(tf.mul(d2, gphi), 1)),
  );
  const hu = tf.mul(tf.reshape(tf.slice(hessian, [0, 0, n], [batch, n, 1]), [batch, n]), d);
  const top = tf.concat([hvv, tf.expandDims(hu, 2)], 2);
  const bottom = tf.concat([tf.expandDims(hu, 1), tf.slice(hessian, [0, n, n], [batch, 1, 1])], 2);
  return {
    hessian: tf.concat([top, bottom], 1) as tf.Tensor3D,
    grad: tf.concat([tf.slice(grad, [0, 0], [batch, n]), tf.mul(gphi, d)], 1) as tf.Tensor2D,
  };
}

/**
 * a · Wᵀ. WebGL reads a transposed operand for free; the wasm and cpu backends fall back to a much
 * slower GEMM for it (≈10× on wasm), so there the transpose is materialised first.
 */
function timesTransposed(a: tf.Tensor2D, W: tf.Tensor2D): tf.Tensor2D {
  if (tf.getBackend() === 'webgl') return tf.matMul(a, W, false, true);
  return tf.matMul(a, tf.transpose(W));
}

/**
 * {@link packedLagrangianTerms} split into named blocks.
 * @param q `[batch, n]` (wrapped unless `map` embeds the angles) @param qd `[batch, n]`
 * @param map the model's input map; absent: x = (q, q̇)
 */
export function lagrangianTerms(
  params: MlpParams,
  act: Activation,
  q: tf.Tensor2D,
  qd: tf.Tensor2D,
  map?: InputMap,
): LagrangianTerms {
  return tidy(() => {
    const [batch, n] = q.shape;
    const p = packedLagrangianTerms(params, act, q, qd, map);
    return {
      L: p.value,
      gq: tf.slice(p.grad, [0, 0], [batch, n]),
      gv: tf.slice(p.grad, [0, n], [batch, n]),
      hvv: tf.slice(p.hessian, [0, 0, 0], [batch, n, n]),
      hvqQd: tf.reshape(tf.slice(p.hessian, [0, 0, n], [batch, n, 1]), [batch, n]),
    };
  });
}
