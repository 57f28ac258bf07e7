import { tidyNumber } from './parse.js';
import type { Trajectory } from './simulate.js';

/** Metadata written at the head of a roll-out's JSON. */
export interface RolloutHeader {
  system: string;
  engine: string;
  integrator: string;
  dt: number;
  [key: string]: unknown;
}

/** Records per output chunk: bounds the size of any one string for long or wide runs. */
const CHUNK = 512;

/** A number as JSON; NaN and ±Infinity, which JSON cannot hold, become null. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/** `[n]` slice of a flat buffer as a JSON array. */
function row(a: Float64Array, start: number, n: number): string {
  let s = '[';
  for (let i = 0; i < n; i++) s += (i > 0 ? ',' : '') + num(a[start + i]);
  return s + ']';
}

/** Record k of a per-state quantity: `[n]` for a single start, `[B][n]` for a batch. */
function record(a: Float64Array, k: number, batch: number, dof: number, batched: boolean): string {
  const start = k * batch * dof;
  if (!batched) return row(a, start, dof);
  let s = '[';
  for (let b = 0; b < batch; b++) s += (b > 0 ? ',' : '') + row(a, start + b * dof, dof);
  return s + ']';
}

/** A JSON array of `count` records produced by `item`, emitted in chunks. */
function* jsonArray(count: number, item: (k: number) => string): Generator<string> {
  yield '[';
  for (let k0 = 0; k0 < count; k0 += CHUNK) {
    const parts: string[] = [];
    for (let k = k0; k < Math.min(count, k0 + CHUNK); k++) parts.push(item(k));
    yield (k0 > 0 ? ',\n' : '\n') + parts.join(',\n');
  }
  yield ']';
}

/**
 * A roll-out as JSON text chunks (non-finite numbers written as null):
 * `{ ...header, "t": [T], "q": [T][n], "qd": [T][n], "energy": [T] }` for one start, or `q`, `qd`:
 * `[T][B][n]` and `energy`: `[T][B]` for a batch; with forces, `work` and `ledger` (E − E(0) − W) shaped
 * like `energy` and `impulses` (those applied); `"failure"` when the run stopped early.
 */
export function* rolloutJson(header: RolloutHeader, traj: Trajectory, batched: boolean): Generator<string> {
  const { count: T, batch, dof } = traj;
  yield JSON.stringify(header).slice(0, -1);
  yield ',\n"t":';
  yield* jsonArray(T, (k) => String(tidyNumber(traj.t[k])));
  for (const key of ['q', 'qd'] as const) {
    yield `,\n"${key}":`;
    yield* jsonArray(T, (k) => record(traj[key], k, batch, dof, batched));
  }
  const perStart: [string, Float64Array | undefined][] = [
    ['energy', traj.energy],
    ['work', traj.work],
    ['ledger', traj.ledger],
  ];
  for (const [key, a] of perStart) {
    if (a === undefined) continue;
    yield `,\n"${key}":`;
    yield* jsonArray(T, (k) => (batched ? row(a, k * batch, batch) : num(a[k])));
  }
  if (traj.impulses) yield `,\n"impulses":${JSON.stringify(traj.impulses)}`;
  if (traj.failure) yield `,\n"failure":${JSON.stringify(traj.failure)}`;
  yield '}\n';
}

/**
 * A roll-out as CSV text chunks. Header `t,q_0,…,q_{n−1},qd_0,…,qd_{n−1},energy` for one start; with a
 * batch, a column `b` (index of the start) follows `t` and there is one row per start per record. With
 * forces, columns `work` and `ledger` (E − E(0) − W) follow `energy`.
 */
export function* rolloutCsv(traj: Trajectory, batched: boolean): Generator<string> {
  const { count: T, batch, dof } = traj;
  const cols = ['t'];
  if (batched) cols.push('b');
  for (let i = 0; i < dof; i++) cols.push(`q_${i}`);
  for (let i = 0; i < dof; i++) cols.push(`qd_${i}`);
  cols.push('energy');
  const { work, ledger } = traj;
  const forced = work !== undefined && ledger !== undefined;
  if (forced) cols.push('work', 'ledger');
  yield cols.join(',') + '\n';
  for (let k0 = 0; k0 < T; k0 += CHUNK) {
    let s = '';
    for (let k = k0; k < Math.min(T, k0 + CHUNK); k++) {
      const t = String(tidyNumber(traj.t[k]));
      for (let b = 0; b < batch; b++) {
        const o = (k * batch + b) * dof;
        s += t;
        if (batched) s += ',' + b;
        for (let i = 0; i < dof; i++) s += ',' + String(traj.q[o + i]);
        for (let i = 0; i < dof; i++) s += ',' + String(traj.qd[o + i]);
        s += ',' + String(traj.energy[k * batch + b]);
        if (forced) s += ',' + String(work[k * batch + b]) + ',' + String(ledger[k * batch + b]);
        s += '\n';
      }
    }
    yield s;
  }
}
