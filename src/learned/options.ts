import type { BackendOptions } from './backend.js';
import type { CalibrationOptions } from './calibrate.js';
import type { EngineReport } from './EngineReport.js';
import type { RouteName } from './Route.js';

/** Options shared by the learned engines (`lnn`, `baseline`, `lgn`). */
export interface LearnedEngineOptions extends BackendOptions {
  /**
   * Where q̈ is computed (see `RouteName`). `'auto'` takes a route per batch size from a fixed plan
   * (`RoutePlanner`; docs/performance.md, "Routes"): the same scene, model and machine take the same
   * routes on every run. A route name forces that route (it must be available: `js` always, the
   * engine's backend, `webgl-fused` for `lnn` on webgl, `wasm` on webgl or cpu when the wasm backend
   * initialises). With `'auto'` or `'wasm'`, an engine on webgl or cpu initialises the wasm backend when
   * it loads (see `wasmPaths`). Can be changed later through `LearnedEngine.route`.
   * @default 'auto'
   */
  route?: 'auto' | RouteName;
  /**
   * With `route: 'auto'`: time every available route once at load and fix the plan to the cheapest route
   * per batch size (`LearnedEngine.calibrate`; reported by `routeSummary`, `routeTimings` and
   * `describeRoute`). The plan then depends on this machine's timings at load, so record
   * `describeRoute(batch)` and `pinRoute` it to replay a run bit for bit. An object passes the clock
   * and the cap of the measured ranges. A numeric `jsBelow` overrides the measured `js` threshold.
   * @default false
   */
  calibrate?: boolean | CalibrationOptions;
  /**
   * With `route: 'auto'`: calls with at most this many states take the `js` route (0: none). A number
   * sets only this threshold, in place of the plan's own: above it the plan's other routes stay
   * (`webgl-fused` where the plan has that range, then `wasm` or the backend; with `calibrate`, the
   * measured routes). `'auto'`: the plan's own threshold (fixed, or measured with `calibrate`). Can be
   * changed later through `LearnedEngine.jsBelow`.
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
   * engine; docs/performance.md, "Worker threads"). `'auto'` = the machine's available parallelism (one
   * thread, with a warning, where workers cannot run). q̈ is bitwise the same on any number of threads.
   * Used by the `lnn` engine.
   * @default 1
   */
  threads?: number | 'auto';
  /** With `threads` > 1: batches of at least this many states are split across the threads. @default 64 */
  parallelAbove?: number;
  /**
   * What a system parameter value other than the model's training value does (see
   * `checkModelForSystem`): `'error'` refuses the model at load with a `param-mismatch`
   * `ModelFormatError`; `'run'` runs it, with a warning per parameter and the mismatches listed in
   * `LearnedEngine.outsideTraining`.
   * @default 'error'
   */
  outsideTraining?: 'error' | 'run';
  /** Called after every step / acceleration call with its {@link EngineReport}. @default undefined */
  onReport?: (report: EngineReport) => void;
}
