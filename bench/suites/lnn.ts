/**
 * Learned-engine throughput: exact LNN q̈ evaluations per second (`engine.accelerations`, float64 in and
 * out, everything included: input packing, TF.js pass, readback, float64 solve) for a 4→128→128→1 and
 * the paper's 4→600→600→600→1 softplus network, at batch 1, 64, 1024 and 16384, per backend in Node
 * (wasm; wasm split over worker threads, one per core; cpu; the plain-JS float64 evaluator). Random
 * weights: the cost does not depend on them.
 *
 * Reported per combination: the median wall-clock rate over repeats, the best repeat (least disturbed
 * on a shared machine) and the rate per CPU-second used by this process. A combination whose single
 * call is predicted to exceed `maxCallSeconds` is not run (the row says so).
 */
import { availableParallelism, loadavg } from 'node:os';
import type { LearnedEngineOptions } from '../../src/backend/LearnedEngine';
import { LNNEngine } from '../../src/engines/LNNEngine';
import { createRng, uniform } from '../../src/math/random';
import { createRandomModel } from '../../src/model/randomModel';
import { createSystem } from '../../src/systems/registry';
import type { BenchOptions, BenchResult, BenchRow } from '../types';

export const name = 'lnn';

const NETWORKS = [
  { label: '4→128→128→1', hidden: [128, 128] },
  { label: '4→600→600→600→1', hidden: [600, 600, 600] },
];
const BATCHES = [1, 64, 1024, 16384];
/** Paths measured: each TF.js backend, wasm with one worker thread per core, and plain JS. */
const PATHS: { label: string; options: LearnedEngineOptions }[] = [
  { label: 'wasm', options: { backend: 'wasm' } },
  { label: `wasm×${availableParallelism()} threads`, options: { backend: 'wasm', threads: 'auto' } },
  { label: 'cpu', options: { backend: 'cpu' } },
  { label: 'js', options: { backend: 'js' } },
];

interface Measurement {
  network: string;
  backend: string;
  batch: number;
  /** Median over repeats of states / wall-clock second. */
  qddPerSecond: number | null;
  bestQddPerSecond: number | null;
  /** Median of states / CPU-second of this process. */
  qddPerCpuSecond: number | null;
  msPerCall: number | null;
  repeats: number;
  note: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};

/** Time repeated calls for at least `seconds` (and at least one call). */
function timeCalls(call: () => void, seconds: number): { calls: number; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let calls = 0;
  do {
    call();
    calls++;
  } while (performance.now() - t0 < seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { calls, wall, cpu: (c.user + c.system) / 1e6 };
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const seconds = options.quick ? 0.2 : 1.5;
  const repeats = options.quick ? 1 : 3;
  const maxCallSeconds = options.quick ? 2 : 20;
  const system = createSystem('double-pendulum');
  const rng = createRng(7);
  const measurements: Measurement[] = [];
  for (const net of NETWORKS) {
    const model = createRandomModel({ hidden: net.hidden, seed: 1 });
    for (const path of PATHS) {
      if (path.options.threads === 'auto' && availableParallelism() < 2) continue;
      // jsBelow 0: every row measures the path it names (the small-batch route is a separate choice).
      const engine = await LNNEngine.load(model, system, { ...path.options, jsBelow: 0 });
      let secondsPerState = 0;
      for (const batch of BATCHES) {
        const m: Measurement = {
          network: net.label,
          backend: path.label,
          batch,
          qddPerSecond: null,
          bestQddPerSecond: null,
          qddPerCpuSecond: null,
          msPerCall: null,
          repeats: 0,
          note: '',
        };
        const predicted = secondsPerState * batch;
        if (predicted > maxCallSeconds) {
          m.note = `not run: ~${predicted.toFixed(0)} s per call predicted`;
          measurements.push(m);
          continue;
        }
        const q = new Float64Array(2 * batch);
        const qd = new Float64Array(2 * batch);
        for (let i = 0; i < 2 * batch; i++) {
          q[i] = uniform(rng, 0, 2 * Math.PI);
          qd[i] = uniform(rng, -10, 10);
        }
        const qdd = new Float64Array(2 * batch);
        const call = () => engine.accelerations(q, qd, qdd, batch);
        const warm = timeCalls(call, 0); // warm-up: kernels, buffers, JIT
        secondsPerState = Math.max(secondsPerState, warm.wall / batch / 2);
        const walls: number[] = [];
        const cpus: number[] = [];
        const perCall: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const t = timeCalls(call, seconds);
          walls.push((t.calls * batch) / t.wall);
          cpus.push((t.calls * batch) / Math.max(t.cpu, 1e-9));
          perCall.push((1000 * t.wall) / t.calls);
        }
        secondsPerState = median(perCall) / 1000 / batch;
        m.qddPerSecond = Math.round(median(walls));
        m.bestQddPerSecond = Math.round(Math.max(...walls));
        m.qddPerCpuSecond = Math.round(median(cpus));
        m.msPerCall = Math.round(median(perCall) * 100) / 100;
        m.repeats = repeats;
        measurements.push(m);
        console.error(
          `  lnn ${net.label} ${m.backend} batch ${batch}: ${m.qddPerSecond} q̈/s (${m.qddPerCpuSecond} per CPU-s)`,
        );
      }
      engine.dispose();
    }
  }
  const rows: BenchRow[] = measurements.map((m) => ({
    network: m.network,
    backend: m.backend,
    batch: m.batch,
    'q̈/s': m.qddPerSecond ?? '—',
    'best q̈/s': m.bestQddPerSecond ?? '—',
    'q̈/CPU-s': m.qddPerCpuSecond ?? '—',
    'ms/call': m.msPerCall ?? '—',
    note: m.note,
  }));
  const pick = (net: string, batch: number, backend: string) =>
    measurements.find((m) => m.network === net && m.backend === backend && m.batch === batch)?.qddPerSecond ??
    null;
  const threaded = PATHS[1].label;
  return {
    rows,
    json: {
      method:
        'engine.accelerations (float64 in/out, exact q̈ incl. float64 solve), random softplus weights, double-pendulum states q ~ U[0, 2π), q̇ ~ U[−10, 10)',
      cores: availableParallelism(),
      loadAverage1mAtEnd: loadavg()[0],
      targets: {
        '4→128→128→1 batch 1024 ≥ 40,000 q̈/s': {
          wasm: pick(NETWORKS[0].label, 1024, 'wasm'),
          [threaded]: pick(NETWORKS[0].label, 1024, threaded),
        },
        '4→600→600→600→1 batch 1024 ≥ 4,000 q̈/s': {
          wasm: pick(NETWORKS[1].label, 1024, 'wasm'),
          [threaded]: pick(NETWORKS[1].label, 1024, threaded),
        },
      },
      measurements,
    },
  };
}
