#!/usr/bin/env bash
# The noise table of docs/training.md ("Training from recorded motion"): a double-pendulum LNN learned
# from 60 s of recorded exact motion (6 runs × 10 s at 120 Hz, in the app's JSON export format) with
# angle noise σ = 0, 1e-4 and 1e-3 rad, against the analytic-target models of the same size and steps.
# Writes bench/results/noise-table.json.
#
#   bash training/noise_table.sh                 # the documented run
#   STEPS=200 EVAL="--quick" bash training/noise_table.sh   # a short smoke run
#
# Knobs (environment): STEPS (15000), BATCH (256), HIDDEN (128,128), SEED (0), EVAL (extra `eval` flags),
# WORK (tmp/noise-table: recordings and models), RESULT (bench/results/noise-table.json), SKIP_TRAIN (set:
# keep the models and evaluations already in WORK, make only what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-15000}
BATCH=${BATCH:-256}
HIDDEN=${HIDDEN:-128,128}
SEED=${SEED:-0}
EVAL=${EVAL:-}
WORK=${WORK:-tmp/noise-table}
RESULT=${RESULT:-bench/results/noise-table.json}
# One core, low priority (the machine is shared); plain node where taskset is missing.
PIN=""
command -v taskset >/dev/null && PIN="taskset -c 1"
CLI="$PIN nice node bin/three-lnn.mjs"

export ROOT="$PWD"
[ -f dist/cli/main.js ] || npm run build
mkdir -p "$WORK" "$(dirname "$RESULT")"

# 1. Recordings: exact motion (RK4 at 1/1200 s, float64) sampled at 120 Hz, 6 runs × 10 s from starts
#    q ~ U[0, 2π), q̇ ~ U[0, 0.1) (the energy protocol's distribution), written as the app's JSON export;
#    noise N(0, σ²) added to the recorded angles. Held-out: 4 more runs, for the on-motion q̈ error.
#    Also: the q̈ error of the Savitzky–Golay estimate over a grid of windows and orders.
cat >"$WORK/make_runs.mjs" <<'EOF'
import { mkdirSync, writeFileSync } from 'node:fs';
const root = process.env.ROOT;
const { createSystem } = await import(`${root}/dist/src/systems/registry.js`);
const { estimateDerivatives } = await import(`${root}/dist/src/train/data/derivatives.js`);

const [work, seedText] = process.argv.slice(2);
const sys = createSystem('double-pendulum');
const HZ = 120, SUB = 10, SECONDS = 10, RUNS = 6, HELD_OUT = 4, T = SECONDS * HZ + 1;
// mulberry32 and Box–Muller: a fixed, documented stream for the starts and the noise.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const normal = (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const wrap = (x) => x - 2 * Math.PI * Math.floor((x + Math.PI) / (2 * Math.PI));
function run(q0, qd0) {
  const n = 2, dt = 1 / HZ / SUB;
  const t = [], q = [], qd = [];
  let x = Float64Array.from(q0), v = Float64Array.from(qd0);
  const acc = (x, v) => { const a = new Float64Array(n); sys.accelerations(x, v, a, 1); return a; };
  const axpy = (a, k, b) => a.map((ai, i) => ai + k * b[i]);
  for (let s = 0; s < T; s++) {
    t.push(s / HZ); q.push(Array.from(x)); qd.push(Array.from(v));
    for (let k = 0; k < SUB; k++) {
      const a1 = acc(x, v);
      const x2 = axpy(x, dt / 2, v), v2 = axpy(v, dt / 2, a1), a2 = acc(x2, v2);
      const x3 = axpy(x, dt / 2, v2), v3 = axpy(v, dt / 2, a2), a3 = acc(x3, v3);
      const x4 = axpy(x, dt, v3), v4 = axpy(v, dt, a3), a4 = acc(x4, v4);
      x = x.map((xi, i) => xi + (dt / 6) * (v[i] + 2 * v2[i] + 2 * v3[i] + v4[i]));
      v = v.map((vi, i) => vi + (dt / 6) * (a1[i] + 2 * a2[i] + 2 * a3[i] + a4[i]));
    }
  }
  return { t, q, qd };
}
const starts = rng(Number(seedText) + 1);
const draw = () => run([2 * Math.PI * starts(), 2 * Math.PI * starts()], [0.1 * starts(), 0.1 * starts()]);
const runs = Array.from({ length: RUNS }, draw);
const heldOut = Array.from({ length: HELD_OUT }, draw);
const appRun = (r, q) => JSON.stringify({
  format: 'three-lnn/app-run', version: 1, scene: 'double-pendulum', dt: 1 / HZ, substeps: 1,
  integrator: 'rk4', backend: 'node', url: '', forced: false, damping: 0, pushes: [], pushesDropped: 0,
  samples: T, every: 1, t: r.t,
  lanes: [{ key: 'analytic', engine: 'analytic', system: 'double-pendulum', params: { ...sys.params },
    model: null, route: null, status: 'ok', reason: null, q, qd: r.qd, drift: [], work: [],
    forces: 'taken', divergence: [] }],
});
const SIGMAS = { '0': 0, '1e-4': 1e-4, '1e-3': 1e-3 };
const grid = {};
for (const [name, sigma] of Object.entries(SIGMAS)) {
  const noise = rng(Number(seedText) + 100 + Math.round(sigma * 1e6));
  const noisy = runs.map((r) => r.q.map((row) => row.map((x) => wrap(x + sigma * normal(noise)))));
  mkdirSync(`${work}/sigma-${name}`, { recursive: true });
  noisy.forEach((q, i) => writeFileSync(`${work}/sigma-${name}/run${i}.json`, appRun(runs[i], q)));
  grid[name] = {};
  for (const order of [2, 4, 6]) for (const window of [5, 7, 9, 11, 15, 21, 31]) {
    if (order >= window) continue;
    let err = 0, count = 0;
    noisy.forEach((q, i) => {
      const traj = { layout: 'app-json', system: 'double-pendulum', params: null, lane: 'analytic', dof: 2,
        t: Float64Array.from(runs[i].t), q: Float64Array.from(q.flat()), qd: null };
      const est = estimateDerivatives(traj, [true, true], { window, order, qd: 'estimate' });
      const m = (window - 1) / 2;
      const exact = new Float64Array(est.count * 2);
      sys.accelerations(Float64Array.from(runs[i].q.slice(m, m + est.count).flat()),
        Float64Array.from(runs[i].qd.slice(m, m + est.count).flat()), exact, est.count);
      for (let j = 0; j < exact.length; j++) { err += Math.abs(est.qdd[j] - exact[j]); count++; }
    });
    grid[name][`sg:${window},${order}`] = err / count;
  }
}
const hq = heldOut.flatMap((r) => r.q.flat().map(wrap));
const hqd = heldOut.flatMap((r) => r.qd.flat());
const hqdd = new Float64Array(hq.length);
sys.accelerations(Float64Array.from(hq), Float64Array.from(hqd), hqdd, hq.length / 2);
writeFileSync(`${work}/held-out.json`, JSON.stringify({ q: hq, qd: hqd, qdd: Array.from(hqdd) }));
let maxQd = 0;
for (const r of runs) for (const row of r.qd) for (const v of row) maxQd = Math.max(maxQd, Math.abs(v));
writeFileSync(`${work}/recordings.json`, JSON.stringify({ grid, maxQd, runs: RUNS, seconds: SECONDS, hz: HZ }));
EOF
node "$WORK/make_runs.mjs" "$WORK" "$SEED"

# 2. Models: the same network, batch and steps for every row.
COMMON=(--no-progress --hidden "$HIDDEN" --batch "$BATCH" --steps "$STEPS" --seed "$SEED" --val-every "$STEPS")
runs() { for i in 0 1 2 3 4 5; do printf -- '--data %s ' "$WORK/sigma-$1/run$i.json"; done; }
declare -A ARGS=(
  [analytic-box]="--system double-pendulum"
  [recorded-exact]="$(runs 0) --deriv exact"
  [sigma-0]="$(runs 0) --deriv sg:7,6 --qd-from estimate"
  [sigma-1e-4]="$(runs 1e-4) --deriv sg:21,6 --qd-from estimate"
  [sigma-1e-3]="$(runs 1e-3) --deriv sg:31,6 --qd-from estimate"
)
ROWS=(analytic-box recorded-exact sigma-0 sigma-1e-4 sigma-1e-3)
for row in "${ROWS[@]}"; do
  if [ -n "${SKIP_TRAIN:-}" ] && [ -f "$WORK/$row/model.json" ] && [ -s "$WORK/$row.train.json" ]; then
    echo "== $row: kept (SKIP_TRAIN)" >&2
  else
    echo "== $row: train ${ARGS[$row]}" >&2
    # shellcheck disable=SC2086
    $CLI train "${COMMON[@]}" ${ARGS[$row]} --out "$WORK/$row" >"$WORK/$row.train.json"
  fi
  # The paper's protocol (100 s), then the same over 10 s: finite where a model drifts away within 100 s.
  for kind in eval eval10; do
    [ -n "${SKIP_TRAIN:-}" ] && [ -s "$WORK/$row.$kind.json" ] && continue
    echo "== $row: $kind" >&2
    extra=""
    [ "$kind" = eval10 ] && extra="--seconds 10 --states 1000"
    # shellcheck disable=SC2086
    $CLI eval --model "$WORK/$row" --json $extra $EVAL >"$WORK/$row.$kind.json"
  done
done

# 3. The table: eval's energy error and q̈ L1 (over each model's training box), the q̈ L1 on held-out
#    recorded motion (4 runs × 10 s, exact q̈; float64 reference evaluation of each model), and the
#    q̈ error of the derivative estimate the model trained on.
cat >"$WORK/table.mjs" <<'EOF'
import { readFileSync, writeFileSync } from 'node:fs';
const root = process.env.ROOT;
const { loadModel } = await import(`${root}/dist/src/model/loadModel.js`);
const { referenceAccelerations } = await import(`${root}/dist/src/model/reference.js`);
const [work, result, rowsText, argsText, steps, batch, hidden] = process.argv.slice(2);
const rows = rowsText.split(' ');
const args = JSON.parse(argsText);
const held = JSON.parse(readFileSync(`${work}/held-out.json`, 'utf8'));
const rec = JSON.parse(readFileSync(`${work}/recordings.json`, 'utf8'));
const n = held.q.length / 2;
const out = [];
for (const row of rows) {
  const model = await loadModel(`${work}/${row}`);
  const qdd = new Float64Array(held.q.length);
  referenceAccelerations(model, held.q, held.qd, qdd, n);
  let e = 0;
  for (let i = 0; i < qdd.length; i++) e += Math.abs(qdd[i] - held.qdd[i]);
  const train = JSON.parse(readFileSync(`${work}/${row}.train.json`, 'utf8'));
  const ev = JSON.parse(readFileSync(`${work}/${row}.eval.json`, 'utf8'));
  const m = ev.metrics ?? ev;
  const ev10 = JSON.parse(readFileSync(`${work}/${row}.eval10.json`, 'utf8'));
  const m10 = ev10.metrics ?? ev10;
  const deriv = /--deriv (\S+)/.exec(args[row])?.[1] ?? null;
  const sigma = row.startsWith('sigma-') ? row.slice(6) : row === 'recorded-exact' ? '0' : null;
  out.push({
    row,
    data: row === 'analytic-box' ? 'fresh states of the default box, exact qdd' : `6 recorded runs x 10 s at 120 Hz, angle noise sigma ${sigma} rad`,
    deriv,
    estimateQddL1: deriv && deriv !== 'exact' ? rec.grid[sigma][deriv] : 0,
    energyError: m.energyError?.value ?? null,
    energyErrorMedian: m.energyError?.median ?? null,
    energyError10s: m10.energyError?.value ?? null,
    energyError10sMedian: m10.energyError?.median ?? null,
    evalQddL1: m.qddL1?.value ?? null,
    evalQddL1Box: model.metadata.trainingRanges,
    heldOutQddL1: e / qdd.length,
    trainSeconds: train.seconds,
    samplesPerSecond: train.samplesPerSecond,
  });
}
const doc = {
  command: `${Number(steps) === 15000 ? '' : `STEPS=${steps} `}bash training/noise_table.sh`,
  network: `lnn 4-${hidden.replace(',', '-')}-1 softplus`,
  steps: Number(steps),
  batch: Number(batch),
  recordings: { runs: rec.runs, seconds: rec.seconds, hz: rec.hz, maxAbsQd: rec.maxQd },
  energyProtocol: (JSON.parse(readFileSync(`${work}/${rows[0]}.eval.json`, 'utf8')).metrics ?? {}).energyError?.protocol ?? null,
  heldOut: `${n} states of 4 more exact runs x 10 s at 120 Hz (same start distribution), exact qdd`,
  heldOutMedianAbsQdd: held.qdd.map(Math.abs).sort((a, b) => a - b)[Math.floor(held.qdd.length / 2)],
  derivativeGrid: rec.grid,
  rows: out,
  date: new Date().toISOString(),
};
writeFileSync(result, `${JSON.stringify(doc, null, 1)}\n`);
for (const r of out)
  console.log(`${r.row.padEnd(15)} deriv ${String(r.deriv).padEnd(9)} est ${r.estimateQddL1.toExponential(2)}  energy(100 s) ${Number(r.energyError).toExponential(2)} median ${Number(r.energyErrorMedian).toExponential(2)}  energy(10 s) ${Number(r.energyError10s).toExponential(2)} median ${Number(r.energyError10sMedian).toExponential(2)}  qddL1(box) ${Number(r.evalQddL1).toPrecision(3)}  qddL1(held-out) ${r.heldOutQddL1.toPrecision(3)}`);
EOF
ARGS_JSON=$(for row in "${ROWS[@]}"; do printf '%s\t%s\n' "$row" "${ARGS[$row]}"; done |
  node -e 'const o={};for(const l of require("fs").readFileSync(0,"utf8").trim().split("\n")){const [k,v]=l.split("\t");o[k]=v;}console.log(JSON.stringify(o))')
node "$WORK/table.mjs" "$WORK" "$RESULT" "${ROWS[*]}" "$ARGS_JSON" "$STEPS" "$BATCH" "$HIDDEN"
