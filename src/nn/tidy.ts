import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.tidy` typed for plain result interfaces: frees every intermediate tensor created by `fn` and
 * keeps the tensors reachable from its result (objects and arrays of tensors included).
 */
export function tidy<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T;
}
