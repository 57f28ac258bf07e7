import type { Forces } from '../core/types.js';

/**
 * The work W(t) = ∫ Q·q̇ dt done by external forces on each of `count` copies, so that the energy ledger
 * E(t) − E(0) − W(t) stays constant (to the integrator's and this quadrature's error) under forces.
 *
 * Per step it uses only the states at both ends, whatever route computed them (GPU-resident routes
 * included): the cubic Hermite interpolant of q through (q₀, q̇₀) and (q₁, q̇₁) gives the midpoint
 *
 *     q_m = (q₀ + q₁)/2 + h (q̇₀ − q̇₁)/8,    q̇_m = 3 (q₁ − q₀)/(2h) − (q̇₀ + q̇₁)/4,
 *
 * and Simpson's rule W += h/6 (P₀ + 4 P_m + P₁), P = Q(t, q, q̇)·q̇. A constant Q gives exactly
 * Q·(q₁ − q₀); the error is O(h⁴) per step otherwise (third order over a run). An impulse adds its
 * work as computed by `ImpulseSolver.jump` ({@link WorkLedger.addWork}).
 */
export class WorkLedger {
  readonly dof: number;
  readonly count: number;
  /** Work done so far per copy `[count]`. */
  readonly work: Float64Array;
  private qm: Float64Array;
  private vm: Float64Array;
  private Q: Float64Array;
  /** This step's work per copy, before it is added. */
  private dw: Float64Array;

  constructor(dof: number, count: number) {
    this.dof = dof;
    this.count = count;
    this.work = new Float64Array(count);
    const n = dof * count;
    this.qm = new Float64Array(n);
    this.vm = new Float64Array(n);
    this.Q = new Float64Array(n);
    this.dw = new Float64Array(count);
  }

  /** Zero the work of every copy (or of `copy`). */
  reset(copy?: number): void {
    if (copy === undefined) this.work.fill(0);
    else this.work[copy] = 0;
  }

  /**
   * Add the work of one step of `h` from `t0`, between the states (q₀, q̇₀) and (q₁, q̇₁) `[count * dof]`.
   * Copies marked in `skip` (non-zero) are left out.
   */
  accumulate(
    forces: Forces,
    t0: number,
    h: number,
    q0: Float64Array,
    qd0: Float64Array,
    q1: Float64Array,
    qd1: Float64Array,
    skip?: Uint8Array,
  ): void {
    if (forces.zero) return;
    const { dof, count, qm, vm, Q } = this;
    const n = dof * count;
    for (let i = 0; i < n; i++) {
      qm[i] = 0.5 * (q0[i] + q1[i]) + (h * (qd0[i] - qd1[i])) / 8;
      vm[i] = (1.5 * (q1[i] - q0[i])) / h - 0.25 * (qd0[i] + qd1[i]);
    }
    const w = h / 6;
    // Into a scratch sum first: a force that throws part-way (a callback's non-finite Q) adds nothing.
    this.dw.fill(0);
    this.addPower(forces, t0, q0, qd0, w, skip);
    forces.evaluate(t0 + 0.5 * h, qm, vm, Q, count);
    this.addDot(vm, 4 * w, skip);
    this.addPower(forces, t0 + h, q1, qd1, w, skip);
    for (let c = 0; c < count; c++) this.work[c] += this.dw[c];
  }

  /** Add work `w` done on copy `copy` at one instant (an impulse: `ImpulseSolver.jump`'s result). */
  addWork(copy: number, w: number): void {
    this.work[copy] += w;
  }

  private addPower(
    forces: Forces,
    t: number,
    q: Float64Array,
    qd: Float64Array,
    weight: number,
    skip?: Uint8Array,
  ): void {
    forces.evaluate(t, q, qd, this.Q, this.count);
    this.addDot(qd, weight, skip);
  }

  private addDot(v: Float64Array, weight: number, skip?: Uint8Array): void {
    const { dof, Q, dw: work } = this;
    for (let c = 0; c < this.count; c++) {
      if (skip !== undefined && skip[c] !== 0) continue;
      let s = 0;
      for (let i = c * dof, end = i + dof; i < end; i++) s += Q[i] * v[i];
      work[c] += weight * s;
    }
  }
}
