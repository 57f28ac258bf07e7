import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxAroundRun, checkpointProblem, learnDefaults } from '../../app/learn/learnProtocol';
import { RunSource } from '../../app/learn/RunSource';
import type { TestHook } from '../../app/testHook';
import { typedSystem } from '../../scenes/yourLagrangian';
import { createEngine, createSystem, loadEngine } from '../../src/index';
import { loadModel } from '../../src/learned';
import { type BrowserHarness, type OpenedPage, repoRoot, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook };

/** The typed Lagrangian learned: a pendulum (m = l = g = 1). */
const L = 'qd1^2/2 + cos(q1)';

/** Wall-clock budget of the whole learning run, as the issue sets it. */
const BUDGET_MS = 60_000;

/**
 * Validation q̈ L1 the run must reach within the budget. With the defaults for one coordinate
 * (2→32→32→1 softplus, batch 64, lr 0.1, 600 steps, seed 0) and the same data, the run ends at the same
 * value every time (docs/app.md gives it); the bound leaves room for a loaded machine that has not
 * reached the end.
 */
const MAX_VAL_L1 = 0.02;

/**
 * The page must keep drawing while the worker trains: on average at least {@link MIN_FPS} frames per
 * second, or, where the machine gives less (two cores shared by a software renderer, the worker and
 * other jobs: 4–9 fps before training here), {@link MIN_FPS_SHARE} of its own rate just before training,
 * and never under 1 fps. A behaviour check (the page is not blocked), not a benchmark.
 */
const MIN_FPS = 20;
const MIN_FPS_SHARE = 0.15;

const BIN = join(repoRoot, 'bin', 'three-lnn.mjs');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('node', [BIN, ...args], { cwd: repoRoot }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('learn this scene: the pieces that decide a run', () => {
  it('boxes a recorded run with margins, a full turn of an angle as [−π, π)', () => {
    const box = boxAroundRun([1, -1, 0.5], [0, 2, -1], 3, [true]);
    expect(box.q[0][0], 'q lower edge: min − 20 % of the span').toBeCloseTo(-1.4, 12);
    expect(box.q[0][1], 'q upper edge').toBeCloseTo(1.4, 12);
    expect(box.qd[0][0], 'q̇ lower edge').toBeCloseTo(-1.6, 12);
    expect(box.qd[0][1], 'q̇ upper edge').toBeCloseTo(2.6, 12);
    const turning = boxAroundRun([0, 7], [1, 1], 2, [true]);
    expect(turning.q[0], 'an angle that went round').toEqual([-Math.PI, Math.PI]);
    const start = boxAroundRun([1.6], [0], 1, [true]);
    expect(start.q[0][1] - start.q[0][0], 'one state still gives a box (floor margins)').toBeCloseTo(0.6, 12);
    expect(start.qd[0][1] - start.qd[0][0]).toBeCloseTo(1, 12);
  });

  it('draws a quarter of each batch from the recorded run, the rest from the box, all with exact q̈', () => {
    const system = typedSystem(L);
    const run = { q: Float64Array.of(0.3, -0.7, 1.1), qd: Float64Array.of(0.5, 0.2, -1.3), samples: 3 };
    const box = { q: [[-2, 2]] as [number, number][], qd: [[-1, 1]] as [number, number][], rapidity: false };
    const source = new RunSource(system, box, run, 0.25);
    const a = source.draw(7, 8);
    const b = source.draw(7, 8);
    expect(Array.from(a.q), 'a batch is a function of its seed').toEqual(Array.from(b.q));
    expect(Array.from(source.draw(8, 8).q), 'another seed, another batch').not.toEqual(Array.from(a.q));
    for (let s = 0; s < 8; s++) {
      const recorded = [0, 1, 2].some(
        (k) => a.q[s] === Math.fround(run.q[k]) && a.qd[s] === Math.fround(run.qd[k]),
      );
      expect(recorded, `state ${s} ${s >= 6 ? 'from the run' : 'from the box'}`).toBe(s >= 6);
      if (s < 6) {
        expect(Math.abs(a.q[s]) <= 2 && Math.abs(a.qd[s]) <= 1, `state ${s} inside the box`).toBe(true);
      }
      expect(a.target[s], `state ${s}: exact q̈ = −sin q`).toBeCloseTo(-Math.sin(a.q[s]), 5);
    }
    const none = new RunSource(system, box, null, 0.25).draw(7, 8);
    expect(Array.from(none.q), 'without a recording, all from the box').toEqual(
      Array.from(new RunSource(system, box, run, 0).draw(7, 8).q),
    );
  });

  it('draws box states again where the system has no q̈ (|q̇| ≥ c for the relativistic particle)', () => {
    const system = createSystem('relativistic-particle');
    const box = {
      q: [[-1, 1]] as [number, number][],
      qd: [[-1.5, 1.5]] as [number, number][],
      rapidity: false,
    };
    const batch = new RunSource(system, box, null, 0).draw(3, 256);
    for (let s = 0; s < 256; s++) {
      expect(Math.abs(batch.qd[s]), `state ${s}: a physical speed`).toBeLessThan(1);
      expect(Number.isFinite(batch.target[s]), `state ${s}: its q̈`).toBe(true);
    }
  });

  it('calls a checkpoint bad when its validation error is non-finite or 10× the best', () => {
    expect(checkpointProblem(0.1, Number.POSITIVE_INFINITY), 'first checkpoint').toBeNull();
    expect(checkpointProblem(0.5, 0.1), 'worse but within 10×').toBeNull();
    expect(checkpointProblem(Number.NaN, 0.1), 'NaN').toMatch(/non-finite/);
    expect(checkpointProblem(Number.POSITIVE_INFINITY, 0.1), 'Inf').toMatch(/non-finite/);
    expect(checkpointProblem(1.5, 0.1), 'diverged').toMatch(/diverged/);
    expect(learnDefaults(1).hidden, 'one coordinate: a small network').toEqual([32, 32]);
    expect(learnDefaults(4).hidden[0]).toBeGreaterThan(learnDefaults(2).hidden[0]);
  });
});

describe('learn this scene in headless Chromium: a typed pendulum from scratch', () => {
  let h: BrowserHarness;
  let p: OpenedPage;
  let dir = '';

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage(`/?scene=your-lagrangian&o.L=${encodeURIComponent(L)}`, {
      viewport: { width: 1280, height: 900 },
    });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    dir = mkdtempSync(join(tmpdir(), 'three-lnn-learn-'));
  });

  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`learns L = ${L} to q̈ L1 < ${MAX_VAL_L1} in under a minute while the page draws, swapping the learned lane in`, async () => {
    const pg = p.page;
    expect(await pg.evaluate(() => window.__threeLnn.scene())).toBe('your-lagrangian');
    expect(await pg.evaluate(() => window.__threeLnn.learn().available), 'learning is offered').toBeNull();
    const tensorsBefore = await pg.evaluate(() => window.__threeLnn.memory().numTensors);
    // The page's own frame rate just before, on the same machine and load.
    const idle0 = await pg.evaluate(() => window.__threeLnn.frame());
    const idleT0 = Date.now();
    await pg.waitForTimeout(5000);
    const idleFps =
      (((await pg.evaluate(() => window.__threeLnn.frame())) - idle0) * 1000) / (Date.now() - idleT0);
    // The data: a run of 600 frames (5 s, half a swing) from the start on the test's clock, the same on
    // every run; training starts before the page's own clock takes over again.
    await pg.evaluate(() => window.__threeLnn.manual(true));
    await pg.evaluate(() => window.__threeLnn.restart());
    await pg.evaluate(() => window.__threeLnn.frames(600));
    await pg.evaluate(() => window.__threeLnn.learnStart());
    await pg.evaluate(() => window.__threeLnn.manual(false));
    const frame0 = await pg.evaluate(() => window.__threeLnn.frame());
    const tm0 = await pg.evaluate(() => window.__threeLnn.timings());
    const t0 = Date.now();
    let state = await pg.evaluate(() => window.__threeLnn.learn());
    while (Date.now() - t0 < BUDGET_MS) {
      await pg.waitForTimeout(1000);
      state = await pg.evaluate(() => window.__threeLnn.learn());
      if (state.status !== 'training' && state.status !== 'starting') break;
    }
    const wallMs = Date.now() - t0;
    const frames = (await pg.evaluate(() => window.__threeLnn.frame())) - frame0;
    const fps = (frames * 1000) / wallMs;
    const tm1 = await pg.evaluate(() => window.__threeLnn.timings());
    // The page's own work per frame while the worker trains (the rest of a frame is the browser's).
    console.log(
      '[learn] app work during training, ms',
      JSON.stringify(
        Object.fromEntries(Object.entries(tm1).map(([k, v]) => [k, v - (tm0 as Record<string, number>)[k]])),
      ),
    );
    console.log(
      `[learn] ${state.status} at step ${state.step}/${state.steps} after ${(wallMs / 1000).toFixed(1)} s on ${state.backend} ` +
        `(${state.layers.join('→')}): validation q̈ L1 ${state.valL1.toPrecision(3)}, swaps ${state.swaps}, ` +
        `${state.stepsPerSecond.toFixed(0)} steps/s; page ${frames} frames = ${fps.toFixed(1)} fps (${idleFps.toFixed(1)} fps before); box q ${JSON.stringify(state.box?.q)} qd ${JSON.stringify(state.box?.qd)}`,
    );
    expect(state.reason, 'no failure reported').toBe('');
    expect(['done', 'training'], 'the run is healthy').toContain(state.status);
    expect(state.valL1, `validation q̈ L1 within ${BUDGET_MS / 1000} s`).toBeLessThan(MAX_VAL_L1);
    expect(fps, 'the page kept drawing while the worker trained').toBeGreaterThan(
      Math.max(1, Math.min(MIN_FPS, MIN_FPS_SHARE * idleFps)),
    );
    expect(state.swaps, 'the learned lane was swapped at checkpoints').toBeGreaterThan(1);
    expect(state.lane?.status, 'the learned lane runs').toBe('running');
    expect(state.lane?.finite, 'its state is finite').toBe(true);
    // 120 frames more: the learned lane moves, and keeps to the exact lane it restarted from.
    const lanesAt = () =>
      pg.evaluate(() => {
        const all = window.__threeLnn.lanes();
        return {
          exact: all.find((l) => l.key === 'lagrangian')!.q[0],
          learned: window.__threeLnn.learn().lane!.q[0],
        };
      });
    const before = await lanesAt();
    await pg.evaluate(() => window.__threeLnn.frames(120));
    const later = await lanesAt();
    console.log(
      `[learn] over 120 frames: learned q ${before.learned.toFixed(4)} → ${later.learned.toFixed(4)}, exact ${before.exact.toFixed(4)} → ${later.exact.toFixed(4)}`,
    );
    expect(Math.abs(later.learned - before.learned), 'the learned lane moves').toBeGreaterThan(0.1);
    expect(
      Math.abs(later.learned - later.exact) - Math.abs(before.learned - before.exact),
      'and keeps to the exact lane (the gap grows by < 0.02 rad)',
    ).toBeLessThan(0.02);
    const legend = await pg.evaluate(() => window.__threeLnn.legend('learning'));
    expect(legend, 'the legend names the learned lane').toContain('learned (training)');
    const status = await pg.textContent('.learn-status');
    expect(status, 'the panel shows the progress').toMatch(/q̈ L1 \(validation\)/);

    // test-results/app-learn.png; docs/img/app-learn.png with UPDATE_SCREENSHOTS=1.
    const shots = process.env.UPDATE_SCREENSHOTS
      ? resolve(repoRoot, 'docs', 'img')
      : resolve(repoRoot, 'test-results');
    mkdirSync(shots, { recursive: true });
    await pg.locator('.learn-status').scrollIntoViewIfNeeded();
    await pg.screenshot({ path: resolve(shots, 'app-learn.png') });

    // The exported files, written to disk, load back with loadModel and give the page's q̈.
    await pg.evaluate(() => window.__threeLnn.learnControl('stop'));
    await pg.waitForFunction(() => window.__threeLnn.learn().settled, null, { timeout: 10_000 });
    const files = await pg.evaluate(() => window.__threeLnn.learnExport());
    expect(files, 'a checkpoint to export').not.toBeNull();
    writeFileSync(join(dir, 'model.json'), files!.modelJson);
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(files!.weightsBase64, 'base64'));
    const box = state.box!;
    const n = 16;
    const q: number[] = [];
    const qd: number[] = [];
    for (let i = 0; i < n; i++) {
      q.push(box.q[0][0] + ((i + 0.5) / n) * (box.q[0][1] - box.q[0][0]));
      qd.push(box.qd[0][1] - (((i * 7 + 0.5) % n) / n) * (box.qd[0][1] - box.qd[0][0]));
    }
    const pageQdd = await pg.evaluate(([a, b, k]) => window.__threeLnn.learnAccel(a, b, k), [
      q,
      qd,
      n,
    ] as const);
    expect(pageQdd, 'the page answers q̈').not.toBeNull();
    const model = await loadModel(dir);
    expect(model.metadata.system.id, 'the model names the typed system').toBe('typed-lagrangian');
    expect((model.metadata.system as { lagrangian?: string }).lagrangian, 'and its Lagrangian').toBe(L);
    await loadEngine('lnn');
    const system = typedSystem(L);
    const engine = await createEngine('lnn', system, { model, backend: 'wasm' });
    const nodeQdd = new Float64Array(n);
    engine.accelerations(Float64Array.from(q), Float64Array.from(qd), nodeQdd, n);
    engine.dispose();
    const exact = new Float64Array(n);
    system.accelerations(Float64Array.from(q), Float64Array.from(qd), exact, n);
    let worst = 0;
    let l1 = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs(nodeQdd[i] - pageQdd![i]) / (1 + Math.abs(pageQdd![i])));
      l1 += Math.abs(nodeQdd[i] - exact[i]) / n;
    }
    console.log(
      `[learn] exported model in Node: max |q̈_node − q̈_page| / (1 + |q̈|) = ${worst.toExponential(2)}; q̈ L1 vs exact at 16 states ${l1.toPrecision(3)}`,
    );
    expect(worst, 'the exported model gives the page’s q̈ (float32 tolerance)').toBeLessThan(1e-4);

    // The CLI reads the files back.
    const inspect = await runCli(['inspect', '--model', dir]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout, 'the CLI names the typed system').toContain('typed-lagrangian');
    // and runs it: the typed system is rebuilt from the model's recorded Lagrangian text.
    writeFileSync(join(dir, 'states.json'), JSON.stringify({ q: q.map((v) => [v]), qd: qd.map((v) => [v]) }));
    const accel = await runCli([
      'accel',
      '--system',
      'typed-lagrangian',
      '--engine',
      'lnn',
      '--model',
      dir,
      '--states',
      join(dir, 'states.json'),
    ]);
    expect(accel.code, accel.stderr).toBe(0);
    const cliQdd = (JSON.parse(accel.stdout).qdd as number[][]).flat();
    let cliWorst = 0;
    for (let i = 0; i < n; i++)
      cliWorst = Math.max(cliWorst, Math.abs(cliQdd[i] - pageQdd![i]) / (1 + Math.abs(pageQdd![i])));
    console.log(
      `[learn] exported typed model in the CLI: max |q̈_cli − q̈_page| / (1 + |q̈|) = ${cliWorst.toExponential(2)}`,
    );
    expect(cliWorst, 'three-lnn accel gives the page’s q̈ (float32 tolerance)').toBeLessThan(1e-4);

    // Discard frees the worker, the lane and its engine.
    await pg.evaluate(() => window.__threeLnn.learnControl('discard'));
    const after = await pg.evaluate(() => window.__threeLnn.learn());
    expect(after.lane, 'no learned lane after discard').toBeNull();
    expect(after.status).toBe('idle');
    expect(after.workerTensorsAtDispose, 'the worker disposed every tensor').toBe(0);
    const tensorsAfter = await pg.evaluate(() => window.__threeLnn.memory().numTensors);
    expect(tensorsAfter, 'the page holds no more tensors than before learning').toBe(tensorsBefore);
    expect(await pg.evaluate(() => window.__threeLnn.legend('learning')), 'lane gone from the legend').toBe(
      '',
    );
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('stops (no steps while stopped) and resumes to the same result as an uninterrupted run', async () => {
    const pg = p.page;
    // The page's clock stops, so the recording (part of the data) is the same for both runs.
    await pg.evaluate(() => window.__threeLnn.manual(true));
    const settings = { steps: 300, checkpointEvery: 50, cpuShare: 1 };
    const finished = () =>
      pg.waitForFunction(() => window.__threeLnn.learn().status === 'done', null, {
        timeout: 90_000,
        polling: 250,
      });
    await pg.evaluate((o) => window.__threeLnn.learnStart(o), settings);
    await finished();
    const uninterrupted = (await pg.evaluate(() => window.__threeLnn.learn())).valL1;
    await pg.evaluate((o) => window.__threeLnn.learnStart(o), settings);
    await pg.waitForFunction(() => window.__threeLnn.learn().step >= 100, null, {
      timeout: 60_000,
      polling: 50,
    });
    await pg.evaluate(() => window.__threeLnn.learnControl('stop'));
    await pg.waitForFunction(() => window.__threeLnn.learn().status === 'stopped', null, { timeout: 10_000 });
    const at = (await pg.evaluate(() => window.__threeLnn.learn())).step;
    await pg.waitForTimeout(1500);
    const still = await pg.evaluate(() => window.__threeLnn.learn());
    expect(still.step, 'no steps while stopped').toBe(at);
    expect(still.lane?.status, 'the learned lane stays, on its last checkpoint').toBe('running');
    await pg.evaluate(() => window.__threeLnn.learnControl('resume'));
    await finished();
    const resumed = (await pg.evaluate(() => window.__threeLnn.learn())).valL1;
    console.log(
      `[learn] stopped at step ${at}, resumed: validation q̈ L1 ${resumed} (uninterrupted ${uninterrupted})`,
    );
    expect(resumed, 'training is deterministic in its steps: the same result').toBe(uninterrupted);
    await pg.evaluate(() => window.__threeLnn.learnControl('discard'));
    await pg.evaluate(() => window.__threeLnn.manual(false));
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });
});

describe('learn this scene in headless Chromium: fine-tuning the shipped double-pendulum LNN', () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    // Arm 1 lengthened: the shipped model was trained on l1 = 1.
    p = await h.openPage('/?scene=double-pendulum&p.l1=1.3', { viewport: { width: 1100, height: 700 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    // Only the test advances the run, so the recording the data comes from is the same on every run.
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  it('starts from the shipped weights on the changed system and swaps the fine-tuned lane in', async () => {
    const pg = p.page;
    await pg.evaluate(() => window.__threeLnn.restart());
    await pg.evaluate(() => window.__threeLnn.frames(240));
    await pg.evaluate(() =>
      window.__threeLnn.learnStart({
        fineTune: true,
        steps: 60,
        checkpointEvery: 20,
        batch: 64,
        cpuShare: 1,
      }),
    );
    await pg.waitForFunction(
      () => {
        const s = window.__threeLnn.learn().status;
        return s !== 'training' && s !== 'starting';
      },
      null,
      { timeout: 120_000, polling: 500 },
    );
    const state = await pg.evaluate(() => window.__threeLnn.learn());
    console.log(
      `[learn] fine-tune: ${state.status} at step ${state.step}, network ${state.layers.join('→')}, validation q̈ L1 ${state.firstValL1.toPrecision(3)} (shipped weights) → ${state.valL1.toPrecision(3)}, swaps ${state.swaps}`,
    );
    expect(state.reason, 'no failure').toBe('');
    expect(state.status).toBe('done');
    expect(state.fineTune, 'started from the shipped model').toBe(true);
    const shipped = await pg.evaluate(
      () => window.__threeLnn.lanes().find((l) => l.key === 'lnn')?.params.l1,
    );
    expect(shipped, 'the scene runs the changed arm').toBeCloseTo(1.3, 12);
    const files = await pg.evaluate(() => window.__threeLnn.learnExport());
    const meta = JSON.parse(files!.modelJson).userDefinedMetadata.threeLnn;
    expect(meta.system.params.l1, 'the fine-tuned model records the new arm length').toBeCloseTo(1.3, 12);
    expect(meta.provenance.from, 'and the model it started from').toBeTruthy();
    expect(state.layers, 'the shipped architecture is kept').toEqual(meta.architecture.layers);
    expect(
      state.valL1,
      'the fine-tune lowers the shipped model’s q̈ error on the changed system (checkpoint 0: the shipped weights)',
    ).toBeLessThan(state.firstValL1);
    expect(state.lane?.finite, 'the fine-tuned lane runs').toBe(true);

    // The CLI runs the exported model on the changed system (its training parameters) with the page's q̈.
    const dir = mkdtempSync(join(tmpdir(), 'three-lnn-finetune-'));
    try {
      writeFileSync(join(dir, 'model.json'), files!.modelJson);
      writeFileSync(join(dir, 'weights.bin'), Buffer.from(files!.weightsBase64, 'base64'));
      const box = state.box!;
      const n = 8;
      const q: number[] = [];
      const qd: number[] = [];
      for (let k = 0; k < n; k++) {
        for (let i = 0; i < 2; i++) {
          const u = (((k * 3 + i * 5) % n) + 0.5) / n;
          q.push(box.q[i][0] + u * (box.q[i][1] - box.q[i][0]));
          qd.push(box.qd[i][1] - u * (box.qd[i][1] - box.qd[i][0]));
        }
      }
      const pageQdd = await pg.evaluate(([a, b, k]) => window.__threeLnn.learnAccel(a, b, k), [
        q,
        qd,
        n,
      ] as const);
      const rows = (v: number[]) => Array.from({ length: n }, (_, k) => v.slice(2 * k, 2 * k + 2));
      writeFileSync(join(dir, 'states.json'), JSON.stringify({ q: rows(q), qd: rows(qd) }));
      const cli = await runCli([
        'accel',
        '--system',
        'double-pendulum',
        '--engine',
        'lnn',
        '--model',
        dir,
        '--states',
        join(dir, 'states.json'),
      ]);
      expect(cli.code, cli.stderr).toBe(0);
      const cliQdd = (JSON.parse(cli.stdout).qdd as number[][]).flat();
      let worst = 0;
      for (let i = 0; i < 2 * n; i++)
        worst = Math.max(worst, Math.abs(cliQdd[i] - pageQdd![i]) / (1 + Math.abs(pageQdd![i])));
      console.log(
        `[learn] fine-tuned model in the CLI: max |q̈_cli − q̈_page| / (1 + |q̈|) = ${worst.toExponential(2)}`,
      );
      expect(worst, 'three-lnn accel gives the page’s q̈ (float32 tolerance)').toBeLessThan(1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await pg.evaluate(() => window.__threeLnn.learnControl('discard'));
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('reports a run that diverges and keeps the last good checkpoint', async () => {
    const pg = p.page;
    await pg.evaluate(() => window.__threeLnn.restart());
    await pg.evaluate(() => window.__threeLnn.frames(240));
    // Learning rate 1 on the shipped 128-wide model: every weight moves by about 1 per step.
    await pg.evaluate(() =>
      window.__threeLnn.learnStart({
        fineTune: true,
        steps: 200,
        checkpointEvery: 10,
        batch: 64,
        lr: 1,
        cpuShare: 1,
      }),
    );
    await pg.waitForFunction(
      () => {
        const s = window.__threeLnn.learn().status;
        return s !== 'training' && s !== 'starting';
      },
      null,
      { timeout: 120_000, polling: 500 },
    );
    await pg.waitForFunction(() => window.__threeLnn.learn().settled, null, { timeout: 10_000 });
    const state = await pg.evaluate(() => window.__threeLnn.learn());
    console.log(`[learn] lr 1: ${state.status} — ${state.reason}`);
    expect(state.status, 'the run is stopped as bad').toBe('failed');
    expect(state.reason, 'and says why').toMatch(/diverged|non-finite/);
    expect(state.reason, 'and what is kept').toMatch(/last good checkpoint \(step \d+\) is kept/);
    expect(state.step, 'it stopped before the end').toBeLessThan(200);
    const kept = await pg.evaluate(() =>
      window.__threeLnn.learnExport().then((f) => JSON.parse(f!.modelJson)),
    );
    expect(kept.userDefinedMetadata.threeLnn.provenance.steps, 'the export is the last good checkpoint').toBe(
      state.checkpointStep,
    );
    expect(state.lane?.status, 'the lane runs on the last good checkpoint').toBe('running');
    expect(state.lane?.finite).toBe(true);
    await pg.evaluate(() => window.__threeLnn.learnControl('discard'));
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });
});
