/**
 * Node only: splits the fused exact-derivative pass of a large batch across worker threads, each with
 * its own TF.js wasm instance (tfjs-backend-wasm has no usable threads in Node). The call stays
 * synchronous — workers are driven through shared memory and `Atomics.wait` — so it fits the
 * synchronous `Engine.accelerations` contract. The calling thread computes one part itself.
 */
import type { LoadedModel } from '../model/metadata';

type WorkerThreads = typeof import('node:worker_threads');

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

/** What a worker needs to build its weights and its share of the work. */
export interface TermsWorkerData {
  model: LoadedModel;
  /** Coordinates per network state (n for lnn, 2 for an lgn edge). */
  nLocal: number;
  /** Network input width m (2·nLocal, more with a `sincos` input map). */
  inWidth: number;
  ctrl: SharedArrayBuffer;
  slot: number;
  port: import('node:worker_threads').MessagePort;
  entry: string;
}

/** A per-call split of `rows` network states over the calling thread and the workers. */
export interface PoolJob {
  /** Write the stacked fused-pass input of rows `[start, start + count)` into `xs` (see `fusedLagrangianPack`). */
  fill(xs: Float32Array<ArrayBufferLike>, start: number, count: number): void;
  /** Run the fused pass on this thread for `count` rows whose input is in `xs`. */
  local(xs: Float32Array, count: number): Float32Array;
}

/**
 * A pool of `threads − 1` workers plus the calling thread.
 * @example const pool = await TermsPool.create(model, 2, 2); const out = pool.run(rows, job); pool.dispose();
 */
export class TermsPool {
  /** Total threads including the caller. */
  readonly threads: number;
  private readonly workers: import('node:worker_threads').Worker[];
  private readonly ports: import('node:worker_threads').MessagePort[];
  private readonly ctrl: Int32Array;
  private readonly inWidth: number;
  private readonly outWidth: number;
  private readonly perRowIn: number;
  private generation = 0;
  private capacity = 0;
  private xsBuffers: Float32Array<ArrayBufferLike>[] = [];
  private outBuffers: Float32Array<ArrayBufferLike>[] = [];
  private disposed = false;

  private constructor(
    workers: import('node:worker_threads').Worker[],
    ports: import('node:worker_threads').MessagePort[],
    ctrl: Int32Array,
    nLocal: number,
    inWidth: number,
  ) {
    this.workers = workers;
    this.ports = ports;
    this.ctrl = ctrl;
    this.threads = workers.length + 1;
    const k = nLocal + 1;
    this.inWidth = inWidth;
    this.perRowIn = (1 + k) * this.inWidth;
    this.outWidth = nLocal * k + inWidth;
  }

  /**
   * Start `threads − 1` workers that evaluate `model`'s network; resolves when all are ready.
   * @param nLocal coordinates per network state (n for lnn, 2 for lgn)
   * @param inWidth network input width m (see `inputMapOf`; 2·nLocal unless angles enter as cos/sin)
   */
  static async create(
    model: LoadedModel,
    nLocal: number,
    threads: number,
    inWidth = 2 * nLocal,
  ): Promise<TermsPool> {
    const wt = (await import(/* @vite-ignore */ 'node:worker_threads')) as WorkerThreads;
    const count = Math.max(0, Math.floor(threads) - 1);
    const ctrlBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * SLOTS * Math.max(1, count));
    const ctrl = new Int32Array(ctrlBuffer);
    // Not `new URL('…', import.meta.url)` literally: bundlers would copy these Node-only files as assets.
    const here = import.meta.url;
    const boot = new URL('./termsWorkerBoot.mjs', here);
    const entry = new URL('./termsWorker.ts', here).href;
    const workers: import('node:worker_threads').Worker[] = [];
    const ports: import('node:worker_threads').MessagePort[] = [];
    try {
      await Promise.all(
        Array.from({ length: count }, (_, slot) => {
          const channel = new wt.MessageChannel();
          const data: TermsWorkerData = {
            model: { metadata: model.metadata, layers: model.layers, source: model.source },
            nLocal,
            inWidth,
            ctrl: ctrlBuffer,
            slot,
            port: channel.port2,
            entry,
          };
          const worker = new wt.Worker(boot, { workerData: data, transferList: [channel.port2] });
          workers.push(worker);
          ports.push(channel.port1);
          return new Promise<void>((resolve, reject) => {
            worker.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(String(m)))));
            worker.once('error', reject);
            worker.once('exit', (code) =>
              reject(new Error(`terms worker exited with code ${code} during start-up`)),
            );
          });
        }),
      );
    } catch (e) {
      for (const w of workers) void w.terminate();
      throw new Error(
        `Could not start ${count} worker thread(s) for the learned engine: ${(e as Error).message}`,
      );
    }
    for (const w of workers) {
      w.removeAllListeners('exit');
      w.unref();
    }
    return new TermsPool(workers, ports, ctrl, nLocal, inWidth);
  }

  /** Make every part's shared input/output buffers hold at least `rowsPerPart` rows. */
  private reserve(rowsPerPart: number): void {
    if (rowsPerPart <= this.capacity) return;
    this.capacity = Math.max(rowsPerPart, Math.ceil(this.capacity * 1.5));
    this.generation++;
    this.xsBuffers = [];
    this.outBuffers = [];
    this.workers.forEach((_, i) => {
      const xs = new SharedArrayBuffer(4 * this.capacity * this.perRowIn);
      const out = new SharedArrayBuffer(4 * this.capacity * this.outWidth);
      this.xsBuffers.push(new Float32Array(xs));
      this.outBuffers.push(new Float32Array(out));
      // Workers pick this up synchronously (receiveMessageOnPort) when they see the new generation.
      this.ports[i].postMessage({ generation: this.generation, xs, out });
    });
  }

  /**
   * Evaluate `rows` network states: parts 1… on the workers, part 0 here, all at once.
   * @returns `[rows * (n(n+1) + m)]`, the rows of `fusedLagrangianPack` in order
   */
  run(rows: number, job: PoolJob, out: Float32Array): void {
    if (this.disposed) throw new Error('TermsPool used after dispose().');
    const parts = this.threads;
    const base = Math.floor(rows / parts);
    const extra = rows % parts;
    const sizes = Array.from({ length: parts }, (_, p) => base + (p < extra ? 1 : 0));
    const starts = sizes.map((_, p) => sizes.slice(0, p).reduce((a, b) => a + b, 0));
    this.reserve(Math.max(...sizes.slice(1)));
    const ctrl = this.ctrl;
    for (let w = 0; w < this.workers.length; w++) {
      const count = sizes[w + 1];
      const o = w * SLOTS;
      if (count > 0) job.fill(this.xsBuffers[w], starts[w + 1], count);
      Atomics.store(ctrl, o + COUNT, count);
      Atomics.store(ctrl, o + GEN, this.generation);
      Atomics.store(ctrl, o + CMD, CMD_RUN);
      Atomics.add(ctrl, o + SEQ, 1);
      Atomics.notify(ctrl, o + SEQ);
    }
    // Part 0 on this thread while the workers run.
    const localXs = new Float32Array(sizes[0] * this.perRowIn);
    job.fill(localXs, 0, sizes[0]);
    out.set(job.local(localXs, sizes[0]).subarray(0, sizes[0] * this.outWidth), 0);
    for (let w = 0; w < this.workers.length; w++) {
      const o = w * SLOTS;
      const seq = Atomics.load(ctrl, o + SEQ);
      while (Atomics.load(ctrl, o + DONE) !== seq)
        Atomics.wait(ctrl, o + DONE, Atomics.load(ctrl, o + DONE), 60_000);
      if (Atomics.load(ctrl, o + FAILED) !== 0) {
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
    for (let w = 0; w < this.workers.length; w++) {
      const o = w * SLOTS;
      Atomics.store(this.ctrl, o + CMD, CMD_STOP);
      Atomics.add(this.ctrl, o + SEQ, 1);
      Atomics.notify(this.ctrl, o + SEQ);
      void this.workers[w].terminate();
      this.ports[w].close();
    }
  }
}

/** Slot layout, shared with the worker. */
export const POOL_SLOTS = { SEQ, DONE, COUNT, GEN, CMD, FAILED, SLOTS, CMD_RUN, CMD_STOP } as const;
