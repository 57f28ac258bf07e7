#!/usr/bin/env python3
"""Write the cross-implementation parity fixture: small models with seeded random weights in the v1
format, a few states, and L, energy and q̈ computed by the JAX trainer in float64 from the stored float32
weights. test/train-parity.test.ts checks that the TypeScript evaluators reproduce them;
training/tests/test_parity_fixture.py checks that the fixture still matches this trainer.

Usage: python training/make_parity_fixture.py [out_dir]   (default training/tests/fixtures/parity)
"""

import dataclasses
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lnn_train as T  # noqa: E402

# A case's seed is its index + 1: new cases go at the end so that the earlier ones keep their weights.
CASES = [
    # name, system id, overrides, kind, hidden, activation[, angle embedding, velocity embedding]
    ("dp-lnn", "double-pendulum", {}, "lnn", [8, 8], "softplus"),
    ("chain3-lnn-tanh", "chain", {"links": 3}, "lnn", [8], "tanh"),
    ("string-lgn", "string", {"nodes": 5}, "lgn", [8, 8], "softplus"),
    ("dp-baseline", "double-pendulum", {}, "baseline", [8, 8], "relu"),
    ("relativistic-lnn", "relativistic-particle", {}, "lnn", [8, 8], "softplus"),
    # input.angleEmbedding "sincos": (cos θ, sin θ) per angle, layers[0] = 6.
    ("dp-lnn-sincos", "double-pendulum", {}, "lnn", [8, 8], "softplus", "sincos"),
    # input.velocityEmbedding "rapidity": atanh(q̇) inputs on the relativistic particle's rapidity box.
    ("relativistic-lnn-rapidity", "relativistic-particle", {}, "lnn", [8, 8], "softplus", "wrap", "rapidity"),
    # Both maps at once. The double pendulum has no speed limit; only the network input map is compared
    # here, so its states are drawn with q̇ = tanh(u), u ~ U[−2, 2) (|q̇| < 1, where atanh is defined).
    ("dp-lnn-sincos-rapidity", "double-pendulum", {}, "lnn", [8, 8], "softplus", "sincos", "rapidity"),
]

# Cases whose states are drawn from a rapidity box although their system's default box is not one.
RAPIDITY_BOX = {"dp-lnn-sincos-rapidity": [-2.0, 2.0]}


def even_in_velocities(params, q_width, dof):
    """Make L even in each velocity input separately: the first hidden layer in groups of 2^dof copies of
    one unit, one per sign pattern of its velocity rows, and the copies given the same weights in the
    second layer (flipping one x_v then only permutes copies). With the convex layers above, L is convex
    and even in each x_v, so ∂L/∂x_v has the sign of x_v = atanh(q̇)·scale, and the term
    diag(φ″(q̇)·∂L/∂x_v) that atanh adds to H_vv (φ″ has the sign of q̇) is ≥ 0: H_vv stays positive
    definite, which random first-layer weights do not guarantee under the rapidity map."""
    (w0, b0), (w1, b1) = params[0], params[1]
    copies = 2**dof
    width = w0.shape[1]
    assert width % copies == 0, f"first hidden width {width} must be a multiple of 2^dof = {copies}"
    cols, bias, rows = [], [], []
    for j in range(width // copies):
        for pattern in range(copies):
            flips = [-1.0 if pattern >> i & 1 else 1.0 for i in range(dof)]
            signs = jnp.array([1.0] * q_width + flips, w0.dtype)
            cols.append(w0[:, j] * signs)
            bias.append(b0[j])
            rows.append(w1[j])
    return [(jnp.stack(cols, axis=1), jnp.stack(bias)), (jnp.stack(rows), b1), *params[2:]]


def expected(name, sid, over, kind, hidden, act, angle_embedding="wrap", velocity_embedding="identity", *,
             seed):
    spec = T.make_system(sid, over)
    if name in RAPIDITY_BOX:
        spec = dataclasses.replace(spec, qd_range=[RAPIDITY_BOX[name]] * spec.dof, qd_sampling="rapidity")
    ms = T.build_model_spec(spec, kind, hidden, act, angle_embedding, velocity_embedding)
    params32 = T.init_mlp(jax.random.PRNGKey(seed), ms.layers)
    # Non-zero biases so that the fixture exercises them.
    params32 = [
        (w, 0.1 * jax.random.normal(jax.random.PRNGKey(seed + 100 + i), b.shape, jnp.float32))
        for i, (w, b) in enumerate(params32)
    ]
    if kind != "baseline":
        # A positive-definite H_vv, so that no solver regularises: softplus with non-negative kernels after
        # the first layer is convex in its inputs; tanh is convex for z < 0, so shift the pre-activations
        # well below 0 and keep the output weights positive.
        if act == "softplus":
            params32 = [params32[0]] + [(jnp.abs(w), b) for w, b in params32[1:]]
        else:
            (w0, b0), (w1, b1) = params32
            params32 = [(0.3 * w0, b0 - 3.0), (jnp.abs(w1), b1)]
        if velocity_embedding == "rapidity":
            params32 = even_in_velocities(params32, ms.layers[0] - spec.dof, spec.dof)
    q, qd = T.sample_states(spec, jax.random.PRNGKey(seed + 1), 6)
    # Also an angle outside [−π, π) to exercise wrapping (and the periodicity of cos, sin under sincos).
    if any(spec.angles):
        q = q.at[0, 0].add(4 * jnp.pi)
    params = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params32]
    q64, qd64 = jnp.asarray(q, jnp.float64), jnp.asarray(qd, jnp.float64)
    out = {"q": np.asarray(q64).tolist(), "qd": np.asarray(qd64).tolist(), "dof": spec.dof}
    out["qdd"] = np.asarray(T.predict_qdd(params, ms, q64, qd64)).tolist()
    if kind != "baseline":
        hvv = jax.vmap(lambda a, b: T.lnn_terms(params, ms, a, b)[0])(q64, qd64)
        assert bool(jnp.all(jnp.linalg.eigvalsh(hvv)[:, 0] > 0)), f"{name}: H_vv must be positive definite"
        out["L"] = np.asarray(jax.vmap(lambda a, b: T.lagrangian(params, ms, a, b))(q64, qd64)).tolist()
        out["energy"] = np.asarray(T.learned_energy(params, ms, q64, qd64)).tolist()
    blob = {
        "system": T.asdict(spec),
        "model": T.asdict(ms),
        "best_params": params32,
        "best_step": 0,
        "state": {"t": 0},
        "wall": 0.0,
        "provenance": {"command": "python training/make_parity_fixture.py", "seed": seed, "note": "random weights"},
        "metrics": {},
    }
    return blob, out


def main(out_dir=None):
    out_dir = out_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "fixtures", "parity")
    for seed, case in enumerate(CASES):
        blob, exp = expected(*case, seed=seed + 1)
        d = os.path.join(out_dir, case[0])
        T.export_model(blob, d)
        # Dates and hardware would make the fixture differ on every run.
        path = os.path.join(d, "model.json")
        with open(path) as f:
            model = json.load(f)
        model["userDefinedMetadata"]["threeLnn"]["provenance"].pop("hardware", None)
        with open(path, "w") as f:
            json.dump(model, f, indent=2)
            f.write("\n")
        with open(os.path.join(d, "expected.json"), "w") as f:
            json.dump(exp, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
