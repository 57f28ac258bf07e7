import type { Engine, EngineId, System } from '../core/types.js';
import { MODEL_KINDS, type ModelKind } from '../model/metadata.js';
import { AnalyticEngine } from './AnalyticEngine.js';
import { LagrangianEngine } from './LagrangianEngine.js';

/**
 * Ids of the learned engines (`lnn`, `baseline`, `lgn`: one per model kind). They need a model and register
 * when the learned module (`three-lnn/learned`) is imported; {@link loadEngine} and {@link createEngine}
 * import it on first use.
 */
export const LEARNED_ENGINE_IDS: readonly ModelKind[] = MODEL_KINDS;

/**
 * Options passed to an engine factory. Engines read the keys they understand and ignore the rest.
 * @example await createEngine('lnn', system, { model: 'assets/models/double-pendulum', backend: 'wasm' })
 */
export interface EngineOptions {
  /**
   * A learned model: a directory path or URL of a model (see docs/model-format.md), or an already
   * loaded model object. Ignored by the exact engines.
   * @default undefined
   */
  model?: string | URL | object;
  /**
   * TF.js backend name for learned engines (`'wasm'`, `'cpu'`, `'webgl'`). Ignored by CPU engines.
   * @default undefined (the engine's own choice)
   */
  backend?: string;
  /**
   * Route of a learned engine (`'js'`, `'wasm'`, `'webgl'`, `'webgl-fused'`, …, or `'auto'`). Ignored by CPU
   * engines.
   * @default undefined (the engine's own choice)
   */
  route?: string;
  /**
   * What a learned engine does on a system whose parameter values differ from its model's training values:
   * `'error'` refuses it (a `param-mismatch` ModelFormatError), `'run'` runs it with a warning (see
   * `checkModelForSystem`). Ignored by the exact engines.
   * @default 'error'
   */
  outsideTraining?: 'error' | 'run';
  /** Engine-specific options. */
  [key: string]: unknown;
}

/** Builds an engine for one system. May be async (learned engines load weights). */
export type EngineFactory = (system: System, options: EngineOptions) => Engine | Promise<Engine>;

/** Registered factories, by engine id. */
const factories = new Map<string, EngineFactory>([
  // The exact engines ship with the core and are always available.
  ['analytic', (system, options) => new AnalyticEngine(system, { fused: options.fused !== false })],
  ['lagrangian', (system) => new LagrangianEngine(system)],
]);

/**
 * Register an engine kind under `id`. Registering an id again replaces the previous factory, so a
 * module may override a built-in engine.
 * @example registerEngine('my-engine', (system) => new MyEngine(system));
 */
export function registerEngine(id: EngineId, factory: EngineFactory): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new Error(`registerEngine: id must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  if (typeof factory !== 'function') {
    throw new Error(`registerEngine('${id}'): factory must be a function (system, options) => Engine`);
  }
  factories.set(id, factory);
}

/** Modules that register engines when imported, by engine id: loaded on first use. */
const loaders = new Map<string, () => Promise<unknown>>(
  LEARNED_ENGINE_IDS.map((id) => [id, () => import('./learned.js')]),
);

/**
 * Register a module that registers engine `id` when imported, so that {@link loadEngine} and
 * {@link createEngine} import it only when that engine is asked for (the learned engines are registered
 * this way, so a page on exact physics never loads TensorFlow.js).
 * @example registerEngineLoader('cannon', () => import('three-lnn/cannon'));
 */
export function registerEngineLoader(id: EngineId, load: () => Promise<unknown>): void {
  if (typeof id !== 'string' || id.length === 0) {
    throw new Error(`registerEngineLoader: id must be a non-empty string, got ${JSON.stringify(id)}`);
  }
  if (typeof load !== 'function') {
    throw new Error(`registerEngineLoader('${id}'): load must be a function () => Promise<module>`);
  }
  loaders.set(id, load);
}

/**
 * Make sure engine `id` is registered, importing the module that registers it on first use (the learned
 * engines `lnn`, `baseline` and `lgn`, and those of {@link registerEngineLoader}).
 * @returns whether an engine is registered under `id` now (false for an unknown id)
 * @example await loadEngine('lnn'); // TF.js is loaded here, not before
 */
export async function loadEngine(id: EngineId): Promise<boolean> {
  if (factories.has(id)) return true;
  const load = loaders.get(id);
  if (load) await load();
  return factories.has(id);
}

/** Ids of the engines that are registered or can be loaded on demand ({@link loadEngine}). */
export function listLoadableEngines(): string[] {
  return [...new Set([...factories.keys(), ...loaders.keys()])];
}

/** Whether an engine kind is registered under `id`. */
export function hasEngine(id: string): boolean {
  return factories.has(id);
}

/** Ids of every registered engine kind, in registration order. */
export function listEngines(): string[] {
  return [...factories.keys()];
}

/**
 * Create an engine of kind `id` for `system`, loading its module first when it registers on import
 * ({@link loadEngine}).
 * @throws Error naming the unknown id and listing the known ones.
 * @example const engine = await createEngine('analytic', createSystem('double-pendulum'));
 */
export async function createEngine(
  id: EngineId,
  system: System,
  options: EngineOptions = {},
): Promise<Engine> {
  await loadEngine(id);
  const factory = factories.get(id);
  if (factory === undefined) {
    const known = listLoadableEngines();
    throw new Error(
      `Unknown engine '${id}'. Known engines: ${known.length > 0 ? known.join(', ') : '(none registered)'}. ` +
        'Register one with registerEngine(id, factory).',
    );
  }
  return factory(system, options);
}
