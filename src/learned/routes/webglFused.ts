import type { GpuStepper } from '../../gpu/GpuStepper.js';
import { tensorFormOf } from '../../integrators/tensor.js';
import { ensureBackend } from '../backend.js';
import { webglPrecision } from '../capabilities.js';
import type { Route, RouteContext } from '../Route.js';
import { coastFailed, ResidentScratch } from './coast.js';

/**
 * The `webgl-fused` route: `lnn` on webgl, the engine's fused GPU stepper (`WebGLLnnStepper`, 3H − 1
 * passes per q̈), with `rk4` stages and substeps resident on the GPU and one readback per `advance`.
 * The stepper is created on first use. An external force's linear part (α·Q_c, α·C) goes up once per
 * advance and is applied in the solve pass of every stage (no readback added).
 */
export function webglFusedRoute(ctx: RouteContext): Route {
  let stepper: GpuStepper | null = null;
  let disposed = false;
  const scratch = new ResidentScratch();
  const gpu = (): GpuStepper => {
    if (disposed) throw new Error('webgl-fused route: used after dispose().');
    stepper ??= ctx.kernels.gpuStepper!();
    return stepper;
  };
  return {
    name: 'webgl-fused',
    backend: 'webgl',
    available: () =>
      ctx.backend !== 'webgl'
        ? `webgl-fused needs the webgl backend (backend ${ctx.backend})`
        : ctx.kernels.gpuStepper === undefined
          ? `webgl-fused runs lnn models only (this is ${ctx.model.metadata.kind})`
          : null,
    precision: () => webglPrecision(),
    enter: (fn) => {
      ensureBackend('webgl');
      return fn();
    },
    accelerations: (q, qd, qdd, batch, flags, force) => {
      const g = gpu();
      g.accelerations(q, qd, qdd, batch, force);
      flags.set(g.flags.subarray(0, batch));
    },
    advance(q, qd, batch, dt, integrator, substeps, force) {
      // The fused programs combine RK4 stages only.
      if (tensorFormOf(integrator)?.id !== 'rk4') return null;
      const g = gpu();
      const skip = scratch.skipMask(ctx.guard, q, qd, batch);
      g.advance(q, qd, batch, dt, substeps, skip, force);
      const flags = scratch.flags(batch);
      flags.set(g.flags.subarray(0, batch));
      coastFailed(q, qd, ctx.system.dof, batch, dt, substeps, skip, flags);
      return { flags, evaluations: 4 * substeps };
    },
    dispose: () => {
      disposed = true;
      stepper?.dispose();
      stepper = null;
    },
  };
}
