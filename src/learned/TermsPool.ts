/**
 * Splits the fused exact-derivative pass of a large batch across worker threads, each with its own
 * TF.js wasm instance: Node worker threads (tfjs-backend-wasm has no usable threads in Node), or module
 * Web Workers in a cross-origin-isolated page (the one place a browser offers SharedArrayBuffer). The
 * call stays synchronous — workers are driven through shared memory and `Atomics` — so it fits the
 * synchronous `Engine.accelerations` contract. The calling thread computes one part itself.
 *
 * Where the workers come from is the job of `nodeWorkers.ts` and `browserWorkers.ts`; what a worker
 * runs is `termsServe.ts`.
 */
import type { LoadedModel } from '../model/metadata.js';
import { isNode } from '../model/nodeIo.js';

/** Control block per worker (Int32 slots). */
const SEQ = 0;
const DONE = 1;
const COUNT = 2;
const GEN = 3;
const CMD = 4;
const FAILED = 5;
const SLOTS = 8;
const CMD_RUN = 0;
const CMD_STOP = 1;
/** How long the calling thread waits for a worker's part before it gives up (ms). */
const WAIT_LIMIT_MS = 60_000;

/** What a worker needs to build its weights and find its share of the work. */
export interface TermsWorkerData {
  model: LoadedModel;
  /** Coordinates per network state (n for lnn, 2 for an lgn edge). */
  nLocal: number;
  /** Network input width m (2·nLocal, more with a `sincos` input map). */
  inWidth: number;
  ctrl: SharedArrayBuffer;
  slot: number;
  /** Where the worker's TF.js finds the `.wasm` binaries (see `BackendOptions.wasmPaths`). */
  wasmPaths?: string | Record<string, string>;
}

/** New shared input/output buffers for a worker, sent when the pool grows. */
export interface TermsBuffers {
  generation: number;
  xs: SharedArrayBuffer;
  out: SharedArrayBuffer;
}

/** The started workers of a pool, whatever the platform. */
export interface PoolWorkers {
  readonly count: number;
  /** Hand worker `i` new buffers; it receives them before it acts on the generation they carry. */
  send(i: number, buffers: TermsBuffers): void;
  /** Whether the calling thread may block in `Atomics.wait` (not on a browser's main thread). */
  readonly canBlock: boolean;
  /** Why a worker has stopped (it exited or raised an error since it started), or null while all run. */
  dead(): string | null;
  /** Stop every worker at once. */
  terminate(): void;
}

/** Starts `count` workers from per-slot data; resolves once every one has loaded its weights. */
export type StartWorkers = (
  count: number,
  dataFor: (slot: number) => TermsWorkerData,
) => Promise<PoolWorkers>;

/** A per-call split of `rows` network states over the calling thread and the workers. */
export interface PoolJob {
  /** Write the stacked fused-pass input of rows `[start, start + count)` into `xs` (see `fusedLagrangianPack`). */
  fill(xs: Float32Array<ArrayBufferLike>, start: number, count: number): void;
  /** Run the fused pass on this thread for `count` rows whose input is in `xs`. */
  local(xs: Float32Array, count: number): Float32Array;
}

/** Options of {@link TermsPool.create}. */
export interface TermsPoolOptions {
  /** Network input width m (see `inputMapOf`; 2·nLocal unless angles enter as cos/sin). */
  inWidth?: number;
  /** Where the workers' TF.js finds the `.wasm` binaries; required in a browser. */
  wasmPaths?: string | Record<string, string>;
}

/**
 * Why worker threads cannot run here, or null when they can: a browser page needs cross-origin
 * isolation for SharedArrayBuffer, and its workers need to be told where the `.wasm` binaries are.
 */
export function poolProblem(wasmPaths: TermsPoolOptions['wasmPaths']): string | null {
  if (isNode()) return null;
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated !== true) {
    return (
      'the page is not cross-origin isolated, so it has no SharedArrayBuffer; serve it with the headers ' +
      "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp'"
    );
  }
  if (typeof g.Worker !== 'function') return 'this context cannot start Web Workers';
  if (wasmPaths === undefined) {
    return "the workers need 'wasmPaths' (where the tfjs-backend-wasm .wasm binaries are served)";
  }
  return null;
}

/**
 * A pool of `threads − 1` workers plus the calling thread.
 * @example const pool = await TermsPool.create(model, 2, 2); const out = pool.run(rows, job, out); pool.dispose();
 */
export class TermsPool {
  /** Total threads including the caller. */
  readonly threads: number;
  private readonly workers: PoolWorkers;
  private readonly ctrl: Int32Array;
  private readonly outWidth: number;
  private readonly perRowIn: number;
  private generation = 0;
  private capacity = 0;
  private xsBuffers: Float32Array<ArrayBufferLike>[] = [];
  private outBuffers: Float32Array<ArrayBufferLike>[] = [];
  private localXs = new Float32Array(0);
  private disposed = false;

  private constructor(workers: PoolWorkers, ctrl: Int32Array, nLocal: number, inWidth: number) {
    this.workers = workers;
    this.ctrl = ctrl;
    this.threads = workers.count + 1;
    const k = nLocal + 1;
    this.perRowIn = (1 + k) * inWidth;
    this.outWidth = nLocal * k + inWidth;
  }

  /**
   * Start `threads − 1` workers that evaluate `model`'s network; resolves when all are ready.
   * @param nLocal coordinates per network state (n for lnn, 2 for lgn)
   * @throws Error naming what is missing (see {@link poolProblem}) or why a worker failed to start
   */
  static async create(
    model: LoadedModel,
    nLocal: number,
    threads: number,
    options: TermsPoolOptions = {},
  ): Promise<TermsPool> {
    const inWidth = options.inWidth ?? 2 * nLocal;
    const count = Math.max(0, Math.floor(threads) - 1);
    const problem = poolProblem(options.wasmPaths);
    if (problem !== null) throw new Error(`Cannot start worker threads for the learned engine: ${problem}.`);
    const ctrlBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * SLOTS * Math.max(1, count));
    const start: StartWorkers = isNode()
      ? (await import('./nodeWorkers.js')).startNodeWorkers
      : (await import('./browserWorkers.js')).startBrowserWorkers;
    const dataFor = (slot: number): TermsWorkerData => ({
      model: { metadata: model.metadata, layers: model.layers, source: model.source },
      nLocal,
      inWidth,
      ctrl: ctrlBuffer,
      slot,
      wasmPaths: options.wasmPaths,
    });
    let workers: PoolWorkers;
    try {
      workers = await start(count, dataFor);
    } catch (e) {
      throw new Error(
        `Could not start ${count} worker thread(s) for the learned engine: ${(e as Error).message}`,
      );
    }
    return new TermsPool(workers, new Int32Array(ctrlBuffer), nLocal, inWidth);
  }

  /** Make every part's shared input/output buffers hold at least `rowsPerPart` rows. */
  private reserve(rowsPerPart: number): void {
    if (rowsPerPart <= this.capacity) return;
    this.capacity = Math.max(rowsPerPart, Math.ceil(this.capacity * 1.5));
    this.generation++;
    this.xsBuffers = [];
    this.outBuffers = [];
    for (let i = 0; i < this.workers.count; i++) {
      const xs = new SharedArrayBuffer(4 * this.capacity * this.perRowIn);
      const out = new SharedArrayBuffer(4 * this.capacity * this.outWidth);
      this.xsBuffers.push(new Float32Array(xs));
      this.outBuffers.push(new Float32Array(out));
      this.workers.send(i, { generation: this.generation, xs, out });
    }
  }

  /**
   * Wait until worker `w` has finished run `seq`; throws after {@link WAIT_LIMIT_MS} (a worker that died
   * marks its run finished and failed on the way out, so only a hung one costs the wait).
   */
  private await(w: number, seq: number): void {
    const ctrl = this.ctrl;
    const at = w * SLOTS + DONE;
    const deadline = Date.now() + WAIT_LIMIT_MS;
    if (this.workers.canBlock) {
      while (Atomics.load(ctrl, at) !== seq && Date.now() < deadline)
        Atomics.wait(ctrl, at, Atomics.load(ctrl, at), WAIT_LIMIT_MS);
    } else {
      // A browser's main thread may not block: spin (the worker's part is as large as this thread's).
      let spins = 0;
      while (Atomics.load(ctrl, at) !== seq) {
        if (++spins % 4096 === 0 && Date.now() > deadline) break;
      }
    }
    if (Atomics.load(ctrl, at) !== seq) {
      throw new Error(`A learned-engine worker thread did not answer within ${WAIT_LIMIT_MS / 1000} s.`);
    }
  }

  /**
   * Evaluate `rows` network states: parts 1… on the workers, part 0 here, all at once.
   * @param out receives `[rows * (n(n+1) + m)]`, the rows of `fusedLagrangianPack` in order
   */
  run(rows: number, job: PoolJob, out: Float32Array): void {
    if (this.disposed) throw new Error('TermsPool used after dispose().');
    const dead = this.workers.dead();
    if (dead !== null) throw new Error(dead);
    const parts = this.threads;
    const base = Math.floor(rows / parts);
    const extra = rows % parts;
    const sizes = Array.from({ length: parts }, (_, p) => base + (p < extra ? 1 : 0));
    const starts = sizes.map((_, p) => sizes.slice(0, p).reduce((a, b) => a + b, 0));
    this.reserve(Math.max(...sizes.slice(1)));
    const ctrl = this.ctrl;
    const seqs: number[] = [];
    for (let w = 0; w < this.workers.count; w++) {
      const count = sizes[w + 1];
      const o = w * SLOTS;
      if (count > 0) job.fill(this.xsBuffers[w], starts[w + 1], count);
      Atomics.store(ctrl, o + COUNT, count);
      Atomics.store(ctrl, o + GEN, this.generation);
      Atomics.store(ctrl, o + CMD, CMD_RUN);
      seqs.push((Atomics.add(ctrl, o + SEQ, 1) + 1) | 0);
      Atomics.notify(ctrl, o + SEQ);
    }
    // Part 0 on this thread while the workers run.
    const localSize = sizes[0] * this.perRowIn;
    if (this.localXs.length < localSize) this.localXs = new Float32Array(localSize);
    job.fill(this.localXs, 0, sizes[0]);
    out.set(job.local(this.localXs, sizes[0]).subarray(0, sizes[0] * this.outWidth), 0);
    for (let w = 0; w < this.workers.count; w++) {
      this.await(w, seqs[w]);
      if (Atomics.load(ctrl, w * SLOTS + FAILED) !== 0) {
        throw new Error('A learned-engine worker thread failed; see its error output.');
      }
      const count = sizes[w + 1];
      out.set(this.outBuffers[w].subarray(0, count * this.outWidth), starts[w + 1] * this.outWidth);
    }
  }

  /** Stop the workers. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let w = 0; w < this.workers.count; w++) {
      const o = w * SLOTS;
      Atomics.store(this.ctrl, o + CMD, CMD_STOP);
      Atomics.add(this.ctrl, o + SEQ, 1);
      Atomics.notify(this.ctrl, o + SEQ);
    }
    this.workers.terminate();
  }
}

/** Slot layout, shared with the worker. */
export const POOL_SLOTS = { SEQ, DONE, COUNT, GEN, CMD, FAILED, SLOTS, CMD_RUN, CMD_STOP } as const;
