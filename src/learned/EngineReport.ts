import { SolveFlag } from '../nn/solve64.js';
import type { BackendName } from './backend.js';
import type { PrecisionError } from './precision.js';
import type { RouteName, RoutePrecision } from './Route.js';

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
  /** The route of the last call (see `RouteName`). */
  route: RouteName;
  /**
   * The backend of the last call: the engine's backend, or `wasm` on the `wasm` route of an engine on
   * another backend.
   */
  backend: BackendName;
  /** Threads that computed the last call: 1, or the worker pool's size when it split the batch. */
  threads: number;
  /** Precision of the last call's network arithmetic (`float16` on a half-precision WebGL context). */
  precision: RoutePrecision;
  /**
   * On a route computing in half precision: its q̈ error against the float64 reference, measured when
   * the route was set (at load for the `route` option); null otherwise.
   */
  precisionError: PrecisionError | null;
}

/** Keeps an engine's {@link EngineReport}: per-call flags, merged over the stages of a step, and totals. */
export class ReportBook {
  readonly report: EngineReport;
  /** True inside a step: stage flags are merged instead of replaced. */
  merging = false;
  private scratch = new Uint8Array(0);

  constructor(route: RouteName, backend: BackendName, precision: RoutePrecision) {
    this.report = {
      batch: 0,
      flags: new Uint8Array(0),
      regularised: 0,
      failed: 0,
      totals: { evaluations: 0, regularised: 0, failed: 0 },
      path: route === 'js' ? 'js' : 'tensor',
      route,
      backend,
      threads: 1,
      precision,
      precisionError: null,
    };
  }

  /** Name the precision of the last call's route and, in half precision, its measured error. */
  describe(precision: RoutePrecision, error: PrecisionError | null): void {
    this.report.precision = precision;
    this.report.precisionError = error;
  }

  /** A zeroed per-call flags buffer `[batch]`. */
  callFlags(batch: number): Uint8Array {
    if (this.scratch.length < batch) this.scratch = new Uint8Array(batch);
    const f = this.scratch.subarray(0, batch);
    f.fill(0);
    return f;
  }

  /** Start a fresh report for `batch` states. */
  reset(batch: number): void {
    const r = this.report;
    if (r.flags.length !== batch) r.flags = new Uint8Array(batch);
    else r.flags.fill(0);
    r.batch = batch;
    r.regularised = 0;
    r.failed = 0;
  }

  /** Zero the totals (after a calibration, whose calls do not count). */
  clearTotals(): void {
    const t = this.report.totals;
    t.evaluations = 0;
    t.regularised = 0;
    t.failed = 0;
    this.reset(0);
  }

  /**
   * Fold one call's flags `[batch]` into the report: replace outside a step, keep the worst flag per
   * state over the stages of a step. Totals count flagged states per call (per step on the resident
   * path); `evaluations` is q̈ evaluations per state in this call.
   */
  record(
    flags: Uint8Array,
    batch: number,
    path: EngineReport['path'],
    route: RouteName,
    backend: BackendName,
    threads: number,
    evaluations = 1,
  ): void {
    const r = this.report;
    if (!this.merging || r.flags.length !== batch) this.reset(batch);
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
    r.backend = backend;
    r.threads = threads;
    r.totals.evaluations += batch * evaluations;
    r.totals.regularised += callBad;
    r.totals.failed += callFailed;
  }
}
