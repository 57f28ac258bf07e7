import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, repoRoot, startBrowserHarness } from '../support/browser';
import type { DragPage } from './pages/drag';

/** Types the page's globals for `page.evaluate` callbacks. */
declare const window: Window & { __threeLnn: TestHook; __drag: DragPage };

/** test-results/ (docs/img/ with UPDATE_SCREENSHOTS=1, as app.test.ts). */
function screenshotDir(): string {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? resolve(repoRoot, 'docs', 'img')
    : resolve(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((v, i) => v - b[i]));

describe('dragging bobs with the pointer (the three.js plugin’s PointerDrag) in headless Chromium', () => {
  let h: BrowserHarness;

  beforeAll(async () => {
    h = await startBrowserHarness();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('plugin page: the mouse grabs a bob of an InstancedMesh batch, pulls it, orbit stays off meanwhile; a flick plucks; a finger drags too', async () => {
    const p = await h.openPage('/test/browser/pages/drag.html', { viewport: { width: 900, height: 600 } });
    const { page } = p;
    await page.waitForFunction(() => document.getElementById('out')?.textContent === 'ready', null, {
      timeout: 60_000,
    });
    // Copy 1's lower bob.
    const start = await page.evaluate(() => window.__drag.screenOf(1, 2));
    await page.mouse.move(start.x + 4, start.y + 3);
    await page.mouse.down();
    expect(await page.evaluate(() => window.__drag.held())).toEqual({ copy: 1, point: 2 });
    expect(await page.evaluate(() => window.__drag.orbitEnabled()), 'orbit off while held').toBe(false);
    const cam0 = await page.evaluate(() => window.__drag.camera());
    // Pull 120 px right in steps, half a second of physics between moves.
    for (let k = 1; k <= 4; k++) {
      await page.mouse.move(start.x + 30 * k, start.y);
      await page.evaluate(() => window.__drag.steps(60));
    }
    const held = await page.evaluate(() => window.__drag.screenOf(1, 2));
    expect(held.x - start.x, `the bob followed the pointer (${held.x - start.x} px of 120)`).toBeGreaterThan(
      70,
    );
    const other = await page.evaluate(() => window.__drag.screenOf(0, 2));
    expect(Math.abs(other.x - (start.x - (await pxPerUnit()) * 1.5)), 'copy 0 untouched').toBeLessThan(2);
    expect(await page.evaluate(() => window.__drag.camera()), 'the camera did not orbit').toEqual(cam0);
    await page.screenshot({ path: resolve(screenshotDir(), 'plugin-drag.png') });
    await page.mouse.up();
    expect(await page.evaluate(() => window.__drag.orbitEnabled()), 'orbit back on').toBe(true);
    await page.evaluate(() => window.__drag.steps(30));
    const qd = await page.evaluate(() => window.__drag.qd());
    expect(qd.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(qd[2], qd[3]), 'copy 1 swings after release').toBeGreaterThan(0.1);
    expect(Math.hypot(qd[0], qd[1]), 'copy 0 still at rest').toBe(0);
    const work = await page.evaluate(() => window.__drag.work());
    const ledger = await page.evaluate(() => window.__drag.ledger());
    expect(work[1], 'the drag did work on copy 1').toBeGreaterThan(0.1);
    expect(Math.abs(ledger[1]), 'E − E₀ − W stays ~0').toBeLessThan(1e-3 * work[1]);

    // A flick: moves 20 ms apart, released at speed — an impulse at the next step.
    const s2 = await page.evaluate(() => window.__drag.screenOf(0, 2));
    await page.mouse.move(s2.x, s2.y);
    await page.mouse.down();
    for (let k = 1; k <= 5; k++) await page.mouse.move(s2.x - 25 * k, s2.y);
    await page.mouse.up();
    await page.evaluate(() => window.__drag.steps(1));
    const events = await page.evaluate(() => window.__drag.events);
    expect(events.at(-1), events.join('\n')).toBe('release dp copy 0 point 2 pluck');
    const qd0 = await page.evaluate(() => window.__drag.qd());
    expect(qd0[0] + qd0[1], 'plucked to the left').toBeLessThan(-0.2);

    // A finger: touch events grab and drag the same way (touch-action: none on the canvas).
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('canvas')!).touchAction)).toBe(
      'none',
    );
    const cdp: CDPSession = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', points: [number, number][]) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: points.map(([x, y], id) => ({ x, y, id, radiusX: 4, radiusY: 4, force: 1 })),
      });
    const s3 = await page.evaluate(() => window.__drag.screenOf(1, 1));
    await touch('touchStart', [[s3.x, s3.y]]);
    expect(await page.evaluate(() => window.__drag.held()), 'a finger grabs the upper bob').toEqual({
      copy: 1,
      point: 1,
    });
    const w0 = (await page.evaluate(() => window.__drag.work()))[1];
    for (let k = 1; k <= 3; k++) {
      await touch('touchMove', [[s3.x, s3.y - 20 * k]]);
      await page.evaluate(() => window.__drag.steps(20));
    }
    await touch('touchEnd', []);
    expect(await page.evaluate(() => window.__drag.held())).toBeNull();
    const w1 = (await page.evaluate(() => window.__drag.work()))[1];
    expect(w1, 'the finger pushed').not.toBe(w0);
    await cdp.detach();
    expect(await page.evaluate(() => window.__drag.q().every(Number.isFinite))).toBe(true);
    await page.evaluate(() => window.__drag.dispose());
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();

    async function pxPerUnit(): Promise<number> {
      const a = await page.evaluate(() => window.__drag.screenOf(0, 0));
      const b = await page.evaluate(() => window.__drag.screenOf(1, 0));
      return (b.x - a.x) / 1.5;
    }
  });

  it('app, double pendulum at rest: a drag on the exact lane pulls its bob after the pointer, it swings after release; lanes that take no forces say so; screenshot while dragging', async () => {
    const p = await h.openPage('/?scene=double-pendulum&q0=0,0&qd0=0,0', {
      viewport: { width: 1100, height: 700 },
    });
    const { page } = p;
    await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await page.evaluate(() => window.__threeLnn.manual(true));
    await page.evaluate(() => window.__threeLnn.frames(2));
    const start = (await page.evaluate(() => window.__threeLnn.pointOnScreen('analytic', 2)))!;
    expect(start, 'the exact lane is drawn').not.toBeNull();
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    expect((await page.evaluate(() => window.__threeLnn.drag()))?.held).toEqual({
      lane: 'analytic',
      copy: 0,
      point: 2,
    });
    const cam0 = await page.evaluate(() => window.__threeLnn.camera());
    const track: number[] = [];
    for (let k = 1; k <= 5; k++) {
      await page.mouse.move(start.x + 24 * k, start.y - 12 * k);
      await page.evaluate(() => window.__threeLnn.frames(15));
      const at = (await page.evaluate(() => window.__threeLnn.pointOnScreen('analytic', 2)))!;
      track.push(at.x - start.x);
    }
    expect(
      track.at(-1)!,
      `the bob moved toward the pointer (px: ${track.map((x) => x.toFixed(0))})`,
    ).toBeGreaterThan(60);
    expect(await page.evaluate(() => window.__threeLnn.camera()), 'no orbit during the drag').toEqual(cam0);
    // Let the legend and labels catch up, then the screenshot while dragging.
    await page.evaluate(() => window.__threeLnn.frames(15));
    const png = await page.screenshot({ path: resolve(screenshotDir(), 'app-drag.png') });
    expect(png.length).toBeGreaterThan(30_000);
    await page.mouse.up();
    await page.evaluate(() => window.__threeLnn.frames(30));

    const lanes = await page.evaluate(() => window.__threeLnn.lanes());
    for (const l of lanes) expect(l.finite, `lane ${l.key} finite`).toBe(true);
    const exact = lanes.find((l) => l.key === 'analytic')!;
    expect(Math.hypot(...exact.qd), 'the exact pendulum swings after release').toBeGreaterThan(0.2);
    const f = await page.evaluate(() => window.__threeLnn.forces());
    expect(f.forced, 'the run is marked forced').toBe(true);
    const ex = f.lanes.find((l) => l.key === 'analytic')!;
    expect(ex.work, 'work done on the exact lane').toBeGreaterThan(0.1);
    expect(Math.abs(ex.ledger), 'its ledger E − E₀ − W stays ~0').toBeLessThan(1e-3 * ex.work);
    const pushes = await page.evaluate(() => window.__threeLnn.pushes());
    for (const l of f.lanes) {
      const mine = pushes.filter((x) => x.lane === l.key && x.kind === 'force');
      if (l.unsupported === null) {
        expect(mine.length, `lane ${l.key} was pushed`).toBeGreaterThan(0);
        continue;
      }
      expect(mine, `lane ${l.key} (${l.unsupported}) is not pushed`).toEqual([]);
      expect(l.note, `lane ${l.key} says so`).toBe('forces unsupported');
      const label = await page.evaluate(
        (key) =>
          document.querySelector(`.labels .lane-label`)?.parentElement?.parentElement?.textContent ?? key,
        l.key,
      );
      expect(label).toContain('forces unsupported');
      expect(await page.evaluate((k) => window.__threeLnn.legend(k), l.key)).toContain('forces unsupported');
      // Its state never saw a push: still at rest (exactly, for the exact-physics cannon lane).
      const lane = lanes.find((x) => x.key === l.key)!;
      if (lane.engine === 'cannon') expect(Math.hypot(...lane.qd)).toBeLessThan(1e-6);
    }
    // The energy plot shows the ledger.
    expect(await page.textContent('.plots .plot h3')).toContain('E − E₀ − W');
    // The JSON export carries the pushes.
    const json = JSON.parse(await page.evaluate(() => window.__threeLnn.exportText('json')));
    expect(json.forced).toBe(true);
    expect(json.pushes.length).toBe(pushes.length);
    // The CSV export marks every row forced.
    const csvRows = (await page.evaluate(() => window.__threeLnn.exportText('csv'))).trim().split('\n');
    expect(csvRows[0].split(',')[1]).toBe('forced');
    expect(new Set(csvRows.slice(1).map((r) => r.split(',')[1]))).toEqual(new Set(['1']));
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
  });

  it('app, chain: a drag on one lane pushes the same point of every lane that takes forces with the same force; damping from the panel', async () => {
    const p = await h.openPage('/?scene=chain', { viewport: { width: 1100, height: 700 } });
    const { page } = p;
    await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await page.evaluate(() => window.__threeLnn.manual(true));
    await page.evaluate(() => window.__threeLnn.frames(2));
    const f0 = await page.evaluate(() => window.__threeLnn.forces());
    const taking = f0.lanes.filter((l) => l.unsupported === null).map((l) => l.key);
    expect(taking.length, `lanes that take forces: ${taking}`).toBeGreaterThanOrEqual(2);
    const lanes0 = await page.evaluate(() => window.__threeLnn.lanes());
    // Grab the last joint of the second lane that takes forces.
    const key = taking[1];
    const n = lanes0.find((l) => l.key === key)!.q.length;
    const at = (await page.evaluate(
      ([k, pt]) => window.__threeLnn.pointOnScreen(k as string, pt as number),
      [key, n],
    ))!;
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    expect((await page.evaluate(() => window.__threeLnn.drag()))?.held?.lane).toBe(key);
    for (let k = 1; k <= 4; k++) {
      await page.mouse.move(at.x - 20 * k, at.y - 10 * k);
      await page.evaluate(() => window.__threeLnn.frames(10));
    }
    await page.mouse.up();
    await page.evaluate(() => window.__threeLnn.frames(10));
    const pushes = await page.evaluate(() => window.__threeLnn.pushes());
    const forces = pushes.filter((x) => x.kind === 'force');
    const byStep = new Map<number, Map<string, number[]>>();
    for (const x of forces) {
      const m = byStep.get(x.step) ?? new Map<string, number[]>();
      m.set(x.lane, x.value);
      byStep.set(x.step, m);
      expect(x.point, 'the same point').toBe(n);
      expect(x.copy).toBe(0);
    }
    expect(byStep.size, 'pushed over many steps').toBeGreaterThan(30);
    for (const [step, m] of byStep) {
      expect([...m.keys()].sort(), `step ${step}: every lane that takes forces`).toEqual([...taking].sort());
      const first = m.get(taking[0])!;
      for (const k of taking) expect(m.get(k), `step ${step}: lane ${k} got the same force`).toEqual(first);
    }
    const f1 = await page.evaluate(() => window.__threeLnn.forces());
    for (const l of f1.lanes) {
      if (l.unsupported !== null) expect(l.note).toBe('forces unsupported');
      else expect(Math.abs(l.work), `lane ${l.key} took work`).toBeGreaterThan(1e-3);
    }
    // Same start, same pushes: the exact lanes (closed form, generic solver) moved alike.
    const lanes1 = await page.evaluate(() => window.__threeLnn.lanes());
    const exact = lanes1.filter((l) => l.engine === 'analytic' || l.engine === 'lagrangian');
    if (exact.length === 2) expect(dist(exact[0].q, exact[1].q)).toBeLessThan(1e-6);

    // Damping from the Forces folder: every lane that takes forces loses energy from then on.
    const slider = page
      .locator('.side .lil-gui .lil-controller', { hasText: 'Damping C' })
      .locator('input')
      .first();
    await slider.fill('1.5');
    await slider.press('Enter');
    const f2 = await page.evaluate(() => window.__threeLnn.forces());
    expect(f2.damping).toBe(1.5);
    expect(page.url()).toContain('damp=1.5');
    const e0 = await page.evaluate(() => window.__threeLnn.lanes());
    await page.evaluate(() => window.__threeLnn.frames(60));
    const e1 = await page.evaluate(() => window.__threeLnn.lanes());
    for (const k of taking) {
      const a = e0.find((l) => l.key === k)!.energy;
      const b = e1.find((l) => l.key === k)!.energy;
      expect(b, `lane ${k} damped`).toBeLessThan(a);
    }
    const f3 = await page.evaluate(() => window.__threeLnn.forces());
    // The ledger E − E₀ − W: to integration error on the exact lanes; on cannon-es, whose iterative
    // constraint solver dissipates on its own, within that dissipation; a learned lane's ledger is the
    // model's own energy error (true energy of the learned state) and is not asserted here.
    for (const l of f3.lanes.filter((x) => x.unsupported === null)) {
      const engine = e1.find((x) => x.key === l.key)!.engine;
      if (engine === 'analytic' || engine === 'lagrangian') {
        expect(Math.abs(l.ledger), `lane ${l.key}: the ledger holds under damping`).toBeLessThan(
          1e-3 * Math.abs(l.work) + 1e-6,
        );
      } else if (engine === 'cannon') {
        // cannon-es dissipates through its constraint solver with or without a push: a share of the
        // drag's work plus 1 % of the 3-link chain's energy scale (m g l · 6 = 58.8 J) over the run.
        const dragWork = f1.lanes.find((x) => x.key === l.key)!.work;
        expect(
          Math.abs(l.ledger),
          `lane ${l.key}: the ledger within cannon-es's own dissipation`,
        ).toBeLessThan(0.05 * Math.abs(dragWork) + 0.01 * 58.8);
      }
    }
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
  });

  it.each([
    ['vibrating-string', ''],
    ['relativistic-particle', ''],
    // At rest, so that what moves the bob is the drag.
    ['your-lagrangian', '&q0=0,0&qd0=0,0'],
  ])(
    'app, %s: a drag moves the grabbed point toward the pointer and pushes every lane that takes forces',
    async (scene, query) => {
      const p = await h.openPage(`/?scene=${scene}${query}`, { viewport: { width: 1100, height: 700 } });
      const { page } = p;
      await page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
      await page.evaluate(() => window.__threeLnn.manual(true));
      await page.evaluate(() => window.__threeLnn.frames(2));
      const f0 = await page.evaluate(() => window.__threeLnn.forces());
      const taking = f0.lanes.filter((l) => l.unsupported === null).map((l) => l.key);
      expect(taking.length, `lanes that take forces: ${taking}`).toBeGreaterThanOrEqual(1);
      const key = taking[0];
      const n = (await page.evaluate(() => window.__threeLnn.lanes())).find((l) => l.key === key)!.q.length;
      // A free point: the middle node of a string, the last bob, the particle.
      let point = -1;
      let at: { x: number; y: number } | null = null;
      for (const c of [Math.ceil(n / 2), n, 0]) {
        const s = await page.evaluate(
          ([k, pt]) => {
            try {
              return window.__threeLnn.pointOnScreen(k as string, pt as number);
            } catch {
              return null; // no such point (a particle has one)
            }
          },
          [key, c] as const,
        );
        if (s && Number.isFinite(s.x) && Number.isFinite(s.y)) {
          point = c;
          at = s;
          break;
        }
      }
      expect(at, 'a point of the lane is on screen').not.toBeNull();
      await page.mouse.move(at!.x, at!.y);
      await page.mouse.down();
      expect((await page.evaluate(() => window.__threeLnn.drag()))?.held).toEqual({
        lane: key,
        copy: 0,
        point,
      });
      const pointer = { x: at!.x + 60, y: at!.y - 60 };
      for (let k = 1; k <= 4; k++) {
        await page.mouse.move(at!.x + 15 * k, at!.y - 15 * k);
        await page.evaluate(() => window.__threeLnn.frames(15));
      }
      const held = (await page.evaluate(
        ([k, pt]) => window.__threeLnn.pointOnScreen(k as string, pt as number),
        [key, point] as const,
      ))!;
      const before = Math.hypot(pointer.x - at!.x, pointer.y - at!.y);
      const after = Math.hypot(pointer.x - held.x, pointer.y - held.y);
      expect(
        after,
        `the point came toward the pointer (${before.toFixed(0)} → ${after.toFixed(0)} px)`,
      ).toBeLessThan(0.8 * before);
      await page.mouse.up();
      await page.evaluate(() => window.__threeLnn.frames(20));
      const lanes = await page.evaluate(() => window.__threeLnn.lanes());
      for (const l of lanes) expect(l.finite, `lane ${l.key} finite`).toBe(true);
      const pushes = (await page.evaluate(() => window.__threeLnn.pushes())).filter(
        (x) => x.kind === 'force',
      );
      const byStep = new Map<number, Map<string, number[]>>();
      for (const x of pushes) {
        const m = byStep.get(x.step) ?? new Map<string, number[]>();
        m.set(x.lane, x.value);
        byStep.set(x.step, m);
      }
      expect(byStep.size, 'pushed over many steps').toBeGreaterThan(10);
      for (const [step, m] of byStep) {
        expect([...m.keys()].sort(), `step ${step}: every lane that takes forces`).toEqual(
          [...taking].sort(),
        );
        for (const k of taking)
          expect(m.get(k), `step ${step}: lane ${k}, the same force`).toEqual(m.get(key));
      }
      const f1 = await page.evaluate(() => window.__threeLnn.forces());
      expect(Math.abs(f1.lanes.find((l) => l.key === key)!.work), 'the drag did work').toBeGreaterThan(0);
      expect(p.errors, p.errors.join('\n')).toEqual([]);
      await p.close();
    },
  );
});
