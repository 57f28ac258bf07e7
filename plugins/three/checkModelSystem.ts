import type { Engine, System } from '../../src/core/types.js';
import { checkModelSystemId } from '../../src/model/checkSystem.js';

/**
 * A learned engine must have been trained on the system it drives: compare the system id in its model's
 * metadata (`engine.model.metadata.system.id`, when the engine has a model) with the system's. This is the
 * same policy as the core `checkModelForSystem` (which engines created by id already went through), applied
 * to an Engine instance handed to the plugin: another system id is an error; different parameter values
 * are only warned about, by the engine, when it is created.
 * @param where prefix of the error message
 * @throws ModelFormatError `system-mismatch` naming both systems and the fix
 */
export function checkModelSystem(engine: Engine, system: System, where: string): void {
  const e = engine as unknown as Record<string, unknown>;
  const model = e.model as Record<string, unknown> | undefined;
  const meta =
    (e.metadata as Record<string, unknown> | undefined) ??
    (model?.metadata as Record<string, unknown> | undefined);
  const trained = (meta?.system as { id?: unknown } | undefined)?.id;
  if (typeof trained !== 'string') return;
  const source = typeof model?.source === 'string' ? model.source : `of the '${engine.id}' engine`;
  try {
    checkModelSystemId(trained, system.id, source);
  } catch (error) {
    (error as Error).message = `${where}: ${(error as Error).message}`;
    throw error;
  }
}
