/**
 * Browser page for test/browser/threads.test.ts: the shipped double-pendulum LNN on the wasm route with
 * `threads` Web Workers against the same engine on one thread. Exposes {@link runThreads} (and the
 * page's isolation state) on `window.__threads`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { LNNEngine } from '../../../src/engines/LNNEngine';
import { RungeKutta4 } from '../../../src/integrators/RungeKutta4';
import { loadModel } from '../../../src/model/loadModel';
import { createSystem } from '../../../src/systems/registry';

const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};
// As an app does: the page's own TF.js finds the binaries; engines are told separately (`wasmPaths`).
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths(wasmPaths);

/** One engine's answer for the shared states. */
export interface ThreadedRun {
  threads: number;
  backend: string;
  routeSummary: string;
  qdd: number[];
  flags: number[];
  /** `lastReport.threads` after the q̈ call. */
  reportThreads: number;
  /** State after `steps` RK4 steps of all states. */
  q: number[];
  /** `tf.memory().numTensors` on the active backend before and after the steps. */
  tensorsBefore: number;
  tensorsAfter: number;
  /** The message `accelerations` threw after `dispose()`, or null when it did not throw. */
  afterDispose: string | null;
}

/** What the test reads. */
export interface ThreadsPage {
  crossOriginIsolated: boolean;
  run(options: {
    backend: 'wasm' | 'webgl';
    threads: number | 'auto';
    batch: number;
    steps: number;
    withPaths?: boolean;
  }): Promise<ThreadedRun | { error: string }>;
}

declare global {
  interface Window {
    __threads?: ThreadsPage;
  }
}

/** Deterministic states spread over the model's training box (angles in ±π, speeds in ±6). */
function states(batch: number): { q: Float64Array; qd: Float64Array } {
  const q = new Float64Array(2 * batch);
  const qd = new Float64Array(2 * batch);
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < 2 * batch; i++) {
    q[i] = (rand() * 2 - 1) * Math.PI;
    qd[i] = (rand() * 2 - 1) * 6;
  }
  return { q, qd };
}

const modelPromise = loadModel(new URL('/models/double-pendulum-lnn/model.json', location.href));

async function run(options: Parameters<ThreadsPage['run']>[0]): Promise<ThreadedRun | { error: string }> {
  try {
    const model = await modelPromise;
    const engine = await LNNEngine.load(model, createSystem('double-pendulum'), {
      backend: options.backend,
      route: 'wasm',
      threads: options.threads,
      parallelAbove: 16,
      ...(options.withPaths === false ? {} : { wasmPaths }),
    });
    const { q, qd } = states(options.batch);
    const qdd = new Float64Array(q.length);
    engine.accelerations(q, qd, qdd, options.batch);
    const flags = Array.from(engine.lastReport.flags.subarray(0, options.batch));
    const reportThreads = engine.lastReport.threads;
    const rk4 = new RungeKutta4();
    const tensorsBefore = tf.memory().numTensors;
    for (let s = 0; s < options.steps; s++) engine.step(q, qd, options.batch, 1 / 60, rk4);
    const tensorsAfter = tf.memory().numTensors;
    const result: ThreadedRun = {
      threads: engine.threads,
      backend: engine.backend,
      routeSummary: engine.routeSummary,
      qdd: Array.from(qdd),
      flags,
      reportThreads,
      q: Array.from(q),
      tensorsBefore,
      tensorsAfter,
      afterDispose: null,
    };
    engine.dispose();
    try {
      engine.accelerations(q, qd, qdd, options.batch);
    } catch (e) {
      result.afterDispose = (e as Error).message;
    }
    return result;
  } catch (e) {
    return { error: (e as Error).message };
  }
}

window.__threads = { crossOriginIsolated: globalThis.crossOriginIsolated === true, run };
document.getElementById('out')!.textContent =
  `ready (crossOriginIsolated: ${globalThis.crossOriginIsolated})`;
