/**
 * The mass scale α of a learned Lagrangian. A learned L is known only up to a factor (and a total time
 * derivative): L and α·L give the same unforced motion, so a network's mass matrix is H_vv ≈ α·M with
 * M = ∂²L_true/∂q̇² the true one. A physical generalized force Q then enters the learned Euler–Lagrange
 * equation as α·Q: H_vv q̈ = ∂L/∂q − H_vq q̇ + α·Q. This module measures α against the system's exact
 * Lagrangian (see docs/model-format.md, "massScale").
 */
import type { System } from '../core/types.js';
import { EulerLagrangeSolver } from '../lagrangian/EulerLagrangeSolver.js';
import type { LoadedModel, MassScaleSpec } from './metadata.js';
import { referenceMassMatrix } from './reference.js';
import { trainingBoxStates } from './trainingStates.js';

/** States a learned engine measures α on at load when the model does not carry it. */
export const MASS_SCALE_STATES = 64;

/** Seed of the measured states (`createRng`): the same states on every load and machine. */
export const MASS_SCALE_SEED = 0x3a55;

/** The `method` recorded by {@link measureMassScale}. */
export const MASS_SCALE_METHOD =
  'least squares of the learned H_vv (float64 reference) against the exact ∂²L/∂q̇² of the system at its training parameters, each state weighted by 1/‖M‖²_F, over uniform training-box states';

/** Options of {@link measureMassScale}. */
export interface MassScaleOptions {
  /** States drawn from the training box. @default MASS_SCALE_STATES */
  states?: number;
  /** Seed of the states (`createRng`). @default MASS_SCALE_SEED */
  seed?: number;
}

/**
 * Measure α over `states` fresh states drawn uniformly from the model's training box
 * (`metadata.trainingRanges`): the learned H_vv of each state from the float64 reference evaluator, the
 * true M = ∂²L/∂q̇² from second-order jets of the system's Lagrangian, then
 *
 *     α = mean over states of ⟨H, M⟩_F / ⟨M, M⟩_F      (least squares, each state weighted 1/‖M‖²_F)
 *     spread = sqrt(mean over states of ‖H − αM‖²_F / ‖αM‖²_F)
 *
 * Weighting each state alike keeps states with a large M (a relativistic particle near c) from deciding α.
 *
 * The system is taken at the model's training parameters (`system.withParams(metadata.system.params)`)
 * where it accepts them (an lgn model: on its training graph), else as given. States where either
 * matrix is not finite (outside a Lagrangian's domain) are left out. Deterministic.
 * @throws Error for a baseline model (no mass matrix), or when no state gives a finite, non-zero α
 * @example const { value, spread } = measureMassScale(model, createSystem('double-pendulum'));
 */
export function measureMassScale(
  model: LoadedModel,
  system: Pick<System, 'dof' | 'L'> & Partial<Pick<System, 'withParams'>>,
  options: MassScaleOptions = {},
): MassScaleSpec {
  const meta = model.metadata;
  if (meta.kind === 'baseline') {
    throw new Error(
      `measureMassScale: model ${model.source} is a baseline; it predicts q̈ directly and has no mass matrix.`,
    );
  }
  const count = options.states ?? MASS_SCALE_STATES;
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new Error(`measureMassScale: states must be an integer ≥ 1, got ${count}.`);
  }
  const sys = trainingSystem(model, system);
  const n = sys.dof;
  const { q, qd } = trainingBoxStates(model, n, count, options.seed ?? MASS_SCALE_SEED);
  const solver = new EulerLagrangeSolver((ops, qq, vv) => sys.L(ops, qq, vv), n);
  const m = 2 * n;
  const H = new Float64Array(count * n * n);
  const M = new Float64Array(count * n * n);
  const used = new Uint8Array(count);
  const h = new Float64Array(n * n);
  let hm = 0;
  let mm = 0;
  let kept = 0;
  for (let b = 0; b < count; b++) {
    const o = b * n;
    const qs = q.subarray(o, o + n);
    const vs = qd.subarray(o, o + n);
    referenceMassMatrix(model, qs, vs, h);
    let jh: Float64Array | null;
    try {
      const jet = solver.jet(q, qd, o);
      // dep 2: the jet depends on q̇ and its Hessian is valid (else M is zero there).
      jh = jet.dep === 2 ? jet.h : null;
    } catch {
      continue;
    }
    if (jh === null) continue;
    let finite = true;
    const base = b * n * n;
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const mv = jh[r * m + n + c];
        const hv = h[r * n + c];
        if (!Number.isFinite(mv) || !Number.isFinite(hv)) finite = false;
        M[base + r * n + c] = mv;
        H[base + r * n + c] = hv;
      }
    }
    if (!finite) continue;
    let hmb = 0;
    let mmb = 0;
    for (let i = base; i < base + n * n; i++) {
      hmb += H[i] * M[i];
      mmb += M[i] * M[i];
    }
    if (!(mmb > 0)) continue;
    // Each state weighs the same, whatever the size of its mass matrix (a relativistic M grows as γ³).
    used[b] = 1;
    kept++;
    hm += hmb / mmb;
    mm += 1;
  }
  const value = hm / mm;
  if (kept === 0 || !Number.isFinite(value) || value === 0) {
    throw new Error(
      `measureMassScale: no usable state for model ${model.source} (${kept} of ${count} states had a finite learned H_vv and mass matrix; α = ${value}).`,
    );
  }
  let err = 0;
  for (let b = 0; b < count; b++) {
    if (used[b] === 0) continue;
    let eb = 0;
    let mmb = 0;
    for (let i = b * n * n; i < (b + 1) * n * n; i++) {
      const d = H[i] - value * M[i];
      eb += d * d;
      mmb += M[i] * M[i];
    }
    err += eb / (value * value * mmb);
  }
  return { value, spread: Math.sqrt(err / kept), states: kept, method: MASS_SCALE_METHOD };
}

/** The system at the model's training parameters where it accepts them, else as given. */
function trainingSystem<S extends Pick<System, 'dof' | 'L'> & Partial<Pick<System, 'withParams'>>>(
  model: LoadedModel,
  system: S,
): Pick<System, 'dof' | 'L'> {
  const params = model.metadata.system.params;
  if (system.withParams === undefined || Object.keys(params).length === 0) return system;
  try {
    const trained = system.withParams(params);
    // An lnn model fixes the dof; an lgn model runs any graph, measured on its training graph.
    if (model.metadata.kind === 'lnn' && trained.dof !== model.metadata.dof) return system;
    return trained;
  } catch {
    return system;
  }
}
