import type { System } from '../core/types.js';
import { checkModelForSystem } from '../model/checkSystem.js';
import { loadModel, type ModelSource } from '../model/loadModel.js';
import { ModelFormatError } from '../model/ModelFormatError.js';
import type { LoadedModel, ModelKind } from '../model/metadata.js';
import { type BackendName, initBackend, initSideBackend } from './backend.js';
import type { LearnedEngineOptions } from './options.js';
import { WASM_SIDE_BACKENDS } from './routes/sideWasm.js';

/** What {@link openEngine} hands to an engine's constructor: the checked model and the backend. */
export interface LearnedEngineInit {
  system: System;
  /** The loaded model, already checked against `system`. */
  model: LoadedModel;
  /** The backend actually in use (after fallbacks). */
  backend: BackendName;
  /** Notices about the model/system pairing and backend fallbacks. */
  warnings: string[];
  options: LearnedEngineOptions;
  /**
   * For an engine on webgl or cpu: whether the wasm backend is ready for the `wasm` route, or why not.
   * Undefined when it was not tried.
   */
  wasm?: { ready: boolean; problem?: string };
}

/** What {@link openEngine} needs of the engine it builds. */
export interface OpenedEngine {
  /** Asynchronous set-up after construction (worker threads). */
  start(): Promise<void>;
  /** Check the route setting, calibrate when asked. Throws for an unavailable route. */
  ready(): void;
  dispose(): void;
}

/**
 * The page-wide load queue: the end of the last queued {@link openEngine}. Learned-engine loads run one
 * after another in a page or process, because a load may initialise a TF.js backend asynchronously and
 * TF.js refuses every operation (of any engine) while an initialisation is pending.
 */
let openQueue: Promise<unknown> = Promise.resolve();

/**
 * Load a learned engine: load the model, check it against `system` and `kind` (`checkModelForSystem`
 * with `options.outsideTraining`), initialise the backend (and the wasm backend next to webgl or cpu
 * when `route` is `'auto'` or `'wasm'`), build the engine with `create`, run its `start` and `ready`.
 * The engines' static `load` methods call this. Loads are queued page-wide (see {@link openQueue}): a
 * second load starts when the first has finished or failed.
 * @throws ModelFormatError for a bad file, a model of another kind, a dof, system or parameter mismatch
 */
export function openEngine<E extends OpenedEngine>(
  kind: ModelKind,
  source: ModelSource,
  system: System,
  options: LearnedEngineOptions,
  create: (init: LearnedEngineInit) => E,
): Promise<E> {
  const run = openQueue.then(() => openNow(kind, source, system, options, create));
  openQueue = run.catch(() => undefined);
  return run;
}

/** {@link openEngine} once the loads queued before it have finished. */
async function openNow<E extends OpenedEngine>(
  kind: ModelKind,
  source: ModelSource,
  system: System,
  options: LearnedEngineOptions,
  create: (init: LearnedEngineInit) => E,
): Promise<E> {
  const model = await loadModel(source);
  const warnings = checkModelForSystem(model, system, kind, { outsideTraining: options.outsideTraining });
  requireHiddenLayer(model);
  for (const w of warnings) console.warn(`three-lnn: ${w}`);
  const choice = await initBackend(options);
  let wasm: LearnedEngineInit['wasm'];
  const route = options.route ?? 'auto';
  if (
    (WASM_SIDE_BACKENDS as readonly string[]).includes(choice.name) &&
    (route === 'auto' || route === 'wasm')
  ) {
    const problem = await initSideBackend('wasm', options);
    wasm = problem === null ? { ready: true } : { ready: false, problem };
  }
  const engine = create({
    system,
    model,
    backend: choice.name,
    warnings: [...warnings, ...choice.warnings],
    options,
    wasm,
  });
  try {
    await engine.start();
  } catch (e) {
    engine.dispose();
    throw e;
  }
  engine.ready();
  return engine;
}

/**
 * Refuse an `lnn` or `lgn` network without a hidden layer: its L is linear in (q, q̇), so H_vv is zero
 * everywhere and q̈ is undefined (a `baseline` without one is a linear map and runs).
 * @throws ModelFormatError (`bad-field`)
 */
function requireHiddenLayer(model: LoadedModel): void {
  const meta = model.metadata;
  if (meta.kind === 'baseline' || model.layers.length > 1) return;
  throw new ModelFormatError(
    'bad-field',
    model.source,
    `architecture.layers [${meta.architecture.layers.join(', ')}] has no hidden layer, which an ${meta.kind} model needs: its Lagrangian would be linear in (q, q̇), so H_vv = ∂²L/∂q̇² is zero and q̈ is undefined. Train it with at least one hidden layer (e.g. training/lnn_train.py --hidden 128,128).`,
  );
}
