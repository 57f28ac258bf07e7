import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FieldApp } from '../../app/field';
import { rk4DoublePendulum } from '../../src/engines/kernels/rk4DoublePendulum';
import { DoublePendulum } from '../../src/systems/DoublePendulum';
import { type BrowserHarness, type OpenedPage, repoRoot, startBrowserHarness } from '../support/browser';
import type { FieldPage } from './pages/field';

declare const window: Window & { __field?: FieldPage; __fieldApp?: FieldApp };

/** Angle difference wrapped to (−π, π]. */
const angleGap = (a: number, b: number) => Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)));

/** The float64 RK4 of the CPU engine's fused kernel: `steps` steps of dt / substeps × substeps. */
function reference(q0: number[], qd0: number[], steps: number, dt: number, substeps = 1) {
  const q = Float64Array.from(q0);
  const qd = Float64Array.from(qd0);
  const params = new DoublePendulum().params;
  for (let s = 0; s < steps * substeps; s++) rk4DoublePendulum(params, q, qd, q.length / 2, dt / substeps);
  return { q, qd };
}

/** Deterministic states: `small` near the bottom (regular motion), otherwise anywhere with some speed. */
function states(count: number, small: boolean): { q0: number[]; qd0: number[] } {
  const q0: number[] = [];
  const qd0: number[] = [];
  let s = 7;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  for (let i = 0; i < count; i++) {
    if (small) {
      q0.push(0.3 * rand(), 0.3 * rand());
      qd0.push(0.5 * rand(), 0.5 * rand());
    } else {
      q0.push(2 * Math.PI * rand(), 2 * Math.PI * rand());
      qd0.push(4 * rand(), 4 * rand());
    }
  }
  return { q0, qd0 };
}

describe('DoublePendulumField: exact double pendulums stepped and drawn on the GPU (float32)', () => {
  let h: BrowserHarness;
  let p: OpenedPage;
  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/test/browser/pages/field.html');
    await p.page.waitForFunction(() => window.__field !== undefined, null, { timeout: 60_000 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('follows the float64 RK4 of the CPU engine within float32 error: regular motion to 1e-3 rad over 2 s, any motion to 3e-3 rad over 0.5 s, substeps included', async () => {
    const dt = 1 / 120;
    for (const [label, small, steps, tolQ, tolV, substeps] of [
      ['near the bottom, 2 s', true, 240, 1e-3, 5e-3, 1],
      ['anywhere, 0.5 s', false, 60, 3e-3, 1.5e-2, 1],
      ['anywhere, 0.5 s in 4 substeps per step', false, 60, 3e-3, 1.5e-2, 4],
    ] as const) {
      const { q0, qd0 } = states(300, small);
      const { final } = await p.page.evaluate(([o, n, d, k]) => window.__field!.run(o, n, d, k), [
        { count: 300, q0, qd0 },
        steps,
        dt,
        substeps,
      ] as const);
      const ref = reference(q0, qd0, steps, dt, substeps);
      let worstQ = 0;
      let worstV = 0;
      for (let i = 0; i < q0.length; i++) {
        worstQ = Math.max(worstQ, angleGap(final.q[i], ref.q[i]));
        worstV = Math.max(worstV, Math.abs(final.qd[i] - ref.qd[i]));
      }
      expect(worstQ, `${label}: worst |Δθ| (rad)`).toBeLessThan(tolQ);
      expect(worstV, `${label}: worst |Δω| (rad/s)`).toBeLessThan(tolV);
      // The float32 run really moved: compared against the start, not against itself.
      expect(Math.max(...final.q.map((x, i) => angleGap(x, q0[i]))), label).toBeGreaterThan(10 * tolQ);
      // Angles stay wrapped to [−π, π) whatever the motion.
      expect(Math.max(...final.q.map(Math.abs)), `${label}: |θ| ≤ π`).toBeLessThanOrEqual(Math.PI + 1e-6);
      expect(final.time).toBeCloseTo(steps * dt, 9);
    }
  });

  it('conserves energy as the float64 RK4 does: 10 s at dt = 1/120, drift within 2e-4 of the reference drift (share of the energy scale)', async () => {
    const count = 128;
    const { q0, qd0 } = states(count, false);
    // Moderate energies: no state starts above the top, so every drift is RK4's own and small.
    for (let i = 0; i < q0.length; i++) q0[i] *= 0.35;
    const dt = 1 / 120;
    const steps = 1200;
    const { final } = await p.page.evaluate(([o, n, d]) => window.__field!.run(o, n, d), [
      { count, q0, qd0 },
      steps,
      dt,
    ] as const);
    const ref = reference(q0, qd0, steps, dt);
    const dp = new DoublePendulum();
    let worstGpu = 0;
    let worstGap = 0;
    for (let i = 0; i < count; i++) {
      const e0 = dp.energy(q0.slice(2 * i, 2 * i + 2), qd0.slice(2 * i, 2 * i + 2));
      const eGpu = dp.energy(final.q.slice(2 * i, 2 * i + 2), final.qd.slice(2 * i, 2 * i + 2));
      const eRef = dp.energy(ref.q.subarray(2 * i, 2 * i + 2), ref.qd.subarray(2 * i, 2 * i + 2));
      worstGpu = Math.max(worstGpu, Math.abs(eGpu - e0) / dp.energyScale);
      worstGap = Math.max(worstGap, Math.abs(eGpu - eRef) / dp.energyScale);
    }
    expect(worstGap, 'worst |E_gpu − E_float64| / energy scale after 10 s').toBeLessThan(2e-4);
    expect(worstGpu, 'worst energy drift of the GPU run').toBeLessThan(5e-3);
  });

  it('draws each pendulum in its cell: figures put the rods and bobs where the angles say, map colours follow the angles', async () => {
    const size = await p.page.evaluate(() => window.__field!.canvasSize);
    const at = (px: number[], x: number, y: number) => px.slice(4 * (y * size + x), 4 * (y * size + x) + 3);
    const near = (a: number[], b: number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
    const colors = { background: 0x000000, rod: 0x808080, bob1: 0x00ff00, bob2: 0xff0000 };
    // One pendulum, first rod straight down, second straight right: pivot at the centre, 1 = reach l1 + l2 = 2.
    const px = await p.page.evaluate(
      (c) =>
        window.__field!.draw({ count: 1, q0: [0, Math.PI / 2], qd0: [0, 0], style: 'figures', colors: c }),
      colors,
    );
    const bob2 = await p.page.evaluate(() => window.__field!.displayed(0xff0000));
    const bob1 = await p.page.evaluate(() => window.__field!.displayed(0x00ff00));
    const bg = await p.page.evaluate(() => window.__field!.displayed(0x000000));
    // The cell is the whole 256-px canvas; 1 unit = 0.42 · 256 px from the centre.
    const unit = 0.42 * size;
    const c = size / 2;
    expect(at(px, Math.round(c), Math.round(c + 0.5 * unit)), 'bob 1 below the pivot').toEqual(bob1);
    expect(at(px, Math.round(c + 0.5 * unit), Math.round(c + 0.5 * unit)), 'bob 2 right of bob 1').toEqual(
      bob2,
    );
    expect(at(px, Math.round(c), Math.round(c - 0.5 * unit)), 'nothing above the pivot').toEqual(bg);
    expect(at(px, Math.round(c - 0.5 * unit), Math.round(c + 0.5 * unit)), 'nothing left of bob 1').toEqual(
      bg,
    );

    // Map: 2 × 1 cells; hue from θ1, brightness from (1 − cos θ2)/2.
    const map = await p.page.evaluate(() =>
      window.__field!.draw({
        count: 2,
        columns: 2,
        width: 2,
        height: 1,
        q0: [0, Math.PI, -Math.PI / 2, 0],
        qd0: [0, 0, 0, 0],
        style: 'map',
      }),
    );
    const hsv = (hue: number, s: number, v: number) =>
      [0, 4, 2].map((o) => {
        const k = Math.min(1, Math.max(0, Math.abs(((hue * 6 + o) % 6) - 3) - 1));
        return Math.round(255 * v * (1 + s * (k - 1)));
      });
    // θ1 = 0 → hue ½ (cyan side), θ2 = π → full brightness; θ1 = −π/2 → hue ¼, θ2 = 0 → darkest (0.2).
    expect(
      near(at(map, size / 4, size / 2), hsv(0.5, 0.8, 1), 2),
      `left cell ${at(map, size / 4, size / 2)}`,
    ).toBe(true);
    expect(
      near(at(map, (3 * size) / 4, size / 2), hsv(0.25, 0.8, 0.2), 2),
      `right cell ${at(map, (3 * size) / 4, size / 2)}`,
    ).toBe(true);
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('refuses bad input naming the problem, and dispose() frees its GPU textures', async () => {
    const err = (k: string) => p.page.evaluate((kind) => window.__field!.error(kind as never), k);
    expect(await err('count')).toMatch(/count must be an integer from 1/);
    expect(await err('nan')).toMatch(/pendulum 1 has a non-finite state/);
    expect(await err('length')).toMatch(/need 4 numbers/);
    expect(await err('style')).toMatch(/style must be 'figures' or 'map'/);
    expect(await err('dt')).toMatch(/dt must be a positive finite number/);
    expect(await err('disposed')).toMatch(/used after dispose/);
    const [before, during, after] = await p.page.evaluate(() => window.__field!.textures());
    expect(during, 'a field holds its state, ping-pong and drawing textures').toBeGreaterThan(before);
    expect(after, 'dispose() frees them').toBe(before);
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('a lost WebGL context stops stepping with a clear error, and on restore the field goes back to its last checkpoint', async () => {
    const r = await p.page.evaluate(() => window.__field!.contextLoss());
    expect(r.whileLost).toMatch(/WebGL context is lost.*checkpoint, t = 0\.250 s/);
    expect(r.restoredFrom).toBeCloseTo(0.25, 9);
    expect(r.time).toBeCloseTo(0.25, 9);
    expect(r.after, 'state = the checkpoint read back at 0.25 s').toEqual(r.checkpoint);
    expect(r.stepsAfter, 'steps again after the restore').toBe(true);
  });

  it('the field page (/field.html) runs a 512 × 512 chaos map and rebuilds at another size, without errors', async () => {
    const page = await h.openPage('/field.html');
    await page.page.waitForFunction(() => (window.__fieldApp?.frames() ?? 0) >= 20, null, {
      timeout: 120_000,
    });
    const first = await page.page.evaluate(() => ({
      count: window.__fieldApp!.count(),
      time: window.__fieldApp!.time(),
      style: window.__fieldApp!.style(),
    }));
    expect(first.count).toBe(512 * 512);
    expect(first.style).toBe('map');
    expect(first.time, 'simulated time advances').toBeGreaterThan(0.2);
    // Let the chaos develop, then keep a picture: test-results/field.jpg, or the README's
    // docs/img/field.jpg with UPDATE_SCREENSHOTS=1 (a plain test run never modifies tracked files).
    await page.page.waitForFunction(() => window.__fieldApp!.time() >= 4, null, { timeout: 120_000 });
    const dir = process.env.UPDATE_SCREENSHOTS
      ? resolve(repoRoot, 'docs', 'img')
      : resolve(repoRoot, 'test-results');
    mkdirSync(dir, { recursive: true });
    const shot = await page.page.screenshot({ path: resolve(dir, 'field.jpg'), type: 'jpeg', quality: 80 });
    // The map shows structure: a JPEG of a flat or blank canvas is a few KB.
    expect(shot.length, 'a screenshot of a structured map is not tiny').toBeGreaterThan(50_000);
    await page.page.evaluate(() => window.__fieldApp!.resize(64));
    expect(await page.page.evaluate(() => window.__fieldApp!.count())).toBe(64 * 64);
    expect(await page.page.evaluate(() => window.__fieldApp!.style())).toBe('map');
    expect(page.errors, page.errors.join('\n')).toEqual([]);
    await page.close();
  });
});
