import * as tf from '@tensorflow/tfjs-core';

/**
 * Register TF.js's gradient functions, which `@tensorflow/tfjs-core` alone does not ship registered
 * (`tf.grad` / `tf.variableGrads` otherwise throw "gradient function not found"). Only training code
 * needs them; the engines never differentiate.
 *
 * Works where tfjs-core's ES-module build is in use (browsers, Vite, Vitest). Plain Node loads the
 * CommonJS build (`main`), which has no gradient registrations at all; this function then throws an
 * Error saying so instead of letting training fail later.
 * @example await registerGradients(); const { grads } = tf.variableGrads(loss);
 */
export async function registerGradients(): Promise<void> {
  if (tf.getGradient('Softplus') !== undefined) return;
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  } catch {
    // Falls through to the check below, which explains the situation.
  }
  if (tf.getGradient('Softplus') === undefined) {
    throw new Error(
      'TF.js gradients are unavailable: this runtime loaded the CommonJS build of @tensorflow/tfjs-core, ' +
        'which ships without gradient registrations. Run TF.js training under Vite/Vitest or in a browser ' +
        '(ES-module build), or train with the Python trainer in training/.',
    );
  }
}
