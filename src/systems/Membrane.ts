import type { Ops, Params, Rng, System } from '../core/types.js';
import { uniform } from '../math/random.js';
import { checkPoint } from './kinematics.js';
import { type ParamSpec, resolveParams } from './params.js';

/** Parameters of {@link Membrane}. */
export interface MembraneParams {
  /** Interior nodes along x, 1 … 256. @default 16 */
  nx: number;
  /** Interior nodes along z (the second grid direction), 1 … 256. @default 16 */
  ny: number;
  /**
   * Node spacing h in both directions. Fixed (not derived from the grid size) so that the local physics —
   * and a graph model trained on a small grid — is the same for every nx × ny. @default 0.1
   */
  spacing: number;
  /** Areal mass density ρ (each node carries ρh²). @default 1 */
  density: number;
  /** Tension τ. @default 1 */
  tension: number;
}

/** Largest accepted number of interior nodes along each grid direction. */
export const MAX_MEMBRANE_SIDE = 256;

const SPECS: readonly ParamSpec[] = [
  {
    name: 'nx',
    default: 16,
    doc: 'interior nodes along x',
    integer: true,
    min: 1,
    max: MAX_MEMBRANE_SIDE,
  },
  {
    name: 'ny',
    default: 16,
    doc: 'interior nodes along z',
    integer: true,
    min: 1,
    max: MAX_MEMBRANE_SIDE,
  },
  { name: 'spacing', default: 0.1, doc: 'node spacing h', positive: true },
  { name: 'density', default: 1, doc: 'areal mass density ρ', positive: true },
  { name: 'tension', default: 1, doc: 'tension τ', positive: true },
];

/** Low modes per grid direction mixed by the default sampler. */
const SAMPLE_MODES = 2;
/** Amplitude bound of each sampled mode (and of the mode that defines the energy scale). */
const SAMPLE_AMPLITUDE = 0.1;

/**
 * A membrane (drum skin) with a fixed rectangular boundary, discretised into nx × ny interior nodes of
 * transverse displacement (the 2D wave equation on a square lattice of spacing h). Node (i, j),
 * 0 ≤ i < nx along x and 0 ≤ j < ny along z, is coordinate q[j·nx + i] (row-major, x fastest); the
 * boundary nodes are fixed at 0:
 *
 *   L = Σ_nodes ½ ρh² q̇_ij² − Σ_edges ½ τ (q_a − q_b)²,
 *   q̈_ij = (c/h)² (q_{i+1,j} + q_{i−1,j} + q_{i,j+1} + q_{i,j−1} − 4 q_ij),  c = √(τ/ρ),
 *
 * the edges joining grid neighbours in both directions, the edges to the fixed boundary included (each
 * interior node has four). Normal modes: see {@link membraneModeFrequencies}. Points: the
 * (nx + 2) × (ny + 2) nodes, boundary included, row-major like q, at (x, y, z) = (i′h, displacement,
 * j′h) with i′, j′ counted from the boundary (y up); segments join grid neighbours. Default sampler: a
 * superposition of the 2 × 2 lowest standing modes with amplitudes ~ U[−0.1, 0.1) and velocity amplitudes
 * ~ U[−0.1, 0.1)·ω_jk.
 * @example const drum = new Membrane({ nx: 64, ny: 64 });
 */
export class Membrane implements System {
  /** Parameter declarations (defaults, meaning, accepted range). */
  static readonly paramSpecs = SPECS;
  readonly id = 'membrane';
  readonly name: string;
  readonly dof: number;
  readonly params: Params;
  readonly angles: readonly boolean[];
  readonly pointCount: number;
  readonly segments: readonly (readonly [number, number])[];
  /** Energy of the lowest mode (1, 1) with amplitude 0.1 (the sampler's typical size). */
  readonly energyScale: number;
  /** Interior nodes along x. */
  readonly nx: number;
  /** Interior nodes along z. */
  readonly ny: number;
  private readonly rho: number;
  private readonly tau: number;
  private readonly h: number;

  /** @param overrides parameters replacing the defaults of {@link MembraneParams} */
  constructor(overrides: Partial<MembraneParams> & Partial<Record<string, number>> = {}) {
    this.params = resolveParams(this.id, SPECS, overrides);
    const nx = this.params.nx;
    const ny = this.params.ny;
    this.nx = nx;
    this.ny = ny;
    this.dof = nx * ny;
    this.rho = this.params.density;
    this.tau = this.params.tension;
    this.h = this.params.spacing;
    this.name = `Membrane of ${nx}×${ny} nodes`;
    this.angles = new Array<boolean>(this.dof).fill(false);
    const px = nx + 2;
    this.pointCount = px * (ny + 2);
    const segments: (readonly [number, number])[] = [];
    for (let j = 0; j < ny + 2; j++) {
      for (let i = 0; i < px; i++) {
        const p = j * px + i;
        if (i + 1 < px) segments.push([p, p + 1]);
        if (j + 1 < ny + 2) segments.push([p, p + px]);
      }
    }
    this.segments = segments;
    const q = new Float64Array(this.dof);
    membraneModeShape(nx, ny, 1, 1, q);
    for (let k = 0; k < q.length; k++) q[k] *= SAMPLE_AMPLITUDE;
    this.energyScale = this.energy(q, new Float64Array(this.dof));
  }

  L<T>(o: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    const { nx, ny } = this;
    let t = o.c(0);
    for (let k = 0; k < this.dof; k++) t = o.add(t, o.mul(qd[k], qd[k]));
    // Σ over edges: each node's edge to its +x and +y neighbour, plus the edges from the x = 0 and
    // y = 0 boundary rows (the neighbour beyond the last row or column is the fixed boundary, 0).
    let v = o.c(0);
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const a = q[j * nx + i];
        const right = i + 1 < nx ? o.sub(q[j * nx + i + 1], a) : a;
        const up = j + 1 < ny ? o.sub(q[(j + 1) * nx + i], a) : a;
        v = o.add(v, o.add(o.mul(right, right), o.mul(up, up)));
        if (i === 0) v = o.add(v, o.mul(a, a));
        if (j === 0) v = o.add(v, o.mul(a, a));
      }
    }
    return o.sub(o.scale(t, 0.5 * this.rho * this.h * this.h), o.scale(v, 0.5 * this.tau));
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(qd) - this.potential(q);
  }

  /**
   * q̈_ij = (c/h)² × (5-point Laplacian of q)_ij, boundary fixed at 0.
   * @param q `[batch * nx·ny]` @param qd `[batch * nx·ny]` @param qdd output `[batch * nx·ny]`
   */
  accelerations(q: Float64Array, _qd: Float64Array, qdd: Float64Array, batch: number): void {
    const { nx, ny, dof } = this;
    const k = this.tau / (this.rho * this.h * this.h);
    for (let b = 0; b < batch; b++) {
      const o = b * dof;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const c = o + j * nx + i;
          const left = i > 0 ? q[c - 1] : 0;
          const right = i + 1 < nx ? q[c + 1] : 0;
          const down = j > 0 ? q[c - nx] : 0;
          const up = j + 1 < ny ? q[c + nx] : 0;
          qdd[c] = k * (left + right + down + up - 4 * q[c]);
        }
      }
    }
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.kinetic(qd) + this.potential(q);
  }

  momentum(_q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    const m = this.rho * this.h * this.h;
    for (let k = 0; k < this.dof; k++) out[k] = m * qd[k];
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    const { nx, ny, h } = this;
    const px = nx + 2;
    for (let j = 0; j < ny + 2; j++) {
      for (let i = 0; i < px; i++) {
        const p = 3 * (j * px + i);
        const interior = i >= 1 && i <= nx && j >= 1 && j <= ny;
        out[p] = i * h;
        out[p + 1] = interior ? q[(j - 1) * nx + i - 1] : 0;
        out[p + 2] = j * h;
      }
    }
  }

  /** Exact Jacobian of point `point` (`[3 * dof]`, rows x, y, z); see `System.pointJacobian`. */
  pointJacobian(_q: ArrayLike<number>, point: number, out: Float64Array): void {
    checkPoint(point, this.pointCount);
    const { nx, ny, dof } = this;
    out.fill(0, 0, 3 * dof);
    // An interior point moves along y with its node; boundary points do not move.
    const i = point % (nx + 2);
    const j = Math.floor(point / (nx + 2));
    if (i >= 1 && i <= nx && j >= 1 && j <= ny) out[dof + (j - 1) * nx + i - 1] = 1;
  }

  /** Sum of the 2 × 2 lowest standing modes, amplitudes ~ U[−0.1, 0.1), velocity amplitudes ~ U[−0.1, 0.1)·ω_jk. */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    const { nx, ny, dof } = this;
    q.fill(0, 0, dof);
    qd.fill(0, 0, dof);
    const c = Math.sqrt(this.tau / this.rho);
    for (let kj = 1; kj <= Math.min(SAMPLE_MODES, ny); kj++) {
      for (let ki = 1; ki <= Math.min(SAMPLE_MODES, nx); ki++) {
        const a = uniform(rng, -SAMPLE_AMPLITUDE, SAMPLE_AMPLITUDE);
        const w = membraneModeFrequency(nx, ny, ki, kj, this.h, c);
        const v = uniform(rng, -SAMPLE_AMPLITUDE, SAMPLE_AMPLITUDE) * w;
        for (let j = 0; j < ny; j++) {
          const sy = Math.sin((kj * Math.PI * (j + 1)) / (ny + 1));
          for (let i = 0; i < nx; i++) {
            const s = sy * Math.sin((ki * Math.PI * (i + 1)) / (nx + 1));
            q[j * nx + i] += a * s;
            qd[j * nx + i] += v * s;
          }
        }
      }
    }
  }

  withParams(overrides: Partial<Record<string, number>>): Membrane {
    return new Membrane({ ...this.params, ...overrides });
  }

  private kinetic(qd: ArrayLike<number>): number {
    let t = 0;
    for (let k = 0; k < this.dof; k++) t += qd[k] * qd[k];
    return 0.5 * this.rho * this.h * this.h * t;
  }

  private potential(q: ArrayLike<number>): number {
    const { nx, ny } = this;
    let v = 0;
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const a = q[j * nx + i];
        const right = i + 1 < nx ? q[j * nx + i + 1] - a : a;
        const up = j + 1 < ny ? q[(j + 1) * nx + i] - a : a;
        v += right * right + up * up;
        if (i === 0) v += a * a;
        if (j === 0) v += a * a;
      }
    }
    return 0.5 * this.tau * v;
  }
}

/**
 * Angular frequency of normal mode (j, k) of an nx × ny membrane:
 * ω_jk = (2c/h) √(sin²(jπ/(2(nx+1))) + sin²(kπ/(2(ny+1)))).
 * @param j mode number along x, 1 … nx @param k mode number along z, 1 … ny
 * @param h spacing @param c wave speed √(τ/ρ)
 */
export function membraneModeFrequency(
  nx: number,
  ny: number,
  j: number,
  k: number,
  h: number,
  c: number,
): number {
  const sx = Math.sin((j * Math.PI) / (2 * (nx + 1)));
  const sy = Math.sin((k * Math.PI) / (2 * (ny + 1)));
  return ((2 * c) / h) * Math.sqrt(sx * sx + sy * sy);
}

/**
 * Shape of normal mode (j, k): φ[l·nx + i] = sin(jπ(i+1)/(nx+1)) · sin(kπ(l+1)/(ny+1)), in the row-major q
 * layout of {@link Membrane}. Modes are orthogonal; ‖φ‖² = (nx+1)(ny+1)/4.
 * @param out `[nx * ny]`, overwritten @returns `out`
 */
export function membraneModeShape(
  nx: number,
  ny: number,
  j: number,
  k: number,
  out: Float64Array,
): Float64Array {
  for (let l = 0; l < ny; l++) {
    const sy = Math.sin((k * Math.PI * (l + 1)) / (ny + 1));
    for (let i = 0; i < nx; i++) out[l * nx + i] = sy * Math.sin((j * Math.PI * (i + 1)) / (nx + 1));
  }
  return out;
}
