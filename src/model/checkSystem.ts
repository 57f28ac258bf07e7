import type { System } from '../core/types.js';
import { ModelFormatError } from './ModelFormatError.js';
import type { LoadedModel, ModelKind } from './metadata.js';

/**
 * Check that a model can drive `system` and collect the softer mismatches as warnings.
 *
 * The policy (docs/model-format.md, "Binding a model to a system"):
 * - errors — a model of another kind (when `kind` is given), another number of degrees of freedom
 *   (lnn/baseline; an lgn model runs any number of nodes) or another system id: the network describes
 *   another Lagrangian, so its q̈ would be meaningless;
 * - warnings — different parameter values (the model knows only its training values) and angle flags
 *   that differ. An lgn model runs any number of nodes, so the parameter that sets the number of nodes
 *   (`nodes` of the string) is not compared.
 * @returns warnings (empty when the model was trained on exactly this system)
 * @throws ModelFormatError (`kind-mismatch`, `dof-mismatch`, `system-mismatch`) naming the mismatch and the fix
 * @example const warnings = checkModelForSystem(model, createSystem('double-pendulum'), 'lnn');
 */
export function checkModelForSystem(model: LoadedModel, system: System, kind?: ModelKind): string[] {
  const m = model.metadata;
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
  for (const [key, value] of Object.entries(m.system.params)) {
    const actual = system.params[key];
    if (actual === undefined || Math.abs(actual - value) <= 1e-12 * Math.max(1, Math.abs(value))) continue;
    if (m.kind === 'lgn' && setsNodeCount(system, key, value)) continue; // a graph runs any node count
    warnings.push(
      `model ${model.source}: system parameter ${key} = ${actual} differs from the training value ${value}; the model knows only the training value.`,
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
 * The system-id half of {@link checkModelForSystem}, for callers that hold only an engine's metadata (the
 * three.js and cannon-es plugins check an Engine instance they were given).
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
