import type { RouteName } from './Route.js';
import type { RouteCost, RouteTiming } from './RoutePlanner.js';

/** Substeps per timed `advance` call in {@link measureRoutes} (one 60 Hz frame at dt = 1/120). */
export const CALIBRATION_SUBSTEPS = 2;

/** Options of a calibration (`LearnedEngineOptions.calibrate`, `LearnedEngine.calibrate`). */
export interface CalibrationOptions {
  /** The clock, in milliseconds. @default performance.now */
  now?: () => number;
  /** Cap of the calibrated `js` and `webgl-fused` ranges. @default 256 */
  maxThreshold?: number;
}

/** What {@link measureRoutes} found: the timings and each route's cost model. */
export interface RouteMeasurement {
  timings: RouteTiming[];
  costs: Partial<Record<RouteName, RouteCost>>;
}

/** Batch sizes timed per route: one state and {@link CALIBRATION_BATCH} states. */
export const CALIBRATION_BATCH = 8;

/**
 * Time `run(route, batch)` (one `advance` of {@link CALIBRATION_SUBSTEPS} substeps) for every route at 1
 * and {@link CALIBRATION_BATCH} states and model each route as a fixed cost plus a cost per state.
 * Per route and batch: untimed calls until the JIT has settled (~30 ms; one call for a slow route, where
 * it mostly compiles shaders), then the best of up to three windows of ≥ 10 ms within ~100 ms.
 * @param now the clock in ms (injectable: tests drive it with noise)
 */
export function measureRoutes(
  routes: readonly RouteName[],
  run: (route: RouteName, batch: number) => void,
  now: () => number = () => performance.now(),
): RouteMeasurement {
  const timings: RouteTiming[] = [];
  const costs: Partial<Record<RouteName, RouteCost>> = {};
  const big = CALIBRATION_BATCH;
  for (const route of routes) {
    const ms = [1, big].map((batch) => {
      const call = () => run(route, batch);
      const warm = now();
      for (let c = 0; c === 0 || (c < 200 && now() - warm < 30); c++) call();
      let best = Number.POSITIVE_INFINITY;
      const start = now();
      for (let r = 0; r < 3 && (r === 0 || now() - start < 100); r++) {
        const t0 = now();
        let calls = 0;
        do {
          call();
          calls++;
        } while (now() - t0 < 10 && calls < 10_000);
        best = Math.min(best, (now() - t0) / calls);
      }
      const t = Math.max(best, 1e-4);
      timings.push({ route, batch, ms: t, stateStepsPerSecond: (batch * CALIBRATION_SUBSTEPS) / (t / 1000) });
      return t;
    });
    const perState = Math.max(0, (ms[1] - ms[0]) / (big - 1));
    costs[route] = { fixed: Math.max(0, ms[0] - perState), perState };
  }
  return { timings, costs };
}
