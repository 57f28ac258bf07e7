/**
 * Recorded trajectories for training: the app's JSON and CSV exports and the plain trajectory format
 * (docs/training.md, "Training from recorded motion"). Input is treated as hostile: sizes are bounded and
 * every problem is a {@link TrajectoryError} with a one-line message naming the fix.
 */

/** Largest text accepted (characters). */
export const MAX_TRAJECTORY_CHARS = 256 * 1024 * 1024;
/** Most samples in one trajectory. */
export const MAX_TRAJECTORY_SAMPLES = 2_000_000;
/** Most coordinates. */
export const MAX_TRAJECTORY_DOF = 64;
/** Most lanes in an app export. */
export const MAX_TRAJECTORY_LANES = 256;

/** `format` of the plain trajectory JSON. */
export const TRAJECTORY_FORMAT = 'three-lnn/trajectory';
/** `format` of the app's JSON export. */
export const APP_RUN_FORMAT = 'three-lnn/app-run';
/** Engines whose lanes are exact motion (the default lane of an app export). */
const EXACT_ENGINES = ['analytic', 'lagrangian'];

/** Which of the accepted layouts a trajectory came in. */
export type TrajectoryLayout = 'app-json' | 'app-csv' | 'trajectory-json' | 'trajectory-csv';

/**
 * One recorded trajectory. Missing values (JSON null, empty CSV cells) are NaN; such samples split the
 * trajectory (see `estimateDerivatives`).
 */
export interface Trajectory {
  layout: TrajectoryLayout;
  /** The system id the file names, or null (CSV files name none). */
  system: string | null;
  /** System parameters the file names, or null. */
  params: Record<string, number> | null;
  /** The app lane read, or null for the plain format. */
  lane: string | null;
  /** Coordinates n. */
  dof: number;
  /** Sample times `[T]`. */
  t: Float64Array;
  /** Positions `[T * n]`. */
  q: Float64Array;
  /** Velocities `[T * n]`, or null when the file has none. */
  qd: Float64Array | null;
}

/** A trajectory file that cannot be used; the message names the problem and the fix. */
export class TrajectoryError extends Error {
  override readonly name = 'TrajectoryError';
}

/** Options of {@link parseTrajectory}. */
export interface ParseTrajectoryOptions {
  /** App exports: the lane to read (its key). @default the first lane of an exact engine */
  lane?: string;
  /** The file's name, for messages. @default 'trajectory' */
  name?: string;
}

/**
 * Parse a trajectory from text: JSON (the app's export `three-lnn/app-run` or `three-lnn/trajectory`)
 * when it starts with `{`, else CSV (the app's `t,<key>.q0,…` export or `t,q1,…,qn[,qd1,…,qdn]`).
 * @throws TrajectoryError naming the problem and the fix
 */
export function parseTrajectory(text: string, options: ParseTrajectoryOptions = {}): Trajectory {
  const name = options.name ?? 'trajectory';
  if (text.length > MAX_TRAJECTORY_CHARS)
    throw new TrajectoryError(
      `${name}: ${text.length} characters is over the limit of ${MAX_TRAJECTORY_CHARS}; record a shorter run or fewer samples.`,
    );
  const trimmed = text.trimStart();
  return trimmed.startsWith('{')
    ? parseJson(trimmed, name, options.lane)
    : parseCsv(trimmed, name, options.lane);
}

function parseJson(text: string, name: string, lane: string | undefined): Trajectory {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new TrajectoryError(`${name}: not valid JSON (${(e as Error).message}); export it again.`);
  }
  const o = doc as Record<string, unknown>;
  if (o.format === APP_RUN_FORMAT) return appJson(o, name, lane);
  if (o.format === TRAJECTORY_FORMAT) {
    if (o.version !== 1)
      throw new TrajectoryError(
        `${name}: trajectory version ${String(o.version)} is unknown; this reads version 1.`,
      );
    if (lane !== undefined)
      throw new TrajectoryError(`${name}: --lane applies to app exports; a trajectory file holds one run.`);
    if (typeof o.system !== 'string' || o.system.length === 0 || o.system.length > 200)
      throw new TrajectoryError(`${name}: 'system' must name the system id, e.g. "double-pendulum".`);
    const t = numbers(o.t, `${name}: 't'`, false);
    const { values: q, dof } = rows(o.q, t.length, `${name}: 'q'`);
    const qd = o.qd === undefined || o.qd === null ? null : rows(o.qd, t.length, `${name}: 'qd'`, dof).values;
    return {
      layout: 'trajectory-json',
      system: o.system,
      params: o.params === undefined ? null : paramsOf(o.params, name),
      lane: null,
      dof,
      t,
      q,
      qd,
    };
  }
  throw new TrajectoryError(
    `${name}: unknown format ${JSON.stringify(String(o.format)).slice(0, 60)}; give the app's JSON export ('${APP_RUN_FORMAT}') or a '${TRAJECTORY_FORMAT}' file (docs/training.md).`,
  );
}

function appJson(o: Record<string, unknown>, name: string, lane: string | undefined): Trajectory {
  if (!Array.isArray(o.lanes) || o.lanes.length === 0 || o.lanes.length > MAX_TRAJECTORY_LANES)
    throw new TrajectoryError(
      `${name}: an app export needs 1 to ${MAX_TRAJECTORY_LANES} lanes; export the run again.`,
    );
  if (o.forced === true)
    throw new TrajectoryError(
      `${name}: the run was pushed, damped or edited (forced: true), so it is not the system's free motion; export a run without pushes to train on it.`,
    );
  const lanes = o.lanes as Record<string, unknown>[];
  const keys = lanes.map((l) => String(l?.key));
  const recorded = (l: Record<string, unknown>) => Array.isArray(l?.q) && (l.q as unknown[]).length > 0;
  let chosen: Record<string, unknown> | undefined;
  if (lane !== undefined) {
    chosen = lanes.find((l) => l?.key === lane);
    if (!chosen) throw new TrajectoryError(`${name}: no lane '${lane}'; lanes: ${keys.join(', ')}.`);
    if (!recorded(chosen))
      throw new TrajectoryError(
        `${name}: lane '${lane}' recorded no states (too large to record); pick another.`,
      );
  } else {
    chosen = lanes.find((l) => EXACT_ENGINES.includes(String(l?.engine)) && recorded(l));
    if (!chosen)
      throw new TrajectoryError(
        `${name}: no recorded lane of an exact engine (${EXACT_ENGINES.join(', ')}); name one with --lane (lanes: ${keys.join(', ')}).`,
      );
  }
  const t = numbers(o.t, `${name}: 't'`, false);
  const { values: q, dof } = rows(chosen.q, t.length, `${name}: lane '${chosen.key}' q`);
  const qd = Array.isArray(chosen.qd)
    ? rows(chosen.qd, t.length, `${name}: lane '${chosen.key}' qd`, dof).values
    : null;
  if (typeof chosen.system !== 'string' || chosen.system.length === 0 || chosen.system.length > 200)
    throw new TrajectoryError(`${name}: lane '${chosen.key}' names no system; export the run again.`);
  return {
    layout: 'app-json',
    system: chosen.system,
    params: chosen.params === undefined ? null : paramsOf(chosen.params, name),
    lane: String(chosen.key),
    dof,
    t,
    q,
    qd,
  };
}

function parseCsv(text: string, name: string, lane: string | undefined): Trajectory {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length < 2)
    throw new TrajectoryError(`${name}: a CSV trajectory needs a header and at least one row.`);
  if (lines.length - 1 > MAX_TRAJECTORY_SAMPLES)
    throw new TrajectoryError(
      `${name}: ${lines.length - 1} rows is over the limit of ${MAX_TRAJECTORY_SAMPLES}; record fewer samples.`,
    );
  const head = lines[0].split(',').map((h) => h.trim());
  if (head[0] !== 't')
    throw new TrajectoryError(
      `${name}: the first CSV column must be 't' (header 't,q1,…,qn[,qd1,…,qdn]' or the app's CSV export), got '${head[0].slice(0, 40)}'.`,
    );
  let qCols: number[];
  let qdCols: number[] | null;
  let layout: TrajectoryLayout;
  let laneKey: string | null = null;
  if (head.slice(1).every((h) => /^qd?\d+$/.test(h))) {
    if (lane !== undefined)
      throw new TrajectoryError(`${name}: --lane applies to app exports; a trajectory file holds one run.`);
    layout = 'trajectory-csv';
    const qs = head.filter((h) => /^q\d+$/.test(h));
    const n = qs.length;
    qCols = seq(n, (i) => head.indexOf(`q${i + 1}`));
    const qds = head.filter((h) => /^qd\d+$/.test(h));
    qdCols = qds.length === 0 ? null : seq(n, (i) => head.indexOf(`qd${i + 1}`));
    if (n === 0 || qCols.includes(-1) || (qdCols !== null && (qds.length !== n || qdCols.includes(-1))))
      throw new TrajectoryError(
        `${name}: the header must be 't,q1,…,qn' optionally followed by 'qd1,…,qdn' (the same n), got '${lines[0].slice(0, 80)}'.`,
      );
  } else {
    layout = 'app-csv';
    const keys = [...new Set(head.slice(1).flatMap((h) => /^(.+)\.q0$/.exec(h)?.[1] ?? []))];
    if (keys.length === 0)
      throw new TrajectoryError(
        `${name}: CSV header is neither 't,q1,…,qn[,qd1,…]' nor the app's export ('t,<lane>.q0,…'); see docs/training.md.`,
      );
    if (lane !== undefined && !keys.includes(lane))
      throw new TrajectoryError(
        `${name}: no lane '${lane}' with recorded states; lanes: ${keys.join(', ')}.`,
      );
    laneKey = lane ?? keys.find((k) => EXACT_ENGINES.includes(k)) ?? null;
    if (laneKey === null)
      throw new TrajectoryError(
        `${name}: the CSV does not say which lane is exact; name one with --lane (lanes: ${keys.join(', ')}).`,
      );
    const k = laneKey;
    let n = 0;
    while (head.includes(`${k}.q${n}`)) n++;
    qCols = seq(n, (i) => head.indexOf(`${k}.q${i}`));
    qdCols = seq(n, (i) => head.indexOf(`${k}.qd${i}`));
    if (qdCols.includes(-1)) qdCols = null;
  }
  const n = qCols.length;
  if (n > MAX_TRAJECTORY_DOF)
    throw new TrajectoryError(`${name}: ${n} coordinates is over the limit of ${MAX_TRAJECTORY_DOF}.`);
  // The app's export marks a pushed, damped or edited run in a `forced` column (0 or 1 on every row).
  const forcedCol = layout === 'app-csv' ? head.indexOf('forced') : -1;
  const T = lines.length - 1;
  const t = new Float64Array(T);
  const q = new Float64Array(T * n);
  const qd = qdCols ? new Float64Array(T * n) : null;
  for (let s = 0; s < T; s++) {
    const cells = lines[s + 1].split(',');
    if (cells.length !== head.length)
      throw new TrajectoryError(
        `${name}: row ${s + 2} has ${cells.length} cells but the header has ${head.length}; fix or drop that row.`,
      );
    const cell = (c: number, missingOk: boolean) => {
      const raw = cells[c].trim();
      if (raw === '' && missingOk) return Number.NaN;
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v))
        throw new TrajectoryError(
          `${name}: row ${s + 2}, column '${head[c]}': '${raw.slice(0, 30)}' is not a finite number.`,
        );
      return v;
    };
    t[s] = cell(0, false);
    if (forcedCol >= 0 && cells[forcedCol].trim() !== '0')
      throw new TrajectoryError(
        `${name}: row ${s + 2} is marked forced (the run was pushed, damped or edited), so it is not the system's free motion; export a run without pushes to train on it.`,
      );
    for (let i = 0; i < n; i++) {
      q[s * n + i] = cell(qCols[i], true);
      if (qd && qdCols) qd[s * n + i] = cell(qdCols[i], true);
    }
  }
  return { layout, system: null, params: null, lane: laneKey, dof: n, t, q, qd };
}

function seq(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/** A JSON array of finite numbers (null → NaN where `missingOk`). */
function numbers(v: unknown, what: string, missingOk: boolean): Float64Array {
  if (!Array.isArray(v) || v.length === 0)
    throw new TrajectoryError(`${what} must be a non-empty array of numbers.`);
  if (v.length > MAX_TRAJECTORY_SAMPLES)
    throw new TrajectoryError(`${what}: ${v.length} samples is over the limit of ${MAX_TRAJECTORY_SAMPLES}.`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x === null && missingOk) out[i] = Number.NaN;
    else if (typeof x === 'number' && Number.isFinite(x)) out[i] = x;
    else
      throw new TrajectoryError(`${what}[${i}] is ${JSON.stringify(x)?.slice(0, 30)}, not a finite number.`);
  }
  return out;
}

/** `[T][n]` rows of numbers (null → NaN), flattened; n from the first row unless given. */
function rows(v: unknown, T: number, what: string, dof?: number): { values: Float64Array; dof: number } {
  if (!Array.isArray(v) || v.length !== T)
    throw new TrajectoryError(
      `${what} must hold one row per time (${T}), got ${Array.isArray(v) ? v.length : typeof v}.`,
    );
  const first = v[0];
  const n = dof ?? (Array.isArray(first) ? first.length : 0);
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRAJECTORY_DOF)
    throw new TrajectoryError(`${what}: rows must hold 1 to ${MAX_TRAJECTORY_DOF} coordinates each.`);
  const out = new Float64Array(T * n);
  for (let s = 0; s < T; s++) {
    const row = v[s];
    if (!Array.isArray(row) || row.length !== n)
      throw new TrajectoryError(`${what}[${s}] must hold ${n} numbers (the same as every row).`);
    out.set(numbers(row, `${what}[${s}]`, true), s * n);
  }
  return { values: out, dof: n };
}

function paramsOf(v: unknown, name: string): Record<string, number> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new TrajectoryError(`${name}: 'params' must map names to finite numbers, e.g. {"g": 9.8}.`);
  const out: Record<string, number> = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 256) throw new TrajectoryError(`${name}: 'params' holds more than 256 entries.`);
  for (const [k, x] of entries) {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new TrajectoryError(`${name}: params.${k.slice(0, 40)} must be a finite number.`);
    out[k] = x;
  }
  return out;
}
