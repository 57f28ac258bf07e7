#!/usr/bin/env bash
# Trains every shipped model one after another on ONE core (the commands recorded in each artefact's
# provenance). Usage: training/train_shipped.sh [python]   (default .venv/bin/python)
set -u
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
RUN="taskset -c 1 nice -n 5 $PY training/lnn_train.py train"
$RUN --system relativistic-particle --kind lnn --hidden 64,64 --seed 0 --minutes 5 --decay-steps 40000 \
  --ckpt /tmp/ckpt-relativistic-lnn --out assets/models/relativistic-lnn > /tmp/train-relativistic-lnn.log 2>&1
$RUN --system double-pendulum --kind baseline --hidden 128,128 --seed 0 --minutes 8 --decay-steps 80000 \
  --ckpt /tmp/ckpt-double-pendulum-baseline --out assets/models/double-pendulum-baseline > /tmp/train-double-pendulum-baseline.log 2>&1
$RUN --system chain --kind lnn --param links=3 --hidden 128,128 --seed 0 --minutes 20 --decay-steps 80000 \
  --ckpt /tmp/ckpt-chain3-lnn --out assets/models/chain3-lnn > /tmp/train-chain3-lnn.log 2>&1
$RUN --system double-pendulum --kind lnn --hidden 128,128 --seed 0 --minutes ${DP_MINUTES:-63} --decay-steps 180000 \
  --restart-step 15000 --restart-l1 3.0 \
  --ckpt /tmp/ckpt-double-pendulum-lnn --out assets/models/double-pendulum-lnn > /tmp/train-double-pendulum-lnn.log 2>&1
$RUN --system string --kind lgn --param nodes=8 --hidden 64,64 --seed 0 --minutes 8 --decay-steps 40000 \
  --ckpt /tmp/ckpt-string-lgn --out assets/models/string-lgn > /tmp/train-string-lgn.log 2>&1

