import * as tf from '@tensorflow/tfjs-core';
import { isNode, nodeModule } from '../model/nodeIo.js';

/**
 * Register TF.js's gradient functions, which `@tensorflow/tfjs-core` alone does not ship registered
 * (`tf.grad` / `tf.variableGrads` otherwise throw "gradient function not found"). Only training code
 * needs them; the engines never differentiate.
 *
 * Browsers, Vite and Vitest load tfjs-core's ES-module build and its gradient module. Plain Node (the
 * CLI) loads the CommonJS build, which has none; there the umbrella `@tensorflow/tfjs` CommonJS build
 * registers them on the same tfjs-core instance. If neither works, this throws instead of letting
 * training fail later.
 * @example await registerGradients(); const { grads } = tf.variableGrads(loss);
 */
export async function registerGradients(): Promise<void> {
  if (tf.getGradient('Softplus') !== undefined) return;
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  } catch {
    // Plain Node: the ES-module file above cannot load there (its imports have no extensions).
  }
  if (tf.getGradient('Softplus') === undefined && isNode()) {
    // Plain Node resolves tfjs-core to its CommonJS build, which has no gradient registrations. The
    // umbrella package's CommonJS build registers them on that same tfjs-core instance.
    const { createRequire } = await nodeModule();
    try {
      createRequire(import.meta.url)('@tensorflow/tfjs');
    } catch {
      // Not installed: reported below.
    }
  }
  if (tf.getGradient('Softplus') === undefined) {
    throw new Error(
      'TF.js gradients are unavailable in this runtime: neither the ES-module gradient registrations of ' +
        '@tensorflow/tfjs-core nor the CommonJS ones of @tensorflow/tfjs could be loaded. In plain Node, ' +
        'training needs the optional peer dependency @tensorflow/tfjs (npm i @tensorflow/tfjs@^4.22.0); ' +
        'or train with the Python trainer in training/.',
    );
  }
}
