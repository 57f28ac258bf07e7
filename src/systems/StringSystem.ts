import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link StringSystem}. */
export interface StringParams {
  /** Number of interior (moving) nodes N = degrees of freedom, 1 … 4096. @default 16 */
  nodes: number;
  /**
   * Node spacing Δx. Fixed (not derived from N) so that the local physics — and a model trained on a
   * short string — is the same for every N. @default 0.1
   */
  spacing: number;
  /** Linear mass density ρ. @default 1 */
  density: number;
  /** Tension τ. @default 1 */
  tension: number;
}

/** Largest accepted number of nodes. */
export const MAX_STRING_NODES = 4096;

const SPECS: readonly ParamSpec[] = [
  {
    name: 'nodes',
    default: 16,
    doc: 'number of interior nodes N',
    integer: true,
    min: 1,
    max: MAX_STRING_NODES,
  },
  { name: 'spacing', default: 0.1, doc: 'node spacing Δx', positive: true },
  { name: 'density', default: 1, doc: 'linear mass density ρ', positive: true },
  { name: 'tension', default: 1, doc: 'tension τ', positive: true },
];

/** Number of low modes mixed by the default sampler. */
const SAMPLE_MODES = 3;
/** Amplitude bound of each sampled mode (and of the mode that defines the energy scale). */
const SAMPLE_AMPLITUDE = 0.1;

/**
 * A string with fixed ends discretised into N interior nodes of transverse displacement q_i (the 1D wave
 * equation on a lattice), q_0 = q_{N+1} = 0:
 *
 *   L = Σ_{i=1}^{N} ½ ρ Δx q̇_i² − Σ_{i=0}^{N} ½ τ (q_{i+1} − q_i)² / Δx,
 *   q̈_i = (c/Δx)² (q_{i+1} − 2 q_i + q_{i−1}),  c = √(τ/ρ).
 *
 * Normal-mode frequencies: see {@link stringModeFrequencies}. Points: the N + 2 nodes (ends included)
 * at x = i Δx, y = displacement. Default sampler: a superposition of the first three standing modes
 * sin(kπ i/(N+1)) with amplitudes ~ U[−0.1, 0.1) and velocity amplitudes ~ U[−0.1, 0.1)·ω_k.
 * @example const s = new StringSystem({ nodes: 64 });
 */
export class StringSystem implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'string';
  readonly name: string;
  readonly dof: number;
  readonly params: Params;
  readonly angles: readonly boolean[];
  readonly pointCount: number;
  readonly segments: readonly (readonly [number, number])[];
  /** Energy of the fundamental mode with amplitude 0.1 (the sampler's typical size). */
  readonly energyScale: number;
  private readonly rho: number;
  private readonly tau: number;
  private readonly dx: number;

  /** @param overrides parameters replacing the defaults of {@link StringParams} */
  constructor(overrides: Partial<StringParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    const n = this.params.nodes;
    this.dof = n;
    this.rho = this.params.density;
    this.tau = this.params.tension;
    this.dx = this.params.spacing;
    this.name = `String of ${n} node${n === 1 ? '' : 's'}`;
    this.angles = Array.from({ length: n }, () => false);
    this.pointCount = n + 2;
    this.segments = Array.from({ length: n + 1 }, (_, i) => [i, i + 1] as const);
    const q = new Float64Array(n);
    for (let i = 0; i < n; i++) q[i] = SAMPLE_AMPLITUDE * Math.sin((Math.PI * (i + 1)) / (n + 1));
    this.energyScale = this.energy(q, new Float64Array(n));
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const n = this.dof;
    let t = o.c(0);
    for (let i = 0; i < n; i++) t = o.add(t, o.mul(qd[i], qd[i]));
    // Spring energy: the two end springs pull towards the fixed ends q_0 = q_{N+1} = 0.
    let v = o.add(o.mul(q[0], q[0]), o.mul(q[n - 1], q[n - 1]));
    for (let i = 0; i + 1 < n; i++) {
      const d = o.sub(q[i + 1], q[i]);
      v = o.add(v, o.mul(d, d));
    }
    return o.sub(o.scale(t, 0.5 * this.rho * this.dx), o.scale(v, (0.5 * this.tau) / this.dx));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(qd) - this.potential(q);
  }

  /**
   * q̈_i = (c/Δx)² (q_{i+1} − 2q_i + q_{i−1}), ends fixed.
   * @param q `[batch * N]` @param qd `[batch * N]` @param qdd output `[batch * N]`
   */
  accelerations(q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    const n = this.dof;
    const k = this.tau / (this.rho * this.dx * this.dx);
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      for (let i = 0; i < n; i++) {
        const left = i > 0 ? q[o + i - 1] : 0;
        const right = i + 1 < n ? q[o + i + 1] : 0;
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

  positions(q: ArrayLike<number>, out: Float64Array): void {
    const n = this.dof;
    for (let i = 0; i < n + 2; i++) {
      out[3 * i] = i * this.dx;
      out[3 * i + 1] = i === 0 || i === n + 1 ? 0 : q[i - 1];
      out[3 * i + 2] = 0;
    }
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(_q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    const n = this.dof;
    out.fill(0, 0, 3 * n);
    // Node i (1 … n) moves transversally with q_{i−1}; the fixed ends do not move.
    if (point >= 1 && point <= n) out[n + point - 1] = 1;
  }

  /** Sum of the first three standing modes, amplitudes ~ U[−0.1, 0.1), velocity amplitudes ~ U[−0.1, 0.1)·ω_k. */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const n = this.dof;
    q.fill(0, 0, n);
    qd.fill(0, 0, n);
    const c = Math.sqrt(this.tau / this.rho);
    for (let k = 1; k <= Math.min(SAMPLE_MODES, n); k++) {
      const a = uniform(rng, -SAMPLE_AMPLITUDE, SAMPLE_AMPLITUDE);
      const w = ((2 * c) / this.dx) * Math.sin((k * Math.PI) / (2 * (n + 1)));
      const v = uniform(rng, -SAMPLE_AMPLITUDE, SAMPLE_AMPLITUDE) * w;
      for (let i = 0; i < n; i++) {
        const s = Math.sin((k * Math.PI * (i + 1)) / (n + 1));
        q[i] += a * s;
        qd[i] += v * s;
      }
    }
  }

  withParams(overrides: Partial<Record<string, number>>): StringSystem {
    return new StringSystem({ ...this.params, ...overrides });
  }

  private kinetic(qd: ArrayLike<number>): number {
    let t = 0;
    for (let i = 0; i < this.dof; i++) t += qd[i] * qd[i];
    return 0.5 * this.rho * this.dx * t;
  }

  private potential(q: ArrayLike<number>): number {
    const n = this.dof;
    let v = q[0] * q[0] + q[n - 1] * q[n - 1];
    for (let i = 0; i + 1 < n; i++) v += (q[i + 1] - q[i]) ** 2;
    return ((0.5 * this.tau) / this.dx) * v;
  }
}
