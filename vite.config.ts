import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

/**
 * Dependencies pre-bundled up front. Listing them avoids the dev server discovering a dependency on
 * first use and reloading the page mid-run (which breaks browser tests and loses app state).
 */
const prebundled = [
  'three',
  'three/examples/jsm/controls/OrbitControls.js',
  'lil-gui',
  'uplot',
  'cannon-es',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
];

export default defineConfig({
  root,
  // `assets/` is served at the site root, so a model lives at `/models/<name>/model.json`.
  publicDir: resolve(root, 'assets'),
  server: {
    // No COOP/COEP headers on purpose: without cross-origin isolation there is no SharedArrayBuffer,
    // so tfjs-backend-wasm never picks its threaded worker (which a production build broke).
    fs: { allow: [root] },
  },
  optimizeDeps: {
    include: prebundled,
    // The wasm backend locates its .wasm files relative to its own module; pre-bundling moves it.
    exclude: ['@tensorflow/tfjs-backend-wasm'],
    entries: ['index.html', 'test/browser/pages/*.html'],
  },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { main: resolve(root, 'index.html') },
    },
  },
  worker: { format: 'es' },
});
