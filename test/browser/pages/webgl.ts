/**
 * Browser probe page: initialises TF.js on the WebGL backend and runs float32 computations whose exact
 * float32 results are known, publishing the outcome on `window.__webglProbe` for test/browser/webgl.test.ts.
 */
import '@tensorflow/tfjs-backend-webgl';
import * as tf from '@tensorflow/tfjs-core';

/** What the probe reports. */
export interface WebglProbeResult {
  backend: string;
  webglVersion: number;
  renderFloat32Capable: boolean;
  renderFloat32Enabled: boolean;
  /** Computed on the GPU: (1 + k·2⁻²⁰) + 3·2⁻²⁰ for k = 0..7 — exact in float32, not in float16. */
  sums: number[];
  /** Same values computed in JS with Math.fround. */
  sumsExpected: number[];
  /** Integer matmul with entries above 2¹¹ (exact in float32, not in float16). */
  matmul: number[];
  matmulExpected: number[];
  numTensorsBefore: number;
  numTensorsAfter: number;
  error?: string;
}

declare global {
  interface Window {
    __webglProbe?: WebglProbeResult;
  }
}

async function probe(): Promise<WebglProbeResult> {
  const ok = await tf.setBackend('webgl');
  if (!ok) throw new Error('tf.setBackend("webgl") returned false');
  await tf.ready();
  const numTensorsBefore = tf.memory().numTensors;
  const eps = 2 ** -20;
  const xs = Array.from({ length: 8 }, (_, k) => 1 + k * eps);
  const sumsExpected = xs.map((x) => Math.fround(Math.fround(x) + Math.fround(3 * eps)));
  const a = [4097, 3, 2, 4099, 5000, 7]; // 3×2
  const b = [2, 1, 3, 1]; // 2×2
  const matmulExpected: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) matmulExpected.push(a[i * 2] * b[j] + a[i * 2 + 1] * b[2 + j]);
  }
  const [sums, matmul] = tf.tidy(() => {
    const s = tf.add(tf.tensor1d(xs, 'float32'), tf.scalar(3 * eps, 'float32'));
    const m = tf.matMul(tf.tensor2d(a, [3, 2], 'float32'), tf.tensor2d(b, [2, 2], 'float32'));
    return [Array.from(s.dataSync()), Array.from(m.dataSync())];
  });
  return {
    backend: tf.getBackend(),
    webglVersion: tf.env().getNumber('WEBGL_VERSION'),
    renderFloat32Capable: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
    renderFloat32Enabled: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    sums,
    sumsExpected,
    matmul,
    matmulExpected,
    numTensorsBefore,
    numTensorsAfter: tf.memory().numTensors,
  };
}

const out = document.getElementById('out')!;
probe()
  .then((r) => {
    window.__webglProbe = r;
    out.textContent = JSON.stringify(r, null, 2);
  })
  .catch((err: Error) => {
    window.__webglProbe = { error: String(err?.message ?? err) } as WebglProbeResult;
    out.textContent = `error: ${err?.message ?? err}`;
  });
