import { inRange } from '../plugins/three/index.js';
import type { Engine, EngineId, System, SystemHandle } from '../src/index.js';
import type { LoadedModel } from '../src/learned.js';

export { wrapAngle } from '../src/index.js';

/** Where a lane is in its life. */
export type LaneStatus = 'loading' | 'running' | 'unavailable' | 'stopped';

/** The box a learned model was trained on (see docs/model-format.md `trainingRanges`). */
export interface TrainingRanges {
  /** `[lo, hi]` per coordinate; angles are compared modulo 2π (see the three.js plugin's `inRange`). */
  readonly q: readonly (readonly [number, number])[];
  /** `[lo, hi]` per velocity. */
  readonly qd: readonly (readonly [number, number])[];
}

/** Options of a {@link Lane}. */
export interface LaneOptions {
  /** Unique key within a scene, used in URLs, exports and the test hook (e.g. `lnn`). */
  key: string;
  /** Engine kind. */
  engine: EngineId;
  /** Label drawn next to the system. @default the key */
  label?: string;
  /** CSS colour of the lane's plots and meshes. */
  color: string;
  /** The system this lane advances. */
  system: System;
  /** Number of states advanced together. @default 1 */
  batch?: number;
  /** Model name under `/models/` for learned engines. @default undefined */
  model?: string;
}

/**
 * One system of a scene as the app shows it: its engine kind, colour and status, and, while the scene
 * runs, the World handle holding its `batch` states (`q`, `qd`: `[batch * dof]`, float64). The CPU-side
 * state is the truth: renderers and GPU engines can be rebuilt from it at any time.
 */
export class Lane {
  readonly key: string;
  readonly engineId: EngineId;
  readonly color: string;
  readonly system: System;
  readonly batch: number;
  /** Model name under `/models/` (learned engines); may be replaced by a matching shipped model. */
  model: string | undefined;
  /** An engine created to check that the lane can run (disposed once the scene runs). */
  engine: Engine | null = null;
  /** Loaded model passed to the scene's engine, so a rebuilt run does not fetch it again. */
  loadedModel: LoadedModel | null = null;
  /**
   * Parameters of the lane's system that differ from its model's training values (`'l1 1.2 ≠ 1'`): the
   * learned engine runs outside its training parameters, and the label says so.
   */
  outsideTraining: readonly string[] = [];
  /** The lane's systems in the running scene (null while loading, unavailable or switched off). */
  handle: SystemHandle | null = null;
  status: LaneStatus = 'loading';
  /** Why the lane is unavailable or stopped (shown in the legend). */
  reason = '';
  /** Whether the user enabled the lane (disabled lanes neither step nor draw). */
  enabled = true;
  /** Initial state `[batch * dof]`. */
  readonly q0: Float64Array;
  readonly qd0: Float64Array;
  /** True energy of each initial state `[batch]` (the system's closed form). */
  readonly energy0: Float64Array;
  /** Training box of a learned model, when known. */
  ranges: TrainingRanges | null = null;
  /** Whether any state is outside {@link Lane.ranges} right now. */
  outOfRange = false;
  /** Simulated time at which a guard stopped the lane, or NaN. */
  stoppedAt = Number.NaN;
  /** Warnings of a learned engine when it loaded (e.g. a model trained on other parameters). */
  warnings: readonly string[] = [];
  /**
   * Whether external forces are in use in this run (a push, a pluck or damping): a lane whose engine
   * takes none then says so ({@link Lane.forcesNote}) instead of silently running unforced.
   */
  forcesUsed = false;
  /** Model metadata summary for the GUI (kind, size, metrics), when a model is used. */
  modelInfo: Record<string, unknown> | null = null;
  private readonly scratchQ: Float64Array;
  private readonly scratchQd: Float64Array;
  private readonly name: string;

  constructor(options: LaneOptions) {
    this.key = options.key;
    this.engineId = options.engine;
    this.name = options.label ?? options.key;
    this.color = options.color;
    this.system = options.system;
    this.batch = options.batch ?? 1;
    this.model = options.model;
    const n = this.batch * this.system.dof;
    this.q0 = new Float64Array(n);
    this.qd0 = new Float64Array(n);
    this.energy0 = new Float64Array(this.batch);
    this.scratchQ = new Float64Array(this.system.dof);
    this.scratchQd = new Float64Array(this.system.dof);
  }

  /** Label drawn next to the system, with the parameters a learned lane runs outside its training values. */
  get label(): string {
    return this.outsideTraining.length > 0
      ? `${this.name} (outside training: ${this.outsideTraining.join(', ')})`
      : this.name;
  }

  /** Current state `[batch * dof]` (the initial state while not in a world). */
  get q(): Float64Array {
    return this.handle?.q ?? this.q0;
  }

  get qd(): Float64Array {
    return this.handle?.qd ?? this.qd0;
  }

  /** State at render time (interpolated between the last two steps) `[batch * dof]`. */
  get qRender(): Float64Array {
    return this.handle?.interpolatedQ ?? this.q0;
  }

  /** Why the lane's engine takes no forces (pushes, damping), or null when it takes them (or is not running). */
  get forcesUnsupported(): string | null {
    return this.handle?.forces.unsupported ?? null;
  }

  /** `forces unsupported` while forces are in use and the lane's engine takes none; else empty. */
  get forcesNote(): string {
    return this.forcesUsed && this.forcesUnsupported !== null ? 'forces unsupported' : '';
  }

  /**
   * The energy ledger of state `b`: E − E₀ − W, with W the work the external forces did on it (zero
   * without forces, where it is the energy drift E − E₀).
   */
  ledger(b = 0): number {
    return this.energy(b) - this.energy0[b] - (this.handle?.forces.ledger.work[b] ?? 0);
  }

  /** Whether the lane is in the world and stepping. */
  get active(): boolean {
    return this.handle !== null && this.status === 'running';
  }

  /** Whether the lane has something to draw (running, or stopped at its last finite state). */
  get drawable(): boolean {
    return this.handle !== null && (this.status === 'running' || this.status === 'stopped');
  }

  /** Set the initial states (`[batch * dof]`, or `[dof]` broadcast to the batch). */
  setInitial(q0: ArrayLike<number>, qd0: ArrayLike<number>): void {
    const dof = this.system.dof;
    const n = dof * this.batch;
    for (const [name, v] of [
      ['q0', q0],
      ['qd0', qd0],
    ] as const) {
      if (v.length !== dof && v.length !== n) {
        throw new Error(`lane '${this.key}': ${name} has ${v.length} entries, expected ${dof} or ${n}`);
      }
    }
    for (let k = 0; k < n; k++) {
      this.q0[k] = q0[q0.length === dof ? k % dof : k];
      this.qd0[k] = qd0[qd0.length === dof ? k % dof : k];
    }
    for (let b = 0; b < this.batch; b++) {
      this.energy0[b] = this.system.energy(
        this.q0.subarray(b * dof, (b + 1) * dof),
        this.qd0.subarray(b * dof, (b + 1) * dof),
      );
    }
  }

  /** Bind the lane to its systems in a running scene (a fresh run starts `running`). */
  bind(handle: SystemHandle | null): void {
    this.handle = handle;
    if (this.status === 'unavailable' || this.status === 'loading') return;
    if (this.status === 'stopped') this.status = 'running';
    this.reason = '';
    this.stoppedAt = Number.NaN;
    this.outOfRange = false;
    if (handle) this.checkRange();
  }

  /** Back to the initial states; clears a guard stop. */
  reset(): void {
    if (!this.handle) return;
    this.handle.setState(this.q0, this.qd0);
    if (this.status === 'stopped') this.status = 'running';
    this.reason = '';
    this.stoppedAt = Number.NaN;
    this.outOfRange = false;
    this.checkRange();
  }

  /**
   * After each step: a lane whose every copy the world froze (non-finite state) is stopped and
   * flagged; a batched lane keeps running with the frozen copies counted in the reason. Then the
   * out-of-training-range check.
   */
  afterStep(t: number, invalidReason?: string): void {
    const h = this.handle;
    if (!h || this.status !== 'running') return;
    if (h.anyInvalid) {
      let frozen = 0;
      for (let c = 0; c < h.count; c++) frozen += h.invalid[c];
      if (frozen === h.count) {
        this.status = 'stopped';
        this.stoppedAt = t;
        this.reason = invalidReason ?? `non-finite state at t = ${t.toFixed(3)} s`;
      } else {
        this.reason = `${frozen} of ${h.count} copies stopped (non-finite state)`;
      }
    }
    this.checkRange();
  }

  /** Total true energy of state `b` (closed form of the system, float64). */
  energy(b = 0): number {
    const dof = this.system.dof;
    const q = this.q;
    const qd = this.qd;
    for (let i = 0; i < dof; i++) {
      this.scratchQ[i] = q[b * dof + i];
      this.scratchQd[i] = qd[b * dof + i];
    }
    return this.system.energy(this.scratchQ, this.scratchQd);
  }

  /** Marks the lane unavailable with a reason (engine missing, model not found, …). */
  markUnavailable(reason: string): void {
    this.status = 'unavailable';
    this.reason = reason;
  }

  /** Drop the handle and free a validation engine still held. Idempotent. */
  dispose(): void {
    this.handle = null;
    this.engine?.dispose();
    this.engine = null;
  }

  private checkRange(): void {
    const r = this.ranges;
    if (!r || !this.handle) return;
    const dof = this.system.dof;
    const angles = this.system.angles;
    const q = this.q;
    const qd = this.qd;
    let out = false;
    for (let k = 0; k < this.batch * dof && !out; k++) {
      const i = k % dof;
      const qr = r.q[i];
      const vr = r.qd[i];
      if (qr && !inRange(q[k], qr, angles[i])) out = true;
      if (vr && !inRange(qd[k], vr, false)) out = true;
    }
    this.outOfRange = out;
  }
}
