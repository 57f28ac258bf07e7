import type { LoadedModel } from '../model/metadata';
import { wrapAngle } from '../model/reference';
import { solveSymmetric64 } from './solve64';

/**
 * A fast float64 plain-JS evaluator of an `lnn` model's q̈ for small batches: no TF.js, no per-op
 * overhead, scales folded into the weights, tangents only along the n + 1 directions (e_{q̇_i}, u = (q̇, 0))
 * as in the tensor path, loops ordered for contiguous access. The float64 reference
 * (`model/reference.ts`) stays the literal, unoptimised transcription of the format.
 * @example const js = new JsLagrangian(model); js.accelerations(q, qd, qdd, batch, flags);
 */
export class JsLagrangian {
  readonly n: number;
  private readonly kernels: Float64Array[];
  private readonly biases: Float64Array[];
  private readonly widths: number[];
  private readonly act: number;
  private readonly angles: boolean[];
  private readonly epsilon: number | undefined;
  // Scratch per layer: primal a, σ', pre-activation tangents T [k × width], activated tangents.
  private readonly a: Float64Array[];
  private readonly d1: Float64Array[];
  private readonly t: Float64Array[];
  private readonly ta: Float64Array[];
  private readonly gbar: Float64Array[];
  private readonly x: Float64Array;
  private readonly h: Float64Array;
  private readonly hvv: Float64Array;
  private readonly rhs: Float64Array;

  /** @param epsilon diagonal shift for an indefinite H_vv (default: the model's, else relative) */
  constructor(model: LoadedModel, epsilon?: number) {
    const m = model.metadata;
    if (m.kind !== 'lnn') throw new Error(`JsLagrangian evaluates lnn models; got a ${m.kind} model.`);
    if (model.layers.length < 2) throw new Error('JsLagrangian needs at least one hidden layer.');
    const n = m.dof;
    this.n = n;
    this.widths = [...m.architecture.layers];
    this.act = m.architecture.activation === 'softplus' ? 0 : m.architecture.activation === 'tanh' ? 1 : 2;
    this.angles = [...m.angles];
    this.epsilon = epsilon ?? m.solver?.hvvEpsilon;
    const last = model.layers.length - 1;
    const inScale = [...m.input.qScale, ...m.input.qdScale];
    this.kernels = model.layers.map((l, li) => {
      const k = Float64Array.from(l.kernel);
      if (li === 0)
        for (let i = 0; i < l.inSize; i++)
          for (let j = 0; j < l.outSize; j++) k[i * l.outSize + j] *= inScale[i];
      if (li === last) for (let i = 0; i < k.length; i++) k[i] *= m.output.scale;
      return k;
    });
    this.biases = model.layers.map((l, li) =>
      Float64Array.from(l.bias, (b) => (li === last ? b * m.output.scale : b)),
    );
    const k = n + 1;
    const hidden = this.widths.slice(1, -1);
    this.a = hidden.map((w) => new Float64Array(w));
    this.d1 = hidden.map((w) => new Float64Array(w));
    this.t = hidden.map((w) => new Float64Array(k * w));
    this.ta = hidden.map((w) => new Float64Array(k * w));
    this.gbar = hidden.map((w) => new Float64Array(w));
    this.x = new Float64Array(2 * n);
    this.h = new Float64Array(n * k);
    this.hvv = new Float64Array(n * n);
    this.rhs = new Float64Array(n);
  }

  /**
   * Batched q̈ with per-state solve flags.
   * @param q `[batch * n]` @param qd `[batch * n]` @param qdd `[batch * n]` (written)
   * @param flags `[batch]` (written: SolveFlag)
   */
  accelerations(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void {
    const n = this.n;
    for (let b = 0; b < batch; b++) {
      this.terms(q, qd, b * n);
      flags[b] = solveSymmetric64(this.hvv, 0, this.rhs, 0, qdd, b * n, n, this.epsilon);
    }
  }

  /** Fill `hvv` and `rhs` = ∂L/∂q − H_vq q̇ for the state at offset `o`. */
  private terms(q: ArrayLike<number>, qd: ArrayLike<number>, o: number): void {
    const n = this.n;
    const k = n + 1;
    const m = 2 * n;
    const L = this.kernels.length;
    const x = this.x;
    for (let i = 0; i < n; i++) {
      x[i] = this.angles[i] ? wrapAngle(q[o + i]) : q[o + i];
      x[n + i] = qd[o + i];
    }
    // Layer 0: z = x W0 + b0; tangents along e_{q̇_i} are rows n+i of W0, along u = (q̇, 0) the q̇·W0[0:n].
    {
      const W = this.kernels[0];
      const w = this.widths[1];
      const a = this.a[0];
      const t = this.t[0];
      a.set(this.biases[0]);
      t.fill(0);
      for (let i = 0; i < m; i++) {
        const xi = x[i];
        const row = i * w;
        for (let j = 0; j < w; j++) a[j] += xi * W[row + j];
      }
      for (let i = 0; i < n; i++) {
        t.set(W.subarray((n + i) * w, (n + i + 1) * w), i * w);
        const qi = x[n + i];
        const row = i * w;
        const tu = n * w;
        for (let j = 0; j < w; j++) t[tu + j] += qi * W[row + j];
      }
      this.activate(0, w, k);
    }
    for (let l = 1; l < L - 1; l++) {
      const W = this.kernels[l];
      const nIn = this.widths[l];
      const w = this.widths[l + 1];
      const aPrev = this.a[l - 1];
      const taPrev = this.ta[l - 1];
      const a = this.a[l];
      const t = this.t[l];
      a.set(this.biases[l]);
      t.fill(0);
      for (let i = 0; i < nIn; i++) {
        const row = i * w;
        const ai = aPrev[i];
        for (let j = 0; j < w; j++) a[j] += ai * W[row + j];
        for (let d = 0; d < k; d++) {
          const ti = taPrev[d * nIn + i];
          if (ti === 0) continue;
          const td = d * w;
          for (let j = 0; j < w; j++) t[td + j] += ti * W[row + j];
        }
      }
      this.activate(l, w, k);
    }
    // Reverse sweep with curvature at every hidden layer.
    const h = this.h;
    h.fill(0);
    const Wout = this.kernels[L - 1];
    const lastW = this.widths[L - 1];
    const g = this.gbar[L - 2];
    for (let i = 0; i < lastW; i++) g[i] = Wout[i];
    for (let l = L - 2; l >= 0; l--) {
      const w = this.widths[l + 1];
      const gb = this.gbar[l];
      const d1 = this.d1[l];
      const a = this.a[l];
      const t = this.t[l];
      // δ = ḡ σ' (stored over ḡ), c = ḡ σ''.
      for (let j = 0; j < w; j++) {
        const delta = gb[j] * d1[j];
        const c = this.act === 0 ? delta * (1 - d1[j]) : this.act === 1 ? -2 * a[j] * delta : 0;
        gb[j] = delta;
        if (c === 0) continue;
        for (let i = 0; i < n; i++) {
          const ci = c * t[i * w + j];
          for (let d = i; d < k; d++) h[i * k + d] += ci * t[d * w + j];
        }
      }
      const nIn = this.widths[l];
      const W = this.kernels[l];
      if (l > 0) {
        const prev = this.gbar[l - 1];
        for (let i = 0; i < nIn; i++) {
          let s = 0;
          const row = i * w;
          for (let j = 0; j < w; j++) s += W[row + j] * gb[j];
          prev[i] = s;
        }
      } else {
        const gq = this.rhs;
        for (let i = 0; i < n; i++) {
          let s = 0;
          const row = i * w;
          for (let j = 0; j < w; j++) s += W[row + j] * gb[j];
          gq[i] = s;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) this.hvv[i * n + j] = j >= i ? h[i * k + j] : h[j * k + i];
      this.rhs[i] -= h[i * k + n];
    }
  }

  /** σ, σ' of layer l in place, and the activated tangents ta = t ⊙ σ'. */
  private activate(l: number, w: number, k: number): void {
    const a = this.a[l];
    const d1 = this.d1[l];
    for (let j = 0; j < w; j++) {
      const z = a[j];
      if (this.act === 0) {
        const e = Math.exp(-Math.abs(z));
        const inv = 1 / (1 + e);
        d1[j] = z >= 0 ? inv : e * inv;
        a[j] = Math.max(z, 0) + Math.log1p(e);
      } else if (this.act === 1) {
        const th = Math.tanh(z);
        a[j] = th;
        d1[j] = 1 - th * th;
      } else {
        a[j] = Math.max(z, 0);
        d1[j] = z > 0 ? 1 : 0;
      }
    }
    const t = this.t[l];
    const ta = this.ta[l];
    for (let d = 0; d < k; d++) {
      const o = d * w;
      for (let j = 0; j < w; j++) ta[o + j] = t[o + j] * d1[j];
    }
  }
}
