import { type BackendName, ensureBackend } from '../backend.js';
import { webglPrecision } from '../capabilities.js';
import type { Route, RouteContext } from '../Route.js';

/**
 * The engine's backend route (`webgl`, `wasm` or `cpu`): the engine's `tensor` kernel on its own
 * backend with its own weights, one readback per q̈.
 */
export function tensorRoute(ctx: RouteContext): Route {
  const backend = ctx.backend;
  const name = backend === 'js' ? 'wasm' : backend;
  return {
    name,
    backend,
    available: () => (backend === 'js' ? 'the engine runs without TF.js (backend js)' : null),
    precision: () => (backend === 'webgl' ? webglPrecision() : 'float32'),
    enter: (fn) => {
      ensureBackend(backend as Exclude<BackendName, 'js'>);
      return fn();
    },
    accelerations: (q, qd, qdd, batch, flags, force) =>
      ctx.kernels.tensor(ctx.weights.home, q, qd, qdd, batch, flags, force),
  };
}
