import type { ResolvedDerivatives } from './derivatives.js';

/** One batch of training states with their q̈ targets, float32: `[count * n]` each. */
export interface TrainingBatch {
  q: Float32Array;
  qd: Float32Array;
  target: Float32Array;
}

/**
 * What a checkpoint records of its data, so that a resumed run can refuse other data: `box` for fresh
 * analytic states, or the recorded files (their sha256 and lane) and how their derivatives were taken.
 */
export type DataRecord =
  | { kind: 'box' }
  | {
      kind: 'trajectory';
      files: { sha256: string; lane: string | null; name: string }[];
      derivatives: ResolvedDerivatives;
      /** Training states after trimming. */
      states: number;
    };

/**
 * Where a trainer's states and targets come from. Batches are a pure function of the seed passed in
 * (the trainer passes `mix(seed, k)` for batch k), so a checkpoint resumes exactly.
 */
export interface DataSource {
  /** Recorded in checkpoints; a resume refuses a source whose record differs. */
  readonly record: DataRecord;
  /** One line for the model's provenance (`provenance.data`). */
  readonly description: string;
  /** `count` states and targets drawn with the random stream `seed`. */
  draw(seed: number, count: number): TrainingBatch;
}
