import type { System } from '../core/types.js';
import { ModelFormatError } from './ModelFormatError.js';
import type { ModelKind, ModelMetadata } from './metadata.js';

/**
 * What {@link checkModelForSystem} reads of a model: where it came from and its physics metadata (a
 * `LoadedModel` is one; the CLI checks the metadata of a `model.json` before any weight is read).
 */
export interface ModelBinding {
  /** The path, URL or `'memory'` the model came from. */
  readonly source: string;
  readonly metadata: Pick<ModelMetadata, 'kind' | 'dof' | 'system' | 'angles'>;
}

/** Options of {@link checkModelForSystem}. */
export interface CheckModelOptions {
  /**
   * What a parameter value other than the model's training value does: `'error'` refuses it with a
   * `param-mismatch` {@link ModelFormatError}; `'run'` accepts it and returns a warning per parameter
   * (the model knows only its training values, so its q̈ stays that of the training values).
   * @default 'error'
   */
  outsideTraining?: 'error' | 'run';
}

/** One system parameter whose value differs from the model's training value. */
interface ParamMismatch {
  key: string;
  actual: number;
  trained: number;
}

/** The parameters of `system` whose values differ from the training values in the model's metadata. */
function paramMismatches(model: Pick<ModelBinding, 'metadata'>, system: System): ParamMismatch[] {
  const m = model.metadata;
  const out: ParamMismatch[] = [];
  for (const [key, trained] of Object.entries(m.system.params)) {
    const actual = system.params[key];
    if (actual === undefined || Math.abs(actual - trained) <= 1e-12 * Math.max(1, Math.abs(trained)))
      continue;
    if (m.kind === 'lgn' && setsNodeCount(system, key, trained)) continue; // a graph runs any node count
    out.push({ key, actual, trained });
  }
  return out;
}

/**
 * The system parameters a model runs outside of: one `'<name> <value> ≠ <training value>'` per parameter
 * of `system` whose value differs from the model's training value (an lgn model's node count is not
 * compared: a graph network runs any number of nodes). Empty when the model was trained on exactly these
 * values.
 * @example trainingMismatches(model, createSystem('double-pendulum', { l1: 1.2 })) // ['l1 1.2 ≠ 1']
 */
export function trainingMismatches(model: Pick<ModelBinding, 'metadata'>, system: System): string[] {
  return paramMismatches(model, system).map((p) => `${p.key} ${p.actual} ≠ ${p.trained}`);
}

/**
 * Check that a model can drive `system`; the one policy for "wrong model for this system"
 * (docs/model-format.md, "Binding a model to a system"):
 * - errors: a model of another kind (when `kind` is given), another number of degrees of freedom
 *   (lnn/baseline; an lgn model runs any number of nodes) or another system id: the network describes
 *   another Lagrangian, so its q̈ would be meaningless;
 * - parameter values other than the training values: an error by default (`param-mismatch`, naming each
 *   parameter, both values and the fix), a warning per parameter with `outsideTraining: 'run'`. An lgn
 *   model runs any number of nodes, so the parameter that sets the number of nodes (`nodes` of the
 *   string) is not compared;
 * - angle flags that differ: a warning (inputs are wrapped as the model says).
 * @returns warnings (empty when the model was trained on exactly this system)
 * @throws ModelFormatError (`kind-mismatch`, `dof-mismatch`, `system-mismatch`, `param-mismatch`) naming
 * the mismatch and the fix
 * @example const warnings = checkModelForSystem(model, createSystem('double-pendulum'), 'lnn');
 * @example checkModelForSystem(model, createSystem('double-pendulum', { g: 1.6 }), 'lnn', { outsideTraining: 'run' });
 */
export function checkModelForSystem(
  model: ModelBinding,
  system: System,
  kind?: ModelKind,
  options: CheckModelOptions = {},
): string[] {
  const m = model.metadata;
  const outsideTraining = options.outsideTraining ?? 'error';
  if (outsideTraining !== 'error' && outsideTraining !== 'run') {
    throw new Error(
      `checkModelForSystem: outsideTraining must be 'error' or 'run', got ${String(outsideTraining)}`,
    );
  }
  const warnings: string[] = [];
  if (kind !== undefined && m.kind !== kind) {
    throw new ModelFormatError(
      'kind-mismatch',
      model.source,
      `is a ${m.kind} model, but the ${kind} engine needs a ${kind} model; use the '${m.kind}' engine for it.`,
    );
  }
  if (m.kind !== 'lgn' && m.dof !== system.dof) {
    throw new ModelFormatError(
      'dof-mismatch',
      model.source,
      `was trained for ${m.dof} degrees of freedom (${m.system.id}) but system '${system.id}' has ${system.dof}; pick a model trained for this system.`,
    );
  }
  checkModelSystemId(m.system.id, system.id, model.source);
  const mismatches = paramMismatches(model, system);
  if (mismatches.length > 0 && outsideTraining === 'error') {
    const list = mismatches.map((p) => `${p.key} = ${p.actual} (trained on ${p.trained})`).join(', ');
    throw new ModelFormatError(
      'param-mismatch',
      model.source,
      `was trained on '${m.system.id}' with other parameter values: ${list}; train a model for these values, or pass outsideTraining: 'run' to run it outside its training parameters.`,
    );
  }
  for (const p of mismatches) {
    warnings.push(
      `model ${model.source}: system parameter ${p.key} = ${p.actual} differs from the training value ${p.trained}; the model knows only the training value.`,
    );
  }
  if (m.kind === 'lgn') {
    const flag = m.angles[0];
    if (system.angles.some((a) => a !== flag)) {
      warnings.push(
        `the lgn model treats every node coordinate as ${flag ? 'an angle' : 'a displacement'}, but system '${system.id}' flags differ.`,
      );
    }
  } else if (m.angles.some((a, i) => a !== system.angles[i])) {
    warnings.push(
      `angle flags differ: model ${JSON.stringify(m.angles)}, system ${JSON.stringify(system.angles)}; inputs are wrapped as the model says.`,
    );
  }
  return warnings;
}

/**
 * Whether parameter `key` sets the number of nodes of `system`: with its training value `trained` the
 * system has another number of degrees of freedom. An lgn model runs any number of nodes, so such a
 * parameter is not compared.
 */
export function setsNodeCount(system: System, key: string, trained: number): boolean {
  try {
    return system.withParams({ [key]: trained }).dof !== system.dof;
  } catch {
    return false;
  }
}

/**
 * The system-id part of {@link checkModelForSystem}.
 * @param trained system id in the model's metadata
 * @param target id of the system the model is asked to drive
 * @param source where the model came from (its path, URL or `'memory'`)
 * @throws ModelFormatError `system-mismatch` naming both systems and the fix
 */
export function checkModelSystemId(trained: string, target: string, source: string): void {
  if (trained !== target) {
    throw new ModelFormatError(
      'system-mismatch',
      source,
      `was trained on '${trained}', not '${target}'; load a model trained on '${target}', or drive a '${trained}' system with it.`,
    );
  }
}
