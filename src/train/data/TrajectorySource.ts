import { createRng } from '../../math/random.js';
import type { TrainingBox } from '../trainingBox.js';
import type { DataRecord, DataSource, TrainingBatch } from './DataSource.js';
import type { ResolvedDerivatives, TrajectorySamples } from './derivatives.js';

/**
 * States of recorded trajectories with their estimated q̈ (`estimateDerivatives`): each batch draws
 * `count` of them uniformly with replacement.
 */
export class TrajectorySource implements DataSource {
  readonly record: DataRecord;
  readonly description: string;
  private readonly q: Float32Array;
  private readonly qd: Float32Array;
  private readonly qdd: Float32Array;
  private readonly n: number;
  private readonly count: number;

  /**
   * @param samples the estimated states (float64, stored float32)
   * @param files sha256, lane and name of each file the samples came from, in order
   * @param derivatives how q̇ and q̈ were obtained
   */
  constructor(
    samples: TrajectorySamples,
    files: { sha256: string; lane: string | null; name: string }[],
    derivatives: ResolvedDerivatives,
  ) {
    if (samples.count < 1) throw new Error('TrajectorySource: no states.');
    this.n = samples.dof;
    this.count = samples.count;
    this.q = Float32Array.from(samples.q);
    this.qd = Float32Array.from(samples.qd);
    this.qdd = Float32Array.from(samples.qdd);
    this.record = { kind: 'trajectory', files, derivatives, states: samples.count };
    const how =
      derivatives.method === 'exact'
        ? 'q and qd as recorded, exact qdd of the system'
        : `Savitzky–Golay window ${derivatives.window} order ${derivatives.order}, qd ${derivatives.qd === 'file' ? 'from the file where present' : 'estimated from q'}, qdd estimated`;
    this.description = `${samples.count} recorded states (${files.map((f) => `${f.name}${f.lane ? ` lane ${f.lane}` : ''} sha256 ${f.sha256.slice(0, 12)}`).join('; ')}) drawn uniformly with replacement; ${how}`;
  }

  draw(seed: number, count: number): TrainingBatch {
    const rng = createRng(seed);
    const n = this.n;
    const out = {
      q: new Float32Array(count * n),
      qd: new Float32Array(count * n),
      target: new Float32Array(count * n),
    };
    for (let s = 0; s < count; s++) {
      const j = Math.min(this.count - 1, Math.floor(rng() * this.count));
      out.q.set(this.q.subarray(j * n, (j + 1) * n), s * n);
      out.qd.set(this.qd.subarray(j * n, (j + 1) * n), s * n);
      out.target.set(this.qdd.subarray(j * n, (j + 1) * n), s * n);
    }
    return out;
  }

  /**
   * The smallest box holding every state (angles keep their full turn [−π, π)), for the network's input
   * scaling and the model's training ranges.
   */
  box(angles: readonly boolean[]): TrainingBox {
    const n = this.n;
    const lo = (x: Float32Array, i: number) => {
      let v = Number.POSITIVE_INFINITY;
      for (let s = 0; s < this.count; s++) v = Math.min(v, x[s * n + i]);
      return v;
    };
    const hi = (x: Float32Array, i: number) => {
      let v = Number.NEGATIVE_INFINITY;
      for (let s = 0; s < this.count; s++) v = Math.max(v, x[s * n + i]);
      return v;
    };
    const range = (x: Float32Array, i: number): [number, number] => {
      const a = lo(x, i);
      const b = hi(x, i);
      return a === b ? [a - 1, b + 1] : [a, b];
    };
    return {
      q: Array.from({ length: n }, (_, i) => (angles[i] ? [-Math.PI, Math.PI] : range(this.q, i))),
      qd: Array.from({ length: n }, (_, i) => range(this.qd, i)),
      rapidity: false,
    };
  }
}
