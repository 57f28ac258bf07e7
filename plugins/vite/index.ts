/**
 * three-lnn/vite: serves the package's shipped models and the TF.js wasm binaries in `vite` and
 * `vite preview`, copies them into `vite build`, and tells the library where they are (a
 * `<meta name="three-lnn-assets">` element in every page), so `shippedModel('double-pendulum-lnn')` and the
 * wasm backend work with no file copied by hand.
 * @example
 * // vite.config.ts
 * import { defineConfig } from 'vite';
 * import { threeLnn } from 'three-lnn/vite';
 * export default defineConfig({ plugins: [threeLnn()] });
 */
import { createReadStream, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'vite';
import { ASSETS_META_NAME, type ShippedModelName } from '../../src/index.js';
import { assetContentType, packageAssets } from '../../src/node.js';

/** Options of {@link threeLnn}. */
export interface ThreeLnnPluginOptions {
  /**
   * Folder, under the site's `base`, where the assets are served and written by the build.
   * @default 'three-lnn/'
   */
  path?: string;
  /**
   * Shipped models to serve and copy into the build.
   * @default every shipped model (about 0.8 MB in all)
   */
  models?: readonly ShippedModelName[];
  /**
   * Serve and copy the TF.js wasm binaries (about 0.4 MB each), which the wasm backend and the learned
   * engines' `wasm` route load.
   * @default true
   */
  wasm?: boolean;
}

type Next = (err?: unknown) => void;

/**
 * The Vite plugin of three-lnn (see the module comment).
 * @example plugins: [threeLnn({ models: ['double-pendulum-lnn'] })]
 */
export function threeLnn(options: ThreeLnnPluginOptions = {}): Plugin {
  const dir = `${(options.path ?? 'three-lnn').replace(/^\/+|\/+$/g, '')}/`;
  if (dir === '/' || dir.split('/').some((part) => part === '..')) {
    throw new Error(`three-lnn/vite: path '${options.path}' must be a folder name such as 'three-lnn'.`);
  }
  // Resolved now, so a wrong model name or a broken install fails when the config loads.
  const files = packageAssets({ models: options.models, wasm: options.wasm });
  let base = '/';
  let ssr = false;

  const serve = (req: IncomingMessage, res: ServerResponse, next: Next): void => {
    const prefix = `${base}${dir}`;
    const path = (req.url ?? '').split(/[?#]/)[0];
    if (!path.startsWith(prefix)) {
      next();
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(path.slice(prefix.length));
    } catch {
      rel = '';
    }
    // Only the listed files are served: no path from the request ever reaches the file system.
    const file = files.get(rel);
    if (file === undefined) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(
        `three-lnn: no asset '${rel}' under ${prefix}; served: ${[...files.keys()].join(', ')}. ` +
          'Models not listed in threeLnn({ models }) are not served.',
      );
      return;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', assetContentType(rel));
    res.setHeader('Cache-Control', 'no-cache');
    createReadStream(file)
      .on('error', (e) => next(e))
      .pipe(res);
  };

  return {
    name: 'three-lnn',
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
      ssr = Boolean(config.build.ssr);
    },
    configureServer(server) {
      server.middlewares.use(serve);
    },
    configurePreviewServer(server) {
      server.middlewares.use(serve);
    },
    transformIndexHtml: {
      order: 'pre',
      handler() {
        return [
          {
            tag: 'meta',
            attrs: { name: ASSETS_META_NAME, content: `${base}${dir}` },
            injectTo: 'head-prepend',
          },
        ];
      },
    },
    generateBundle() {
      if (ssr) return;
      for (const [rel, file] of files) {
        this.emitFile({ type: 'asset', fileName: `${dir}${rel}`, source: readFileSync(file) });
      }
    },
  };
}
