import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { sceneModules } from '../../scenes/index';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook };

/** Option values that keep a scene small enough for software GL (the defaults are for real GPUs). */
const SMALL: Record<string, Record<string, string | number>> = {
  'chaos-field': { grid: 24 },
};

/** Frames per scene: a few seconds of simulated time at 60 fps. */
const FRAMES = 200;

describe('every registered scene in headless Chromium', () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/', { viewport: { width: 960, height: 600 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  it('the gallery lists exactly the registered scenes, default first', async () => {
    const ids = await p.page.evaluate(() => window.__threeLnn.scenes);
    expect(ids, 'scene ids in the page').toEqual(sceneModules.map((m) => m.id));
    const cards = await p.page
      .locator('.gallery .card[data-scene]')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.scene));
    expect(cards, 'gallery cards').toEqual(ids);
    // Besides the scenes, one card links a page of its own.
    const pages = await p.page
      .locator('.gallery .card:not([data-scene])')
      .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.page));
    expect(pages, 'other cards').toEqual(['field']);
  });

  const cases: [string, Record<string, string | number>][] = [
    ...sceneModules.map((m): [string, Record<string, string | number>] => [m.id, SMALL[m.id] ?? {}]),
    // The learned-vs-exact colouring of the chaos field (adds the LNN lane when a model is shipped).
    ['chaos-field', { grid: 16, colour: 'error' }],
  ];

  it.each(cases)('%s %j runs 200 frames: no console error, no NaN, plots update', async (id, options) => {
    const errorsBefore = p.errors.length;
    await p.page.evaluate(([sceneId, o]) => window.__threeLnn.openScene(sceneId, o), [id, options] as const);
    expect(await p.page.evaluate(() => window.__threeLnn.scene()), 'scene opened').toBe(id);
    const before = await p.page.evaluate(() => window.__threeLnn.plots().redraws);
    await p.page.evaluate((n) => window.__threeLnn.frames(n), FRAMES);
    const s = await p.page.evaluate(() => ({
      lanes: window.__threeLnn.lanes(),
      time: window.__threeLnn.time(),
      plots: window.__threeLnn.plots(),
      recorded: window.__threeLnn.recorded(),
    }));
    const newErrors = p.errors.slice(errorsBefore);
    expect(newErrors, newErrors.join('\n')).toEqual([]);
    expect(s.time.t, `${FRAMES} frames at 1/60 s`).toBeCloseTo(FRAMES / 60, 6);
    const running = s.lanes.filter((l) => l.status === 'running');
    expect(running.length, 'at least one engine runs').toBeGreaterThan(0);
    for (const l of s.lanes) {
      expect(['running', 'unavailable'], `${id}/${l.key}: ${l.reason}`).toContain(l.status);
      expect(l.finite, `${id}/${l.key} state is finite`).toBe(true);
      if (l.status === 'running') expect(Number.isFinite(l.energy), `${id}/${l.key} energy`).toBe(true);
    }
    expect(s.recorded, 'every step recorded').toBe(s.time.steps + 1);
    expect(s.plots.redraws, 'plots redrawn').toBeGreaterThan(before);
    expect(s.plots.energy, 'energy plot has points').toBeGreaterThan(0);
  });

  it('a Lagrangian that does not parse is reported and the running scene keeps going', async () => {
    await p.page.evaluate(() => window.__threeLnn.openScene('your-lagrangian'));
    const errorsBefore = p.errors.length;
    await p.page.evaluate(() => window.__threeLnn.openScene('your-lagrangian', { L: '0.5*qd1^2 - cos(q1' }));
    await p.page.evaluate(() => window.__threeLnn.frames(20));
    const notices = await p.page.evaluate(() => window.__threeLnn.notices());
    expect(notices.at(-1) ?? '', 'the parse error is shown').toMatch(/your-lagrangian/);
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    expect(lanes[0]?.status, 'the previous Lagrangian still runs').toBe('running');
    expect(p.errors.slice(errorsBefore), 'no uncaught error').toEqual([]);
    // Text is parsed, never run: an expression that would be code is rejected the same way.
    await p.page.evaluate(() => window.__threeLnn.openScene('your-lagrangian', { L: 'alert(1)' }));
    expect(await p.page.evaluate(() => window.__threeLnn.notices().at(-1)), 'code is not a formula').toMatch(
      /your-lagrangian/,
    );
    expect(p.errors.slice(errorsBefore), 'no dialog, no error').toEqual([]);
  });
});
