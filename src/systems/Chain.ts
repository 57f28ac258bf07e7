import type { Ops, Params, Rng, System } from '../core/types.js';
import { choleskyFactor, choleskySolve } from '../linalg/cholesky.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link Chain}. */
export interface ChainParams {
  /** Number of links N (= degrees of freedom), 1 … 256. @default 3 */
  links: number;
  /** Mass of every bob. @default 1 */
  m: number;
  /** Length of every rod. @default 1 */
  l: number;
  /** Gravitational acceleration (along −y). @default 9.8 */
  g: number;
}

/** Largest accepted number of links: the closed form costs O(N³) per state. */
export const MAX_CHAIN_LINKS = 256;

const SPECS: readonly ParamSpec[] = [
  { name: 'links', default: 3, doc: 'number of links N', integer: true, min: 1, max: MAX_CHAIN_LINKS },
  { name: 'm', default: 1, doc: 'mass of every bob', positive: true },
  { name: 'l', default: 1, doc: 'length of every rod', positive: true },
  { name: 'g', default: 9.8, doc: 'gravitational acceleration along −y' },
];

/**
 * The N-link planar pendulum chain: N point masses m joined by massless rods of length l, hanging from a
 * fixed pivot; θ_i absolute angles from the downward vertical (q = [θ_1 … θ_N]). With μ_i = Σ_{k≥i} m_k
 * (the mass hanging below rod i):
 *
 *   M(q) q̈ = f,  M_ij = l_i l_j μ_max(i,j) cos(θ_i−θ_j),
 *   f_i = −Σ_j l_i l_j μ_max(i,j) sin(θ_i−θ_j) θ̇_j² − g l_i μ_i sin θ_i,
 *
 * solved per state by a float64 Cholesky factorisation (M is positive definite). `links: 2` is exactly
 * the double pendulum.
 *
 * Points: `[pivot, bob_1 … bob_N]`. Default sampler (the double pendulum's, per link):
 * θ ~ U[0, 2π)^N, θ̇ ~ U[−10, 10)^N.
 * @example const chain = new Chain({ links: 8 });
 */
export class Chain implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'chain';
  readonly name: string;
  readonly dof: number;
  readonly params: Params;
  readonly angles: readonly boolean[];
  readonly pointCount: number;
  readonly segments: readonly (readonly [number, number])[];
  /** g l Σ_i μ_i = m g l N(N+1)/2: the depth of the potential well (29.4 for N = 2 with the defaults). */
  readonly energyScale: number;
  private readonly m: number;
  private readonly l: number;
  private readonly g: number;
  /** Scratch, reused by every call: sin, cos of each angle; M; f. */
  private readonly sn: Float64Array;
  private readonly cs: Float64Array;
  private readonly M: Float64Array;
  private readonly f: Float64Array;

  /** @param overrides parameters replacing the defaults of {@link ChainParams} */
  constructor(overrides: Partial<ChainParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    const n = this.params.links;
    this.m = this.params.m;
    this.l = this.params.l;
    this.g = this.params.g;
    this.dof = n;
    this.name = `Chain of ${n} link${n === 1 ? '' : 's'}`;
    this.angles = Array.from({ length: n }, () => true);
    this.pointCount = n + 1;
    this.segments = Array.from({ length: n }, (_, i) => [i, i + 1] as const);
    this.energyScale = Math.abs((this.m * this.g * this.l * n * (n + 1)) / 2) || 1;
    this.sn = new Float64Array(n);
    this.cs = new Float64Array(n);
    this.M = new Float64Array(n * n);
    this.f = new Float64Array(n);
  }

  /** Mass hanging below rod i (0-based): μ_i = m (N − i). */
  private mu(i: number): number {
    return this.m * (this.dof - i);
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    // Cartesian bob velocities accumulated link by link: O(N) operations.
    const { m, l, g } = this;
    let vx = o.c(0);
    let vy = o.c(0);
    let T2 = o.c(0);
    let V = o.c(0);
    for (let i = 0; i < this.dof; i++) {
      const c = o.cos(q[i]);
      vx = o.add(vx, o.scale(o.mul(c, qd[i]), l));
      vy = o.add(vy, o.scale(o.mul(o.sin(q[i]), qd[i]), l));
      T2 = o.add(T2, o.add(o.mul(vx, vx), o.mul(vy, vy)));
      V = o.add(V, o.scale(c, -g * l * this.mu(i)));
    }
    return o.sub(o.scale(T2, 0.5 * m), V);
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) - this.potential(q);
  }

  /**
   * Closed-form q̈ for a batch, M q̈ = f by Cholesky (no allocation).
   * @param q `[batch * N]` @param qd `[batch * N]` @param qdd output `[batch * N]`
   * @throws Error if M is not positive definite (only for non-finite states)
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    const n = this.dof;
    const { l, g, sn, cs, M, f } = this;
    const ll = l * l;
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      for (let i = 0; i < n; i++) {
        sn[i] = Math.sin(q[o + i]);
        cs[i] = Math.cos(q[o + i]);
      }
      for (let i = 0; i < n; i++) {
        let fi = -g * l * this.mu(i) * sn[i];
        for (let j = 0; j < n; j++) {
          const k = ll * this.mu(Math.max(i, j));
          // cos(θi−θj), sin(θi−θj) from the per-angle pairs: no O(N²) transcendental calls.
          M[i * n + j] = k * (cs[i] * cs[j] + sn[i] * sn[j]);
          const w = qd[o + j];
          fi -= k * (sn[i] * cs[j] - cs[i] * sn[j]) * w * w;
        }
        f[i] = fi;
      }
      if (!choleskyFactor(M, n)) {
        throw new Error(
          `chain: mass matrix not positive definite at state ${b}; the state holds non-finite values.`,
        );
      }
      choleskySolve(M, f, qdd, n, 0, 0, o);
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(q, qd) + this.potential(q);
  }

  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const n = this.dof;
    const ll = this.l * this.l;
    for (let i = 0; i < n; i++) {
      let p = 0;
      for (let j = 0; j < n; j++) p += ll * this.mu(Math.max(i, j)) * Math.cos(q[i] - q[j]) * qd[j];
      out[i] = p;
    }
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    let x = 0;
    let y = 0;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
    for (let i = 0; i < this.dof; i++) {
      x += this.l * Math.sin(q[i]);
      y -= this.l * Math.cos(q[i]);
      out[3 * i + 3] = x;
      out[3 * i + 4] = y;
      out[3 * i + 5] = 0;
    }
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    const n = this.dof;
    out.fill(0, 0, 3 * n);
    // Point k hangs below links 0 … k − 1: x = Σ l sin θ_i, y = −Σ l cos θ_i.
    for (let i = 0; i < point; i++) {
      out[i] = this.l * Math.cos(q[i]);
      out[n + i] = this.l * Math.sin(q[i]);
    }
  }

  /** θ ~ U[0, 2π)^N, θ̇ ~ U[−10, 10)^N (the double pendulum's distribution, per link). */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    for (let i = 0; i < this.dof; i++) {
      q[i] = uniform(rng, 0, 2 * Math.PI);
      qd[i] = uniform(rng, -10, 10);
    }
  }

  withParams(overrides: Partial<Record<string, number>>): Chain {
    return new Chain({ ...this.params, ...overrides });
  }

  private kinetic(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    let vx = 0;
    let vy = 0;
    let t = 0;
    for (let i = 0; i < this.dof; i++) {
      vx += this.l * Math.cos(q[i]) * qd[i];
      vy += this.l * Math.sin(q[i]) * qd[i];
      t += vx * vx + vy * vy;
    }
    return 0.5 * this.m * t;
  }

  private potential(q: ArrayLike<number>): number {
    let v = 0;
    for (let i = 0; i < this.dof; i++) v -= this.g * this.l * this.mu(i) * Math.cos(q[i]);
    return v;
  }
}
