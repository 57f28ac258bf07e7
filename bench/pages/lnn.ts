/**
 * Page for the learned-engine browser checks and benchmarks (served by Vite, driven by Playwright):
 * initialises the webgl and wasm backends and exposes the check and benchmark functions on `window.__lnn`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as bench from './bench';
import { checkFused } from './check';

tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/** What the page exposes to the driver. */
export interface LnnPage {
  /** Backends that initialised. */
  backends: string[];
  checkFused: typeof checkFused;
  /** Benchmark functions (bench/pages/bench.ts). */
  bench: typeof bench;
  /** Make `name` the active TF.js backend. */
  use(name: string): Promise<boolean>;
}

declare global {
  interface Window {
    __lnn?: LnnPage;
    __lnnError?: string;
  }
}

async function init(): Promise<void> {
  const backends: string[] = [];
  for (const name of ['wasm', 'webgl']) {
    try {
      if (await tf.setBackend(name)) backends.push(name);
    } catch {
      /* reported through `backends` */
    }
  }
  window.__lnn = {
    backends,
    checkFused,
    bench,
    async use(name: string) {
      return (await tf.setBackend(name)) && tf.getBackend() === name;
    },
  };
  document.getElementById('out')!.textContent = `ready: ${backends.join(', ')}`;
}

init().catch((e: unknown) => {
  window.__lnnError = String((e as Error)?.stack ?? e);
});
