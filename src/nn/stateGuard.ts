/**
 * The one policy every route of the learned engines follows for states the network cannot evaluate
 * (docs/model-format.md, "Solving for q̈"): a state is `failed` — q̈ = 0, flag {@link SolveFlag.failed} —
 * when
 * - some q_i or q̇_i is not finite;
 * - some network input, before or after its scale (wrap(q_i)·qScale_i, q_i·qScale_i, q̇_i·qdScale_i,
 *   atanh(q̇_i)·qdScale_i under `rapidity`, cos/sin of an angle under `sincos`), is not finite or, with
 *   `float32`, lies beyond the float32 range (|x| > 3.4028234663852886e38, where a float32 route would
 *   see ±Infinity);
 * - some component of its q̈ is not finite (whatever the route computed);
 * - the route itself flagged it failed (its q̈ is then set to 0 here as well).
 * States that pass keep their q̈ and flag untouched, bit for bit. No allocation per call.
 */
import { Feature, inputMapOf, wrapAngle } from '../model/inputMap.js';
import type { LoadedModel } from '../model/metadata.js';
import { SolveFlag } from './solve64.js';

/** The largest finite float32, 2^128 − 2^104. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** How a coordinate enters the network: as itself, wrapped into [−π, π), or only through cos/sin. */
const QInput = { identity: 0, wrapped: 1, periodic: 2 } as const;

/** Options of {@link StateGuard}. */
export interface StateGuardOptions {
  /**
   * Hold network inputs to the float32 range. The learned engines set it on every route, also the
   * float64 `js` one, so that a state's flag does not depend on the route `'auto'` picks for its batch.
   * @default true
   */
  float32?: boolean;
}

/**
 * The failed-state policy of one model on systems of `dof` coordinates (lgn: nodes). Built once per
 * engine; {@link StateGuard.apply} runs after every q̈ call, whatever the route.
 * @example
 * const guard = new StateGuard(model, system.dof);
 * route(q, qd, qdd, batch, flags);
 * guard.apply(q, qd, qdd, batch, flags); // hostile or non-finite states: q̈ = 0, flag failed
 */
export class StateGuard {
  /** Coordinates per state. */
  readonly dof: number;
  /** The largest |network input| accepted: FLOAT32_MAX, or Number.MAX_VALUE without `float32`. */
  readonly limit: number;
  /** Per coordinate: how q_i enters the network ({@link QInput}). */
  private readonly qInput: Uint8Array;
  /** Per coordinate: the largest |scale| of the network inputs made from q_i. */
  private readonly qScale: Float64Array;
  /** Per coordinate: the largest |scale| of the network inputs made from q̇_i. */
  private readonly qdScale: Float64Array;
  /** Velocities enter as atanh(q̇) (defined for |q̇| < 1 only). */
  private readonly rapidity: boolean;

  constructor(model: LoadedModel, dof: number, options: StateGuardOptions = {}) {
    const meta = model.metadata;
    this.dof = dof;
    this.limit = (options.float32 ?? true) ? FLOAT32_MAX : Number.MAX_VALUE;
    this.qInput = new Uint8Array(dof);
    this.qScale = new Float64Array(dof);
    this.qdScale = new Float64Array(dof);
    if (meta.kind === 'lgn') {
      // Every node feeds two edges, once as the left and once as the right end (scales [0] and [1]).
      const wrap = meta.angles[0];
      const sq = Math.max(Math.abs(meta.input.qScale[0]), Math.abs(meta.input.qScale[1]));
      const sv = Math.max(Math.abs(meta.input.qdScale[0]), Math.abs(meta.input.qdScale[1]));
      this.qInput.fill(wrap ? QInput.wrapped : QInput.identity);
      this.qScale.fill(sq);
      this.qdScale.fill(sv);
      this.rapidity = false;
      return;
    }
    const map = inputMapOf(meta);
    for (let k = 0; k < map.qWidth; k++) {
      const i = map.coord[k];
      if (map.feature[k] !== Feature.identity) this.qInput[i] = QInput.periodic;
      else this.qInput[i] = map.wrapped[k] ? QInput.wrapped : QInput.identity;
      this.qScale[i] = Math.max(this.qScale[i], Math.abs(map.scale[k]));
    }
    for (let i = 0; i < dof; i++) this.qdScale[i] = Math.abs(map.scale[map.qWidth + i]);
    this.rapidity = map.velocity === 'rapidity';
  }

  /**
   * Whether the state at offset `o` of `q`, `qd` has an input the network cannot take (see the module
   * comment): a non-finite coordinate, or a network input, scaled or not, beyond {@link limit}.
   */
  hostile(q: ArrayLike<number>, qd: ArrayLike<number>, o: number): boolean {
    const limit = this.limit;
    for (let i = 0; i < this.dof; i++) {
      const qi = q[o + i];
      // cos/sin of a finite angle lie in [−1, 1]; a wrapped angle is wrapped in float64 first, as on
      // every route. NaN fails every comparison below.
      const kind = this.qInput[i];
      const x =
        kind === QInput.periodic
          ? Number.isFinite(qi)
            ? 1
            : Number.NaN
          : kind === QInput.wrapped
            ? wrapAngle(qi)
            : qi;
      const ax = Math.abs(x);
      if (!(ax <= limit && ax * this.qScale[i] <= limit)) return true;
      const vi = qd[o + i];
      const v = this.rapidity ? Math.atanh(vi) : vi;
      const av = Math.abs(v);
      if (!(av <= limit && av * this.qdScale[i] <= limit)) return true;
    }
    return false;
  }

  /**
   * Count the hostile states among `batch` (see {@link hostile}); with `flags`, mark them failed there
   * (other flags untouched).
   * @param q `[batch * dof]` @param qd `[batch * dof]`
   */
  screen(q: ArrayLike<number>, qd: ArrayLike<number>, batch: number, flags?: Uint8Array): number {
    const n = this.dof;
    let count = 0;
    for (let b = 0; b < batch; b++) {
      if (!this.hostile(q, qd, b * n)) continue;
      count++;
      if (flags) flags[b] = SolveFlag.failed;
    }
    return count;
  }

  /**
   * The policy after a route has written `qdd` and `flags` for `batch` states: a hostile state, a
   * state with a non-finite q̈ component and a state the route flagged failed all get q̈ = 0 and
   * flag failed. Other states are left exactly as the route wrote them.
   * @param q `[batch * dof]` @param qd `[batch * dof]` @param qdd `[batch * dof]` @param flags `[batch]`
   * @returns the number of failed states
   */
  apply(
    q: ArrayLike<number>,
    qd: ArrayLike<number>,
    qdd: Float64Array,
    batch: number,
    flags: Uint8Array,
  ): number {
    const n = this.dof;
    let failed = 0;
    for (let b = 0; b < batch; b++) {
      const o = b * n;
      let bad = flags[b] === SolveFlag.failed;
      for (let i = 0; i < n && !bad; i++) if (!Number.isFinite(qdd[o + i])) bad = true;
      if (!bad) bad = this.hostile(q, qd, o);
      if (!bad) continue;
      failed++;
      flags[b] = SolveFlag.failed;
      for (let i = 0; i < n; i++) qdd[o + i] = 0;
    }
    return failed;
  }
}
