import {
  artifactsToSerialized,
  isLoadedModel,
  isModelArtifacts,
  isSerializedModel,
  type ModelArtifactsLike,
  type SerializedModel,
} from './artifacts.js';
import { ModelFormatError, showValue } from './ModelFormatError.js';
import type { LoadedModel, ModelJson } from './metadata.js';
import { isNode, nodeFs, nodePath, nodeUrl } from './nodeIo.js';
import {
  checkLayers,
  checkShardBytes,
  checkShardPath,
  decodeWeights,
  listPaths,
  MODEL_LIMITS,
  manifestByteLengths,
  shardPaths,
  validateMetadata,
  validateModelJson,
} from './validate.js';

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
  /**
   * Let `weightsManifest.paths` name files outside the model folder: relative paths with `..`, absolute
   * paths, symbolic links that lead out of the folder, and (for URLs) other origins and other folders.
   * Shards are still read only from regular files and only as many bytes as the manifest describes.
   * Leave it off for models from anyone you do not trust (docs/model-format.md, Loading untrusted models).
   * @default false
   */
  allowExternalShards?: boolean;
  /**
   * Largest `model.json` accepted, in bytes; a larger file is refused (`too-large`) before it is read.
   * @default 16777216 (16 MiB, MODEL_LIMITS.maxJsonBytes)
   */
  maxJsonBytes?: number;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** What to do when a model URL is not served (docs/plugin.md, "Serving models and wasm"). */
const SERVE_HINT =
  "Serve the model folder at that URL: in Vite add threeLnn() from 'three-lnn/vite' to the plugins and pass shippedModel('<name>'); with another bundler copy the files with `npx three-lnn assets <public dir>/three-lnn` (docs/plugin.md, Serving models and wasm).";

/**
 * Load and validate a three-lnn model (docs/model-format.md). A model's files are confined to its folder
 * (or URL folder): shard paths that leave it, symbolic links out of it, and anything but regular files
 * are refused, and no file is read beyond the size the manifest gives it (docs/model-format.md, Loading
 * untrusted models).
 * @throws ModelFormatError naming the problem and the fix (missing or short shard, shape mismatch,
 *   unknown version, kind or activation, NaN/Inf weights, missing metadata fields, a shard path outside
 *   the model folder, a FIFO or device, a model.json over the size limit)
 * @example const model = await loadModel('assets/models/double-pendulum-lnn');
 * @example const model = await loadModel(new URL('./models/dp/model.json', location.href));
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (isLoadedModel(source)) {
    const where = typeof source.source === 'string' ? source.source : 'memory';
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
    let url: URL;
    let path: string | null = null;
    try {
      url = new URL(source);
      if (url.protocol === 'file:' && isNode()) path = (await nodeUrl()).fileURLToPath(url);
    } catch (e) {
      throw new ModelFormatError(
        'not-found',
        source,
        `is not a usable URL (${clip((e as Error)?.message ?? e, 120)}).`,
      );
    }
    return path === null ? loadFromUrl(url, options) : loadFromPath(path, options);
  }
  if (isNode()) return loadFromPath(source, options);
  const base = (globalThis as { location?: { href: string } }).location?.href;
  return loadFromUrl(new URL(source, base), options);
}

/** Validate model.json, decode the shards, build the model. */
function fromSerialized(s: SerializedModel, source: string): LoadedModel {
  const json = validateModelJson(s.modelJson, source);
  const paths = shardPaths(json);
  if (!Array.isArray(s.shards)) {
    throw new ModelFormatError('missing-shard', source, 'shards must be an array of { path, data }.');
  }
  const byPath = new Map<unknown, ArrayBuffer>();
  for (const x of s.shards) if (x !== null && typeof x === 'object') byPath.set(x.path, x.data);
  const buffers = paths.map((p) => {
    const data = byPath.get(p);
    if (data === undefined) {
      throw new ModelFormatError(
        'missing-shard',
        source,
        `weight shard ${showValue(p)} listed in weightsManifest is missing; supply every shard the manifest lists.`,
      );
    }
    return data;
  });
  const layers = decodeWeights(json, buffers, source);
  return { metadata: json.userDefinedMetadata.threeLnn, layers, source };
}

/** A message or value from elsewhere (an exception, a response) as plain text of at most `max` characters. */
function clip(x: unknown, max: number): string {
  const text = typeof x === 'string' ? x : showValue(x, max);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(
      'bad-json',
      source,
      `model.json is not valid JSON (${clip((e as Error)?.message ?? e, 200)}); the file is damaged or is not a model.json.`,
    );
  }
}

type Fs = Awaited<ReturnType<typeof nodeFs>>;
type Path = Awaited<ReturnType<typeof nodePath>>;
type FileHandle = Awaited<ReturnType<Fs['open']>>;
type Stats = import('node:fs').Stats;

/** The error code of a failed file operation (`ENOENT`, `EACCES`, …). */
function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** What a file that is not a regular file is, in words. */
function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Open a file for reading. `O_NONBLOCK` keeps the open of a FIFO from waiting for a writer (the file type
 * is checked on the open handle next), `O_NOFOLLOW` refuses a final symbolic link (where the OS has them).
 */
async function openForRead(fs: Fs, file: string, noFollow: boolean): Promise<FileHandle> {
  const c = fs.constants;
  return fs.open(file, c.O_RDONLY | (c.O_NONBLOCK ?? 0) | (noFollow ? (c.O_NOFOLLOW ?? 0) : 0));
}

/** Read at most `length` bytes from the start of an open file. */
async function readBytes(h: FileHandle, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await h.read(out, off, length - off, off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? out : out.subarray(0, off);
}

/** The `model.json` limit in force, and how to raise it, for messages. */
function jsonLimit(options: LoadModelOptions): number {
  const max = options.maxJsonBytes ?? MODEL_LIMITS.maxJsonBytes;
  if (!(typeof max === 'number' && max > 0)) {
    throw new Error(`loadModel: maxJsonBytes must be a positive number, got ${showValue(max)}.`);
  }
  return max;
}

function tooLargeJson(source: string, size: string, max: number): ModelFormatError {
  return new ModelFormatError(
    'too-large',
    source,
    `model.json is ${size} bytes; the limit is ${max.toLocaleString('en-US')} bytes (LoadModelOptions.maxJsonBytes, default 16 MiB). A three-lnn model.json is a few kB; raise the limit only for a file you trust.`,
  );
}

/** Read model.json: a regular file no larger than the limit, never blocking on a FIFO. */
async function readModelJsonFile(fs: Fs, file: string, max: number): Promise<string> {
  let h: FileHandle;
  try {
    h = await openForRead(fs, file, false);
  } catch (e) {
    throw new ModelFormatError(
      'not-found',
      file,
      `cannot read model.json (${errorCode(e)}); check the path (a model directory must contain model.json).`,
    );
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) {
      throw new ModelFormatError(
        'not-regular-file',
        file,
        `model.json is ${fileKind(st)}, not a regular file; only regular files are read.`,
      );
    }
    if (st.size > max) throw tooLargeJson(file, st.size.toLocaleString('en-US'), max);
    return new TextDecoder().decode(await readBytes(h, st.size));
  } finally {
    await h.close().catch(() => undefined);
  }
}

async function loadFromPath(path: string, options: LoadModelOptions): Promise<LoadedModel> {
  const fs = await nodeFs();
  const p = await nodePath();
  const max = jsonLimit(options);
  let file = path;
  let folder: string | null = null;
  try {
    if ((await fs.stat(path)).isDirectory()) {
      folder = path;
      file = p.join(path, 'model.json');
    }
  } catch (e) {
    const code = errorCode(e);
    throw new ModelFormatError(
      'not-found',
      path,
      `${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file or directory' : `cannot open it (${code})`}; pass a model directory (holding model.json) or the model.json itself.`,
    );
  }
  // Given a folder, its model.json must be a file in that folder too (not a link to another one).
  const open = folder === null ? file : await confined(fs, p, folder, file, 'model.json', file);
  const json = validateModelJson(parseJson(await readModelJsonFile(fs, open, max), file), file);
  const shards = await readShardFiles(
    fs,
    p,
    json,
    p.dirname(file),
    file,
    options.allowExternalShards === true,
  );
  return fromSerialized({ modelJson: json, shards }, file);
}

/**
 * The real path of `file`, which must lie inside the real path of `folder` (symbolic links resolved).
 * @throws ModelFormatError `not-found` / `missing-shard` when it does not exist, `unsafe-path` when it
 *   resolves outside the folder
 */
async function confined(
  fs: Fs,
  p: Path,
  folder: string,
  file: string,
  what: string,
  source: string,
): Promise<string> {
  let root: string;
  let real: string;
  try {
    root = await fs.realpath(folder);
    real = await fs.realpath(file);
  } catch (e) {
    const code = errorCode(e);
    throw new ModelFormatError(
      what === 'model.json' ? 'not-found' : 'missing-shard',
      source,
      what === 'model.json'
        ? `cannot read model.json (${code}); check the path (a model directory must contain model.json).`
        : `${what} (${file}) is missing${code === 'ENOENT' ? '' : ` (${code})`}; copy every file listed in weightsManifest next to model.json.`,
    );
  }
  const rel = p.relative(root, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${p.sep}`) || p.isAbsolute(rel)) {
    throw new ModelFormatError(
      'unsafe-path',
      source,
      `${what} resolves to ${real}, outside the model folder ${root} (a symbolic link leads out); ${
        what === 'model.json'
          ? 'pass the path of model.json itself to load a linked model.json.'
          : 'shards must be files inside the model folder, or pass allowExternalShards: true.'
      }`,
    );
  }
  return real;
}

/**
 * Read the shards of a validated model.json from the folder `dir`: every path checked (relative, inside
 * the folder after resolving symbolic links, unless `external`), every file a regular file, and the sizes
 * compared with the manifest before a byte is read.
 */
async function readShardFiles(
  fs: Fs,
  p: Path,
  json: ModelJson,
  dir: string,
  file: string,
  external: boolean,
): Promise<{ path: string; data: ArrayBuffer }[]> {
  const paths = shardPaths(json);
  if (!external) for (const rel of paths) checkShardPath(rel, file);
  const found: { rel: string; real: string; stat: Stats }[] = [];
  for (const rel of paths) {
    const joined = p.resolve(dir, rel);
    const what = `weight shard ${showValue(rel)}`;
    let real: string;
    if (external) {
      try {
        real = await fs.realpath(joined);
      } catch (e) {
        const code = errorCode(e);
        throw new ModelFormatError(
          'missing-shard',
          file,
          `${what} (${joined}) is missing${code === 'ENOENT' ? '' : ` (${code})`}; copy every file listed in weightsManifest next to model.json.`,
        );
      }
    } else {
      real = await confined(fs, p, dir, joined, what, file);
    }
    const stat = await fs.stat(real).catch((e: unknown) => {
      throw new ModelFormatError(
        'missing-shard',
        file,
        `weight shard ${showValue(rel)} (${real}) cannot be read (${errorCode(e)}).`,
      );
    });
    if (!stat.isFile()) {
      throw new ModelFormatError(
        'not-regular-file',
        file,
        `weight shard ${showValue(rel)} (${real}) is ${fileKind(stat)}, not a regular file; only regular files are read as shards.`,
      );
    }
    found.push({ rel, real, stat });
  }
  // Sizes against the manifest before reading: a shard larger than the manifest describes is refused,
  // not read (a 2 GB file, /dev/zero behind a link, a file meant for another model).
  const lengths = manifestByteLengths(json);
  let first = 0;
  json.weightsManifest.forEach((g, k) => {
    let have = 0;
    for (let i = first; i < first + g.paths.length; i++) have += found[i].stat.size;
    checkShardBytes(g.paths, have, lengths[k], file);
    first += g.paths.length;
  });
  const shards: { path: string; data: ArrayBuffer }[] = [];
  for (const { rel, real, stat } of found) {
    const what = `weight shard ${showValue(rel)} (${real})`;
    let h: FileHandle;
    try {
      h = await openForRead(fs, real, true);
    } catch (e) {
      throw new ModelFormatError('missing-shard', file, `${what} cannot be opened (${errorCode(e)}).`);
    }
    try {
      const now = await h.stat();
      if (!now.isFile() || now.ino !== stat.ino || now.dev !== stat.dev || now.size !== stat.size) {
        throw new ModelFormatError(
          'unsafe-path',
          file,
          `${what} was replaced or changed while the model was loading; load it again once the files are stable.`,
        );
      }
      const bytes = await readBytes(h, stat.size);
      if (bytes.byteLength < stat.size) {
        throw new ModelFormatError(
          'short-shard',
          file,
          `${what} ended after ${bytes.byteLength} of its ${stat.size} bytes; it was truncated while the model was loading.`,
        );
      }
      shards.push({ path: rel, data: bytes.buffer as ArrayBuffer });
    } finally {
      await h.close().catch(() => undefined);
    }
  }
  return shards;
}

/**
 * The body of a response, or `null` when it holds more than `max` bytes (the rest is not read: the
 * declared Content-Length is checked first, then the stream is cancelled once it passes `max`).
 */
async function readBody(res: Response, max: number): Promise<Uint8Array | null> {
  const declared = Number(res.headers?.get?.('content-length') ?? Number.NaN);
  const body = res.body;
  if (Number.isFinite(declared) && declared > max) {
    await body?.cancel().catch(() => undefined);
    return null;
  }
  if (body && typeof body.getReader === 'function') {
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => undefined);
        return null;
      }
      chunks.push(value);
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      out.set(c, off);
      off += c.byteLength;
    }
    return out;
  }
  // A hand-made response without a stream (custom transports).
  const data =
    typeof res.arrayBuffer === 'function'
      ? new Uint8Array(await res.arrayBuffer())
      : new TextEncoder().encode(await res.text());
  return data.byteLength > max ? null : data;
}

async function loadFromUrl(url: URL, options: LoadModelOptions): Promise<LoadedModel> {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') {
    throw new Error('loadModel: no fetch() available to load a URL; pass options.fetch.');
  }
  const max = jsonLimit(options);
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
        `${what} ${u.href} could not be fetched (${clip((e as Error)?.message ?? e, 200)}).`,
      );
    }
    if (!res?.ok) {
      throw new ModelFormatError(
        problem,
        where,
        `${what} ${u.href} answered HTTP ${res?.status}; ${res?.status === 404 ? SERVE_HINT : 'check the URL and that every file listed in weightsManifest is served next to model.json.'}`,
      );
    }
    const type = String(res.headers?.get?.('content-type') ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
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
  const body = await readBody(res, max);
  if (body === null) throw tooLargeJson(where, `more than ${max.toLocaleString('en-US')}`, max);
  const text = new TextDecoder().decode(body);
  if (/^\s*<(!doctype|html|head|body)\b/i.test(text)) {
    throw new ModelFormatError(
      'not-served',
      where,
      `model.json at ${where} is an HTML page, not the model file: the server does not serve this path. ${SERVE_HINT}`,
    );
  }
  const json = validateModelJson(parseJson(text, where), where);
  const external = options.allowExternalShards === true;
  const folder = jsonUrl.pathname.slice(0, jsonUrl.pathname.lastIndexOf('/') + 1);
  const lengths = manifestByteLengths(json);
  const jobs: { rel: string; url: URL; group: number }[] = [];
  json.weightsManifest.forEach((g, k) => {
    for (const rel of g.paths) {
      if (!external) checkShardPath(rel, where);
      let u: URL;
      try {
        u = new URL(rel, jsonUrl);
      } catch {
        throw new ModelFormatError(
          'missing-shard',
          where,
          `weight shard ${showValue(rel)} cannot be resolved against ${where}.`,
        );
      }
      if (
        !external &&
        (u.protocol !== jsonUrl.protocol || u.origin !== jsonUrl.origin || !u.pathname.startsWith(folder))
      ) {
        throw new ModelFormatError(
          'unsafe-path',
          where,
          `weight shard ${showValue(rel)} resolves to ${u.href}, outside the model folder ${jsonUrl.origin}${folder}; shards must be served from the folder of model.json, or pass allowExternalShards: true.`,
        );
      }
      jobs.push({ rel, url: u, group: k });
    }
  });
  const shards = await Promise.all(
    jobs.map(async ({ rel, url: u, group }) => {
      const r = await get(u, `weight shard ${showValue(rel)} at`, 'missing-shard');
      // No shard holds more than its manifest entry describes; a longer answer is cut off, not read.
      const data = await readBody(r, lengths[group]);
      if (data === null) {
        throw new ModelFormatError(
          'shape-mismatch',
          where,
          `weight shard ${showValue(rel)} at ${u.href} holds more than the ${lengths[group]} bytes the manifest describes for ${listPaths(json.weightsManifest[group].paths)}; the shards belong to a different model or the manifest is wrong.`,
        );
      }
      const copy = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      return { path: rel, data: copy.buffer as ArrayBuffer };
    }),
  );
  return fromSerialized({ modelJson: json, shards }, where);
}
