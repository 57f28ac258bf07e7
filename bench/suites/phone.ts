/**
 * The phone budget: the app's default scene, the chain and the string at 390×844 CSS px (touch, device
 * scale factor 3, as a phone in portrait) in headless Chromium on software GL (SwiftShader), with the
 * page's CPU slowed 4× by the DevTools Protocol (`Emulation.setCPUThrottlingRate({ rate: 4 })`). After a
 * warm-up under the throttle, the app runs on its own clock for a fixed window; the page counts its
 * requestAnimationFrame callbacks and the app's frames. Reported per scene: frames per second (the
 * display's and the app's), the share of frame intervals longer than 1.25 frame periods (20.8 ms: a
 * missed vsync, with room for the timer's jitter), the app's mean work per frame and its split
 * (physics, views, render, plots), the canvas's pixel ratio, the load level and pace the app chose (its
 * load governor, `window.__threeLnn.load()`, where the app has one) and the simulated seconds per second
 * (under 1 in slow motion).
 */
import { loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import type { TestHook } from '../../app/testHook';
import { startBrowserHarness } from '../../test/support/browser';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'phone';

declare const window: Window & { __threeLnn: TestHook };

/** The scenes measured: the default scene, the chain and the string. */
export const SCENES = ['double-pendulum', 'chain', 'vibrating-string'] as const;

/** CPU slow-down asked of the page (Chrome DevTools' "4× slowdown"). */
export const THROTTLE = 4;

/** The phone: iPhone-class portrait viewport. */
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 3 } as const;

/** What the page measured over the window. */
export interface PhoneSample {
  /** Window length, ms. */
  ms: number;
  /** requestAnimationFrame callbacks per second. */
  fps: number;
  /** Frames the app ran per second (its own frame counter). */
  appFps: number;
  /** Share of rAF intervals longer than 20.8 ms. */
  late: number;
  /** Median and 95th-percentile rAF interval, ms. */
  medianMs: number;
  p95Ms: number;
  /** The app's mean work per frame, ms, and its split. */
  work: { total: number; physics: number; views: number; render: number; plots: number };
  /** The canvas's pixel ratio (drawing-buffer width / CSS width). */
  pixelRatio: number;
  /** The load governor's state at the end of the window (null when the app has none). */
  load: unknown;
  /** Simulated seconds per wall-clock second over the window (1: real time; under 1: slow motion). */
  simSpeed: number;
}

/** Runs in the page: count frames for `ms` milliseconds while the app runs on its own clock. */
async function sampleInPage(ms: number): Promise<PhoneSample> {
  const hook = window.__threeLnn;
  const t0 = hook.timings();
  const f0 = hook.frame();
  const sim0 = hook.time().t;
  const stamps: number[] = [];
  const start = performance.now();
  await new Promise<void>((done) => {
    const tick = (now: number) => {
      stamps.push(now);
      if (now - start < ms) requestAnimationFrame(tick);
      else done();
    };
    requestAnimationFrame(tick);
  });
  const elapsed = stamps[stamps.length - 1] - stamps[0];
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
  const sorted = [...gaps].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const t1 = hook.timings();
  const frames = Math.max(1, t1.frames - t0.frames);
  const per = (k: 'physics' | 'views' | 'render' | 'plots') => (t1[k] - t0[k]) / frames;
  const work = {
    physics: per('physics'),
    views: per('views'),
    render: per('render'),
    plots: per('plots'),
    total: 0,
  };
  work.total = work.physics + work.views + work.render + work.plots;
  const canvas = document.querySelector('.viewport canvas') as HTMLCanvasElement | null;
  const h = hook as TestHook & { load?: () => unknown };
  return {
    ms: elapsed,
    fps: (gaps.length * 1000) / elapsed,
    appFps: ((hook.frame() - f0) * 1000) / elapsed,
    late: gaps.filter((g) => g > 1.25 * (1000 / 60)).length / Math.max(1, gaps.length),
    medianMs: q(0.5),
    p95Ms: q(0.95),
    work,
    pixelRatio: canvas ? canvas.width / Math.max(1, canvas.clientWidth) : 0,
    load: typeof h.load === 'function' ? h.load() : null,
    simSpeed: ((hook.time().t - sim0) * 1000) / elapsed,
  };
}

/** Open `scene` on a phone-sized page, throttle its CPU, warm up, then sample for `ms`. */
export async function measurePhone(
  page: Page,
  baseUrl: string,
  scene: string,
  warmupMs: number,
  ms: number,
): Promise<PhoneSample> {
  await page.goto(`${baseUrl}/?scene=${scene}`, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 120_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  try {
    await page.waitForTimeout(warmupMs);
    // tsx compiles this file with esbuild's keepNames, whose `__name` helper the page lacks.
    await page.evaluate('globalThis.__name ??= (f) => f');
    return await page.evaluate(sampleInPage, ms);
  } finally {
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 }).catch(() => {});
    await cdp.detach().catch(() => {});
  }
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The governor's level as one cell (`level name`, or `—` without a governor). */
function loadCell(load: unknown): string {
  if (!load || typeof load !== 'object') return '—';
  const l = load as { level?: number; name?: string; pace?: number; paceName?: string };
  const pace = l.pace ? `; pace ${l.pace} ${l.paceName ?? ''}` : '';
  return `${l.level ?? '?'}${l.name ? ` ${l.name}` : ''}${pace}`;
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  // Long enough for the load governor to settle (a step every ~3 s of missed frames).
  const warmupMs = options.quick ? 1500 : 20_000;
  const ms = options.quick ? 2000 : 5000;
  const loadStart = loadavg();
  const h = await startBrowserHarness();
  const rows: BenchRow[] = [];
  const samples: Record<string, PhoneSample> = {};
  const log = (s: string) => process.stderr.write(`[phone bench] ${s}\n`);
  try {
    for (const scene of SCENES) {
      const context = await h.browser.newContext({
        viewport: { width: PHONE.width, height: PHONE.height },
        deviceScaleFactor: PHONE.deviceScaleFactor,
        isMobile: true,
        hasTouch: true,
      });
      try {
        const page = await context.newPage();
        const s = await measurePhone(page, h.baseUrl, scene, warmupMs, ms);
        samples[scene] = s;
        log(`${scene}: ${JSON.stringify(s)}`);
        rows.push({
          scene,
          fps: r1(s.fps),
          'app fps': r1(s.appFps),
          'late frames (> 20.8 ms)': `${Math.round(100 * s.late)}%`,
          'median / p95 interval (ms)': `${s.medianMs.toFixed(1)} / ${s.p95Ms.toFixed(1)}`,
          'app work per frame = physics + views + render + plots (ms)': `${s.work.total.toFixed(1)} = ${s.work.physics.toFixed(1)} + ${s.work.views.toFixed(1)} + ${s.work.render.toFixed(1)} + ${s.work.plots.toFixed(1)}`,
          'pixel ratio': r1(s.pixelRatio),
          'sim s per s': Math.round(s.simSpeed * 100) / 100,
          'load level': loadCell(s.load),
        });
      } finally {
        await context.close().catch(() => {});
      }
    }
  } finally {
    await h.close();
  }
  return {
    rows,
    json: {
      method: `${PHONE.width}×${PHONE.height} CSS px, deviceScaleFactor ${PHONE.deviceScaleFactor}, isMobile + hasTouch; CDP Emulation.setCPUThrottlingRate(${THROTTLE}) after the scene is ready; ${warmupMs} ms warm-up under the throttle, then ${ms} ms counted: requestAnimationFrame callbacks (fps), the app's frame counter (app fps), intervals > 20.8 ms (late), the app's own per-part timings, simulated seconds per second`,
      throttle: THROTTLE,
      viewport: PHONE,
      warmupMs,
      windowMs: ms,
      loadAverageAtStart: loadStart.map((x) => Math.round(x * 100) / 100),
      loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
      scenes: samples,
    },
  };
}
