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
 *
 * The comparison is measured in the same run: bench/jax_qdd.py times the same-size network's exact q̈
 * in JAX/XLA (jitted explicit derivatives, float32) at batch 1024 on one XLA thread and on all threads,
 * when the project's Python environment (.venv/bin/python with JAX) exists; otherwise a note is printed
 * and the comparison is left out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LNNEngine } from '../../src/engines/LNNEngine';
import type { LearnedEngineOptions } from '../../src/learned/LearnedEngine';
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
  { label: 'wasm', options: { backend: 'wasm', route: 'wasm' } },
  {
    label: `wasm×${availableParallelism()} threads`,
    options: { backend: 'wasm', route: 'wasm', threads: 'auto' },
  },
  { label: 'cpu', options: { backend: 'cpu', route: 'cpu' } },
  { label: 'js', options: { backend: 'js', route: 'js' } },
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

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Batch of the JAX comparison (the paper-size target's batch). */
const JAX_BATCH = 1024;

/** What bench/jax_qdd.py reports per thread setting. */
interface JaxMeasurement {
  qddPerSecond: number;
  bestQddPerSecond: number;
  msPerCall: number;
  repeats: number;
  xlaFlags: string;
  finite: boolean;
}

/** Output of bench/jax_qdd.py. */
interface JaxReport {
  network: string;
  batch: number;
  jax: string;
  method: string;
  results: Record<string, JaxMeasurement>;
}

/**
 * Run bench/jax_qdd.py for the paper-size network at batch 1024, or return why not (no Python
 * environment, or the script failed).
 */
function measureJax(quick: boolean): JaxReport | { skipped: string } {
  const python = join(repoRoot, '.venv', 'bin', 'python');
  if (!existsSync(python)) {
    return { skipped: `no ${python}: create the training environment (docs/training.md) to measure JAX/XLA` };
  }
  const hidden = NETWORKS[1].hidden.join(',');
  const args = [join(repoRoot, 'bench', 'jax_qdd.py'), '--batch', String(JAX_BATCH), '--hidden', hidden];
  if (quick) args.push('--quick');
  const r = spawnSync(python, args, { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ');
    return { skipped: `bench/jax_qdd.py failed: ${why}` };
  }
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as JaxReport;
  } catch {
    return { skipped: `bench/jax_qdd.py printed no JSON: ${r.stdout.slice(-200)}` };
  }
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
      // A forced route: every row measures the path it names (the small-batch route is a separate choice).
      const engine = await LNNEngine.load(model, system, path.options);
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

  // The JAX/XLA comparison, same network and batch, measured now.
  console.error('  lnn: timing the JAX/XLA comparison (bench/jax_qdd.py)…');
  const jax = measureJax(options.quick);
  const comparison: Record<string, unknown> = {};
  if ('skipped' in jax) {
    console.log(`JAX/XLA comparison skipped: ${jax.skipped}`);
    comparison.skipped = jax.skipped;
  } else {
    const node: Record<string, number | null> = {
      wasm: pick(NETWORKS[1].label, JAX_BATCH, 'wasm'),
      [threaded]: pick(NETWORKS[1].label, JAX_BATCH, threaded),
    };
    for (const [setting, m] of Object.entries(jax.results)) {
      rows.push({
        network: NETWORKS[1].label,
        backend: `JAX/XLA, ${setting}`,
        batch: jax.batch,
        'q̈/s': m.qddPerSecond,
        'best q̈/s': m.bestQddPerSecond,
        'q̈/CPU-s': '—',
        'ms/call': m.msPerCall,
        note: `jax ${jax.jax}, bench/jax_qdd.py`,
      });
    }
    const ratios: Record<string, Record<string, number | null>> = {};
    for (const [path, rate] of Object.entries(node)) {
      ratios[path] = {};
      for (const [setting, m] of Object.entries(jax.results)) {
        const ratio = rate === null ? null : Math.round((rate / m.qddPerSecond) * 100) / 100;
        ratios[path][setting] = ratio;
        console.log(
          `${NETWORKS[1].label} batch ${JAX_BATCH}: Node ${path} ${rate ?? '—'} q̈/s vs JAX/XLA ${setting} ${m.qddPerSecond} q̈/s → ×${ratio ?? '—'}`,
        );
      }
    }
    Object.assign(comparison, { node, jax, ratioNodeOverJax: ratios });
  }
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
      jaxComparison: comparison,
    },
  };
}
