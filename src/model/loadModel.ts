import {
  artifactsToSerialized,
  isLoadedModel,
  isModelArtifacts,
  isSerializedModel,
  type ModelArtifactsLike,
  type SerializedModel,
} from './artifacts.js';
import { ModelFormatError } from './ModelFormatError.js';
import type { LoadedModel } from './metadata.js';
import { isNode, nodeFs, nodePath, nodeUrl } from './nodeIo.js';
import { checkLayers, decodeWeights, shardPaths, validateMetadata, validateModelJson } from './validate.js';

/**
 * Where a model comes from: a directory or `model.json` path (Node), a URL (`http(s):`, `file:`, or a
 * relative URL in the browser), TF.js `ModelArtifacts`, a {@link SerializedModel} (model.json + shards in
 * memory), or an already loaded model (validated again and returned).
 */
export type ModelSource = string | URL | LoadedModel | SerializedModel | ModelArtifactsLike;

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /**
   * `fetch` used for URLs (tests and custom transports).
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** What to do when a model URL is not served (docs/plugin.md, "Serving models and wasm"). */
const SERVE_HINT =
  "Serve the model folder at that URL: in Vite add threeLnn() from 'three-lnn/vite' to the plugins and pass shippedModel('<name>'); with another bundler copy the files with `npx three-lnn assets <public dir>/three-lnn` (docs/plugin.md, Serving models and wasm).";

/**
 * Load and validate a three-lnn model (docs/model-format.md).
 * @throws ModelFormatError naming the problem and the fix (missing or short shard, shape mismatch,
 *   unknown version, kind or activation, NaN/Inf weights, missing metadata fields)
 * @example const model = await loadModel('assets/models/double-pendulum-lnn');
 * @example const model = await loadModel(new URL('./models/dp/model.json', location.href));
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (isLoadedModel(source)) {
    const where = source.source ?? 'memory';
    const json = validateMetadata(source.metadata, where);
    checkLayers(source.layers, json, where);
    return source;
  }
  if (isSerializedModel(source)) return fromSerialized(source, 'memory');
  if (isModelArtifacts(source)) return fromSerialized(artifactsToSerialized(source, 'memory'), 'memory');
  if (source instanceof URL) return loadFromUrl(source, options);
  if (typeof source !== 'string' || source.length === 0) {
    throw new Error(
      'loadModel: source must be a path, a URL, ModelArtifacts, { modelJson, shards } or a loaded model.',
    );
  }
  if (URL_SCHEME.test(source)) {
    const url = new URL(source);
    if (url.protocol === 'file:' && isNode()) {
      return loadFromPath((await nodeUrl()).fileURLToPath(url));
    }
    return loadFromUrl(url, options);
  }
  if (isNode()) return loadFromPath(source);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return loadFromUrl(new URL(source, base), options);
}

/** Validate model.json, decode the shards, build the model. */
function fromSerialized(s: SerializedModel, source: string): LoadedModel {
  const json = validateModelJson(s.modelJson, source);
  const paths = shardPaths(json);
  const byPath = new Map(s.shards.map((x) => [x.path, x.data]));
  const buffers = paths.map((p) => {
    const data = byPath.get(p);
    if (data === undefined) {
      throw new ModelFormatError(
        'missing-shard',
        source,
        `weight shard "${p}" listed in weightsManifest is missing; supply every shard the manifest lists.`,
      );
    }
    return data;
  });
  const layers = decodeWeights(json, buffers, source);
  return { metadata: json.userDefinedMetadata.threeLnn, layers, source };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(
      'bad-json',
      source,
      `model.json is not valid JSON (${(e as Error).message}); the file is damaged or is not a model.json.`,
    );
  }
}

async function loadFromPath(path: string): Promise<LoadedModel> {
  const fs = await nodeFs();
  const p = await nodePath();
  let file = path;
  try {
    if ((await fs.stat(path)).isDirectory()) file = p.join(path, 'model.json');
  } catch {
    throw new ModelFormatError(
      'not-found',
      path,
      'no such file or directory; pass a model directory (holding model.json) or the model.json itself.',
    );
  }
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new ModelFormatError(
      'not-found',
      file,
      'cannot read model.json; check the path (a model directory must contain model.json).',
    );
  }
  const json = validateModelJson(parseJson(text, file), file);
  const dir = p.dirname(file);
  const shards = await Promise.all(
    shardPaths(json).map(async (rel) => {
      const shardFile = p.join(dir, rel);
      try {
        const b = await fs.readFile(shardFile);
        return { path: rel, data: b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer };
      } catch {
        throw new ModelFormatError(
          'missing-shard',
          file,
          `weight shard "${rel}" (${shardFile}) is missing; copy every file listed in weightsManifest next to model.json.`,
        );
      }
    }),
  );
  return fromSerialized({ modelJson: json, shards }, file);
}

async function loadFromUrl(url: URL, options: LoadModelOptions): Promise<LoadedModel> {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') {
    throw new Error('loadModel: no fetch() available to load a URL; pass options.fetch.');
  }
  const jsonUrl = url.pathname.endsWith('.json')
    ? url
    : new URL(`${url.pathname.replace(/\/?$/, '/')}model.json${url.search}`, url);
  const where = jsonUrl.href;
  const get = async (u: URL, what: string, problem: 'not-found' | 'missing-shard'): Promise<Response> => {
    let res: Response;
    try {
      res = await doFetch(u.href);
    } catch (e) {
      throw new ModelFormatError(
        problem,
        where,
        `${what} ${u.href} could not be fetched (${(e as Error).message}).`,
      );
    }
    if (!res.ok) {
      throw new ModelFormatError(
        problem,
        where,
        `${what} ${u.href} answered HTTP ${res.status}; ${res.status === 404 ? SERVE_HINT : 'check the URL and that every file listed in weightsManifest is served next to model.json.'}`,
      );
    }
    const type = (res.headers?.get?.('content-type') ?? '').split(';')[0].trim().toLowerCase();
    if (type === 'text/html' || type === 'application/xhtml+xml') {
      throw new ModelFormatError(
        'not-served',
        where,
        `${what} ${u.href} answered with an HTML page (content-type ${type}), not the model file: the server does not serve this path (a dev server answers unknown paths with index.html). ${SERVE_HINT}`,
      );
    }
    return res;
  };
  const res = await get(jsonUrl, 'model.json at', 'not-found');
  const text = await res.text();
  if (/^\s*<(!doctype|html|head|body)\b/i.test(text)) {
    throw new ModelFormatError(
      'not-served',
      where,
      `model.json at ${where} is an HTML page, not the model file: the server does not serve this path. ${SERVE_HINT}`,
    );
  }
  const json = validateModelJson(parseJson(text, where), where);
  const shards = await Promise.all(
    shardPaths(json).map(async (rel) => {
      const r = await get(new URL(rel, jsonUrl), `weight shard "${rel}" at`, 'missing-shard');
      return { path: rel, data: await r.arrayBuffer() };
    }),
  );
  return fromSerialized({ modelJson: json, shards }, where);
}
