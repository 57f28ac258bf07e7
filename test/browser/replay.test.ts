/**
 * A recorded run replays bit for bit from its exported link: the export carries each learned lane's route
 * (route, backend, precision) and a URL that pins it, and a fresh page opened from that URL takes the same
 * route and computes the same float64 states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook };

/** Frames run on the manual clock (1/60 s each: 2 steps of the default 1/120 s). */
const FRAMES = 90;

interface RunResult {
  json: string;
  routes: Record<string, { route: string; backend: string; precision: string }>;
  notices: string[];
  steps: number;
}

/** Open `path`, restart the run on the manual clock, run {@link FRAMES} frames and export it. */
async function recordRun(h: BrowserHarness, path: string): Promise<{ page: OpenedPage; run: RunResult }> {
  const page = await h.openPage(path, { viewport: { width: 900, height: 560 } });
  await page.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
  const run = await page.page.evaluate(async (n) => {
    const hook = window.__threeLnn;
    hook.manual(true);
    await hook.restart();
    await hook.frames(n);
    return {
      json: hook.exportText('json'),
      routes: hook.routes(),
      notices: hook.notices(),
      steps: hook.time().steps,
    };
  }, FRAMES);
  return { page, run };
}

interface ExportedLane {
  key: string;
  status: string;
  route: { route: string; backend: string; precision: string } | null;
  q: number[][];
  qd: number[][];
}

describe('replaying a recorded run from its link', () => {
  let h: BrowserHarness;

  beforeAll(async () => {
    h = await startBrowserHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('a fresh page opened from the exported URL pins the learned routes and reproduces the states bitwise', async () => {
    const first = await recordRun(h, '/');
    const rec = JSON.parse(first.run.json) as { url: string; t: number[]; lanes: ExportedLane[] };
    const lnn = rec.lanes.find((l) => l.key === 'lnn')!;
    expect(lnn.status, 'the learned lane runs').toBe('running');
    expect(first.run.routes.lnn, 'the hook reports the learned lane route').toBeDefined();
    expect(lnn.route, 'the export records the route').toEqual(first.run.routes.lnn);
    expect(['float64', 'float32', 'float16']).toContain(lnn.route!.precision);
    expect(rec.lanes.find((l) => l.key === 'analytic')!.route, 'exact lanes have no route').toBeNull();
    expect(rec.t.length, 'one sample per step, plus t = 0').toBe(first.run.steps + 1);
    expect(first.run.steps, 'the frames ran').toBe(2 * FRAMES);
    const link = new URL(rec.url);
    const r = lnn.route!;
    expect(link.searchParams.get('r.lnn'), 'the link pins the route').toBe(
      `${r.route},${r.backend},${r.precision}`,
    );
    expect(first.page.errors, first.page.errors.join('\n')).toEqual([]);
    await first.page.close();

    const second = await recordRun(h, `${link.pathname}${link.search}`);
    const again = JSON.parse(second.run.json) as { t: number[]; lanes: ExportedLane[] };
    expect(second.run.notices, 'the link is read whole and every route is available').toEqual([]);
    expect(second.run.routes.lnn, 'the fresh page takes the recorded route').toEqual(r);
    expect(again.t, 'the same sample times').toEqual(rec.t);
    for (const key of Object.keys(first.run.routes)) {
      const a = rec.lanes.find((l) => l.key === key)!;
      const b = again.lanes.find((l) => l.key === key)!;
      expect(b.route, `${key}: route`).toEqual(a.route);
      expect(b.q.length, `${key}: samples`).toBe(first.run.steps + 1);
      // JSON round-trips float64 exactly, so equal numbers here are equal bits.
      expect(b.q, `${key}: q bit for bit`).toEqual(a.q);
      expect(b.qd, `${key}: q̇ bit for bit`).toEqual(a.qd);
    }
    expect(second.page.errors, second.page.errors.join('\n')).toEqual([]);
    await second.page.close();
  });

  it('a route this page cannot take is named in a banner, with the route the lane takes instead', async () => {
    const page = await h.openPage('/?r.lnn=no-such-route,js,float64', {
      viewport: { width: 900, height: 560 },
    });
    await page.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    const { notices, routes } = await page.page.evaluate(() => ({
      notices: window.__threeLnn.notices(),
      routes: window.__threeLnn.routes(),
    }));
    const line = notices.find((n) => n.includes('no-such-route'));
    expect(line, notices.join('\n')).toMatch(/not available here/);
    expect(line).toContain(
      `runs on route ${routes.lnn.route} (${routes.lnn.backend}, ${routes.lnn.precision}) instead`,
    );
    expect(await page.page.textContent('.banners')).toContain('no-such-route');
    expect(page.errors, page.errors.join('\n')).toEqual([]);
    await page.close();
  });
});
