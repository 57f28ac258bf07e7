import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../plugins/cannon';
import '../../src/engines/learned';
import type { TestHook } from '../../app/testHook';
import { doublePendulumScene } from '../../scenes/doublePendulum';
import { relativisticParticleScene } from '../../scenes/relativisticParticle';
import { runScene } from '../../src/scene/runScene';
import type { SceneDefinition } from '../../src/scene/types';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';

declare const window: Window & { __threeLnn: TestHook };

/** Steps compared: 3 s at dt = 1/120. */
const STEPS = 360;

/** Final q and q̇ of each scene system after `steps`, from a headless run in Node. */
async function headless(def: SceneDefinition, keep: string[], steps: number) {
  const scene: SceneDefinition = {
    ...def,
    systems: def.systems.filter((s) => keep.includes(s.id)),
    recorders: keep.map((id) => ({ target: id, quantities: ['q', 'qd'] as const, every: steps })),
  };
  const run = await runScene(scene, { duration: steps * def.dt });
  return Object.fromEntries(
    keep.map((id) => {
      const r = run.recordings[id];
      return [id, { q: r.q!.at(-1)![0], qd: r.qd!.at(-1)![0] }];
    }),
  );
}

describe("a scene's numbers in the browser match the headless run (SceneRunner in Node)", () => {
  let h: BrowserHarness;
  let p: OpenedPage;

  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/', { viewport: { width: 800, height: 500 } });
    await p.page.waitForFunction(() => window.__threeLnn?.ready === true, null, { timeout: 90_000 });
    await p.page.evaluate(() => window.__threeLnn.manual(true));
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Open `id` fresh and take exactly `steps` steps in the page. */
  async function browserRun(id: string, steps: number) {
    await p.page.evaluate((sceneId) => window.__threeLnn.openScene(sceneId), id);
    await p.page.evaluate((n) => window.__threeLnn.step(n), steps);
    return p.page.evaluate(() => ({ lanes: window.__threeLnn.lanes(), time: window.__threeLnn.time() }));
  }

  it('double pendulum: exact and cannon-es engines agree to 1e-9 after 3 s', async () => {
    const b = await browserRun('double-pendulum', STEPS);
    expect(b.time.steps, 'steps taken in the page').toBe(STEPS);
    expect(b.time.t, 'simulated time').toBeCloseTo(STEPS / 120, 9);
    const n = await headless(doublePendulumScene(), ['analytic', 'cannon'], STEPS);
    for (const key of ['analytic', 'cannon']) {
      const lane = b.lanes.find((l) => l.key === key)!;
      expect(lane.status, `${key} runs in the page`).toBe('running');
      for (let i = 0; i < 2; i++) {
        expect(
          Math.abs(lane.q[i] - n[key].q[i]),
          `${key} q${i}: page ${lane.q[i]} vs Node ${n[key].q[i]}`,
        ).toBeLessThan(1e-9);
        expect(Math.abs(lane.qd[i] - n[key].qd[i]), `${key} q̇${i}`).toBeLessThan(1e-9);
      }
    }
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });

  it('relativistic particle: exact engines to 1e-12, the learned LNN to float32 tolerance', async () => {
    const b = await browserRun('relativistic-particle', STEPS);
    const keys = ['analytic', 'newtonian'];
    const lnn = b.lanes.find((l) => l.key === 'lnn');
    if (lnn?.status === 'running') keys.push('lnn');
    const n = await headless(relativisticParticleScene(), keys, STEPS);
    for (const key of keys) {
      const lane = b.lanes.find((l) => l.key === key)!;
      // Learned engines may compute in float32 on one side (webgl/wasm) and float64 JS on the other.
      const tol = key === 'lnn' ? 1e-4 : 1e-12;
      expect(
        Math.abs(lane.q[0] - n[key].q[0]),
        `${key} q: page ${lane.q[0]} vs Node ${n[key].q[0]}`,
      ).toBeLessThan(tol * Math.max(1, Math.abs(n[key].q[0])));
      expect(Math.abs(lane.qd[0] - n[key].qd[0]), `${key} q̇`).toBeLessThan(
        tol * Math.max(1, Math.abs(n[key].qd[0])),
      );
    }
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });
});
