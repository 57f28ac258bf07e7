import type { Ops, Params, Rng, System } from '../core/types.js';
import { numberOps } from '../math/numberOps.js';
import { uniform } from '../math/random.js';
import { checkPoint } from '../systems/kinematics.js';
import { type ParamSpec, resolveParams } from '../systems/params.js';
import { EulerLagrangeSolver } from './EulerLagrangeSolver.js';

/**
 * A Lagrangian with parameters, written once against {@link Ops}. `q`, `qd`: `[dof]`.
 * @example (o, q, qd, p) => o.sub(o.scale(o.mul(qd[0], qd[0]), 0.5 * p.m), o.scale(o.mul(q[0], q[0]), 0.5 * p.k))
 */
export type ParametricLagrangian = <T>(ops: Ops<T>, q: readonly T[], qd: readonly T[], params: Params) => T;

/** Something known for the defaults of the parameters, or computed from them. */
type ParamDependent<V> = V | ((params: Params) => V);

/**
 * Description of a system for {@link defineSystem}: only `id`, `dof` and `L` are required; q̈, energy and
 * momentum are derived exactly from L.
 */
export interface SystemDefinition {
  /** Registry-style id, kebab-case. */
  id: string;
  /** Human-readable name. @default the id */
  name?: string;
  /** Degrees of freedom, or how they follow from the parameters (e.g. `(p) => p.links`). */
  dof: ParamDependent<number>;
  /**
   * Parameters: plain defaults (`{ k: 4, m: 1 }`, any finite value accepted) or full declarations with
   * documentation and ranges. @default {}
   */
  params?: Readonly<Record<string, number>> | readonly ParamSpec[];
  /** Which coordinates are angles. @default all false */
  angles?: ParamDependent<readonly boolean[]>;
  /** The Lagrangian. */
  L: ParametricLagrangian;
  /**
   * Forward kinematics of one state into `out` `[pointCount * 3]`.
   * @default point i at (i, q_i, 0), one per coordinate
   */
  positions?: (q: ArrayLike<number>, out: Float64Array, params: Params) => void;
  /**
   * Exact Jacobian of point `point` of `positions` into `out` `[3 * dof]` (rows x, y, z), so forces on
   * points can act on the system. Without it, a system with its own `positions` takes generalized forces
   * only. The default layout (point i at (i, q_i, 0)) has its Jacobian built in.
   */
  pointJacobian?: (q: ArrayLike<number>, point: number, out: Float64Array, params: Params) => void;
  /** Number of points written by `positions`. @default dof */
  pointCount?: ParamDependent<number>;
  /** Pairs of point indices drawn as rods. @default [] */
  segments?: ParamDependent<readonly (readonly [number, number])[]>;
  /**
   * Initial-state sampler writing `q`, `qd` `[dof]`.
   * @default q_i ~ U[−π, π) for angles and U[−1, 1) otherwise, q̇_i ~ U[−1, 1)
   */
  sample?: (rng: Rng, q: Float64Array, qd: Float64Array, params: Params) => void;
  /** Natural energy scale for relative energy errors. @default 1 */
  energyScale?: ParamDependent<number>;
}

function resolve<V>(v: ParamDependent<V>, params: Params): V {
  return typeof v === 'function' ? (v as (p: Params) => V)(params) : v;
}

function specsOf(params: SystemDefinition['params']): readonly ParamSpec[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params as readonly ParamSpec[];
  return Object.entries(params as Record<string, number>).map(([name, value]) => ({
    name,
    default: value,
    doc: name,
  }));
}

/**
 * A {@link System} defined only by its Lagrangian: accelerations, energy and momentum come from the
 * exact Euler–Lagrange solver ({@link EulerLagrangeSolver}). Built by {@link defineSystem}.
 */
export class LagrangianSystem implements System {
  readonly id: string;
  readonly name: string;
  readonly dof: number;
  readonly params: Params;
  readonly angles: readonly boolean[];
  readonly pointCount: number;
  /**
   * Exact Jacobian of a point (`[3 * dof]`, see `System.pointJacobian`); undefined when the definition
   * has its own `positions` without a `pointJacobian`.
   */
  readonly pointJacobian: ((q: ArrayLike<number>, point: number, out: Float64Array) => void) | undefined;
  readonly segments: readonly (readonly [number, number])[];
  readonly energyScale: number;
  /** The definition this system was built from. */
  readonly definition: SystemDefinition;
  private readonly solver: EulerLagrangeSolver;
  private readonly qs: number[];
  private readonly qds: number[];

  /**
   * @param definition the system's description
   * @param overrides parameter values replacing the definition's defaults
   * @throws Error for an invalid definition, unknown parameter keys or invalid values
   */
  constructor(definition: SystemDefinition, overrides: Partial<Record<string, number>> = {}) {
    const def = definition;
    if (typeof def.id !== 'string' || def.id.length === 0) {
      throw new Error('defineSystem: `id` must be a non-empty string.');
    }
    if (typeof def.L !== 'function') throw new Error(`defineSystem('${def.id}'): \`L\` must be a function.`);
    this.definition = def;
    this.id = def.id;
    this.name = def.name ?? def.id;
    this.params = resolveParams(def.id, specsOf(def.params), overrides);
    const p = this.params;
    this.dof = resolve(def.dof, p);
    if (!Number.isInteger(this.dof) || this.dof < 1) {
      throw new Error(`defineSystem('${def.id}'): dof must be a positive integer, got ${this.dof}.`);
    }
    const n = this.dof;
    this.angles = def.angles === undefined ? Array.from({ length: n }, () => false) : resolve(def.angles, p);
    if (this.angles.length !== n) {
      throw new Error(
        `defineSystem('${def.id}'): angles has ${this.angles.length} entries, expected dof = ${n}.`,
      );
    }
    this.pointCount = def.pointCount === undefined ? n : resolve(def.pointCount, p);
    this.pointJacobian = this.jacobian();
    this.segments = def.segments === undefined ? [] : resolve(def.segments, p);
    this.energyScale = def.energyScale === undefined ? 1 : resolve(def.energyScale, p);
    const L = def.L;
    this.solver = new EulerLagrangeSolver((o, q, qd) => L(o, q, qd, p), n);
    this.qs = new Array(n).fill(0);
    this.qds = new Array(n).fill(0);
  }

  L<T>(ops: Ops<T>, q: readonly T[], qd: readonly T[]): T {
    return this.definition.L(ops, q, qd, this.params);
  }

  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    for (let i = 0; i < this.dof; i++) {
      this.qs[i] = q[i];
      this.qds[i] = qd[i];
    }
    return this.definition.L(numberOps, this.qs, this.qds, this.params);
  }

  /**
   * Exact q̈ from the Euler–Lagrange equation.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd output `[batch * dof]`
   * @throws Error where ∂²L/∂q̇² is singular
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.solver.accelerations(q, qd, qdd, batch);
  }

  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number {
    return this.solver.energy(q, qd);
  }

  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void {
    this.solver.momentum(q, qd, out);
  }

  positions(q: ArrayLike<number>, out: Float64Array): void {
    if (this.definition.positions) {
      this.definition.positions(q, out, this.params);
      return;
    }
    for (let i = 0; i < this.dof; i++) {
      out[3 * i] = i;
      out[3 * i + 1] = q[i];
      out[3 * i + 2] = 0;
    }
  }

  /** The point Jacobian of the definition (see {@link LagrangianSystem.pointJacobian}). */
  private jacobian(): ((q: ArrayLike<number>, point: number, out: Float64Array) => void) | undefined {
    const def = this.definition;
    if (def.pointJacobian !== undefined) {
      const jac = def.pointJacobian;
      return (q, point, out) => {
        checkPoint(point, this.pointCount);
        jac(q, point, out, this.params);
      };
    }
    if (def.positions !== undefined) return undefined;
    return (_q, point, out) => {
      checkPoint(point, this.pointCount);
      out.fill(0, 0, 3 * this.dof);
      out[this.dof + point] = 1;
    };
  }

  sample(rng: Rng, q: Float64Array, qd: Float64Array): void {
    if (this.definition.sample) {
      this.definition.sample(rng, q, qd, this.params);
      return;
    }
    for (let i = 0; i < this.dof; i++) {
      q[i] = this.angles[i] ? uniform(rng, -Math.PI, Math.PI) : uniform(rng, -1, 1);
      qd[i] = uniform(rng, -1, 1);
    }
  }

  withParams(overrides: Partial<Record<string, number>>): LagrangianSystem {
    return new LagrangianSystem(this.definition, { ...this.params, ...overrides });
  }
}
