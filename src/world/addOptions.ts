import type { Engine, EngineId, Integrator, IntegratorId, System } from '../core/types.js';
import type { EngineOptions } from '../engines/registry.js';
import type { IntegratorOptions } from '../integrators/registry.js';
import { createSystem } from '../systems/registry.js';

/** A system given to {@link World.add}: an instance or a registered system id. */
export type SystemSpec = System | string;

/** Options of `World.add`, shared by `physics.addSystem` (three.js) and `attachLagrangian` (cannon-es). */
export interface AddOptions {
  /**
   * An engine instance (kept by the caller, not disposed by the world) or an engine id, created
   * through the engine registry (and disposed by the world). The learned engines (`lnn`, `baseline`,
   * `lgn`) are loaded on first use.
   * @default 'analytic'
   */
  engine?: Engine | EngineId;
  /**
   * Options for an engine created by id (for example `{ threads: 'auto' }`); `model`, `backend`, `route`
   * and `outsideTraining` given beside it take precedence.
   * @default {}
   */
  engineOptions?: EngineOptions;
  /**
   * Model of a learned engine created by id: a directory path (Node), a URL (browser) or a loaded model.
   * @default undefined
   */
  model?: EngineOptions['model'];
  /**
   * TF.js backend of a learned engine created by id (`'webgl'`, `'wasm'`, `'cpu'`).
   * @default undefined (the engine's own choice)
   */
  backend?: string;
  /**
   * Route of a learned engine created by id (`'js'`, `'wasm'`, `'webgl'`, `'webgl-fused'`, …).
   * @default undefined (the engine's own choice)
   */
  route?: string;
  /**
   * What a learned engine created by id does when the system's parameter values differ from its model's
   * training values: `'error'` refuses (a `param-mismatch` ModelFormatError naming each parameter), `'run'`
   * runs it with a warning.
   * @default 'error'
   */
  outsideTraining?: 'error' | 'run';
  /**
   * System parameters: applied with `createSystem(id, params)` to a system given by id, or with
   * `system.withParams(params)` to an instance.
   * @default {} (the system's own values)
   */
  params?: Partial<Record<string, number>>;
  /**
   * Integrator id or instance.
   * @default 'rk4'
   */
  integrator?: IntegratorId | Integrator;
  /**
   * Options when `integrator` is an id (dopri5 tolerances).
   * @default {}
   */
  integratorOptions?: IntegratorOptions;
  /**
   * Initial q, `[dof]` (all copies alike) or `[count * dof]`.
   * @default zeros
   */
  q0?: ArrayLike<number>;
  /**
   * Initial q̇, `[dof]` or `[count * dof]`.
   * @default zeros
   */
  qd0?: ArrayLike<number>;
  /**
   * Number of copies stepped as one batch.
   * @default 1
   */
  count?: number;
  /**
   * Name, unique within the world.
   * @default `${system.id}-${n}`
   */
  name?: string;
}

/** Whether `x` is a {@link System} (an object with `dof` and forward kinematics). */
export function isSystem(x: unknown): x is System {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as System).positions === 'function' &&
    typeof (x as System).dof === 'number'
  );
}

/**
 * The system a spec names: `createSystem(spec, params)` for a registered id, `spec.withParams(params)` for
 * an instance given parameters, else the instance itself.
 * @param where prefix of the error message
 * @throws Error for an unknown id or parameter, or a spec that is neither a System nor a string
 * @example systemFrom('double-pendulum', { l1: 1.2 })
 */
export function systemFrom(
  spec: SystemSpec,
  params?: Partial<Record<string, number>>,
  where = 'World.add',
): System {
  if (typeof spec === 'string') return createSystem(spec, params ?? {});
  if (isSystem(spec)) return params !== undefined ? spec.withParams(params) : spec;
  throw new Error(`${where}: expected a System or a registered system id, got ${typeof spec}`);
}

/** Shorthands of {@link AddOptions} that are engine options. */
const ENGINE_SHORTHANDS = ['model', 'backend', 'route', 'outsideTraining'] as const;

/**
 * The options an engine created by id gets: `engineOptions` with the `model`, `backend`, `route` and
 * `outsideTraining` shorthands laid over it.
 * @throws Error when a shorthand is given with an engine instance (it would have no effect)
 */
export function engineOptionsOf(options: AddOptions): EngineOptions {
  const out: EngineOptions = { ...options.engineOptions };
  for (const key of ENGINE_SHORTHANDS) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof options.engine === 'object') {
      throw new Error(
        `World.add: '${key}' configures an engine created by id; it has no effect on the engine instance given (configure that engine where it is created)`,
      );
    }
    (out as Record<string, unknown>)[key] = value;
  }
  return out;
}
