import type { Engine, EngineId, System } from '../core/types.js';
import { AnalyticEngine } from './AnalyticEngine.js';
import { LagrangianEngine } from './LagrangianEngine.js';

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

/** Whether an engine kind is registered under `id`. */
export function hasEngine(id: string): boolean {
  return factories.has(id);
}

/** Ids of every registered engine kind, in registration order. */
export function listEngines(): string[] {
  return [...factories.keys()];
}

/**
 * Create an engine of kind `id` for `system`.
 * @throws Error naming the unknown id and listing the registered ones.
 * @example const engine = await createEngine('analytic', createSystem('double-pendulum'));
 */
export async function createEngine(
  id: EngineId,
  system: System,
  options: EngineOptions = {},
): Promise<Engine> {
  const factory = factories.get(id);
  if (factory === undefined) {
    const known = listEngines();
    throw new Error(
      `Unknown engine '${id}'. Known engines: ${known.length > 0 ? known.join(', ') : '(none registered)'}. ` +
        'Learned engines register when their module is imported.',
    );
  }
  return factory(system, options);
}
