import * as tf from '@tensorflow/tfjs-core';

/**
 * Run `fn` inside `tf.tidy`, read its float32 result back synchronously and free it: one readback per
 * call, no tensor left behind (also when the readback throws).
 * @example const data = readBack(() => tf.concat([rows, grad], 1)); // [rows * cols]
 */
export function readBack(fn: () => tf.Tensor): Float32Array {
  const out = tf.tidy(fn);
  try {
    return out.dataSync() as Float32Array;
  } finally {
    out.dispose();
  }
}
