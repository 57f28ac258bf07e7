/**
 * Rendered real-time capacity in headless Chromium: the largest number N of double pendulums that keeps
 * 60 simulated steps per second WHILE being drawn. A three.js scene built with the project's plugin
 * (bench/pages/rendered.ts: `LNNPhysics`, one InstancedMesh of bobs, one line set of rods, a
 * WebGLRenderer on a 1280×720 canvas) runs frames of one RK4 step of dt = 1/60 for all N + the instance
 * update + render with a GPU sync; the median frame time over a fixed number of frames must be
 * ≤ 1000/60 ms. At the N found, the same scene then runs as an app runs it (a frame per
 * requestAnimationFrame callback, presented) and the frame rate the display reached is reported.
 * N is searched by doubling, then bisection, for four engines: the learned engine as the app builds it
 * (`route: 'auto'` on the browser's default backend, `threads: 'auto'`), the learned engine forced onto
 * wasm on one thread and on worker threads (the dev server makes pages cross-origin isolated), and the
 * analytic engine; in two scenes (see {@link SCENES}). Reports N, the frame-time split at N and the
 * WebGL renderer (SwiftShader, software GL, on a machine without a GPU).
 */
import { loadavg } from 'node:os';
import { startBrowserHarness } from '../../test/support/browser';
import type { DisplayCheck, FrameTiming, RenderedEngine } from '../pages/rendered';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'rendered';

const FRAME_MS = 1000 / 60;

/**
 * The scenes: `app` is the plugin as an app draws it (bobs in one `InstancedBobs` mesh of 16×12
 * spheres with MeshStandardMaterial, rods as one line set, antialias on, as in the project's app);
 * `light` is the cheapest drawing of the same pendulums with three.js (each bob one vertex of a
 * non-instanced Points cloud, the same rod lines, antialias off), which shows how much of the `app`
 * frame is the renderer's per-instance and multisampling cost; `field` is the GPU-resident exact engine
 * (`DoublePendulumField`: state in a float texture, one RK4 pass per step, every pendulum drawn per pixel
 * in its cell of one plane, antialias off, no readback). Per engine: where the N search starts and the
 * largest N tried (an engine a scene does not list is not measured there).
 */
export const SCENES: {
  label: string;
  query: string;
  search: Partial<Record<RenderedEngine, { start: number; max: number }>>;
}[] = [
  {
    label: 'app',
    query: '',
    search: {
      'lnn-auto': { start: 16, max: 8192 },
      'lnn-wasm': { start: 16, max: 8192 },
      'lnn-wasm-threads': { start: 16, max: 8192 },
      analytic: { start: 64, max: 1_048_576 },
    },
  },
  {
    label: 'light',
    query: '?bobs=points&antialias=false',
    search: {
      'lnn-auto': { start: 32, max: 8192 },
      'lnn-wasm': { start: 64, max: 8192 },
      'lnn-wasm-threads': { start: 128, max: 8192 },
      analytic: { start: 4096, max: 1_048_576 },
    },
  },
  {
    label: 'field',
    query: '?antialias=false',
    search: {
      'analytic-gpu': { start: 16384, max: 4_194_304 },
    },
  },
];

/** One engine's search: every N measured, and the largest N within the frame budget. */
export interface CapacitySearch {
  scene: string;
  engine: RenderedEngine;
  /** The engine as built (backend, route summary). */
  engineSummary: string;
  /** Largest N measured whose median frame ≤ 16.7 ms (0 when even the smallest tried was too slow). */
  capacity: number;
  /** The measurement at `capacity` (the split of a frame that fits). */
  atCapacity: FrameTiming | null;
  /** The smallest N measured that did not fit, with its split (what the bound is). */
  firstTooSlow: FrameTiming | null;
  probes: FrameTiming[];
  /** The frame rate the display reached at `capacity` when run as an app runs it, presenting. */
  displayAtCapacity: DisplayCheck | null;
  /** The same at the target count ({@link TARGETS}) when the capacity reaches it, else null. */
  displayAtTarget: DisplayCheck | null;
}

/**
 * The counts the targets ask for at 60 steps per second, rendered: 250 learned double pendulums, 100,000
 * analytic ones. Where the capacity reaches the target, the display check also runs at the target count.
 */
export const TARGETS: Record<RenderedEngine, number> = {
  'lnn-auto': 250,
  'lnn-wasm': 250,
  'lnn-wasm-threads': 250,
  analytic: 100_000,
  'analytic-gpu': 100_000,
};

/**
 * Largest N with median frame ≤ budget: double from `start` until a frame is too slow (or `max`), halve
 * when `start` is already too slow, then bisect until the bracket is within `tolerance` (relative).
 */
export async function searchCapacity(
  measure: (n: number) => Promise<FrameTiming>,
  start: number,
  max: number,
  tolerance: number,
  log: (t: FrameTiming) => void,
): Promise<{ lo: FrameTiming | null; hi: FrameTiming | null; probes: FrameTiming[] }> {
  const probes: FrameTiming[] = [];
  const fits = async (n: number) => {
    const t = await measure(n);
    probes.push(t);
    log(t);
    return t;
  };
  let lo: FrameTiming | null = null;
  let hi: FrameTiming | null = null;
  let n = start;
  let t = await fits(n);
  if (t.frameMs <= FRAME_MS) {
    lo = t;
    while (n < max) {
      n = Math.min(max, 2 * n);
      t = await fits(n);
      if (t.frameMs > FRAME_MS) {
        hi = t;
        break;
      }
      lo = t;
    }
  } else {
    hi = t;
    while (n > 1) {
      n = Math.max(1, Math.floor(n / 2));
      t = await fits(n);
      if (t.frameMs <= FRAME_MS) {
        lo = t;
        break;
      }
      hi = t;
    }
  }
  while (lo && hi && hi.count - lo.count > Math.max(1, tolerance * lo.count)) {
    const mid = Math.round((lo.count + hi.count) / 2);
    t = await fits(mid);
    if (t.frameMs <= FRAME_MS) lo = t;
    else hi = t;
  }
  return { lo, hi, probes };
}

/** A frame's mean split as one cell. */
function split(t: FrameTiming): string {
  const f = (x: number) => x.toFixed(1);
  return `${f(t.frameMeanMs)} = ${f(t.physicsMs)} + ${f(t.updateMs)} + ${f(t.renderMs)}`;
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const quick = options.quick;
  const frames = quick ? 20 : 60;
  const warmup = quick ? 3 : 10;
  const tolerance = quick ? 0.25 : 0.05;
  const displayFrames = quick ? 30 : 120;
  const engines: RenderedEngine[] = ['lnn-auto', 'lnn-wasm', 'lnn-wasm-threads', 'analytic', 'analytic-gpu'];
  const loadStart = loadavg();
  const h = await startBrowserHarness();
  const rows: BenchRow[] = [];
  const searches: CapacitySearch[] = [];
  const scenes: Record<string, unknown> = {};
  const displayBaseline: Record<string, DisplayCheck> = {};
  const json: Record<string, unknown> = {
    method:
      'one frame = physics.world.stepN(1, 1/60) for all N (RK4) + physics.update() (instance matrices, rod vertices) + renderer.render + 1-pixel readPixels (GPU sync), frames back to back; for analytic-gpu: field.step(1/60) (which only submits the GPU passes; their cost lands in render) + renderer.render + the same sync; capacity = largest N with median frame time ≤ 16.67 ms; display check at that N and at the target N: one frame (no sync) per requestAnimationFrame callback, the browser presenting in between, median callback interval and share of intervals under 1.5 periods',
    frames,
    warmupFrames: warmup,
    bisectionTolerance: tolerance,
    displayFrames,
    loadAverageAtStart: loadStart.map((x) => Math.round(x * 100) / 100),
  };
  const log = (s: string) => process.stderr.write(`[rendered bench] ${s}\n`);
  try {
    for (const sc of SCENES) {
      const p = await h.openPage(`/bench/pages/rendered.html${sc.query}`, {
        viewport: { width: 1280, height: 720 },
      });
      await p.page.waitForFunction(
        () => window.__rendered !== undefined || window.__renderedError !== undefined,
        null,
        { timeout: 120_000 },
      );
      const err = await p.page.evaluate(() => window.__renderedError);
      if (err) throw new Error(`rendered bench page failed: ${err}`);
      p.page.setDefaultTimeout(600_000);
      const info = await p.page.evaluate(async () => ({
        renderer: window.__rendered!.renderer,
        scene: window.__rendered!.scene,
        model: await window.__rendered!.model(),
        ua: navigator.userAgent,
      }));
      Object.assign(json, { webglRenderer: info.renderer, model: info.model, userAgent: info.ua });
      scenes[sc.label] = info.scene;
      log(
        `scene ${sc.label} ${JSON.stringify(info.scene)}; renderer: ${info.renderer}; model: ${info.model}`,
      );
      // What the display reaches with one pendulum: the cost of presenting the canvas alone.
      await p.page.evaluate(() => window.__rendered!.useEngine('analytic'));
      const baseline = await p.page.evaluate((f) => window.__rendered!.display(1, f), displayFrames);
      await p.page.evaluate(() => window.__rendered!.release());
      displayBaseline[sc.label] = baseline;
      log(
        `${sc.label}: one pendulum displayed at ${baseline.fps.toFixed(1)} fps (median ${baseline.frameMs.toFixed(1)} ms between frames, ${(100 * baseline.onTime).toFixed(0)}% on time)`,
      );
      for (const engine of engines) {
        const range = sc.search[engine];
        if (!range) continue;
        const { start, max } = range;
        const summary = await p.page.evaluate((e) => window.__rendered!.useEngine(e), engine);
        log(`${sc.label} / ${engine}: ${summary}`);
        const found = await searchCapacity(
          (n) =>
            p.page.evaluate(([c, f, w]) => window.__rendered!.measure(c, f, w), [n, frames, warmup] as const),
          start,
          max,
          tolerance,
          (t) =>
            log(
              `${sc.label} / ${engine} N=${t.count}: frame median ${t.frameMs.toFixed(2)} ms; mean ${t.frameMeanMs.toFixed(2)} = physics ${t.physicsMs.toFixed(2)} + update ${t.updateMs.toFixed(2)} + render ${t.renderMs.toFixed(2)}; route ${t.route}${t.invalid ? `, ${t.invalid} invalid` : ''}`,
            ),
        );
        const displayAt = async (count: number): Promise<DisplayCheck> => {
          const d = await p.page.evaluate(([c, f]) => window.__rendered!.display(c, f), [
            count,
            displayFrames,
          ] as const);
          log(
            `${sc.label} / ${engine} N=${d.count} displayed: ${d.fps.toFixed(1)} fps (median ${d.frameMs.toFixed(1)} ms between frames, ${(100 * d.onTime).toFixed(0)}% on time)`,
          );
          return d;
        };
        const shown = found.lo ? await displayAt(found.lo.count) : null;
        const target = TARGETS[engine];
        const atTarget = found.lo && found.lo.count >= target ? await displayAt(target) : null;
        await p.page.evaluate(() => window.__rendered!.release());
        const s: CapacitySearch = {
          scene: sc.label,
          engine,
          engineSummary: summary,
          capacity: found.lo?.count ?? 0,
          atCapacity: found.lo,
          firstTooSlow: found.hi,
          probes: found.probes,
          displayAtCapacity: shown,
          displayAtTarget: atTarget,
        };
        searches.push(s);
        const a = found.lo;
        const b = found.hi;
        rows.push({
          scene: sc.label,
          engine,
          'N at 60 fps': s.capacity,
          route: a?.route ?? '',
          'median frame ms': a ? Number(a.frameMs.toFixed(2)) : '',
          'mean frame = physics + update + render (ms)': a ? split(a) : '',
          'displayed fps at N (frames on time)': shown
            ? `${shown.fps.toFixed(1)} (${(100 * shown.onTime).toFixed(0)}%)`
            : '',
          'displayed fps at the target N (frames on time)': atTarget
            ? `${target}: ${atTarget.fps.toFixed(1)} (${(100 * atTarget.onTime).toFixed(0)}%)`
            : `${target}: not reached`,
          'too slow at N: median frame; mean split (ms)': b
            ? `${b.count}: ${b.frameMs.toFixed(1)}; ${split(b)}`
            : '—',
        });
      }
      await p.close();
    }
  } finally {
    await h.close();
  }
  json.scenes = scenes;
  json.displayBaseline = displayBaseline;
  json.searches = searches;
  json.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  return { rows, json };
}
