/**
 * The files a site must serve for the library in a browser, read from the installed package (Node only):
 * the shipped models (`models/<name>/…`) and the TF.js wasm binaries (`wasm/…`). Used by the Vite plugin
 * (`three-lnn/vite`) and by `three-lnn assets`, which lay them out the same way under one folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHIPPED_MODELS, type ShippedModelName } from './assets.js';

/** The wasm binaries the library's wasm backend loads (the threaded build is never used). */
export const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

/** Options of {@link packageAssets}. */
export interface PackageAssetOptions {
  /**
   * Shipped models to include.
   * @default every shipped model
   */
  models?: readonly ShippedModelName[];
  /**
   * Include the TF.js wasm binaries.
   * @default true
   */
  wasm?: boolean;
}

/** The package root: two folders above this module in the sources, three in `dist/`. */
function packageRoot(): string {
  const here = import.meta.url;
  return fileURLToPath(new URL(here.endsWith('.ts') ? '../../' : '../../../', here));
}

/** The folder that holds tfjs-backend-wasm's binaries, as the library resolves the package. */
export function wasmDirectory(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

/**
 * Every asset file, as a map from its path under the asset folder (`models/double-pendulum-lnn/model.json`,
 * `wasm/tfjs-backend-wasm.wasm`) to its absolute path on disk. Only these files are ever served or copied.
 * @throws Error for an unknown model name or a package whose files are missing
 */
export function packageAssets(options: PackageAssetOptions = {}): Map<string, string> {
  const names = options.models ?? SHIPPED_MODELS;
  const files = new Map<string, string>();
  const modelsDir = join(packageRoot(), 'assets', 'models');
  for (const name of names) {
    if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
      throw new Error(
        `three-lnn: '${name}' is not a shipped model; choose from ${SHIPPED_MODELS.join(', ')}.`,
      );
    }
    const dir = join(modelsDir, name);
    if (!existsSync(join(dir, 'model.json'))) {
      throw new Error(`three-lnn: the shipped model ${dir} is missing; reinstall three-lnn.`);
    }
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile() && /\.(json|bin)$/.test(entry.name))
        files.set(`models/${name}/${entry.name}`, join(dir, entry.name));
    }
  }
  if (options.wasm !== false) {
    const dir = wasmDirectory();
    for (const name of WASM_FILES) {
      const file = join(dir, name);
      if (!existsSync(file))
        throw new Error(`three-lnn: ${file} is missing; reinstall @tensorflow/tfjs-backend-wasm.`);
      files.set(`wasm/${name}`, file);
    }
  }
  return files;
}

/** The Content-Type of an asset file. */
export function assetContentType(path: string): string {
  if (path.endsWith('.json')) return 'application/json';
  if (path.endsWith('.wasm')) return 'application/wasm';
  return 'application/octet-stream';
}
