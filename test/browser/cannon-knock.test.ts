import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, repoRoot, startBrowserHarness } from '../support/browser';
import type { CannonKnockResult } from './cannon-knock-page';

// The screenshot goes to test-results/cannon-knock.png; `UPDATE_SCREENSHOTS=1` writes docs/img/cannon-knock.png
// (docs/plugin.md shows it), so a plain test run never modifies tracked files.
describe('two-way cannon-es coupling in headless Chromium (three.js + cannon-es)', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a ball visibly knocks a resting pendulum bob and bounces back (screenshot)', async () => {
    const p = await h.openPage('/test/browser/cannon-knock.html', { viewport: { width: 960, height: 540 } });
    await p.page.waitForFunction(() => window.__cannonKnock !== undefined, null, { timeout: 60_000 });
    const r = (await p.page.evaluate(() => window.__cannonKnock)) as CannonKnockResult & { error?: string };
    expect(r.error, `page failed: ${r.error}`).toBeUndefined();
    console.log(
      `cannon-knock page: ball ${r.ballVxBefore.toFixed(4)} → ${r.ballVxAfter.toFixed(4)} m/s (analytic ${r.analyticBall.toFixed(4)}), ` +
        `bob → ${r.bobSpeedAfter.toFixed(4)} m/s (analytic ${r.analyticBob.toFixed(4)}), m_eff ${r.effectiveMass.toFixed(4)}, ` +
        `θ before ${r.thetaBefore.toExponential(2)}, max after ${r.thetaMax.toFixed(3)} rad, impacts ${r.impacts}`,
    );
    expect(r.twoWay, 'two-way coupling').toBe(true);
    expect(Math.abs(r.thetaBefore), 'the bob rests until hit').toBeLessThan(1e-9);
    expect(r.thetaMax, 'the pendulum is knocked well out (> 0.3 rad)').toBeGreaterThan(0.3);
    expect(r.ballVxAfter, 'the light, bouncy ball rebounds').toBeLessThan(0);
    expect(
      Math.abs(r.ballVxAfter - r.analyticBall) / Math.abs(r.analyticBall),
      'ball vs analytic',
    ).toBeLessThan(0.02);
    expect(Math.abs(r.bobSpeedAfter - r.analyticBob) / r.analyticBob, 'bob vs analytic').toBeLessThan(0.02);

    const dir = process.env.UPDATE_SCREENSHOTS
      ? resolve(repoRoot, 'docs', 'img')
      : resolve(repoRoot, 'test-results');
    mkdirSync(dir, { recursive: true });
    const png = await p.page.locator('#stage').screenshot({ path: resolve(dir, 'cannon-knock.png') });
    expect(png.length, 'screenshot PNG size (a blank canvas compresses to a few KB)').toBeGreaterThan(15_000);
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
  });
});
