import type { Engine, System } from '../../src/core/types';

/**
 * A learned engine must have been trained on the system it drives: compare the system id in its model's
 * metadata (`engine.model.metadata.system.id`, when the engine has a model) with the system's. The engine
 * itself rejects a wrong number of degrees of freedom; this also rejects a model of another system with
 * the same number.
 * @param where prefix of the error message
 * @throws Error naming both systems
 */
export function checkModelSystem(engine: Engine, system: System, where: string): void {
  const e = engine as unknown as Record<string, unknown>;
  const meta =
    (e.metadata as Record<string, unknown> | undefined) ??
    ((e.model as Record<string, unknown> | undefined)?.metadata as Record<string, unknown> | undefined);
  const trained = (meta?.system as { id?: unknown } | undefined)?.id;
  if (typeof trained === 'string' && trained !== system.id) {
    throw new Error(
      `${where}: the model was trained on '${trained}', not '${system.id}'; load a model trained on '${system.id}'`,
    );
  }
}
