/**
 * The exact LNN terms and q̈ of `batch` states on TF.js tensors (float32), read back as typed arrays
 * inside one `tf.tidy`: what the tensor-route tests compare against the float64 reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lnnAccelerations, lnnTerms } from '../../src/nn/lnn';
import type { MlpParams, NetworkSpec } from '../../src/nn/mlp';

export interface TensorTerms {
  gq: Float32Array;
  gv: Float32Array;
  hvv: Float32Array;
  /** H_vq q̇. */
  hu: Float32Array;
  qdd: Float32Array;
  flags: Float32Array | Int32Array | Uint8Array;
}

/** `q`, `qd`: `[batch * n]` float64 states, uploaded as float32. Leaves no tensors behind. */
export function tensorTerms(
  params: MlpParams,
  spec: NetworkSpec,
  q: Float64Array,
  qd: Float64Array,
  batch: number,
  n: number,
): TensorTerms {
  return tf.tidy(() => {
    const Q = tf.tensor2d(Float32Array.from(q.subarray(0, batch * n)), [batch, n]);
    const V = tf.tensor2d(Float32Array.from(qd.subarray(0, batch * n)), [batch, n]);
    const t = lnnTerms(params, spec, Q, V);
    const a = lnnAccelerations(params, spec, Q, V);
    return {
      gq: t.gq.dataSync() as Float32Array,
      gv: t.gv.dataSync() as Float32Array,
      hvv: t.hvv.dataSync() as Float32Array,
      hu: t.hvqQd.dataSync() as Float32Array,
      qdd: a.qdd.dataSync() as Float32Array,
      flags: a.flags.dataSync() as Float32Array | Int32Array | Uint8Array,
    };
  });
}
