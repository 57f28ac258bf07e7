/**
 * Analytic RK4 throughput on batches of double pendulums: steps/s = batch × steps / seconds.
 * Two paths per batch: the analytic engine as shipped (fused RK4 kernel) and the generic path
 * (`RungeKutta4.step` calling `DoublePendulum.accelerations`); both give bitwise the same states.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Engine, Integrator } from '../../src/core/types';
import { AnalyticEngine } from '../../src/engines/AnalyticEngine';
import { createIntegrator } from '../../src/integrators/registry';
import { createRng } from '../../src/math/random';
import { createSystem } from '../../src/systems/registry';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'analytic';

const BATCHES = [1, 16, 256, 4096, 65536];
const DT = 0.005;

interface Measurement {
  path: string;
  batch: number;
  /** Median over repeats of batch × steps / wall-clock seconds. */
  stepsPerSecond: number;
  /** Best repeat (least disturbed by other processes on a shared machine). */
  bestStepsPerSecond: number;
  /** Median of batch × steps / CPU-seconds used by this process (all threads): the rate per busy core. */
  stepsPerCpuSecond: number;
  repeats: Rate[];
}

function summarise(path: string, batch: number, rates: Rate[]): Measurement {
  return {
    path,
    batch,
    stepsPerSecond: median(rates.map((r) => r.wall)),
    bestStepsPerSecond: Math.max(...rates.map((r) => r.wall)),
    stepsPerCpuSecond: median(rates.map((r) => r.perCpuSecond)),
    repeats: rates,
  };
}

/** `repeats` timed runs of about `seconds` each, after a warm-up. */
function measure(
  engine: Engine,
  integrator: Integrator,
  batch: number,
  seconds: number,
  repeats: number,
): Rate[] {
  const dp = engine.system;
  const q = new Float64Array(2 * batch);
  const qd = new Float64Array(2 * batch);
  const rng = createRng(2020);
  for (let b = 0; b < batch; b++) dp.sample(rng, q.subarray(2 * b, 2 * b + 2), qd.subarray(2 * b, 2 * b + 2));
  // Calibrate a chunk of steps that takes ~20 ms, warming up the JIT on the way.
  let chunk = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < chunk; i++) engine.step(q, qd, batch, DT, integrator);
    if (performance.now() - t0 > 20 || chunk > 1e7) break;
    chunk *= 2;
  }
  const rates: Rate[] = [];
  for (let r = 0; r < repeats; r++) {
    let steps = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let elapsed = 0;
    while (elapsed < seconds * 1000) {
      for (let i = 0; i < chunk; i++) engine.step(q, qd, batch, DT, integrator);
      steps += chunk;
      elapsed = performance.now() - t0;
    }
    rates.push(rateOf(batch * steps, elapsed, process.cpuUsage(c0)));
  }
  if (!q.every(Number.isFinite)) throw new Error('analytic bench: non-finite state');
  return rates;
}

/** One timed run: wall-clock rate, and the rate per CPU-second of this process (all its threads). */
interface Rate {
  wall: number;
  perCpuSecond: number;
}

function rateOf(stateSteps: number, wallMs: number, cpu: NodeJS.CpuUsage): Rate {
  return { wall: stateSteps / (wallMs / 1000), perCpuSecond: stateSteps / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * The fused kernel on `threads` worker threads sharing the batch (SharedArrayBuffer), each advancing
 * a contiguous slice; one message round trip per chunk of steps. Node only (worker_threads).
 */
async function measureThreaded(
  threads: number,
  batch: number,
  seconds: number,
  repeats: number,
): Promise<Rate[]> {
  const dp = createSystem('double-pendulum');
  const qBuf = new SharedArrayBuffer(16 * batch);
  const qdBuf = new SharedArrayBuffer(16 * batch);
  const q = new Float64Array(qBuf);
  const qd = new Float64Array(qdBuf);
  const rng = createRng(2020);
  for (let b = 0; b < batch; b++) dp.sample(rng, q.subarray(2 * b, 2 * b + 2), qd.subarray(2 * b, 2 * b + 2));
  const boot = new URL('../workers/boot.mjs', import.meta.url);
  const entry = new URL('../workers/rk4Worker.ts', import.meta.url).href;
  const workers: Worker[] = [];
  const per = Math.ceil(batch / threads);
  for (let t = 0; t < threads; t++) {
    const start = t * per;
    const count = Math.min(per, batch - start);
    workers.push(
      new Worker(boot, {
        workerData: { entry, q: qBuf, qd: qdBuf, start, count, params: { ...dp.params }, dt: DT },
      }),
    );
  }
  const round = (steps: number) =>
    Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const onError = (error: Error) => reject(error);
            w.once('error', onError);
            w.once('message', () => {
              w.off('error', onError);
              resolve();
            });
            w.postMessage(steps);
          }),
      ),
    );
  try {
    let chunk = 1;
    for (;;) {
      const t0 = performance.now();
      await round(chunk);
      if (performance.now() - t0 > 20 || chunk > 1e7) break;
      chunk *= 2;
    }
    const rates: Rate[] = [];
    for (let r = 0; r < repeats; r++) {
      let steps = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      let elapsed = 0;
      while (elapsed < seconds * 1000) {
        await round(chunk);
        steps += chunk;
        elapsed = performance.now() - t0;
      }
      rates.push(rateOf(batch * steps, elapsed, process.cpuUsage(c0)));
    }
    if (!q.every(Number.isFinite)) throw new Error('analytic bench: non-finite state');
    return rates;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const seconds = options.quick ? 0.05 : 0.6;
  const repeats = options.quick ? 1 : 5;
  const dp = createSystem('double-pendulum');
  const paths: { path: string; engine: Engine }[] = [
    { path: 'fused kernel (AnalyticEngine)', engine: new AnalyticEngine(dp) },
    { path: 'generic RK4 + closed form', engine: new AnalyticEngine(dp, { fused: false }) },
  ];
  const threads = Math.min(availableParallelism(), 8);
  const results: Measurement[] = [];
  for (const batch of BATCHES) {
    for (const { path, engine } of paths) {
      results.push(summarise(path, batch, measure(engine, createIntegrator('rk4'), batch, seconds, repeats)));
    }
    if (batch >= 256 && threads > 1) {
      const path = `fused kernel, ${threads} worker threads`;
      results.push(summarise(path, batch, await measureThreaded(threads, batch, seconds, repeats)));
    }
  }
  const rows: BenchRow[] = results.map((m) => ({
    path: m.path,
    batch: m.batch,
    'steps/s median (M)': m.stepsPerSecond / 1e6,
    'best (M)': m.bestStepsPerSecond / 1e6,
    'per CPU-s (M)': m.stepsPerCpuSecond / 1e6,
    'ns/state-step': Math.round(1e9 / m.stepsPerSecond),
  }));
  return {
    rows,
    json: {
      description:
        'RK4 steps/s (batch × steps / s) on double pendulums, dt = 0.005, states from the paper distribution',
      dt: DT,
      secondsPerRepeat: seconds,
      results,
    },
  };
}
