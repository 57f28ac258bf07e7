import type { System } from '../../core/types.js';
import { createRng } from '../../math/random.js';
import { sampleBox, type TrainingBox } from '../trainingBox.js';
import type { DataRecord, DataSource, TrainingBatch } from './DataSource.js';

/** Fresh uniform states of a training box with the system's exact q̈ every batch. */
export class BoxSource implements DataSource {
  readonly record: DataRecord = { kind: 'box' };
  readonly description: string;

  constructor(
    private readonly system: System,
    private readonly box: TrainingBox,
  ) {
    this.description = `fresh uniform states every step from the box q ${JSON.stringify(box.q)}, ${box.rapidity ? 'rapidity' : 'qd'} ${JSON.stringify(box.qd)}; exact qdd of the system`;
  }

  draw(seed: number, count: number): TrainingBatch {
    return sampleBox(this.system, this.box, createRng(seed), count);
  }
}
