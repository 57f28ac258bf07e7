#!/usr/bin/env bash
# Training throughput of the TypeScript trainer (TF.js wasm) — with TF.js autodiff through the q̈ (the
# earlier method) and with the exact hand-derived gradient (the default) — against the JAX trainer, on the
# same network (4→128→128→1 softplus LNN, double pendulum) and batch, one after the other on the same
# single core. Prints steady-state samples/s (first steps excluded) and the ratios as JSON.
# Usage: training/compare_throughput.sh [core]
#   (env: BATCH=512 TS_STEPS=60 AUTODIFF_STEPS=20 JAX_STEPS=1500 PY=.venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
CORE=${1:-0}
BATCH=${BATCH:-512}
TS_STEPS=${TS_STEPS:-60}
AUTODIFF_STEPS=${AUTODIFF_STEPS:-20}
JAX_STEPS=${JAX_STEPS:-1500}
PY=${PY:-.venv/bin/python}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
ts_rate() { # gradient method, steps
  taskset -c "$CORE" node bin/three-lnn.mjs train --system double-pendulum --kind lnn --hidden 128,128 \
    --batch "$BATCH" --steps "$2" --gradient "$1" --val-every 100000 --no-progress 2>/dev/null | tail -1 |
    sed -E 's/.*"steadySamplesPerSecond":([0-9]+).*/\1/'
}
autodiff=$(ts_rate autodiff "$AUTODIFF_STEPS")
exact=$(ts_rate exact "$TS_STEPS")
jax=$(taskset -c "$CORE" "$PY" training/lnn_train.py train --system double-pendulum --kind lnn --hidden 128,128 \
  --batch "$BATCH" --steps "$JAX_STEPS" --val-every 1000000 --val-size 256 2>/dev/null |
  sed -nE 's/^steady samples\/s ([0-9]+).*/\1/p')
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ratio() { python3 -c "print(round($1/$2, 4))"; }
echo "{\"network\":\"4-128-128-1 softplus LNN\",\"batch\":$BATCH,\"core\":$CORE,\"cpu\":\"$cpu\",\"autodiffSamplesPerSecond\":$autodiff,\"exactSamplesPerSecond\":$exact,\"jaxSamplesPerSecond\":$jax,\"speedup\":$(ratio "$exact" "$autodiff"),\"ratioToJax\":$(ratio "$exact" "$jax"),\"autodiffRatioToJax\":$(ratio "$autodiff" "$jax")}"
