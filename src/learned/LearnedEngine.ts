import type {
  AccelerationFn,
  Engine,
  EngineId,
  EngineRoute,
  ForceSupport,
  Forces,
  Integrator,
  System,
} from '../core/types.js';
import { checkForcesShape } from '../forces/checkForcesShape.js';
import { RungeKutta4 } from '../integrators/RungeKutta4.js';
import { trainingMismatches } from '../model/checkSystem.js';
import { MASS_SCALE_SEED, MASS_SCALE_STATES, measureMassScale } from '../model/massScale.js';
import type { LoadedModel } from '../model/metadata.js';
import { referenceAccelerations } from '../model/reference.js';
import { type NetworkSpec, specFromModel } from '../nn/mlp.js';
import { StateGuard } from '../nn/stateGuard.js';
import { type BackendName, backendReady, defaultBackend } from './backend.js';
import { CALIBRATION_SUBSTEPS, type CalibrationOptions, measureRoutes } from './calibrate.js';
import { softwareWebGL, type WebGLCapabilities, webglCapabilities } from './capabilities.js';
import { type EngineReport, ReportBook } from './EngineReport.js';
import type { LearnedEngineInit } from './openEngine.js';
import type { LearnedEngineOptions } from './options.js';
import {
  compareToReference,
  formatPrecisionError,
  PRECISION_STATES,
  type PrecisionError,
  precisionStates,
} from './precision.js';
import {
  angleFlags,
  type EngineKernels,
  epsilonOf,
  type LinearForce,
  ROUTE_NAMES,
  type Route,
  type RouteName,
} from './Route.js';
import {
  autoRoutes,
  type PlanInput,
  planRoutes,
  planSummary,
  type RoutePlan,
  type RouteTiming,
  WEBGL_ROUTES,
} from './RoutePlanner.js';
import { ROUTE_TABLE } from './routes/index.js';
import { WASM_SIDE_BACKENDS } from './routes/sideWasm.js';
import { EngineWeights } from './weights.js';

export type { EngineReport, LearnedEngineInit, LearnedEngineOptions, PrecisionError, RouteName, RouteTiming };

/**
 * What a half-precision WebGL context means for an engine on webgl (see `LearnedEngine.precisionNote`):
 * `route: 'auto'` never takes the routes listed here; a route among them forced by hand runs, with its
 * q̈ error against the float64 reference measured when it was set.
 */
export interface PrecisionNote {
  /** Precision of the webgl routes here. */
  precision: 'float16';
  /** Why (see `WebGLCapabilities.reasons`). */
  reasons: readonly string[];
  /** The routes computing in half precision, which `auto` never takes. */
  routes: RouteName[];
  /** The route setting when it is one of {@link PrecisionNote.routes}, else null. */
  forced: RouteName | null;
  /** q̈ errors measured against the float64 reference, one per half-precision route set so far. */
  measured: PrecisionError[];
  /** One line for a status display. */
  message: string;
}
export { CALIBRATION_SUBSTEPS, ROUTE_NAMES };

/**
 * The mass scale α a learned engine multiplies external forces by (its learned H_vv ≈ α·M; see
 * `measureMassScale` and docs/model-format.md, "massScale").
 */
export interface EngineMassScale {
  /** α. */
  readonly value: number;
  /** sqrt(mean ‖H_vv − αM‖² / ‖αM‖²) over the measured states: the relative error α leaves. */
  readonly spread: number;
  /** From the model file (`metadata.massScale`), or measured when the engine loaded. */
  readonly source: 'model' | 'measured at load';
}

/** Why the black-box baseline takes no forces (its `forceSupport`, and the Error it throws). */
export const BASELINE_FORCE_SUPPORT =
  'the black-box baseline predicts q̈ directly and has no mass matrix; forces have no defined effect on it';

/**
 * Shared machinery of the learned engines: the model and its weights, the route table
 * (`routes/index.ts`), the route plan of `'auto'` (`RoutePlanner`), dispatch and reporting. The engines
 * (`LNNEngine`, `BaselineEngine`, `LGNEngine`) supply their {@link EngineKernels}. The route is decided
 * once per `accelerations`, `step` or `advance` call from the batch size, and every stage of that call
 * runs on it. Whatever the route, every q̈ is finite: a state the network cannot evaluate (non-finite, a
 * network input beyond float32, |q̇_i| ≥ 1 under `rapidity`, a non-finite q̈ or a failed solve) gets
 * q̈ = 0 and flag failed (`StateGuard`).
 */
export abstract class LearnedEngine implements Engine {
  abstract readonly id: EngineId;
  readonly system: System;
  readonly model: LoadedModel;
  /** The backend actually in use (after fallbacks). */
  readonly backend: BackendName;
  /** Notices about the model/system pairing and backend fallbacks. */
  readonly warnings: readonly string[];
  /**
   * The system parameters this engine runs outside the model's training values (`'<name> <value> ≠
   * <training value>'`, see `trainingMismatches`); empty unless loaded with `outsideTraining: 'run'`.
   */
  readonly outsideTraining: readonly string[];
  /** `accelerations` bound to this engine, for integrators. */
  readonly accelerationFn: AccelerationFn;
  /**
   * null when the engine takes external forces (`lnn`, `lgn`), otherwise why not (`baseline`: no mass
   * matrix).
   */
  readonly forceSupport: ForceSupport;
  /**
   * The mass scale α external forces are multiplied by (`lnn`, `lgn`): the model's `massScale`, or
   * measured at load on {@link MASS_SCALE_STATES} training-box states against the system's exact mass
   * matrix; null for a baseline, or when it could not be measured (forces then throw, saying why).
   */
  readonly massScale: EngineMassScale | null;
  /** The timings behind a calibrated plan (empty unless {@link LearnedEngine.calibrate} ran). */
  routeTimings: RouteTiming[] = [];
  /**
   * What the WebGL context can do (float32 render targets, float textures, fragment highp), for an
   * engine on webgl; null on another backend. See `webglCapabilities`.
   */
  readonly webglCapabilities: WebGLCapabilities | null;
  protected readonly options: LearnedEngineOptions;
  /** The network's activation, angle flags and scales. */
  protected readonly spec: NetworkSpec;
  protected disposed = false;
  private readonly weights: EngineWeights;
  private readonly kernels: EngineKernels;
  private readonly guard: StateGuard;
  private readonly book: ReportBook;
  private readonly resident: boolean;
  private readonly wasmSide: { ready: boolean; problem?: string };
  /** Every route of the table, and the available ones by name. */
  private readonly routes: Route[];
  private readonly byName = new Map<RouteName, Route>();
  private routeSetting: 'auto' | RouteName;
  /**
   * What the plan of `'auto'` is made from: thresholds set by hand (option `jsBelow`, or assigned) and
   * measured costs (`calibrate`) change only on explicit calls.
   */
  private planInput: PlanInput;
  private plan: RoutePlan;
  /** The route of the `advance` in progress: integrator stages run on it without deciding again. */
  private stage: Route | null = null;
  private readonly stageFn: AccelerationFn;
  /** The forces of the `advance` in progress (read by the stage function), or null. */
  private activeForces: Forces | null = null;
  /** Why forces cannot run when {@link massScale} is null on a Lagrangian model. */
  private readonly massScaleProblem: string | null;
  /** Scratch: α·Q of one call `[batch * dof]`, α·Q_c and α·C of a resident advance. */
  private forceBuf = new Float64Array(0);
  private constantBuf = new Float64Array(0);
  private dampingBuf = new Float64Array(0);
  private readonly linear: { constant: Float64Array | null; damping: Float64Array | null } = {
    constant: null,
    damping: null,
  };
  private calibrating = false;
  /** The webgl routes compute in half precision here (`auto` never takes them). */
  private readonly halfGl: boolean;
  /** q̈ errors of the half-precision routes, measured when each was first set. */
  private readonly precisionErrors = new Map<RouteName, PrecisionError>();
  private readonly precisionNoted = new Set<RouteName>();

  protected constructor(init: LearnedEngineInit, kernels: EngineKernels) {
    const { system, model, backend, warnings, options, wasm } = init;
    this.system = system;
    this.model = model;
    this.backend = backend;
    this.warnings = warnings;
    this.options = options;
    this.kernels = kernels;
    this.spec = specFromModel(model);
    this.guard = new StateGuard(model, system.dof);
    this.weights = new EngineWeights(model, this.spec, backend);
    this.outsideTraining = trainingMismatches(model, system);
    this.resident = backend !== 'js' && (options.resident ?? backend === 'webgl');
    // Not tried at load (a forced route other than `wasm`): ready when wasm was initialised before.
    this.wasmSide = wasm ?? {
      ready: (WASM_SIDE_BACKENDS as readonly string[]).includes(backend) && backendReady('wasm'),
    };
    const ctx = {
      system,
      model,
      spec: this.spec,
      backend,
      kernels,
      weights: this.weights,
      guard: this.guard,
      resident: this.resident,
      wasmSide: this.wasmSide,
      wrapFlags: angleFlags(model, system.dof),
      epsilon: epsilonOf(model, options.epsilon),
    };
    this.routes = ROUTE_TABLE.map((create) => create(ctx));
    for (const r of this.routes)
      if (r.available() === null && !this.byName.has(r.name)) this.byName.set(r.name, r);
    this.webglCapabilities = backend === 'webgl' ? webglCapabilities() : null;
    this.halfGl = this.webglCapabilities?.precision === 'float16';
    this.planInput = {
      backend,
      available: this.availableRoutes,
      kind: model.metadata.kind,
      softwareGl: backend === 'webgl' && softwareWebGL(),
      halfPrecisionGl: this.halfGl,
      jsBelow: typeof options.jsBelow === 'number' ? options.jsBelow : undefined,
    };
    this.plan = planRoutes(this.planInput);
    // Validated in `ready()`, after the engine's own constructor.
    this.routeSetting = options.route ?? 'auto';
    const first = this.plan.routeFor(1);
    this.book = new ReportBook(
      first,
      first === 'wasm' ? 'wasm' : backend,
      this.byName.get(first)!.precision(),
    );
    if (this.halfGl) {
      const notice = `WebGL computes in float16 here (${this.webglCapabilities!.reasons.join('; ')}): route 'auto' takes no webgl route (${planSummary(this.plan, 'auto', null, [])}); a webgl route forced by hand runs in float16 and reports its q̈ error against the float64 reference.`;
      console.warn(`three-lnn: ${notice}`);
      (this.warnings as string[]).push(notice);
    }
    this.accelerationFn = (q, qd, qdd, batch) => this.accelerations(q, qd, qdd, batch);
    this.stageFn = (q, qd, qdd, batch, t) =>
      this.stage === null
        ? this.accelerations(q, qd, qdd, batch, t, this.activeForces)
        : this.evaluate(this.stage, q, qd, qdd, batch, t ?? 0, this.activeForces);
    if (model.metadata.kind === 'baseline') {
      this.forceSupport = BASELINE_FORCE_SUPPORT;
      this.massScale = null;
      this.massScaleProblem = null;
    } else {
      this.forceSupport = null;
      const recorded = model.metadata.massScale;
      let scale: EngineMassScale | null = null;
      let problem: string | null = null;
      if (recorded !== undefined) {
        scale = { value: recorded.value, spread: recorded.spread, source: 'model' };
      } else {
        try {
          const m = measureMassScale(model, system, { states: MASS_SCALE_STATES, seed: MASS_SCALE_SEED });
          scale = { value: m.value, spread: m.spread, source: 'measured at load' };
        } catch (e) {
          problem = (e as Error).message;
        }
      }
      this.massScale = scale;
      this.massScaleProblem = problem;
    }
  }

  /** The last step's report (see {@link EngineReport}); `route` names the route it took. */
  get lastReport(): EngineReport {
    return this.book.report;
  }

  /** The diagonal shift magnitude in use, or undefined for the relative default. */
  protected get epsilon(): number | undefined {
    return epsilonOf(this.model, this.options.epsilon);
  }

  /** Whether this engine (on webgl or cpu) can take the `wasm` route next to its backend. */
  protected get wasmRouteReady(): boolean {
    return this.wasmSide.ready && this.backend !== 'wasm';
  }

  /**
   * The route setting: `'auto'` (a route per batch size from the plan: see {@link routeSummary}) or a
   * forced route.
   * @throws Error when set to a route this engine does not have (see {@link LearnedEngine.availableRoutes})
   */
  get route(): 'auto' | RouteName {
    return this.routeSetting;
  }

  set route(value: 'auto' | RouteName) {
    if (value !== 'auto' && !this.byName.has(value)) {
      const why =
        value === 'wasm' && this.wasmSide.problem !== undefined ? ` (wasm: ${this.wasmSide.problem})` : '';
      throw new Error(
        `${this.id} engine: route '${value}' is not available here (backend ${this.backend}${why}); use one of auto, ${this.availableRoutes.join(', ')}.`,
      );
    }
    this.routeSetting = value;
    if (value !== 'auto') this.notePrecision(this.byName.get(value)!);
  }

  /**
   * On a half-precision WebGL context (float16 textures, or a fragment highp below float32): the
   * precision, the routes `auto` leaves out, and the q̈ errors measured for the routes among them set
   * by hand (`route` option, {@link route}, {@link pinRoute}); null on a float32 context or another
   * backend.
   */
  get precisionNote(): PrecisionNote | null {
    if (!this.halfGl) return null;
    const routes = this.availableRoutes.filter((r) => WEBGL_ROUTES.includes(r));
    const setting = this.routeSetting;
    const forced = setting !== 'auto' && routes.includes(setting) ? setting : null;
    const measured = [...this.precisionErrors.values()];
    const error = forced === null ? undefined : this.precisionErrors.get(forced);
    const message =
      forced === null
        ? `WebGL float16: ${routes.join(', ')} left out of auto (${this.webglCapabilities!.reasons.join('; ')})`
        : `${forced} runs in float16 (${this.webglCapabilities!.reasons.join('; ')}): q̈ error against float64 ${error === undefined ? 'not measured' : formatPrecisionError(error)}`;
    return {
      precision: 'float16',
      reasons: this.webglCapabilities!.reasons,
      routes,
      forced,
      measured,
      message,
    };
  }

  /**
   * For a route computing in half precision, measure its q̈ error against the float64 reference once
   * and say so in {@link warnings} (and the console).
   */
  private notePrecision(route: Route): void {
    if (route.precision() !== 'float16' || this.precisionNoted.has(route.name)) return;
    this.precisionNoted.add(route.name);
    const head = `route '${route.name}' computes in float16 on this WebGL context (${this.webglCapabilities?.reasons.join('; ') ?? 'float16 textures'})`;
    let notice: string;
    try {
      const error = this.measurePrecision(route);
      this.precisionErrors.set(route.name, error);
      notice = `${head}: q̈ error against the float64 reference, measured at load on ${PRECISION_STATES} states from the training box: ${formatPrecisionError(error)}.`;
    } catch (e) {
      notice = `${head}; measuring its q̈ error against the float64 reference failed (${(e as Error).message}).`;
    }
    console.warn(`three-lnn: ${notice}`);
    (this.warnings as string[]).push(notice);
  }

  /** q̈ on `route` against the float64 reference at {@link precisionStates} (no report, no callback). */
  private measurePrecision(route: Route): PrecisionError {
    const n = this.system.dof;
    const count = PRECISION_STATES;
    const { q, qd } = precisionStates(this.model, n, count);
    const qdd = new Float64Array(count * n);
    const flags = new Uint8Array(count);
    route.enter(() => route.accelerations(q, qd, qdd, count, flags, null));
    this.guard.apply(q, qd, qdd, count, flags);
    const ref = new Float64Array(count * n);
    const refFlags = new Uint8Array(count);
    referenceAccelerations(this.model, q, qd, ref, count, { flags: refFlags, epsilon: this.epsilon });
    return compareToReference(route.name, route.precision(), qdd, flags, ref, refFlags, n);
  }

  /**
   * Routes this engine can take: `js`, its TF.js backend, `webgl-fused` for `lnn` on webgl, and `wasm`
   * on webgl or cpu when the wasm backend was initialised.
   */
  get availableRoutes(): RouteName[] {
    return [...this.byName.keys()];
  }

  /** The route a call of `batch` states takes under the current setting. */
  routeFor(batch: number): RouteName {
    return this.routeSetting === 'auto' ? this.plan.routeFor(batch) : this.routeSetting;
  }

  /**
   * With `'auto'`: calls with at most this many states take `js` (0: none). Assigning a number sets
   * that threshold by hand and only it: the plan's other routes stay (`webgl-fused` where the plan has
   * that range, then `wasm` or the backend, or a calibrated plan's measured routes), and a later
   * {@link calibrate} keeps it; assigning the value read gives the same plan. `'auto'` returns to the
   * plan's own threshold (fixed, or measured after calibration). See `LearnedEngineOptions.jsBelow`.
   */
  get jsBelow(): number {
    return this.plan.jsBelow;
  }

  set jsBelow(value: number | 'auto') {
    this.replan({ jsBelow: value === 'auto' ? undefined : value });
  }

  /**
   * With `'auto'`, above `jsBelow`: calls with at most this many states take `webgl-fused` (0: none).
   * Assigning a number sets that threshold by hand and only it, as for {@link jsBelow}; `'auto'` returns
   * to the plan's own range.
   */
  get webglFusedBelow(): number {
    return this.plan.webglFusedBelow;
  }

  set webglFusedBelow(value: number | 'auto') {
    this.replan({ webglFusedBelow: value === 'auto' ? undefined : value });
  }

  /** Rebuild the plan with a threshold set by hand (`undefined`: the plan's own), keeping the rest. */
  private replan(thresholds: Pick<PlanInput, 'jsBelow' | 'webglFusedBelow'>): void {
    this.planInput = { ...this.planInput, ...thresholds };
    this.plan = planRoutes(this.planInput);
  }

  /**
   * One line for a UI: the setting, the batch ranges of each route and, after calibration, the measured
   * rates, e.g. `auto: wasm`, `auto: js ≤ 2 states, then cpu` or
   * `auto (calibrated): js ≤ 3 states, then wasm · state-steps/s at 1 / 8 states: js 1,900 / 1,900; wasm 700 / 4,800`.
   */
  get routeSummary(): string {
    const summary = planSummary(
      this.plan,
      this.routeSetting,
      this.resident ? (this.backend as RouteName) : null,
      this.routeTimings,
    );
    const note = this.precisionNote;
    return note === null ? summary : `${summary} · ${note.message}`;
  }

  /**
   * The route a step of `batch` states takes now, with its backend and precision, for recordings and
   * snapshots to replay with ({@link LearnedEngine.pinRoute}).
   */
  describeRoute(batch: number): EngineRoute {
    const route = this.byName.get(this.routeFor(Math.max(1, Math.floor(batch))))!;
    return { route: route.name, backend: route.backend, precision: route.precision() };
  }

  /**
   * Take exactly `recorded.route` from now on (as {@link LearnedEngine.describeRoute} recorded it), so a
   * replay gives the recorded numbers bit for bit.
   * @throws Error naming the route and the available ones when this engine does not have the route, or
   * when it would compute it on another backend or in another precision than recorded
   */
  pinRoute(recorded: EngineRoute): void {
    const route = this.byName.get(recorded.route as RouteName);
    const offer = this.availableRoutes
      .map((name) => {
        const r = this.byName.get(name)!;
        return `${name} (${r.backend}, ${r.precision()})`;
      })
      .join(', ');
    if (route === undefined) {
      throw new Error(
        `${this.id} engine: cannot replay route '${recorded.route}' (${recorded.backend}, ${recorded.precision}): this engine (backend ${this.backend}) offers ${offer}.`,
      );
    }
    if (route.backend !== recorded.backend || route.precision() !== recorded.precision) {
      throw new Error(
        `${this.id} engine: cannot replay route '${recorded.route}' as recorded (${recorded.backend}, ${recorded.precision}): here it runs on ${route.backend} in ${route.precision()}; this engine offers ${offer}.`,
      );
    }
    this.route = route.name;
  }

  /** Asynchronous set-up after construction (worker threads); when it throws, the engine is disposed. */
  async start(): Promise<void> {}

  /**
   * Batched q̈ (see `AccelerationFn`): `q`, `qd`, `qdd`: `[batch * dof]`; with `forces`, of the forced
   * motion at time `t`: H_vv q̈ = ∂L/∂q − H_vq q̇ + α·Q(t, q, q̇), α = {@link massScale}.
   * @throws Error for forces on a baseline (see {@link forceSupport}) or forces of another shape
   */
  accelerations(
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t = 0,
    forces: Forces | null = null,
  ): void {
    this.checkState(q, qd, batch, qdd);
    const active = this.checkForces(forces, batch);
    const route = this.decide(batch);
    route.enter(() => this.evaluate(route, q, qd, qdd, batch, t, active));
  }

  /**
   * Advance `batch` states in place by `dt` from time `t0`, under `forces` when given. With `resident`
   * on (webgl default) and `rk4` or `symplectic-euler`, every stage runs on the backend and the state is
   * read back once (also under forces without a callback: their linear part is applied there).
   * @throws Error for forces on a baseline (see {@link forceSupport}) or forces of another shape
   */
  step(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    t0 = 0,
    forces: Forces | null = null,
  ): void {
    this.advance(q, qd, batch, dt, integrator, 1, t0, forces);
  }

  /**
   * Advance by `substeps` steps of `dt`: the route is decided once for the whole call. On the
   * GPU-resident routes (resident backend with `rk4` / `symplectic-euler`, `webgl-fused` with `rk4`)
   * with one readback in total; otherwise `substeps` steps of `integrator` on the route.
   * `lastReport` merges the flags of all stages. Under `forces` (from time `t0`): a force without a
   * callback keeps the GPU-resident routes (its linear part α·Q_c − α·C q̇ is applied on the device at
   * every stage); a callback steps stage by stage on the route, with Q evaluated on the CPU at each
   * stage's time.
   * @param q `[batch * dof]` @param qd `[batch * dof]`
   * @throws Error for forces on a baseline (see {@link forceSupport}) or forces of another shape
   */
  advance(
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    substeps = 1,
    t0 = 0,
    forces: Forces | null = null,
  ): void {
    this.checkState(q, qd, batch);
    const active = this.checkForces(forces, batch);
    try {
      this.run(this.decide(batch), q, qd, batch, dt, integrator, substeps, t0, active);
    } finally {
      if (!this.calibrating) this.options.onReport?.(this.lastReport);
    }
  }

  /**
   * Time every available route on scratch states (an `advance` of `CALIBRATION_SUBSTEPS` RK4 substeps
   * of 1/120 s at 1 and 8 states; `calibrate.ts`), then fix the plan of `'auto'` to the cheapest route
   * per batch size (`js` and `webgl-fused` within capped ranges). A threshold set by hand (option
   * `jsBelow`, or {@link jsBelow} / {@link webglFusedBelow} assigned before or after) overrides the
   * measured one; the rest of the plan is measured. The plan stays as measured until the next explicit
   * call; {@link routeSummary}, {@link routeTimings} and {@link describeRoute} report it. Runs at load
   * with the option `calibrate`.
   * @param options the cap of the `js` and `webgl-fused` ranges, or the clock and cap
   * @returns the `js` threshold of the plan (the one set by hand, if any)
   * @throws Error after {@link dispose}
   */
  calibrate(options: number | CalibrationOptions = {}): number {
    this.checkLive();
    if (this.backend === 'js') return this.jsBelow;
    const { now, maxThreshold } =
      typeof options === 'number' ? { now: undefined, maxThreshold: options } : options;
    const n = this.system.dof;
    const rk4 = new RungeKutta4();
    const q = new Float64Array(8 * n);
    const qd = new Float64Array(8 * n);
    this.calibrating = true;
    let measured: ReturnType<typeof measureRoutes>;
    try {
      // The routes `auto` may take: not the webgl routes on a half-precision context.
      measured = measureRoutes(
        autoRoutes(this.planInput),
        (name, batch) => {
          for (let i = 0; i < q.length; i++) {
            q[i] = 0.3 * Math.sin(i + 1);
            qd[i] = 0.5 * Math.cos(i + 1);
          }
          this.run(this.byName.get(name)!, q, qd, batch, 1 / 120, rk4, CALIBRATION_SUBSTEPS);
        },
        now,
      );
    } finally {
      this.calibrating = false;
      this.book.clearTotals();
    }
    this.planInput = { ...this.planInput, costs: measured.costs, cap: maxThreshold };
    this.plan = planRoutes(this.planInput);
    this.routeTimings = measured.timings;
    // Until the first call, the report names the route a single state would take.
    const first = this.byName.get(this.routeFor(1))!;
    const r = this.book.report;
    r.route = first.name;
    r.backend = this.reportBackend(first);
    r.path = first.name === 'js' ? 'js' : first.advance ? 'resident' : 'tensor';
    this.book.describe(first.precision(), this.precisionErrors.get(first.name) ?? null);
    return this.jsBelow;
  }

  /**
   * End of the load (`openEngine`): check the `route` option against the available routes and
   * calibrate when the option `calibrate` asks for it. A route whose backend fell back becomes `'auto'`
   * with a warning.
   * @throws Error for an unavailable route (the engine is disposed first)
   */
  ready(): void {
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
    const calibrate = this.options.calibrate;
    if (this.routeSetting === 'auto' && calibrate) this.calibrate(calibrate === true ? {} : calibrate);
  }

  /**
   * Free the weight tensors (on the engine's backend and, after the `wasm` route ran, on wasm), the
   * routes' resources and whatever the engine's kernels hold. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const r of this.routes) r.dispose?.();
    this.weights.dispose();
    this.disposeResources();
  }

  /** Engines free what they hold beyond the weights here (called once, from `dispose`). */
  protected disposeResources(): void {}

  /** The route of a call of `batch` states: decided once per call. */
  private decide(batch: number): Route {
    return this.byName.get(this.routeFor(batch))!;
  }

  /** One advance on `route` (inside its `enter`): a whole-step advance when it has one, else the integrator. */
  private run(
    route: Route,
    q: Float64Array,
    qd: Float64Array,
    batch: number,
    dt: number,
    integrator: Integrator,
    substeps: number,
    t0 = 0,
    forces: Forces | null = null,
  ): void {
    const book = this.book;
    book.merging = true;
    book.reset(batch);
    try {
      route.enter(() => {
        // A callback's Q depends on the stage: no whole-step advance, every stage on the CPU side.
        const whole = forces?.varying
          ? null
          : (route.advance?.(q, qd, batch, dt, integrator, substeps, this.linearForce(forces, batch)) ??
            null);
        if (whole !== null) {
          book.record(
            whole.flags,
            batch,
            'resident',
            route.name,
            this.reportBackend(route),
            1,
            whole.evaluations,
          );
          book.describe(route.precision(), this.precisionErrors.get(route.name) ?? null);
          return;
        }
        this.stage = route;
        this.activeForces = forces;
        for (let s = 0; s < substeps; s++) {
          integrator.step(this.stageFn, q, qd, this.system.dof, batch, dt, t0 + s * dt);
        }
      });
    } finally {
      this.stage = null;
      this.activeForces = null;
      book.merging = false;
    }
  }

  /**
   * q̈ on `route` (inside its `enter`), the failed-state policy, and the report. Under `forces`, α·Q at
   * (t, q, q̇) is evaluated here in float64 into scratch and handed to the route, which adds it to the
   * right-hand side before the solve (the one place forces enter the staged routes).
   */
  private evaluate(
    route: Route,
    q: Float64Array,
    qd: Float64Array,
    qdd: Float64Array,
    batch: number,
    t = 0,
    forces: Forces | null = null,
  ): void {
    const flags = this.book.callFlags(batch);
    const force = forces === null ? null : this.scaledForce(forces, t, q, qd, batch);
    route.accelerations(q, qd, qdd, batch, flags, force);
    // One failed-state policy for every route: q̈ = 0 and flag failed for a state with a non-finite or
    // out-of-range network input, a non-finite q̈ or a failed solve.
    this.guard.apply(q, qd, qdd, batch, flags);
    const js = route.name === 'js';
    const threads = js ? 1 : (this.kernels.threads?.(route.name, batch) ?? 1);
    this.book.record(flags, batch, js ? 'js' : 'tensor', route.name, this.reportBackend(route), threads);
    this.book.describe(route.precision(), this.precisionErrors.get(route.name) ?? null);
    if (!this.book.merging && !this.calibrating) this.options.onReport?.(this.book.report);
  }

  /**
   * The forces a call runs under: null for none or zero forces (the unforced code path), else `forces`.
   * @throws Error for forces on a baseline, without a mass scale, or of another dof or too few copies
   */
  private checkForces(forces: Forces | null | undefined, batch: number): Forces | null {
    if (forces === null || forces === undefined || forces.zero) return null;
    if (this.forceSupport !== null) throw new Error(`${this.id} engine: ${this.forceSupport}.`);
    if (this.massScale === null) {
      throw new Error(
        `${this.id} engine: forces need the model's mass scale α, which could not be measured (${this.massScaleProblem}); record metadata.massScale in the model.`,
      );
    }
    checkForcesShape(`${this.id} engine`, forces, this.system.dof, batch);
    return forces;
  }

  /** α·Q(t, q, q̇) of `batch` states in scratch `[batch * dof]` (grown once, reused). */
  private scaledForce(
    forces: Forces,
    t: number,
    q: Float64Array,
    qd: Float64Array,
    batch: number,
  ): Float64Array {
    const size = batch * this.system.dof;
    if (this.forceBuf.length < size) this.forceBuf = new Float64Array(size);
    const out = this.forceBuf;
    forces.evaluate(t, q, qd, out, batch, 0);
    const alpha = this.massScale!.value;
    for (let i = 0; i < size; i++) out[i] *= alpha;
    return out;
  }

  /** The linear part α·Q_c, α·C of forces without a callback, for a resident advance; null for none. */
  private linearForce(forces: Forces | null, batch: number): LinearForce | null {
    if (forces === null) return null;
    const n = this.system.dof;
    const alpha = this.massScale!.value;
    const size = batch * n;
    const c = forces.constant;
    const d = forces.damping;
    if (c !== null) {
      if (this.constantBuf.length < size) this.constantBuf = new Float64Array(size);
      for (let i = 0; i < size; i++) this.constantBuf[i] = alpha * c[i];
    }
    if (d !== null) {
      if (this.dampingBuf.length < n) this.dampingBuf = new Float64Array(n);
      for (let i = 0; i < n; i++) this.dampingBuf[i] = alpha * d[i];
    }
    // Whole scratch buffers (at least `[batch * dof]`, exactly `[dof]`): no view allocated per step.
    this.linear.constant = c === null ? null : this.constantBuf;
    this.linear.damping = d === null ? null : this.dampingBuf;
    return this.linear;
  }

  /** The backend a report names: `wasm` on the wasm route, else the engine's backend. */
  private reportBackend(route: Route): BackendName {
    return route.name === 'wasm' ? 'wasm' : this.backend;
  }

  /** Throw a clear Error for use after dispose. */
  private checkLive(): void {
    if (this.disposed) throw new Error(`${this.id} engine: used after dispose().`);
  }

  /** Throw a clear Error for wrong array sizes or use after dispose. */
  private checkState(q: Float64Array, qd: Float64Array, batch: number, qdd?: Float64Array): void {
    this.checkLive();
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
