#!/usr/bin/env bash
# Reproduces the shipped models from scratch, one after another on ONE core (the `provenance.reproduce`
# commands of assets/models/*/model.json with fresh checkpoint directories). Training time on the
# machine of docs/results.md: about 5.1 hours in total (the double-pendulum LNN alone ~95 minutes; the
# spherical-pendulum LNN ~20 minutes, its baseline ~2, the double-spherical-pendulum LNN ~38).
# Usage: training/train_shipped.sh [python] [core]   (defaults: .venv/bin/python, core 1)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
CORE=${2:-1}
export XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
CK=${CKPT_ROOT:-/tmp/three-lnn-repro}
rm -rf "$CK" && mkdir -p "$CK"

# relativistic-lnn
taskset -c "$CORE" "$PY" training/lnn_train.py train --system relativistic-particle --kind lnn --hidden 64,64 --seed 0 --velocity-embedding rapidity --q-range=-10,110 --qd-range=-6,6 --decay-steps 60000 --ckpt "$CK/relativistic-lnn" --steps 58000
"$PY" training/lnn_train.py export --ckpt "$CK/relativistic-lnn" --out assets/models/relativistic-lnn

# string-lgn
taskset -c "$CORE" "$PY" training/lnn_train.py train --system string --kind lgn --param nodes=8 --hidden 32,32 --batch 256 --shift-invariant --seed 0 --decay-steps 24000 --ckpt "$CK/string-lgn" --steps 24000
"$PY" training/lnn_train.py export --ckpt "$CK/string-lgn" --out assets/models/string-lgn

# membrane-lgn (grid graph, 4×4 training grid)
taskset -c "$CORE" "$PY" training/lnn_train.py train --system membrane --kind lgn --param nx=4 --param ny=4 --hidden 32,32 --batch 128 --shift-invariant --seed 0 --decay-steps 16000 --ckpt "$CK/membrane-lgn" --steps 16000
taskset -c "$CORE" "$PY" training/lnn_train.py train --ckpt "$CK/membrane-lgn" --decay-steps 26000 --steps 26000
"$PY" training/lnn_train.py export --ckpt "$CK/membrane-lgn" --out assets/models/membrane-lgn

# double-pendulum-baseline
taskset -c "$CORE" "$PY" training/lnn_train.py train --system double-pendulum --kind baseline --hidden 256,256,256 --seed 0 --decay-steps 60000 --ckpt "$CK/double-pendulum-baseline" --steps 43000
"$PY" training/lnn_train.py export --ckpt "$CK/double-pendulum-baseline" --out assets/models/double-pendulum-baseline

# chain3-lnn
taskset -c "$CORE" "$PY" training/lnn_train.py train --system chain --kind lnn --param links=3 --hidden 128,128 --angle-embedding sincos --qd-range=-10,10 --seed 0 --decay-steps 180000 --restart-step 15000 --restart-l1 6.0 --ckpt "$CK/chain3-lnn" --steps 180000
taskset -c "$CORE" "$PY" training/lnn_train.py train --ckpt "$CK/chain3-lnn" --decay-steps 300000 --steps 295000
"$PY" training/lnn_train.py export --ckpt "$CK/chain3-lnn" --out assets/models/chain3-lnn

# double-pendulum-lnn
taskset -c "$CORE" "$PY" training/lnn_train.py train --system double-pendulum --kind lnn --hidden 128,128 --angle-embedding sincos --seed 0 --decay-steps 520000 --restart-step 15000 --restart-l1 3.0 --ckpt "$CK/double-pendulum-lnn" --steps 67000
taskset -c "$CORE" "$PY" training/lnn_train.py train --ckpt "$CK/double-pendulum-lnn" --decay-steps 380000 --steps 122000
taskset -c "$CORE" "$PY" training/lnn_train.py train --ckpt "$CK/double-pendulum-lnn" --decay-steps 440000 --steps 431000
"$PY" training/lnn_train.py export --ckpt "$CK/double-pendulum-lnn" --out assets/models/double-pendulum-lnn

# spherical-baseline (black box for the spherical-pendulum LNN: same hidden sizes and step budget)
taskset -c "$CORE" "$PY" training/lnn_train.py train --system spherical-pendulum --kind baseline --hidden 128,128 --seed 0 --decay-steps 34000 --ckpt "$CK/spherical-baseline" --steps 33000
"$PY" training/lnn_train.py export --ckpt "$CK/spherical-baseline" --out assets/models/spherical-baseline

# spherical-lnn (seed 1: an initial H_vv that is positive definite on the sampler's states; the H_vv penalty keeps it so)
taskset -c "$CORE" "$PY" training/lnn_train.py train --system spherical-pendulum --kind lnn --hidden 128,128 --angle-embedding sincos --seed 1 --pd-weight 1.0 --decay-steps 30000 --ckpt "$CK/spherical-lnn" --steps 30000
"$PY" training/lnn_train.py export --ckpt "$CK/spherical-lnn" --out assets/models/spherical-lnn

# double-spherical-lnn (three hidden layers; velocity inputs at half the box scale; 75% sampler states)
taskset -c "$CORE" "$PY" training/lnn_train.py train --system double-spherical-pendulum --kind lnn --hidden 128,128,128 --angle-embedding sincos --seed 1 --pd-weight 1.0 --sampler-fraction 0.75 --qd-scale 0.5 --decay-steps 30000 --ckpt "$CK/double-spherical-lnn" --steps 30000
"$PY" training/lnn_train.py export --ckpt "$CK/double-spherical-lnn" --out assets/models/double-spherical-lnn
