/**
 * Where the package's own files are served from: the shipped models (`assets/models/<name>/`) and the
 * TF.js wasm binaries. In Node both are read from the installed package; in a browser they must be served
 * by the site, and this module decides under which URL the library looks for them:
 *
 * 1. {@link configureAssets} (explicit, wins);
 * 2. a `<meta name="three-lnn-assets" content="/three-lnn/">` element in the page, which the Vite plugin
 *    (`three-lnn/vite`) writes into every page it builds and serves, and which any other set-up can write by
 *    hand after copying the files with `npx three-lnn assets <public dir>/three-lnn`;
 * 3. otherwise the package's own folder next to this module (`new URL('../../assets/', import.meta.url)`),
 *    which is right for pages that load the package unbundled (an import map to `node_modules` or a CDN).
 */
import { isNode } from './nodeIo.js';

/** The models shipped in `assets/models/`, by name. */
export const SHIPPED_MODELS = [
  'double-pendulum-lnn',
  'double-pendulum-baseline',
  'string-lgn',
  'relativistic-lnn',
  'chain3-lnn',
  'spherical-lnn',
  'spherical-baseline',
  'double-spherical-lnn',
  'membrane-lgn',
] as const;

/** A model shipped with the package. */
export type ShippedModelName = (typeof SHIPPED_MODELS)[number];

/** The name of the `<meta>` element that tells the library where its assets are served. */
export const ASSETS_META_NAME = 'three-lnn-assets';

/** Options of {@link configureAssets}. */
export interface AssetOptions {
  /**
   * URL (or URL path) of the folder that holds `models/` and `wasm/`, as the Vite plugin and
   * `three-lnn assets` lay them out. A relative value is resolved against the page's URL.
   */
  base?: string | URL;
  /**
   * URL of the folder that holds the model folders; overrides `base` for the models.
   * @default `${base}models/`
   */
  models?: string | URL;
  /**
   * URL of the folder that holds the TF.js `.wasm` binaries; overrides `base` for the wasm backend.
   * @default `${base}wasm/`
   */
  wasm?: string | URL;
}

/** Where the assets are looked for now, and why. */
export interface AssetLocations {
  /** Folder of the shipped models (URL ending in `/`; in Node a `file:` URL). */
  models: string;
  /** Folder of the TF.js wasm binaries, or null when TF.js's own default applies (Node resolves it). */
  wasm: string | null;
  /** Which rule gave these locations. */
  from: 'configured' | 'meta' | 'package';
}

let configured: { models: string | null; wasm: string | null } | null = null;

function withSlash(u: string): string {
  return u.endsWith('/') ? u : `${u}/`;
}

function absolute(u: string | URL): string {
  if (u instanceof URL) return withSlash(u.href);
  const page = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return withSlash(new URL(u, page).href);
  } catch {
    throw new Error(
      `configureAssets: '${u}' is not a URL; give an absolute URL or, in a page, a path such as '/three-lnn/'.`,
    );
  }
}

/**
 * Tell the library where its assets are served (see the module comment for the default). Call it before
 * loading a shipped model or the wasm backend; `configureAssets({})` returns to the defaults.
 * @example configureAssets({ base: '/static/three-lnn/' });
 * @example configureAssets({ wasm: 'https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/dist/' });
 */
export function configureAssets(options: AssetOptions): void {
  const base = options.base === undefined ? null : absolute(options.base);
  const models = options.models !== undefined ? absolute(options.models) : base && `${base}models/`;
  const wasm = options.wasm !== undefined ? absolute(options.wasm) : base && `${base}wasm/`;
  configured = models === null && wasm === null ? null : { models, wasm };
}

/** The package root as a URL, from this module's location in the sources or in `dist/`. */
function packageRoot(): URL {
  const here = import.meta.url;
  // src/model/assets.ts → ../../ ; dist/src/model/assets.js → ../../../
  return new URL(here.endsWith('.ts') ? '../../' : '../../../', here);
}

function metaBase(): string | null {
  const doc = (globalThis as { document?: Document }).document;
  const content = doc?.querySelector?.(`meta[name="${ASSETS_META_NAME}"]`)?.getAttribute('content');
  return content ? absolute(content) : null;
}

/** Where the shipped models and the wasm binaries are looked for now. */
export function assetLocations(): AssetLocations {
  const own = new URL('assets/', packageRoot()).href;
  if (configured) {
    return {
      models: configured.models ?? `${own}models/`,
      wasm: configured.wasm,
      from: 'configured',
    };
  }
  if (!isNode()) {
    const meta = metaBase();
    if (meta !== null) return { models: `${meta}models/`, wasm: `${meta}wasm/`, from: 'meta' };
  }
  return { models: `${own}models/`, wasm: null, from: 'package' };
}

/**
 * The location of a model shipped with the package, to pass as `model` to an engine, `loadModel` or
 * `physics.addSystem`: a `file:` URL of the folder in Node, the folder's URL in a browser (see
 * {@link configureAssets} for where that is).
 * @throws Error for a name that is not a shipped model
 * @example await physics.addSystem('double-pendulum', { engine: 'lnn', model: shippedModel('double-pendulum-lnn') });
 */
export function shippedModel(name: ShippedModelName): string {
  if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
    throw new Error(
      `shippedModel: '${String(name)}' is not a shipped model; the package ships ${SHIPPED_MODELS.join(', ')}.`,
    );
  }
  return `${assetLocations().models}${name}/`;
}
