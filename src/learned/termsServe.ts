/**
 * What a {@link TermsPool} worker runs, on any platform: load the model into this thread's own TF.js
 * wasm instance, then serve fused exact-derivative passes on shared memory until told to stop.
 */
import * as tf from '@tensorflow/tfjs-core';
import { foldScales, paramsFromModel, specFromModel } from '../nn/mlp.js';
import { tidy } from '../nn/tidy.js';
import {
  disposeFusedWeights,
  fusedLagrangianPack,
  prepareFusedWeights,
  registerFusedKernels,
} from '../nn/wasmKernels.js';
import { initBackend } from './backend.js';
import { POOL_SLOTS, type TermsBuffers, type TermsWorkerData } from './TermsPool.js';

const { SEQ, DONE, COUNT, GEN, CMD, FAILED, SLOTS, CMD_STOP } = POOL_SLOTS;

/** How a worker talks to its host: where new buffers arrive, and how it says ready or failed. */
export interface TermsChannel {
  /** The buffers of `generation` (sent by the pool before it announced that generation). */
  receive(generation: number): TermsBuffers | Promise<TermsBuffers>;
  ready(): void;
  /** Start-up failed: report `message` and end the worker. */
  fail(message: string): void;
}

/**
 * Mark the run the pool is waiting for as finished and failed, so that the calling thread wakes at once
 * instead of waiting out its time limit. For a worker on its way out (an uncaught error, an exit).
 */
export function abandonRun(data: TermsWorkerData): void {
  const ctrl = new Int32Array(data.ctrl);
  const o = data.slot * SLOTS;
  Atomics.store(ctrl, o + FAILED, 1);
  Atomics.store(ctrl, o + DONE, Atomics.load(ctrl, o + SEQ));
  Atomics.notify(ctrl, o + DONE);
}

/** Set up the weights, say ready, and serve until the pool stops this worker. */
export async function serveTerms(data: TermsWorkerData, channel: TermsChannel): Promise<void> {
  const choice = await initBackend({ backend: 'wasm', wasmPaths: data.wasmPaths });
  if (choice.name !== 'wasm' || !registerFusedKernels('wasm')) {
    channel.fail(`worker could not initialise the wasm backend (${choice.warnings.join(' ')})`);
    return;
  }
  const ctrl = new Int32Array(data.ctrl);
  const o = data.slot * SLOTS;
  const spec = specFromModel(data.model);
  const weights = tidy(() => prepareFusedWeights(foldScales(paramsFromModel(data.model), spec)));
  const n = data.nLocal;
  const k = n + 1;
  const m = data.inWidth;
  const width = n * k + m;
  let generation = 0;
  let xs: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let out: Float32Array<ArrayBufferLike> = new Float32Array(0);
  let seen = Atomics.load(ctrl, o + SEQ);
  channel.ready();

  for (;;) {
    Atomics.wait(ctrl, o + SEQ, seen);
    seen = Atomics.load(ctrl, o + SEQ);
    if (Atomics.load(ctrl, o + CMD) === CMD_STOP) break;
    try {
      const gen = Atomics.load(ctrl, o + GEN);
      if (generation !== gen) {
        const buffers = await channel.receive(gen);
        generation = buffers.generation;
        xs = new Float32Array(buffers.xs);
        out = new Float32Array(buffers.out);
      }
      const count = Atomics.load(ctrl, o + COUNT);
      if (count > 0) {
        const rows = count * (1 + k);
        const result = tf.tidy(() =>
          fusedLagrangianPack(weights, spec.activation, tf.tensor2d(xs.subarray(0, rows * m), [rows, m]), n),
        );
        out.set((result.dataSync() as Float32Array).subarray(0, count * width));
        result.dispose();
      }
      Atomics.store(ctrl, o + FAILED, 0);
    } catch (e) {
      console.error(e);
      Atomics.store(ctrl, o + FAILED, 1);
    }
    Atomics.store(ctrl, o + DONE, seen);
    Atomics.notify(ctrl, o + DONE);
  }
  disposeFusedWeights(weights);
}
