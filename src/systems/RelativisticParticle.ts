import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link RelativisticParticle}. */
export interface RelativisticParticleParams {
  /** Constant force per unit mass along +q. @default 1 */
  g: number;
}

const SPECS: readonly ParamSpec[] = [{ name: 'g', default: 1, doc: 'constant force along +q' }];

/** Largest |q̇| drawn by the samplers of the particle systems (c = 1). */
export const PARTICLE_MAX_SPEED = 0.9;

/**
 * A particle in a uniform force field with c = m = 1, in the variant of Cranmer et al. (2020):
 *
 *   L = (1 − q̇²)^(−1/2) − 1 + g q,   q̈ = g (1 − q̇²)^(5/2) / (1 + 2 q̇²).
 *
 * (Not the textbook L = −√(1 − q̇²) + g q; both have the Newtonian limit ½ q̇² + g q, see
 * `NewtonianParticle`.) Its canonical momentum p = q̇ (1 − q̇²)^(−3/2) is non-canonical enough that a
 * Hamiltonian network in (q, q̇) fails, which is why the paper uses it. Only |q̇| < 1 is physical; a
 * state with |q̇| ≥ 1 throws.
 *
 * Points: `[particle]` at (q, 0, 0). Default sampler: q ~ U[−1, 1), q̇ ~ U[−0.9, 0.9).
 * @example const p = new RelativisticParticle({ g: 2 });
 */
export class RelativisticParticle implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'relativistic-particle';
  readonly name = 'Relativistic particle';
  readonly dof = 1;
  readonly params: Params;
  readonly angles: readonly boolean[] = [false];
  readonly pointCount = 1;
  readonly segments: readonly (readonly [number, number])[] = [];
  /** 1: the rest energy m c². */
  readonly energyScale = 1;
  private readonly g: number;

  /** @param overrides parameters replacing the defaults of {@link RelativisticParticleParams} */
  constructor(overrides: Partial<RelativisticParticleParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    this.g = this.params.g;
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const gamma = o.pow(o.sub(o.c(1), o.mul(qd[0], qd[0])), -0.5);
    return o.add(o.sub(gamma, o.c(1)), o.scale(q[0], this.g));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return (1 - qd[0] * qd[0]) ** -0.5 - 1 + this.g * q[0];
  }

  /**
   * q̈ = g (1 − q̇²)^(5/2) / (1 + 2q̇²). @param q `[batch]` @param qd `[batch]` @param qdd output `[batch]`
   * @throws Error for a state with |q̇| ≥ 1 (faster than light)
   */
  accelerations(_q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    const g = this.g;
    for (let i = 0; i < batch; i++) {
      const v2 = qd[i] * qd[i];
      const r = 1 - v2;
      if (!(r > 0)) throw speedError(qd[i], i);
      qdd[i] = (g * r * r * Math.sqrt(r)) / (1 + 2 * v2);
    }
  }

  /** E = q̇ p − L = q̇² (1 − q̇²)^(−3/2) − (1 − q̇²)^(−1/2) + 1 − g q. */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    const v2 = qd[0] * qd[0];
    const r = 1 - v2;
    return v2 * r ** -1.5 - r ** -0.5 + 1 - this.g * q[0];
  }

  momentum(_q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    out[0] = qd[0] * (1 - qd[0] * qd[0]) ** -1.5;
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

  withParams(overrides: Partial<Record<string, number>>): RelativisticParticle {
    return new RelativisticParticle({ ...this.params, ...overrides });
  }
}

function speedError(v: number, index: number): Error {
  return new Error(
    `relativistic-particle: |q̇| = ${Math.abs(v)} ≥ 1 (c) at state ${index}; only |q̇| < 1 is physical.`,
  );
}
