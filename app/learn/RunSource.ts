import {
  createRng,
  type DataRecord,
  type DataSource,
  type System,
  type TrainingBatch,
} from '../../src/index.js';
import type { TrainingBox } from '../../src/learned.js';

/** Draws of a box state before one without a q̈ is kept (and the trainer skips that batch). */
const MAX_TRIES = 32;

/** States of the exact lane's recorded run: `[samples * dof]` each. */
export interface RecordedRun {
  q: Float64Array;
  qd: Float64Array;
  samples: number;
}

/**
 * Training data of "Learn this scene": each batch is a share of states of the exact lane's recorded run
 * (drawn uniformly from its samples) and the rest fresh uniform states of the box around it where the
 * system has a q̈, all with the system's exact q̈ (float64, stored float32). A batch is a pure function
 * of its seed.
 */
export class RunSource implements DataSource {
  readonly record: DataRecord = { kind: 'box' };
  readonly description: string;
  private readonly dof: number;

  /** @param share of each batch taken from the recorded run (0–1; 0 without samples) */
  constructor(
    private readonly system: System,
    private readonly box: TrainingBox,
    private readonly run: RecordedRun | null,
    private readonly share: number,
  ) {
    this.dof = system.dof;
    const fromRun = run && run.samples > 0 ? Math.min(Math.max(share, 0), 1) : 0;
    this.share = fromRun;
    this.description =
      `${Math.round(fromRun * 100)} % of each batch from the ${run?.samples ?? 0} recorded states of the exact lane, ` +
      `the rest fresh uniform states of the box q ${JSON.stringify(box.q)}, qd ${JSON.stringify(box.qd)}; exact qdd of the system`;
  }

  draw(seed: number, count: number): TrainingBatch {
    const n = this.dof;
    const fromRun = this.run ? Math.round(count * this.share) : 0;
    const fresh = this.boxStates(createRng(seed), count - fromRun);
    if (fromRun === 0) return fresh;
    const run = this.run!;
    const rng = createRng((seed ^ 0x5bd1e995) >>> 0);
    const q = new Float64Array(fromRun * n);
    const qd = new Float64Array(fromRun * n);
    for (let s = 0; s < fromRun; s++) {
      const k = Math.min(run.samples - 1, Math.floor(rng() * run.samples));
      for (let i = 0; i < n; i++) {
        q[s * n + i] = run.q[k * n + i];
        qd[s * n + i] = run.qd[k * n + i];
      }
    }
    const target = new Float64Array(fromRun * n);
    this.system.accelerations(q, qd, target, fromRun);
    const join = (a: Float32Array, b: Float64Array) => {
      const out = new Float32Array(count * n);
      out.set(a);
      for (let i = 0; i < b.length; i++) out[a.length + i] = b[i];
      return out;
    };
    return { q: join(fresh.q, q), qd: join(fresh.qd, qd), target: join(fresh.target, target) };
  }

  /**
   * `count` uniform states of the box with their exact q̈. A state where the system has no q̈ (it throws
   * or gives a non-finite value: |q̇| ≥ c for the relativistic particle, a box that reaches past a
   * chart's edge) is drawn again, up to {@link MAX_TRIES} times.
   */
  private boxStates(rng: () => number, count: number): TrainingBatch {
    const n = this.dof;
    const { q: qBox, qd: vBox } = this.box;
    const q = new Float32Array(count * n);
    const qd = new Float32Array(count * n);
    const target = new Float32Array(count * n);
    const qs = new Float64Array(n);
    const vs = new Float64Array(n);
    const out = new Float64Array(n);
    for (let s = 0; s < count; s++) {
      for (let attempt = 1; ; attempt++) {
        for (let i = 0; i < n; i++) {
          qs[i] = qBox[i][0] + (qBox[i][1] - qBox[i][0]) * rng();
          vs[i] = vBox[i][0] + (vBox[i][1] - vBox[i][0]) * rng();
        }
        let ok = true;
        try {
          this.system.accelerations(qs, vs, out, 1);
          for (let i = 0; i < n; i++) ok &&= Number.isFinite(out[i]);
        } catch {
          ok = false;
        }
        if (ok || attempt === MAX_TRIES) {
          if (!ok) out.fill(Number.NaN);
          q.set(qs, s * n);
          qd.set(vs, s * n);
          target.set(out, s * n);
          break;
        }
      }
    }
    return { q, qd, target };
  }
}
