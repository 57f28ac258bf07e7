import type { Route, RouteContext } from '../Route.js';
import type { WeightSet } from '../weights.js';

/** Engine backends that also offer the `wasm` route next to them. */
export const WASM_SIDE_BACKENDS = ['webgl', 'cpu'] as const;

/**
 * The `wasm` route of an engine on `webgl` or `cpu`: the engine's `tensor` kernel on the wasm backend
 * with a second copy of the weights there (uploaded on first use). TF.js has one active backend, so
 * {@link Route.enter} makes wasm active for the call (an `advance` switches once) and then restores the
 * backend that was active before. On software WebGL (SwiftShader) or the cpu backend the fused wasm
 * kernels are several times faster than the engine's backend for batches of more than a few states.
 */
export function sideWasmRoute(ctx: RouteContext): Route {
  let current: WeightSet | null = null;
  const side = (WASM_SIDE_BACKENDS as readonly string[]).includes(ctx.backend);
  return {
    name: 'wasm',
    backend: 'wasm',
    available: () =>
      !side
        ? `the wasm route runs next to a webgl or cpu engine (backend ${ctx.backend})`
        : ctx.wasmSide.ready
          ? null
          : `the wasm backend is not ready${ctx.wasmSide.problem ? `: ${ctx.wasmSide.problem}` : ''}`,
    precision: () => 'float32',
    enter: (fn) => {
      if (current !== null) return fn();
      return ctx.weights.onWasm((w) => {
        current = w;
        try {
          return fn();
        } finally {
          current = null;
        }
      });
    },
    accelerations: (q, qd, qdd, batch, flags, force) => {
      if (current === null) throw new Error('wasm route: accelerations outside enter()');
      ctx.kernels.tensor(current, q, qd, qdd, batch, flags, force);
    },
  };
}
