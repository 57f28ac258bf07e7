import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';
import { PARTICLE_MAX_SPEED } from './RelativisticParticle.js';

/** Parameters of {@link NewtonianParticle}. */
export interface NewtonianParticleParams {
  /** Constant force per unit mass along +q. @default 1 */
  g: number;
}

const SPECS: readonly ParamSpec[] = [{ name: 'g', default: 1, doc: 'constant force along +q' }];

/**
 * The small-velocity limit of `RelativisticParticle` (m = 1): L = ½ q̇² + g q, q̈ = g. Shown next to the
 * relativistic particle to make the speed limit visible.
 *
 * Points: `[particle]` at (q, 0, 0). Default sampler (the relativistic particle's): q ~ U[−1, 1),
 * q̇ ~ U[−0.9, 0.9).
 * @example const p = new NewtonianParticle({ g: 2 });
 */
export class NewtonianParticle implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'newtonian-particle';
  readonly name = 'Newtonian particle';
  readonly dof = 1;
  readonly params: Params;
  readonly angles: readonly boolean[] = [false];
  readonly pointCount = 1;
  readonly segments: readonly (readonly [number, number])[] = [];
  /** 1, as for the relativistic particle. */
  readonly energyScale = 1;
  private readonly g: number;

  /** @param overrides parameters replacing the defaults of {@link NewtonianParticleParams} */
  constructor(overrides: Partial<NewtonianParticleParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.g = this.params.g;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    return o.add(o.scale(o.mul(qd[0], qd[0]), 0.5), o.scale(q[0], this.g));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return 0.5 * qd[0] * qd[0] + this.g * q[0];
  }

  /** q̈ = g. @param q `[batch]` @param qd `[batch]` @param qdd output `[batch]` */
  accelerations(_q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    qdd.fill(this.g, 0, batch);
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return 0.5 * qd[0] * qd[0] - this.g * q[0];
  }

  momentum(_q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    out[0] = qd[0];
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    out[0] = q[0];
    out[1] = 0;
    out[2] = 0;
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(_q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    out[0] = 1;
    out[1] = 0;
    out[2] = 0;
  }

  /** q ~ U[−1, 1), q̇ ~ U[−0.9, 0.9). */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    q[0] = uniform(rng, -1, 1);
    qd[0] = uniform(rng, -PARTICLE_MAX_SPEED, PARTICLE_MAX_SPEED);
  }

  withParams(overrides: Partial<Record<string, number>>): NewtonianParticle {
    return new NewtonianParticle({ ...this.params, ...overrides });
  }
}
