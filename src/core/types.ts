/**
 * Core contracts of the engine. Every module in `src/` builds on these few types:
 * a {@link System} describes the physics, an {@link Engine} produces accelerations for a batch of
 * states of one system, an {@link Integrator} advances a batch by one fixed step.
 *
 * Conventions used everywhere:
 * - State is batched and flat, float64: `q`, `qd`: `[batch * dof]`, row-major (state b occupies
 *   `[b*dof, (b+1)*dof)`).
 * - L = L(q, q̇) has no explicit time dependence; external generalized forces Q(t, q, q̇) may (see
 *   {@link Forces}): H_vv q̈ = ∂L/∂q − H_vq q̇ + Q.
 * - 3D points from forward kinematics are `[pointCount * 3]`, y up, gravity along −y, planar
 *   systems move in the x–y plane.
 */

/** Numeric parameters of a system (masses, lengths, g, …), keyed by name. */
export type Params = Readonly<Record<string, number>>;

/**
 * Scalar arithmetic over a field T. A Lagrangian written against `Ops<T>` is evaluated on plain
 * float64 numbers (`T = number`) and on jets that carry exact first and second derivatives.
 */
export interface Ops<T> {
  /** Lift a constant. */
  c(x: number): T;
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  neg(a: T): T;
  /** a * k for a plain number k. */
  scale(a: T, k: number): T;
  /** a^p for a plain real exponent p. */
  pow(a: T, p: number): T;
  sqrt(a: T): T;
  exp(a: T): T;
  log(a: T): T;
  sin(a: T): T;
  cos(a: T): T;
  tanh(a: T): T;
}

/** A random source returning uniform numbers in [0, 1). Seeded implementations live in `math/random`. */
export type Rng = () => number;

/**
 * A mechanical system given by its Lagrangian. Implementations are immutable; `withParams` returns a
 * new instance.
 */
export interface System {
  /** Registry id, kebab-case, e.g. `double-pendulum`. */
  readonly id: string;
  /** Human-readable name. */
  readonly name: string;
  /** Degrees of freedom n. */
  readonly dof: number;
  /** Parameter values in use (defaults merged with overrides). */
  readonly params: Params;
  /** `angles[i]` is true when q_i is an angle (periodic, wrapped into [−π, π) before a network). */
  readonly angles: readonly boolean[];
  /** Number of 3D points produced by {@link System.positions} (pivots/fixed ends included). */
  readonly pointCount: number;
  /**
   * Pairs of point indices joined by a rod/segment when drawn, e.g. `[[0,1],[1,2]]`.
   */
  readonly segments: readonly (readonly [number, number])[];
  /** Natural energy scale for relative energy errors (29.4 for the paper's double pendulum). */
  readonly energyScale: number;

  /** The Lagrangian over any scalar field; the single source of truth for the `lagrangian` engine. */
  L<T>(ops: Ops<T>, q: readonly T[], qd: readonly T[]): T;
  /** L(q, q̇) in float64 for one state. */
  lagrangian(q: ArrayLike<number>, qd: ArrayLike<number>): number;
  /**
   * Closed-form accelerations for a batch.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd output `[batch * dof]`
   */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;
  /** Total energy E = q̇·∂L/∂q̇ − L of one state (float64, closed form). */
  energy(q: ArrayLike<number>, qd: ArrayLike<number>): number;
  /** Canonical momentum p = ∂L/∂q̇ of one state, written to `out` `[dof]`. */
  momentum(q: ArrayLike<number>, qd: ArrayLike<number>, out: Float64Array): void;
  /** Forward kinematics of one state: `out` is `[pointCount * 3]`. */
  positions(q: ArrayLike<number>, out: Float64Array): void;
  /**
   * Exact Jacobian of drawn point `point` with respect to q at one state: `out[r * dof + j] = ∂x_r/∂q_j`,
   * `[3 * dof]` row-major (rows x, y, z). Absent when the system cannot say (forces on points are then
   * refused; generalized forces still work). A force F on the point is the generalized force `Jᵀ F`.
   */
  pointJacobian?(q: ArrayLike<number>, point: number, out: Float64Array): void;
  /** Draw one initial state from the system's default distribution into `q`, `qd` (`[dof]`). */
  sample(rng: Rng, q: Float64Array, qd: Float64Array): void;
  /** The same system with some parameters replaced. Unknown keys throw. */
  withParams(overrides: Partial<Record<string, number>>): System;
}

/**
 * Batched accelerations: reads `q`, `qd` `[batch * dof]`, writes `qdd` `[batch * dof]`. `t` is the time
 * of the stage (integrators pass it; it matters only under time-dependent forces).
 */
export type AccelerationFn = (
  q: Float64Array,
  qd: Float64Array,
  qdd: Float64Array,
  batch: number,
  t?: number,
) => void;

/**
 * External generalized forces on a batch of `count` copies of a system, Q(t, q, q̇) `[count * dof]`, in
 * the system's physical units (a learned engine scales them into its own, see `massScale`):
 *
 *     Q = constant − C q̇ + callback(t, q, q̇)
 *
 * `constant` and `damping` are the linear part a GPU-resident route can apply on the device with no
 * readback; a callback is evaluated on the CPU at every integrator stage. Built with
 * `createForces` (src/forces/).
 */
export interface Forces {
  readonly dof: number;
  /** Copies the per-copy arrays describe. */
  readonly count: number;
  /** Rayleigh coefficients C (diagonal, `[dof]`, ≥ 0), or null for none. */
  readonly damping: Float64Array | null;
  /** A force held constant over the step, `[count * dof]`, or null for none. */
  readonly constant: Float64Array | null;
  /** Whether a callback adds a Q that depends on t or the state other than through damping. */
  readonly varying: boolean;
  /** Whether Q is zero everywhere (no constant, damping or callback). */
  readonly zero: boolean;
  /**
   * Q(t, q, q̇) of `batch` states (copies `first … first + batch − 1`) into `out` `[batch * dof]`,
   * overwriting it. Allocates nothing.
   */
  evaluate(
    t: number,
    q: Float64Array,
    qd: Float64Array,
    out: Float64Array,
    batch: number,
    first?: number,
  ): void;
}

/**
 * Whether an engine takes external forces: null when it does, otherwise why not (the black-box baseline
 * has no mass matrix, so a force has no defined effect on it).
 */
export type ForceSupport = string | null;

/** Identifier of a fixed-step integrator. */
export type IntegratorId = 'symplectic-euler' | 'leapfrog' | 'rk4' | 'dopri5';

/**
 * A one-step method for q̈ = f(q, q̇) over a batch. Instances own scratch buffers (grown on demand,
 * then reused), so a hot loop of `step` calls allocates nothing.
 */
export interface Integrator {
  readonly id: IntegratorId;
  /** Human-readable, exact name of the method. */
  readonly name: string;
  /** Global order of accuracy. */
  readonly order: number;
  /** Whether the method is symplectic (for separable Lagrangians; see docs/integrators.md). */
  readonly symplectic: boolean;
  /** Whether the method adapts internal substeps to a tolerance. */
  readonly adaptive: boolean;
  /**
   * Advance the batch in place by `dt`. `q`, `qd`: `[batch * dof]`. `t0` is the time at the start of the
   * step; every stage calls `f` with its own time (t0, t0 + c_i dt).
   */
  step(
    f: AccelerationFn,
    q: Float64Array,
    qd: Float64Array,
    dof: number,
    batch: number,
    dt: number,
    t0?: number,
  ): void;
}

/**
 * How an engine computes a batch: the route, the TF.js backend under it and the arithmetic precision.
 * Two runs with the same state, `dt`, step count and route give bitwise-identical trajectories.
 */
export interface EngineRoute {
  /** Route name (`js`, `wasm`, `webgl`, `webgl-fused`, `cpu`, …). */
  readonly route: string;
  /** The TF.js backend doing the arithmetic, or `js` for plain JavaScript. */
  readonly backend: string;
  /** Precision of the network's arithmetic on this route. */
  readonly precision: 'float64' | 'float32' | 'float16';
}

/** Identifier of an engine kind. */
export type EngineId = 'analytic' | 'lagrangian' | 'lnn' | 'baseline' | 'lgn' | 'cannon' | (string & {});

/**
 * Produces accelerations for batches of states of one system and advances them. CPU engines advance
 * with `integrator.step(this.accelerations, …)`; a learned engine may override `step` to keep the state
 * on the GPU across integrator stages.
 */
export interface Engine {
  readonly id: EngineId;
  readonly system: System;
  /**
   * Batched q̈ (see {@link AccelerationFn}); with `forces`, q̈ of the forced motion at time `t`:
   * H_vv q̈ = ∂L/∂q − H_vq q̇ + Q(t, q, q̇).
   * @throws Error when `forces` are given to an engine whose {@link Engine.forceSupport} is not null
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t?: number,
    forces?: Forces | null,
  ): void;
  /**
   * Advance `batch` states in place by `dt` with `integrator`, from time `t0` (default 0), under
   * `forces` when given (and not zero).
   * @throws Error when `forces` are given to an engine whose {@link Engine.forceSupport} is not null
   */
  step(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    t0?: number,
    forces?: Forces | null,
  ): void;
  /** Whether this engine takes external forces (null) or why not; absent: it does not. */
  readonly forceSupport?: ForceSupport;
  /** Energy of one state as this engine sees it (learned engines: the learned energy). */
  energy?(q: ArrayLike<number>, qd: ArrayLike<number>): number;
  /** The model a learned engine runs (its metadata says what it was trained on); absent on exact engines. */
  readonly model?: { readonly metadata: { readonly kind: string; readonly system: { readonly id: string } } };
  /**
   * The route a step of `batch` states takes now, for recordings and snapshots to replay with. Absent on
   * engines with one way to compute (the exact engines: float64 JS).
   */
  describeRoute?(batch: number): EngineRoute;
  /**
   * Take exactly `route` from now on (as recorded by {@link Engine.describeRoute}), so a replay gives the
   * recorded numbers bit for bit.
   * @throws Error naming the route and what this engine offers when it cannot take it
   */
  pinRoute?(route: EngineRoute): void;
  /** Free every resource (tensors, GPU buffers). Idempotent. */
  dispose(): void;
}
