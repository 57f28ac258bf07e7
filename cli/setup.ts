import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  checkModelForSystem,
  createEngine,
  createIntegrator,
  createSystem,
  type Engine,
  INTEGRATOR_IDS,
  type Integrator,
  type IntegratorId,
  isIntegratorId,
  LEARNED_ENGINE_IDS,
  listLoadableEngines,
  listSystems,
  loadEngine,
  MAX_EXPRESSION_LENGTH,
  ModelFormatError,
  registerEngineLoader,
  type System,
  systemFromExpression,
} from '../src/index.js';
import { CliError } from './CliError.js';
import { readCappedFile } from './io.js';
import { DEFAULT_MAX_INPUT_BYTES } from './limits.js';

// The cannon engine registers when its plugin module is imported: only when a command asks for it, so
// commands on the exact engines load neither cannon-es nor TensorFlow.js.
registerEngineLoader('cannon', () => import('../plugins/cannon/index.js'));

export { loadEngine };

/** The physics metadata of a model directory (`model.json` → `userDefinedMetadata.threeLnn`). */
export interface ModelInfo {
  /** The directory holding `model.json`. */
  dir: string;
  /** `lnn`, `baseline` or `lgn`. */
  kind: string;
  /** System id and parameters the model was trained on, and its Lagrangian text for a typed system. */
  system: { id: string; params: Record<string, number>; lagrangian?: string };
  /** Degrees of freedom the model was trained with. */
  dof: number;
  /** Which coordinates are angles, when the metadata says. */
  angles?: boolean[];
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
  const lagrangian = own(system, 'lagrangian');
  if (
    lagrangian !== undefined &&
    (typeof lagrangian !== 'string' || lagrangian.length > MAX_EXPRESSION_LENGTH)
  ) {
    throw new CliError(
      `--model: '${file}': system.lagrangian must be the Lagrangian as text of at most ${MAX_EXPRESSION_LENGTH} characters.`,
    );
  }
  const angles = own(meta, 'angles');
  return {
    dir: file === path ? dirname(path) : path,
    kind,
    system: { id, params, ...(typeof lagrangian === 'string' ? { lagrangian } : {}) },
    dof: dof as number,
    ...(Array.isArray(angles) && angles.every((x) => typeof x === 'boolean') ? { angles } : {}),
  };
}

/** Options of {@link buildSystem}. */
export interface BuildSystemOptions {
  /**
   * `--outside-training`: run a model on parameter values other than its training values (the engine
   * warns) instead of refusing.
   * @default false
   */
  outsideTraining?: boolean;
}

/**
 * Build the system named by `--system` with `--params` overrides (on top of a model's training
 * parameters when a model is given), and check the model against it with the library's one policy
 * (`checkModelForSystem`) before any weight is read.
 * @throws CliError for an unknown id (listing the valid ones), bad parameter names/values, or a model
 * trained on another system, another dof, or (without `--outside-training`) other parameter values
 */
export function buildSystem(
  id: string,
  params: Record<string, number> | undefined,
  model?: ModelInfo,
  options: BuildSystemOptions = {},
): System {
  const known = listSystems().map((s) => s.id);
  const typed = model?.system.id === id ? model.system.lagrangian : undefined;
  if (!known.includes(id) && typed === undefined) {
    throw new CliError(`--system: unknown system '${id}'. Valid systems: ${known.join(', ')}.`);
  }
  const values = { ...(model?.system.id === id ? model.system.params : {}), ...(params ?? {}) };
  let system: System;
  if (!known.includes(id) && typed !== undefined && model) {
    // A typed Lagrangian recorded in the model: rebuilt from its text (parsed, never run as code).
    try {
      system = systemFromExpression(typed, {
        id,
        params: values,
        dof: model.dof,
        ...(model.angles ? { angles: model.angles } : {}),
      });
    } catch (err) {
      throw new CliError(
        `--model: the model's system.lagrangian does not give a system: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  } else {
    try {
      system = createSystem(id, values);
    } catch (err) {
      throw new CliError(`--params: ${(err as Error).message}`);
    }
  }
  if (model) checkModel(model, system, options.outsideTraining === true);
  return system;
}

/** `checkModelForSystem` on a model's metadata, its errors worded with the CLI's flags. */
function checkModel(model: ModelInfo, system: System, outsideTraining: boolean): void {
  const kind = LEARNED_ENGINE_IDS.find((k) => k === model.kind);
  if (kind === undefined) return; // buildEngine reports a model of an unknown kind
  try {
    checkModelForSystem(
      {
        source: model.dir,
        metadata: { kind, dof: model.dof, system: model.system, angles: model.angles ?? [...system.angles] },
      },
      system,
      undefined,
      { outsideTraining: outsideTraining ? 'run' : 'error' },
    );
  } catch (err) {
    if (!(err instanceof ModelFormatError)) throw err;
    const where = `--model: the model in '${model.dir}'`;
    // Another system is the root cause of another dof: name it first.
    const problem = model.system.id !== system.id ? 'system-mismatch' : err.problem;
    switch (problem) {
      case 'system-mismatch':
        throw new CliError(
          `${where} was trained on '${model.system.id}', not '${system.id}'. ` +
            `Use --system ${model.system.id} or a model trained on ${system.id}.`,
        );
      case 'dof-mismatch':
        throw new CliError(
          `${where} has ${model.dof} degrees of freedom but ${system.id} with these parameters has ${system.dof}.`,
        );
      case 'param-mismatch': {
        const differing = Object.entries(model.system.params)
          .filter(([k, v]) => system.params[k] !== undefined && system.params[k] !== v)
          .map(([k, v]) => `${k}=${system.params[k]} (trained on ${v})`);
        throw new CliError(
          `${where} was trained on other parameter values: ${differing.join(', ')}. ` +
            'Train a model for these values, or add --outside-training to run it outside its training parameters.',
        );
      }
      default:
        throw new CliError(`--model: ${err.message}`);
    }
  }
}

/** Engines that are registered or can be loaded on demand. */
export function knownEngines(): string[] {
  return listLoadableEngines();
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
  outsideTraining = false,
): Promise<Engine> {
  const loadable = knownEngines().includes(id);
  if (!(await loadEngine(id))) {
    if (loadable) {
      throw new CliError(
        `--engine: engine '${id}' is not available in this installation (its module did not load).`,
      );
    }
    throw new CliError(`--engine: unknown engine '${id}'. Available engines: ${knownEngines().join(', ')}.`);
  }
  if ((LEARNED_ENGINE_IDS as readonly string[]).includes(id)) {
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
      ...(outsideTraining ? { outsideTraining: 'run' as const } : {}),
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
