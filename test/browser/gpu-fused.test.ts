import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FusedCheck } from '../../bench/pages/check';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';

describe('fused WebGL LNN in headless Chromium', () => {
  let h: BrowserHarness;
  let p: OpenedPage;
  beforeAll(async () => {
    h = await startBrowserHarness();
    p = await h.openPage('/bench/pages/lnn.html');
    await p.page.waitForFunction(() => window.__lnn !== undefined || window.__lnnError !== undefined, null, {
      timeout: 90_000,
    });
    const err = await p.page.evaluate(() => window.__lnnError);
    expect(err, `page failed to initialise: ${err}`).toBeUndefined();
  });
  afterAll(async () => {
    await h?.close();
  });

  // convex: an input-convex network (H_vv positive definite, smooth trajectories for the RK4 check);
  // otherwise a plain random network, whose indefinite H_vv exercises the regularised solve.
  const cases: [string, Record<string, unknown>, number, boolean][] = [
    [
      '4→128→128→1 softplus (the double-pendulum shape), convex',
      { dof: 2, hidden: [128, 128], seed: 3 },
      37,
      true,
    ],
    [
      '4→128→128→1 softplus, indefinite H_vv (regularised solves)',
      { dof: 2, hidden: [128, 128], seed: 4 },
      37,
      false,
    ],
    [
      'n = 3, three hidden layers, biases and scales, convex',
      { dof: 3, hidden: [24, 40, 16], seed: 5, biasStd: 0.3, qScale: 0.7, qdScale: 0.2, outputScale: 4 },
      9,
      true,
    ],
    ['n = 3, tanh', { dof: 3, hidden: [24, 16], activation: 'tanh', seed: 6, biasStd: 0.3 }, 9, false],
    ['n = 1, one hidden layer, convex', { dof: 1, hidden: [32], seed: 7, biasStd: 0.5 }, 5, true],
    // Angles as (cos θ, sin θ) inputs: 6→32→32→1, the slopes −sin θ, cos θ enter T0_u and ∂L/∂q.
    [
      'sincos angles, 6→32→32→1, convex',
      { dof: 2, hidden: [32, 32], seed: 8, biasStd: 0.3, angleEmbedding: 'sincos' },
      17,
      true,
    ],
    [
      'sincos angles, 6→32→32→1, indefinite H_vv',
      { dof: 2, hidden: [32, 32], seed: 9, biasStd: 0.3, angleEmbedding: 'sincos' },
      17,
      false,
    ],
    [
      'sincos, n = 3 with angles [true, false, true] (inputs cos, sin, q, cos, sin), scales, convex',
      {
        dof: 3,
        angles: [true, false, true],
        hidden: [32, 32],
        seed: 10,
        biasStd: 0.3,
        qScale: 0.7,
        qdScale: 0.2,
        outputScale: 4,
        angleEmbedding: 'sincos',
      },
      9,
      true,
    ],
  ];
  for (const [label, opts, batch, convex] of cases) {
    it(`equals the float64 reference within float32 tolerance and leaks no tensors: ${label}`, async () => {
      const r = (await p.page.evaluate(
        async ([o, b, c, leak]) => {
          await window.__lnn!.use('webgl');
          return window.__lnn!.checkFused(o as never, b as number, 6, leak as number, c as boolean);
        },
        [opts, batch, convex, label === cases[0][0] ? 200 : 20] as const,
      )) as FusedCheck;
      expect(r.backend, 'ran on webgl').toBe('webgl');
      expect(r.finite, 'every q̈ finite').toBe(true);
      expect(r.compared, 'states with the same solve flag as the reference').toBeGreaterThanOrEqual(
        Math.ceil(batch * 0.9),
      );
      // Relative errors divided by cond(H_vv): float32 rounding amplified by the conditioning of the solve.
      expect(r.maxRelErr, 'q̈ relative error / cond(H_vv) vs float64 reference (definite H_vv)').toBeLessThan(
        1e-4,
      );
      expect(
        r.maxRelErrRegularised,
        'q̈ relative error / cond(H_vv) vs float64 reference (regularised H_vv)',
      ).toBeLessThan(1e-4);
      if (convex) {
        expect(r.rk4Flags, "no state regularised along the convex model's RK4 run").toEqual(
          r.rk4Flags.map(() => 0),
        );
        expect(r.rk4RelErr, 'RK4 state after 6 GPU-resident steps vs float64 RK4').toBeLessThan(1e-5);
      } else {
        expect(r.regularised, 'the regularised solve was exercised').toBeGreaterThan(0);
      }
      expect(r.numTensorsAfter, 'no tensor growth over many fused RK4 steps').toBe(r.numTensorsBefore);
      expect(r.numBytesAfter, 'no byte growth over many fused RK4 steps').toBe(r.numBytesBefore);
    });
  }

  it('reports no console or page errors', () => {
    expect(p.errors, p.errors.join('\n')).toEqual([]);
  });
});
