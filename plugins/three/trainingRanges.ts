import type { Engine } from '../../src/index.js';

/** The box a learned model's training states were drawn from (docs/model-format.md, `trainingRanges`). */
export interface TrainingRanges {
  /** `[lo, hi]` per coordinate. */
  q: readonly (readonly [number, number])[];
  /** `[lo, hi]` per velocity. */
  qd: readonly (readonly [number, number])[];
}

/**
 * The training ranges of a learned engine's model (`engine.model.metadata.trainingRanges`, see
 * docs/model-format.md); undefined for exact engines and for models without them.
 */
export function trainingRangesOf(engine: Engine): TrainingRanges | undefined {
  const meta: { readonly kind: string; readonly trainingRanges?: unknown } | undefined =
    engine.model?.metadata;
  const ranges = meta?.trainingRanges as Partial<TrainingRanges> | undefined;
  if (ranges && typeof ranges === 'object' && Array.isArray(ranges.q) && Array.isArray(ranges.qd)) {
    return ranges as TrainingRanges;
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
