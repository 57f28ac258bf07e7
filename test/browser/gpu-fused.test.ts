import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FusedCheck } from '../../bench/pages/check';
import { type BrowserHarness, type OpenedPage, startBrowserHarness } from '../support/browser';
import type { RapidityCheck } from './lnn-pages/rapidity';

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

  // Velocity inputs atanh(q̇) (input.velocityEmbedding 'rapidity', speed limit 1): H_vv = D·h·D +
  // diag(φ''·∂L/∂φ) with D = 1/(1 − q̇²) is applied in the Solve pass; the reference is float64
  // (lnn-pages/rapidity.ts). Speeds up to 0.99, where D ≈ 50.
  describe('rapidity velocity inputs', () => {
    let rp: OpenedPage;
    beforeAll(async () => {
      rp = await h.openPage('/test/browser/lnn-pages/rapidity.html');
      await rp.page.waitForFunction(
        () => window.__rapidity !== undefined || window.__rapidityError !== undefined,
        null,
        { timeout: 90_000 },
      );
      const err = await rp.page.evaluate(() => window.__rapidityError);
      expect(err, `page failed to initialise: ${err}`).toBeUndefined();
    });

    const rapidityCases: [string, Record<string, unknown>, boolean, number][] = [
      [
        'n = 1, not an angle (relativistic-particle shape 2→32→32→1), convex',
        { dof: 1, angles: [false], hidden: [32, 32], seed: 41, biasStd: 0.3, qdScale: 1 },
        true,
        15,
      ],
      [
        'n = 1, not an angle, random weights',
        { dof: 1, angles: [false], hidden: [32, 32], seed: 42, biasStd: 0.3, qdScale: 1 },
        false,
        15,
      ],
      [
        'n = 2, sincos angles (6→32→32→1), convex',
        { dof: 2, hidden: [32, 32], seed: 43, biasStd: 0.3, qdScale: 1, angleEmbedding: 'sincos' },
        true,
        15,
      ],
      [
        'n = 2, sincos angles, scales, random weights (indefinite H_vv)',
        {
          dof: 2,
          hidden: [32, 32],
          seed: 44,
          biasStd: 0.3,
          qScale: 0.7,
          qdScale: 0.5,
          outputScale: 3,
          angleEmbedding: 'sincos',
        },
        false,
        15,
      ],
      [
        'n = 2, wrap angles, tanh, random weights',
        { dof: 2, hidden: [24, 16], activation: 'tanh', seed: 45, biasStd: 0.3, qdScale: 1 },
        false,
        15,
      ],
    ];
    for (const [label, opts, convex, batch] of rapidityCases) {
      it(`q̈ equals the float64 reference up to |q̇| = 0.99, |q̇| ≥ 1 fails cleanly, RK4 follows, no leaks: ${label}`, async () => {
        const speed = 0.99;
        const r = (await rp.page.evaluate(
          ([o, c, b, v]) =>
            window.__rapidity!.check(o as never, c as boolean, b as number, v as number, 6, 20),
          [opts, convex, batch, speed] as const,
        )) as RapidityCheck;
        expect(r.backend, 'ran on webgl').toBe('webgl');
        expect(r.maxSpeed, 'states at |q̇| = 0.99 are checked').toBeCloseTo(speed, 12);
        expect(r.finite, 'every q̈ finite, in and out of the domain').toBe(true);
        expect(r.compared, 'states with the same solve flag as the reference').toBeGreaterThanOrEqual(
          Math.ceil(0.9 * r.inDomain),
        );
        expect(
          r.maxRelErr,
          `q̈ relative error / cond(H_vv), definite (worst ${JSON.stringify(r.worst)})`,
        ).toBeLessThan(1e-4);
        expect(r.maxRelErrRegularised, 'q̈ relative error / cond(H_vv), regularised').toBeLessThan(1e-4);
        expect(r.outside.flags, `states at q̇ = ${r.outside.qd.join(', ')}: flag failed`).toEqual(
          r.outside.flags.map(() => 2),
        );
        expect(r.outside.qdd, 'and q̈ = 0').toEqual(r.outside.qdd.map(() => 0));
        if (convex) {
          expect(r.rk4RefFlags, 'the reference RK4 run stays definite').toEqual(r.rk4RefFlags.map(() => 0));
          expect(r.rk4Flags, 'so does the GPU run').toEqual(r.rk4Flags.map(() => 0));
        }
        expect(r.rk4Compared, 'RK4 states with the same worst flag').toBeGreaterThanOrEqual(6);
        expect(r.rk4MaxSpeed, 'RK4 keeps |q̇| < 1').toBeLessThan(1);
        expect(r.rk4RelErr, 'RK4 state after 6 GPU-resident steps vs float64 RK4').toBeLessThan(1e-5);
        expect(r.numTensorsAfter, 'no tensor growth over many fused RK4 steps').toBe(r.numTensorsBefore);
        expect(r.numBytesAfter, 'no byte growth over many fused RK4 steps').toBe(r.numBytesBefore);
      });
    }

    it('reports no console or page errors on the rapidity page', () => {
      expect(rp.errors, rp.errors.join('\n')).toEqual([]);
    });
  });
});
