/**
 * Learned physics on a float16-only WebGL context: headless Chromium with TF.js forced to float16
 * textures (`WEBGL_FORCE_F16_TEXTURES`, `WEBGL_RENDER_FLOAT32_CAPABLE` false; page
 * test/browser/float16-pages/), the shipped double-pendulum LNN on a webgl engine. The q̈ of each route
 * is compared here with the float64 reference (`referenceAccelerations`) and printed as a table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/loadModel';
import type { LoadedModel } from '../../src/model/metadata';
import { referenceAccelerations } from '../../src/model/reference';
import { type BrowserHarness, startBrowserHarness } from '../support/browser';
import { relErr } from '../support/errors';
import { FLOAT16_ROUTES, type Float16Result, type Float16Route, float16States } from './float16-pages/cases';

declare const window: Window & { __float16?: Float16Result };

/** Mean and max over the states of the per-state relErr (floor 1) against the reference, and failures. */
function errorOver(
  qdd: readonly number[],
  flags: readonly number[],
  ref: Float64Array,
  refFlags: Uint8Array,
): { mean: number; max: number; failed: number; states: number } {
  let sum = 0;
  let max = 0;
  let failed = 0;
  let states = 0;
  for (let b = 0; b < refFlags.length; b++) {
    if (refFlags[b] === 2) continue;
    states++;
    if (flags[b] === 2) failed++;
    const e = relErr(qdd.slice(2 * b, 2 * b + 2), ref.subarray(2 * b, 2 * b + 2));
    sum += e;
    max = Math.max(max, e);
  }
  return { mean: sum / states, max, failed, states };
}

const fmt = (v: number) => v.toExponential(2);

describe('learned engines on a float16 WebGL context (TF.js forced to float16 textures)', () => {
  let h: BrowserHarness;
  let r: Float16Result;
  let model: LoadedModel;
  const errors = {} as Record<Float16Route, ReturnType<typeof errorOver>>;

  beforeAll(async () => {
    h = await startBrowserHarness();
    const p = await h.openPage('/test/browser/float16-pages/float16.html');
    await p.page.waitForFunction(() => window.__float16 !== undefined, null, { timeout: 180_000 });
    r = (await p.page.evaluate(() => window.__float16)) as Float16Result;
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
    expect(r.error, `page error: ${r.error}`).toBeUndefined();
    model = await loadModel('assets/models/double-pendulum-lnn');
    const c = float16States();
    const ref = new Float64Array(c.q.length);
    const refFlags = new Uint8Array(c.batch);
    referenceAccelerations(model, c.q, c.qd, ref, c.batch, { flags: refFlags });
    for (const route of FLOAT16_ROUTES)
      errors[route] = errorOver(r.routes[route].qdd, r.routes[route].flags, ref, refFlags);
    const auto = r.auto.batches.map((b) => `${b.batch}: ${b.routeFor}`).join(', ');
    const lines = [
      `float16 context: ${r.capabilitiesLine}`,
      `shipped double-pendulum-lnn (${r.architecture}), q̈ relative error against the float64 reference, ${c.batch} states from the training box (per state max|Δq̈| / max(1, max|q̈|)):`,
      '| route | precision | mean | max | failed | engine at load: mean | max |',
      '|---|---|---|---|---|---|---|',
      ...FLOAT16_ROUTES.map((route) => {
        const e = errors[route];
        const rep = r.routes[route].report;
        const own = rep.precisionError;
        return `| ${route} | ${rep.precision} | ${fmt(e.mean)} | ${fmt(e.max)} | ${e.failed} | ${own ? fmt(own.mean) : '–'} | ${own ? fmt(own.max) : '–'} |`;
      }),
      `auto takes (batch: route) ${auto}; ${r.auto.routeSummary}`,
      `calibrated: ${r.calibrated.routeSummary}`,
    ];
    console.log(lines.join('\n'));
  }, 240_000);

  afterAll(async () => {
    await h?.close();
  });

  it('the capability object names the float16 context', () => {
    expect(r.backend, 'backend').toBe('webgl');
    expect(r.flags, 'TF.js flags').toEqual({ capable: false, enabled: false, forceF16: true });
    const cap = r.capabilities;
    expect(cap.available, 'context read').toBe(true);
    expect(cap.precision, 'precision').toBe('float16');
    expect(cap.renderFloat32Capable).toBe(false);
    expect(cap.renderFloat32Enabled).toBe(false);
    expect(cap.forceF16Textures).toBe(true);
    expect(cap.version).toBe(2);
    expect(cap.floatTextures, 'float textures (WebGL2)').toBe(true);
    expect(cap.fragmentHighp, 'fragment highp read').not.toBeNull();
    // SwiftShader's highp is IEEE float32; the half precision comes from the textures.
    expect(cap.fragmentHighp!.precision).toBe(23);
    expect(cap.reasons.join(' '), 'reasons').toMatch(/WEBGL_FORCE_F16_TEXTURES/);
    expect(r.capabilitiesLine).toMatch(/^WebGL2 .*: float16 — float16 textures forced/);
    expect(r.auto.engineCapabilities, 'the engine reports the same object').toEqual(cap);
  });

  it("route 'auto' takes no half-precision route at batch 1, 64 and 1024, and says why", () => {
    expect(r.auto.availableRoutes, 'routes').toEqual(['js', 'webgl', 'webgl-fused', 'wasm']);
    for (const b of r.auto.batches) {
      expect(['js', 'wasm'], `batch ${b.batch}: routeFor`).toContain(b.routeFor);
      expect(b.advanced.route, `batch ${b.batch}: the advance took routeFor`).toBe(b.routeFor);
      expect(b.advanced.precision, `batch ${b.batch}: precision`).not.toBe('float16');
      expect(b.describe.precision, `batch ${b.batch}: describeRoute`).not.toBe('float16');
      expect(b.advanced.precisionError, `batch ${b.batch}: no half-precision error to report`).toBeNull();
    }
    expect(r.auto.batches.map((b) => b.routeFor)).toEqual(['js', 'wasm', 'wasm']);
    expect(r.auto.routeSummary).toMatch(
      /^auto: js ≤ 2 states, then wasm · WebGL float16: webgl, webgl-fused/,
    );
    expect(r.auto.warnings.join('\n'), 'warning at load').toMatch(/WebGL computes in float16 here .*'auto'/);
    expect(r.auto.precisionNote?.forced, 'nothing forced').toBeNull();
    expect(r.auto.precisionNote?.routes).toEqual(['webgl', 'webgl-fused']);
    expect(r.calibrated.timed, 'calibrate times only js and wasm').toEqual([
      'js@1',
      'js@8',
      'wasm@1',
      'wasm@8',
    ]);
    for (const route of r.calibrated.routes) expect(['js', 'wasm'], 'calibrated plan').toContain(route);
  });

  it('js and wasm stay at float64 / float32 accuracy; the webgl routes report float16 and their error', () => {
    expect(r.routes.js.report.precision).toBe('float64');
    expect(r.routes.wasm.report.precision).toBe('float32');
    expect(errors.js.max, 'js (float64) vs reference').toBeLessThan(1e-9);
    expect(errors.wasm.max, 'wasm (float32) vs reference').toBeLessThan(1e-3);
    for (const route of ['js', 'wasm'] as const) {
      expect(errors[route].failed, `${route}: no failed state`).toBe(0);
      expect(r.routes[route].report.precisionError, `${route}: nothing to report`).toBeNull();
    }
    for (const route of ['webgl', 'webgl-fused'] as const) {
      const rep = r.routes[route].report;
      expect({ route: rep.route, precision: rep.precision }, `${route}: report`).toEqual({
        route,
        precision: 'float16',
      });
      expect(r.routes[route].describe, `${route}: describeRoute`).toEqual({
        route,
        backend: 'webgl',
        precision: 'float16',
      });
      // The half precision is real: well above the float32 routes' error.
      expect(errors[route].mean, `${route}: float16 error above wasm's`).toBeGreaterThan(
        10 * errors.wasm.mean,
      );
      const own = rep.precisionError;
      expect(own, `${route}: error measured at load`).not.toBeNull();
      expect(own!.states, `${route}: measured states`).toBe(64);
      // Same order as measured here (other states from the same box).
      const ratio = own!.mean / errors[route].mean;
      expect(ratio, `${route}: engine's mean ${own!.mean} vs test's ${errors[route].mean}`).toBeGreaterThan(
        0.2,
      );
      expect(ratio, `${route}: engine's mean ${own!.mean} vs test's ${errors[route].mean}`).toBeLessThan(5);
    }
  });

  it('an engine loaded with a half-precision route runs it, warns with the measured error and reports it', () => {
    for (const route of ['webgl', 'webgl-fused'] as const) {
      const f = r.forced[route];
      const note = f.precisionNote!;
      expect(note, `${route}: precisionNote`).not.toBeNull();
      expect(note.forced, `${route}: forced`).toBe(route);
      const own = note.measured.find((m) => m.route === route)!;
      expect(own, `${route}: measured at load`).toBeDefined();
      const warning = f.warnings.find((w) => w.startsWith(`route '${route}' computes in float16`));
      expect(warning, `${route}: warning`).toBeDefined();
      expect(warning).toContain(`mean ${own.mean.toExponential(1)}, max ${own.max.toExponential(1)}`);
      expect(f.routeSummary).toMatch(
        new RegExp(`^${route} \\(forced\\) · ${route} runs in float16 .*: q̈ error against float64 mean`),
      );
      expect({ route: f.report.route, precision: f.report.precision, path: f.report.path }).toEqual({
        route,
        precision: 'float16',
        path: 'resident',
      });
      expect(f.report.precisionError, `${route}: lastReport carries the measured error`).toEqual(own);
      expect(own.mean / errors[route].mean, `${route}: same order as measured here`).toBeGreaterThan(0.2);
      expect(own.mean / errors[route].mean).toBeLessThan(5);
    }
  });

  it('pinRoute refuses a float32 recording of the webgl route here and takes a float16 one', () => {
    expect(r.pin.float32).toMatch(
      /cannot replay route 'webgl' as recorded \(webgl, float32\): here it runs on webgl in float16/,
    );
    expect(r.pin.float16).toBe('webgl');
  });

  it('without allowFloat16 the webgl backend is refused on a context without float32 render targets', () => {
    expect(r.withoutAllow.backend).toBe('wasm');
    expect(r.withoutAllow.warnings.join('\n')).toMatch(
      /cannot render float32 textures.*falling back from webgl/,
    );
  });

  it('no tensor leaks: flat over repeated calls on every route, all freed by dispose', () => {
    expect(r.counts.repeated, '5 more rounds of every route').toEqual(r.counts.warm);
    expect(r.counts.disposed, 'after dispose').toEqual(r.counts.before);
  });

  it('a fragment highp below float32 (reported by the context) is half precision too: auto leaves webgl out', async () => {
    // float32 textures; getShaderPrecisionFormat reports a 10-bit highp, as on a mediump-class GPU.
    const initScript = `{
      const patch = (proto) => {
        const original = proto.getShaderPrecisionFormat;
        proto.getShaderPrecisionFormat = function (shader, type) {
          const f = original.call(this, shader, type);
          if (type !== this.HIGH_FLOAT || shader !== this.FRAGMENT_SHADER || f === null) return f;
          return { rangeMin: 15, rangeMax: 15, precision: 10 };
        };
      };
      patch(WebGLRenderingContext.prototype);
      patch(WebGL2RenderingContext.prototype);
    }`;
    const p = await h.openPage('/test/browser/float16-pages/float16.html?mode=highp10', { initScript });
    await p.page.waitForFunction(() => window.__float16 !== undefined, null, { timeout: 120_000 });
    const m = (await p.page.evaluate(() => window.__float16)) as Float16Result;
    expect(p.errors, p.errors.join('\n')).toEqual([]);
    await p.close();
    expect(m.error, `page error: ${m.error}`).toBeUndefined();
    console.log(`highp 10 bits: ${m.capabilitiesLine}; auto: ${m.auto.routeSummary}`);
    expect(m.flags, 'float32 textures').toEqual({ capable: true, enabled: true, forceF16: false });
    expect(m.capabilities.fragmentHighp).toEqual({ rangeMin: 15, rangeMax: 15, precision: 10 });
    expect(m.capabilities.precision).toBe('float16');
    expect(m.capabilities.reasons).toEqual(['fragment highp float has 10 mantissa bits (float32: 23)']);
    expect(m.auto.batches.map((b) => b.routeFor)).toEqual(['js', 'wasm', 'wasm']);
    expect(m.auto.batches.map((b) => b.describe.precision)).toEqual(['float64', 'float32', 'float32']);
    expect(m.auto.precisionNote?.routes).toEqual(['webgl', 'webgl-fused']);
    expect(m.auto.warnings.join('\n')).toMatch(
      /WebGL computes in float16 here \(fragment highp float has 10/,
    );
  });
});
