import { BACKEND_NAMES, type BackendName } from '../learned/backend.js';
import type { CalibrationOptions } from '../learned/calibrate.js';
import type { LearnedEngineOptions } from '../learned/options.js';
import { ROUTE_NAMES, type RouteName } from '../learned/Route.js';
import type { ModelSource } from '../model/loadModel.js';
import { BaselineEngine } from './BaselineEngine.js';
import { LGNEngine } from './LGNEngine.js';
import { LNNEngine } from './LNNEngine.js';
import { type EngineOptions, registerEngine } from './registry.js';

/** The model from engine options, or a clear Error naming the engine and how to pass one. */
function modelOf(id: string, options: EngineOptions): ModelSource {
  if (options.model === undefined || options.model === null || options.model === '') {
    throw new Error(
      `The '${id}' engine needs a model: pass { model: '<model directory or URL>' } (CLI: --model <dir>), e.g. a directory under assets/models/.`,
    );
  }
  return options.model as ModelSource;
}

/** Translate registry options into {@link LearnedEngineOptions}, validating the backend name. */
export function learnedOptions(options: EngineOptions): LearnedEngineOptions {
  const backend = options.backend;
  if (backend !== undefined && backend !== 'auto' && !BACKEND_NAMES.includes(backend as BackendName)) {
    throw new Error(`Unknown backend '${backend}'; expected one of ${BACKEND_NAMES.join(', ')} or auto.`);
  }
  const o: LearnedEngineOptions = { backend: backend as BackendName | 'auto' | undefined };
  const route = options.route;
  if (route !== undefined) {
    if (route !== 'auto' && !ROUTE_NAMES.includes(route as RouteName)) {
      throw new Error(`Unknown route '${String(route)}'; expected auto or one of ${ROUTE_NAMES.join(', ')}.`);
    }
    o.route = route as RouteName | 'auto';
  }
  if (typeof options.jsBelow === 'number' || options.jsBelow === 'auto') o.jsBelow = options.jsBelow;
  const calibrate = options.calibrate;
  if (calibrate !== undefined) o.calibrate = calibrationOf(calibrate);
  const outside = options.outsideTraining;
  if (outside !== undefined) {
    if (outside !== 'error' && outside !== 'run') {
      throw new Error(`Unknown outsideTraining '${String(outside)}'; expected 'error' or 'run'.`);
    }
    o.outsideTraining = outside;
  }
  if (typeof options.epsilon === 'number') o.epsilon = options.epsilon;
  if (typeof options.resident === 'boolean') o.resident = options.resident;
  if (typeof options.threads === 'number' || options.threads === 'auto') o.threads = options.threads;
  if (typeof options.parallelAbove === 'number') o.parallelAbove = options.parallelAbove;
  if (typeof options.wasmPaths === 'string') o.wasmPaths = options.wasmPaths;
  if (typeof options.allowFloat16 === 'boolean') o.allowFloat16 = options.allowFloat16;
  if (typeof options.onReport === 'function')
    o.onReport = options.onReport as LearnedEngineOptions['onReport'];
  return o;
}

/**
 * The `calibrate` option: a boolean, or `{ now, maxThreshold }` (`CalibrationOptions`) passed on as given.
 * @throws Error for any other value, or a field of the wrong type
 */
function calibrationOf(value: unknown): boolean | CalibrationOptions {
  if (typeof value === 'boolean') return value;
  const expected = 'expected true, false or { now?: () => number, maxThreshold?: number }';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Unknown calibrate '${String(value)}'; ${expected}.`);
  }
  const { now, maxThreshold } = value as Record<string, unknown>;
  if (now !== undefined && typeof now !== 'function') {
    throw new Error(`calibrate.now must be a function returning milliseconds; ${expected}.`);
  }
  if (
    maxThreshold !== undefined &&
    (typeof maxThreshold !== 'number' || !Number.isFinite(maxThreshold) || maxThreshold < 0)
  ) {
    throw new Error(
      `calibrate.maxThreshold must be a finite number ≥ 0, got ${String(maxThreshold)}; ${expected}.`,
    );
  }
  const out: CalibrationOptions = {};
  if (now !== undefined) out.now = now as () => number;
  if (maxThreshold !== undefined) out.maxThreshold = maxThreshold as number;
  return out;
}

/**
 * Register the learned engines `lnn`, `baseline` and `lgn` with the engine registry (done once when this
 * module is imported; calling again is harmless).
 * @example await createEngine('lnn', system, { model: 'assets/models/double-pendulum-lnn', backend: 'wasm' });
 */
export function registerLearnedEngines(): void {
  registerEngine('lnn', (system, options) =>
    LNNEngine.load(modelOf('lnn', options), system, learnedOptions(options)),
  );
  registerEngine('baseline', (system, options) =>
    BaselineEngine.load(modelOf('baseline', options), system, learnedOptions(options)),
  );
  registerEngine('lgn', (system, options) =>
    LGNEngine.load(modelOf('lgn', options), system, learnedOptions(options)),
  );
}

registerLearnedEngines();
