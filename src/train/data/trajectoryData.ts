import type { System } from '../../core/types.js';
import {
  type DerivativeOptions,
  estimateDerivatives,
  resolveDerivatives,
  type TrajectorySamples,
} from './derivatives.js';
import { TrajectorySource } from './TrajectorySource.js';
import { parseTrajectory, type Trajectory, TrajectoryError } from './trajectory.js';

/** One recorded file to train on. */
export interface TrajectoryFile {
  /** The file's bytes or text (hashed as UTF-8 text). */
  content: string | Uint8Array;
  /** Its name, for messages and the provenance. */
  name: string;
  /** App exports: the lane to read. @default the first lane of an exact engine */
  lane?: string;
}

/** Hex sha256 of bytes (Web Crypto: Node ≥ 20 and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', copy.buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Parse recorded trajectory files and check them against `system` (same dof).
 * @throws TrajectoryError naming the file and the problem
 */
export function readTrajectories(files: readonly TrajectoryFile[], system?: System): Trajectory[] {
  return files.map((f) => {
    const text = typeof f.content === 'string' ? f.content : new TextDecoder().decode(f.content);
    const traj = parseTrajectory(text, { lane: f.lane, name: f.name });
    if (system && traj.dof !== system.dof)
      throw new TrajectoryError(
        `${f.name}: the file has ${traj.dof} coordinates but system '${system.id}' has ${system.dof}; train the system the file recorded.`,
      );
    return traj;
  });
}

/**
 * A data source of recorded motion: every file parsed, its q̇ and q̈ estimated
 * ({@link estimateDerivatives}), the states pooled; the files' sha256 and the derivative settings go to
 * checkpoints, so a resume refuses other data.
 * @throws TrajectoryError for a file that cannot be used
 */
export async function trajectorySource(
  files: readonly TrajectoryFile[],
  system: System,
  derivatives: DerivativeOptions = {},
): Promise<TrajectorySource> {
  if (files.length === 0) throw new TrajectoryError('no trajectory files given.');
  const resolved = resolveDerivatives(derivatives);
  const trajs = readTrajectories(files, system);
  const parts: TrajectorySamples[] = trajs.map((t, i) => {
    try {
      return estimateDerivatives(t, system.angles, resolved, system);
    } catch (e) {
      if (e instanceof TrajectoryError) throw new TrajectoryError(`${files[i].name}: ${e.message}`);
      throw e;
    }
  });
  const n = system.dof;
  const count = parts.reduce((s, p) => s + p.count, 0);
  const pooled: TrajectorySamples = {
    dof: n,
    count,
    q: new Float64Array(count * n),
    qd: new Float64Array(count * n),
    qdd: new Float64Array(count * n),
    h: parts[0].h,
    segments: parts.reduce((s, p) => s + p.segments, 0),
    dropped: parts.reduce((s, p) => s + p.dropped, 0),
  };
  let off = 0;
  for (const p of parts) {
    pooled.q.set(p.q, off);
    pooled.qd.set(p.qd, off);
    pooled.qdd.set(p.qdd, off);
    off += p.count * n;
  }
  const records = await Promise.all(
    files.map(async (f, i) => ({
      sha256: await sha256Hex(
        typeof f.content === 'string' ? new TextEncoder().encode(f.content) : f.content,
      ),
      lane: trajs[i].lane,
      name: f.name,
    })),
  );
  return new TrajectorySource(pooled, records, resolved);
}
