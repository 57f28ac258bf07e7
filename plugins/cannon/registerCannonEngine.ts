import { registerEngine } from '../../src/index.js';
import { CannonEngine, type CannonEngineOptions } from './CannonEngine.js';

/**
 * Register the `cannon` engine in the engine registry (idempotent; importing `three-lnn/cannon` does it).
 * Engine options: {@link CannonEngineOptions}.
 */
export function registerCannonEngine(): void {
  registerEngine('cannon', (system, options) => new CannonEngine(system, options as CannonEngineOptions));
}

registerCannonEngine();
