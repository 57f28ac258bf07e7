import * as tf from '@tensorflow/tfjs-core';
import { assetLocations } from '../model/assets.js';
import { isNode, nodeModule } from '../model/nodeIo.js';

/**
 * Where a learned engine computes: a TF.js backend (`webgl`, `wasm`, `cpu`) or `js`, the float64
 * plain-JS evaluator (fastest for a handful of states; no TF.js).
 */
export type BackendName = 'webgl' | 'wasm' | 'cpu' | 'js';

/** Every {@link BackendName}. */
export const BACKEND_NAMES: readonly BackendName[] = ['webgl', 'wasm', 'cpu', 'js'];

/** Options of {@link initBackend}. */
export interface BackendOptions {
  /**
   * Preferred backend; unavailable ones fall back along webgl → wasm → cpu with a warning.
   * @default 'webgl' in a browser, 'wasm' in Node
   */
  backend?: BackendName | 'auto';
  /**
   * Where the `.wasm` binaries are served, passed to `setWasmPaths`: a URL prefix ending in `/`, or a
   * map from each binary's name (`tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`,
   * `tfjs-backend-wasm-threaded-simd.wasm`) to its URL. Browser worker threads (`threads` > 1) need it.
   * @default Node: node_modules/@tensorflow/tfjs-backend-wasm/dist/; browser: TF.js's own default
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * Accept a WebGL context that cannot render float32 textures (float16: ~1e-3 relative error).
   * @default false (fall back to wasm instead)
   */
  allowFloat16?: boolean;
}

/** The backend actually in use and why it differs from the request, if it does. */
export interface BackendChoice {
  name: BackendName;
  /** Human-readable fallback notices (also printed with console.warn). */
  warnings: string[];
}

/** The default backend of this environment. */
export function defaultBackend(): BackendName {
  return isNode() ? 'wasm' : 'webgl';
}

let wasmConfigured = false;

/**
 * The `wasmPaths` to use: the given ones, else in a browser the folder the assets are served from
 * (`configureAssets`, or the `three-lnn-assets` meta element the Vite plugin writes), else undefined
 * (Node resolves the installed package; a browser falls back to TF.js's own default).
 */
export function resolveWasmPaths(wasmPaths: BackendOptions['wasmPaths']): BackendOptions['wasmPaths'] {
  if (wasmPaths !== undefined) return wasmPaths;
  if (isNode()) return undefined;
  return assetLocations().wasm ?? undefined;
}

async function configureWasm(requested: BackendOptions['wasmPaths']): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const wasmPaths = resolveWasmPaths(requested);
  if (wasmConfigured && wasmPaths === undefined) return;
  // The threaded build needs a worker that production bundles break, and Node has no threads here.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (wasmPaths !== undefined) {
    wasm.setWasmPaths(wasmPaths);
  } else if (isNode()) {
    const { createRequire } = await nodeModule();
    const req = createRequire(import.meta.url);
    const pkg = req.resolve('@tensorflow/tfjs-backend-wasm/package.json');
    wasm.setWasmPaths(`${pkg.slice(0, -'package.json'.length)}dist/`);
  }
  wasmConfigured = true;
}

/** Try to make `name` the active TF.js backend; returns a reason on failure. */
async function tryBackend(name: Exclude<BackendName, 'js'>, options: BackendOptions): Promise<string | null> {
  try {
    if (tf.findBackend(name) === null || tf.getBackend() !== name) {
      if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
      else if (name === 'wasm') await configureWasm(options.wasmPaths);
      else await import('@tensorflow/tfjs-backend-webgl');
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `TF.js could not initialise the ${name} backend`;
    if (name === 'webgl') {
      const version = tf.env().getNumber('WEBGL_VERSION');
      const f32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE');
      if (!f32 && !options.allowFloat16) {
        return `WebGL${version} here cannot render float32 textures (float16 only, ~1e-3 relative error in q̈)`;
      }
    }
    return null;
  } catch (e) {
    return `${name} backend failed to load (${(e as Error).message})`;
  }
}

/**
 * Initialise and activate a TF.js backend for the learned engines, falling back webgl → wasm → cpu
 * with a clear warning. `js` needs no TF.js and always succeeds.
 * @example const { name, warnings } = await initBackend({ backend: 'wasm' });
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendChoice> {
  const requested = !options.backend || options.backend === 'auto' ? defaultBackend() : options.backend;
  if (!BACKEND_NAMES.includes(requested)) {
    throw new Error(
      `Unknown backend '${String(requested)}'; expected one of ${BACKEND_NAMES.join(', ')} or auto.`,
    );
  }
  if (requested === 'js') return { name: 'js', warnings: [] };
  const order: Exclude<BackendName, 'js'>[] =
    requested === 'webgl' ? ['webgl', 'wasm', 'cpu'] : requested === 'wasm' ? ['wasm', 'cpu'] : ['cpu'];
  const warnings: string[] = [];
  for (const name of order) {
    const problem = await tryBackend(name, options);
    if (problem === null) {
      for (const w of warnings) console.warn(`three-lnn: ${w}`);
      return { name, warnings };
    }
    warnings.push(`${problem}; falling back from ${name}.`);
  }
  throw new Error(
    `No TF.js backend could be initialised: ${warnings.join(' ')} Use backend 'js' (plain JS).`,
  );
}

/**
 * Make `name` the active TF.js backend synchronously. TF.js has one global backend; engines on
 * different backends in one page switch it before each call (tensors then migrate, which is slow).
 * @throws Error when the backend was never initialised with {@link initBackend}
 */
export function ensureBackend(name: Exclude<BackendName, 'js'>): void {
  if (tf.getBackend() === name) return;
  // An initialised backend switches synchronously: setBackend only awaits for a first initialisation.
  void tf.setBackend(name);
  if (tf.getBackend() !== name) {
    throw new Error(
      `TF.js backend '${name}' is not initialised; await initBackend({ backend: '${name}' }) first.`,
    );
  }
}

/** Whether the TF.js backend `name` has been initialised in this page or process (it may not be active). */
export function backendReady(name: Exclude<BackendName, 'js'>): boolean {
  return tf.engine().registry[name] !== undefined;
}

/**
 * Initialise the TF.js backend `name` for occasional use next to the active one (a learned engine on
 * webgl takes its `wasm` route this way), then make the previously active backend active again. Does
 * nothing when `name` is initialised already.
 * @returns null when `name` is ready, else why it could not be initialised
 */
export async function initSideBackend(
  name: Exclude<BackendName, 'js'>,
  options: BackendOptions = {},
): Promise<string | null> {
  if (backendReady(name)) return null;
  const active = tf.engine().backendName;
  const problem = await tryBackend(name, options);
  // Unconditionally: TF.js finishes an asynchronous initialisation by installing `name` as the backend
  // instance even if another backend was selected meanwhile, so the name alone cannot be trusted here.
  if (active && backendReady(active as Exclude<BackendName, 'js'>)) await tf.setBackend(active);
  return problem;
}
