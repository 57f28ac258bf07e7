import type { Ops, Params, Rng, System } from '../core/types.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';
import { type StringParams, StringSystem } from './StringSystem.js';

/** Parameters of {@link String3D}: those of the planar {@link StringSystem}, with the same meaning. */
export type String3DParams = StringParams;

const SPECS: readonly ParamSpec[] = StringSystem.paramSpecs;

/**
 * A string with fixed ends discretised into N interior nodes that move in both transverse directions,
 * y and z (the along-string coordinate x = i Δx is fixed). Layout: interleaved per node,
 * q = [y_1, z_1, y_2, z_2, …, y_N, z_N] (dof 2N; node i's pair at q[2(i−1)], q[2(i−1)+1]), with
 * y_0 = z_0 = y_{N+1} = z_{N+1} = 0:
 *
 *   L = Σ_{i=1}^{N} ½ ρ Δx (ẏ_i² + ż_i²) − Σ_{i=0}^{N} ½ τ ((y_{i+1} − y_i)² + (z_{i+1} − z_i)²) / Δx.
 *
 * The two polarisations are independent copies of the planar string ({@link String3D.planar}): the same
 * parameters, the same q̈_i = (c/Δx)² (q_{i+1} − 2q_i + q_{i−1}) in each, and each mode frequency
 * ω_k of `stringModeFrequencies(s.planar())` appears twice. Points: the N + 2 nodes (ends included) at
 * (i Δx, y_i, z_i). Default sampler: the planar string's (three standing modes) drawn for y, then for z.
 * @example const s = new String3D({ nodes: 32 }); stringModeFrequencies(s.planar());
 */
export class String3D implements System {
  /** Parameter declarations (defaults, meaning, accepted range): those of the planar string. */
  static readonly paramSpecs = SPECS;
  readonly id = 'string-3d';
  readonly name: string;
  /** 2N: two transverse displacements per interior node. */
  readonly dof: number;
  readonly params: Params;
  readonly angles: readonly boolean[];
  readonly pointCount: number;
  readonly segments: readonly (readonly [number, number])[];
  /** The planar string's: the fundamental with amplitude 0.1 in one polarisation. */
  readonly energyScale: number;
  private readonly flat: StringSystem;
  private readonly nodes: number;
  private readonly rho: number;
  private readonly tau: number;
  private readonly dx: number;
  /** Scratch for the sampler's two polarisations `[N]` each. */
  private readonly sy: Float64Array;
  private readonly sz: Float64Array;
  private readonly svy: Float64Array;
  private readonly svz: Float64Array;

  /** @param overrides parameters replacing the defaults of {@link String3DParams} */
  constructor(overrides: Partial<String3DParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.flat = new StringSystem(this.params);
    const n = this.params.nodes;
    this.nodes = n;
    this.dof = 2 * n;
    this.rho = this.params.density;
    this.tau = this.params.tension;
    this.dx = this.params.spacing;
    this.name = `3D string of ${n} node${n === 1 ? '' : 's'}`;
    this.angles = Array.from({ length: 2 * n }, () => false);
    this.pointCount = n + 2;
    this.segments = Array.from({ length: n + 1 }, (_, i) => [i, i + 1] as const);
    this.energyScale = this.flat.energyScale;
    this.sy = new Float64Array(n);
    this.sz = new Float64Array(n);
    this.svy = new Float64Array(n);
    this.svz = new Float64Array(n);
  }

  /**
   * The planar string (id `string`) with the same parameters: the equation each polarisation obeys.
   * `stringModeFrequencies(s.planar())` are the mode frequencies of both polarisations.
   */
  planar(): StringSystem {
    return this.flat;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const n = this.nodes;
    let t = o.c(0);
    for (let i = 0; i < 2 * n; i++) t = o.add(t, o.mul(qd[i], qd[i]));
    // Spring energy per polarisation p: the end springs pull towards the fixed ends.
    let v = o.c(0);
    for (let p = 0; p < 2; p++) {
      const first = q[p];
      const last = q[2 * (n - 1) + p];
      v = o.add(v, o.add(o.mul(first, first), o.mul(last, last)));
      for (let i = 0; i + 1 < n; i++) {
        const d = o.sub(q[2 * (i + 1) + p], q[2 * i + p]);
        v = o.add(v, o.mul(d, d));
      }
    }
    return o.sub(o.scale(t, 0.5 * this.rho * this.dx), o.scale(v, (0.5 * this.tau) / this.dx));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(qd) - this.potential(q);
  }

  /**
   * q̈ = (c/Δx)² (q_{i+1} − 2q_i + q_{i−1}) in each polarisation, ends fixed.
   * @param q `[batch * 2N]` @param qd `[batch * 2N]` @param qdd output `[batch * 2N]`
   */
  accelerations(q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    const m = 2 * this.nodes;
    const k = this.tau / (this.rho * this.dx * this.dx);
    for (let b = 0; b < batch; b++) {
      const o = b * m;
      for (let i = 0; i < m; i++) {
        const left = i >= 2 ? q[o + i - 2] : 0;
        const right = i + 2 < m ? q[o + i + 2] : 0;
        qdd[o + i] = k * (left - 2 * q[o + i] + right);
      }
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(qd) + this.potential(q);
  }

  momentum(_q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const k = this.rho * this.dx;
    for (let i = 0; i < this.dof; i++) out[i] = k * qd[i];
  }

  /** The N + 2 nodes, fixed ends included: node i at (i Δx, y_i, z_i). */
  positions(q: ArrayLike<number>, out: Float64Array): void {
    const n = this.nodes;
    for (let i = 0; i < n + 2; i++) {
      const inside = i >= 1 && i <= n;
      out[3 * i] = i * this.dx;
      out[3 * i + 1] = inside ? q[2 * (i - 1)] : 0;
      out[3 * i + 2] = inside ? q[2 * (i - 1) + 1] : 0;
    }
  }

  /** Exact Jacobian of point `point` (`[3 * 2N]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(_q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    const m = this.dof;
    out.fill(0, 0, 3 * m);
    // Node i (1 … N) moves with (y_i, z_i) = q[2(i−1)], q[2(i−1)+1]; the fixed ends do not move.
    if (point >= 1 && point <= this.nodes) {
      out[m + 2 * (point - 1)] = 1;
      out[2 * m + 2 * (point - 1) + 1] = 1;
    }
  }

  /** The planar string's sampler for y, then again for z (independent amplitudes and phases). */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const { sy, sz, svy, svz } = this;
    this.flat.sample(rng, sy, svy);
    this.flat.sample(rng, sz, svz);
    for (let i = 0; i < this.nodes; i++) {
      q[2 * i] = sy[i];
      q[2 * i + 1] = sz[i];
      qd[2 * i] = svy[i];
      qd[2 * i + 1] = svz[i];
    }
  }

  withParams(overrides: Partial<Record<string, number>>): String3D {
    return new String3D({ ...this.params, ...overrides });
  }

  private kinetic(qd: ArrayLike<number>): number {
    let t = 0;
    for (let i = 0; i < this.dof; i++) t += qd[i] * qd[i];
    return 0.5 * this.rho * this.dx * t;
  }

  private potential(q: ArrayLike<number>): number {
    const n = this.nodes;
    let v = 0;
    for (let p = 0; p < 2; p++) {
      v += q[p] * q[p] + q[2 * (n - 1) + p] ** 2;
      for (let i = 0; i + 1 < n; i++) v += (q[2 * (i + 1) + p] - q[2 * i + p]) ** 2;
    }
    return ((0.5 * this.tau) / this.dx) * v;
  }
}
