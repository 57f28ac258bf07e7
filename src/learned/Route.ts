import type * as tf from '@tensorflow/tfjs-core';
import type { EngineRoute, Integrator, System } from '../core/types.js';
import type { GpuLinearForce, GpuStepper } from '../gpu/GpuStepper.js';
import type { LoadedModel } from '../model/metadata.js';
import type { Accelerations } from '../nn/lnn.js';
import type { NetworkSpec } from '../nn/mlp.js';
import type { StateGuard } from '../nn/stateGuard.js';
import type { BackendName } from './backend.js';
import type { EngineWeights, WeightSet } from './weights.js';

/**
 * How a learned engine evaluates q̈ and steps (one file per route under `src/learned/routes/`):
 * - `js`: plain JS in float64, no TF.js (`routes/js.ts`);
 * - `webgl`, `wasm`, `cpu`: TF.js on the engine's backend (`routes/tensor.ts`; on webgl by default
 *   resident across the stages of `rk4` / `symplectic-euler`, `routes/resident.ts`);
 * - `wasm` on an engine whose backend is `webgl` or `cpu`: TF.js on the wasm backend next to it
 *   (`routes/sideWasm.ts`);
 * - `webgl-fused`: `lnn` on webgl, fused WebGL programs with RK4 resident on the GPU
 *   (`routes/webglFused.ts`).
 */
export type RouteName = 'js' | 'webgl-fused' | 'webgl' | 'wasm' | 'cpu';

/** Every {@link RouteName}. */
export const ROUTE_NAMES: readonly RouteName[] = ['js', 'webgl-fused', 'webgl', 'wasm', 'cpu'];

/** Precision of a route's network arithmetic (see `EngineRoute`). */
export type RoutePrecision = EngineRoute['precision'];

/** What a route's whole-step `advance` did: per-state flags `[batch]` and q̈ evaluations per state. */
export interface RouteAdvance {
  flags: Uint8Array;
  /** q̈ evaluations per state over the advance (stages × substeps). */
  evaluations: number;
}

/**
 * The linear part of a generalized force, already in the model's units (multiplied by the mass scale
 * α), for a GPU-resident `advance` to apply on the device at every stage: rhs += constant − damping ⊙ q̇.
 * `constant`: α·Q_c `[batch * dof]` (the buffer may be longer; read the first batch·dof), held over the
 * advance, or null; `damping`: α·C (diagonal Rayleigh coefficients) `[dof]`, or null.
 */
export type LinearForce = GpuLinearForce;

/**
 * One way of computing q̈ (and, for the GPU-resident routes, whole steps). The engine decides the
 * route once per call and runs every stage of that call on it.
 */
export interface Route {
  readonly name: RouteName;
  /** The TF.js backend doing the arithmetic, or `js`. */
  readonly backend: BackendName;
  /** null when the route can run here, otherwise why not. */
  available(): string | null;
  /** Precision of the network's arithmetic on this route. */
  precision(): RoutePrecision;
  /** Run `fn` with the route's backend (and weights) active. Calls inside `fn` do not switch again. */
  enter<T>(fn: () => T): T;
  /**
   * q̈ of `batch` states into `qdd`, per-state SolveFlags into `flags`; runs inside {@link Route.enter}.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd `[batch * dof]` @param flags `[batch]`
   * @param force a generalized force in the model's units (α·Q, float64) added to the right-hand side
   *   before the solve, `[batch * dof]`; null: none (the unforced code path)
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void;
  /**
   * Advance `substeps` steps of `dt` in place with the state kept on the route's device (the resident
   * and webgl-fused routes), inside {@link Route.enter}; null when `integrator` has no form here, and the
   * engine then steps with `integrator.step` over {@link Route.accelerations}. `force`: the linear part of
   * an external force, applied on the device at every stage (the engine never passes a force that
   * depends on anything else: a callback steps stage by stage); null: none.
   */
  advance?(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    substeps: number,
    force: LinearForce | null,
  ): RouteAdvance | null;
  /** Free what the route holds. Idempotent. */
  dispose?(): void;
}

/**
 * The computations specific to one kind of model (`lnn`, `baseline`, `lgn`), which the routes run: the
 * engines supply these instead of overriding engine methods.
 */
export interface EngineKernels {
  /**
   * Float64 q̈ in plain JS (the `js` route); absent: the float64 reference evaluator of the model.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd `[batch * dof]` @param flags `[batch]`
   * @param force α·Q added to the right-hand side `[batch * dof]`, or null (see `Route.accelerations`)
   */
  js?(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void;
  /**
   * q̈ through TF.js on the active backend with `weights`, one readback; writes per-state flags.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd `[batch * dof]` @param flags `[batch]`
   * @param force α·Q added to the float64 right-hand side `[batch * dof]`, or null
   */
  tensor(
    weights: WeightSet,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
    force: Float64Array | null,
  ): void;
  /**
   * q̈ `[batch, dof]` and flags `[batch]` of tensor states `q`, `qd` `[batch, dof]` entirely on the
   * backend (the resident route); absent when the engine has no such path. `force` `[batch, dof]` (α·Q
   * on the backend) is added to the right-hand side; null or absent: none.
   */
  resident?(weights: WeightSet, q: tf.Tensor2D, qd: tf.Tensor2D, force?: tf.Tensor2D | null): Accelerations;
  /** The fused GPU stepper of the `webgl-fused` route, created on the webgl backend; absent: none. */
  gpuStepper?(): GpuStepper;
  /** Threads a tensor call of `batch` states on `route` runs on. @default 1 */
  threads?(route: RouteName, batch: number): number;
}

/** What a route is built from: the engine's model, backend, weights, kernels and policies. */
export interface RouteContext {
  readonly system: System;
  readonly model: LoadedModel;
  readonly spec: NetworkSpec;
  /** The engine's backend (after fallbacks). */
  readonly backend: BackendName;
  readonly kernels: EngineKernels;
  readonly weights: EngineWeights;
  /** The failed-state policy (see `StateGuard`). */
  readonly guard: StateGuard;
  /** Whether the backend route keeps the state on the backend across stages (`resident`). */
  readonly resident: boolean;
  /** Whether the wasm backend is ready next to a webgl or cpu engine, and why not. */
  readonly wasmSide: { readonly ready: boolean; readonly problem?: string };
  /** Which state coordinates the network wraps as angles `[dof]`. */
  readonly wrapFlags: readonly boolean[];
  /** The diagonal shift magnitude of the solve, or undefined for the relative default. */
  readonly epsilon: number | undefined;
}

/** A route's constructor: one entry of the route table (`routes/index.ts`). */
export type RouteFactory = (ctx: RouteContext) => Route;

/** Which state coordinates the network of `model` wraps as angles `[dof]`. */
export function angleFlags(model: LoadedModel, dof: number): readonly boolean[] {
  const m = model.metadata;
  return m.kind === 'lgn' ? new Array<boolean>(dof).fill(m.angles[0]) : m.angles;
}

/** The diagonal shift magnitude in use: the `epsilon` option, the model's, or undefined (relative). */
export function epsilonOf(model: LoadedModel, epsilon: number | undefined): number | undefined {
  return epsilon ?? model.metadata.solver?.hvvEpsilon;
}
