import type { Lane } from './Lane.js';
import type { Recorder } from './Recorder.js';
import type { PushRecord } from './Simulation.js';
import type { EngineRoute } from './urlState.js';

/** Metadata written with an exported run. */
export interface RunInfo {
  scene: string;
  dt: number;
  substeps: number;
  integrator: string;
  backend: string;
  /** A link that opens this run again, with every learned lane's route pinned. */
  url: string;
  /** The route of each learned lane (by lane key) the run took. */
  routes: Readonly<Record<string, EngineRoute>>;
  /**
   * Whether anything pushed or edited the run (a drag, a pluck, damping, a 3D view's `state` or `poke`
   * edit): its `url` then replays only the unforced part.
   */
  forced: boolean;
  /** Rayleigh damping C at the end of the run (0: none). */
  damping: number;
  /** Every push, per lane, at the step it was applied (see `PushRecord`), up to `MAX_PUSH_RECORDS`. */
  pushes: readonly PushRecord[];
  /** Push records past that cap: counted, not listed. */
  pushesDropped: number;
}

/**
 * The recorded run as JSON: the link that replays it (`url`), per lane its engine, system and route
 * (learned lanes; null otherwise), and for each sample the time, the first recorded state (`q`, `qd`:
 * `[T][dof]`), the relative energy ledger (E − E₀ − W)/E₀ (`drift`), the work of external forces
 * (`work`) and the divergence from the reference lane. A pushed or edited run is marked `forced` and
 * lists its `pushes`: one `PushRecord` `{ step, lane, kind, point, copy, value }` per lane and step, where
 * `kind` is `force` (`value` [Fx, Fy, Fz] N on drawn point `point` of copy `copy`, held over the step),
 * `impulse` ([Jx, Jy, Jz] N·s on that point), `damping` ([C]; `point`, `copy` −1), `state` (copy `copy`
 * set to `value` = [q, q̇], `[2 dof]`; `point` the grabbed point) or `poke` (grid point `point`, rim
 * included, of copy 0 pressed to height `value[0]` with a Gaussian bump of `value[1]` nodes; see
 * `applyStateEdit`). Replaying the log on the same start (each record before step `step`: forces set,
 * impulses applied, damping set, edits applied with `applyStateEdit`) gives the run bit for bit. The
 * `url` carries damping but not the pushes. Numbers are float64 as recorded (JSON round-trips them
 * exactly).
 */
export function runToJson(rec: Recorder, lanes: readonly Lane[], info: RunInfo): string {
  const n = rec.length;
  const t = Array.from(rec.t.subarray(0, n));
  const { routes, ...rest } = info;
  const out = {
    format: 'three-lnn/app-run',
    version: 1,
    ...rest,
    samples: n,
    every: rec.every,
    t,
    lanes: lanes.map((lane, l) => {
      const tr = rec.tracks[l];
      const dof = tr?.dof ?? lane.system.dof;
      const size = (tr?.states ?? 0) * dof;
      const q: number[][] = [];
      const qd: number[][] = [];
      for (let s = 0; s < n && size > 0; s++) {
        q.push(Array.from(tr.q.subarray(s * size, s * size + dof)));
        qd.push(Array.from(tr.qd.subarray(s * size, s * size + dof)));
      }
      return {
        key: lane.key,
        engine: lane.engineId,
        system: lane.system.id,
        params: { ...lane.system.params },
        model: lane.model ?? null,
        route: routes[lane.key] ?? null,
        status: lane.status,
        reason: lane.reason || null,
        q,
        qd,
        drift: tr ? Array.from(tr.drift.subarray(0, n), nullIfNaN) : [],
        work: tr ? Array.from({ length: n }, (_, s) => tr.work[s * tr.states] ?? 0) : [],
        forces: lane.forcesUnsupported === null ? 'taken' : `unsupported: ${lane.forcesUnsupported}`,
        divergence: tr ? Array.from(tr.divergence.subarray(0, n), nullIfNaN) : [],
      };
    }),
  };
  return JSON.stringify(out);
}

/**
 * The recorded run as CSV: `t`, `forced` (1 on every row of a run that was pushed, damped or edited, as
 * {@link RunInfo.forced}; 0 otherwise), then per lane `<key>.q<i>`, `<key>.qd<i>`, `<key>.drift`,
 * `<key>.divergence`.
 */
export function runToCsv(rec: Recorder, lanes: readonly Lane[], info: Pick<RunInfo, 'forced'>): string {
  const head = ['t', 'forced'];
  const forced = info.forced ? '1' : '0';
  for (let l = 0; l < lanes.length; l++) {
    const tr = rec.tracks[l];
    const key = lanes[l].key;
    const dof = tr && tr.states > 0 ? tr.dof : 0;
    for (let i = 0; i < dof; i++) head.push(`${key}.q${i}`);
    for (let i = 0; i < dof; i++) head.push(`${key}.qd${i}`);
    head.push(`${key}.drift`, `${key}.divergence`);
  }
  const rows = [head.join(',')];
  for (let s = 0; s < rec.length; s++) {
    const row: string[] = [String(rec.t[s]), forced];
    for (let l = 0; l < lanes.length; l++) {
      const tr = rec.tracks[l];
      if (!tr) continue;
      const size = tr.states * tr.dof;
      if (size > 0) {
        for (let i = 0; i < tr.dof; i++) row.push(String(tr.q[s * size + i]));
        for (let i = 0; i < tr.dof; i++) row.push(String(tr.qd[s * size + i]));
      }
      row.push(csvNum(tr.drift[s]), csvNum(tr.divergence[s]));
    }
    rows.push(row.join(','));
  }
  return `${rows.join('\n')}\n`;
}

function nullIfNaN(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function csvNum(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

/** Offer `text` as a file download. */
export function download(filename: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
