import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/**
 * Parameters of {@link DoublePendulum}; the defaults are those of Cranmer et al. (2020).
 */
export interface DoublePendulumParams {
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

/**
 * The planar double pendulum of point masses on massless rods, θ1, θ2 absolute angles measured from the
 * downward vertical (q = [θ1, θ2]).
 *
 * L = ½(m1+m2) l1² ω1² + ½ m2 l2² ω2² + m2 l1 l2 ω1 ω2 cos(θ1−θ2) + (m1+m2) g l1 cos θ1 + m2 g l2 cos θ2.
 *
 * Points for drawing: `[pivot, bob1, bob2]`, pivot at the origin, y up.
 * Default sampler (the paper's): θ ~ U[0, 2π)², ω ~ U[−10, 10)².
 * @example const dp = new DoublePendulum({ l2: 0.5 }); dp.accelerations(q, qd, qdd, batch);
 */
export class DoublePendulum implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'double-pendulum';
  readonly name = 'Double pendulum';
  readonly dof = 2;
  readonly params: Params;
  readonly angles: readonly boolean[] = [true, true];
  readonly pointCount = 3;
  readonly segments: readonly (readonly [number, number])[] = [
    [0, 1],
    [1, 2],
  ];
  /** (m1+m2) g l1 + m2 g l2: the depth of the potential well (29.4 with the defaults). */
  readonly energyScale: number;
  private readonly m1: number;
  private readonly m2: number;
  private readonly l1: number;
  private readonly l2: number;
  private readonly g: number;

  /** @param overrides parameters replacing the defaults of {@link DoublePendulumParams} */
  constructor(overrides: Partial<DoublePendulumParams> & Partial<Record<string, number>> = {}) {
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
    const w1 = qd[0];
    const w2 = qd[1];
    const t = o.add(
      o.add(o.scale(o.mul(w1, w1), 0.5 * (m1 + m2) * l1 * l1), o.scale(o.mul(w2, w2), 0.5 * m2 * l2 * l2)),
      o.scale(o.mul(o.mul(w1, w2), o.cos(o.sub(q[0], q[1]))), m2 * l1 * l2),
    );
    const negV = o.add(o.scale(o.cos(q[0]), (m1 + m2) * g * l1), o.scale(o.cos(q[1]), m2 * g * l2));
    return o.add(t, negV);
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) - this.potential(q);
  }

  /**
   * Closed-form q̈ for a batch (no allocation): M q̈ = f with the 2×2 mass matrix inverted in closed form.
   * @param q `[batch * 2]` @param qd `[batch * 2]` @param qdd output `[batch * 2]`
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    const m1 = this.m1;
    const m2 = this.m2;
    const M = m1 + m2;
    const l1 = this.l1;
    const l2 = this.l2;
    const g = this.g;
    const n = batch * 2;
    for (let i = 0; i < n; i += 2) {
      const t1 = q[i];
      const t2 = q[i + 1];
      const w1 = qd[i];
      const w2 = qd[i + 1];
      const d = t1 - t2;
      const s = Math.sin(d);
      const c = Math.cos(d);
      // Rows of M q̈ = f divided by l1 and by m2 l2 respectively.
      const f1 = -m2 * l2 * s * w2 * w2 - M * g * Math.sin(t1);
      const f2 = l1 * s * w1 * w1 - g * Math.sin(t2);
      const den = m1 + m2 * s * s;
      qdd[i] = (f1 - m2 * c * f2) / (l1 * den);
      qdd[i + 1] = (M * f2 - c * f1) / (l2 * den);
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) + this.potential(q);
  }

  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const { m1, m2, l1, l2 } = this;
    const c = Math.cos(q[0] - q[1]);
    out[0] = (m1 + m2) * l1 * l1 * qd[0] + m2 * l1 * l2 * c * qd[1];
    out[1] = m2 * l2 * l2 * qd[1] + m2 * l1 * l2 * c * qd[0];
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    const x1 = this.l1 * Math.sin(q[0]);
    const y1 = -this.l1 * Math.cos(q[0]);
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = x1;
    out[4] = y1;
    out[5] = 0;
    out[6] = x1 + this.l2 * Math.sin(q[1]);
    out[7] = y1 - this.l2 * Math.cos(q[1]);
    out[8] = 0;
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    out.fill(0, 0, 6);
    if (point >= 1) {
      out[0] = this.l1 * Math.cos(q[0]);
      out[2] = this.l1 * Math.sin(q[0]);
    }
    if (point === 2) {
      out[1] = this.l2 * Math.cos(q[1]);
      out[3] = this.l2 * Math.sin(q[1]);
    }
  }

  /** The paper's distribution: θ ~ U[0, 2π)², ω ~ U[−10, 10)². */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    q[0] = uniform(rng, 0, 2 * Math.PI);
    q[1] = uniform(rng, 0, 2 * Math.PI);
    qd[0] = uniform(rng, -10, 10);
    qd[1] = uniform(rng, -10, 10);
  }

  withParams(overrides: Partial<Record<string, number>>): DoublePendulum {
    return new DoublePendulum({ ...this.params, ...overrides });
  }

  private kinetic(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const { m1, m2, l1, l2 } = this;
    const w1 = qd[0];
    const w2 = qd[1];
    return (
      0.5 * (m1 + m2) * l1 * l1 * w1 * w1 +
      0.5 * m2 * l2 * l2 * w2 * w2 +
      m2 * l1 * l2 * w1 * w2 * Math.cos(q[0] - q[1])
    );
  }

  private potential(q: ArrayLike<number>): number {
    const { m1, m2, l1, l2, g } = this;
    return -(m1 + m2) * g * l1 * Math.cos(q[0]) - m2 * g * l2 * Math.cos(q[1]);
  }
}
