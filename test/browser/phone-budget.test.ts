import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, repoRoot, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook };

describe('the phone budget: 390×844 (touch, device scale 3) with the CPU slowed 4×', () => {
  let h: BrowserHarness;

  beforeAll(async () => {
    h = await startBrowserHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('the default scene holds 55 fps or lowers its drawing load or pace and says so, leaving the physics settings alone', async () => {
    const context = await h.browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
      await page.goto(`${h.baseUrl}/`, { waitUntil: 'load', timeout: 60_000 });
      await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
      const before = await page.evaluate(() => window.__threeLnn.settings());
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      // Up to 15 s on the page's own clock: frames per second over each second, until either 55 fps
      // or a lowered load level or pace shows.
      const result = await page.evaluate(
        () =>
          new Promise<{
            fps: number;
            level: number;
            pace: number;
            stepsPerFrame: number | null;
            shown: string;
            pixelRatio: number;
          }>((done) => {
            const hook = window.__threeLnn;
            const start = performance.now();
            let mark = start;
            let frames = 0;
            let fps = 0;
            const frame = (now: number) => {
              frames++;
              if (now - mark >= 1000) {
                fps = (frames * 1000) / (now - mark);
                frames = 0;
                mark = now;
              }
              const load = hook.load();
              if (fps >= 55 || load.level > 0 || load.pace > 0 || now - start > 15_000)
                done({
                  fps,
                  level: load.level,
                  pace: load.pace,
                  stepsPerFrame: load.stepsPerFrame,
                  shown: load.shown,
                  pixelRatio: load.pixelRatio,
                });
              else requestAnimationFrame(frame);
            };
            requestAnimationFrame(frame);
          }),
      );
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
      const after = await page.evaluate(() => window.__threeLnn.settings());
      expect(
        result.fps >= 55 || result.level > 0 || result.pace > 0,
        `fps ${result.fps.toFixed(1)} at load level ${result.level}, pace ${result.pace}`,
      ).toBe(true);
      if (result.level > 0) {
        expect(result.shown, 'the lowered level is said on the page').toMatch(
          /Lighter drawing .*physics unchanged/,
        );
        expect(result.pixelRatio, 'the first step lowers the pixel ratio').toBeLessThanOrEqual(1.5);
      }
      if (result.pace > 0) {
        expect(result.shown, 'slow motion is said on the page').toMatch(/Slow motion .*same trajectory/);
        expect(result.stepsPerFrame, 'the first pace step: at most 2 steps per frame').toBe(2);
      }
      if (result.level > 0 || result.pace > 0) {
        const visible = await page.evaluate(() => {
          const r = document.querySelector('.viewport .hud')!.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && r.bottom <= innerHeight && r.right <= innerWidth;
        });
        expect(visible, 'the load note is on screen (no hover needed)').toBe(true);
        mkdirSync(resolve(repoRoot, 'test-results'), { recursive: true });
        await page.screenshot({ path: resolve(repoRoot, 'test-results', 'phone-budget.png') });
      }
      expect(after, 'dt, substeps, integrator and time scale are what they were').toEqual(before);
      // Taking the manual clock (as the other browser tests do) puts the app back to full load.
      const manual = await page.evaluate(() => {
        window.__threeLnn.manual(true);
        return window.__threeLnn.load();
      });
      expect(manual.level).toBe(0);
      expect(manual.pace).toBe(0);
      expect(manual.shown).toBe('');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
