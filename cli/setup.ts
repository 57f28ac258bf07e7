import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Engine, Integrator, IntegratorId, System } from '../src/core/types.js';
import { createEngine, hasEngine, listEngines } from '../src/engines/registry.js';
import { createIntegrator, INTEGRATOR_IDS, isIntegratorId } from '../src/integrators/registry.js';
import { setsNodeCount } from '../src/model/checkSystem.js';
import { createSystem, listSystems } from '../src/systems/registry.js';
import { CliError } from './CliError.js';
import { readCappedFile } from './io.js';
import { DEFAULT_MAX_INPUT_BYTES } from './limits.js';

/** Engines that need a trained model (`--model`) and register themselves when their module loads. */
export const LEARNED_ENGINES: readonly string[] = ['lnn', 'baseline', 'lgn'];

/**
 * Modules that register engines outside the core, by engine id. Imported only when such an engine is
 * asked for, so commands on the exact engines never load TensorFlow.js or cannon-es.
 */
const ENGINE_MODULES: ReadonlyMap<string, () => Promise<unknown>> = new Map<string, () => Promise<unknown>>([
  ['lnn', () => import('../src/engines/learned.js')],
  ['baseline', () => import('../src/engines/learned.js')],
  ['lgn', () => import('../src/engines/learned.js')],
  ['cannon', () => import('../plugins/cannon/registerCannonEngine.js')],
]);

/** The physics metadata of a model directory (`model.json` → `userDefinedMetadata.threeLnn`). */
export interface ModelInfo {
  /** The directory holding `model.json`. */
  dir: string;
  /** `lnn`, `baseline` or `lgn`. */
  kind: string;
  /** System id and parameters the model was trained on. */
  system: { id: string; params: Record<string, number> };
  /** Degrees of freedom the model was trained with. */
  dof: number;
}

/** Whether `x` is a plain JSON object (not null, not an array). */
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `obj[key]` when `obj` has its own `key`; never a value inherited from Object.prototype. */
export function own(obj: unknown, key: string): unknown {
  return isObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/**
 * Read and parse a model directory's `model.json` (at most `maxBytes` bytes).
 * @param path a model directory or its `model.json`
 * @returns the file's path and its parsed contents (any JSON value)
 * @throws CliError (exit status 2) when the path is missing, unreadable, too large or not JSON
 */
export async function readModelJson(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<{ file: string; json: unknown }> {
  let file = path;
  try {
    if ((await stat(path)).isDirectory()) file = join(path, 'model.json');
  } catch {
    throw new CliError(`--model: '${path}' does not exist. Give a model directory containing model.json.`);
  }
  const text = await readCappedFile(file, '--model', maxBytes);
  try {
    return { file, json: JSON.parse(text) };
  } catch (err) {
    throw new CliError(`--model: '${file}' is not valid JSON (${(err as Error).message}).`);
  }
}

/**
 * Read a model's metadata without loading TensorFlow.js, so that a mismatch is reported before any
 * weights are read.
 * @param path a model directory or its `model.json`
 * @param maxBytes the largest `model.json` read (`--max-input-bytes`)
 * @throws CliError when the file is missing or is not a three-lnn model
 */
export async function readModelInfo(
  path: string,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<ModelInfo> {
  const { file, json } = await readModelJson(path, maxBytes);
  const meta = own(own(json, 'userDefinedMetadata'), 'threeLnn');
  if (!isObject(meta)) {
    throw new CliError(
      `--model: '${file}' has no userDefinedMetadata.threeLnn section; it is not a three-lnn model (see docs/model-format.md).`,
    );
  }
  const system = own(meta, 'system');
  const id = own(system, 'id');
  const dof = own(meta, 'dof');
  const kind = own(meta, 'kind');
  if (typeof id !== 'string' || !Number.isInteger(dof) || (dof as number) < 1 || typeof kind !== 'string') {
    throw new CliError(
      `--model: '${file}' lacks system.id, dof or kind in its metadata (see docs/model-format.md).`,
    );
  }
  const rawParams = own(system, 'params') ?? {};
  if (!isObject(rawParams)) {
    throw new CliError(
      `--model: '${file}': system.params must be an object of numbers (see docs/model-format.md).`,
    );
  }
  const params: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(rawParams)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new CliError(`--model: '${file}': system.params.${k} must be a finite number.`);
    }
    params[k] = v;
  }
  return {
    dir: file === path ? dirname(path) : path,
    kind,
    system: { id, params },
    dof: dof as number,
  };
}

/**
 * Build the system named by `--system` with `--params` overrides (on top of a model's training
 * parameters when a model is given).
 * @throws CliError for an unknown id (listing the valid ones) or bad parameter names/values
 */
export function buildSystem(
  id: string,
  params: Record<string, number> | undefined,
  model?: ModelInfo,
  warn: (message: string) => void = () => {},
): System {
  const known = listSystems().map((s) => s.id);
  if (!known.includes(id)) {
    throw new CliError(`--system: unknown system '${id}'. Valid systems: ${known.join(', ')}.`);
  }
  if (model && model.system.id !== id) {
    throw new CliError(
      `--model: the model in '${model.dir}' was trained on '${model.system.id}', not '${id}'. ` +
        `Use --system ${model.system.id} or a model trained on ${id}.`,
    );
  }
  let system: System;
  try {
    system = createSystem(id, { ...(model?.system.params ?? {}), ...(params ?? {}) });
  } catch (err) {
    throw new CliError(`--params: ${(err as Error).message}`);
  }
  for (const [key, value] of Object.entries(params ?? {})) {
    const trained = model && Object.hasOwn(model.system.params, key) ? model.system.params[key] : undefined;
    // The policy of checkModelForSystem: an lgn model runs any number of nodes.
    if (model?.kind === 'lgn' && trained !== undefined && setsNodeCount(system, key, trained)) continue;
    if (trained !== undefined && trained !== value) {
      warn(
        `--params ${key}=${value} differs from the model's training value ${trained}; the model knows only ${trained}.`,
      );
    }
  }
  // A graph model runs any number of nodes; the others are tied to the dof they were trained with.
  if (model && model.kind !== 'lgn' && model.dof !== system.dof) {
    throw new CliError(
      `--model: the model in '${model.dir}' has ${model.dof} degrees of freedom but ${id} with these parameters has ${system.dof}.`,
    );
  }
  return system;
}

/**
 * Make sure the engine `id` is registered, importing the module that registers it on first use.
 * Does nothing for unknown ids (createEngine reports them).
 */
export async function ensureEngine(id: string): Promise<void> {
  const load = ENGINE_MODULES.get(id);
  if (load && !hasEngine(id)) await load();
}

/** Engines that are registered or can be loaded on demand. */
export function knownEngines(): string[] {
  return [...new Set([...listEngines(), ...ENGINE_MODULES.keys()])];
}

/**
 * Refuse an engine id that is neither registered nor loadable, before any input is read.
 * @throws CliError listing the known engines
 */
export function checkEngineId(id: string): void {
  const known = knownEngines();
  if (!known.includes(id)) {
    throw new CliError(`--engine: unknown engine '${id}'. Available engines: ${known.join(', ')}.`);
  }
}

/**
 * Create the engine named by `--engine` for `system`.
 * @throws CliError for an unknown engine (listing the known ones), a learned engine without a model, or
 * a model of another kind
 */
export async function buildEngine(
  id: string,
  system: System,
  model?: ModelInfo,
  backend?: string,
): Promise<Engine> {
  await ensureEngine(id);
  if (!hasEngine(id)) {
    if (ENGINE_MODULES.has(id)) {
      throw new CliError(
        `--engine: engine '${id}' is not available in this installation (its module did not load).`,
      );
    }
    throw new CliError(`--engine: unknown engine '${id}'. Available engines: ${knownEngines().join(', ')}.`);
  }
  if (LEARNED_ENGINES.includes(id)) {
    if (!model) throw new CliError(`--engine ${id} needs a trained model: add --model <dir>.`);
    if (model.kind !== id) {
      throw new CliError(
        `--model: the model in '${model.dir}' is a '${model.kind}' model; use --engine ${model.kind} with it.`,
      );
    }
  }
  try {
    return await createEngine(id, system, {
      ...(model ? { model: model.dir } : {}),
      ...(backend ? { backend } : {}),
    });
  } catch (err) {
    throw new CliError(`--engine ${id}: ${(err as Error).message}`);
  }
}

/**
 * Create the integrator named by `--integrator`.
 * @throws CliError for an unknown id, listing the known ones
 */
export function buildIntegrator(id: string): Integrator {
  if (!isIntegratorId(id)) {
    throw new CliError(
      `--integrator: unknown integrator '${id}'. Valid integrators: ${INTEGRATOR_IDS.join(', ')}.`,
    );
  }
  return createIntegrator(id as IntegratorId);
}

/** Read `--model` metadata when given (a `model.json` of at most `maxBytes` bytes). */
export async function optionalModel(
  path: string | undefined,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Promise<ModelInfo | undefined> {
  return path === undefined ? undefined : readModelInfo(path, maxBytes);
}
