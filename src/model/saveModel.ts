import {
  createModel,
  type LayerValues,
  type ModelArtifactsLike,
  type SerializeOptions,
  serializeModel,
  toModelArtifacts,
} from './artifacts.js';
import type { LoadedModel, ModelMetadata } from './metadata.js';
import { isNode, nodeFs, nodePath } from './nodeIo.js';

/** Anything with a TF.js `IOHandler.save` method (e.g. `tf.io.browserDownloads()`, `tf.io.withSaveHandler`). */
export interface SaveHandlerLike {
  save(artifacts: ModelArtifactsLike): Promise<unknown>;
}

/**
 * Write a model: to a directory (Node: `model.json` + `weights*.bin`, the directory is created) or
 * through a TF.js save handler. The metadata and weights are validated first, so a broken model is never
 * written.
 * @param target directory path (Node) or a save handler
 * @param layers one `{kernel [in*out] row-major, bias [out]}` per dense layer
 * @param metadata the `userDefinedMetadata.threeLnn` object
 * @returns the model as it was written (validated)
 * @throws ModelFormatError for invalid metadata or weights
 * @example await saveModel('out/my-model', layers, { formatVersion: 1, kind: 'lnn', … });
 */
export async function saveModel(
  target: string | SaveHandlerLike,
  layers: readonly LayerValues[],
  metadata: ModelMetadata,
  options: SerializeOptions = {},
): Promise<LoadedModel> {
  const source = typeof target === 'string' ? target : 'memory';
  const model = createModel(metadata, layers, source);
  await writeModel(target, model, options);
  return model;
}

/**
 * Write an already built {@link LoadedModel} (see {@link saveModel}).
 * @example await writeModel('out/copy', await loadModel('assets/models/dp'));
 */
export async function writeModel(
  target: string | SaveHandlerLike,
  model: LoadedModel,
  options: SerializeOptions = {},
): Promise<void> {
  if (typeof target !== 'string') {
    await target.save(toModelArtifacts(model));
    return;
  }
  if (!isNode()) {
    throw new Error(
      'saveModel: writing to a directory needs Node; in a browser pass a TF.js save handler such as tf.io.browserDownloads().',
    );
  }
  const fs = await nodeFs();
  const p = await nodePath();
  const { modelJson, shards } = serializeModel(model, options);
  await fs.mkdir(target, { recursive: true });
  for (const s of shards) await fs.writeFile(p.join(target, s.path), new Uint8Array(s.data));
  await fs.writeFile(p.join(target, 'model.json'), `${JSON.stringify(modelJson, null, 2)}\n`);
}
