/**
 * A double-pendulum `lnn` engine pinned to one route, for the benchmarks (Node and browser): each
 * measurement names the route it times instead of the engine's automatic choice.
 */

import { LNNEngine } from '../../src/engines/LNNEngine';
import { RungeKutta4 } from '../../src/integrators/RungeKutta4';
import type { RouteName } from '../../src/learned/LearnedEngine';
import type { LoadedModel } from '../../src/model/metadata';
import { createSystem } from '../../src/systems/registry';

/** An engine on one route with an RK4 `advance` shorthand. */
export interface RouteEngine {
  engine: LNNEngine;
  /** q̈ of `batch` states: `q`, `qd`, `qdd` `[batch * 2]`. */
  accelerations(q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number): void;
  /** `substeps` RK4 steps of `dt` in place (one readback on the GPU-resident routes). */
  advance(q: Float64Array, qd: Float64Array, batch: number, dt: number, substeps?: number): void;
  dispose(): void;
}

/**
 * Load `model` for the double pendulum on `route`: `js` without TF.js, `webgl-fused` on webgl, the
 * others on their backend (webgl resident across RK4 stages, as the engine runs by default).
 */
export async function routeEngine(model: LoadedModel, route: RouteName): Promise<RouteEngine> {
  const backend = route === 'webgl-fused' ? 'webgl' : route;
  const engine = await LNNEngine.load(model, createSystem('double-pendulum'), { backend, route });
  if (engine.backend !== backend) {
    engine.dispose();
    throw new Error(`route ${route}: backend ${backend} is not available here (got ${engine.backend}).`);
  }
  const rk4 = new RungeKutta4();
  return {
    engine,
    accelerations: (q, qd, qdd, batch) => engine.accelerations(q, qd, qdd, batch),
    advance: (q, qd, batch, dt, substeps = 1) => engine.advance(q, qd, batch, dt, rk4, substeps),
    dispose: () => engine.dispose(),
  };
}
