import { defineConfig } from 'vite';

// Exact physics only: no model and no wasm to serve, so no plugin.
export default defineConfig({});
