import { referenceAccelerations } from '../../model/reference.js';
import type { Route, RouteContext } from '../Route.js';

/** The `js` route: float64 plain JS, no TF.js (the engine's `js` kernel, else the float64 reference). */
export function jsRoute(ctx: RouteContext): Route {
  const epsilon = ctx.epsilon;
  const dof = ctx.system.dof;
  const js =
    ctx.kernels.js?.bind(ctx.kernels) ??
    ((
      q: Float64Array,
      qd: Float64Array,
      qdd: Float64Array,
      batch: number,
      flags: Uint8Array,
      force: Float64Array | null,
    ) => {
      const size = batch * dof;
      referenceAccelerations(ctx.model, q.subarray(0, size), qd.subarray(0, size), qdd, batch, {
        flags,
        epsilon,
        force,
      });
    });
  return {
    name: 'js',
    backend: 'js',
    available: () => null,
    precision: () => 'float64',
    enter: (fn) => fn(),
    accelerations: js,
  };
}
