/**
 * three-lnn/node — the Node-only entry: what the `three-lnn` CLI and build tools (the Vite plugin) use
 * beyond the browser entries. Importing it loads no TensorFlow.js; it does use Node built-ins (`node:fs`,
 * `node:path`, `node:module`), so browser bundles must not import it.
 *
 * @example
 * import { packageAssets } from 'three-lnn/node';
 * for (const [url, file] of packageAssets({ models: ['double-pendulum-lnn'] })) console.log(url, file);
 */

// Evaluation reports written next to a model (`three-lnn eval --write`)
export { writeMetrics } from './eval/writeMetrics.js';
// Model files: validation and inspection of `model.json` without loading weights or TF.js
export { formatModelSummary, inspectModel, type ModelSummary } from './model/inspect.js';

// Package assets (shipped models and the wasm binaries) on disk, for servers and bundler plugins
export {
  assetContentType,
  type PackageAssetOptions,
  packageAssets,
  WASM_FILES,
  wasmDirectory,
} from './model/packageAssets.js';
export { MODEL_LIMITS, shardPathProblem, validateMetadata } from './model/validate.js';

// Per-state solve outcome of a learned engine's q̈ (reported by `three-lnn accel`)
export { SolveFlag, type SolveFlagValue } from './nn/solve64.js';

// Trainer checkpoints (`trainer.json`, `adam.bin`) on disk
export { readCheckpoint } from './train/checkpoint.js';
