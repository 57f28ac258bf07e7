/**
 * Worker thread of {@link TermsPool}: loads the model into its own TF.js wasm instance, then serves
 * fused exact-derivative passes on shared memory, synchronously, until told to stop.
 */

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { fusedLagrangianPack, prepareFusedWeights, registerFusedKernels } from '../nn/fused';
import { foldScales, paramsFromModel, specFromModel } from '../nn/mlp';
import { tidy } from '../nn/tidy';
import { initBackend } from './backend';
import { POOL_SLOTS, type TermsWorkerData } from './TermsPool';

const data = workerData as TermsWorkerData;
const { SEQ, DONE, COUNT, GEN, CMD, FAILED, SLOTS, CMD_STOP } = POOL_SLOTS;
const ctrl = new Int32Array(data.ctrl);
const o = data.slot * SLOTS;

const choice = await initBackend({ backend: 'wasm' });
if (choice.name !== 'wasm' || !registerFusedKernels('wasm')) {
  parentPort?.postMessage(`worker could not initialise the wasm backend (${choice.warnings.join(' ')})`);
  process.exit(1);
}
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
parentPort?.postMessage('ready');

for (;;) {
  Atomics.wait(ctrl, o + SEQ, seen);
  seen = Atomics.load(ctrl, o + SEQ);
  if (Atomics.load(ctrl, o + CMD) === CMD_STOP) break;
  try {
    const gen = Atomics.load(ctrl, o + GEN);
    while (generation !== gen) {
      const msg = receiveMessageOnPort(data.port);
      if (!msg) throw new Error('worker: new buffers announced but not received');
      const {
        generation: g,
        xs: xb,
        out: ob,
      } = msg.message as {
        generation: number;
        xs: SharedArrayBuffer;
        out: SharedArrayBuffer;
      };
      generation = g;
      xs = new Float32Array(xb);
      out = new Float32Array(ob);
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
