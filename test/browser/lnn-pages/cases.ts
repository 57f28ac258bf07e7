/**
 * Deterministic models and states shared by the webgl page and the Node side of
 * test/browser/lnn-webgl.test.ts, so both compute exactly the same problem.
 */
import { createModel } from '../../../src/model/artifacts';
import { type AngleEmbedding, inputMapOf } from '../../../src/model/inputMap';
import type { LoadedModel } from '../../../src/model/metadata';
import { createRandomModel } from '../../../src/model/randomModel';
import fixture from './rapidity-jax.json';

/** What the page publishes. */
export interface LnnWebglResult {
  error?: string;
  backend: string;
  warnings: string[];
  float32: boolean;
  lnnQdd: number[];
  lnnFlags: number[];
  lnnWasmQdd: number[];
  lgnQdd: number[];
  baselineQdd: number[];
  residentQ: number[];
  residentQd: number[];
  residentPath: string;
  /** lnnCase on the engine's `webgl-fused` route. */
  fusedQdd: number[];
  fusedFlags: number[];
  /** trajectoryCase on `webgl-fused`, two RK4 substeps per `advance` (one readback each). */
  fusedQ: number[];
  fusedQd: number[];
  fusedReport: { path: string; route: string };
  /** `route: 'auto'` on webgl: routes, what was timed (`route@batch`), the summary line. */
  autoRoutes: string[];
  autoTimed: string[];
  autoSummary: string;
  numTensorsBefore: number;
  numTensorsAfter: number;
  /** The `sincos` input map (angles as (cos θ, sin θ) network inputs), see {@link SincosResult}. */
  sincos: SincosResult;
  /** The `rapidity` velocity inputs on the JAX-trained models of {@link rapidityJaxCases}. */
  rapidity: { relativistic: RapidityResult; doublePendulum: RapidityResult };
  /** The `wasm` route of a webgl engine on the shipped model, see {@link WasmRouteResult}. */
  wasmRoute: WasmRouteResult;
  /** Shipped models × forced webgl routes at hostile states ({@link hostileCase}). */
  hostile: HostileRouteResult[];
  /** External forces (damping and a constant, {@link forcedCase}) on the resident webgl and webgl-fused routes. */
  forced: ForcedRouteResult[];
}

/** One model × webgl route under the forces of {@link forcedCase}. */
export interface ForcedRouteResult {
  label: 'wrap' | 'sincos';
  route: 'webgl' | 'webgl-fused';
  /** The engine's mass scale α (measured at load, float64: equal to Node's). */
  alpha: number;
  /** q̈ under the forces at the case's states. */
  qdd: number[];
  flags: number[];
  /** State after the case's RK4 steps under the forces (advances of two substeps). */
  q: number[];
  qd: number[];
  path: string;
  reportRoute: string;
}

/**
 * Forces on the trajectory models (`wrap` and `sincos` inputs): Rayleigh damping and a constant force per
 * copy, the linear part the GPU-resident routes apply on the device. `scale` multiplies both.
 */
export function forcedCase(label: 'wrap' | 'sincos'): ReturnType<typeof trajectoryCase> & {
  damping: number[];
  constant: number[];
} {
  const t = label === 'wrap' ? trajectoryCase() : sincosTrajectoryCase();
  const constant = Array.from({ length: t.batch * 2 }, (_, i) => 40 * Math.cos(1.3 * i));
  return { ...t, steps: 20, damping: [30, 15], constant };
}

/** Tensors per TF.js backend (`numDataIds`) and in total (`tf.memory().numTensors`). */
export interface TensorCounts {
  all: number;
  webgl: number;
  wasm: number;
}

/** One route of a webgl engine at the states of {@link wasmRouteCase}. */
export interface RouteQdd {
  qdd: number[];
  flags: number[];
  /** `lastReport` after the call. */
  route: string;
  path: string;
  backend: string;
  /** `tf.getBackend()` after the call. */
  activeAfter: string;
}

/** What the page finds for the `wasm` route of lnn engines on webgl (shipped double-pendulum model). */
export interface WasmRouteResult {
  error?: string;
  /** Architecture of the shipped model, e.g. `6→128→128→1`. */
  architecture: string;
  /** The `route: 'auto'` engine: routes, what was timed, the summary, the route of the case's batch. */
  availableRoutes: string[];
  timed: string[];
  summary: string;
  autoRoute: string;
  activeAfterLoad: string;
  /** q̈ per forced route (set through `engine.route`) on the auto engine. */
  routes: Record<'webgl' | 'wasm' | 'js', RouteQdd>;
  /** An RK4 advance (2 substeps) of the batch under 'auto': the route and path it took. */
  autoAdvance: { route: string; path: string };
  /** Counts before load, after a warm-up on every route, after 10 more calls per route, after dispose. */
  counts: { before: TensorCounts; warm: TensorCounts; repeated: TensorCounts; disposed: TensorCounts };
  /** An engine loaded with `route: 'wasm'`: q̈, an advance and the counts after its dispose. */
  forced: RouteQdd & { advanceRoute: string; q: number[]; qd: number[]; disposed: TensorCounts };
  /** The error message of `route: 'cpu'` (not available) on the webgl engine. */
  unavailableError: string;
}

/** 64 double-pendulum states for the shipped model (`/models/double-pendulum-lnn`), and an RK4 run. */
export function wasmRouteCase(): {
  batch: number;
  q: Float64Array;
  qd: Float64Array;
  dt: number;
  steps: number;
} {
  return { batch: 64, ...states(64, 2, 0.5), dt: 1 / 120, steps: 10 };
}

/** What the page computes for one `rapidity` model of {@link rapidityJaxCases}. */
export interface RapidityResult {
  error?: string;
  /** `WebGLLnnStepper.accelerations` at the case's states. */
  qdd: number[];
  flags: number[];
  /** `WebGLLnnStepper.advance` from the case's states over its RK4 run (two substeps per call), worst flags. */
  fusedQ: number[];
  fusedQd: number[];
  fusedFlags: number[];
  /** tf.memory().numTensors before and after 20 more fused advances (after a warm-up). */
  leakBefore: number;
  leakAfter: number;
  /** The lnn engine on webgl, per route (`webgl-fused`, `webgl` op by op resident): q̈, flags, RK4 run. */
  engine: Record<
    'webgl-fused' | 'webgl',
    { qdd: number[]; flags: number[]; q: number[]; qd: number[]; path: string; route: string }
  >;
}

/** One model of rapidity-jax.json with its states and float64 JAX results. */
export interface RapidityJaxCase {
  model: LoadedModel;
  /** System id of the engine the model is loaded into. */
  system: string;
  batch: number;
  q: Float64Array;
  qd: Float64Array;
  /** JAX float64 q̈: explicit derivatives (the trainer's) and autodiff. */
  qdd: Float64Array;
  qddAutodiff: Float64Array;
  /** Whether JAX's H_vv is definite at each state (its solve has no regularisation). */
  definite: boolean[];
  /** JAX float64 RK4 run from the states; `definite`: H_vv definite at every stage and |q̇| < 1 all along. */
  rk4: { steps: number; dt: number; q: Float64Array; qd: Float64Array; definite: boolean[] };
}

/**
 * The two `rapidity` models trained briefly by training/lnn_train.py (a relativistic particle, dof 1; a
 * double pendulum with sincos angles and |q̇| < 0.95, dof 2) with states at |q̇| up to 0.99 and float64 JAX
 * results (rapidity-jax.json, written by make_rapidity_fixture.py).
 */
export function rapidityJaxCases(): { relativistic: RapidityJaxCase; doublePendulum: RapidityJaxCase } {
  const load = (c: (typeof fixture)['relativistic'], system: string): RapidityJaxCase => {
    const model = createModel(c.metadata as never, c.layers, `rapidity-jax ${system}`);
    return {
      model,
      system,
      batch: c.q.length / model.metadata.dof,
      q: Float64Array.from(c.q),
      qd: Float64Array.from(c.qd),
      qdd: Float64Array.from(c.qdd),
      qddAutodiff: Float64Array.from(c.qddAutodiff),
      definite: c.definite,
      rk4: {
        steps: c.rk4.steps,
        dt: c.rk4.dt,
        q: Float64Array.from(c.rk4.q),
        qd: Float64Array.from(c.rk4.qd),
        definite: c.rk4.definite,
      },
    };
  };
  return {
    relativistic: load(fixture.relativistic, 'relativistic-particle'),
    doublePendulum: load(fixture.doublePendulum, 'double-pendulum'),
  };
}

/** q̈ of one `sincos` case on the fused WebGL programs (`WebGLLnnStepper`). */
export interface SincosQdd {
  qdd: number[];
  flags: number[];
  /** The same states with 2π added to every angle (wrapped in float64 on upload). */
  qddShifted: number[];
  /** The same states with 2π added to every angle, uploaded unwrapped (periodicity inside the shaders). */
  qddShiftedRaw: number[];
  flagsShiftedRaw: number[];
}

/** What the page computes for the `sincos` models. */
export interface SincosResult {
  /** sincosCase (dof 2) and sincos3Case (dof 3, angles [true, false, true]). */
  dof2: SincosQdd;
  dof3: SincosQdd;
  /** sincosTrajectoryCase on `WebGLLnnStepper.advance`, two RK4 substeps per call. */
  fusedQ: number[];
  fusedQd: number[];
  /** tf.memory().numTensors before and after 20 more fused advances (after a warm-up). */
  leakBefore: number;
  leakAfter: number;
  /** The lnn engine on webgl with the sincos models: resident op-by-op route and `webgl-fused` route. */
  engine: {
    error?: string;
    webglQdd: number[];
    webglFlags: number[];
    webglQ: number[];
    webglQd: number[];
    webglPath: string;
    webglRoute: string;
    fusedQdd: number[];
    fusedFlags: number[];
    fusedQ: number[];
    fusedQd: number[];
    fusedReport: { path: string; route: string };
  };
}

function states(batch: number, n: number, scale: number): { q: Float64Array; qd: Float64Array } {
  return {
    q: new Float64Array(batch * n).map((_, i) => 3 * Math.sin(1.7 * i + 0.3) * scale),
    qd: new Float64Array(batch * n).map((_, i) => 4 * Math.cos(0.9 * i) * scale),
  };
}

/**
 * A random two-dof L shaped like mechanics (kinetic units see only q̇ with positive weights, coupling units
 * q and q̇, weak potential units only q): H_vv ≻ 0 and bounded motion, so trajectories can be compared.
 */
function mechanicalModel(width: number, seed: number, angleEmbedding: AngleEmbedding = 'wrap'): LoadedModel {
  const m = createRandomModel({ dof: 2, hidden: [width], seed, biasStd: 0.3, qdScale: 1, angleEmbedding });
  const map = inputMapOf(m.metadata);
  const third = Math.floor(width / 3);
  const k0 = Float32Array.from(m.layers[0].kernel);
  for (let j = 0; j < width; j++) {
    // Rows below qWidth are the q inputs, the rest q̇.
    for (let r = 0; r < map.width; r++) {
      if ((j < third && r < map.qWidth) || (j >= 2 * third && r >= map.qWidth)) k0[r * width + j] = 0;
    }
  }
  const k1 = Float32Array.from(m.layers[1].kernel).map((v, j) =>
    j < third ? Math.abs(v) : j < 2 * third ? 0.2 * Math.abs(v) : 0.05 * v,
  );
  return createModel(m.metadata, [
    { kernel: k0, bias: m.layers[0].bias },
    { kernel: k1, bias: m.layers[1].bias },
  ]);
}

/** A mechanical-shaped LNN (H_vv ≻ 0), 8 states, 40 RK4 steps of 0.01: for the resident GPU step. */
export function trajectoryCase(): {
  model: LoadedModel;
  batch: number;
  q: Float64Array;
  qd: Float64Array;
  steps: number;
  dt: number;
} {
  return { model: mechanicalModel(48, 24), batch: 8, ...states(8, 2, 0.3), steps: 40, dt: 0.01 };
}

/** A 4→128→128→1 softplus LNN with random weights (H_vv mostly indefinite: regularised), 16 states. */
export function lnnCase(): {
  model: LoadedModel;
  batch: number;
  q: Float64Array;
  qd: Float64Array;
  steps: number;
  dt: number;
} {
  return {
    model: createRandomModel({ hidden: [128, 128], seed: 21, biasStd: 0.3 }),
    batch: 16,
    ...states(16, 2, 1),
    steps: 20,
    dt: 0.005,
  };
}

/** A 4→32→32→1 lgn on a string of 6 nodes, 3 states. */
export function lgnCase(): {
  model: LoadedModel;
  nodes: number;
  batch: number;
  q: Float64Array;
  qd: Float64Array;
} {
  return {
    model: createRandomModel({
      kind: 'lgn',
      hidden: [32, 32],
      seed: 22,
      biasStd: 0.2,
      system: { id: 'string', params: {} },
    }),
    nodes: 6,
    batch: 3,
    ...states(3, 6, 0.3),
  };
}

/** A 4→64→64→2 relu baseline, 8 states. */
export function baselineCase(): { model: LoadedModel; batch: number; q: Float64Array; qd: Float64Array } {
  return {
    model: createRandomModel({
      kind: 'baseline',
      hidden: [64, 64],
      activation: 'relu',
      seed: 23,
      biasStd: 0.2,
    }),
    batch: 8,
    ...states(8, 2, 1),
  };
}

/** Two-dof `sincos` LNN 6→32→32→1 with random weights (H_vv mostly indefinite: regularised), 16 states. */
export function sincosCase(): { model: LoadedModel; batch: number; q: Float64Array; qd: Float64Array } {
  return {
    model: createRandomModel({ angleEmbedding: 'sincos', biasStd: 0.3, hidden: [32, 32], seed: 31 }),
    batch: 16,
    ...states(16, 2, 1),
  };
}

/** Three-dof `sincos` LNN with angles [true, false, true] (inputs cos, sin, q, cos, sin, q̇), 12 states. */
export function sincos3Case(): { model: LoadedModel; batch: number; q: Float64Array; qd: Float64Array } {
  return {
    model: createRandomModel({
      dof: 3,
      angles: [true, false, true],
      angleEmbedding: 'sincos',
      biasStd: 0.3,
      hidden: [32, 32],
      seed: 32,
      qScale: 0.7,
      qdScale: 0.2,
    }),
    batch: 12,
    ...states(12, 3, 1),
  };
}

/** A mechanical-shaped `sincos` LNN (H_vv ≻ 0), 8 states, 40 RK4 steps of 0.01. */
export function sincosTrajectoryCase(): ReturnType<typeof trajectoryCase> {
  return { model: mechanicalModel(48, 33, 'sincos'), batch: 8, ...states(8, 2, 0.3), steps: 40, dt: 0.01 };
}

/** Copy of `q` `[batch * n]` with 2π added to every angle coordinate. */
export function shiftAngles(q: Float64Array, angles: readonly boolean[]): Float64Array {
  const n = angles.length;
  return q.map((v, i) => (angles[i % n] ? v + 2 * Math.PI : v));
}

/** Shipped models the hostile-state case runs, with the webgl routes it forces on each. */
export const HOSTILE_MODELS: readonly [string, readonly ('webgl' | 'webgl-fused')[]][] = [
  ['double-pendulum-lnn', ['webgl', 'webgl-fused']],
  ['relativistic-lnn', ['webgl', 'webgl-fused']],
  ['double-pendulum-baseline', ['webgl']],
  ['string-lgn', ['webgl']],
];

/**
 * States for the hostile-state case: a normal state first and last, between them states that fail
 * under the format's rules for any model (non-finite q_0 or q̇_0, q̇_0 beyond float32; |q̇_0| ≥ 1 for a
 * `rapidity` model). `hostile[b]` says which.
 */
export function hostileCase(
  model: LoadedModel,
  n: number,
): { batch: number; q: Float64Array; qd: Float64Array; hostile: boolean[] } {
  const rapidity = model.metadata.input.velocityEmbedding === 'rapidity';
  const normal = (t: number) => ({
    q: Array.from({ length: n }, (_, i) => 0.01 * Math.sin(1 + i + t)),
    qd: Array.from({ length: n }, (_, i) => 0.3 * Math.cos(2 + i + t)),
  });
  const states = [normal(0)];
  const hostile = [false];
  const qdValues = [Number.NaN, Infinity, -Infinity, 1e40, -1e308, ...(rapidity ? [1, -1] : [])];
  for (const [which, values] of [
    ['q', [Number.NaN, Infinity, -Infinity]],
    ['qd', qdValues],
  ] as const) {
    for (const v of values) {
      const s = normal(states.length);
      s[which][0] = v;
      states.push(s);
      hostile.push(true);
    }
  }
  states.push(normal(99));
  hostile.push(false);
  return {
    batch: states.length,
    q: Float64Array.from(states.flatMap((s) => s.q)),
    qd: Float64Array.from(states.flatMap((s) => s.qd)),
    hostile,
  };
}

/** One shipped model × forced webgl route at {@link hostileCase}: q̈ (null where not finite) and flags. */
export interface HostileRouteResult {
  model: string;
  route: string;
  qdd: (number | null)[];
  flags: number[];
  /** After an RK4 advance (2 substeps) of the same batch: flags, path, and per state whether q̇ kept its value bit for bit. */
  stepFlags: number[];
  stepPath: string;
  qdKept: boolean[];
  error?: string;
}
