import type { Ops, Params, Rng, System } from '../core/types.js';
import { choleskyFactor, choleskySolve } from '../linalg/cholesky.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';
import { SPHERICAL_MIN_COS, tiltSwingAngles, tiltSwingFrame } from './SphericalPendulum.js';

/** Parameters of {@link DoubleSphericalPendulum}; the defaults are the planar double pendulum's. */
export interface DoubleSphericalPendulumParams {
  /** Mass of the upper bob. @default 1 */
  m1: number;
  /** Mass of the lower bob. @default 1 */
  m2: number;
  /** Length of the upper rod. @default 1 */
  l1: number;
  /** Length of the lower rod. @default 1 */
  l2: number;
  /** Gravitational acceleration (along −y). @default 9.8 */
  g: number;
}

const SPECS: readonly ParamSpec[] = [
  { name: 'm1', default: 1, doc: 'mass of the upper bob', positive: true },
  { name: 'm2', default: 1, doc: 'mass of the lower bob', positive: true },
  { name: 'l1', default: 1, doc: 'length of the upper rod', positive: true },
  { name: 'l2', default: 1, doc: 'length of the lower rod', positive: true },
  { name: 'g', default: 9.8, doc: 'gravitational acceleration along −y' },
];

/** Module scratch for the sampler's four-velocity draw. */
const sampleW = new Float64Array(4);

/**
 * Two point masses on massless rods swinging in 3D from a fixed pivot. Each rod's direction is given in
 * the tilt–swing chart of {@link SphericalPendulum} by **absolute** angles (measured in the fixed frame,
 * not relative to the upper rod): q = [α1, β1, α2, β2], u_i = (cos α_i sin β_i, −cos α_i cos β_i, sin α_i),
 *
 *   r1 = l1 u1,  r2 = r1 + l2 u2,  L = ½ m1 |ṙ1|² + ½ m2 |ṙ2|² − g (m1 y1 + m2 y2).
 *
 * α1 = α2 = 0 is exactly the planar {@link DoublePendulum} with θ_i = β_i. With J_k = ∂r_k/∂q (3×4) and
 * h_k = Σ_ij ∂²r_k/∂q_i∂q_j q̇_i q̇_j (the velocity-quadratic part of the bob accelerations), d'Alembert's
 * principle gives
 *
 *   M q̈ = Σ_k J_kᵀ (F_k − m_k h_k),  M = Σ_k m_k J_kᵀ J_k,  F_k = (0, −m_k g, 0),
 *
 * with M = [[(m1+m2) l1² diag(1, cos²α1), m2 l1 l2 C], [m2 l1 l2 Cᵀ, m2 l2² diag(1, cos²α2)]],
 * C_ij = ∂_i u1 · ∂_j u2, solved per state by a float64 Cholesky factorisation. **Singular set**: a rod
 * along ±z (cos α_i = 0), where M is singular; q̈ grows without bound towards it and is NaN where the
 * factorisation fails (the World's guard flags such a state).
 *
 * Points: `[pivot, bob1, bob2]`. Default sampler: energies at most D = ½ g' min((m1+m2) l1, m2 l2) above
 * rest, g' = |g| (1 when g = 0), shared at random between the two rods' potential energy and the kinetic
 * energy; then cos α_i ≥ {@link SPHERICAL_MIN_COS} for both rods and, for g > 0, along the whole
 * trajectory (each rod stays within 60° of the downward vertical).
 * @example const dsp = new DoubleSphericalPendulum({ l2: 0.5 }); dsp.accelerations(q, qd, qdd, batch);
 */
export class DoubleSphericalPendulum implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'double-spherical-pendulum';
  readonly name = 'Double spherical pendulum';
  readonly dof = 4;
  readonly params: Params;
  readonly angles: readonly boolean[] = [true, true, true, true];
  readonly pointCount = 3;
  readonly segments: readonly (readonly [number, number])[] = [
    [0, 1],
    [1, 2],
  ];
  /** (m1+m2) |g| l1 + m2 |g| l2: the depth of the potential well (29.4 with the defaults). */
  readonly energyScale: number;
  private readonly m1: number;
  private readonly m2: number;
  private readonly l1: number;
  private readonly l2: number;
  private readonly g: number;
  /** Scratch: the frames (u, ∂u/∂α, ∂u/∂β) of both rods, `[2 * 9]`; M `[16]`; right-hand side `[4]`. */
  private readonly fr = new Float64Array(18);
  private readonly M = new Float64Array(16);
  private readonly f = new Float64Array(4);
  /** Scratch: bob velocities v1, v2 `[6]`. */
  private readonly v = new Float64Array(6);

  /** @param overrides parameters replacing the defaults of {@link DoubleSphericalPendulumParams} */
  constructor(overrides: Partial<DoubleSphericalPendulumParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.m1 = this.params.m1;
    this.m2 = this.params.m2;
    this.l1 = this.params.l1;
    this.l2 = this.params.l2;
    this.g = this.params.g;
    this.energyScale = Math.abs((this.m1 + this.m2) * this.g * this.l1 + this.m2 * this.g * this.l2) || 1;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const { m1, m2, l1, l2, g } = this;
    // Rod i: u̇_i = ∂u/∂α α̇ + ∂u/∂β β̇ with ∂u/∂α = (−sa sb, sa cb, ca), ∂u/∂β = (ca cb, ca sb, 0).
    const rod = (a: T, b: T, wa: T, wb: T): { vx: T; vy: T; vz: T; y: T } => {
      const sa = o.sin(a);
      const ca = o.cos(a);
      const sb = o.sin(b);
      const cb = o.cos(b);
      const cwb = o.mul(ca, wb);
      const swa = o.mul(sa, wa);
      return {
        vx: o.sub(o.mul(cb, cwb), o.mul(sb, swa)),
        vy: o.add(o.mul(sb, cwb), o.mul(cb, swa)),
        vz: o.mul(ca, wa),
        y: o.neg(o.mul(ca, cb)),
      };
    };
    const r1 = rod(q[0], q[1], qd[0], qd[1]);
    const r2 = rod(q[2], q[3], qd[2], qd[3]);
    const sq = (x: T, y: T, z: T): T => o.add(o.add(o.mul(x, x), o.mul(y, y)), o.mul(z, z));
    const v1 = sq(r1.vx, r1.vy, r1.vz);
    const v2 = sq(
      o.add(o.scale(r1.vx, l1), o.scale(r2.vx, l2)),
      o.add(o.scale(r1.vy, l1), o.scale(r2.vy, l2)),
      o.add(o.scale(r1.vz, l1), o.scale(r2.vz, l2)),
    );
    const t = o.add(o.scale(v1, 0.5 * m1 * l1 * l1), o.scale(v2, 0.5 * m2));
    const negV = o.neg(o.add(o.scale(r1.y, (m1 + m2) * g * l1), o.scale(r2.y, m2 * g * l2)));
    return o.add(t, negV);
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) - this.potential(q);
  }

  /**
   * q̈ for a batch from M q̈ = Σ J_kᵀ (F_k − m_k h_k) by Cholesky (no allocation); NaN for a state whose M is
   * singular to working precision (a rod on the singular set).
   * @param q `[batch * 4]` @param qd `[batch * 4]` @param qdd output `[batch * 4]`
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    const { m1, m2, l1, l2, g, fr, M, f } = this;
    const mu = m1 + m2;
    for (let b = 0; b < batch; b++) {
      const o = 4 * b;
      tiltSwingFrame(q[o], q[o + 1], fr, 0);
      tiltSwingFrame(q[o + 2], q[o + 3], fr, 9);
      // h_u = u_αα α̇² + 2 u_αβ α̇β̇ + u_ββ β̇² with u_αα = −u, u_ββ = (−u_x, −u_y, 0) and
      // u_αβ = (−sa cb, −sa sb, 0) = (−∂u/∂α_y, ∂u/∂α_x, 0): every term read off the frame.
      let h1x = 0;
      let h1y = 0;
      let h1z = 0;
      let h2x = 0;
      let h2y = 0;
      let h2z = 0;
      for (let r = 0; r < 2; r++) {
        const k = 9 * r;
        const wa = qd[o + 2 * r];
        const wb = qd[o + 2 * r + 1];
        const hx = -fr[k] * (wa * wa + wb * wb) - 2 * fr[k + 4] * wa * wb;
        const hy = -fr[k + 1] * (wa * wa + wb * wb) + 2 * fr[k + 3] * wa * wb;
        const hz = -fr[k + 2] * wa * wa;
        if (r === 0) {
          h1x = l1 * hx;
          h1y = l1 * hy;
          h1z = l1 * hz;
        } else {
          h2x = l2 * hx;
          h2y = l2 * hy;
          h2z = l2 * hz;
        }
      }
      // Bob accelerations' quadratic parts are h1 and h1 + h2: rod 1's coordinates move both bobs, so
      // G1 = F1 + F2 − m1 h1 − m2 (h1 + h2); rod 2's move bob 2 only, G2 = F2 − m2 (h1 + h2).
      const g1x = -mu * h1x - m2 * h2x;
      const g1y = -mu * g - mu * h1y - m2 * h2y;
      const g1z = -mu * h1z - m2 * h2z;
      const g2x = -m2 * (h1x + h2x);
      const g2y = -m2 * g - m2 * (h1y + h2y);
      const g2z = -m2 * (h1z + h2z);
      f[0] = l1 * (fr[3] * g1x + fr[4] * g1y + fr[5] * g1z);
      f[1] = l1 * (fr[6] * g1x + fr[7] * g1y + fr[8] * g1z);
      f[2] = l2 * (fr[12] * g2x + fr[13] * g2y + fr[14] * g2z);
      f[3] = l2 * (fr[15] * g2x + fr[16] * g2y + fr[17] * g2z);
      this.massMatrix(M);
      if (!choleskyFactor(M, 4)) {
        qdd.fill(Number.NaN, o, o + 4);
        continue;
      }
      choleskySolve(M, f, qdd, 4, 0, 0, o);
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) + this.potential(q);
  }

  /** p = M q̇ = Σ_k m_k J_kᵀ v_k. */
  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const { m1, m2, l1, l2, fr, v } = this;
    this.velocities(q, qd);
    const px = m1 * v[0] + m2 * v[3];
    const py = m1 * v[1] + m2 * v[4];
    const pz = m1 * v[2] + m2 * v[5];
    out[0] = l1 * (fr[3] * px + fr[4] * py + fr[5] * pz);
    out[1] = l1 * (fr[6] * px + fr[7] * py + fr[8] * pz);
    out[2] = l2 * m2 * (fr[12] * v[3] + fr[13] * v[4] + fr[14] * v[5]);
    out[3] = l2 * m2 * (fr[15] * v[3] + fr[16] * v[4] + fr[17] * v[5]);
  }

  /** `[pivot, bob1, bob2]`: r1 = l1 u1, r2 = r1 + l2 u2. */
  positions(q: ArrayLike<number>, out: Float64Array): void {
    const { l1, l2 } = this;
    const c1 = Math.cos(q[0]);
    const c2 = Math.cos(q[2]);
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = l1 * c1 * Math.sin(q[1]);
    out[4] = -l1 * c1 * Math.cos(q[1]);
    out[5] = l1 * Math.sin(q[0]);
    out[6] = out[3] + l2 * c2 * Math.sin(q[3]);
    out[7] = out[4] - l2 * c2 * Math.cos(q[3]);
    out[8] = out[5] + l2 * Math.sin(q[2]);
  }

  /** Exact Jacobian of point `point` (`[3 * 4]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    out.fill(0, 0, 12);
    const fr = this.fr;
    for (let rod = 0; rod < point; rod++) {
      tiltSwingFrame(q[2 * rod], q[2 * rod + 1], fr, 9 * rod);
      const l = rod === 0 ? this.l1 : this.l2;
      for (let r = 0; r < 3; r++) {
        out[4 * r + 2 * rod] = l * fr[9 * rod + 3 + r];
        out[4 * r + 2 * rod + 1] = l * fr[9 * rod + 6 + r];
      }
    }
  }

  /**
   * An energy E − E_rest = s·D, s ~ U[0, 1), D = ½ g' min((m1+m2) l1, m2 l2), split at random into rod 1's
   * potential energy, rod 2's and the kinetic energy; each rod's azimuth about the vertical ~ U[0, 2π); the
   * velocity direction uniform in the cube [−1, 1)⁴ scaled to the kinetic share. Nine draws per state.
   */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const { m1, m2, l1, l2 } = this;
    const gs = Math.abs(this.g) || 1;
    const mu = m1 + m2;
    const budget = 0.5 * gs * Math.min(mu * l1, m2 * l2) * rng();
    const u = rng();
    const w = rng();
    const lo = Math.min(u, w);
    const hi = Math.max(u, w);
    // Potential energy above rest of rod 1, g' μ l1 (1 − cos θ1), and of rod 2, g' m2 l2 (1 − cos θ2).
    const c1 = 1 - (budget * lo) / (gs * mu * l1);
    const c2 = 1 - (budget * (hi - lo)) / (gs * m2 * l2);
    const kinetic = budget * (1 - hi);
    for (let rod = 0; rod < 2; rod++) {
      const c = rod === 0 ? c1 : c2;
      const s = Math.sqrt(Math.max(0, 1 - c * c));
      const psi = uniform(rng, 0, 2 * Math.PI);
      tiltSwingAngles(s * Math.cos(psi), -c, s * Math.sin(psi), q, 2 * rod);
    }
    for (let i = 0; i < 4; i++) sampleW[i] = uniform(rng, -1, 1);
    const t = this.kinetic(q, sampleW);
    const scale = t > 0 ? Math.sqrt(kinetic / t) : 0;
    for (let i = 0; i < 4; i++) qd[i] = scale * sampleW[i];
  }

  withParams(overrides: Partial<Record<string, number>>): DoubleSphericalPendulum {
    return new DoubleSphericalPendulum({ ...this.params, ...overrides });
  }

  /** M from the frames in `fr` (filled by the caller), row-major `[16]`. */
  private massMatrix(M: Float64Array): void {
    const { m1, m2, l1, l2, fr } = this;
    const c1 = fr[5];
    const c2 = fr[14];
    const k11 = (m1 + m2) * l1 * l1;
    const k22 = m2 * l2 * l2;
    const k12 = m2 * l1 * l2;
    M.fill(0);
    M[0] = k11;
    M[5] = k11 * c1 * c1;
    M[10] = k22;
    M[15] = k22 * c2 * c2;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const a = 3 + 3 * i;
        const b = 12 + 3 * j;
        const cij = k12 * (fr[a] * fr[b] + fr[a + 1] * fr[b + 1] + fr[a + 2] * fr[b + 2]);
        M[i * 4 + 2 + j] = cij;
        M[(2 + j) * 4 + i] = cij;
      }
    }
  }

  /** Bob velocities into `v` (v1 then v2), frames into `fr`. */
  private velocities(q: ArrayLike<number>, qd: ArrayLike<number>): void {
    const { l1, l2, fr, v } = this;
    tiltSwingFrame(q[0], q[1], fr, 0);
    tiltSwingFrame(q[2], q[3], fr, 9);
    for (let r = 0; r < 3; r++) {
      v[r] = l1 * (fr[3 + r] * qd[0] + fr[6 + r] * qd[1]);
      v[3 + r] = v[r] + l2 * (fr[12 + r] * qd[2] + fr[15 + r] * qd[3]);
    }
  }

  private kinetic(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const v = this.v;
    this.velocities(q, qd);
    return (
      0.5 * this.m1 * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) +
      0.5 * this.m2 * (v[3] * v[3] + v[4] * v[4] + v[5] * v[5])
    );
  }

  private potential(q: ArrayLike<number>): number {
    const { m1, m2, l1, l2, g } = this;
    const y1 = -l1 * Math.cos(q[0]) * Math.cos(q[1]);
    const y2 = y1 - l2 * Math.cos(q[2]) * Math.cos(q[3]);
    return g * (m1 * y1 + m2 * y2);
  }
}
