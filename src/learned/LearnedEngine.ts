import * as tf from '@tensorflow/tfjs-core';
import type { AccelerationFn, Engine, EngineId, Integrator, System } from '../core/types.js';
import { RungeKutta4 } from '../integrators/RungeKutta4.js';
import { checkModelForSystem } from '../model/checkSystem.js';
import { loadModel, type ModelSource } from '../model/loadModel.js';
import { ModelFormatError } from '../model/ModelFormatError.js';
import type { LoadedModel, ModelKind } from '../model/metadata.js';
import { referenceAccelerations, wrapAngle } from '../model/reference.js';
import {
  disposeFusedWeights,
  type FusedWeights,
  prepareFusedWeights,
  registerFusedKernels,
} from '../nn/wasmKernels.js';
import type { Accelerations } from '../nn/lnn.js';
import {
  disposeParams,
  foldScales,
  type MlpParams,
  type NetworkSpec,
  paramsFromModel,
  specFromModel,
  wrapAngles,
} from '../nn/mlp.js';
import { SolveFlag } from '../nn/solve64.js';
import type { GpuStepper as FusedStepper } from '../gpu/GpuStepper.js';
import { StateGuard } from '../nn/stateGuard.js';
import { tidy } from '../nn/tidy.js';
import {
  type BackendName,
  type BackendOptions,
  backendReady,
  defaultBackend,
  ensureBackend,
  initBackend,
  initSideBackend,
} from './backend.js';

/**
 * How a learned engine evaluates q̈ and steps:
 * - `js`: plain JS, no TF.js (the fused allocation-free evaluator for `lnn`, the float64 reference for
 *   the others); fastest for a handful of states;
 * - `webgl-fused`: `lnn` on webgl only — fused WebGL programs (`WebGLLnnStepper`, 3H − 1 passes per q̈) with
 *   RK4 stages and substeps resident on the GPU and one readback per `advance`;
 * - `webgl`, `wasm`, `cpu`: TF.js on that backend (the engine's backend): exact tangents on tensors, and
 *   either a float64 solve in JS after one readback per q̈ or, when resident, the whole step on the backend;
 * - `wasm` on an engine whose backend is `webgl` or `cpu`: the same on the wasm backend, with a second copy of
 *   the weights there (uploaded on first use). TF.js has one active backend, so the engine makes wasm active
 *   for each call (an `advance` switches once) and then restores the backend that was active before.
 */
export type RouteName = 'js' | 'webgl-fused' | 'webgl' | 'wasm' | 'cpu';

/** Every {@link RouteName}. */
export const ROUTE_NAMES: readonly RouteName[] = ['js', 'webgl-fused', 'webgl', 'wasm', 'cpu'];

/** One timing of {@link LearnedEngine.calibrate}. */
export interface RouteTiming {
  route: RouteName;
  /** States advanced together. */
  batch: number;
  /** Milliseconds per `advance` call (RK4, {@link CALIBRATION_SUBSTEPS} substeps of 1/120 s). */
  ms: number;
  /** State-steps per second: batch × substeps / (ms / 1000). */
  stateStepsPerSecond: number;
}

/**
 * Engine backends that also offer the `wasm` route (when the wasm backend can be initialised): on software
 * WebGL (SwiftShader) or the cpu backend, the fused wasm kernels are several times faster for batches of
 * more than a few states.
 */
const WASM_SIDE_BACKENDS: readonly BackendName[] = ['webgl', 'cpu'];

/** A route's cost model from {@link LearnedEngine.calibrate}: ms per `advance` = fixed + perState · batch. */
interface RouteCost {
  fixed: number;
  perState: number;
}

/** The weights of one TF.js backend: folded float32 tensors and, where available, fused-kernel weights. */
interface WeightSet {
  folded: MlpParams | null;
  fused: FusedWeights | null;
}

/** Substeps per timed `advance` call in {@link LearnedEngine.calibrate} (one 60 Hz frame at dt = 1/120). */
export const CALIBRATION_SUBSTEPS = 2;

/** Options shared by the learned engines (`lnn`, `baseline`, `lgn`). */
export interface LearnedEngineOptions extends BackendOptions {
  /**
   * Where q̈ is computed (see {@link RouteName}). `'auto'` chooses per batch size from timings taken
   * when the engine is created ({@link LearnedEngine.calibrate}); a route name forces that route (it must
   * be available: `js` always, the engine's backend, `webgl-fused` for `lnn` on webgl, `wasm` on webgl or
   * cpu when the wasm backend initialises). With `'auto'` or `'wasm'`, an engine on webgl or cpu
   * initialises the wasm backend when it loads (see `wasmPaths`). The setting can be changed later
   * through {@link LearnedEngine.route}.
   * @default 'auto'
   */
  route?: 'auto' | RouteName;
  /**
   * With `route: 'auto'`: calls with at most this many states take the `js` route. A number fixes the
   * threshold and skips the timing (no `webgl-fused`); `'auto'` sets it by timing (see
   * {@link LearnedEngine.jsBelow}).
   * @default 'auto'
   */
  jsBelow?: number | 'auto';
  /**
   * Magnitude of the diagonal shift for an indefinite H_vv.
   * @default the model's solver.hvvEpsilon, else relative (1e-3 · mean |diag H_vv|)
   */
  epsilon?: number;
  /**
   * Keep the state on the accelerator across the stages (and substeps) of `rk4` and `symplectic-euler`
   * steps, reading back once per step. Other integrators use per-stage readback.
   * @default true on webgl, false elsewhere (reading back is free on wasm/cpu and the float64 solve is exact)
   */
  resident?: boolean;
  /**
   * Threads evaluating large batches on wasm (the wasm backend, or the `wasm` route of a webgl or cpu
   * engine): worker threads with their own TF.js wasm instance, driven synchronously through shared
   * memory. Node worker threads, or in a browser module Web Workers, which need a cross-origin-isolated
   * page (for SharedArrayBuffer) and `wasmPaths`. `'auto'` = the machine's available parallelism (one
   * thread, with a warning, where workers cannot run). Used by the `lnn` engine.
   * @default 1
   */
  threads?: number | 'auto';
  /** With `threads` > 1: batches of at least this many states are split across the threads. @default 64 */
  parallelAbove?: number;
  /** Called after every step / acceleration call with its {@link EngineReport}. @default undefined */
  onReport?: (report: EngineReport) => void;
}

/** What the last step (or `accelerations` call) found, per state and in total. */
export interface EngineReport {
  /** States in the last call. */
  batch: number;
  /**
   * `[batch]` worst SolveFlag over the stages of the last step: 0 ok, 1 H_vv regularised, 2 failed (q̈ = 0:
   * a non-finite coordinate, a network input beyond the float32 range, |q̇_i| ≥ 1 under `rapidity`, a
   * non-finite q̈ or no finite solve; see `StateGuard`).
   */
  flags: Uint8Array;
  /** States of the last step with flag ≥ 1. */
  regularised: number;
  /** States of the last step with flag 2. */
  failed: number;
  /**
   * Counts since the engine was created: q̈ evaluations (states × stages) and flagged states (counted
   * per call, or per step on the resident path).
   */
  totals: { evaluations: number; regularised: number; failed: number };
  /**
   * Where q̈ was computed: `tensor` (one readback per q̈), `resident` (whole steps on the backend, one
   * readback per step or advance), `js`.
   */
  path: 'tensor' | 'resident' | 'js';
  /** The route of the last call (see {@link RouteName}). */
  route: RouteName;
  /**
   * The backend of the last call: the engine's backend, or `wasm` on the `wasm` route of an engine on
   * another backend.
   */
  backend: BackendName;
  /** Threads that computed the last call: 1, or the worker pool's size when it split the batch. */
  threads: number;
}

/** What {@link LearnedEngine.open} hands to an engine's constructor: the checked model and the backend. */
export interface LearnedEngineInit {
  system: System;
  /** The loaded model, already checked against `system`. */
  model: LoadedModel;
  /** The backend actually in use (after fallbacks). */
  backend: BackendName;
  /** Notices about the model/system pairing and backend fallbacks. */
  warnings: string[];
  options: LearnedEngineOptions;
  /**
   * For an engine on webgl or cpu: whether the wasm backend is ready for the `wasm` route, or why not.
   * Undefined when it was not tried.
   */
  wasm?: { ready: boolean; problem?: string };
}

/** The end of the last queued {@link LearnedEngine.open}: loads run one after another. */
let openQueue: Promise<unknown> = Promise.resolve();

/**
 * Shared machinery of the learned engines: loading (model, system check, backend), the network's
 * weights as folded float32 tensors (plus fused-kernel weights for Lagrangian models), backend
 * switching, route selection (plain JS, TF.js on the backend, fused WebGL) per batch size, per-state
 * solve reports, scratch buffers and an accelerator-resident RK4 / symplectic Euler step. Subclasses
 * supply the q̈ computations specific to their kind of model. Whatever the route, every q̈ is finite: a
 * state the network cannot evaluate (non-finite, a network input beyond float32, |q̇_i| ≥ 1 under
 * `rapidity`, a non-finite q̈ or a failed solve) gets q̈ = 0 and flag failed (`StateGuard`).
 */
export type { FusedStepper };

export abstract class LearnedEngine implements Engine {
  abstract readonly id: EngineId;
  readonly system: System;
  readonly model: LoadedModel;
  /** The backend actually in use (after fallbacks). */
  readonly backend: BackendName;
  /** Notices about the model/system pairing and backend fallbacks. */
  readonly warnings: readonly string[];
  /** The last step's report (see {@link EngineReport}); `route` names the route it took. */
  readonly lastReport: EngineReport;
  /** `accelerations` bound to this engine, for integrators. */
  readonly accelerationFn: AccelerationFn;
  protected readonly options: LearnedEngineOptions;
  /** The network's activation, angle flags and scales. */
  protected readonly spec: NetworkSpec;
  /** The weights on the engine's backend. */
  private readonly home: WeightSet;
  /** The weights on wasm for the `wasm` route of an engine on another backend: created on first use. */
  private wasmWeights: WeightSet | null = null;
  /** The weight set of the backend now computing (`home`, or `wasmWeights` inside the `wasm` route). */
  private weights: WeightSet;
  /** Whether this engine (on webgl or cpu) can take the `wasm` route, and why not when it cannot. */
  private readonly wasmSide: { ready: boolean; problem?: string };
  protected disposed = false;
  /**
   * With `route` `'auto'`: calls with at most this many states take the `js` route. Set by
   * {@link LearnedEngine.calibrate}; visible so that apps can show it, assignable to override it.
   */
  jsBelow: number;
  /**
   * With `route` `'auto'`, above `jsBelow`: calls with at most this many states may take `webgl-fused`
   * (0 when that route is unavailable or never the cheapest). After {@link LearnedEngine.calibrate} it is the
   * largest batch (capped) where `webgl-fused` is the cheapest route other than `js`, and a call up to it
   * takes whichever of `webgl-fused`, `wasm` and the backend is cheapest; without timings such a call takes
   * `webgl-fused`. Assignable.
   */
  webglFusedBelow = 0;
  /** The timings behind the automatic choice (empty until {@link LearnedEngine.calibrate} runs). */
  routeTimings: RouteTiming[] = [];
  /** True while a step runs: stage flags are merged instead of replaced. */
  private merging = false;
  private readonly resident: boolean;
  private routeSetting: 'auto' | RouteName = 'auto';
  /** Route forced for the duration of a calibration timing. */
  private forced: RouteName | null = null;
  private calibrating = false;
  /** The fused GPU stepper: undefined until first asked for, null when the engine has none. */
  private stepper: FusedStepper | null | undefined;
  /** Cost model per timed route (empty until {@link LearnedEngine.calibrate} runs). */
  private costs: Partial<Record<RouteName, RouteCost>> = {};
  /** The cap of the calibrated ranges of `js` and `webgl-fused`. */
  private cap = 256;
  /** The failed-state policy applied after every q̈ call, on every route (see `StateGuard`). */
  private readonly guard: StateGuard;

  /**
   * Load a model, check it against `system` and `kind`, initialise the backend, build the engine with
   * `create`, run its {@link LearnedEngine.start} and finish with {@link LearnedEngine.ready}. The
   * engines' static `load` methods call this. Loads run one at a time in a page or process: a load
   * may initialise a TF.js backend asynchronously, and TF.js refuses every operation (of any engine)
   * while an initialisation is pending, so concurrent loads would break each other.
   * @throws ModelFormatError for a bad file, a model of another kind or a dof mismatch
   */
  protected static open<E extends LearnedEngine>(
    kind: ModelKind,
    source: ModelSource,
    system: System,
    options: LearnedEngineOptions,
    create: (init: LearnedEngineInit) => E,
  ): Promise<E> {
    const run = openQueue.then(() => LearnedEngine.openNow(kind, source, system, options, create));
    openQueue = run.catch(() => undefined);
    return run;
  }

  /** {@link LearnedEngine.open} once the loads queued before it have finished. */
  private static async openNow<E extends LearnedEngine>(
    kind: ModelKind,
    source: ModelSource,
    system: System,
    options: LearnedEngineOptions,
    create: (init: LearnedEngineInit) => E,
  ): Promise<E> {
    const model = await loadModel(source);
    const warnings = checkModelForSystem(model, system, kind);
    LearnedEngine.requireHiddenLayer(model);
    for (const w of warnings) console.warn(`three-lnn: ${w}`);
    const choice = await initBackend(options);
    let wasm: LearnedEngineInit['wasm'];
    const route = options.route ?? 'auto';
    if (WASM_SIDE_BACKENDS.includes(choice.name) && (route === 'auto' || route === 'wasm')) {
      const problem = await initSideBackend('wasm', options);
      wasm = problem === null ? { ready: true } : { ready: false, problem };
    }
    const engine = create({
      system,
      model,
      backend: choice.name,
      warnings: [...warnings, ...choice.warnings],
      options,
      wasm,
    });
    try {
      await engine.start();
    } catch (e) {
      engine.dispose();
      throw e;
    }
    engine.ready();
    return engine;
  }

  /**
   * Refuse an `lnn` or `lgn` network without a hidden layer: its L is linear in (q, q̇), so H_vv is zero
   * everywhere and q̈ is undefined (a `baseline` without one is a linear map and runs).
   * @throws ModelFormatError (`bad-field`)
   */
  private static requireHiddenLayer(model: LoadedModel): void {
    const meta = model.metadata;
    if (meta.kind === 'baseline' || model.layers.length > 1) return;
    throw new ModelFormatError(
      'bad-field',
      model.source,
      `architecture.layers [${meta.architecture.layers.join(', ')}] has no hidden layer, which an ${meta.kind} model needs: its Lagrangian would be linear in (q, q̇), so H_vv = ∂²L/∂q̇² is zero and q̈ is undefined. Train it with at least one hidden layer (e.g. training/lnn_train.py --hidden 128,128).`,
    );
  }

  protected constructor({ system, model, backend, warnings, options, wasm }: LearnedEngineInit) {
    this.spec = specFromModel(model);
    this.guard = new StateGuard(model, system.dof);
    this.home = LearnedEngine.uploadWeights(model, this.spec, backend);
    this.weights = this.home;
    this.wasmSide =
      wasm === undefined
        ? { ready: WASM_SIDE_BACKENDS.includes(backend) && backendReady('wasm') }
        : { ...wasm, ready: wasm.ready && WASM_SIDE_BACKENDS.includes(backend) };
    this.system = system;
    this.model = model;
    this.backend = backend;
    this.warnings = warnings;
    this.options = options;
    this.resident = backend !== 'js' && (options.resident ?? backend === 'webgl');
    this.jsBelow = typeof options.jsBelow === 'number' ? options.jsBelow : 0;
    this.lastReport = {
      batch: 0,
      flags: new Uint8Array(0),
      regularised: 0,
      failed: 0,
      totals: { evaluations: 0, regularised: 0, failed: 0 },
      path: backend === 'js' ? 'js' : 'tensor',
      route: backend === 'js' ? 'js' : backend,
      backend,
      threads: 1,
    };
    this.accelerationFn = (q, qd, qdd, batch) => this.accelerations(q, qd, qdd, batch);
    // Validated in `ready()`: availability depends on subclass state not yet built here.
    this.routeSetting = options.route ?? 'auto';
  }

  /**
   * The folded weights (float32 tensors) on the backend now computing: the engine's backend, or wasm
   * inside the `wasm` route of an engine on another backend; null on the `js` backend.
   */
  protected get folded(): MlpParams | null {
    return this.weights.folded;
  }

  /**
   * Weights for the fused wasm/cpu Lagrangian kernels (`lnn`, `lgn` with a hidden layer) on the backend
   * now computing, or null on webgl / js and for `baseline` models.
   */
  protected get fused(): FusedWeights | null {
    return this.weights.fused;
  }

  /** Fold and upload `model`'s weights on `backend`, which must be the active TF.js backend. */
  private static uploadWeights(model: LoadedModel, spec: NetworkSpec, backend: BackendName): WeightSet {
    const folded = backend === 'js' ? null : tidy(() => foldScales(paramsFromModel(model), spec));
    // The fused kernels compute Lagrangian terms: a baseline model has none.
    const fused =
      folded && model.metadata.kind !== 'baseline' && registerFusedKernels(backend) && model.layers.length > 1
        ? prepareFusedWeights(folded)
        : null;
    return { folded, fused };
  }

  /** Free the tensors of a weight set. */
  private static disposeWeights(w: WeightSet): void {
    if (w.folded) disposeParams(w.folded);
    if (w.fused) disposeFusedWeights(w.fused);
  }

  /** Whether the `wasm` route runs on wasm next to another engine backend (see {@link RouteName}). */
  private isSideWasm(route: RouteName): boolean {
    return route === 'wasm' && this.backend !== 'wasm';
  }

  /**
   * Run `fn` with wasm active and the wasm weights in place (uploaded on first use), then make the
   * previously active backend active again. Re-entrant: calls inside `fn` (RK4 stages) do not switch.
   */
  private onWasm<T>(fn: () => T): T {
    if (this.wasmWeights !== null && this.weights === this.wasmWeights) return fn();
    const previous = tf.engine().backendName;
    ensureBackend('wasm');
    try {
      this.wasmWeights ??= LearnedEngine.uploadWeights(this.model, this.spec, 'wasm');
      this.weights = this.wasmWeights;
      return fn();
    } finally {
      this.weights = this.home;
      if (previous && previous !== 'wasm' && backendReady(previous as Exclude<BackendName, 'js'>))
        ensureBackend(previous as Exclude<BackendName, 'js'>);
    }
  }

  /** The diagonal shift magnitude in use, or undefined for the relative default. */
  protected get epsilon(): number | undefined {
    return this.options.epsilon ?? this.model.metadata.solver?.hvvEpsilon;
  }

  /**
   * The route setting: `'auto'` (per batch size: `js` up to {@link LearnedEngine.jsBelow}, then the
   * cheapest of `webgl-fused` (up to {@link LearnedEngine.webglFusedBelow}), `wasm` and the backend by the
   * timings of {@link LearnedEngine.calibrate}) or a forced route.
   * @throws Error when set to a route this engine does not have (see {@link LearnedEngine.availableRoutes})
   */
  get route(): 'auto' | RouteName {
    return this.routeSetting;
  }

  set route(value: 'auto' | RouteName) {
    if (value !== 'auto' && !this.availableRoutes.includes(value)) {
      const why =
        value === 'wasm' && this.wasmSide.problem !== undefined ? ` (wasm: ${this.wasmSide.problem})` : '';
      throw new Error(
        `${this.id} engine: route '${value}' is not available here (backend ${this.backend}${why}); use one of auto, ${this.availableRoutes.join(', ')}.`,
      );
    }
    this.routeSetting = value;
  }

  /**
   * Routes this engine can take: `js`, its TF.js backend, `webgl-fused` for `lnn` on webgl, and `wasm`
   * on webgl or cpu when the wasm backend was initialised.
   */
  get availableRoutes(): RouteName[] {
    const routes: RouteName[] = ['js'];
    if (this.backend !== 'js') routes.push(this.backend);
    if (this.fusedStepper() !== null) routes.push('webgl-fused');
    if (this.wasmSide.ready && !this.disposed) routes.push('wasm');
    return routes;
  }

  /** The route a call of `batch` states takes under the current setting. */
  routeFor(batch: number): RouteName {
    if (this.forced !== null) return this.forced;
    if (this.routeSetting !== 'auto') return this.routeSetting;
    if (this.backend === 'js' || batch <= this.jsBelow) return 'js';
    const fused = batch <= this.webglFusedBelow && this.fusedStepper() !== null;
    const home = this.costs[this.backend];
    // Without timings (a numeric jsBelow): the fused programs up to webglFusedBelow, then the backend.
    if (home === undefined) return fused ? 'webgl-fused' : this.backend;
    // Otherwise the cheapest by the timed costs; ties go to the backend.
    let best: RouteName = this.backend;
    let cost = home.fixed + home.perState * batch;
    const candidates: RouteName[] = fused ? ['webgl-fused', 'wasm'] : ['wasm'];
    for (const r of candidates) {
      const c = this.costs[r];
      if (c === undefined || (r === 'wasm' && !this.wasmSide.ready)) continue;
      const v = c.fixed + c.perState * batch;
      if (v < cost) {
        best = r;
        cost = v;
      }
    }
    return best;
  }

  /**
   * The batch ranges of `'auto'`: consecutive `[route, largest batch]` pairs, the last one unbounded
   * (`Infinity`). Above `cap` only the backend and `wasm` compete, so at most one more change follows.
   */
  private autoRanges(cap: number): [RouteName, number][] {
    const ranges: [RouteName, number][] = [];
    const push = (route: RouteName, upTo: number) => {
      const last = ranges[ranges.length - 1];
      if (last && last[0] === route) last[1] = upTo;
      else ranges.push([route, upTo]);
    };
    for (let b = 1; b <= cap; b++) push(this.routeFor(b), b);
    const tail = this.routeFor(cap + 1);
    push(tail, cap + 1);
    const other: RouteName = tail === 'wasm' ? this.backend : 'wasm';
    const a = this.costs[tail];
    const o = this.costs[other];
    if (a && o && o.perState < a.perState) {
      // The two lines cross once; find the first batch past the crossing that takes the other route.
      let x = Math.max(cap + 2, Math.floor((o.fixed - a.fixed) / (a.perState - o.perState)));
      if (x < 1e9) {
        while (x > cap + 2 && this.routeFor(x - 1) !== tail) x--;
        while (this.routeFor(x) === tail) x++;
        push(tail, x - 1);
        push(this.routeFor(x), x);
      }
    }
    ranges[ranges.length - 1][1] = Number.POSITIVE_INFINITY;
    return ranges;
  }

  /**
   * One line for a UI: the setting, the batch ranges of each route, and the measured rates, e.g.
   * `auto: js ≤ 12 states, then wasm · state-steps/s at 1 / 8 states: js 1,900 / 1,900; wasm 700 / 4,800`
   * or, on webgl, `auto: js ≤ 3 states, then wasm · … webgl 16 / 139; webgl-fused 645 / 2,388; wasm …`.
   */
  get routeSummary(): string {
    const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
    let head: string;
    if (this.routeSetting !== 'auto') head = `${this.routeSetting} (forced)`;
    else if (this.backend === 'js') head = 'auto: js';
    else {
      const cap = Math.max(this.cap, this.jsBelow, this.webglFusedBelow);
      const parts = this.autoRanges(cap).map(([route, upTo], i) => {
        const name = route === this.backend && this.resident ? `${route} (resident)` : route;
        return Number.isFinite(upTo) ? `${name} ≤ ${fmt(upTo)}${i === 0 ? ' states' : ''}` : name;
      });
      head = `auto: ${parts.join(', then ')}`;
    }
    if (this.routeTimings.length === 0) return head;
    const batches = [...new Set(this.routeTimings.map((t) => t.batch))];
    const routes = [...new Set(this.routeTimings.map((t) => t.route))];
    const rates = routes.map(
      (r) =>
        `${r} ${batches
          .map((b) => {
            const t = this.routeTimings.find((x) => x.route === r && x.batch === b);
            return t ? fmt(t.stateStepsPerSecond) : '–';
          })
          .join(' / ')}`,
    );
    return `${head} · state-steps/s at ${batches.join(' / ')} states: ${rates.join('; ')}`;
  }

  /** Asynchronous set-up after construction (worker threads); when it throws, the engine is disposed. */
  protected async start(): Promise<void> {}

  /** Whether this engine (on webgl or cpu) can take the `wasm` route (the wasm backend initialised). */
  protected get wasmRouteReady(): boolean {
    return this.wasmSide.ready;
  }

  /** Threads a call of `batch` states on `route` runs on (1 unless a subclass splits batches). */
  protected threadsFor(_route: RouteName, _batch: number): number {
    return 1;
  }

  /**
   * Float64 q̈ of `batch` states in plain JS; writes per-state flags. By default the float64 reference
   * evaluation of the model (see `referenceAccelerations`).
   */
  protected jsAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void {
    const size = batch * this.system.dof;
    referenceAccelerations(this.model, q.subarray(0, size), qd.subarray(0, size), qdd, batch, {
      flags,
      epsilon: this.epsilon,
    });
  }

  /** q̈ through TF.js with one readback; writes per-state flags. Runs with the engine's backend active. */
  protected abstract tensorAccelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): void;

  /**
   * q̈ of tensor states `[batch, dof]` entirely on the backend (for the resident step), or null when the
   * engine has no such path.
   */
  protected residentAccelerations(_q: tf.Tensor2D, _qd: tf.Tensor2D): Accelerations | null {
    return null;
  }

  /** Engines with a fused GPU stepper (`lnn` on webgl) create it here; null when there is none. */
  protected createFusedStepper(): FusedStepper | null {
    return null;
  }

  /** The fused GPU stepper, created on first use. */
  private fusedStepper(): FusedStepper | null {
    if (this.stepper === undefined) this.stepper = this.disposed ? null : this.createFusedStepper();
    return this.stepper;
  }

  /** Batched q̈ (see `AccelerationFn`): `q`, `qd`, `qdd`: `[batch * dof]`. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void {
    this.checkState(q, qd, batch, qdd);
    const flags = this.callFlags(batch);
    const route = this.routeFor(batch);
    if (route === 'js') {
      this.jsAccelerations(q, qd, qdd, batch, flags);
    } else if (route === 'webgl-fused') {
      const gpu = this.fusedStepper()!;
      ensureBackend('webgl');
      gpu.accelerations(q, qd, qdd, batch);
      flags.set(gpu.flags.subarray(0, batch));
    } else if (this.isSideWasm(route)) {
      this.onWasm(() => this.tensorAccelerations(q, qd, qdd, batch, flags));
    } else {
      ensureBackend(this.backend as Exclude<BackendName, 'js'>);
      this.tensorAccelerations(q, qd, qdd, batch, flags);
    }
    // One failed-state policy for every route: q̈ = 0 and flag failed for a state with a non-finite or
    // out-of-range network input, a non-finite q̈ or a failed solve.
    this.guard.apply(q, qd, qdd, batch, flags);
    this.record(flags, batch, route === 'js' ? 'js' : 'tensor', route);
  }

  /**
   * Advance `batch` states in place by `dt`. With `resident` on (webgl default) and `rk4` or
   * `symplectic-euler`, every stage runs on the backend and the state is read back once.
   */
  step(q: Float64Array, qd: Float64Array, batch: number, dt: number, integrator: Integrator): void {
    this.advance(q, qd, batch, dt, integrator, 1);
  }

  /**
   * Advance by `substeps` steps of `dt` with one readback in total on the GPU-resident routes (resident
   * backend with `rk4` / `symplectic-euler`, `webgl-fused` with `rk4`); otherwise `substeps` ordinary
   * steps. `lastReport` merges the flags of all stages.
   * @param q `[batch * dof]` @param qd `[batch * dof]`
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    substeps = 1,
  ): void {
    this.checkState(q, qd, batch);
    const route = this.routeFor(batch);
    this.merging = true;
    this.resetReport(batch);
    try {
      // The GPU-resident paths run their stages out of reach of the per-call failed-state policy: states
      // that fail it at the start (see `StateGuard`), or whose increments come back non-finite, are left
      // out there and stepped with q̈ = 0, flag failed (`coastFailed`), as the staged path steps them.
      if (route === 'webgl-fused' && integrator.id === 'rk4') {
        const gpu = this.fusedStepper()!;
        ensureBackend('webgl');
        const skip = this.skipMask(q, qd, batch);
        gpu.advance(q, qd, batch, dt, substeps, skip);
        const flags = this.callFlags(batch);
        flags.set(gpu.flags.subarray(0, batch));
        this.coastFailed(q, qd, batch, dt, substeps, skip, flags);
        this.record(flags, batch, 'resident', route, 4 * substeps);
        return;
      }
      const residentOk =
        route === this.backend &&
        this.resident &&
        (integrator.id === 'rk4' || integrator.id === 'symplectic-euler');
      if (
        residentOk &&
        this.residentStep(q, qd, batch, dt, integrator.id as 'rk4' | 'symplectic-euler', substeps)
      ) {
        return;
      }
      const steps = () => {
        for (let s = 0; s < substeps; s++)
          integrator.step(this.accelerationFn, q, qd, this.system.dof, batch, dt);
      };
      // On the wasm route of another backend: one switch to wasm and back for all stages and substeps.
      if (this.isSideWasm(route)) this.onWasm(steps);
      else steps();
    } finally {
      this.merging = false;
      if (!this.calibrating) this.options.onReport?.(this.lastReport);
    }
  }

  private skipScratch = new Uint8Array(0);

  /**
   * `[batch]` scratch: non-zero for the states the failed-state policy rejects at the start of a
   * GPU-resident step (they go up as zeros and are stepped by {@link coastFailed}).
   */
  private skipMask(q: Float64Array, qd: Float64Array, batch: number): Uint8Array {
    if (this.skipScratch.length < batch) this.skipScratch = new Uint8Array(batch);
    const skip = this.skipScratch.subarray(0, batch);
    skip.fill(0);
    this.guard.screen(q, qd, batch, skip);
    return skip;
  }

  /**
   * Step the states marked in `skip` as failed states: q̈ = 0 in every stage, so q += dt·q̇ per substep
   * and q̇ stays; their flag becomes failed.
   */
  private coastFailed(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    substeps: number,
    skip: Uint8Array,
    flags: Uint8Array,
  ): void {
    const n = this.system.dof;
    for (let b = 0; b < batch; b++) {
      if (skip[b] === 0) continue;
      flags[b] = SolveFlag.failed;
      for (let s = 0; s < substeps; s++) for (let i = b * n; i < (b + 1) * n; i++) q[i] += dt * qd[i];
    }
  }

  /** The resident step; false when the subclass has no tensor q̈. */
  private residentStep(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    method: 'rk4' | 'symplectic-euler',
    substeps: number,
  ): boolean {
    ensureBackend(this.backend as Exclude<BackendName, 'js'>);
    const n = this.system.dof;
    const size = batch * n;
    const skip = this.skipMask(q, qd, batch);
    const result = tidy(() => {
      // Increments are accumulated in float32 and added to the float64 state afterwards, so the state
      // itself keeps float64 precision over a step. Angles (which the network wraps, or sees through the
      // periodic cos/sin under `sincos`) are wrapped here in float64 first, so that a large unwrapped
      // angle loses no precision in float32.
      const wrapped = Float32Array.from(q.subarray(0, size));
      const velocities = Float32Array.from(qd.subarray(0, size));
      const wrapFlags = this.wrapFlags();
      for (let j = 0; j < size; j++) if (wrapFlags[j % n]) wrapped[j] = wrapAngle(q[j]);
      // States the policy rejects go up as zeros (any finite state would do) and are coasted below.
      for (let b = 0; b < batch; b++) {
        if (skip[b] === 0) continue;
        wrapped.fill(0, b * n, (b + 1) * n);
        velocities.fill(0, b * n, (b + 1) * n);
      }
      const Q0 = tf.tensor2d(wrapped, [batch, n]);
      const V0 = tf.tensor2d(velocities, [batch, n]);
      let dQ: tf.Tensor2D = tf.zeros([batch, n]);
      let dV: tf.Tensor2D = tf.zeros([batch, n]);
      let worst: tf.Tensor1D = tf.zeros([batch], 'int32');
      const f = (Q: tf.Tensor2D, V: tf.Tensor2D): tf.Tensor2D | null => {
        const r = this.residentAccelerations(Q, V);
        if (r === null) return null;
        worst = tf.maximum(worst, r.flags) as tf.Tensor1D;
        return r.qdd;
      };
      for (let s = 0; s < substeps; s++) {
        const Q = s === 0 ? Q0 : (tf.add(Q0, dQ) as tf.Tensor2D);
        const V = s === 0 ? V0 : (tf.add(V0, dV) as tf.Tensor2D);
        let stepQ: tf.Tensor2D;
        let stepV: tf.Tensor2D;
        if (method === 'symplectic-euler') {
          const a = f(Q, V);
          if (a === null) return null;
          stepV = tf.mul(a, dt);
          stepQ = tf.mul(tf.add(V, stepV), dt);
        } else {
          const h2 = dt / 2;
          const a1 = f(Q, V);
          if (a1 === null) return null;
          const V2 = tf.add(V, tf.mul(a1, h2)) as tf.Tensor2D;
          const a2 = f(tf.add(Q, tf.mul(V, h2)) as tf.Tensor2D, V2) as tf.Tensor2D;
          const V3 = tf.add(V, tf.mul(a2, h2)) as tf.Tensor2D;
          const a3 = f(tf.add(Q, tf.mul(V2, h2)) as tf.Tensor2D, V3) as tf.Tensor2D;
          const V4 = tf.add(V, tf.mul(a3, dt)) as tf.Tensor2D;
          const a4 = f(tf.add(Q, tf.mul(V3, dt)) as tf.Tensor2D, V4) as tf.Tensor2D;
          const h6 = dt / 6;
          stepQ = tf.mul(tf.add(tf.add(V, V4), tf.mul(tf.add(V2, V3), 2)), h6);
          stepV = tf.mul(tf.add(tf.add(a1, a4), tf.mul(tf.add(a2, a3), 2)), h6);
        }
        dQ = tf.add(dQ, stepQ) as tf.Tensor2D;
        dV = tf.add(dV, stepV) as tf.Tensor2D;
      }
      return tf.concat([dQ, dV, tf.cast(tf.reshape(worst, [batch, 1]), 'float32')], 1);
    });
    if (result === null) return false;
    const data = result.dataSync();
    result.dispose();
    const flags = this.callFlags(batch);
    const w = 2 * n + 1;
    for (let b = 0; b < batch; b++) {
      // A rejected state, or a non-finite increment (float32 overflow along the stages): coasted below.
      let finite = skip[b] === 0;
      for (let i = 0; i < 2 * n && finite; i++) finite = Number.isFinite(data[b * w + i]);
      if (!finite) {
        skip[b] = 1;
        continue;
      }
      for (let i = 0; i < n; i++) {
        q[b * n + i] += data[b * w + i];
        qd[b * n + i] += data[b * w + n + i];
      }
      flags[b] = data[b * w + 2 * n];
    }
    this.coastFailed(q, qd, batch, dt, substeps, skip, flags);
    this.record(flags, batch, 'resident', this.backend as RouteName, (method === 'rk4' ? 4 : 1) * substeps);
    return true;
  }

  /**
   * Time every available route on scratch states (an `advance` of {@link CALIBRATION_SUBSTEPS} RK4
   * substeps of 1/120 s, at 1 and 8 states), model each as a fixed cost plus a cost per state, and set
   * {@link LearnedEngine.jsBelow} (largest batch where `js` is the cheapest) and
   * {@link LearnedEngine.webglFusedBelow} (largest batch where `webgl-fused` is the cheapest route other than
   * `js`), both capped; a call of B states then takes the cheapest route for B (`js` and `webgl-fused`
   * only within their capped ranges; beyond them, the cheaper of `wasm` and the backend). Called
   * by {@link LearnedEngine.open} (the engines' `load`) when `route` and `jsBelow` are `'auto'`; the
   * timings land in {@link LearnedEngine.routeTimings} and {@link LearnedEngine.routeSummary}.
   * @param maxThreshold cap of both thresholds
   * @returns the `js` threshold chosen
   */
  calibrate(maxThreshold = 256): number {
    if (this.backend === 'js') return this.jsBelow;
    const routes = this.availableRoutes;
    const n = this.system.dof;
    const big = 8;
    const rk4 = new RungeKutta4();
    const q = new Float64Array(big * n);
    const qd = new Float64Array(big * n);
    const timings: RouteTiming[] = [];
    const cost: Partial<Record<RouteName, RouteCost>> = {};
    this.calibrating = true;
    try {
      for (const route of routes) {
        this.forced = route;
        const ms = [1, big].map((batch) => {
          for (let i = 0; i < q.length; i++) {
            q[i] = 0.3 * Math.sin(i + 1);
            qd[i] = 0.5 * Math.cos(i + 1);
          }
          const call = () => this.advance(q, qd, batch, 1 / 120, rk4, CALIBRATION_SUBSTEPS);
          // Untimed calls until the JIT has settled (~30 ms; one call for a slow route, where it mostly
          // compiles shaders), then the best of up to three windows of ≥ 10 ms within ~100 ms.
          const warm = performance.now();
          for (let c = 0; c === 0 || (c < 200 && performance.now() - warm < 30); c++) call();
          let best = Number.POSITIVE_INFINITY;
          const start = performance.now();
          for (let r = 0; r < 3 && (r === 0 || performance.now() - start < 100); r++) {
            const t0 = performance.now();
            let calls = 0;
            do {
              call();
              calls++;
            } while (performance.now() - t0 < 10);
            best = Math.min(best, (performance.now() - t0) / calls);
          }
          const t = Math.max(best, 1e-4);
          timings.push({
            route,
            batch,
            ms: t,
            stateStepsPerSecond: (batch * CALIBRATION_SUBSTEPS) / (t / 1000),
          });
          return t;
        });
        const perState = Math.max(0, (ms[1] - ms[0]) / (big - 1));
        cost[route] = { fixed: Math.max(0, ms[0] - perState), perState };
      }
    } finally {
      this.forced = null;
      this.calibrating = false;
      const r = this.lastReport;
      r.totals.evaluations = 0;
      r.totals.regularised = 0;
      r.totals.failed = 0;
      this.resetReport(0);
    }
    const at = (route: RouteName, batch: number) => {
      const c = cost[route];
      return c === undefined ? Number.POSITIVE_INFINITY : c.fixed + c.perState * batch;
    };
    // With costs linear in the batch, each route is cheapest on one interval of batches: js (cheapest
    // at the smallest batches, if anywhere) up to its upper end, webgl-fused on the interval whose upper
    // end is webglFusedBelow; both capped.
    const others = routes.filter((r) => r !== 'js');
    let js = 0;
    for (let b = 1; b <= maxThreshold; b++) if (others.every((r) => at('js', b) <= at(r, b))) js = b;
    let fused = 0;
    if (cost['webgl-fused']) {
      const rest = others.filter((r) => r !== 'webgl-fused');
      for (let b = 1; b <= maxThreshold; b++)
        if (rest.every((r) => at('webgl-fused', b) < at(r, b))) fused = b;
    }
    this.costs = cost;
    this.cap = maxThreshold;
    this.jsBelow = js;
    this.webglFusedBelow = fused;
    this.routeTimings = timings;
    // Until the first call, the report names the route a single state would take.
    this.lastReport.route = this.routeFor(1);
    const first = this.lastReport.route;
    this.lastReport.backend = this.isSideWasm(first) ? 'wasm' : this.backend;
    this.lastReport.path =
      first === 'js' ? 'js' : this.resident && !this.isSideWasm(first) ? 'resident' : 'tensor';
    return this.jsBelow;
  }

  /**
   * End of {@link LearnedEngine.open}: check the `route` option against the available routes, then
   * calibrate unless a route is forced or `jsBelow` is a number. A route whose backend fell back becomes
   * `'auto'` with a warning.
   * @throws Error for an unavailable route (the engine is disposed first)
   */
  protected ready(): void {
    const wanted = this.routeSetting;
    const needs = wanted === 'webgl-fused' ? 'webgl' : wanted;
    const requested =
      !this.options.backend || this.options.backend === 'auto' ? defaultBackend() : this.options.backend;
    if (wanted !== 'auto' && needs === requested && needs !== this.backend) {
      // The backend the route needs fell back (see `warnings`): follow the fallback, as the backend did.
      const notice = `route '${wanted}' needs the ${needs} backend, which fell back to ${this.backend}; using route 'auto'.`;
      console.warn(`three-lnn: ${notice}`);
      (this.warnings as string[]).push(notice);
      this.routeSetting = 'auto';
    }
    try {
      this.route = this.routeSetting;
    } catch (e) {
      this.dispose();
      throw e;
    }
    if (this.routeSetting === 'auto' && typeof this.options.jsBelow !== 'number') this.calibrate();
  }

  /**
   * Free the weight tensors (on the engine's backend and, after the `wasm` route ran, on wasm), the
   * fused GPU stepper and whatever the subclass holds. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stepper?.dispose();
    this.stepper = null;
    LearnedEngine.disposeWeights(this.home);
    if (this.wasmWeights) LearnedEngine.disposeWeights(this.wasmWeights);
    this.wasmWeights = null;
    this.disposeResources();
  }

  /** Which state coordinates the network wraps as angles (`[dof]`). */
  private wrapFlags(): readonly boolean[] {
    const m = this.model.metadata;
    return m.kind === 'lgn' ? new Array<boolean>(this.system.dof).fill(m.angles[0]) : m.angles;
  }

  /** `q: [batch, dof]` with the coordinates the network treats as angles wrapped (see `wrapAngles`). */
  protected wrapTensorAngles(q: tf.Tensor2D): tf.Tensor2D {
    return wrapAngles(q, this.wrapFlags());
  }

  /** Subclasses free what they hold beyond the weights here (called once, from `dispose`). */
  protected disposeResources(): void {}

  private scratchFlags = new Uint8Array(0);

  /** A zeroed per-call flags buffer of length `batch`. */
  private callFlags(batch: number): Uint8Array {
    if (this.scratchFlags.length < batch) this.scratchFlags = new Uint8Array(batch);
    const f = this.scratchFlags.subarray(0, batch);
    f.fill(0);
    return f;
  }

  /** Start a fresh report for `batch` states. */
  private resetReport(batch: number): void {
    const r = this.lastReport;
    if (r.flags.length !== batch) r.flags = new Uint8Array(batch);
    else r.flags.fill(0);
    r.batch = batch;
    r.regularised = 0;
    r.failed = 0;
  }

  /**
   * Fold one call's flags into the report: replace outside a step, keep the worst flag per state over
   * the stages of a step. Totals count flagged states per call (per step on the resident path).
   */
  private record(
    flags: Uint8Array,
    batch: number,
    path: EngineReport['path'],
    route: RouteName,
    stages = 1,
  ): void {
    const r = this.lastReport;
    if (!this.merging || r.flags.length !== batch) this.resetReport(batch);
    let regularised = 0;
    let failed = 0;
    let callBad = 0;
    let callFailed = 0;
    for (let b = 0; b < batch; b++) {
      const f = flags[b];
      if (f >= SolveFlag.regularised) callBad++;
      if (f === SolveFlag.failed) callFailed++;
      const merged = Math.max(f, r.flags[b]);
      r.flags[b] = merged;
      if (merged >= SolveFlag.regularised) regularised++;
      if (merged === SolveFlag.failed) failed++;
    }
    r.regularised = regularised;
    r.failed = failed;
    r.path = path;
    r.route = route;
    r.backend = this.isSideWasm(route) ? 'wasm' : this.backend;
    r.threads = path === 'tensor' ? this.threadsFor(route, batch) : 1;
    r.totals.evaluations += batch * stages;
    r.totals.regularised += callBad;
    r.totals.failed += callFailed;
    if (!this.merging && !this.calibrating) this.options.onReport?.(r);
  }

  /** Throw a clear Error for wrong array sizes or use after dispose. */
  private checkState(q: Float64Array, qd: Float64Array, batch: number, qdd?: Float64Array): void {
    if (this.disposed) throw new Error(`${this.id} engine: used after dispose().`);
    const need = batch * this.system.dof;
    if (!Number.isInteger(batch) || batch < 0)
      throw new Error(`${this.id} engine: batch must be an integer ≥ 0, got ${batch}.`);
    if (q.length < need || qd.length < need || (qdd !== undefined && qdd.length < need)) {
      throw new Error(
        `${this.id} engine: q, qd${qdd ? ', qdd' : ''} must hold batch × dof = ${batch} × ${this.system.dof} = ${need} values (got ${q.length}, ${qd.length}${qdd ? `, ${qdd.length}` : ''}).`,
      );
    }
  }
}
