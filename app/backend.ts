import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/**
 * Where learned engines compute, as the app offers it: `auto` (the engine's choice: WebGL with float32,
 * else WASM, else CPU, and plain JS for small batches), a TF.js backend, or `js` (float64 plain JS).
 */
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu' | 'js';

/** What the app shows about the active TF.js backend. */
export interface BackendReport {
  /** Active backend (`webgl`, `wasm`, `cpu`). */
  readonly name: string;
  /** Float precision learned engines compute in on this backend. */
  readonly precision: 'float32' | 'float16';
  /** WebGL version TF.js found (0 when none). */
  readonly webglVersion: number;
  /** Whether WebGL can render to float32 textures. */
  readonly float32Capable: boolean;
  /** Why the requested backend was not used, if it was not. */
  readonly fallbackReason: string | null;
}

/**
 * Where the wasm binaries are served (Vite-hashed URLs). Learned engines get it too, for their worker
 * threads (`threads: 'auto'`), which load their own TF.js.
 */
export const wasmPaths: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

// TF.js's own threaded wasm build stays off (its worker breaks in a production bundle); learned
// engines split large batches over their own worker threads instead.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths(wasmPaths);

async function trySet(name: string): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

let probedGl: number | null = null;

/** Probe WebGL support once, without touching TF.js (for the message when it is missing). */
function webglVersionAvailable(): number {
  probedGl ??= probeGl();
  return probedGl;
}

function probeGl(): number {
  try {
    const c = document.createElement('canvas');
    if (c.getContext('webgl2')) return 2;
    if (c.getContext('webgl')) return 1;
  } catch {
    /* no WebGL at all */
  }
  return 0;
}

/**
 * Select the TF.js backend for learned engines. `webgl` is used only when it renders to float32
 * textures (float16 would make learned accelerations visibly wrong); otherwise the app falls back to
 * WASM, then CPU, and says why.
 */
export async function initBackend(requested: BackendChoice = 'auto'): Promise<BackendReport> {
  // Plain-JS learned engines need no TF.js backend; TF.js is still set up for the report.
  const choice = requested === 'js' ? 'auto' : requested;
  const glVersion = webglVersionAvailable();
  let reason: string | null = null;
  const wantsGl = choice === 'auto' || choice === 'webgl';
  if (wantsGl) {
    if (glVersion === 0) {
      reason = 'WebGL is not available in this browser';
    } else if (await trySet('webgl')) {
      if (tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE')) {
        return report('webgl', null);
      }
      reason = 'WebGL cannot render to float32 textures here (learned physics would run in float16)';
    } else {
      reason = 'the TF.js WebGL backend failed to initialise';
    }
  }
  if (choice !== 'cpu' && (await trySet('wasm'))) return report('wasm', reason);
  if (choice === 'wasm') reason = 'the TF.js WASM backend failed to initialise';
  await trySet('cpu');
  return report('cpu', reason);
}

function report(name: string, fallbackReason: string | null): BackendReport {
  const env = tf.env();
  const isGl = name === 'webgl';
  const float32Capable = isGl ? env.getBool('WEBGL_RENDER_FLOAT32_CAPABLE') : false;
  return {
    name,
    precision: isGl && !env.getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float16' : 'float32',
    webglVersion: isGl ? env.getNumber('WEBGL_VERSION') : webglVersionAvailable(),
    float32Capable,
    fallbackReason,
  };
}

/** Live TF.js memory figures (for the leak checks and the GUI). */
export function tensorMemory(): { numTensors: number; numBytes: number } {
  const m = tf.memory();
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}
