import { constants as bufferConstants } from 'node:buffer';
import { InvalidArgumentError, Option } from 'commander';
import { CliError } from './CliError.js';

/**
 * Limits on the work and memory a command may take, checked before any work starts. Each limit has a
 * flag that raises it; a refusal is one line naming the limit, the flag and the value that exceeded it,
 * with exit status 2 (nothing was run).
 */

/** Largest input file (or standard input) read, in bytes: 64 MiB. Flag `--max-input-bytes`. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;
/** Most states in a `--states` batch. Flag `--max-states`. */
export const DEFAULT_MAX_STATES = 1_000_000;
/** Most integration steps of a run, counted over every start or copy (steps × starts). Flag `--max-steps`. */
export const DEFAULT_MAX_STEPS = 10_000_000;
/** Most numbers a roll-out records (records × starts × (2n + 1), 8 bytes each). Flag `--max-output-values`. */
export const DEFAULT_MAX_OUTPUT_VALUES = 50_000_000;
/**
 * Most numbers a scene run records (its recordings are written as one JSON document, so the bound is
 * lower than a roll-out's streamed output). Flag `--max-output-values` of `three-lnn scene`.
 */
export const DEFAULT_MAX_SCENE_OUTPUT_VALUES = 10_000_000;
/** The most bytes any input may be raised to: the longest string this JavaScript engine can hold. */
export const HARD_MAX_INPUT_BYTES = bufferConstants.MAX_STRING_LENGTH;

/** Widest hidden layer `three-lnn train --hidden` accepts. */
export const MAX_HIDDEN_WIDTH = 4096;
/** Most hidden layers `three-lnn train --hidden` accepts. */
export const MAX_HIDDEN_LAYERS = 16;
/** Most weights between consecutive hidden layers (Σ hᵢ·hᵢ₊₁): two 4096-wide layers' worth. */
export const MAX_HIDDEN_WEIGHTS = 2 * MAX_HIDDEN_WIDTH * MAX_HIDDEN_WIDTH;
/** Most Adam steps (`--steps`, `--warmup`, `--val-every`, `--checkpoint-every`) of `three-lnn train`. */
export const MAX_TRAIN_STEPS = 100_000_000;
/** Most states per training batch (`--batch`) and in the validation set (`--val-size`). */
export const MAX_TRAIN_BATCH = 1_000_000;
/** Largest `--seed` (seeds are unsigned 32-bit integers). */
export const MAX_SEED = 0xffff_ffff;
/** Most energy-protocol starts of `three-lnn eval --starts`. */
export const MAX_EVAL_STARTS = 100_000;
/** Longest roll-out of `three-lnn eval --seconds`. */
export const MAX_EVAL_SECONDS = 100_000;
/** Most q̈ states of `three-lnn eval --states`. */
export const MAX_EVAL_STATES = 10_000_000;

/** Numbers as they appear in messages: integers with thousands separators, others as given. */
export function show(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return n.toLocaleString('en-US');
  return n.toExponential(3).replace(/\.?0+e/, 'e');
}

/**
 * Parser for an integer flag in [min, max]: finite, whole, in range (scientific notation accepted:
 * `1e7`). The message names the range.
 */
export function boundedInteger(min: number, max: number): (text: string) => number {
  return (text: string) => {
    const t = text.trim();
    const v = t === '' ? Number.NaN : Number(t);
    if (!Number.isFinite(v) || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(
        `It must be an integer from ${show(min)} to ${show(max)}, got '${text}'.`,
      );
    }
    return v;
  };
}

/** Parser for a limit flag: an integer ≥ 1 up to `max`. */
function limitValue(max: number): (text: string) => number {
  return boundedInteger(1, max);
}

/** `--max-input-bytes <n>`. */
export function maxInputBytesOption(): Option {
  return new Option(
    '--max-input-bytes <n>',
    `largest input file or standard input read, in bytes (at most ${show(HARD_MAX_INPUT_BYTES)})`,
  )
    .argParser(limitValue(HARD_MAX_INPUT_BYTES))
    .default(DEFAULT_MAX_INPUT_BYTES, '64 MiB');
}

/** `--max-states <n>`. */
export function maxStatesOption(): Option {
  return new Option('--max-states <n>', 'most states read from --states')
    .argParser(limitValue(Number.MAX_SAFE_INTEGER))
    .default(DEFAULT_MAX_STATES, show(DEFAULT_MAX_STATES));
}

/** `--max-steps <n>`. */
export function maxStepsOption(what: string): Option {
  return new Option('--max-steps <n>', `most integration steps, ${what}`)
    .argParser(limitValue(Number.MAX_SAFE_INTEGER))
    .default(DEFAULT_MAX_STEPS, show(DEFAULT_MAX_STEPS));
}

/** `--max-output-values <n>`. */
export function maxOutputValuesOption(what: string, def: number): Option {
  return new Option('--max-output-values <n>', `most numbers recorded, ${what}`)
    .argParser(limitValue(Number.MAX_SAFE_INTEGER))
    .default(def, show(def));
}

/**
 * The refusal of work over a limit: `<what> is <value> <unit>, over the limit <flag> <limit>; <advice>,
 * or raise the limit with <flag> <n>.` (exit status 2).
 */
export function overLimit(
  what: string,
  value: number,
  flag: string,
  limit: number,
  advice?: string,
  unit?: string,
): CliError {
  return new CliError(
    `${what} is ${show(value)}${unit ? ` ${unit}` : ''}, over the limit ${flag} ${show(limit)}; ` +
      `${advice ? `${advice}, or ` : ''}raise the limit with ${flag} <n>.`,
  );
}

/** Indices as a short list: `0, 3, 7` or `0, 3, 7, … (12 more)`. */
export function listIndices(
  indices: readonly (number | string)[],
  total = indices.length,
  shown = 5,
): string {
  const head = indices.slice(0, shown).join(', ');
  return total > shown ? `${head}, … (${show(total - shown)} more)` : head;
}
