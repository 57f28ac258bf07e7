import { createEngine, LEARNED_ENGINE_IDS, loadEngine, trainingMismatches } from '../src/index.js';
import type { Lane } from './Lane.js';
import { listModels, modelUrl, readModelSummary } from './models.js';

/** Engine ids that run a learned model (and need a model file). */
export const LEARNED_ENGINES: ReadonlySet<string> = new Set<string>(LEARNED_ENGINE_IDS);

/**
 * Check that the lane's engine can run (create it, load its model, compute one q̈ — which also compiles
 * shaders before the first frame). Never throws: a missing engine kind, a model that is not there yet or one
 * that fails to load leaves the lane `unavailable` with the reason, so the rest of the scene runs.
 * @param backend backend passed to learned engines (undefined: the engine's own choice)
 */
export async function loadLane(lane: Lane, backend: string | undefined): Promise<Lane> {
  lane.status = 'loading';
  lane.reason = '';
  try {
    if (!(await loadEngine(lane.engineId))) {
      lane.markUnavailable(`engine '${lane.engineId}' is not available in this build`);
      return lane;
    }
    const options: Record<string, unknown> = {};
    if (LEARNED_ENGINES.has(lane.engineId)) {
      const models = await listModels();
      if (!lane.model || !models.some((m) => m.name === lane.model)) {
        // Fall back to any shipped model of this kind for this system.
        const match = models.find((m) => m.kind === lane.engineId && m.system === lane.system.id);
        if (!match) {
          lane.markUnavailable(
            `no ${lane.engineId} model for '${lane.system.id}' in assets/models yet` +
              (lane.model ? ` (looked for '${lane.model}')` : ''),
          );
          return lane;
        }
        lane.model = match.name;
      }
      const model = lane.model;
      const summary = await readModelSummary(model);
      lane.ranges = summary.ranges;
      lane.modelInfo = {
        model: summary.name,
        kind: summary.kind,
        network: `${summary.layers.join('→')} ${summary.activation}`,
        ...summary.metrics,
      };
      if (!lane.loadedModel) {
        // The learned entry (TF.js) is loaded only for a learned lane.
        const { loadModel } = await import('../src/learned.js');
        lane.loadedModel = await loadModel(new URL(modelUrl(model)));
      }
      options.model = lane.loadedModel;
      // Parameters the user changed away from the training values run, and the lane label says so.
      options.outsideTraining = 'run';
      lane.outsideTraining = trainingMismatches(lane.loadedModel, lane.system);
      if (backend) options.backend = backend;
    }
    const engine = await createEngine(lane.engineId, lane.system, options);
    lane.warnings = (engine as { warnings?: readonly string[] }).warnings ?? [];
    // Warm up (compiles shaders / allocates scratch) before the first frame needs it.
    const dof = lane.system.dof;
    const qdd = new Float64Array(lane.batch * dof);
    try {
      engine.accelerations(lane.q.slice(), lane.qd.slice(), qdd, lane.batch);
    } finally {
      // The running scene creates its own engine; this one only proved that the lane can run.
      engine.dispose();
    }
    lane.status = 'running';
  } catch (err) {
    lane.markUnavailable((err as Error).message ?? String(err));
  }
  return lane;
}
