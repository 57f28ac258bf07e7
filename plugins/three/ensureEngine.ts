import { hasEngine } from '../../src/engines/registry.js';

/** Engines whose module registers them on import, loaded only when asked for (TF.js stays out otherwise). */
const LAZY_ENGINES: Readonly<Record<string, () => Promise<unknown>>> = {
  lnn: () => import('../../src/engines/learned.js'),
  baseline: () => import('../../src/engines/learned.js'),
  lgn: () => import('../../src/engines/learned.js'),
};

/**
 * Make sure engine `id` is registered: the learned engines (`lnn`, `baseline`, `lgn`) are imported on first
 * use, so a scene with exact physics only never loads TensorFlow.js. Unknown ids are left to
 * `createEngine`, whose error lists the registered engines.
 */
export async function ensureEngine(id: string): Promise<void> {
  if (hasEngine(id)) return;
  const load = LAZY_ENGINES[id];
  if (load) await load();
}
