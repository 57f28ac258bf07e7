import type { ModelKind } from '../model/metadata.js';
import type { BackendName } from './backend.js';
import type { RouteName } from './Route.js';

/** A route's measured cost (see `calibrate.ts`): ms per `advance` = fixed + perState · batch. */
export interface RouteCost {
  fixed: number;
  perState: number;
}

/**
 * The fixed plan of `route: 'auto'`, from the figures in docs/performance.md ("Routes"):
 * - on the wasm backend (the Node default), `wasm` from the first state: the fastest route at every batch
 *   (Node, shipped model, near idle: 4,677 against 1,992 js state-steps/s at one state; Chromium: 0.21 ms
 *   per RK4 step against 0.28 for js);
 * - on webgl or cpu with the `wasm` route next to it, `lnn` calls of at most {@link FIXED_JS_BELOW} states
 *   take `js` and larger ones `wasm`: switching the active backend to wasm and back costs a fixed amount
 *   per call (Chromium on SwiftShader, near idle: js 3,543–3,661 against wasm 1,685–2,859 state-steps/s
 *   at one state, wasm 8,989–11,874 against js 3,807–3,871 at 8; timed crossover at 1–2 states);
 * - without wasm, `lnn` calls of at most {@link FIXED_JS_BELOW} states take `js` (the float64 evaluator
 *   does no TF.js work: 13,951 q̈/s at one state against 148 webgl and 498 webgl-fused);
 * - `baseline` and `lgn` evaluate `js` with the float64 reference (~3,000 q̈/s), so they start on
 *   `wasm` or the backend;
 * - on webgl without wasm: on a software renderer (SwiftShader) `lnn` stays on `js` at every batch
 *   (13,595–15,053 q̈/s against at most 9,259 for webgl); on a hardware renderer `webgl-fused` takes the
 *   batches up to {@link FIXED_WEBGL_FUSED_BELOW} states (the crossover of its 498 / 1,720 q̈/s with
 *   webgl's 148 / 4,704 at 1 / 64 states), then `webgl`;
 * - otherwise the engine's backend;
 * - on a WebGL context that computes in half precision (`halfPrecisionGl`: float16 textures, or a
 *   fragment highp below float32), never `webgl` or `webgl-fused`: `js` up to {@link FIXED_JS_BELOW}
 *   states for `lnn`, then `wasm` when the engine has it, else `js` (float64) at every batch. A route
 *   forced by hand still runs there (the engine reports its precision and measured error).
 */
export const FIXED_JS_BELOW = 2;

/** Upper end of `webgl-fused` in the fixed plan (hardware WebGL without wasm; see {@link FIXED_JS_BELOW}). */
export const FIXED_WEBGL_FUSED_BELOW = 11;

/** Cap of the calibrated `js` and `webgl-fused` ranges. */
export const CALIBRATION_CAP = 256;

/** What a plan is made from; no timing and no TF.js: the same input gives the same plan. */
export interface PlanInput {
  /** The engine's backend. */
  backend: BackendName;
  /** The routes the engine has (see `availableRoutes`). */
  available: readonly RouteName[];
  /** The engine kind. */
  kind: ModelKind;
  /** Whether the webgl backend runs on a software renderer (a property of the machine). @default false */
  softwareGl?: boolean;
  /**
   * Whether the webgl routes compute in half precision here (float16 textures, or a fragment highp
   * below float32; `webglCapabilities`): the plan then never takes `webgl` or `webgl-fused`, whether
   * fixed, with thresholds set by hand or calibrated. @default false
   */
  halfPrecisionGl?: boolean;
  /**
   * A `js` threshold set by hand: calls with at most this many states take `js` (0: no `js` range). It
   * replaces only the plan's own `js` threshold, fixed or measured: above it the plan's other routes
   * stay (`webgl-fused` up to its upper end where the plan has that range, then `wasm` or the backend,
   * or a calibrated plan's measured routes). Ignored on the js backend, where every call takes `js`.
   */
  jsBelow?: number;
  /**
   * An upper end of the `webgl-fused` range set by hand (when the engine has that route): calls above
   * `jsBelow` and with at most this many states take `webgl-fused` (0: none). It replaces only the
   * plan's own `webgl-fused` range, as `jsBelow` does for `js`.
   */
  webglFusedBelow?: number;
  /** Measured costs per route (`calibrate.ts`): the plan then takes the cheapest route per batch. */
  costs?: Partial<Record<RouteName, RouteCost>>;
  /** Cap of the measured `js` and `webgl-fused` ranges. @default CALIBRATION_CAP */
  cap?: number;
}

/** How a plan was made: the fixed rules, the fixed rules with a threshold set by hand, or measured costs. */
export type PlanMode = 'fixed' | 'thresholds' | 'calibrated';

/**
 * A route per batch size, fixed once made. `ranges` lists consecutive `[route, largest batch]` pairs;
 * the last one is unbounded (`Infinity`).
 */
export interface RoutePlan {
  readonly mode: PlanMode;
  readonly ranges: readonly (readonly [RouteName, number])[];
  /** Calls with at most this many states take `js`. */
  readonly jsBelow: number;
  /** Upper end of the `webgl-fused` range (0: none). */
  readonly webglFusedBelow: number;
  /** The route of a call of `batch` states. */
  routeFor(batch: number): RouteName;
}

/**
 * Build a plan (see {@link FIXED_JS_BELOW} for the fixed rules): the fixed plan, or the measured one
 * with `costs`, each with the thresholds set by hand in place of its own. Pure: no timing, no TF.js.
 */
export function planRoutes(given: PlanInput): RoutePlan {
  if (given.backend === 'js') return fromRanges('fixed', [['js', Number.POSITIVE_INFINITY]]);
  const input: PlanInput = { ...given, available: autoRoutes(given) };
  if (input.costs !== undefined) return calibrated(input, input.cap ?? CALIBRATION_CAP);
  const own = fixedPlan(input);
  const byHand = input.jsBelow !== undefined || input.webglFusedBelow !== undefined;
  const js = input.jsBelow ?? own.js;
  const fused =
    input.webglFusedBelow === undefined
      ? own.fused
      : input.available.includes('webgl-fused')
        ? input.webglFusedBelow
        : 0;
  return fromRanges(byHand ? 'thresholds' : 'fixed', [
    ['js', js],
    ['webgl-fused', Math.max(js, fused)],
    [own.after, Number.POSITIVE_INFINITY],
  ]);
}

/** The routes that compute in the webgl backend's precision (half precision on some contexts). */
export const WEBGL_ROUTES: readonly RouteName[] = ['webgl', 'webgl-fused'];

/**
 * The routes `route: 'auto'` may take: the available ones, less the webgl routes when they compute in
 * half precision (`halfPrecisionGl`). Pure.
 */
export function autoRoutes(input: Pick<PlanInput, 'available' | 'halfPrecisionGl'>): RouteName[] {
  return input.halfPrecisionGl
    ? input.available.filter((r) => !WEBGL_ROUTES.includes(r))
    : [...input.available];
}

/**
 * The route that takes the batches above the plan's other ranges: the engine's backend, or on a
 * half-precision WebGL context `wasm` when the engine has it, else `js`.
 */
function homeRoute(input: PlanInput): RouteName {
  const { backend, available } = input;
  if (!input.halfPrecisionGl || !WEBGL_ROUTES.includes(backend as RouteName)) return backend as RouteName;
  return available.includes('wasm') ? 'wasm' : 'js';
}

/**
 * The fixed plan as thresholds: `js` up to `js`, `webgl-fused` up to `fused` (0 or ≤ `js`: no range),
 * then `after` (see {@link FIXED_JS_BELOW}).
 */
function fixedPlan(input: PlanInput): { js: number; fused: number; after: RouteName } {
  const { backend, available } = input;
  const lnn = input.kind === 'lnn';
  const js = lnn ? FIXED_JS_BELOW : 0;
  if (backend === 'wasm') return { js: 0, fused: 0, after: 'wasm' };
  if (available.includes('wasm')) return { js, fused: 0, after: 'wasm' };
  const home = homeRoute(input);
  if (home === 'js') return { js: Number.POSITIVE_INFINITY, fused: 0, after: 'js' };
  if (backend === 'webgl' && input.softwareGl && lnn)
    return { js: Number.POSITIVE_INFINITY, fused: 0, after: backend };
  const fused =
    backend === 'webgl' && !input.softwareGl && available.includes('webgl-fused')
      ? FIXED_WEBGL_FUSED_BELOW
      : 0;
  return { js, fused, after: backend };
}

/**
 * The plan from measured costs: the cheapest route per batch, `js` and `webgl-fused` within `cap`; a
 * threshold set by hand replaces the measured one (`webgl-fused` then takes its whole range above `js`).
 */
function calibrated(input: PlanInput, cap: number): RoutePlan {
  const { available } = input;
  const backend = homeRoute(input);
  const costs = input.costs!;
  const at = (r: RouteName, b: number) => {
    const c = costs[r];
    return c === undefined || !available.includes(r) ? Number.POSITIVE_INFINITY : c.fixed + c.perState * b;
  };
  const others = available.filter((r) => r !== 'js');
  // With costs linear in the batch, each route is cheapest on one interval of batches: js (cheapest at the
  // smallest batches, if anywhere) up to its upper end, webgl-fused on the interval ending at `fused`.
  let js = 0;
  if (input.jsBelow !== undefined) js = Math.max(0, input.jsBelow);
  else for (let b = 1; b <= cap; b++) if (others.every((r) => at('js', b) <= at(r, b))) js = b;
  let fused = 0;
  const fusedByHand = input.webglFusedBelow !== undefined && available.includes('webgl-fused');
  if (fusedByHand) fused = Math.max(0, input.webglFusedBelow!);
  else if (input.webglFusedBelow === undefined && at('webgl-fused', 1) < Number.POSITIVE_INFINITY) {
    const rest = others.filter((r) => r !== 'webgl-fused');
    for (let b = 1; b <= cap; b++) if (rest.every((r) => at('webgl-fused', b) < at(r, b))) fused = b;
  }
  const thresholds = { jsBelow: js, webglFusedBelow: fused };
  const choose = (b: number): RouteName => {
    if (b <= js) return 'js';
    if (fusedByHand && b <= fused) return 'webgl-fused';
    // The cheapest of the backend (or its stand-in), wasm and (within its range) webgl-fused; ties go
    // to the backend.
    let best: RouteName = backend;
    let cost = at(backend, b);
    const candidates: RouteName[] = b <= fused ? ['webgl-fused', 'wasm'] : ['wasm'];
    for (const r of candidates) {
      const v = at(r, b);
      if (v < cost) {
        best = r;
        cost = v;
      }
    }
    return best;
  };
  const ranges: [RouteName, number][] = js > 0 ? [['js', js]] : [];
  const push = (route: RouteName, upTo: number) => {
    const end = ranges[ranges.length - 1];
    if (end && end[0] === route) end[1] = upTo;
    else ranges.push([route, upTo]);
  };
  // Ranges set by hand are taken whole (they may be unbounded or far beyond the cap).
  let from = js + 1;
  if (fusedByHand && fused > js) {
    push('webgl-fused', fused);
    from = fused + 1;
  }
  if (!Number.isFinite(from)) return fromRanges('calibrated', ranges, thresholds);
  const upTo = Math.max(cap, from) + 1;
  for (let b = from; b <= upTo; b++) push(choose(b), b);
  // Beyond `upTo` only the backend and wasm compete: their cost lines cross at most once.
  const tail = choose(upTo);
  const other: RouteName = tail === 'wasm' ? backend : 'wasm';
  const a = costs[tail];
  const o = available.includes(other) ? costs[other] : undefined;
  if (a && o && o.perState < a.perState) {
    const crossing = Math.floor((o.fixed - a.fixed) / (a.perState - o.perState));
    if (crossing < 1e9) {
      let x = Math.max(upTo + 1, crossing - 2);
      while (choose(x) === tail) x++;
      push(tail, x - 1);
      push(choose(x), x);
    }
  }
  return fromRanges('calibrated', ranges, thresholds);
}

/**
 * A plan from consecutive `[route, largest batch]` ranges: empty ranges are dropped, neighbours with the
 * same route merged and the last range made unbounded.
 */
function fromRanges(
  mode: PlanMode,
  given: readonly (readonly [RouteName, number])[],
  thresholds?: { jsBelow: number; webglFusedBelow: number },
): RoutePlan {
  const ranges: [RouteName, number][] = [];
  let lower = 0;
  for (const [route, upTo] of given) {
    if (upTo <= lower) continue;
    const end = ranges[ranges.length - 1];
    if (end && end[0] === route) end[1] = upTo;
    else ranges.push([route, upTo]);
    lower = upTo;
  }
  ranges[ranges.length - 1][1] = Number.POSITIVE_INFINITY;
  let fusedEnd = 0;
  for (const [r, end] of ranges) if (r === 'webgl-fused') fusedEnd = end;
  return {
    mode,
    ranges,
    jsBelow: thresholds?.jsBelow ?? (ranges[0][0] === 'js' ? ranges[0][1] : 0),
    webglFusedBelow: thresholds?.webglFusedBelow ?? fusedEnd,
    routeFor(batch: number): RouteName {
      for (const [r, end] of ranges) if (batch <= end) return r;
      return ranges[ranges.length - 1][0];
    },
  };
}

/** One timing behind a calibrated plan (see `calibrate.ts`). */
export interface RouteTiming {
  route: RouteName;
  /** States advanced together. */
  batch: number;
  /** Milliseconds per timed `advance` call. */
  ms: number;
  /** State-steps per second: batch × substeps / (ms / 1000). */
  stateStepsPerSecond: number;
}

/**
 * One line for a UI: the setting, the batch ranges of each route and, after calibration, the measured
 * rates, e.g. `auto: js ≤ 2 states, then cpu` or
 * `auto (calibrated): js ≤ 3 states, then wasm · state-steps/s at 1 / 8 states: js 1,900 / 1,900; wasm 700 / 4,800`.
 * @param setting the engine's route setting
 * @param residentRoute the backend route when it runs resident (shown as `webgl (resident)`)
 */
export function planSummary(
  plan: RoutePlan,
  setting: 'auto' | RouteName,
  residentRoute: RouteName | null,
  timings: readonly RouteTiming[],
): string {
  const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
  let head: string;
  if (setting !== 'auto') head = `${setting} (forced)`;
  else {
    const parts = plan.ranges.map(([route, upTo], i) => {
      const name = route === residentRoute ? `${route} (resident)` : route;
      return Number.isFinite(upTo) ? `${name} ≤ ${fmt(upTo)}${i === 0 ? ' states' : ''}` : name;
    });
    head = `auto${plan.mode === 'calibrated' ? ' (calibrated)' : ''}: ${parts.join(', then ')}`;
  }
  if (timings.length === 0) return head;
  const batches = [...new Set(timings.map((t) => t.batch))];
  const routes = [...new Set(timings.map((t) => t.route))];
  const rates = routes.map(
    (r) =>
      `${r} ${batches
        .map((b) => {
          const t = timings.find((x) => x.route === r && x.batch === b);
          return t ? fmt(t.stateStepsPerSecond) : '–';
        })
        .join(' / ')}`,
  );
  return `${head} · state-steps/s at ${batches.join(' / ')} states: ${rates.join('; ')}`;
}
