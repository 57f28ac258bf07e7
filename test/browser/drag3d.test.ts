/**
 * Push and drag in the 3D scenes with the orbit camera: a press on a body grabs it (the orbit stays still
 * until release), a press on empty space orbits; the edit reaches every lane alike, is logged with the
 * run's pushes, and replaying the log from the start gives bitwise the same states.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushRecord } from '../../app/Simulation';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, type OpenedPage, repoRoot, startBrowserHarness } from '../support/browser';

/** Types the page's globals for `page.evaluate` callbacks. */
declare const window: Window & { __threeLnn: TestHook };

/** test-results/ (docs/img/ with UPDATE_SCREENSHOTS=1, as the other browser tests). */
function screenshotDir(): string {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? resolve(repoRoot, 'docs', 'img')
    : resolve(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  return dir;
}

type Cam = { distance: number; position: [number, number, number] };

describe('dragging bodies in the 3D scenes (headless Chromium)', () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/?scene=drum-membrane', { viewport: { width: 1280, height: 800 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    // Only the test advances the app, so every run is the same.
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  const hook = {
    open: (id: string, o: Record<string, string | number> = {}) =>
      p.page.evaluate(([sceneId, opts]) => window.__threeLnn.openScene(sceneId, opts), [id, o] as const),
    frames: (n: number) => p.page.evaluate((k) => window.__threeLnn.frames(k), n),
    camera: () => p.page.evaluate(() => window.__threeLnn.camera()),
    drag: () => p.page.evaluate(() => window.__threeLnn.drag()),
    lanes: () => p.page.evaluate(() => window.__threeLnn.lanes()),
    pushes: () => p.page.evaluate(() => window.__threeLnn.pushes()),
    screen: (key: string, point: number, copy = 0) =>
      p.page.evaluate(([k, pt, c]) => window.__threeLnn.pointOnScreen(k, pt, c), [key, point, copy] as const),
  };

  /** Open a scene on the manual clock; the keys of its running lanes. */
  async function open(id: string, options: Record<string, string | number>): Promise<string[]> {
    await hook.open(id, options);
    await hook.frames(2);
    const lanes = await hook.lanes();
    const running = lanes.filter((l) => l.status === 'running').map((l) => l.key);
    expect(
      running.length,
      `${id}: lanes running (${lanes.map((l) => `${l.key} ${l.status}`)})`,
    ).toBeGreaterThan(1);
    return running;
  }

  /** The cursor the page shows at (x, y): the computed `cursor` of the element there. */
  const cursorAt = (x: number, y: number) =>
    p.page.evaluate(
      ([cx, cy]) => {
        const el = document.elementFromPoint(cx, cy);
        return el ? getComputedStyle(el).cursor : 'none';
      },
      [x, y] as const,
    );

  /**
   * Hover with the mouse (no button down): `grab` over the body at `at`, not over empty space (the lower
   * left corner of the view). The view tests hover once per animation frame: two frames pass first.
   */
  async function expectHoverCursor(id: string, at: { x: number; y: number }): Promise<void> {
    const box = (await p.page.locator('.viewport').boundingBox())!;
    const hoverAt = async (x: number, y: number) => {
      await p.page.mouse.move(x, y);
      await p.page.evaluate(
        () => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))),
      );
      return cursorAt(x, y);
    };
    const empty = await hoverAt(box.x + box.width * 0.06, box.y + box.height * 0.9);
    expect(empty, `${id}: no grab cursor over empty space`).not.toMatch(/grab/);
    expect(await hoverAt(at.x, at.y), `${id}: the grab cursor over a body`).toBe('grab');
  }

  function expectCameraStill(cam0: Cam, cam1: Cam, what: string): void {
    for (let i = 0; i < 3; i++)
      expect(cam1.position[i], `${what}: no orbit during the drag`).toBeCloseTo(cam0.position[i], 6);
  }

  /** A left-button drag from the lower left corner of the view, where no body is: it orbits. */
  async function expectOrbitOnEmptySpace(id: string): Promise<void> {
    const cam0 = await hook.camera();
    const box = (await p.page.locator('.viewport').boundingBox())!;
    const x = box.x + box.width * 0.06;
    const y = box.y + box.height * 0.9;
    await p.page.mouse.move(x, y);
    await p.page.mouse.down();
    expect((await hook.drag())?.held, `${id}: nothing grabbed on empty space`).toBeNull();
    for (let k = 1; k <= 6; k++) {
      await p.page.mouse.move(x + 25 * k, y - 6 * k);
      await hook.frames(1);
    }
    await p.page.mouse.up();
    await hook.frames(20);
    const cam1 = await hook.camera();
    const moved = Math.hypot(...cam1.position.map((v, i) => v - cam0.position[i]));
    expect(moved, `${id}: a drag on empty space orbits the camera`).toBeGreaterThan(0.05 * cam0.distance);
  }

  /** Per step: the lanes that took a push of `kinds`, and each one's value. */
  function byStep(pushes: PushRecord[], kinds: string[]): Map<number, Map<string, PushRecord>> {
    const out = new Map<number, Map<string, PushRecord>>();
    for (const x of pushes.filter((r) => kinds.includes(r.kind))) {
      const m = out.get(x.step) ?? new Map<string, PushRecord>();
      m.set(x.lane, x);
      out.set(x.step, m);
    }
    return out;
  }

  /** Every step's push went to each of `lanes`, with the same point, copy and value. */
  function expectSameEdit(pushes: PushRecord[], kinds: string[], lanes: string[], what: string): number {
    const steps = byStep(pushes, kinds);
    for (const [step, m] of steps) {
      expect([...m.keys()].sort(), `${what}, step ${step}: every lane`).toEqual([...lanes].sort());
      const first = m.get(lanes[0])!;
      for (const k of lanes) {
        const x = m.get(k)!;
        expect([x.kind, x.point, x.copy, x.value], `${what}, step ${step}: lane ${k}, the same edit`).toEqual(
          [first.kind, first.point, first.copy, first.value],
        );
      }
    }
    return steps.size;
  }

  /** Replay the run from its log: bitwise the same state in every lane, and the same log. */
  async function expectReplay(id: string): Promise<void> {
    const r = await p.page.evaluate(() => window.__threeLnn.replay());
    expect(r.steps, `${id}: the run took steps`).toBeGreaterThan(10);
    expect(r.replayedPushes, `${id}: the replay logged the same pushes`).toBe(r.pushes);
    for (const a of r.after) {
      const b = r.before.find((x) => x.key === a.key)!;
      expect(a.q.every(Number.isFinite) && a.qd.every(Number.isFinite), `${id}/${a.key} finite`).toBe(true);
      expect(a.q, `${id}/${a.key}: q replays bitwise`).toEqual(b.q);
      expect(a.qd, `${id}/${a.key}: q̇ replays bitwise`).toEqual(b.qd);
    }
  }

  it('drum-membrane: pressing the surface pokes the nearest node of every lane to the pointer, clamped to the training box; the orbit stays still; replay is bitwise', async () => {
    const errorsBefore = p.errors.length;
    const lanes = await open('drum-membrane', {});
    const side = 24;
    // Node (i, j) = (8, 9) (1-based, interior), as a grid point: the rim is row and column 0.
    const i = 8;
    const j = 9;
    const point = j * (side + 2) + i;
    const at = (await hook.screen('analytic', point))!;
    expect(at, 'the exact surface is drawn').not.toBeNull();
    const cam0 = await hook.camera();
    await expectHoverCursor('drum-membrane', at);
    await p.page.mouse.move(at.x, at.y);
    await p.page.mouse.down();
    expect(await cursorAt(at.x, at.y), 'the grabbing cursor while held').toBe('grabbing');
    const held = (await hook.drag())!;
    expect(held.held, 'the node under the pointer is grabbed').toEqual({ lane: 'analytic', copy: 0, point });
    expect(held.edit?.kind, 'the press holds the node where it was hit').toBe('poke');
    const pressed = held.edit!.value[0];
    // Up in steps, a few frames between moves.
    for (let k = 1; k <= 4; k++) {
      await p.page.mouse.move(at.x, at.y - 4 * k);
      await hook.frames(6);
    }
    const edit = (await hook.drag())!.edit!;
    expect(edit.kind).toBe('poke');
    const [height, width] = edit.value;
    expect(height - pressed, `pulled up (${pressed} → ${height})`).toBeGreaterThan(0.005);
    expect(width, 'a bump a few nodes wide').toBeGreaterThanOrEqual(1);
    // The pressed node of every lane sits at the pointer's height (one step of motion after the edit).
    const nodes = await p.page.evaluate(
      ([n, keys]) =>
        (keys as string[]).map((k) => {
          const pt = window.__threeLnn.pointOnScreen(k, n as number);
          return pt ? pt.world[1] : Number.NaN;
        }),
      [point, lanes] as const,
    );
    for (const [k, y] of nodes.entries()) {
      expect(y / 5, `lane ${lanes[k]}: the node at the pointer's height (heights ×5)`).toBeCloseTo(height, 3);
    }
    expectCameraStill(cam0, await hook.camera(), 'membrane');

    // Far above the drum: clamped to the learned lane's box |q| ≤ 0.1 (or the exact lane's framing).
    await p.page.mouse.move(at.x, at.y - 500);
    await hook.frames(4);
    const clamped = (await hook.drag())!.edit!;
    // The learned membrane's training box (docs/membrane.md): q ∈ [−0.1, 0.1] per node.
    expect(clamped.value[0], 'clamped to the training box, not refused').toBeCloseTo(0.1, 9);
    // The drag in progress, held at the top of the box.
    await hook.frames(20);
    const png = await p.page.screenshot({ path: resolve(screenshotDir(), 'drag-membrane.png') });
    expect(png.length, 'screenshot PNG size (a blank view compresses to a few KB)').toBeGreaterThan(30_000);
    await p.page.mouse.up();
    expect((await hook.drag())?.held, 'released').toBeNull();
    expect(await cursorAt(at.x, at.y - 500), 'no grabbing cursor after release').not.toBe('grabbing');
    await hook.frames(30);
    for (const l of await hook.lanes()) expect(l.finite, `lane ${l.key} finite`).toBe(true);
    const pushes = await hook.pushes();
    const steps = expectSameEdit(pushes, ['poke'], lanes, 'membrane');
    expect(steps, 'poked over many steps').toBeGreaterThan(20);
    expect(pushes.every((x) => x.point === point)).toBe(true);
    // The energy an edit adds is booked as work: the exact lane's ledger E − E₀ − W stays at its
    // integration error; and no lane is marked as not taking the push.
    const f = await p.page.evaluate(() => window.__threeLnn.forces());
    expect(f.forced, 'the run is marked forced').toBe(true);
    const exact = f.lanes.find((l) => l.key === 'analytic')!;
    expect(Math.abs(exact.work), 'the pokes changed the energy').toBeGreaterThan(0);
    expect(Math.abs(exact.ledger), `ledger ${exact.ledger}, work ${exact.work}`).toBeLessThan(
      1e-4 * Math.abs(exact.work),
    );
    for (const k of lanes) {
      expect(await p.page.evaluate((key) => window.__threeLnn.legend(key), k)).not.toContain('unsupported');
    }
    await expectReplay('drum-membrane');
    await expectOrbitOnEmptySpace('drum-membrane');
    const newErrors = p.errors.slice(errorsBefore);
    expect(newErrors, newErrors.join('\n')).toEqual([]);
  });

  it('spherical-field: a press on one pendulum of the InstancedMesh grabs that copy; its rod follows the pointer in every lane, clamped to the 60° cap; replay is bitwise', async () => {
    const errorsBefore = p.errors.length;
    const lanes = await open('spherical-field', { grid: 8, learned: 'on' });
    // The front row (nearest the camera), fourth column.
    const copy = 7 * 8 + 3;
    const at = (await hook.screen('analytic', 1, copy))!;
    expect(at, 'the pendulum is drawn').not.toBeNull();
    const cam0 = await hook.camera();
    await expectHoverCursor('spherical-field', at);
    await p.page.mouse.move(at.x, at.y);
    await p.page.mouse.down();
    expect(await cursorAt(at.x, at.y), 'the grabbing cursor while held').toBe('grabbing');
    expect((await hook.drag())?.held, 'the pendulum under the pointer is grabbed').toEqual({
      lane: 'analytic',
      copy,
      point: 1,
    });
    // A third of the way toward the rest position straight under the pivot (a rod of length 1).
    const pivot = (await hook.screen('analytic', 0, copy))!.world;
    const rest = (await p.page.evaluate((w) => window.__threeLnn.screenOf(w), [
      pivot[0],
      pivot[1] - 1,
      pivot[2],
    ] as [number, number, number]))!;
    const to = { x: at.x + (rest.x - at.x) / 3, y: at.y + (rest.y - at.y) / 3 };
    for (let k = 1; k <= 4; k++) {
      await p.page.mouse.move(at.x + ((to.x - at.x) * k) / 4, at.y + ((to.y - at.y) * k) / 4);
      await hook.frames(6);
    }
    const edit = (await hook.drag())!.edit!;
    expect(edit.kind).toBe('state');
    expect(edit.copy).toBe(copy);
    const [alpha, beta, ad, bd] = edit.value;
    expect([ad, bd], 'held at rest').toEqual([0, 0]);
    expect(Math.cos(alpha) * Math.cos(beta), 'within the cap').toBeGreaterThanOrEqual(0.5);
    // Every lane's copy at the edit (one step of motion from rest after it).
    const states = await p.page.evaluate(
      ([c, keys]) =>
        (keys as string[]).map((k) => {
          const w = window.__threeLnn.pointOnScreen(k, 1, c as number)!.world;
          const o = window.__threeLnn.pointOnScreen(k, 0, c as number)!.world;
          return [w[0] - o[0], w[1] - o[1], w[2] - o[2]];
        }),
      [copy, lanes] as const,
    );
    const u = [Math.cos(alpha) * Math.sin(beta), -Math.cos(alpha) * Math.cos(beta), Math.sin(alpha)];
    for (const [k, d] of states.entries()) {
      const err = Math.hypot(...d.map((v, i) => v - u[i]));
      expect(err, `lane ${lanes[k]}: the rod points at the pointer`).toBeLessThan(2e-3);
    }
    // The bob came toward the pointer on screen.
    const now = (await hook.screen('analytic', 1, copy))!;
    expect(
      Math.hypot(now.x - to.x, now.y - to.y),
      `the bob is under the pointer (px; at ${[at.x, at.y]}, now ${[now.x, now.y]}, edit ${edit.value})`,
    ).toBeLessThan(3);
    // Far off to the side: clamped to the cap's rim, not refused.
    await p.page.mouse.move(at.x + 600, at.y - 300);
    await hook.frames(4);
    const rim = (await hook.drag())!.edit!;
    expect(Math.cos(rim.value[0]) * Math.cos(rim.value[1]), 'on the cap’s rim').toBeCloseTo(0.5, 9);
    expect(Math.cos(rim.value[0]), 'cos α ≥ ½').toBeGreaterThanOrEqual(0.5);
    expectCameraStill(cam0, await hook.camera(), 'field');
    await p.page.mouse.up();
    await hook.frames(30);
    for (const l of await hook.lanes()) expect(l.finite, `lane ${l.key} finite`).toBe(true);
    const pushes = await hook.pushes();
    expect(expectSameEdit(pushes, ['state'], lanes, 'field'), 'held over many steps').toBeGreaterThan(20);
    expect(pushes.every((x) => x.copy === copy)).toBe(true);
    await expectReplay('spherical-field');
    await expectOrbitOnEmptySpace('spherical-field');
    const newErrors = p.errors.slice(errorsBefore);
    expect(newErrors, newErrors.join('\n')).toEqual([]);
  });

  it.each([
    ['spherical-ride', { spin: 0, cone: 0.3 }, 1],
    ['whirling-string', {}, 9],
  ] as const)(
    '%s: a press on a bob or node pulls the same point of every lane that takes forces (cannon-es included), the orbit stays still; replay is bitwise',
    async (id, options, point) => {
      const errorsBefore = p.errors.length;
      await open(id, options);
      const f0 = await p.page.evaluate(() => window.__threeLnn.forces());
      const taking = f0.lanes.filter((l) => l.unsupported === null).map((l) => l.key);
      if (id === 'spherical-ride') expect(taking, 'the cannon-es lane takes the push').toContain('cannon');
      const at = (await hook.screen('analytic', point))!;
      const cam0 = await hook.camera();
      await expectHoverCursor(id, at);
      await p.page.mouse.move(at.x, at.y);
      await p.page.mouse.down();
      expect(await cursorAt(at.x, at.y), `${id}: the grabbing cursor while held`).toBe('grabbing');
      expect((await hook.drag())?.held, `${id}: grabbed`).toEqual({ lane: 'analytic', copy: 0, point });
      for (let k = 1; k <= 4; k++) {
        await p.page.mouse.move(at.x + 15 * k, at.y - 10 * k);
        await hook.frames(10);
      }
      const now = (await hook.screen('analytic', point))!;
      expect(now.x - at.x, `${id}: the point followed the pointer (px)`).toBeGreaterThan(15);
      expectCameraStill(cam0, await hook.camera(), id);
      await p.page.mouse.up();
      await hook.frames(20);
      for (const l of await hook.lanes()) expect(l.finite, `lane ${l.key} finite`).toBe(true);
      const pushes = await hook.pushes();
      expect(expectSameEdit(pushes, ['force'], taking, id), `${id}: pushed over many steps`).toBeGreaterThan(
        20,
      );
      await expectReplay(id);
      await expectOrbitOnEmptySpace(id);
      const newErrors = p.errors.slice(errorsBefore);
      expect(newErrors, newErrors.join('\n')).toEqual([]);
    },
  );
});
