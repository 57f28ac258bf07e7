import { threeLnn } from 'three-lnn/vite';
import { defineConfig } from 'vite';

// threeLnn() serves the shipped model (and TF.js's wasm binaries) under /three-lnn/ in `vite` and
// `vite preview`, copies them into `vite build`, and tells shippedModel() where they are.
export default defineConfig({
  plugins: [threeLnn({ models: ['string-lgn'] })],
});
