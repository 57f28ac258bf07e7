import type { Params } from '../core/types.js';

/**
 * Declaration of one numeric system parameter: its default, meaning and the values it accepts.
 * Systems list their parameters as `ParamSpec[]`; {@link resolveParams} merges overrides with the
 * defaults and rejects unknown keys or out-of-range values with an Error that names them.
 */
export interface ParamSpec {
  /** Key in {@link Params}, e.g. `m1`. */
  readonly name: string;
  /** Value used when the caller gives none. */
  readonly default: number;
  /** One-line meaning with units, e.g. `mass of the first bob (kg)`. */
  readonly doc: string;
  /** Value must be strictly positive (masses, lengths, spacings). @default false */
  readonly positive?: boolean;
  /** Value must be an integer (counts such as links or nodes). @default false */
  readonly integer?: boolean;
  /** Smallest accepted value (inclusive). @default -Infinity */
  readonly min?: number;
  /** Largest accepted value (inclusive). @default Infinity */
  readonly max?: number;
}

/** What a value must satisfy, in words, for error messages. */
function describeRange(spec: ParamSpec): string {
  const parts: string[] = ['a finite number'];
  if (spec.integer) parts.push('an integer');
  if (spec.positive) parts.push('> 0');
  if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  return parts.join(', ');
}

/**
 * Merge `overrides` into the defaults of `specs` and validate every value.
 * @param systemId used in error messages
 * @throws Error naming an unknown key (and listing the valid ones) or a value out of range
 * @example resolveParams('simple-pendulum', specs, { l: 2 }) // { m: 1, l: 2, g: 9.8 }
 */
export function resolveParams(
  systemId: string,
  specs: readonly ParamSpec[],
  overrides: Partial<Record<string, number>> = {},
): Params {
  const out: Record<string, number> = {};
  for (const spec of specs) out[spec.name] = spec.default;
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    const spec = specs.find((s) => s.name === key);
    if (!spec) {
      const valid = specs.map((s) => s.name).join(', ') || '(none)';
      throw new Error(`${systemId}: unknown parameter '${key}'. Valid parameters: ${valid}.`);
    }
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!spec.integer || Number.isInteger(value)) &&
      (!spec.positive || value > 0) &&
      (spec.min === undefined || value >= spec.min) &&
      (spec.max === undefined || value <= spec.max);
    if (!ok) {
      throw new Error(
        `${systemId}: invalid value ${String(value)} for parameter '${key}' (${spec.doc}); it must be ${describeRange(spec)}.`,
      );
    }
    out[key] = value;
  }
  return Object.freeze(out);
}
