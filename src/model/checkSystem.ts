import type { System } from '../core/types';
import { ModelFormatError } from './ModelFormatError';
import type { LoadedModel, ModelKind } from './metadata';

/**
 * Check that a model can drive `system` and collect the softer mismatches as warnings.
 * Errors: wrong kind (when `kind` is given), dof mismatch (lnn/baseline; an lgn model runs any number
 * of nodes). Warnings: a different system id, different parameters, angle flags that differ.
 * @returns warnings (empty when the model was trained on exactly this system)
 * @throws ModelFormatError naming the mismatch and the fix
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
  if (m.system.id !== system.id) {
    warnings.push(
      `model ${model.source} was trained on '${m.system.id}', not '${system.id}'; its accelerations may not describe this system.`,
    );
  }
  for (const [key, value] of Object.entries(m.system.params)) {
    const actual = system.params[key];
    if (actual !== undefined && Math.abs(actual - value) > 1e-12 * Math.max(1, Math.abs(value))) {
      warnings.push(
        `system parameter ${key} = ${actual} differs from the training value ${value}; the model knows only the training value.`,
      );
    }
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
