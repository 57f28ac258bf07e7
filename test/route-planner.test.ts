/**
 * The route planner on its own: pure functions of the engine's backend, routes, kind, machine
 * capability and (optionally) measured costs. No TF.js, no timing.
 */
import { describe, expect, it } from 'vitest';
import { halfPrecisionReasons } from '../src/learned/capabilities';
import { compareToReference, precisionStates } from '../src/learned/precision';
import type { RouteName } from '../src/learned/Route';
import {
  autoRoutes,
  FIXED_JS_BELOW,
  FIXED_WEBGL_FUSED_BELOW,
  type PlanInput,
  planRoutes,
  planSummary,
  type RouteCost,
  WEBGL_ROUTES,
} from '../src/learned/RoutePlanner';
import { createRandomModel } from '../src/model/randomModel';

const ranges = (input: PlanInput) =>
  planRoutes(input)
    .ranges.map(([r, upTo]) => `${r}≤${upTo}`)
    .join(' ');

describe('RoutePlanner: the fixed plan of auto', () => {
  it('Node (wasm backend): wasm from the first state, for every kind', () => {
    const base = { backend: 'wasm', available: ['js', 'wasm'] } as const;
    for (const kind of ['lnn', 'baseline', 'lgn'] as const)
      expect(ranges({ ...base, kind }), kind).toBe('wasm≤Infinity');
    const plan = planRoutes({ ...base, kind: 'lnn' });
    expect([1, 2, 3, 1e6].map((b) => plan.routeFor(b))).toEqual(['wasm', 'wasm', 'wasm', 'wasm']);
    expect(plan.mode, 'mode').toBe('fixed');
    expect(plan.jsBelow, 'jsBelow').toBe(0);
  });

  it('webgl: js for the smallest lnn batches, then wasm next to it when available, on any renderer; without wasm the renderer decides', () => {
    const all: RouteName[] = ['js', 'webgl', 'webgl-fused', 'wasm'];
    for (const softwareGl of [true, false]) {
      expect(
        ranges({ backend: 'webgl', available: all, kind: 'lnn', softwareGl }),
        `software ${softwareGl}`,
      ).toBe(`js≤${FIXED_JS_BELOW} wasm≤Infinity`);
      expect(
        ranges({ backend: 'webgl', available: all, kind: 'baseline', softwareGl }),
        `baseline, software ${softwareGl}`,
      ).toBe('wasm≤Infinity');
    }
    const noWasm: RouteName[] = ['js', 'webgl', 'webgl-fused'];
    expect(
      ranges({ backend: 'webgl', available: noWasm, kind: 'lnn', softwareGl: true }),
      'SwiftShader',
    ).toBe('js≤Infinity');
    expect(
      ranges({ backend: 'webgl', available: noWasm, kind: 'lnn', softwareGl: false }),
      'hardware GL',
    ).toBe(`js≤${FIXED_JS_BELOW} webgl-fused≤${FIXED_WEBGL_FUSED_BELOW} webgl≤Infinity`);
    expect(ranges({ backend: 'webgl', available: ['js', 'webgl'], kind: 'baseline', softwareGl: true })).toBe(
      'webgl≤Infinity',
    );
  });

  it('cpu: wasm next to it when available, else the backend; the js backend takes js everywhere', () => {
    expect(ranges({ backend: 'cpu', available: ['js', 'cpu', 'wasm'], kind: 'lnn' })).toBe(
      'js≤2 wasm≤Infinity',
    );
    expect(ranges({ backend: 'cpu', available: ['js', 'cpu', 'wasm'], kind: 'lgn' })).toBe('wasm≤Infinity');
    expect(ranges({ backend: 'cpu', available: ['js', 'cpu'], kind: 'lnn' })).toBe('js≤2 cpu≤Infinity');
    expect(ranges({ backend: 'cpu', available: ['js', 'cpu'], kind: 'lgn' })).toBe('cpu≤Infinity');
    expect(ranges({ backend: 'js', available: ['js'], kind: 'lgn' })).toBe('js≤Infinity');
  });

  it('a threshold set by hand replaces only that threshold: the route after js (wasm or the backend) and the webgl-fused range stay', () => {
    const withWasm: PlanInput = {
      backend: 'webgl',
      available: ['js', 'webgl', 'webgl-fused', 'wasm'],
      kind: 'lnn',
    };
    expect(ranges({ ...withWasm, jsBelow: 0 }), 'jsBelow 0: no js range').toBe('wasm≤Infinity');
    expect(ranges({ ...withWasm, jsBelow: 5 })).toBe('js≤5 wasm≤Infinity');
    expect(ranges({ ...withWasm, jsBelow: 3, webglFusedBelow: 10 })).toBe(
      'js≤3 webgl-fused≤10 wasm≤Infinity',
    );
    expect(ranges({ ...withWasm, jsBelow: 1e12 }), 'a huge threshold is cheap to plan').toBe(
      'js≤1000000000000 wasm≤Infinity',
    );
    expect(planRoutes({ ...withWasm, jsBelow: 4 }).mode).toBe('thresholds');
    const cpu: PlanInput = { backend: 'cpu', available: ['js', 'cpu', 'wasm'], kind: 'lnn' };
    expect(ranges({ ...cpu, jsBelow: 2 }), 'cpu with wasm').toBe('js≤2 wasm≤Infinity');
    expect(ranges({ ...cpu, jsBelow: 0 }), 'cpu with wasm, jsBelow 0').toBe('wasm≤Infinity');
    expect(ranges({ ...cpu, webglFusedBelow: 9 }), 'no webgl-fused route: nothing to set').toBe(
      'js≤2 wasm≤Infinity',
    );
    expect(ranges({ backend: 'cpu', available: ['js', 'cpu'], kind: 'lnn', jsBelow: 6 })).toBe(
      'js≤6 cpu≤Infinity',
    );
    expect(ranges({ backend: 'wasm', available: ['js', 'wasm'], kind: 'lnn', jsBelow: 2 })).toBe(
      'js≤2 wasm≤Infinity',
    );
    const hardware: PlanInput = {
      backend: 'webgl',
      available: ['js', 'webgl', 'webgl-fused'],
      kind: 'lnn',
      softwareGl: false,
    };
    expect(ranges({ ...hardware, jsBelow: 5 }), 'the fixed webgl-fused range stays').toBe(
      `js≤5 webgl-fused≤${FIXED_WEBGL_FUSED_BELOW} webgl≤Infinity`,
    );
    expect(ranges({ ...hardware, jsBelow: 0 })).toBe(`webgl-fused≤${FIXED_WEBGL_FUSED_BELOW} webgl≤Infinity`);
    expect(ranges({ ...hardware, jsBelow: 20 }), 'js above the fused range covers it').toBe(
      'js≤20 webgl≤Infinity',
    );
    expect(ranges({ ...hardware, webglFusedBelow: 30 }), 'only the fused range moves').toBe(
      `js≤${FIXED_JS_BELOW} webgl-fused≤30 webgl≤Infinity`,
    );
    expect(ranges({ ...hardware, webglFusedBelow: 0 })).toBe(`js≤${FIXED_JS_BELOW} webgl≤Infinity`);
    expect(ranges({ ...hardware, softwareGl: true, jsBelow: 4 }), 'SwiftShader: the backend after js').toBe(
      'js≤4 webgl≤Infinity',
    );
  });

  it('setting a threshold to the value the plan reports gives the same plan, for every fixed plan', () => {
    const cases: PlanInput[] = [];
    const sets: Record<string, RouteName[]> = {
      wasm: ['js', 'wasm'],
      cpu: ['js', 'cpu'],
      'cpu+wasm': ['js', 'cpu', 'wasm'],
      webgl: ['js', 'webgl', 'webgl-fused'],
      'webgl+wasm': ['js', 'webgl', 'webgl-fused', 'wasm'],
    };
    for (const [name, available] of Object.entries(sets))
      for (const kind of ['lnn', 'baseline', 'lgn'] as const)
        for (const softwareGl of [false, true])
          cases.push({ backend: name.split('+')[0] as PlanInput['backend'], available, kind, softwareGl });
    for (const input of cases) {
      const label = `${input.backend} [${input.available.join(',')}] ${input.kind} software ${input.softwareGl}`;
      const plan = planRoutes(input);
      const { jsBelow, webglFusedBelow } = plan;
      expect(planRoutes({ ...input, jsBelow }).ranges, `${label}: jsBelow = ${jsBelow}`).toEqual(plan.ranges);
      expect(planRoutes({ ...input, webglFusedBelow }).ranges, `${label}: webglFusedBelow`).toEqual(
        plan.ranges,
      );
      expect(planRoutes({ ...input, jsBelow, webglFusedBelow }).ranges, `${label}: both`).toEqual(
        plan.ranges,
      );
    }
  });

  it('is deterministic: the same input gives the same plan, and routeFor never changes', () => {
    const input: PlanInput = { backend: 'webgl', available: ['js', 'webgl', 'webgl-fused'], kind: 'lnn' };
    const a = planRoutes(input);
    const b = planRoutes({ ...input });
    expect(b.ranges).toEqual(a.ranges);
    const batches = Array.from({ length: 300 }, (_, i) => i + 1);
    const first = batches.map((x) => a.routeFor(x));
    for (let r = 0; r < 3; r++) expect(batches.map((x) => a.routeFor(x))).toEqual(first);
  });
});

describe('RoutePlanner: calibrated plans from fake costs', () => {
  const costs = (c: Partial<Record<RouteName, [number, number]>>): Partial<Record<RouteName, RouteCost>> =>
    Object.fromEntries(Object.entries(c).map(([r, [fixed, perState]]) => [r, { fixed, perState }]));

  it('splits at the crossover of the cost lines: js while it is the cheapest, then the cheapest of the rest', () => {
    // js: 0.1 + 0.2·B; wasm: 1 + 0.01·B → js cheapest up to B = 4 (0.9 ≤ 1.04), wasm from 5.
    const plan = planRoutes({
      backend: 'wasm',
      available: ['js', 'wasm'],
      kind: 'lnn',
      costs: costs({ js: [0.1, 0.2], wasm: [1, 0.01] }),
    });
    expect(plan.mode).toBe('calibrated');
    expect(plan.jsBelow).toBe(4);
    expect(plan.ranges).toEqual([
      ['js', 4],
      ['wasm', Number.POSITIVE_INFINITY],
    ]);
  });

  it('caps the js range and finds the backend/wasm crossover beyond the cap', () => {
    // js always cheapest (capped at 16); beyond, cpu (fixed 0) until wasm's smaller slope wins at 1001.
    const plan = planRoutes({
      backend: 'cpu',
      available: ['js', 'cpu', 'wasm'],
      kind: 'lnn',
      cap: 16,
      costs: costs({ js: [0, 0.001], cpu: [0, 0.02], wasm: [10, 0.01] }),
    });
    expect(plan.jsBelow).toBe(16);
    expect(plan.ranges).toEqual([
      ['js', 16],
      ['cpu', 1000],
      ['wasm', Number.POSITIVE_INFINITY],
    ]);
    expect([16, 17, 1000, 1001].map((b) => plan.routeFor(b))).toEqual(['js', 'cpu', 'cpu', 'wasm']);
  });

  it('gives webgl-fused the interval where it beats every other non-js route', () => {
    const plan = planRoutes({
      backend: 'webgl',
      available: ['js', 'webgl', 'webgl-fused'],
      kind: 'lnn',
      costs: costs({ js: [0, 1], 'webgl-fused': [1, 0.5], webgl: [6, 0.1] }),
    });
    // js ≤ 2 (2 ≤ 2), fused < webgl while 1 + 0.5B < 6 + 0.1B → B < 12.5.
    expect(plan.ranges).toEqual([
      ['js', 2],
      ['webgl-fused', 12],
      ['webgl', Number.POSITIVE_INFINITY],
    ]);
    expect(plan.webglFusedBelow).toBe(12);
  });

  it('explicit thresholds override the measured ranges', () => {
    const plan = planRoutes({
      backend: 'wasm',
      available: ['js', 'wasm'],
      kind: 'lnn',
      jsBelow: 0,
      costs: costs({ js: [0.1, 0.2], wasm: [1, 0.01] }),
    });
    expect(plan.ranges).toEqual([['wasm', Number.POSITIVE_INFINITY]]);
  });

  it('a threshold set by hand replaces only that one: the measured routes after it stay, and the same value gives the same plan', () => {
    const input: PlanInput = {
      backend: 'cpu',
      available: ['js', 'cpu', 'wasm'],
      kind: 'lnn',
      cap: 16,
      costs: costs({ js: [0, 0.001], cpu: [0, 0.02], wasm: [10, 0.01] }),
    };
    const measured = planRoutes(input);
    expect(planRoutes({ ...input, jsBelow: measured.jsBelow }).ranges, 'same value').toEqual(measured.ranges);
    expect(planRoutes({ ...input, jsBelow: 4 }).ranges, 'the measured cpu / wasm split stays').toEqual([
      ['js', 4],
      ['cpu', 1000],
      ['wasm', Number.POSITIVE_INFINITY],
    ]);
    expect(planRoutes({ ...input, jsBelow: 4 }).mode, 'still calibrated').toBe('calibrated');
    expect(planRoutes({ ...input, jsBelow: 2000 }).ranges, 'js beyond the cap').toEqual([
      ['js', 2000],
      ['wasm', Number.POSITIVE_INFINITY],
    ]);
    expect(planRoutes({ ...input, jsBelow: Number.POSITIVE_INFINITY }).ranges, 'js everywhere').toEqual([
      ['js', Number.POSITIVE_INFINITY],
    ]);
    const gl: PlanInput = {
      backend: 'webgl',
      available: ['js', 'webgl', 'webgl-fused'],
      kind: 'lnn',
      costs: costs({ js: [0, 1], 'webgl-fused': [1, 0.5], webgl: [6, 0.1] }),
    };
    const glPlan = planRoutes(gl);
    expect(
      planRoutes({ ...gl, jsBelow: glPlan.jsBelow, webglFusedBelow: glPlan.webglFusedBelow }).ranges,
      'same values',
    ).toEqual(glPlan.ranges);
    expect(planRoutes({ ...gl, jsBelow: 5 }).ranges, 'the measured fused range stays').toEqual([
      ['js', 5],
      ['webgl-fused', 12],
      ['webgl', Number.POSITIVE_INFINITY],
    ]);
    expect(planRoutes({ ...gl, webglFusedBelow: 40 }).ranges, 'fused set by hand, js measured').toEqual([
      ['js', 2],
      ['webgl-fused', 40],
      ['webgl', Number.POSITIVE_INFINITY],
    ]);
    expect(planRoutes({ ...gl, webglFusedBelow: 0 }).ranges, 'no fused range').toEqual([
      ['js', 2],
      ['webgl', Number.POSITIVE_INFINITY],
    ]);
  });

  it('summary: the setting, the ranges and the rates', () => {
    const plan = planRoutes({ backend: 'webgl', available: ['js', 'webgl', 'wasm'], kind: 'lnn' });
    expect(planSummary(plan, 'auto', 'webgl', [])).toBe('auto: js ≤ 2 states, then wasm');
    const cpu = planRoutes({ backend: 'cpu', available: ['js', 'cpu'], kind: 'lnn' });
    expect(planSummary(cpu, 'auto', null, [])).toBe('auto: js ≤ 2 states, then cpu');
    expect(planSummary(plan, 'webgl', 'webgl', [])).toBe('webgl (forced)');
    const resident = planRoutes({ backend: 'webgl', available: ['js', 'webgl'], kind: 'baseline' });
    expect(planSummary(resident, 'auto', 'webgl', [])).toBe('auto: webgl (resident)');
    const calibrated = planRoutes({
      backend: 'wasm',
      available: ['js', 'wasm'],
      kind: 'lnn',
      costs: costs({ js: [0.1, 0.2], wasm: [1, 0.01] }),
    });
    const timings = [
      { route: 'js', batch: 1, ms: 0.3, stateStepsPerSecond: 6667 },
      { route: 'wasm', batch: 1, ms: 1.01, stateStepsPerSecond: 1980 },
    ] as const;
    expect(planSummary(calibrated, 'auto', null, [...timings])).toBe(
      'auto (calibrated): js ≤ 4 states, then wasm · state-steps/s at 1 states: js 6,667; wasm 1,980',
    );
  });
});

describe('RoutePlanner: a half-precision WebGL context (halfPrecisionGl)', () => {
  const costs = (c: Partial<Record<RouteName, [number, number]>>): Partial<Record<RouteName, RouteCost>> =>
    Object.fromEntries(Object.entries(c).map(([r, [fixed, perState]]) => [r, { fixed, perState }]));
  const batches = [1, 2, 3, 8, 11, 12, 64, 1024, 16384, 1e7];
  const sets: Record<string, RouteName[]> = {
    'webgl+wasm': ['js', 'webgl', 'webgl-fused', 'wasm'],
    webgl: ['js', 'webgl', 'webgl-fused'],
    'webgl (no fused)+wasm': ['js', 'webgl', 'wasm'],
    'webgl (no fused)': ['js', 'webgl'],
  };
  /** Every fixed, by-hand and calibrated input on webgl, for every kind and renderer. */
  const inputs: [string, PlanInput][] = [];
  for (const [name, available] of Object.entries(sets))
    for (const kind of ['lnn', 'baseline', 'lgn'] as const)
      for (const softwareGl of [false, true]) {
        const base: PlanInput = { backend: 'webgl', available, kind, softwareGl, halfPrecisionGl: true };
        const label = `${name} ${kind} software ${softwareGl}`;
        inputs.push([label, base]);
        inputs.push([`${label} jsBelow 0`, { ...base, jsBelow: 0 }]);
        inputs.push([`${label} jsBelow 5`, { ...base, jsBelow: 5 }]);
        inputs.push([`${label} webglFusedBelow 40`, { ...base, webglFusedBelow: 40 }]);
        inputs.push([
          `${label} calibrated, webgl cheapest`,
          {
            ...base,
            costs: costs({ js: [0, 1], 'webgl-fused': [0.1, 0.01], webgl: [0.2, 0.001], wasm: [5, 0.5] }),
          },
        ]);
      }

  it('auto never takes webgl or webgl-fused: every backend/kind case, fixed, by hand and calibrated', () => {
    for (const [label, input] of inputs) {
      const plan = planRoutes(input);
      for (const [route] of plan.ranges)
        expect(WEBGL_ROUTES, `${label}: range ${route}`).not.toContain(route);
      for (const b of batches) {
        const route = plan.routeFor(b);
        expect(WEBGL_ROUTES, `${label}: batch ${b}`).not.toContain(route);
        expect(input.available, `${label}: batch ${b} takes an available route`).toContain(route);
      }
    }
  });

  it('the fixed plan: js for the smallest lnn batches, then wasm; without wasm js (float64) at every batch', () => {
    const all: RouteName[] = ['js', 'webgl', 'webgl-fused', 'wasm'];
    const noWasm: RouteName[] = ['js', 'webgl', 'webgl-fused'];
    for (const softwareGl of [false, true]) {
      const half = { backend: 'webgl', halfPrecisionGl: true, softwareGl } as const;
      expect(ranges({ ...half, available: all, kind: 'lnn' }), `lnn + wasm, software ${softwareGl}`).toBe(
        `js≤${FIXED_JS_BELOW} wasm≤Infinity`,
      );
      for (const kind of ['baseline', 'lgn'] as const)
        expect(ranges({ ...half, available: all, kind }), `${kind} + wasm`).toBe('wasm≤Infinity');
      for (const kind of ['lnn', 'baseline', 'lgn'] as const)
        expect(ranges({ ...half, available: noWasm, kind }), `${kind} without wasm`).toBe('js≤Infinity');
      expect(
        ranges({ ...half, available: noWasm, kind: 'lnn', jsBelow: 5, webglFusedBelow: 40 }),
        'thresholds by hand cannot bring a webgl route back',
      ).toBe('js≤Infinity');
      expect(
        ranges({ ...half, available: all, kind: 'lnn', jsBelow: 0, webglFusedBelow: 40 }),
        'no fused range, wasm after js',
      ).toBe('wasm≤Infinity');
    }
    // The same cases on a float32 context keep their webgl routes.
    expect(
      ranges({ backend: 'webgl', available: noWasm, kind: 'lnn', softwareGl: false, halfPrecisionGl: false }),
    ).toBe(`js≤${FIXED_JS_BELOW} webgl-fused≤${FIXED_WEBGL_FUSED_BELOW} webgl≤Infinity`);
    expect(ranges({ backend: 'webgl', available: ['js', 'webgl'], kind: 'baseline' })).toBe('webgl≤Infinity');
  });

  it('a calibrated plan leaves the webgl routes out even where they are cheapest', () => {
    const c = costs({ js: [0.1, 0.2], 'webgl-fused': [0.1, 0.01], webgl: [0.2, 0.001], wasm: [1, 0.01] });
    const base = { backend: 'webgl', kind: 'lnn', costs: c } as const;
    expect(ranges({ ...base, available: ['js', 'webgl', 'webgl-fused', 'wasm'] }), 'float32').toBe(
      'webgl-fused≤11 webgl≤Infinity',
    );
    expect(
      ranges({ ...base, available: ['js', 'webgl', 'webgl-fused', 'wasm'], halfPrecisionGl: true }),
      'float16, with wasm',
    ).toBe('js≤4 wasm≤Infinity');
    expect(
      ranges({ ...base, available: ['js', 'webgl', 'webgl-fused'], halfPrecisionGl: true }),
      'float16, without wasm',
    ).toBe('js≤Infinity');
  });

  it('other backends ignore the flag; autoRoutes drops only the webgl routes', () => {
    for (const [backend, available] of [
      ['wasm', ['js', 'wasm']],
      ['cpu', ['js', 'cpu', 'wasm']],
      ['cpu', ['js', 'cpu']],
    ] as const) {
      const input: PlanInput = { backend, available, kind: 'lnn' };
      expect(ranges({ ...input, halfPrecisionGl: true }), `${backend} [${available}]`).toBe(ranges(input));
    }
    expect(ranges({ backend: 'js', available: ['js'], kind: 'lnn', halfPrecisionGl: true })).toBe(
      'js≤Infinity',
    );
    expect(autoRoutes({ available: ['js', 'webgl', 'webgl-fused', 'wasm'], halfPrecisionGl: true })).toEqual([
      'js',
      'wasm',
    ]);
    expect(autoRoutes({ available: ['js', 'webgl', 'webgl-fused', 'wasm'] })).toEqual([
      'js',
      'webgl',
      'webgl-fused',
      'wasm',
    ]);
  });

  it('setting a threshold to the value the plan reports gives the same plan on a half-precision context', () => {
    for (const [label, input] of inputs) {
      if (input.jsBelow !== undefined || input.webglFusedBelow !== undefined || input.costs) continue;
      const plan = planRoutes(input);
      const { jsBelow, webglFusedBelow } = plan;
      expect(planRoutes({ ...input, jsBelow, webglFusedBelow }).ranges, label).toEqual(plan.ranges);
    }
  });
});

describe('half precision: the capability rule and the measured error', () => {
  const f32 = { renderFloat32Capable: true, renderFloat32Enabled: true, forceF16Textures: false };
  const highp = (precision: number) => ({ rangeMin: 127, rangeMax: 127, precision });

  it('float16 textures (forced or no float32 render targets) or a fragment highp below 23 bits', () => {
    expect(halfPrecisionReasons(f32, highp(23))).toEqual([]);
    expect(halfPrecisionReasons(f32, null), 'unknown highp: float32').toEqual([]);
    expect(
      halfPrecisionReasons({ ...f32, forceF16Textures: true, renderFloat32Enabled: false }, highp(23)),
    ).toEqual(['float16 textures forced (WEBGL_FORCE_F16_TEXTURES)']);
    expect(
      halfPrecisionReasons({ ...f32, renderFloat32Capable: false, renderFloat32Enabled: false }, highp(23)),
    ).toEqual(['no float32 render targets (WEBGL_RENDER_FLOAT32_CAPABLE false): float16 textures']);
    expect(halfPrecisionReasons(f32, highp(10))).toEqual([
      'fragment highp float has 10 mantissa bits (float32: 23)',
    ]);
    expect(halfPrecisionReasons(f32, highp(0))).toEqual([
      'no highp float in fragment shaders (mediump only)',
    ]);
  });

  it('the measured states are fixed (seeded, inside the training box) and the error is per state, relative', () => {
    const model = createRandomModel({ kind: 'lnn', dof: 2, hidden: [8], seed: 3 });
    const a = precisionStates(model, 2, 16);
    const b = precisionStates(model, 2, 16);
    expect(Array.from(a.q)).toEqual(Array.from(b.q));
    expect(Array.from(a.qd)).toEqual(Array.from(b.qd));
    const box = model.metadata.trainingRanges;
    if (box) {
      for (let i = 0; i < a.q.length; i++) {
        const [lo, hi] = box.q[i % 2];
        expect(a.q[i]).toBeGreaterThanOrEqual(lo);
        expect(a.q[i]).toBeLessThan(hi);
      }
    }
    const ref = [10, -20, 0.1, 0.2, 3, 4];
    const qdd = [10.1, -20, 0.1, 0.2, 3, 4];
    const e = compareToReference('webgl', 'float16', qdd, [0, 0, 2], ref, [0, 0, 0], 2);
    expect(e.states).toBe(3);
    expect(e.max).toBeCloseTo(0.1 / 20, 12);
    expect(e.mean).toBeCloseTo(0.1 / 20 / 3, 12);
    expect(e.failed).toBe(1);
    expect(
      compareToReference('webgl', 'float16', qdd, [0, 0, 0], ref, [0, 2, 0], 2).states,
      'reference failed',
    ).toBe(2);
  });
});
