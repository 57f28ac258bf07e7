import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldApp } from '../../app/field';
import type { TestHook } from '../../app/testHook';
import { sceneModules } from '../../scenes/index';
import { type BrowserHarness, repoRoot, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook; __fieldApp?: FieldApp };

/** Option values that keep a scene small enough for software GL (the layout does not depend on them). */
const SMALL: Record<string, Record<string, string | number>> = {
  'chaos-field': { grid: 24 },
};

/** The screens checked: phones in portrait and landscape (touch, device scale 3) and a tablet. */
const SCREENS = [
  { name: '390x844', width: 390, height: 844, phone: true },
  { name: '844x390', width: 844, height: 390, phone: true },
  { name: '768x1024', width: 768, height: 1024, phone: false },
] as const;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What one screenful looks like: the boxes of the parts, text sizes and page overflow. */
interface Measure {
  win: { w: number; h: number };
  scroll: { w: number; h: number };
  header: Box;
  legend: Box | null;
  view: Box;
  labels: { text: string; box: Box }[];
  plotsArea: Box;
  plotsScroll: { scrollWidth: number; clientWidth: number; overflowX: string };
  plots: Box[];
  /** Visible text smaller than 12 CSS px: where and how large. */
  smallText: string[];
}

/** Runs in the page: the boxes of header, legend, lane labels and plots; text sizes; overflow. */
function measure(): Measure {
  const box = (el: Element): Box => {
    const r = el.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  };
  const shown = (el: Element) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const header = document.querySelector('.topbar')!;
  const legend = document.querySelector('.legend ul');
  const labels = [...document.querySelectorAll('.labels .lane-label')].filter(shown);
  const plotsArea = document.querySelector('.plots') as HTMLElement;
  const plots = [...document.querySelectorAll('.plots .plot')];
  const smallText: string[] = [];
  const roots = [header, legend, ...labels, plotsArea, document.querySelector('.timeline')!];
  for (const root of roots) {
    if (!root) continue;
    for (const el of [root, ...root.querySelectorAll('*')]) {
      const hasText = [...el.childNodes].some((n) => n.nodeType === 3 && (n.textContent ?? '').trim() !== '');
      if (!hasText || !shown(el)) continue;
      const size = Number.parseFloat(getComputedStyle(el).fontSize);
      if (size < 12)
        smallText.push(
          `${el.tagName.toLowerCase()}.${el.className} "${el.textContent?.trim().slice(0, 30)}" ${size}px`,
        );
    }
  }
  const se = document.scrollingElement ?? document.documentElement;
  return {
    win: { w: window.innerWidth, h: window.innerHeight },
    scroll: { w: Math.max(se.scrollWidth, document.body.scrollWidth), h: se.scrollHeight },
    header: box(header),
    legend: legend && shown(legend) ? box(legend) : null,
    view: box(document.querySelector('.viewport')!),
    labels: labels.map((el) => ({ text: el.textContent ?? '', box: box(el) })),
    plotsArea: box(plotsArea),
    plotsScroll: {
      scrollWidth: plotsArea.scrollWidth,
      clientWidth: plotsArea.clientWidth,
      overflowX: getComputedStyle(plotsArea).overflowX,
    },
    plots: plots.map(box),
    smallText,
  };
}

/** Half a CSS pixel of slack for sub-pixel layout. */
const EPS = 0.5;

/** Area two boxes share (0 when they only touch). */
function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > EPS && h > EPS ? w * h : 0;
}

/** The part of `a` inside `clip`. */
function clipTo(a: Box, clip: Box): Box {
  const x = Math.max(a.x, clip.x);
  const y = Math.max(a.y, clip.y);
  return {
    x,
    y,
    w: Math.max(0, Math.min(a.x + a.w, clip.x + clip.w) - x),
    h: Math.max(0, Math.min(a.y + a.h, clip.y + clip.h) - y),
  };
}

/** Whether `a` lies within `outer`. */
function inside(a: Box, outer: Box): boolean {
  return (
    a.x >= outer.x - EPS &&
    a.y >= outer.y - EPS &&
    a.x + a.w <= outer.x + outer.w + EPS &&
    a.y + a.h <= outer.y + outer.h + EPS
  );
}

const fmt = (b: Box) => `[${b.x.toFixed(1)}, ${b.y.toFixed(1)} ${b.w.toFixed(1)}×${b.h.toFixed(1)}]`;

/** Every layout rule for one screenful; `where` names the screen and scene in failure messages. */
function checkLayout(m: Measure, where: string): void {
  const screen: Box = { x: 0, y: 0, w: m.win.w, h: m.win.h };
  expect(m.scroll.w, `${where}: no horizontal page overflow`).toBeLessThanOrEqual(m.win.w);
  expect(m.scroll.h, `${where}: no vertical page overflow`).toBeLessThanOrEqual(m.win.h);
  expect(m.smallText, `${where}: no visible text under 12 px`).toEqual([]);
  // Plots: their area is on screen; each plot stays within the area's height and, where it leaves the
  // area's width, the area scrolls sideways (a swipeable row).
  expect(inside(m.plotsArea, screen), `${where}: plots area ${fmt(m.plotsArea)} on screen`).toBe(true);
  expect(m.plots.length, `${where}: three plots`).toBe(3);
  for (const [i, p] of m.plots.entries()) {
    expect(
      p.y >= m.plotsArea.y - EPS && p.y + p.h <= m.plotsArea.y + m.plotsArea.h + EPS,
      `${where}: plot ${i} ${fmt(p)} within the plots area's height ${fmt(m.plotsArea)}`,
    ).toBe(true);
    if (!inside(p, m.plotsArea)) {
      expect(m.plotsScroll.overflowX, `${where}: plot ${i} outside the area, which scrolls`).toMatch(
        /auto|scroll/,
      );
      expect(m.plotsScroll.scrollWidth, `${where}: the plots area scrolls sideways`).toBeGreaterThan(
        m.plotsScroll.clientWidth,
      );
    }
  }
  const visiblePlots = m.plots.map((p) => clipTo(p, m.plotsArea)).filter((p) => p.w > EPS && p.h > EPS);
  const parts: [string, Box][] = [
    ['header', m.header],
    ...(m.legend ? [['legend', m.legend] as [string, Box]] : []),
    ...m.labels.map((l): [string, Box] => [`label "${l.text}"`, l.box]),
    ...visiblePlots.map((p, i): [string, Box] => [`plot ${i}`, p]),
  ];
  for (const [name, b] of parts)
    expect(inside(b, screen), `${where}: ${name} ${fmt(b)} on screen`).toBe(true);
  for (const l of m.labels)
    expect(
      inside(l.box, m.view),
      `${where}: label "${l.text}" ${fmt(l.box)} in the 3D view ${fmt(m.view)}`,
    ).toBe(true);
  if (m.legend) expect(inside(m.legend, m.view), `${where}: legend in the 3D view`).toBe(true);
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      const [a, ab] = parts[i];
      const [b, bb] = parts[j];
      expect(overlap(ab, bb), `${where}: ${a} ${fmt(ab)} overlaps ${b} ${fmt(bb)}`).toBe(0);
    }
  }
}

/** Two animation frames, so a resize or new content has reached the layout and the canvas. */
const settle = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe('the app on phones and tablets: layout and touch', () => {
  let h: BrowserHarness;
  const pages = new Map<string, { context: BrowserContext; page: Page; errors: string[] }>();

  beforeAll(async () => {
    h = await startBrowserHarness();
  });

  afterAll(async () => {
    for (const p of pages.values()) await p.context.close().catch(() => {});
    await h?.close();
  });

  /** Opens the app at a screen size, on the manual clock, collecting console and page errors. */
  async function open(s: (typeof SCREENS)[number]) {
    const context = await h.browser.newContext({
      viewport: { width: s.width, height: s.height },
      ...(s.phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 3 } : {}),
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.location()?.url?.endsWith('/favicon.ico')) errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
    await page.goto(`${h.baseUrl}/`, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await page.evaluate(() => window.__threeLnn.manual(true));
    const opened = { context, page, errors };
    pages.set(s.name, opened);
    return opened;
  }

  for (const s of SCREENS) {
    it(`${s.name}${s.phone ? ' (touch, device scale 3)' : ''}: every scene keeps header, legend, lane labels and plots apart and on screen; the controls are a closed drawer that overlays the view; screenshot`, async () => {
      const { page, errors } = await open(s);

      // The controls: a drawer, closed at first; opening it leaves the 3D view its size.
      expect(await page.evaluate(() => window.__threeLnn.layout().drawerOpen), 'drawer closed at first').toBe(
        false,
      );
      const side = () =>
        page.evaluate(() => {
          const r = document.querySelector('.side')!.getBoundingClientRect();
          return {
            x: r.left,
            y: r.top,
            w: r.width,
            h: r.height,
            visible: getComputedStyle(document.querySelector('.side')!).visibility,
          };
        });
      expect((await side()).visible, 'closed drawer hidden').toBe('hidden');
      const viewBefore = (await page.evaluate(measure)).view;
      const toggle = page.locator('.topbar [data-act=controls]');
      if (s.phone) await toggle.tap();
      else await toggle.click();
      // The drawer slides in (a short transition).
      await page.waitForFunction(() => {
        const r = document.querySelector('.side')!.getBoundingClientRect();
        return r.right <= window.innerWidth + 0.5;
      });
      const opened = await side();
      expect(opened.visible, 'open drawer shown').toBe('visible');
      expect(
        inside(opened, { x: 0, y: 0, w: s.width, h: s.height }),
        `open drawer ${fmt(opened)} on screen`,
      ).toBe(true);
      expect(
        (await page.evaluate(measure)).view,
        'the view keeps its size and place when the drawer opens',
      ).toEqual(viewBefore);
      expect(await page.locator('.side .lil-root').isVisible(), 'the lil-gui panel is in the drawer').toBe(
        true,
      );
      if (s.phone) await toggle.tap();
      else await toggle.click();
      await page.waitForFunction(
        () => getComputedStyle(document.querySelector('.side')!).visibility === 'hidden',
      );
      expect((await side()).visible, 'drawer closed again').toBe('hidden');

      for (const m of sceneModules) {
        const options = SMALL[m.id] ?? {};
        await page.evaluate(([id, o]) => window.__threeLnn.openScene(id, o), [m.id, options] as const);
        expect(await page.evaluate(() => window.__threeLnn.scene())).toBe(m.id);
        await page.evaluate(() => window.__threeLnn.frames(3));
        await settle(page);
        checkLayout(await page.evaluate(measure), `${s.name} ${m.id}`);
      }

      // The default scene: four lanes as a 2 × 2 grid on portrait screens, one row in landscape.
      await page.evaluate(() => window.__threeLnn.openScene('double-pendulum'));
      await page.evaluate(() => window.__threeLnn.frames(90));
      await settle(page);
      const columns = await page.evaluate(() => window.__threeLnn.layout().laneColumns);
      expect(columns, 'lane columns of the default scene').toBe(s.width < s.height ? 2 : 4);
      checkLayout(await page.evaluate(measure), `${s.name} double-pendulum after 90 frames`);

      // The screenshot goes to test-results/; UPDATE_SCREENSHOTS=1 writes docs/img/ (as app.test.ts).
      const dir = process.env.UPDATE_SCREENSHOTS
        ? resolve(repoRoot, 'docs', 'img')
        : resolve(repoRoot, 'test-results');
      mkdirSync(dir, { recursive: true });
      const png = await page.screenshot({ path: resolve(dir, `app-${s.name}.png`), scale: 'css' });
      expect(png.length, 'screenshot PNG size (a blank page compresses to a few KB)').toBeGreaterThan(20_000);
      expect(errors, errors.join('\n')).toEqual([]);
    });
  }

  it('the GPU field page (/field.html) at 390x844 and 844x390: HUD, controls and legend apart and on screen, controls closed, text ≥ 12 px', async () => {
    for (const s of SCREENS.filter((x) => x.phone)) {
      const context = await h.browser.newContext({
        viewport: { width: s.width, height: s.height },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 3,
      });
      try {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (err) => errors.push(`${err.name}: ${err.message}`));
        await page.goto(`${h.baseUrl}/field.html`, { waitUntil: 'load', timeout: 60_000 });
        await page.waitForFunction(() => (window.__fieldApp?.frames() ?? 0) >= 10, null, { timeout: 90_000 });
        // A small grid: the layout does not depend on it, software GL draws it faster.
        await page.evaluate(() => window.__fieldApp!.resize(64));
        await page.waitForFunction(() => (window.__fieldApp?.frames() ?? 0) >= 20, null, { timeout: 60_000 });
        const m = await page.evaluate(() => {
          const box = (sel: string) => {
            const r = document.querySelector(sel)!.getBoundingClientRect();
            return { x: r.left, y: r.top, w: r.width, h: r.height };
          };
          const small = [...document.querySelectorAll('#overlay *')]
            .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent?.trim()))
            .filter((el) => el.getBoundingClientRect().width > 0)
            .map((el) => `${el.tagName} ${getComputedStyle(el).fontSize}`)
            .filter((t) => Number.parseFloat(t.split(' ')[1]) < 12);
          const se = document.scrollingElement ?? document.documentElement;
          return {
            hud: box('#hud'),
            gui: box('#gui .lil-root'),
            legend: box('#legend'),
            closed: document.querySelector('#gui .lil-root')!.classList.contains('lil-closed'),
            small,
            scrollW: se.scrollWidth,
          };
        });
        const where = `field.html ${s.name}`;
        const screen = { x: 0, y: 0, w: s.width, h: s.height };
        expect(m.closed, `${where}: controls closed at first`).toBe(true);
        expect(m.small, `${where}: no text under 12 px`).toEqual([]);
        expect(m.scrollW, `${where}: no horizontal overflow`).toBeLessThanOrEqual(s.width);
        const parts: [string, Box][] = [
          ['HUD', m.hud],
          ['controls', m.gui],
          ['legend', m.legend],
        ];
        for (const [name, b] of parts)
          expect(inside(b, screen), `${where}: ${name} ${fmt(b)} on screen`).toBe(true);
        for (let i = 0; i < parts.length; i++)
          for (let j = i + 1; j < parts.length; j++)
            expect(
              overlap(parts[i][1], parts[j][1]),
              `${where}: ${parts[i][0]} overlaps ${parts[j][0]}`,
            ).toBe(0);
        await page.screenshot({
          path: resolve(repoRoot, 'test-results', `field-${s.name}.png`),
          scale: 'css',
        });
        expect(errors, errors.join('\n')).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it('390x844 touch: a tap pauses, dragging the scrubber replays an earlier time, one finger orbits and a pinch zooms the camera', async () => {
    const opened = pages.get('390x844');
    expect(opened, 'the 390x844 page is open').toBeDefined();
    const { page, errors } = opened!;
    const cdp: CDPSession = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', points: [number, number][]) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: points.map(([x, y], id) => ({ x, y, id, radiusX: 4, radiusY: 4, force: 1 })),
      });

    await page.evaluate(() => window.__threeLnn.openScene('double-pendulum'));
    await page.evaluate(() => window.__threeLnn.frames(120));
    expect(await page.evaluate(() => window.__threeLnn.time().paused), 'running at first').toBe(false);

    // Tap to pause.
    await page.locator('.timeline [data-act=play]').tap();
    expect(await page.evaluate(() => window.__threeLnn.time().paused), 'paused by a tap').toBe(true);
    expect(
      await page.locator('.timeline [data-act=play]').getAttribute('aria-label'),
      'the button now plays',
    ).toBe('Play');

    // Drag the scrubber from its end to a third of the way.
    const timeText = () => page.locator('.timeline .time').textContent();
    const before = await timeText();
    const bar = (await page.locator('.timeline .scrub').boundingBox())!;
    const y = bar.y + bar.height / 2;
    const from = bar.x + bar.width - 4;
    const to = bar.x + bar.width / 3;
    await touch('touchStart', [[from, y]]);
    for (let k = 1; k <= 6; k++) await touch('touchMove', [[from + ((to - from) * k) / 6, y]]);
    await touch('touchEnd', []);
    const after = await timeText();
    expect(after, 'the shown time changed').not.toBe(before);
    expect(after, 'replaying a recorded moment').toContain('replay');
    const shown = Number(/t = ([\d.]+)/.exec(after ?? '')?.[1]);
    const live = Number(/t = ([\d.]+)/.exec(before ?? '')?.[1]);
    expect(shown, `a third of the way into ${live} s`).toBeGreaterThan(live * 0.15);
    expect(shown).toBeLessThan(live * 0.55);

    // The 3D view: one finger orbits (the camera moves around, same distance), two fingers pinch.
    const view = (await page.locator('.viewport').boundingBox())!;
    const cx = view.x + view.width / 2;
    const cy = view.y + view.height * 0.6;
    const cam0 = await page.evaluate(() => window.__threeLnn.camera());
    await touch('touchStart', [[cx, cy]]);
    for (let k = 1; k <= 5; k++) await touch('touchMove', [[cx + 12 * k, cy]]);
    await touch('touchEnd', []);
    await page.evaluate(() => window.__threeLnn.frames(2));
    const cam1 = await page.evaluate(() => window.__threeLnn.camera());
    const moved = Math.hypot(...cam1.position.map((v, i) => v - cam0.position[i]));
    expect(moved, 'one-finger drag orbits the camera').toBeGreaterThan(0.05);
    expect(
      Math.abs(cam1.distance - cam0.distance) / cam0.distance,
      'orbiting keeps the distance',
    ).toBeLessThan(0.02);

    // Pinch out: the fingers move apart from 40 px to 240 px; the camera comes closer.
    await touch('touchStart', [
      [cx - 20, cy],
      [cx + 20, cy],
    ]);
    for (let k = 1; k <= 8; k++) {
      const d = 20 + 12.5 * k;
      await touch('touchMove', [
        [cx - d, cy],
        [cx + d, cy],
      ]);
    }
    await touch('touchEnd', []);
    await page.evaluate(() => window.__threeLnn.frames(2));
    const cam2 = await page.evaluate(() => window.__threeLnn.camera());
    expect(
      cam2.distance,
      `pinching out zooms in (distance ${cam1.distance.toFixed(2)} → ${cam2.distance.toFixed(2)})`,
    ).toBeLessThan(cam1.distance * 0.8);
    await cdp.detach();
    expect(errors, errors.join('\n')).toEqual([]);
  });
});
