#!/usr/bin/env python3
"""Write the sin/cos JAX fixture: q̈ of two `input.angleEmbedding: "sincos"` models computed by the JAX
trainer in float64 from their stored float32 weights, through its explicit derivatives (predict_qdd) and
through nested autodiff of its Lagrangian (predict_qdd_one). test/model-sincos.test.ts checks that the
TypeScript float64 reference reproduces them; training/tests/test_sincos_fixture.py checks that the
committed fixture is still what this trainer trains and computes.

The fixture folder (default training/tests/fixtures/sincos-jax):
  trained/   a tiny model trained and exported by `lnn_train.py train` (TRAIN_ARGS: its metadata, its
             weight layout), written here;
  written/   a model written by the TypeScript writeModel (a convex softplus network, so H_vv is positive
             definite at every state) and read by the trainer; it is written by the TypeScript test:
             `UPDATE_SINCOS_FIXTURE=1 npx vitest run test/model-sincos.test.ts` (run that first when the
             model or its serialisation changes on purpose);
  expected.json  the states and, per model, the embedding the trainer reads and its q̈ both ways.

Usage: python training/make_sincos_fixture.py [fixture_dir]
"""

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lnn_train as T  # noqa: E402

FIXTURE = os.path.join(HERE, "tests", "fixtures", "sincos-jax")

# The trainer's command (relative --ckpt/--out, run in a temporary directory, so that the recorded
# provenance.command does not depend on where it ran).
TRAIN_ARGS = [
    "--system", "double-pendulum", "--kind", "lnn", "--hidden", "16,16", "--angle-embedding", "sincos",
    "--steps", "20", "--batch", "256", "--val-size", "256", "--val-every", "20",
    "--ckpt", "ckpt", "--out", "trained",
]

# Provenance fields that differ from run to run (time, machine).
VOLATILE = ("hardware", "hardwareDetails", "date", "wallTimeSeconds")

# Generic states, angles near and on the seam θ = ±π, and angles far outside [−π, π).
Q = [[0.3, -1.1], [2.9, 3.4], [-3.1, 0.2], [math.pi, -math.pi], [7.5, -9.2], [-0.6, 1.6]]
QD = [[1.2, -0.5], [-3.0, 4.0], [0.1, 0.2], [2.0, -2.0], [-6.0, 5.0], [0.7, 8.0]]

MODELS = ("trained", "written")


def reproducible_xla_flags():
    """XLA CPU flags meant to make the float32 training bitwise reproducible across x86-64 machines: XLA
    compiles for the host's instruction set by default, and FMA (AVX2) or AVX-512 code rounds differently
    (measured here: the 20 steps then end with 5% (AVX2) to 73% (SSE4.2) of the weights differing from an
    AVX-512 run); the YNNPACK dot kernels are turned off too, as a library that may pick its kernels by
    the host CPU. None on other architectures. The test compares the weights to a tolerance (1e-5 absolute)
    all the same: unpinned, the weights differ from the pinned ones by at most 2.4e-7 here."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    return "--xla_cpu_max_isa=SSE4_2 --xla_cpu_experimental_ynn_fusion_type="


def train_model(out_dir):
    """Train and export the tiny model with TRAIN_ARGS; write it to out_dir without VOLATILE fields."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("JAX_ENABLE_X64", None)
    flags = reproducible_xla_flags()
    if flags is None:
        env.pop("XLA_FLAGS", None)
    else:
        env["XLA_FLAGS"] = flags
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            [sys.executable, os.path.join(HERE, "lnn_train.py"), "train", *TRAIN_ARGS],
            cwd=tmp, env=env, capture_output=True, text=True,
        )
        if run.returncode != 0:
            raise RuntimeError(f"lnn_train.py train failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
        os.makedirs(out_dir, exist_ok=True)
        shutil.copyfile(os.path.join(tmp, "trained", "weights.bin"), os.path.join(out_dir, "weights.bin"))
        with open(os.path.join(tmp, "trained", "model.json")) as f:
            model = json.load(f)
    prov = model["userDefinedMetadata"]["threeLnn"]["provenance"]
    for key in VOLATILE:
        prov.pop(key, None)
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
        f.write("\n")


def jax_qdd(model_dir):
    """q̈ at the states Q, QD in float64 from the stored float32 weights, both ways."""
    with jax.enable_x64(True):
        params, ms, meta = T.load_exported(model_dir)
        params = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params]
        q, qd = jnp.asarray(Q, jnp.float64), jnp.asarray(QD, jnp.float64)
        explicit = T.predict_qdd(params, ms, q, qd)
        autodiff = jax.vmap(lambda a, b: T.predict_qdd_one(params, ms, a, b))(q, qd)
        return {
            "embedding": meta["input"].get("angleEmbedding", "wrap"),
            "explicit": np.asarray(explicit, np.float64).tolist(),
            "autodiff": np.asarray(autodiff, np.float64).tolist(),
        }


def expected(fixture_dir):
    """expected.json's content for the model files in fixture_dir."""
    return {"q": Q, "qd": QD, **{name: jax_qdd(os.path.join(fixture_dir, name)) for name in MODELS}}


def main(fixture_dir=None):
    fixture_dir = fixture_dir or FIXTURE
    written = os.path.join(fixture_dir, "written", "model.json")
    if not os.path.exists(written):
        raise SystemExit(
            f"{written} is missing: the TypeScript test writes it "
            "(UPDATE_SINCOS_FIXTURE=1 npx vitest run test/model-sincos.test.ts)"
        )
    train_model(os.path.join(fixture_dir, "trained"))
    with open(os.path.join(fixture_dir, "expected.json"), "w") as f:
        json.dump(expected(fixture_dir), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
