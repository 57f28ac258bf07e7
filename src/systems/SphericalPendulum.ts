import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link SphericalPendulum}. */
export interface SphericalPendulumParams {
  /** Bob mass. @default 1 */
  m: number;
  /** Rod length. @default 1 */
  l: number;
  /** Gravitational acceleration (along −y). @default 9.8 */
  g: number;
}

const SPECS: readonly ParamSpec[] = [
  { name: 'm', default: 1, doc: 'bob mass', positive: true },
  { name: 'l', default: 1, doc: 'rod length', positive: true },
  { name: 'g', default: 9.8, doc: 'gravitational acceleration along −y' },
];

/**
 * Smallest cos α of a sampled state (|α| ≤ π/3, at least π/6 from the chart's singular set), and for
 * g > 0 of every state on its trajectory; the mass matrix's condition number 1/cos²α is then at most 4.
 */
export const SPHERICAL_MIN_COS = 0.5;

/**
 * The rod direction of the tilt–swing chart: u(α, β) = (cos α sin β, −cos α cos β, sin α), y up.
 * β swings the rod in the x–y plane (a rotation about z), α tilts it out of that plane towards +z (a
 * rotation about x applied first). Writes u, ∂u/∂α and ∂u/∂β into `out` at `o`, `o + 3`, `o + 6`.
 */
export function tiltSwingFrame(alpha: number, beta: number, out: Float64Array, o = 0): void {
  const sa = Math.sin(alpha);
  const ca = Math.cos(alpha);
  const sb = Math.sin(beta);
  const cb = Math.cos(beta);
  out[o] = ca * sb;
  out[o + 1] = -ca * cb;
  out[o + 2] = sa;
  out[o + 3] = -sa * sb;
  out[o + 4] = sa * cb;
  out[o + 5] = ca;
  out[o + 6] = ca * cb;
  out[o + 7] = ca * sb;
  out[o + 8] = 0;
}

/**
 * Chart angles of a unit direction d (|d| = 1): α = asin d_z, β = atan2(d_x, −d_y); the inverse of
 * {@link tiltSwingFrame}'s u on |α| < π/2. Writes [α, β] into `out` at `o`.
 */
export function tiltSwingAngles(dx: number, dy: number, dz: number, out: Float64Array, o = 0): void {
  out[o] = Math.asin(Math.max(-1, Math.min(1, dz)));
  out[o + 1] = Math.atan2(dx, -dy);
}

/**
 * A point mass m on a massless rod of length l free to swing in 3D about a fixed pivot (the spherical
 * pendulum), in the tilt–swing chart q = [α, β]: the bob sits at
 *
 *   x = l cos α sin β,  y = −l cos α cos β,  z = l sin α   (y up, gravity along −y).
 *
 * β is the swing angle in the x–y plane, α the tilt out of it towards +z; α = 0 is exactly the planar
 * {@link SimplePendulum} with θ = β. The polar chart (θ from the downward vertical, azimuth φ) has
 * M = m l² diag(1, sin²θ), singular at the rest position; this chart puts its pole on the z axis instead:
 *
 *   L = ½ m l² (α̇² + cos²α β̇²) + m g l cos α cos β,   M(q) = m l² diag(1, cos²α),
 *   α̈ = −sin α cos α β̇² − (g/l) sin α cos β,
 *   β̈ = 2 tan α α̇ β̇ − (g/l) sin β / cos α
 *
 * (Christoffel symbols Γ^α_ββ = sin α cos α, Γ^β_αβ = −tan α). **Singular set**: α = ±π/2, the two
 * horizontal rod directions ±z at the pivot's height, where cos α = 0 and β is undefined; β̈ grows like
 * 1/cos α towards it (a state on it gives a non-finite q̈, which the World's guard flags). Every state with energy E < 0 (for g > 0) stays below the
 * pivot and never reaches it.
 *
 * Points: `[pivot, bob]`. Default sampler: the rod direction uniform over the spherical cap within 60° of
 * the downward vertical, then a velocity with E ≤ −½ m g l; so cos α ≥ {@link SPHERICAL_MIN_COS} and, for
 * g > 0, the whole trajectory stays in that cap (cond M ≤ 4).
 * @example const p = new SphericalPendulum({ l: 2 }); p.accelerations(q, qd, qdd, batch);
 */
export class SphericalPendulum implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'spherical-pendulum';
  readonly name = 'Spherical pendulum';
  readonly dof = 2;
  readonly params: Params;
  /** Both chart angles are 2π-periodic in the forward kinematics. */
  readonly angles: readonly boolean[] = [true, true];
  readonly pointCount = 2;
  readonly segments: readonly (readonly [number, number])[] = [[0, 1]];
  /** m |g| l: the depth of the potential well below the pivot. */
  readonly energyScale: number;
  private readonly m: number;
  private readonly l: number;
  private readonly g: number;

  /** @param overrides parameters replacing the defaults of {@link SphericalPendulumParams} */
  constructor(overrides: Partial<SphericalPendulumParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.m = this.params.m;
    this.l = this.params.l;
    this.g = this.params.g;
    this.energyScale = Math.abs(this.m * this.g * this.l) || 1;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const { m, l, g } = this;
    const ca = o.cos(q[0]);
    const w = o.mul(ca, qd[1]);
    const t = o.scale(o.add(o.mul(qd[0], qd[0]), o.mul(w, w)), 0.5 * m * l * l);
    return o.add(t, o.scale(o.mul(ca, o.cos(q[1])), m * g * l));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) - this.potential(q);
  }

  /**
   * Closed-form q̈ for a batch (no allocation); unbounded towards the singular set cos α = 0.
   * @param q `[batch * 2]` @param qd `[batch * 2]` @param qdd output `[batch * 2]`
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    const k = this.g / this.l;
    const n = batch * 2;
    for (let i = 0; i < n; i += 2) {
      const sa = Math.sin(q[i]);
      const ca = Math.cos(q[i]);
      const sb = Math.sin(q[i + 1]);
      const cb = Math.cos(q[i + 1]);
      const wa = qd[i];
      const wb = qd[i + 1];
      qdd[i] = -sa * ca * wb * wb - k * sa * cb;
      qdd[i + 1] = (2 * sa * wa * wb - k * sb) / ca;
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) + this.potential(q);
  }

  /** p = M q̇ = m l² (α̇, cos²α β̇). */
  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const ml2 = this.m * this.l * this.l;
    const ca = Math.cos(q[0]);
    out[0] = ml2 * qd[0];
    out[1] = ml2 * ca * ca * qd[1];
  }

  /** `[pivot, bob]`: the pivot at the origin, the bob at l·u(α, β). */
  positions(q: ArrayLike<number>, out: Float64Array): void {
    const l = this.l;
    const ca = Math.cos(q[0]);
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = l * ca * Math.sin(q[1]);
    out[4] = -l * ca * Math.cos(q[1]);
    out[5] = l * Math.sin(q[0]);
  }

  /** Exact Jacobian of point `point` (`[3 * 2]`, rows x, y, z; columns α, β); see `System.pointJacobian`. */
  pointJacobian(q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    out.fill(0, 0, 6);
    if (point === 1) {
      const l = this.l;
      const sa = Math.sin(q[0]);
      const ca = Math.cos(q[0]);
      const sb = Math.sin(q[1]);
      const cb = Math.cos(q[1]);
      out[0] = -l * sa * sb;
      out[1] = l * ca * cb;
      out[2] = l * sa * cb;
      out[3] = l * ca * sb;
      out[4] = l * ca;
    }
  }

  /**
   * The rod direction uniform over the cap cos θ ≥ ½ (θ from the downward vertical), then a velocity of
   * uniform direction with kinetic energy T = u · m g' l (cos θ − ½), u ~ U[0, 1), g' = |g| (1 when g = 0):
   * E ≤ −½ m g l when g > 0. Four draws per state.
   */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const gs = Math.abs(this.g) || 1;
    const c = uniform(rng, SPHERICAL_MIN_COS, 1);
    const s = Math.sqrt(1 - c * c);
    const psi = uniform(rng, 0, 2 * Math.PI);
    tiltSwingAngles(s * Math.cos(psi), -c, s * Math.sin(psi), q);
    const speed = Math.sqrt(2 * gs * this.l * (c - SPHERICAL_MIN_COS) * rng());
    const chi = uniform(rng, 0, 2 * Math.PI);
    // Velocity components along the orthonormal tangent frame (∂u/∂α, ∂u/∂β / cos α).
    qd[0] = (speed * Math.cos(chi)) / this.l;
    qd[1] = (speed * Math.sin(chi)) / (this.l * Math.cos(q[0]));
  }

  withParams(overrides: Partial<Record<string, number>>): SphericalPendulum {
    return new SphericalPendulum({ ...this.params, ...overrides });
  }

  private kinetic(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const ca = Math.cos(q[0]);
    return 0.5 * this.m * this.l * this.l * (qd[0] * qd[0] + ca * ca * qd[1] * qd[1]);
  }

  private potential(q: ArrayLike<number>): number {
    return -this.m * this.g * this.l * Math.cos(q[0]) * Math.cos(q[1]);
  }
}
