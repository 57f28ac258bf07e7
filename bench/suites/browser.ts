/**
 * Learned-engine speed in headless Chromium (SwiftShader WebGL2 here, no GPU): q̈/s per route and batch,
 * RK4 of a single learned double pendulum, real-time capacity (learned and analytic), time to the first
 * simulated frame and tensor memory over 1,000 steps. Routes (the `lnn` engine pinned to one route, see
 * bench/pages/routeEngine.ts): `js` fused plain JS, `wasm` fused kernels, `webgl` TF.js op by op
 * (GPU-resident RK4), `webgl-fused` the fused shader passes with GPU-resident RK4.
 * All figures of one run come from the same browser session, so each is measured against its comparison.
 */
import { startBrowserHarness } from '../../test/support/browser';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'browser';

const ROUTES = ['js', 'wasm', 'webgl', 'webgl-fused'] as const;
const FRAME_MS = 1000 / 60;

/** Pendulums sustainable at 60 steps/s from a measured step time, assuming cost linear in batch. */
function capacityFrom(batch: number, ms: number): number {
  return Math.floor((batch * FRAME_MS) / ms);
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const quick = options.quick;
  const budget = quick ? 80 : 500;
  const batches = quick ? [1, 64, 1024] : [1, 64, 1024, 16384];
  const h = await startBrowserHarness();
  const rows: BenchRow[] = [];
  const json: Record<string, unknown> = {};
  try {
    const p = await h.openPage('/bench/pages/lnn.html');
    await p.page.waitForFunction(() => window.__lnn !== undefined || window.__lnnError !== undefined, null, {
      timeout: 120_000,
    });
    const err = await p.page.evaluate(() => window.__lnnError);
    if (err) throw new Error(`bench page failed: ${err}`);
    p.page.setDefaultTimeout(600_000);
    const info = await p.page.evaluate(async () => {
      const m = await window.__lnn!.bench.benchModel();
      return { model: m.label, backends: window.__lnn!.backends, ua: navigator.userAgent };
    });
    json.model = info.model;
    json.backends = info.backends;
    json.userAgent = info.ua;
    const gl = await p.page.evaluate(() => {
      const c = document.createElement('canvas').getContext('webgl2');
      const ext = c?.getExtension('WEBGL_debug_renderer_info');
      return c ? String(c.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : c.RENDERER)) : 'none';
    });
    json.webglRenderer = gl;
    const log = (s: string) => process.stderr.write(`[browser bench] ${s}\n`);
    log(`model: ${info.model}; backends: ${info.backends.join(', ')}; renderer: ${gl}`);

    // 1. q̈ throughput.
    const qdd: Record<string, Record<number, number>> = {};
    for (const route of ROUTES) {
      qdd[route] = {};
      for (const batch of batches) {
        // The fused shaders sample one float per multiply-add; on software GL a batch of 16384 takes
        // over a minute per call, so that cell is left out (see docs/performance.md).
        if (route === 'webgl-fused' && batch > 1024) continue;
        const rate = await p.page.evaluate(
          ([r, b, t]) => window.__lnn!.bench.qddRate(r as never, b as number, t as number),
          [route, batch, budget] as const,
        );
        qdd[route][batch] = rate;
        log(`q̈/s ${route} batch ${batch}: ${Math.round(rate)}`);
      }
      const row: BenchRow = { measure: 'q̈/s', route };
      for (const b of batches) row[`batch ${b}`] = b in qdd[route] ? Math.round(qdd[route][b]) : 'not run';
      rows.push(row);
    }
    json.qddPerSecond = qdd;

    // 2. A single learned double pendulum, RK4, dt = 1/120.
    const single: Record<string, number> = {};
    const singleCases: [string, string, number][] = [
      ['js', 'js', 1],
      ['wasm', 'wasm', 1],
      ['webgl', 'webgl', 1],
      ['webgl-fused', 'webgl-fused', 1],
      ['webgl-fused ×2 substeps/readback', 'webgl-fused', 2],
    ];
    for (const [label, route, sub] of singleCases) {
      const ms = await p.page.evaluate(
        ([r, s, t]) => window.__lnn!.bench.singleRk4(r as never, s as number, t as number),
        [route, sub, budget] as const,
      );
      single[label] = ms;
      log(`single pendulum ${label}: ${ms.toFixed(3)} ms per 1/120 s`);
    }
    json.singlePendulumMsPerStep = single;
    for (const [label, ms] of Object.entries(single)) {
      rows.push({
        measure: 'single DP, RK4 dt=1/120: ms per step',
        route: label,
        value: Number(ms.toFixed(3)),
        'x real time': Number((1000 / 120 / ms).toFixed(1)),
      });
    }

    // 3. Real-time capacity: learned pendulums (RK4, dt = 1/60) at 60 steps/s.
    const capBatches = quick ? [64, 256] : [64, 256, 1024];
    const capacity: Record<string, { batch: number; msPerStep: number; capacity: number }[]> = {};
    for (const route of ['js', 'wasm', 'webgl-fused']) {
      capacity[route] = [];
      for (const batch of route === 'webgl-fused' ? [16, 64] : capBatches) {
        const ms = await p.page.evaluate(
          ([r, b, t]) => window.__lnn!.bench.stepMs(r as never, b as number, t as number),
          [route, batch, budget] as const,
        );
        capacity[route].push({ batch, msPerStep: ms, capacity: capacityFrom(batch, ms) });
        log(`capacity ${route} batch ${batch}: ${ms.toFixed(2)} ms/step → ${capacityFrom(batch, ms)}`);
      }
      const best = Math.max(...capacity[route].map((c) => c.capacity));
      const row: BenchRow = { measure: 'learned DPs at 60 steps/s (RK4 dt=1/60)', route, value: best };
      for (const c of capacity[route]) row[`ms/step @${c.batch}`] = Number(c.msPerStep.toFixed(2));
      rows.push(row);
    }
    json.learnedCapacity = capacity;
    const aBatches = quick ? [10_000] : [100_000, 400_000];
    const analytic = [];
    for (const batch of aBatches) {
      const ms = await p.page.evaluate(
        ([b, t]) => window.__lnn!.bench.analyticStepMs(b as number, t as number),
        [batch, budget] as const,
      );
      analytic.push({ batch, msPerStep: ms, capacity: capacityFrom(batch, ms) });
      log(`analytic batch ${batch}: ${ms.toFixed(2)} ms/step`);
    }
    json.analyticCapacity = analytic;
    const aRow: BenchRow = {
      measure: 'analytic DPs at 60 steps/s (RK4 dt=1/60)',
      route: 'js (fused analytic)',
      value: Math.max(...analytic.map((a) => a.capacity)),
    };
    for (const a of analytic) aRow[`ms/step @${a.batch}`] = Number(a.msPerStep.toFixed(2));
    rows.push(aRow);

    // 4. Memory over 1,000 steps.
    const memory: Record<string, unknown> = {};
    for (const [route, sub] of [
      ['webgl-fused', 10],
      ['wasm', 10],
    ] as const) {
      const m = await p.page.evaluate(
        ([r, s]) => window.__lnn!.bench.memoryOver(r as never, 1000, s as number),
        [route, sub] as const,
      );
      memory[route] = m;
      rows.push({
        measure: 'tf.memory over 1,000 steps (numTensors, numBytes before → after)',
        route,
        value: `${m.numTensorsBefore} → ${m.numTensorsAfter}; ${m.numBytesBefore} → ${m.numBytesAfter} B`,
      });
    }
    json.memory = memory;
    await p.close();

    // 5. Time to the first simulated frame, in fresh pages.
    const first: Record<string, unknown> = {};
    for (const route of ['js', 'webgl-fused']) {
      const fp = await h.openPage(`/bench/pages/first-frame.html?route=${route}`);
      await fp.page.waitForFunction(() => window.__firstFrame !== undefined, null, { timeout: 120_000 });
      const r = await fp.page.evaluate(() => window.__firstFrame!);
      if (r.error) throw new Error(`first-frame page (${route}) failed: ${r.error}`);
      first[route] = r;
      rows.push({
        measure: 'first simulated frame after navigation start (ms)',
        route,
        value: Math.round(r.firstFrameMs),
        'modules ms': Math.round(r.modulesMs),
        'ready ms': Math.round(r.readyMs),
      });
      await fp.close();
    }
    json.firstFrame = first;
  } finally {
    await h.close();
  }
  return { rows: uniformColumns(rows), json };
}

/** Give every row every column (the table printer takes its columns from the first row). */
function uniformColumns(rows: BenchRow[]): BenchRow[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k] ?? ''])));
}
