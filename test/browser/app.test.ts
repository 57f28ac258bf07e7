import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHook } from '../../app/testHook';
import { type BrowserHarness, type OpenedPage, repoRoot, startBrowserHarness } from '../support/browser';

/** Types the page's globals for `page.evaluate` callbacks. */
declare const window: Window & { __threeLnn: TestHook };

describe('the comparison app in headless Chromium', () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/', { viewport: { width: 1100, height: 700 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    // Only the test advances the app, so time and recordings are exact.
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  it('loads the default scene: the double pendulum under four engines, all running with the shipped models', async () => {
    const scene = await p.page.evaluate(() => window.__threeLnn.scene());
    expect(scene, 'default scene').toBe('double-pendulum');
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    expect(
      lanes.map((l) => l.key),
      'engines of the default scene',
    ).toEqual(['analytic', 'cannon', 'lnn', 'baseline']);
    const analytic = lanes.find((l) => l.key === 'analytic')!;
    expect(analytic.status, 'the exact engine always runs').toBe('running');
    // The learned lanes load at the same time; none may see another's backend initialisation.
    for (const l of lanes) expect(l.status, `lane ${l.key}: ${l.reason}`).toBe('running');
    const backend = await p.page.evaluate(() => window.__threeLnn.backend());
    expect(backend?.name, 'TF.js backend shown').toBe('webgl');
    expect(backend?.precision, 'float precision shown').toBe('float32');
    const fieldLink = await p.page.evaluate(
      () => (document.querySelector('.gallery a[data-page=field]') as HTMLAnchorElement | null)?.href,
    );
    expect(fieldLink, 'the scene gallery links the GPU field page').toBe(
      new URL('/field.html', p.page.url()).href,
    );
    const badge = await p.page.textContent('.backend-badge');
    expect(badge, 'backend badge in the top bar').toContain('webgl');
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('runs 240 frames with finite states, updates the plots and records every step', async () => {
    const before = await p.page.evaluate(() => ({
      plots: window.__threeLnn.plots(),
      time: window.__threeLnn.time(),
    }));
    await p.page.evaluate(() => window.__threeLnn.frames(240));
    const after = await p.page.evaluate(() => ({
      plots: window.__threeLnn.plots(),
      time: window.__threeLnn.time(),
      lanes: window.__threeLnn.lanes(),
      recorded: window.__threeLnn.recorded(),
    }));
    expect(after.time.t - before.time.t, '240 frames at 1/60 s advance 4 s of simulated time').toBeCloseTo(
      4,
      6,
    );
    for (const l of after.lanes.filter((x) => x.status === 'running')) {
      expect(l.finite, `lane ${l.key} state is finite`).toBe(true);
    }
    expect(after.plots.redraws, 'plots redrawn').toBeGreaterThan(before.plots.redraws);
    expect(after.plots.energy, 'energy plot has points').toBeGreaterThan(before.plots.energy);
    expect(after.plots.phase, 'phase portrait has points').toBeGreaterThan(0);
    expect(after.recorded, 'one sample per step (plus t = 0)').toBe(after.time.steps + 1);
    const analytic = after.lanes.find((l) => l.key === 'analytic')!;
    expect(Math.abs(analytic.drift), 'exact engine with RK4 at dt = 1/120 keeps energy to 1e-4').toBeLessThan(
      1e-4,
    );
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  // The screenshot goes to test-results/app.png; `UPDATE_SCREENSHOTS=1 npm test` refreshes the README's
  // docs/img/app.png from the same test, so a plain test run never modifies tracked files.
  it('takes a non-blank screenshot (test-results/app.png; docs/img/app.png with UPDATE_SCREENSHOTS=1)', async () => {
    await p.page.setViewportSize({ width: 1440, height: 900 });
    // Let the resize reach the renderer before drawing.
    await p.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await p.page.evaluate(() => window.__threeLnn.frames(30));
    const dir = process.env.UPDATE_SCREENSHOTS
      ? resolve(repoRoot, 'docs', 'img')
      : resolve(repoRoot, 'test-results');
    mkdirSync(dir, { recursive: true });
    const png = await p.page.screenshot({ path: resolve(dir, 'app.png') });
    expect(png.length, 'screenshot PNG size (a blank page compresses to a few KB)').toBeGreaterThan(30_000);
    // Non-blank: the 3D canvas holds many distinct colours (rods, bobs, trails over the background).
    const colours = await p.page.evaluate(async () => {
      await window.__threeLnn.frames(1);
      const c = document.querySelector('.viewport canvas') as HTMLCanvasElement;
      const probe = document.createElement('canvas');
      probe.width = 160;
      probe.height = 100;
      const ctx = probe.getContext('2d')!;
      ctx.drawImage(c, 0, 0, 160, 100);
      const d = ctx.getImageData(0, 0, 160, 100).data;
      const set = new Set<number>();
      let lit = 0;
      for (let i = 0; i < d.length; i += 4) {
        set.add((d[i] >> 3) * 1024 + (d[i + 1] >> 3) * 32 + (d[i + 2] >> 3));
        if (d[i] + d[i + 1] + d[i + 2] > 300) lit++;
      }
      return { distinct: set.size, lit };
    });
    expect(colours.distinct, 'distinct colours in the 3D view').toBeGreaterThan(20);
    expect(colours.lit, 'bright pixels (rods and bobs) in the 3D view').toBeGreaterThan(10);
    await p.page.setViewportSize({ width: 1100, height: 700 });
  });

  it('GUI controls change the simulation: pause, integrator, engine toggle, time step; the URL follows', async () => {
    const gui = p.page.locator('.side .lil-gui');
    // Pause from the GUI: frames no longer advance simulated time.
    await gui.getByRole('button', { name: /Pause/ }).click();
    const t0 = await p.page.evaluate(() => window.__threeLnn.time().t);
    await p.page.evaluate(() => window.__threeLnn.frames(20));
    const t1 = await p.page.evaluate(() => window.__threeLnn.time().t);
    expect(t1, 'paused: time stands still').toBe(t0);
    // Step button: exactly one step.
    await gui.getByRole('button', { name: 'Step', exact: true }).click();
    const t2 = await p.page.evaluate(() => window.__threeLnn.time().t);
    expect(t2 - t1, 'one step of 1/120 s').toBeCloseTo(1 / 120, 12);

    // Integrator select → the run restarts with leapfrog.
    const integ = gui.locator('.lil-controller', { hasText: 'Integrator' }).locator('select');
    await integ.selectOption('leapfrog');
    await p.page.waitForFunction(() => window.__threeLnn.settings().integrator === 'leapfrog');
    await p.page.evaluate(() => window.__threeLnn.frames(1));
    expect((await p.page.evaluate(() => window.__threeLnn.time())).t, 'the run restarted').toBeLessThan(0.1);
    expect(await p.page.evaluate(() => location.search), 'integrator in the URL').toContain('int=leapfrog');

    // Engine toggle: cannon-es off → its lane stops taking part.
    const toggle = gui.locator('.lil-controller', { hasText: 'cannon-es' }).locator('input[type=checkbox]');
    await toggle.uncheck();
    await p.page.waitForFunction(
      () => window.__threeLnn.lanes().find((l) => l.key === 'cannon')?.enabled === false,
    );
    await p.page.evaluate(() => window.__threeLnn.frames(1));
    await gui.getByRole('button', { name: /Play/ }).click();
    await p.page.evaluate(() => window.__threeLnn.frames(30));
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    const cannon = lanes.find((l) => l.key === 'cannon')!;
    const analytic = lanes.find((l) => l.key === 'analytic')!;
    expect(cannon.q, 'disabled lane keeps its initial state').toEqual([(3 * Math.PI) / 7, (3 * Math.PI) / 4]);
    expect(analytic.q, 'the exact lane moved').not.toEqual([(3 * Math.PI) / 7, (3 * Math.PI) / 4]);
    expect(await p.page.evaluate(() => location.search), 'disabled engine in the URL').toContain(
      'off=cannon',
    );

    // Time step select → dt = 1/240.
    const dt = gui.locator('.lil-controller', { hasText: 'Time step' }).locator('select');
    await dt.selectOption({ label: '1/240 s' });
    await p.page.waitForFunction(() => Math.abs(window.__threeLnn.settings().dt - 1 / 240) < 1e-15);
    await p.page.evaluate(() => window.__threeLnn.settled());
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('a shared URL reopens the same view (scene state travels in the query string)', async () => {
    const search = await p.page.evaluate(() => location.search);
    // Plus a system parameter, as the ‘System parameters’ folder writes it.
    const q = await h.openPage(`/${search}&p.g=1.62`, { viewport: { width: 800, height: 500 } });
    await q.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    const s = await q.page.evaluate(() => ({
      settings: window.__threeLnn.settings(),
      lanes: window.__threeLnn.lanes(),
    }));
    expect(s.settings.integrator, 'integrator from the URL').toBe('leapfrog');
    expect(s.settings.dt, 'time step from the URL').toBeCloseTo(1 / 240, 15);
    expect(s.lanes.find((l) => l.key === 'cannon')?.enabled, 'engine switched off in the URL').toBe(false);
    expect(s.lanes.find((l) => l.key === 'analytic')?.params.g, 'system parameter from the URL').toBe(1.62);
    expect(q.errors, q.errors.join('\n')).toEqual([]);
    await q.close();
  });

  it('records, replays (scrub) and exports the run as CSV and JSON', async () => {
    await p.page.evaluate(() => window.__threeLnn.frames(60));
    // One evaluate: the page's own clock keeps stepping between calls.
    const { n, csv, jsonText } = await p.page.evaluate(() => ({
      n: window.__threeLnn.recorded(),
      csv: window.__threeLnn.exportText('csv'),
      jsonText: window.__threeLnn.exportText('json'),
    }));
    const rows = csv.trim().split('\n');
    expect(rows[0].split(',').slice(0, 4), 'CSV header').toEqual([
      't',
      'forced',
      'analytic.q0',
      'analytic.q1',
    ]);
    expect(rows.length - 1, 'one CSV row per recorded sample').toBe(n);
    expect(rows[1].split(',')[1], 'an unpushed run is marked free').toBe('0');
    const json = JSON.parse(jsonText);
    expect(json.format).toBe('three-lnn/app-run');
    expect(json.t.length, 'JSON samples').toBe(n);
    expect(json.lanes[0].q.length, 'JSON states of the exact lane').toBe(n);

    // Scrub the timeline to the middle: the view replays, the time label says so; play continues from there.
    const scrub = p.page.locator('.timeline .scrub');
    const mid = Math.floor(n / 2);
    await scrub.evaluate((el, v) => {
      (el as HTMLInputElement).value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, mid);
    expect(await p.page.textContent('.timeline .time'), 'replay label').toContain('replay');
    await p.page.locator('.timeline [data-act=play]').click();
    const t = await p.page.evaluate(() => window.__threeLnn.time().t);
    expect(t, 'the run continues from the replayed moment').toBeCloseTo(json.t[mid], 9);
    expect(await p.page.evaluate(() => window.__threeLnn.recorded()), 'recording cut at the branch').toBe(
      mid + 1,
    );
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('survives a lost WebGL context: pauses, then resumes from the CPU-side state', async () => {
    const ok = await p.page.evaluate(async () => {
      const canvas = document.querySelector('.viewport canvas') as HTMLCanvasElement;
      const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGL2RenderingContext | null;
      const ext = gl?.getExtension('WEBGL_lose_context');
      if (!ext) return { supported: false };
      ext.loseContext();
      await new Promise((r) => setTimeout(r, 200));
      const lost = window.__threeLnn.contextLost();
      const tLost = window.__threeLnn.time().t;
      await window.__threeLnn.frames(10);
      const tStill = window.__threeLnn.time().t;
      ext.restoreContext();
      for (let i = 0; i < 100 && window.__threeLnn.contextLost(); i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      await window.__threeLnn.frames(30);
      return {
        supported: true,
        lost,
        frozen: tStill === tLost,
        restored: !window.__threeLnn.contextLost(),
        tAfter: window.__threeLnn.time().t,
        tLost,
      };
    });
    expect(ok.supported, 'WEBGL_lose_context available').toBe(true);
    expect(ok.lost, 'the app noticed the lost context').toBe(true);
    expect(ok.frozen, 'no stepping while the context is lost').toBe(true);
    expect(ok.restored, 'the context came back').toBe(true);
    expect(ok.tAfter, 'the run continued from where it stopped').toBeGreaterThan(ok.tLost!);
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    for (const l of lanes.filter((x) => x.status === 'running')) expect(l.finite, `lane ${l.key}`).toBe(true);
    const unexpected = p.errors.filter((e) => !/CONTEXT_LOST|context lost/i.test(e));
    expect(unexpected, unexpected.join('\n')).toEqual([]);
  });

  it('a NaN guard flags and stops a system instead of drawing garbage; the others keep running', async () => {
    await p.page.evaluate(() => window.__threeLnn.openScene('double-pendulum'));
    await p.page.evaluate(() => window.__threeLnn.frames(10));
    await p.page.evaluate(() => window.__threeLnn.poison('cannon'));
    await p.page.evaluate(() => window.__threeLnn.frames(30));
    const lanes = await p.page.evaluate(() => window.__threeLnn.lanes());
    const cannon = lanes.find((l) => l.key === 'cannon')!;
    expect(cannon.status, 'the poisoned lane is stopped').toBe('stopped');
    expect(cannon.finite, 'its state went back to the last finite one').toBe(true);
    expect(cannon.reason, 'with a reason').toMatch(/non-finite/);
    expect(lanes.find((l) => l.key === 'analytic')?.status, 'other lanes keep running').toBe('running');
    expect(await p.page.evaluate(() => window.__threeLnn.legend('cannon')), 'flagged in the legend').toMatch(
      /stopped/,
    );
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('without WebGL: a clear message, learned engines fall back to WASM, physics and plots still run', async () => {
    // Take WebGL away before the page's scripts run.
    const noGl = `(() => {
      const orig = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
        if (String(type).startsWith('webgl') || type === 'experimental-webgl') return null;
        return orig.call(this, type, ...rest);
      };
    })();`;
    const q = await h.openPage('/?scene=relativistic-particle', {
      viewport: { width: 800, height: 500 },
      initScript: noGl,
      // three.js reports the failed context itself before the app shows its own message.
      ignoreConsole: ['Error creating WebGL context'],
    });
    await q.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await q.page.evaluate(() => window.__threeLnn.manual(true));
    const banner = await q.page.textContent('.banners');
    expect(banner, 'the page says WebGL is missing').toMatch(/WebGL is not available/);
    const backend = await q.page.evaluate(() => window.__threeLnn.backend());
    expect(backend?.name, 'TF.js fell back').toBe('wasm');
    expect(backend?.fallbackReason, 'and says why').toMatch(/WebGL/);
    const t0 = await q.page.evaluate(() => window.__threeLnn.time().t);
    await q.page.evaluate(() => window.__threeLnn.frames(60));
    const s = await q.page.evaluate(() => ({
      t: window.__threeLnn.time().t,
      lanes: window.__threeLnn.lanes(),
      plots: window.__threeLnn.plots(),
    }));
    expect(s.t - t0, 'the simulation runs without a 3D view').toBeCloseTo(1, 6);
    for (const l of s.lanes.filter((x) => x.status === 'running')) expect(l.finite, l.key).toBe(true);
    expect(s.plots.energy, 'plots still update').toBeGreaterThan(0);
    expect(q.errors, q.errors.join('\n')).toEqual([]);
    await q.close();
  });

  it('does not grow tensor or GPU memory over 200 frames', async () => {
    await p.page.evaluate(() => window.__threeLnn.frames(20));
    const m0 = await p.page.evaluate(() => window.__threeLnn.memory());
    await p.page.evaluate(() => window.__threeLnn.frames(200));
    const m1 = await p.page.evaluate(() => window.__threeLnn.memory());
    expect(m1.numTensors, 'TF.js tensors').toBe(m0.numTensors);
    expect(m1.geometries, 'three.js geometries').toBe(m0.geometries);
    expect(m1.textures, 'three.js textures').toBe(m0.textures);
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });
});
