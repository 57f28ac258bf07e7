/**
 * Fused kernels for the inference path of the learned engines on the `wasm` and `cpu` TF.js backends.
 *
 * The exact-derivative pass is GEMMs (which TF.js runs well: XNNPACK on wasm) plus many elementwise
 * operations per layer — bias, softplus, sigmoid, tangent scaling, curvature, Hessian accumulation —
 * which TF.js runs as separate, slow kernels (wasm softplus ≈ 70 ns per element here). Two custom kernels
 * written in plain JS over the backend's own buffers do all of that work in two passes per layer:
 *
 * - `ThreeLnnActivate(z, bias, t)` → `(a, σ', t ⊙ σ')`: a = σ(z + bias), the tangent rows scaled by σ';
 * - `ThreeLnnCurvature(gbar, d1, a, t, h?)` → `(δ, h')`: δ = ḡ ⊙ σ', and h' = h + the Hessian contribution
 *   Σ_w t_i c t_j of this layer (c = ḡ ⊙ σ''), for the n velocity rows against all k tangent directions.
 *
 * They have no gradients: training uses the plain-op path (`packedLagrangianTerms`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Activation } from '../model/metadata.js';
import { tidy } from './tidy.js';

const ACTIVATE = 'ThreeLnnActivate';
const CURVATURE = 'ThreeLnnCurvature';

/** Backends with fused kernels. */
export const FUSED_BACKENDS = ['wasm', 'cpu'] as const;

/** The few backend internals the kernels use (tfjs-backend-wasm and -cpu 4.x). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface CpuBackendLike {
  data: { get(dataId: unknown): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

/** Allocate outputs and expose inputs/outputs as Float32Arrays, per backend. */
interface Io {
  input(t: tf.TensorInfo): Float32Array;
  outputs(shapes: number[][]): { infos: tf.TensorInfo[]; views: Float32Array[] };
}

function ioFor(backendName: string, backend: unknown): Io {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    return {
      // Views are taken after every allocation: growing the wasm heap detaches older views.
      input: (t) => b.typedArrayFromHeap(t),
      outputs: (shapes) => {
        const infos = shapes.map((s) => b.makeOutput(s, 'float32'));
        return { infos, views: infos.map((i) => b.typedArrayFromHeap(i)) };
      },
    };
  }
  const b = backend as CpuBackendLike;
  return {
    input: (t) => b.data.get(t.dataId).values,
    outputs: (shapes) => {
      const views = shapes.map((s) => new Float32Array(s.reduce((x, y) => x * y, 1)));
      return { infos: shapes.map((s, i) => b.makeTensorInfo(s, 'float32', views[i])), views };
    },
  };
}

/** Activation codes passed as kernel attributes. */
const ACT_CODE: Record<Activation, number> = { softplus: 0, tanh: 1, relu: 2 };

/** 2^k for k = −127 … 0, for {@link expNonPositive}. */
const POW2 = Float64Array.from({ length: 128 }, (_, i) => 2 ** (i - 127));
const LN2_HI = 0.693145751953125;
const LN2_LO = 1.4286068203094173e-6;

/**
 * e^x for x ≤ 0 to float32 accuracy (relative error < 2e-7), about 4× faster than Math.exp here:
 * x = k·ln2 + r with |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial, 2^k from a table.
 */
export function expNonPositive(x: number): number {
  if (x < -87) return 0;
  const k = Math.floor(x * Math.LOG2E + 0.5);
  const r = x - k * LN2_HI - k * LN2_LO;
  const p = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720))))));
  return p * POW2[k + 127];
}

/** log(1 + e) for 0 ≤ e ≤ 1: 2·atanh(e / (2 + e)) by its odd series (absolute error < 1e-8). */
function log1pUnit(e: number): number {
  const t = e / (2 + e);
  const t2 = t * t;
  return (
    2 * t * (1 + t2 * (1 / 3 + t2 * (1 / 5 + t2 * (1 / 7 + t2 * (1 / 9 + t2 * (1 / 11 + t2 * (1 / 13)))))))
  );
}

/**
 * σ, σ' (and σ'' in {@link curvatureKernel}) to float32 accuracy with the fast {@link expNonPositive} and
 * {@link log1pUnit}. Reference definition: `activate` in model/reference.ts; test/nn-derivatives.test.ts
 * ("the fused … kernels give the same H_vv …") pins them equal.
 *
 * Inputs `zt` `[batch·(1+k), w]` (pre-bias: `batch` primal rows, then the tangent rows of state b at
 * `batch + b·k + i`), `bias` `[w]`. Outputs `stacked` `[batch·(1+k), w]` = (σ(z + bias) rows, tangent rows
 * ⊙ σ') — the next layer's GEMM input as is — and `d1` = σ' `[batch, w]`.
 */
function activateKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: ACTIVATE,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { zt, bias } = inputs as { zt: tf.TensorInfo; bias: tf.TensorInfo };
      const { act, batch } = attrs as { act: number; batch: number };
      const [rows, w] = zt.shape;
      const k = rows / batch - 1;
      const io = ioFor(backendName, backend);
      const out = io.outputs([zt.shape, [batch, w]]);
      const [sv, dv] = out.views;
      const zv = io.input(zt);
      const bv = io.input(bias);
      for (let b = 0; b < batch; b++) {
        const o = b * w;
        for (let j = 0; j < w; j++) {
          const x = zv[o + j] + bv[j];
          let a: number;
          let d: number;
          if (act === 0) {
            // One exponential for both: softplus = max(x, 0) + log1p(e^−|x|), sigmoid from e^−|x|.
            const e = expNonPositive(-Math.abs(x));
            const inv = 1 / (1 + e);
            d = x >= 0 ? inv : e * inv;
            a = Math.max(x, 0) + log1pUnit(e);
          } else if (act === 1) {
            a = Math.tanh(x);
            d = 1 - a * a;
          } else {
            a = Math.max(x, 0);
            d = x > 0 ? 1 : 0;
          }
          sv[o + j] = a;
          dv[o + j] = d;
        }
        for (let i = 0; i < k; i++) {
          const ot = (batch + b * k + i) * w;
          for (let j = 0; j < w; j++) sv[ot + j] = zv[ot + j] * dv[o + j];
        }
      }
      return out.infos;
    },
  };
}

/**
 * Inputs `gbar` `[batch, w]` (or `[1, w]`, broadcast), `d1` `[batch, w]`, `stacked` (the activate output:
 * σ in its first rows, for tanh), `zt` (the activate input: pre-activation tangents), `h` `[batch, n·k]`
 * (optional running sum). Outputs `delta` = ḡ ⊙ σ' `[batch, w]` and `h + Σ_w t_i (ḡ ⊙ σ'') t_j` for the n
 * velocity rows i against all k directions j.
 */
function curvatureKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: CURVATURE,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { gbar, d1, stacked, zt, h } = inputs as Record<string, tf.TensorInfo | undefined>;
      const { act, n } = attrs as { act: number; n: number };
      const [batch, w] = d1!.shape;
      const k = zt!.shape[0] / batch - 1;
      const io = ioFor(backendName, backend);
      const out = io.outputs([
        [batch, w],
        [batch, n * k],
      ]);
      const [deltaV, hv] = out.views;
      const gv = io.input(gbar!);
      const dv = io.input(d1!);
      const av = io.input(stacked!);
      const tv = io.input(zt!);
      const hin = h ? io.input(h) : null;
      const broadcast = gbar!.shape[0] === 1;
      const c = new Float64Array(w);
      for (let b = 0; b < batch; b++) {
        const o = b * w;
        const og = broadcast ? 0 : o;
        for (let j = 0; j < w; j++) {
          const d = dv[o + j];
          const delta = gv[og + j] * d;
          deltaV[o + j] = delta;
          // ḡ σ'' in terms of δ = ḡ σ': softplus σ'' = σ'(1 − σ'); tanh σ'' = −2σσ'; relu 0.
          c[j] = act === 0 ? delta * (1 - d) : act === 1 ? -2 * av[o + j] * delta : 0;
        }
        const oh = b * n * k;
        const base = (batch + b * k) * w;
        for (let i = 0; i < n; i++) {
          const ti = base + i * w;
          for (let jj = 0; jj < k; jj++) {
            // The velocity block is symmetric: mirror the entries already computed.
            if (jj < i) {
              hv[oh + i * k + jj] = hv[oh + jj * k + i];
              continue;
            }
            const tj = base + jj * w;
            let s = 0;
            for (let x = 0; x < w; x++) s += tv[ti + x] * c[x] * tv[tj + x];
            hv[oh + i * k + jj] = (hin ? hin[oh + i * k + jj] : 0) + s;
          }
        }
      }
      return out.infos;
    },
  };
}

/**
 * Register the fused kernels for `backendName` (idempotent).
 * @returns false when the backend has no fused implementation (webgl: use the plain-op path)
 */
export function registerFusedKernels(backendName: string): boolean {
  if (!(FUSED_BACKENDS as readonly string[]).includes(backendName)) return false;
  if (tf.getKernel(ACTIVATE, backendName) === undefined) tf.registerKernel(activateKernel(backendName));
  if (tf.getKernel(CURVATURE, backendName) === undefined) tf.registerKernel(curvatureKernel(backendName));
  return true;
}

/** Weights prepared for the fused pass: folded kernels, their transposes, and biases. */
export interface FusedWeights {
  kernels: tf.Tensor2D[];
  /** `kernels[l]ᵀ`, so the backward GEMMs avoid TF.js's slow transposed-operand path. */
  kernelsT: tf.Tensor2D[];
  biases: tf.Tensor1D[];
  /** The output kernel as a row `[1, width]` (ḡ of the last hidden layer). */
  outputRow: tf.Tensor2D;
}

/**
 * Prepare folded weights (see `foldScales`) for {@link fusedLagrangianPack}; the caller owns the result
 * (dispose with {@link disposeFusedWeights}).
 */
export function prepareFusedWeights(folded: { kernels: tf.Tensor2D[]; biases: tf.Tensor1D[] }): FusedWeights {
  return tidy(() => {
    const last = folded.kernels.length - 1;
    return {
      kernels: folded.kernels.map((k) => tf.clone(k)),
      kernelsT: folded.kernels.map((k) => tf.transpose(k)),
      biases: folded.biases.map((b) => tf.clone(b)),
      outputRow: tf.reshape(folded.kernels[last], [1, folded.kernels[last].shape[0]]) as tf.Tensor2D,
    };
  });
}

/** Dispose every tensor of {@link FusedWeights}. */
export function disposeFusedWeights(w: FusedWeights): void {
  tf.dispose([...w.kernels, ...w.kernelsT, ...w.biases, w.outputRow]);
}

/**
 * The Euler–Lagrange pieces of a batch in one tensor, with fused kernels (wasm/cpu only; register them
 * first): row b is `[H[i][j] for i < n, j < n+1 (row-major), ∂L/∂x (m)]`, where H's columns are the
 * directions (e_{q̇_1}, …, e_{q̇_n}, u = (q̇, 0)), so H[i][j<n] = H_vv and H[i][n] = (H_vq q̇)_i.
 * Each layer is one GEMM over the primal rows and the tangent rows stacked together. The kernels never
 * look at the input layout: for an input map with q features (`sincos`), the caller writes the features
 * as the primal rows and slope ⊙ q̇ (per q input, 0 on the velocity inputs) as the u row, and maps
 * ∂L/∂x back to ∂L/∂q through the slopes (`inputMapOf`).
 * @param xs `[batch·(n+2), m]` with m the input width (2n for x = (wrap(q), q̇)): rows 0…batch−1 are the
 *   network inputs; then, per state b, the n + 1 tangent directions in input space at rows
 *   `batch + b·(n+1) + i`
 * @returns `[batch, n(n+1) + m]`
 */
export function fusedLagrangianPack(
  w: FusedWeights,
  act: Activation,
  xs: tf.Tensor2D,
  n: number,
): tf.Tensor2D {
  return tidy(() => {
    const L = w.kernels.length;
    const code = ACT_CODE[act];
    const batch = xs.shape[0] / (n + 2);
    const run = (name: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) =>
      tf.engine().runKernel(name, inputs, attrs) as tf.Tensor[];
    let input: tf.Tensor2D = xs;
    const saved: { zt: tf.Tensor; stacked: tf.Tensor; d1: tf.Tensor }[] = [];
    for (let l = 0; l < L - 1; l++) {
      const zt = tf.matMul(input, w.kernels[l]);
      const [stacked, d1] = run(ACTIVATE, { zt, bias: w.biases[l] }, { act: code, batch });
      saved.push({ zt, stacked, d1 });
      input = stacked as tf.Tensor2D;
    }
    let gbar: tf.Tensor = w.outputRow;
    let h: tf.Tensor | null = null;
    let grad: tf.Tensor | null = null;
    for (let l = L - 2; l >= 0; l--) {
      const s = saved[l];
      const inputs: tf.NamedTensorMap = { gbar, d1: s.d1, stacked: s.stacked, zt: s.zt };
      if (h) inputs.h = h;
      const [delta, hOut] = run(CURVATURE, inputs, { act: code, n });
      h = hOut;
      if (l > 0) gbar = tf.matMul(delta as tf.Tensor2D, w.kernelsT[l]);
      else grad = tf.matMul(delta as tf.Tensor2D, w.kernelsT[0]);
    }
    if (h === null || grad === null) {
      throw new Error('fusedLagrangianPack: the network needs at least one hidden layer.');
    }
    return tf.concat([h, grad], 1) as tf.Tensor2D;
  });
}
