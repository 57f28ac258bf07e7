import { nodeFs } from '../model/nodeIo.js';
import type { ResolvedOptions } from './options.js';

/**
 * Counters and options written next to the weights (`trainer.json`), enough to resume exactly. The options
 * carry the data's record (`options.data`: the box, or the recorded files' sha256 and lanes and the
 * derivative settings) and, for a system outside the registry, its angle flags and Lagrangian text.
 */
export interface TrainerState {
  version: 1;
  options: ResolvedOptions;
  /** Adam steps taken. */
  t: number;
  /** Batches drawn (skipped updates draw too). */
  draws: number;
  /** Updates skipped for a non-finite loss or gradient. */
  skipped: number;
  wallSeconds: number;
  /** Validation history: [step, mean q̈ L1]. */
  history: [number, number][];
}

/** The arrays one after another in one Float32Array. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Write the optimiser's state of a checkpoint into `dir` (which holds the model already): the Adam moments
 * as raw float32 (`adam.bin`, in {@link Adam.moments} order) and the counters (`trainer.json`). Node only.
 */
export async function writeCheckpoint(
  dir: string,
  state: TrainerState,
  moments: Float32Array,
): Promise<void> {
  const fs = await nodeFs();
  await fs.writeFile(
    `${dir}/adam.bin`,
    new Uint8Array(moments.buffer, moments.byteOffset, moments.byteLength),
  );
  await fs.writeFile(`${dir}/trainer.json`, `${JSON.stringify(state, null, 1)}\n`);
}

/**
 * Read the optimiser's state written by {@link writeCheckpoint}. Node only.
 * @throws Error when `dir` holds no checkpoint
 */
export async function readCheckpoint(dir: string): Promise<{ state: TrainerState; moments: Float32Array }> {
  const fs = await nodeFs();
  let state: TrainerState;
  try {
    state = JSON.parse(await fs.readFile(`${dir}/trainer.json`, 'utf8')) as TrainerState;
  } catch {
    throw new Error(
      `No checkpoint in '${dir}' (trainer.json missing); write one with --out or --checkpoint-every.`,
    );
  }
  const moments = new Float32Array(new Uint8Array(await fs.readFile(`${dir}/adam.bin`)).buffer);
  return { state, moments };
}
