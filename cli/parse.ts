import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { SHIPPED_MODELS, type ShippedModelName, shippedModel } from '../src/index.js';
import { CliError } from './CliError.js';
import { DEFAULT_MAX_STATES, overLimit, show } from './limits.js';

/**
 * Value parsers for command-line flags. Parsers given to commander throw `InvalidArgumentError`, which
 * commander reports as "option '--flag <x>' argument 'v' is invalid. <reason>"; the others throw
 * {@link CliError} with the flag named in the message.
 */

/** A number as written on a command line; rejects empty strings, NaN and ±Infinity. */
function toFinite(text: string): number {
  const t = text.trim();
  const v = t === '' ? Number.NaN : Number(t);
  if (!Number.isFinite(v)) {
    throw new InvalidArgumentError(`'${text}' is not a finite number.`);
  }
  return v;
}

/** Parser for a strictly positive, finite number (time steps, durations). */
export function positiveNumber(text: string): number {
  const v = toFinite(text);
  if (!(v > 0)) throw new InvalidArgumentError(`It must be > 0, got ${v}.`);
  return v;
}

/** Parser for a positive integer (counts, strides). */
export function positiveInteger(text: string): number {
  const v = toFinite(text);
  if (!Number.isInteger(v) || v < 1)
    throw new InvalidArgumentError(`It must be an integer ≥ 1, got ${text}.`);
  return v;
}

/** Parser for a comma-separated vector of finite numbers, e.g. `2.0,1.0` (`[n]`). */
export function csvVector(text: string): number[] {
  const parts = text.split(',');
  return parts.map((p, i) => {
    const v = p.trim() === '' ? Number.NaN : Number(p);
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `Entry ${i + 1} ('${p}') is not a finite number. Give comma-separated numbers, e.g. 2.0,1.0.`,
      );
    }
    return v;
  });
}

/** Parser for `--params`: a JSON object of numbers, e.g. `{"g":1.62}`. */
export function paramsJson(text: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(
      `Not valid JSON (${(err as Error).message}). Example: --params '{"g":1.62,"l2":0.5}'.`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`It must be a JSON object of numbers, e.g. '{"g":1.62}'.`);
  }
  // A null-prototype object: a key such as "__proto__" stays an ordinary (unknown) parameter name.
  const out: Record<string, number> = Object.create(null);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidArgumentError(`Parameter ${brief(k)} must be a finite number, got ${brief(v)}.`);
    }
    out[k] = v;
  }
  return out;
}

/** A batch of states as read from a `--states` file, flattened: `q`, `qd`: `[B * n]`. */
export interface StateBatch {
  /** Number of states B. */
  batch: number;
  /** Coordinates, `[B * n]` (state b at `b * n`). */
  q: Float64Array;
  /** Velocities, `[B * n]`. */
  qd: Float64Array;
}

/** Validate a `[B][n]` array of finite numbers read from JSON into a flat `[B * n]` array. */
function matrix(value: unknown, key: string, source: string, dof: number): Float64Array {
  if (!Array.isArray(value) || value.length === 0) {
    throw new CliError(
      `${source}: "${key}" must be a non-empty array of states, each an array of ${dof} numbers.`,
    );
  }
  const out = new Float64Array(value.length * dof);
  for (let b = 0; b < value.length; b++) {
    const row: unknown = value[b];
    if (!Array.isArray(row)) {
      throw new CliError(`${source}: "${key}"[${b}] must be an array of ${dof} numbers.`);
    }
    if (row.length !== dof) {
      throw new CliError(
        `${source}: "${key}"[${b}] has ${row.length} entries; the system has ${dof} degrees of freedom.`,
      );
    }
    for (let i = 0; i < dof; i++) {
      const v: unknown = row[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new CliError(
          `${source}: "${key}"[${b}][${i}] is ${brief(v)}; every entry must be a finite number.`,
        );
      }
      out[b * dof + i] = v;
    }
  }
  return out;
}

/** A JSON value shortened for a one-line message. */
export function brief(v: unknown, max = 40): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Parse and validate a JSON batch of states `{"q": [[...]], "qd": [[...]]}` for a system with `dof`
 * degrees of freedom.
 * @param source how to name the input in messages, e.g. `--states states.json`
 * @param maxStates the most states accepted (`--max-states`), checked before the entries are read
 * @throws CliError naming the first bad entry, or the limit
 */
export function parseStates(
  text: string,
  source: string,
  dof: number,
  maxStates: number = DEFAULT_MAX_STATES,
): StateBatch {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(
      `${source}: not valid JSON (${(err as Error).message}). Expected {"q": [[...], ...], "qd": [[...], ...]}.`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`${source}: expected a JSON object {"q": [[...], ...], "qd": [[...], ...]}.`);
  }
  const obj = value as Record<string, unknown>;
  const rawQ = Object.hasOwn(obj, 'q') ? obj.q : undefined;
  const rawQd = Object.hasOwn(obj, 'qd') ? obj.qd : undefined;
  for (const [key, rows] of [
    ['q', rawQ],
    ['qd', rawQd],
  ] as const) {
    if (Array.isArray(rows) && rows.length > maxStates) {
      throw overLimit(`${source}: the number of states in "${key}"`, rows.length, '--max-states', maxStates);
    }
  }
  const q = matrix(rawQ, 'q', source, dof);
  const qd = matrix(rawQd, 'qd', source, dof);
  if (q.length !== qd.length) {
    throw new CliError(
      `${source}: "q" has ${q.length / dof} states but "qd" has ${qd.length / dof}; they must match.`,
    );
  }
  return { batch: q.length / dof, q, qd };
}

/** A number printed without round-off noise (e.g. 5.001 rather than 5.0009999999999994). */
export function tidyNumber(x: number): number {
  return Number(x.toPrecision(12));
}

/**
 * Number of steps of size `dt` that make up `duration`, accepting round-off (5 / 0.001 = 4999.999…).
 * @throws CliError naming the nearest valid durations when `duration` is not a multiple of `dt`
 */
export function stepCount(duration: number, dt: number): number {
  const ratio = duration / dt;
  const steps = Math.round(ratio);
  if (Math.abs(ratio - steps) > 1e-9 * Math.max(1, ratio) || steps < 1) {
    const lo = Math.floor(ratio);
    const hi = Math.ceil(ratio) === lo ? lo + 1 : Math.ceil(ratio);
    const options = [lo, hi].filter((k) => k >= 1).map((k) => tidyNumber(k * dt));
    throw new CliError(
      `--duration ${duration} is not a whole number of --dt ${dt} steps; ` +
        `the nearest valid duration${options.length > 1 ? 's are' : ' is'} ${options.join(' and ')}.`,
    );
  }
  return steps;
}

/**
 * Parser for a model directory flag: the path as given, or, when no such path exists and the value is the
 * name of a shipped model (`double-pendulum-lnn`), that model's folder inside the installed package.
 */
export function modelPath(text: string): string {
  if (existsSync(text) || !(SHIPPED_MODELS as readonly string[]).includes(text)) return text;
  return fileURLToPath(shippedModel(text as ShippedModelName));
}

/** Largest Rayleigh coefficient `--damping` takes (system units, e.g. N·m·s/rad): larger is a typo. */
export const MAX_DAMPING = 1e6;
/** Largest magnitude of one entry of an `--impulse` (generalized impulse or point impulse, N·s). */
export const MAX_IMPULSE = 1e6;
/** Most `--impulse` flags of one run. */
export const MAX_IMPULSES = 1000;

/**
 * Parser for `--damping`: one coefficient C ≥ 0 for every coordinate, or one per coordinate
 * (comma-separated), each finite and at most {@link MAX_DAMPING}. The count is checked against the
 * system's degrees of freedom once the system is known.
 */
export function dampingList(text: string): number[] {
  const parts = text.split(',');
  return parts.map((p, i) => {
    const what = parts.length > 1 ? `Entry ${i + 1} ('${p}')` : 'It';
    const v = p.trim() === '' ? Number.NaN : Number(p);
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(
        `${parts.length > 1 ? what : `'${p}'`} is not a finite number. Give a damping coefficient C ≥ 0 (Q = −C q̇), e.g. --damping 0.1, or one per coordinate: --damping 0.1,0.2.`,
      );
    }
    if (v < 0) {
      throw new InvalidArgumentError(`${what} must be ≥ 0 (damping Q = −C q̇ takes energy out), got ${v}.`);
    }
    if (v > MAX_DAMPING) {
      throw new InvalidArgumentError(`${what} must be at most ${show(MAX_DAMPING)}, got ${v}.`);
    }
    return v;
  });
}

/** One `--impulse`: a generalized impulse `p` `[dof]`, or an impulse `J` `[3]` on drawn point `point`, at time `at`. */
export type ImpulseSpec =
  | { readonly at: number; readonly text: string; readonly p: number[] }
  | { readonly at: number; readonly text: string; readonly point: number; readonly J: number[] };

/** Comma-separated finite numbers of magnitude at most {@link MAX_IMPULSE}, for `--impulse`. */
function impulseNumbers(text: string, what: string): number[] {
  return text.split(',').map((p, i) => {
    const v = p.trim() === '' ? Number.NaN : Number(p);
    if (!Number.isFinite(v)) {
      throw new InvalidArgumentError(`${what} entry ${i + 1} ('${p}') is not a finite number.`);
    }
    if (Math.abs(v) > MAX_IMPULSE) {
      throw new InvalidArgumentError(
        `${what} entry ${i + 1} must be at most ${show(MAX_IMPULSE)} in magnitude, got ${v}.`,
      );
    }
    return v;
  });
}

const IMPULSE_SYNTAX =
  'Write T:P1,P2,… (a generalized impulse, one number per coordinate) or T:point=K:Jx,Jy,Jz (an impulse on drawn point K).';

/**
 * Parser for a repeatable `--impulse`, adding to the ones given before:
 * `T:P1,P2,…` — the generalized impulse p `[dof]` at time T (q̇ jumps by H_vv⁻¹ p), or
 * `T:point=K:Jx,Jy,Jz` — an impulse J `[3]` (world units, N·s) on drawn point K (p = J(q)ᵀ J).
 * Checked against the run (T within it, dof, points) once the system is known.
 */
export function impulseSpec(text: string, previous: ImpulseSpec[] = []): ImpulseSpec[] {
  if (previous.length >= MAX_IMPULSES) {
    throw new InvalidArgumentError(`At most ${show(MAX_IMPULSES)} --impulse flags are taken.`);
  }
  const colon = text.indexOf(':');
  if (colon < 0) throw new InvalidArgumentError(`No ':' after the time. ${IMPULSE_SYNTAX}`);
  const tText = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  const at = tText.trim() === '' ? Number.NaN : Number(tText);
  if (!Number.isFinite(at) || at < 0) {
    throw new InvalidArgumentError(
      `The time '${tText}' must be a finite number ≥ 0 (seconds). ${IMPULSE_SYNTAX}`,
    );
  }
  const point = /^\s*point\s*=\s*([^:]*):(.*)$/.exec(rest);
  if (point) {
    const k = point[1].trim() === '' ? Number.NaN : Number(point[1]);
    if (!Number.isInteger(k) || k < 0) {
      throw new InvalidArgumentError(
        `The point index '${point[1]}' must be an integer ≥ 0. ${IMPULSE_SYNTAX}`,
      );
    }
    const J = impulseNumbers(point[2], 'The point impulse');
    if (J.length !== 3) {
      throw new InvalidArgumentError(
        `A point impulse has 3 numbers Jx,Jy,Jz, got ${J.length}. ${IMPULSE_SYNTAX}`,
      );
    }
    return [...previous, { at, text, point: k, J }];
  }
  if (/^\s*point\b/.test(rest)) throw new InvalidArgumentError(`Bad point impulse. ${IMPULSE_SYNTAX}`);
  return [...previous, { at, text, p: impulseNumbers(rest, 'The impulse') }];
}
