import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link SimplePendulum}. */
export interface SimplePendulumParams {
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
 * A point mass on a massless rod, θ measured from the downward vertical (q = [θ]).
 * L = ½ m l² θ̇² + m g l cos θ, so θ̈ = −(g/l) sin θ.
 *
 * Points: `[pivot, bob]`. Default sampler: θ ~ U[−π, π), θ̇ ~ U[−2ω₀, 2ω₀) with ω₀ = √(|g|/l)
 * (librations and rotations alike; 2ω₀ is the separatrix speed at the bottom).
 * @example const p = new SimplePendulum({ l: 2 });
 */
export class SimplePendulum implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'simple-pendulum';
  readonly name = 'Simple pendulum';
  readonly dof = 1;
  readonly params: Params;
  readonly angles: readonly boolean[] = [true];
  readonly pointCount = 2;
  readonly segments: readonly (readonly [number, number])[] = [[0, 1]];
  /** m |g| l: the depth of the potential well below the pivot. */
  readonly energyScale: number;
  private readonly m: number;
  private readonly l: number;
  private readonly g: number;

  /** @param overrides parameters replacing the defaults of {@link SimplePendulumParams} */
  constructor(overrides: Partial<SimplePendulumParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.m = this.params.m;
    this.l = this.params.l;
    this.g = this.params.g;
    this.energyScale = Math.abs(this.m * this.g * this.l) || 1;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const { m, l, g } = this;
    return o.add(o.scale(o.mul(qd[0], qd[0]), 0.5 * m * l * l), o.scale(o.cos(q[0]), m * g * l));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const { m, l, g } = this;
    return 0.5 * m * l * l * qd[0] * qd[0] + m * g * l * Math.cos(q[0]);
  }

  /** θ̈ = −(g/l) sin θ. @param q `[batch]` @param qd `[batch]` @param qdd output `[batch]` */
  accelerations(q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    const k = -this.g / this.l;
    for (let i = 0; i < batch; i++) qdd[i] = k * Math.sin(q[i]);
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const { m, l, g } = this;
    return 0.5 * m * l * l * qd[0] * qd[0] - m * g * l * Math.cos(q[0]);
  }

  momentum(_q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    out[0] = this.m * this.l * this.l * qd[0];
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = this.l * Math.sin(q[0]);
    out[4] = -this.l * Math.cos(q[0]);
    out[5] = 0;
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    out.fill(0, 0, 3);
    if (point === 1) {
      out[0] = this.l * Math.cos(q[0]);
      out[1] = this.l * Math.sin(q[0]);
    }
  }

  /** θ ~ U[−π, π), θ̇ ~ U[−2ω₀, 2ω₀), ω₀ = √(|g|/l) (ω₀ = 1 when g = 0). */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const w = 2 * (Math.sqrt(Math.abs(this.g) / this.l) || 1);
    q[0] = uniform(rng, -Math.PI, Math.PI);
    qd[0] = uniform(rng, -w, w);
  }

  withParams(overrides: Partial<Record<string, number>>): SimplePendulum {
    return new SimplePendulum({ ...this.params, ...overrides });
  }
}
