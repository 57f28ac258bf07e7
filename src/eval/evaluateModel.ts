/**
 * `three-lnn eval`: measure a learned model with the paper's protocols (double pendulum, chain; the
 * spherical pendulums with starts from their sampler) or the per-system equivalents (string: normal modes
 * and energy on 100 nodes; relativistic particle: the speed bound and held-out q̈), using a learned engine
 * for q̈ and the exact system for ground truth.
 */
import type { Engine, System } from '../core/types.js';
import '../engines/learned.js';
import { createEngine } from '../engines/registry.js';
import { createRng, uniform } from '../math/random.js';
import { loadModel } from '../model/loadModel.js';
import { measureMassScale } from '../model/massScale.js';
import type { LoadedModel, MassScaleSpec } from '../model/metadata.js';
import { Membrane, membraneModeShape } from '../systems/Membrane.js';
import { membraneModeFrequencies } from '../systems/membraneModeFrequencies.js';
import { createSystem } from '../systems/registry.js';
import { stringModeFrequencies } from '../systems/stringModeFrequencies.js';
import {
  energyDrift,
  energyDriftFromSampler,
  energyErrorFromSampler,
  type Metric,
  qddError,
  rollout,
  stringModes,
} from './protocols.js';

/** Options of {@link evaluateModel}. */
export interface EvaluateOptions {
  /**
   * Small, fast subsets of every protocol (for CI): 8 starts × 10 s, 5,000 states.
   * @default false
   */
  quick?: boolean;
  /** Backend of the learned engine (`wasm`, `cpu`, `js` = float64 reference, …). @default 'wasm' */
  backend?: string;
  /** Seed of every random draw. @default 0 */
  seed?: number;
  /** Override the number of energy-protocol starts. */
  starts?: number;
  /** Override the roll-out length in seconds. */
  seconds?: number;
  /** Override the number of q̈ states. */
  states?: number;
}

/** What {@link evaluateModel} measured. */
export interface EvaluationReport {
  /** Where the model came from. */
  model: string;
  kind: string;
  system: { id: string; params: Record<string, number> };
  /** Whether the quick subsets were used. */
  quick: boolean;
  backend: string;
  /** Named metrics, each with its protocol. */
  metrics: Record<string, Metric>;
  /** Wall time of the evaluation in seconds. */
  seconds: number;
  /**
   * The mass scale α of a model with a mass matrix (lnn, lgn), measured over {@link EVAL_MASS_SCALE_STATES}
   * training-box states (see `measureMassScale`); absent for a baseline and in quick runs.
   */
  massScale?: MassScaleSpec;
}

/** States the full evaluation measures the mass scale on (the load-time fallback uses 64). */
export const EVAL_MASS_SCALE_STATES = 4096;

function accelerationsOf(engine: Engine) {
  return (q: Float64Array, qd: Float64Array, qdd: Float64Array, batch: number) =>
    engine.accelerations(q, qd, qdd, batch);
}

async function withEngine<T>(
  model: LoadedModel,
  system: System,
  backend: string,
  fn: (e: Engine) => T,
): Promise<T> {
  const engine = await createEngine(model.metadata.kind, system, { model, backend });
  try {
    return fn(engine);
  } finally {
    engine.dispose();
  }
}

/**
 * Protocols for mechanical systems: the q̈ error over the training box, and the energy protocol — the
 * paper's (uniform angle starts; double pendulum, chain) or, for the spherical pendulums, starts from the
 * system's sampler (uniform angles would reach the chart's singular set cos α = 0), averaged over starts
 * and time.
 */
async function evalMechanical(
  model: LoadedModel,
  backend: string,
  o: Required<Omit<EvaluateOptions, 'backend'>>,
  energy: typeof energyDrift | typeof energyErrorFromSampler,
): Promise<Record<string, Metric>> {
  const meta = model.metadata;
  const system = createSystem(meta.system.id, meta.system.params);
  const ranges = meta.trainingRanges;
  if (!ranges) throw new Error('eval: the model has no trainingRanges; q̈ error needs the training box.');
  return withEngine(model, system, backend, (engine) => {
    const f = accelerationsOf(engine);
    return {
      qddL1: qddError(f, system, {
        states: o.states,
        seed: o.seed + 1,
        qRanges: ranges.q as [number, number][],
        qdRanges: ranges.qd as [number, number][],
        source: 'the training box (metadata.trainingRanges)',
      }),
      energyError: energy(f, system, { starts: o.starts, seconds: o.seconds, seed: o.seed }),
    };
  });
}

/** Systems whose energy protocol starts from the system's sampler. */
const SAMPLED_SYSTEMS: readonly string[] = ['spherical-pendulum', 'double-spherical-pendulum'];

/** String (lgn): normal modes on 100 nodes, energy over 10 s, q̈ error on the training graph. */
async function evalString(
  model: LoadedModel,
  backend: string,
  o: Required<Omit<EvaluateOptions, 'backend'>>,
) {
  const meta = model.metadata;
  const big = createSystem('string', { ...meta.system.params, nodes: 100 });
  const modes = await withEngine(model, big, backend, (engine) =>
    stringModes(accelerationsOf(engine), big, stringModeFrequencies(big)),
  );
  const energy = await withEngine(model, big, backend, (engine) =>
    energyDriftFromSampler(accelerationsOf(engine), big, {
      starts: o.quick ? 2 : 10,
      seconds: o.quick ? 2 : 10,
      seed: o.seed,
    }),
  );
  const small = createSystem('string', meta.system.params);
  const ranges = meta.trainingRanges;
  const n = small.dof;
  const qdd = await withEngine(model, small, backend, (engine) =>
    qddError(accelerationsOf(engine), small, {
      states: o.states,
      seed: o.seed + 1,
      qRanges: Array.from({ length: n }, () => (ranges?.q[0] ?? [-0.1, 0.1]) as [number, number]),
      qdRanges: Array.from({ length: n }, () => (ranges?.qd[0] ?? [-1, 1]) as [number, number]),
      source: `the training box per node, N=${n}`,
    }),
  );
  return { modeFrequencies: modes.metric, energyError: energy, qddL1: qdd };
}

/**
 * Membrane (lgn on a grid): mode frequencies on a large grid (64×64; quick 16×16) against the closed form,
 * for j, k ∈ {1, 2, 4, …, side} — ω² = −φ·(q̈(εφ) − q̈(−εφ)) / (2ε‖φ‖²) at rest, ε = 0.01 —; energy from
 * sampler starts on that grid; q̈ error on the training grid's box.
 */
async function evalMembrane(
  model: LoadedModel,
  backend: string,
  o: Required<Omit<EvaluateOptions, 'backend'>>,
) {
  const meta = model.metadata;
  const side = o.quick ? 16 : 64;
  const big = new Membrane({ ...meta.system.params, nx: side, ny: side });
  const n = big.dof;
  const ks: number[] = [];
  for (let j = 1; j <= side; j *= 2) ks.push(j);
  const exact = membraneModeFrequencies(big);
  const eps = 1e-2;
  const count = ks.length * ks.length;
  const q = new Float64Array(2 * count * n);
  const phi = new Float64Array(n);
  const norms: number[] = [];
  let m = 0;
  for (const k of ks) {
    for (const j of ks) {
      membraneModeShape(side, side, j, k, phi);
      let nn = 0;
      for (let i = 0; i < n; i++) {
        q[2 * m * n + i] = eps * phi[i];
        q[(2 * m + 1) * n + i] = -eps * phi[i];
        nn += phi[i] * phi[i];
      }
      norms.push(nn);
      m++;
    }
  }
  const a = await withEngine(model, big, backend, (engine) => {
    const out = new Float64Array(q.length);
    accelerationsOf(engine)(q, new Float64Array(q.length), out, 2 * count);
    return out;
  });
  let worst = 0;
  let sum = 0;
  m = 0;
  for (const k of ks) {
    for (const j of ks) {
      membraneModeShape(side, side, j, k, phi);
      let num = 0;
      for (let i = 0; i < n; i++) num += phi[i] * (a[2 * m * n + i] - a[(2 * m + 1) * n + i]);
      const w = Math.sqrt(Math.max(0, -num / (2 * eps * norms[m])));
      const ref = exact[(k - 1) * side + j - 1];
      const rel = Math.abs(w - ref) / ref;
      worst = Math.max(worst, rel);
      sum += rel;
      m++;
    }
  }
  const modeFrequencies: Metric = {
    value: worst,
    mean: sum / count,
    modes: count,
    grid: `${side}x${side}`,
    protocol: `max relative error of the mode frequencies (j, k in {${ks.join(', ')}}) on a ${side}x${side} membrane: omega^2 = -phi.(qdd(eps phi) - qdd(-eps phi)) / (2 eps |phi|^2) at rest, eps = ${eps}, against the closed form`,
  };
  const energy = await withEngine(model, big, backend, (engine) =>
    energyDriftFromSampler(accelerationsOf(engine), big, {
      starts: o.quick ? 2 : 3,
      seconds: o.quick ? 2 : 10,
      dt: 0.05,
      seed: o.seed,
    }),
  );
  const small = createSystem('membrane', meta.system.params);
  const ranges = meta.trainingRanges;
  const ns = small.dof;
  const qdd = await withEngine(model, small, backend, (engine) =>
    qddError(accelerationsOf(engine), small, {
      states: o.states,
      seed: o.seed + 1,
      qRanges: Array.from({ length: ns }, () => (ranges?.q[0] ?? [-0.1, 0.1]) as [number, number]),
      qdRanges: Array.from({ length: ns }, () => (ranges?.qd[0] ?? [-1, 1]) as [number, number]),
      source: `the training box per node, ${meta.system.params.nx}x${meta.system.params.ny} grid`,
    }),
  );
  return { modeFrequencies, energyError: energy, qddL1: qdd };
}

/** Relativistic particle: |q̇| stays below c along roll-outs; q̈ on held-out states. */
async function evalRelativistic(
  model: LoadedModel,
  backend: string,
  o: Required<Omit<EvaluateOptions, 'backend'>>,
) {
  const meta = model.metadata;
  const system = createSystem(meta.system.id, meta.system.params);
  return withEngine(model, system, backend, (engine) => {
    const f = accelerationsOf(engine);
    const starts = o.starts;
    const q = new Float64Array(starts);
    const qd = new Float64Array(starts);
    // The system's own sampler box: q ~ U[-1, 1), q̇ ~ U[-0.9, 0.9).
    const rng = createRng(o.seed);
    for (let b = 0; b < starts; b++) {
      q[b] = uniform(rng, -1, 1);
      qd[b] = uniform(rng, -0.9, 0.9);
    }
    const qA = q.slice();
    const vA = qd.slice();
    const dt = 0.01;
    const steps = Math.round(o.seconds / dt);
    const box = (meta.trainingRanges?.q[0] ?? [-1, 1]) as [number, number];
    const learned = rollout(f, q, qd, 1, starts, dt, steps, box);
    const exact = rollout((a, b, c, n) => system.accelerations(a, b, c, n), qA, vA, 1, starts, dt, steps);
    return {
      maxSpeed: {
        value: learned.finite ? learned.maxSpeed : Number.POSITIVE_INFINITY,
        exact: exact.maxSpeed,
        belowC: learned.finite && learned.maxSpeed < 1,
        maxSpeedWhileInTrainingBox: learned.maxSpeedInBox,
        belowCInTrainingBox: learned.maxSpeedInBox < 1,
        protocol: `${starts} starts q~U[-1,1), qd~U[-0.9,0.9) (seed ${o.seed}); RK4 dt=${dt} for ${o.seconds} s; max |qd| along the learned roll-outs (c = 1); also while q was inside the training box [${box[0]}, ${box[1]})`,
      },
      heldOutQddL1: qddError(f, system, {
        states: o.states,
        seed: o.seed + 1,
        qRanges: [[-1, 1]],
        qdRanges: [[-0.9, 0.9]],
        source: 'q~U[-1,1), qd~U[-0.9,0.9) (held out: training draws rapidities)',
      }),
    } satisfies Record<string, Metric>;
  });
}

/**
 * Evaluate a model directory (or loaded model) with the protocols of its system.
 * @example const report = await evaluateModel('assets/models/double-pendulum-lnn', { quick: true });
 */
export async function evaluateModel(
  source: string | LoadedModel,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const t0 = performance.now();
  const model = await loadModel(source);
  const meta = model.metadata;
  const quick = options.quick ?? false;
  const backend = options.backend ?? 'wasm';
  const isRel = meta.system.id === 'relativistic-particle';
  const o: Required<Omit<EvaluateOptions, 'backend'>> = {
    quick,
    seed: options.seed ?? 0,
    starts: options.starts ?? (quick ? 8 : 40),
    seconds: options.seconds ?? (quick ? (isRel ? 20 : 10) : 100),
    states: options.states ?? (quick ? 5000 : 100_000),
  };
  let metrics: Record<string, Metric>;
  if (meta.kind === 'lgn') {
    if (meta.system.id === 'membrane') metrics = await evalMembrane(model, backend, o);
    else if (meta.system.id === 'string') metrics = await evalString(model, backend, o);
    else throw new Error(`eval: no protocol for an lgn on '${meta.system.id}'.`);
  } else if (isRel) {
    metrics = await evalRelativistic(model, backend, o);
  } else if (meta.system.id === 'double-pendulum' || meta.system.id === 'chain') {
    metrics = await evalMechanical(model, backend, o, energyDrift);
  } else if (SAMPLED_SYSTEMS.includes(meta.system.id)) {
    metrics = await evalMechanical(model, backend, o, energyErrorFromSampler);
  } else {
    throw new Error(
      `eval: no protocol for system '${meta.system.id}'; supported: double-pendulum, chain, spherical-pendulum, double-spherical-pendulum, string and membrane (lgn), relativistic-particle.`,
    );
  }
  const massScale =
    quick || meta.kind === 'baseline'
      ? undefined
      : measureMassScale(model, createSystem(meta.system.id, meta.system.params), {
          states: EVAL_MASS_SCALE_STATES,
          seed: o.seed,
        });
  return {
    model: typeof source === 'string' ? source : model.source,
    kind: meta.kind,
    system: { id: meta.system.id, params: { ...meta.system.params } },
    quick,
    backend,
    metrics,
    seconds: (performance.now() - t0) / 1000,
    ...(massScale === undefined ? {} : { massScale }),
  };
}
