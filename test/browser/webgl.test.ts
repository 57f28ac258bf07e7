import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from '../support/browser';
import type { WebglProbeResult } from './pages/webgl';

describe('TF.js in headless Chromium', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('runs on the webgl backend with float32 render targets and exact float32 arithmetic', async () => {
    const p = await h.openPage('/test/browser/pages/webgl.html');
    await p.page.waitForFunction(() => window.__webglProbe !== undefined, null, { timeout: 60_000 });
    const r = (await p.page.evaluate(() => window.__webglProbe)) as WebglProbeResult;
    expect(r.error, `probe failed: ${r.error}`).toBeUndefined();
    expect(r.backend, 'active TF.js backend').toBe('webgl');
    expect(r.webglVersion, 'WebGL version used by TF.js').toBe(2);
    expect(r.renderFloat32Capable, 'WEBGL_RENDER_FLOAT32_CAPABLE').toBe(true);
    expect(r.renderFloat32Enabled, 'WEBGL_RENDER_FLOAT32_ENABLED').toBe(true);
    expect(r.sums, '1 + k·2⁻²⁰ + 3·2⁻²⁰ must be exact in float32').toEqual(r.sumsExpected);
    expect(r.matmul, 'integer matmul above 2¹¹ must be exact in float32').toEqual(r.matmulExpected);
    expect(r.numTensorsAfter, 'tidy leaves no tensors behind').toBe(r.numTensorsBefore);
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
  });
});
