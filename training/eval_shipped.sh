#!/usr/bin/env bash
# Evaluate shipped models and record the metrics in their metadata: the float64 JAX cross-check
# (metrics.jax), the full TypeScript protocols (metrics.*) and the CI subset (metrics.quick).
# Usage: training/eval_shipped.sh [model dir ...]   (default: every model under assets/models)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(assets/models/*/)
for m in "${MODELS[@]}"; do
  m=${m%/}
  echo "== $m"
  "$PY" training/lnn_eval.py "$m" --write > /dev/null
  node bin/three-lnn.mjs eval --model "$m" --write
  node bin/three-lnn.mjs eval --model "$m" --quick --write > /dev/null
done
