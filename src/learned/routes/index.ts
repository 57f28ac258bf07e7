import type { RouteFactory } from '../Route.js';
import { jsRoute } from './js.js';
import { residentRoute } from './resident.js';
import { sideWasmRoute } from './sideWasm.js';
import { tensorRoute } from './tensor.js';
import { webglFusedRoute } from './webglFused.js';

/**
 * The route table, in the order `availableRoutes` lists them: `js`, the engine's backend (resident when
 * the engine keeps the state there), `webgl-fused`, then `wasm` next to a webgl or cpu engine. Adding a
 * route is one file in this folder and one entry here.
 */
export const ROUTE_TABLE: readonly RouteFactory[] = [
  jsRoute,
  (ctx) => (ctx.resident ? residentRoute(ctx) : tensorRoute(ctx)),
  webglFusedRoute,
  sideWasmRoute,
];
