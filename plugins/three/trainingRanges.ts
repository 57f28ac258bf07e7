import type { Engine } from '../../src/core/types.js';

/** The box a learned model's training states were drawn from (docs/model-format.md, `trainingRanges`). */
export interface TrainingRanges {
  /** `[lo, hi]` per coordinate. */
  q: readonly (readonly [number, number])[];
  /** `[lo, hi]` per velocity. */
  qd: readonly (readonly [number, number])[];
}

/**
 * The training ranges of a learned engine's model, when the engine exposes its model's metadata
 * (`engine.metadata`, `engine.model.metadata`, or `engine.trainingRanges`); undefined for exact engines.
 */
export function trainingRangesOf(engine: Engine): TrainingRanges | undefined {
  const e = engine as unknown as Record<string, unknown>;
  const candidates = [
    e.trainingRanges,
    (e.metadata as Record<string, unknown> | undefined)?.trainingRanges,
    ((e.model as Record<string, unknown> | undefined)?.metadata as Record<string, unknown> | undefined)
      ?.trainingRanges,
  ];
  for (const c of candidates) {
    if (
      c &&
      typeof c === 'object' &&
      Array.isArray((c as TrainingRanges).q) &&
      Array.isArray((c as TrainingRanges).qd)
    ) {
      return c as TrainingRanges;
    }
  }
  return undefined;
}

/**
 * Whether `value` lies in `[lo, hi]`. An angle is compared after wrapping it into `[lo, lo + 2π)`, since the
 * network sees angles only modulo 2π; a range at least 2π wide therefore contains every angle.
 */
export function inRange(value: number, range: readonly [number, number], angle: boolean): boolean {
  const [lo, hi] = range;
  if (!angle) return value >= lo && value <= hi;
  const twoPi = 2 * Math.PI;
  if (hi - lo >= twoPi - 1e-9) return true;
  const wrapped = lo + ((((value - lo) % twoPi) + twoPi) % twoPi);
  return wrapped <= hi;
}
