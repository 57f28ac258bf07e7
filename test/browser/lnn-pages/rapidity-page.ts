/**
 * Browser page for the `rapidity` checks of test/browser/gpu-fused.test.ts: initialises the webgl
 * backend and exposes {@link checkRapidity} on `window.__rapidity`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/learned/backend';
import { checkRapidity } from './rapidity';

declare global {
  interface Window {
    __rapidity?: { backend: string; float32: boolean; check: typeof checkRapidity };
    __rapidityError?: string;
  }
}

initBackend({ backend: 'webgl' })
  .then((b) => {
    window.__rapidity = {
      backend: b.name,
      float32: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
      check: checkRapidity,
    };
    document.getElementById('out')!.textContent = `ready on ${b.name}`;
  })
  .catch((e: unknown) => {
    window.__rapidityError = String((e as Error)?.stack ?? e);
    document.getElementById('out')!.textContent = window.__rapidityError;
  });
