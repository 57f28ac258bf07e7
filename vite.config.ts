import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const modelsDir = resolve(root, 'assets', 'models');

/** One entry of `/models/index.json`. */
interface ModelListing {
  name: string;
  kind: string | null;
  system: string | null;
}

/** The models under `assets/models/` that have a readable `model.json`, with kind and system. */
function listModels(): ModelListing[] {
  if (!existsSync(modelsDir)) return [];
  const out: ModelListing[] = [];
  for (const entry of readdirSync(modelsDir, { withFileTypes: true })) {
    const file = resolve(modelsDir, entry.name, 'model.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    try {
      const meta = JSON.parse(readFileSync(file, 'utf8'))?.userDefinedMetadata?.threeLnn ?? {};
      out.push({ name: entry.name, kind: meta.kind ?? null, system: meta.system?.id ?? null });
    } catch {
      out.push({ name: entry.name, kind: null, system: null });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Compiles the AssemblyScript kernels under `wasm/` into `src/generated/` (scripts/build-wasm.mjs) before
 * the dev server or a build resolves `src/`; a no-op when they are up to date.
 */
function trainKernels(): Plugin {
  const script = pathToFileURL(resolve(root, 'scripts', 'build-wasm.mjs')).href;
  return {
    name: 'three-lnn-wasm-kernels',
    async buildStart() {
      const { buildWasm } = (await import(/* @vite-ignore */ script)) as { buildWasm(): Promise<number> };
      await buildWasm();
    },
  };
}

/**
 * Serves `/models/index.json`, the list of shipped models, so the app learns which models exist without
 * requesting missing files (a 404 is a console error in the browser).
 */
function modelIndex(): Plugin {
  return {
    name: 'three-lnn-model-index',
    configureServer(server) {
      server.middlewares.use('/models/index.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify({ models: listModels() }));
      });
    },
    configurePreviewServer(server) {
      server.middlewares.use('/models/index.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ models: listModels() }));
      });
    },
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: 'models/index.json',
        source: JSON.stringify({ models: listModels() }),
      });
    },
  };
}

/**
 * Dependencies pre-bundled up front. Listing them avoids the dev server discovering a dependency on
 * first use and reloading the page mid-run (which breaks browser tests and loses app state).
 */
const prebundled = [
  'three',
  'three/examples/jsm/controls/OrbitControls.js',
  'three/examples/jsm/renderers/CSS2DRenderer.js',
  'three/examples/jsm/postprocessing/Pass.js',
  'lil-gui',
  'uplot',
  'cannon-es',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
  // Pre-bundled because its emscripten glue is CommonJS; the .wasm files are located through
  // setWasmPaths with `?url` imports, so moving the module does not matter.
  '@tensorflow/tfjs-backend-wasm',
];

/** Headers that make every served page cross-origin isolated (`crossOriginIsolated === true`). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root,
  plugins: [trainKernels(), modelIndex()],
  // `assets/` is served at the site root, so a model lives at `/models/<name>/model.json`.
  publicDir: resolve(root, 'assets'),
  // Cross-origin isolation gives pages SharedArrayBuffer, which the learned engine's worker threads
  // (`threads` option) need. TF.js's own threaded wasm build stays off (`WASM_HAS_MULTITHREAD_SUPPORT`
  // is set to false wherever the wasm backend is configured): its worker does not survive a production
  // bundle, and the engine's workers split the batch instead.
  server: {
    headers: isolationHeaders,
    fs: { allow: [root] },
  },
  preview: { headers: isolationHeaders },
  optimizeDeps: {
    include: prebundled,
    entries: ['index.html', 'field.html', 'test/browser/pages/*.html'],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { main: resolve(root, 'index.html'), field: resolve(root, 'field.html') },
    },
  },
  worker: { format: 'es' },
});
