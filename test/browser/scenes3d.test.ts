import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, type OpenedPage, repoRoot, startBrowserHarness } from '../support/browser';

/** Types the page's globals for `page.evaluate` callbacks. */
declare const window: Window & { __threeLnn: TestHook };

/**
 * Screenshots go to test-results/scene-<id>.png; `UPDATE_SCREENSHOTS=1` writes them to docs/img instead
 * (the docs show them), so a plain test run never modifies tracked files.
 */
function screenshotDir(): string {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? resolve(repoRoot, 'docs', 'img')
    : resolve(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The 3D scenes and their options in this test (the field smaller than the gallery's for software GL). */
const SCENES: [string, Record<string, string | number>][] = [
  ['spherical-ride', {}],
  ['double-spherical-ride', {}],
  ['whirling-string', {}],
  ['drum-membrane', {}],
  ['spherical-field', {}],
];

describe('3D scenes in headless Chromium', () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/?scene=spherical-ride', { viewport: { width: 1280, height: 800 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    // Only the test advances the app, so every run is the same.
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Drag the mouse across the view from a corner region where no bob is (left button: orbit). */
  async function orbitDrag(): Promise<void> {
    const box = (await p.page.locator('.viewport').boundingBox())!;
    const x = box.x + box.width * 0.12;
    const y = box.y + box.height * 0.85;
    await p.page.mouse.move(x, y);
    await p.page.mouse.down();
    for (let k = 1; k <= 6; k++) {
      await p.page.mouse.move(x + 25 * k, y - 6 * k);
      await p.page.evaluate(() => window.__threeLnn.frames(1));
    }
    await p.page.mouse.up();
    await p.page.evaluate(() => window.__threeLnn.frames(20));
  }

  it.each(SCENES)(
    '%s: perspective camera with shadows, steps with finite states, orbits, screenshot',
    async (id, options) => {
      const errorsBefore = p.errors.length;
      await p.page.evaluate(([sceneId, o]) => window.__threeLnn.openScene(sceneId, o), [
        id,
        options,
      ] as const);
      expect(await p.page.evaluate(() => window.__threeLnn.scene()), 'scene opened').toBe(id);
      const v = await p.page.evaluate(() => window.__threeLnn.view3d());
      expect(v.threeD, 'drawn in 3D').toBe(true);
      expect(v.perspective, 'perspective camera').toBe(true);
      expect(v.shadows, 'the key light casts shadows').toBe(true);

      const before = await p.page.evaluate(() => window.__threeLnn.lanes());
      const view0 = await p.page.evaluate(() => window.__threeLnn.view3d().view);
      await p.page.evaluate(() => window.__threeLnn.frames(90));
      const after = await p.page.evaluate(() => window.__threeLnn.lanes());
      const running = after.filter((l) => l.status === 'running');
      expect(running.length, 'at least one engine runs').toBeGreaterThan(0);
      for (const l of after) {
        expect(['running', 'unavailable'], `${id}/${l.key}: ${l.reason}`).toContain(l.status);
        expect(l.finite, `${id}/${l.key} state is finite`).toBe(true);
        if (l.status !== 'running') continue;
        const q0 = before.find((b) => b.key === l.key)!.q;
        const moved = l.q.reduce((m, x, i) => Math.max(m, Math.abs(x - q0[i])), 0);
        expect(moved, `${id}/${l.key}: the state changed over 60 frames`).toBeGreaterThan(1e-3);
        expect(Number.isFinite(l.energy), `${id}/${l.key} energy`).toBe(true);
        const bound = l.engine === 'cannon' ? 0.05 : l.engine === 'lnn' || l.engine === 'lgn' ? 5e-3 : 1e-5;
        expect(Math.abs(l.drift), `${id}/${l.key}: energy drift over 1 s`).toBeLessThan(bound);
      }
      if (view0) {
        // A view of its own redraws from the state: its vertices or instance positions moved.
        const view1 = await p.page.evaluate(() => window.__threeLnn.view3d().view)!;
        for (const key of Object.keys(view0.vertexSum)) {
          expect(view1!.vertexSum[key], `${id}/${key}: drawn positions changed between frames`).not.toBe(
            view0.vertexSum[key],
          );
        }
      }

      const cam0 = await p.page.evaluate(() => window.__threeLnn.camera());
      await orbitDrag();
      const cam1 = await p.page.evaluate(() => window.__threeLnn.camera());
      const moved = Math.hypot(...cam1.position.map((x, i) => x - cam0.position[i]));
      expect(moved, `${id}: a drag on empty space orbits the camera`).toBeGreaterThan(0.05 * cam0.distance);
      expect(cam1.distance, `${id}: orbiting keeps the distance to the target`).toBeCloseTo(cam0.distance, 1);
      // Back to the scene's own framing for the screenshot.
      await p.page.evaluate(([sceneId, o]) => window.__threeLnn.openScene(sceneId, o), [
        id,
        options,
      ] as const);
      // The field needs a while before neighbours drift apart: jump ahead, then draw.
      if (id === 'spherical-field') await p.page.evaluate(() => window.__threeLnn.step(1440));
      await p.page.evaluate(
        (n) => window.__threeLnn.frames(n),
        id === 'spherical-field' ? 4 : id === 'whirling-string' ? 210 : 100,
      );
      const png = await p.page
        .locator('.viewport')
        .screenshot({ path: resolve(screenshotDir(), `scene-${id}.png`) });
      expect(png.length, 'screenshot PNG size (a blank view compresses to a few KB)').toBeGreaterThan(20_000);
      const newErrors = p.errors.slice(errorsBefore);
      expect(newErrors, newErrors.join('\n')).toEqual([]);
    },
    240_000,
  );

  it('drum-membrane: the surface has one vertex per node, rim included, and its vertices move every frame', async () => {
    await p.page.evaluate(() => window.__threeLnn.openScene('drum-membrane', { side: 12 }));
    const sums: number[] = [];
    for (let k = 0; k < 4; k++) {
      await p.page.evaluate(() => window.__threeLnn.frames(1));
      const v = (await p.page.evaluate(() => window.__threeLnn.view3d().view))!;
      expect(v.kind).toBe('surface');
      expect(v.instances.analytic, 'vertices: (12 + 2)² nodes').toBe(14 * 14);
      sums.push(v.vertexSum.analytic);
    }
    for (let k = 1; k < sums.length; k++)
      expect(sums[k], `frame ${k}: positions rewritten`).not.toBe(sums[k - 1]);
  });

  it('spherical-field: the InstancedMesh draws one pendulum per copy (16 × 16 and 8 × 8, and the learned lane)', async () => {
    for (const grid of [16, 8]) {
      await p.page.evaluate((g) => window.__threeLnn.openScene('spherical-field', { grid: g }), grid);
      await p.page.evaluate(() => window.__threeLnn.frames(2));
      const v = (await p.page.evaluate(() => window.__threeLnn.view3d().view))!;
      const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
      expect(v.kind).toBe('pendulums');
      expect(v.instances.analytic, `${grid}×${grid} instances`).toBe(grid * grid);
      expect(lanes.find((l) => l.key === 'analytic')?.batch, 'copies stepped as one batch').toBe(grid * grid);
    }
    // The learned lane on the same starts, side by side (the shipped spherical LNN).
    await p.page.evaluate(() => window.__threeLnn.openScene('spherical-field', { grid: 8, learned: 'on' }));
    await p.page.evaluate(() => window.__threeLnn.frames(30));
    const v = (await p.page.evaluate(() => window.__threeLnn.view3d().view))!;
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    const lnn = lanes.find((l) => l.key === 'lnn');
    expect(lnn?.status, `learned lane: ${lnn?.reason}`).toBe('running');
    expect(lnn?.finite, 'learned lane finite').toBe(true);
    expect(v.instances, 'one InstancedMesh of 64 per lane').toEqual({ analytic: 64, lnn: 64 });
  });

  it('switching between the 3D scenes frees their geometries and textures', async () => {
    const open = async (id: string) => {
      await p.page.evaluate((sceneId) => window.__threeLnn.openScene(sceneId), id);
      await p.page.evaluate(() => window.__threeLnn.frames(3));
      return p.page.evaluate(() => window.__threeLnn.memory());
    };
    const first = await open('drum-membrane');
    for (const id of ['spherical-ride', 'double-spherical-ride', 'spherical-field', 'whirling-string'])
      await open(id);
    const again = await open('drum-membrane');
    expect(again.geometries, 'geometries after a round of 3D scenes').toBe(first.geometries);
    expect(again.textures, 'textures after a round of 3D scenes').toBe(first.textures);
  });

  it('double-spherical-ride: every lane draws two rods, pivot to upper bob to lower bob, on screen', async () => {
    await p.page.evaluate(() => window.__threeLnn.openScene('double-spherical-ride'));
    await p.page.evaluate(() => window.__threeLnn.frames(30));
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    const running = lanes.filter((l) => l.status === 'running').map((l) => l.key);
    expect(running, 'the exact, Euler–Lagrange, cannon-es and learned lanes run').toEqual([
      'analytic',
      'lagrangian',
      'cannon',
      'lnn',
    ]);
    for (const l of lanes) expect(l.finite, `${l.key}: finite after 0.5 s`).toBe(true);
    const box = (await p.page.locator('.viewport').boundingBox())!;
    for (const key of running) {
      const pts = await p.page.evaluate(
        (k) => [0, 1, 2].map((i) => window.__threeLnn.pointOnScreen(k, i)),
        key,
      );
      for (const [i, pt] of pts.entries()) {
        expect(pt, `${key}: point ${i} is drawn`).not.toBeNull();
        expect(pt!.x, `${key}: point ${i} inside the view (x)`).toBeGreaterThan(box.x);
        expect(pt!.x, `${key}: point ${i} inside the view (x)`).toBeLessThan(box.x + box.width);
        expect(pt!.y, `${key}: point ${i} inside the view (y)`).toBeGreaterThan(box.y);
        expect(pt!.y, `${key}: point ${i} inside the view (y)`).toBeLessThan(box.y + box.height);
      }
      const [pivot, b1, b2] = pts.map((pt) => pt!);
      const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      expect(dist(pivot.world, b1.world), `${key}: upper rod length (world)`).toBeCloseTo(1, 2);
      expect(dist(b1.world, b2.world), `${key}: lower rod length (world)`).toBeCloseTo(1, 2);
      expect(b2.y, `${key}: the lower bob hangs below the upper one on screen`).toBeGreaterThan(b1.y);
      expect(Math.hypot(b1.x - pivot.x, b1.y - pivot.y), `${key}: upper rod spans pixels`).toBeGreaterThan(
        20,
      );
      expect(Math.hypot(b2.x - b1.x, b2.y - b1.y), `${key}: lower rod spans pixels`).toBeGreaterThan(20);
    }
  });

  it('spherical-ride: dragging a bob with the perspective camera pushes it (the orbit stays still meanwhile)', async () => {
    await p.page.evaluate(() => window.__threeLnn.openScene('spherical-ride', { spin: 0, cone: 0.1 }));
    await p.page.evaluate(() => window.__threeLnn.frames(2));
    const start = (await p.page.evaluate(() => window.__threeLnn.pointOnScreen('analytic', 1)))!;
    expect(start, 'the exact lane is drawn').not.toBeNull();
    await p.page.mouse.move(start.x, start.y);
    await p.page.mouse.down();
    expect((await p.page.evaluate(() => window.__threeLnn.drag()))?.held, 'the bob is grabbed').toEqual({
      lane: 'analytic',
      copy: 0,
      point: 1,
    });
    const cam0 = await p.page.evaluate(() => window.__threeLnn.camera());
    for (let k = 1; k <= 5; k++) {
      await p.page.mouse.move(start.x + 20 * k, start.y - 8 * k);
      await p.page.evaluate(() => window.__threeLnn.frames(10));
    }
    const at = (await p.page.evaluate(() => window.__threeLnn.pointOnScreen('analytic', 1)))!;
    expect(at.x - start.x, 'the bob followed the pointer (px)').toBeGreaterThan(30);
    const cam1 = await p.page.evaluate(() => window.__threeLnn.camera());
    for (let i = 0; i < 3; i++) {
      expect(cam1.position[i], 'no orbit during the drag').toBeCloseTo(cam0.position[i], 6);
    }
    await p.page.mouse.up();
    await p.page.evaluate(() => window.__threeLnn.frames(10));
    const pushes = await p.page.evaluate(() => window.__threeLnn.pushes());
    for (const key of ['analytic', 'lagrangian', 'cannon']) {
      expect(
        pushes.filter((x) => x.lane === key && x.kind === 'force').length,
        `lane ${key} was pushed`,
      ).toBeGreaterThan(0);
    }
  });
});
