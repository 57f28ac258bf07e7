import type { Engine, EngineId, Integrator, IntegratorId, System } from '../core/types.js';
import type { EngineOptions } from '../engines/registry.js';
import type { ForceSpec } from '../forces/GeneralizedForces.js';
import type { IntegratorOptions } from '../integrators/registry.js';
import { createSystem } from '../systems/registry.js';

/** A system given to {@link World.add}: an instance or a registered system id. */
export type SystemSpec = System | string;

/** Options of `World.add`, shared by `physics.addSystem` (three.js) and `attachLagrangian` (cannon-es). */
export interface AddOptions {
  /**
   * An engine instance (kept by the caller, not disposed by the world) or an engine id, created
   * through the engine registry (and disposed by the world). The learned engines (`lnn`, `baseline`,
   * `lgn`) are loaded on first use. An instance steps its own `engine.system`, so it must have been built
   * for the system added: the same id, dof and parameter values (else an error naming the difference).
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
   * `system.withParams(params)` to an instance. Refused with an engine instance, which steps the system it
   * was built with: build that engine for the system with these parameters, or give an engine id.
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
  /**
   * External forces from the first step: Rayleigh `damping`, a `constant` generalized force, a
   * `callback` Q(t, q, q̇) (see `handle.forces`). Refused on an engine that takes no forces.
   */
  forces?: ForceSpec;
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

/** A parameter value as it appears in a message: `none` where the system has no such parameter. */
function shown(v: number | undefined): string {
  return v === undefined ? 'none' : String(v);
}

/**
 * Refuse `params` beside an engine instance: they would reach the handle's system but not the engine,
 * which steps its own `engine.system`.
 * @param where prefix of the error message
 * @throws Error when `params` is given, naming the fix
 */
export function refuseParamsWithInstance(
  engine: Engine,
  params: AddOptions['params'],
  where = 'World.add',
): void {
  if (params === undefined) return;
  const id = engine.system.id;
  throw new Error(
    `${where}: 'params' cannot be applied to the engine instance given: it steps its own system ` +
      `('${id}') and would keep that system's values; pass an engine built for the system with these ` +
      `parameters (e.g. new AnalyticEngine(createSystem('${id}', params)) with that system), or an engine ` +
      'id to have one created',
  );
}

/**
 * Check that an engine instance given to `World.add` steps `system`: the engine advances its own
 * `engine.system`, so its id, dof and every parameter value must be those of the system added.
 * @param where prefix of the error message
 * @throws Error naming the other system id, or each differing parameter with both values
 * @example checkEngineInstance(new AnalyticEngine(dp), dp); // passes
 */
export function checkEngineInstance(engine: Engine, system: System, where = 'World.add'): void {
  const own = engine.system;
  if (own.id !== system.id || own.dof !== system.dof) {
    throw new Error(
      `${where}: the engine is for system '${own.id}' (dof ${own.dof}), not '${system.id}' (dof ${system.dof})`,
    );
  }
  const mine: Readonly<Record<string, number | undefined>> = own.params ?? {};
  const theirs: Readonly<Record<string, number | undefined>> = system.params ?? {};
  const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])];
  const differing = keys.filter((k) => mine[k] !== theirs[k]);
  if (differing.length > 0) {
    const list = differing.map((k) => `${k} = ${shown(mine[k])} (engine) ≠ ${shown(theirs[k])} (system)`);
    throw new Error(
      `${where}: the engine steps '${own.id}' with other parameter values than the system given: ` +
        `${list.join(', ')}; pass an engine built for this system, or an engine id to have one created`,
    );
  }
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
