import { threeLnn } from 'three-lnn/vite';
import { defineConfig } from 'vite';

// Serves the shipped models and TF.js's wasm binaries under /three-lnn/ and copies them into the build.
export default defineConfig({ plugins: [threeLnn()] });
