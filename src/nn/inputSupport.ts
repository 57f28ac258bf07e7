import type { InputMap } from '../model/inputMap';

/**
 * Throw a clear Error for an input map the learned-engine routes and the TypeScript trainer do not
 * evaluate: velocities fed as atanh(q̇) (`input.velocityEmbedding: "rapidity"`). Computing such a model
 * as if it took q̇ would give wrong q̈ without any sign.
 * @param where the evaluator, for the message
 */
export function assertSupportedInputMap(map: InputMap | undefined, where: string, source: string): void {
  if (map && map.velocity !== 'identity') {
    throw new Error(
      `${where}: model ${source} feeds velocities to the network as atanh(q̇) (input.velocityEmbedding "${map.velocity}"), which this evaluator does not implement yet; evaluate it with the JAX trainer (training/lnn_train.py), or use a model trained without --velocity-embedding.`,
    );
  }
}
