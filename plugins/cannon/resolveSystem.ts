import { createSystem, isSystem, type System } from '../../src/index.js';

/**
 * The System a builder works on: `params` itself when it is a System of kind `id`, else
 * `createSystem(id, params)`.
 * @throws Error when a System of another kind is given
 */
export function resolveSystem(
  where: string,
  id: string,
  params: Partial<Record<string, number>> | System,
): System {
  if (isSystem(params)) {
    if (params.id !== id) {
      throw new Error(`${where}: expects a '${id}' system, got '${params.id}'`);
    }
    return params;
  }
  return createSystem(id, params);
}
