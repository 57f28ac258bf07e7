import type { AccelerationFn, Integrator } from '../core/types.js';
import { checkStateShape, ensureLength } from './scratch.js';

/** Tolerances and limits of {@link DormandPrince5}. */
export interface DormandPrince5Options {
  /**
   * Relative tolerance per component (q and q̇ alike).
   * @default 1e-12
   */
  rtol?: number;
  /**
   * Absolute tolerance per component.
   * @default 1e-12
   */
  atol?: number;
  /**
   * Most internal substeps (accepted or rejected) one `step(dt)` may take before it throws.
   * @default 1_000_000
   */
  maxSubsteps?: number;
  /**
   * Size of the first substep of every `step` call (capped by |dt|). With very loose tolerances and
   * `firstStep >= |dt|`, one `step(dt)` is exactly one plain Dormand–Prince step.
   * @default Hairer's starting-step estimate (one extra q̈ evaluation)
   */
  firstStep?: number;
}

// Dormand–Prince 5(4) Butcher tableau (Hairer, Nørsett & Wanner, Solving ODEs I, Table 5.2).
// Row s gives the coefficients of stages 0..s-1 for stage s; row 6 is also the 5th-order solution (FSAL).
const A: readonly (readonly number[])[] = [
  [],
  [1 / 5],
  [3 / 40, 9 / 40],
  [44 / 45, -56 / 15, 32 / 9],
  [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
  [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
];
/** Stage nodes c_s (the time of stage s as a fraction of the substep). */
const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1];
/** Difference of the 5th- and 4th-order weights: the local error estimate. */
const E = [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40];
const SAFETY = 0.9;
const FAC_MIN = 0.2;
const FAC_MAX = 10;

/**
 * Dormand–Prince 5(4) with local error control: one `step(dt)` takes as many internal substeps as the
 * tolerances need and lands exactly on `dt`. With the default tolerances (1e-12) it is the ground
 * truth for the fixed-step methods and for learned engines.
 *
 * The whole batch shares one substep sequence: a substep is accepted only when every state in the
 * batch meets the tolerance (max over states of the per-state RMS error), so each state is at least
 * as accurate as when integrated alone, though not bitwise identical to it. Each call starts afresh
 * (initial step from Hairer's estimate, first-same-as-last reuse within the call only), so a result
 * depends only on the state and `dt`, never on earlier calls.
 */
export class DormandPrince5 implements Integrator {
  readonly id = 'dopri5' as const;
  readonly name = 'Dormand–Prince 5(4), adaptive';
  readonly order = 5;
  readonly symplectic = false;
  readonly adaptive = true;
  /** Relative tolerance in use. */
  readonly rtol: number;
  /** Absolute tolerance in use. */
  readonly atol: number;
  /** Most substeps per `step` call. */
  readonly maxSubsteps: number;
  /** Fixed first substep, or undefined for the automatic estimate. */
  readonly firstStep: number | undefined;
  /** Accepted substeps of the last `step` call (diagnostics). */
  lastAccepted = 0;
  /** Rejected substeps of the last `step` call (diagnostics). */
  lastRejected = 0;

  // Stage velocities V[s] and accelerations K[s]: the stage slopes of (q, q̇) are (V[s], K[s]).
  private V: Float64Array[] = [];
  private K: Float64Array[] = [];
  private qs: Float64Array = new Float64Array(0);
  private q5: Float64Array = new Float64Array(0);

  constructor(options: DormandPrince5Options = {}) {
    const { rtol = 1e-12, atol = 1e-12, maxSubsteps = 1_000_000, firstStep } = options;
    if (!(rtol > 0) || !(atol >= 0) || !Number.isFinite(rtol) || !Number.isFinite(atol)) {
      throw new Error(`dopri5: rtol must be > 0 and atol >= 0 (finite), got rtol=${rtol}, atol=${atol}`);
    }
    if (!(maxSubsteps >= 1)) throw new Error(`dopri5: maxSubsteps must be >= 1, got ${maxSubsteps}`);
    if (firstStep !== undefined && !(firstStep > 0 && Number.isFinite(firstStep))) {
      throw new Error(`dopri5: firstStep must be a finite number > 0, got ${firstStep}`);
    }
    this.firstStep = firstStep;
    this.rtol = rtol;
    this.atol = atol;
    this.maxSubsteps = maxSubsteps;
  }

  private grow(n: number): void {
    for (let s = 0; s < 7; s++) {
      this.V[s] = ensureLength(this.V[s] ?? new Float64Array(0), n);
      this.K[s] = ensureLength(this.K[s] ?? new Float64Array(0), n);
    }
    this.qs = ensureLength(this.qs, n);
    this.q5 = ensureLength(this.q5, n);
  }

  /** Advance `q`, `qd` (`[batch * dof]`) in place by `dt` (either sign) from time `t0`. */
  step(
    f: AccelerationFn,
    q: Float64Array,
    qd: Float64Array,
    dof: number,
    batch: number,
    dt: number,
    t0 = 0,
  ): void {
    checkStateShape(this.id, q, qd, dof, batch);
    this.lastAccepted = 0;
    this.lastRejected = 0;
    if (dt === 0 || batch === 0 || dof === 0) return;
    if (!Number.isFinite(dt)) throw new Error(`dopri5: dt must be finite, got ${dt}`);
    const n = dof * batch;
    this.grow(n);
    const { V, K, qs, q5, rtol, atol } = this;
    const total = Math.abs(dt);
    const dir = Math.sign(dt);

    V[0].set(qd.subarray(0, n));
    f(q, qd, K[0], batch, t0);
    let h = Math.min(total, this.firstStep ?? this.initialStep(f, q, qd, dof, batch, t0));
    let done = 0;
    let rejectedLast = false;
    for (let count = 0; ; count++) {
      if (count >= this.maxSubsteps) {
        throw new Error(
          `dopri5: more than ${this.maxSubsteps} substeps in one step of ${dt} (reached ${done * dir}); ` +
            'the system is too stiff for the tolerances, or raise maxSubsteps',
        );
      }
      // Land exactly on dt; avoid a sliver of a last step.
      let last = false;
      if (done + h >= total * (1 - 1e-12)) {
        h = total - done;
        last = true;
      }
      const hs = h * dir;
      for (let s = 1; s < 7; s++) {
        const row = A[s];
        const qOut = s === 6 ? q5 : qs;
        const vOut = V[s];
        for (let i = 0; i < n; i++) {
          let dq = 0;
          let dv = 0;
          for (let j = 0; j < s; j++) {
            const c = row[j];
            dq += c * V[j][i];
            dv += c * K[j][i];
          }
          qOut[i] = q[i] + hs * dq;
          vOut[i] = qd[i] + hs * dv;
        }
        f(qOut, vOut, K[s], batch, t0 + (done + C[s] * h) * dir);
      }
      // Error: RMS over each state's 2·dof components, max over the batch; non-finite means reject.
      let err = 0;
      for (let b = 0; b < batch; b++) {
        let sum = 0;
        for (let i = b * dof, end = i + dof; i < end; i++) {
          let eq = 0;
          let ev = 0;
          for (let j = 0; j < 7; j++) {
            eq += E[j] * V[j][i];
            ev += E[j] * K[j][i];
          }
          const sq = atol + rtol * Math.max(Math.abs(q[i]), Math.abs(q5[i]));
          const sv = atol + rtol * Math.max(Math.abs(qd[i]), Math.abs(V[6][i]));
          const rq = (hs * eq) / sq;
          const rv = (hs * ev) / sv;
          sum += rq * rq + rv * rv;
        }
        const e = Math.sqrt(sum / (2 * dof));
        if (!(e <= err)) err = Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
      }
      if (err <= 1) {
        this.lastAccepted++;
        q.set(q5.subarray(0, n));
        qd.set(V[6].subarray(0, n));
        done += h;
        if (last) return;
        // First same as last: stage 6 is the next substep's stage 0.
        [V[0], V[6]] = [V[6], V[0]];
        [K[0], K[6]] = [K[6], K[0]];
        const fac = err === 0 ? FAC_MAX : Math.min(FAC_MAX, Math.max(FAC_MIN, SAFETY * err ** -0.2));
        h *= rejectedLast ? Math.min(1, fac) : fac;
        rejectedLast = false;
      } else {
        this.lastRejected++;
        rejectedLast = true;
        h *= Number.isFinite(err) ? Math.max(FAC_MIN, SAFETY * err ** -0.2) : FAC_MIN;
      }
      if (!(h > total * 1e-15) || done + h === done) {
        throw new Error(
          `dopri5: step size underflow (h = ${h}) at ${done * dir} of ${dt}: ` +
            'the state or its acceleration is not finite, or the tolerances are below round-off',
        );
      }
    }
  }

  /**
   * Starting step size from Hairer's algorithm (Solving ODEs I, II.4): one extra q̈ evaluation.
   * Uses K[0] (the slope at the start) and writes scratch into qs, V[1], K[1].
   */
  private initialStep(
    f: AccelerationFn,
    q: Float64Array,
    qd: Float64Array,
    dof: number,
    batch: number,
    t0: number,
  ): number {
    const { V, K, qs, rtol, atol } = this;
    const n = dof * batch;
    let d0 = 0;
    let d1 = 0;
    for (let i = 0; i < n; i++) {
      const sq = atol + rtol * Math.abs(q[i]);
      const sv = atol + rtol * Math.abs(qd[i]);
      d0 = Math.max(d0, Math.abs(q[i]) / sq, Math.abs(qd[i]) / sv);
      d1 = Math.max(d1, Math.abs(qd[i]) / sq, Math.abs(K[0][i]) / sv);
    }
    if (!Number.isFinite(d0) || !Number.isFinite(d1)) {
      throw new Error('dopri5: the state or its acceleration is not finite');
    }
    const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    for (let i = 0; i < n; i++) {
      qs[i] = q[i] + h0 * qd[i];
      V[1][i] = qd[i] + h0 * K[0][i];
    }
    f(qs, V[1], K[1], batch, t0 + h0);
    let d2 = 0;
    for (let i = 0; i < n; i++) {
      const sq = atol + rtol * Math.abs(q[i]);
      const sv = atol + rtol * Math.abs(qd[i]);
      d2 = Math.max(d2, Math.abs(V[1][i] - qd[i]) / sq, Math.abs(K[1][i] - K[0][i]) / sv);
    }
    d2 /= h0;
    const dm = Math.max(d1, d2);
    const h1 = dm <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / dm) ** 0.2;
    const h = Math.min(100 * h0, h1);
    return Number.isFinite(h) && h > 0 ? h : 1e-6;
  }
}
