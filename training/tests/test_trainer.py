"""Tests of the JAX trainer and exporter: physics of the data generator, exact q̈ of the network,
export round trip, determinism and exact resume."""

import json
import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lnn_train as T  # noqa: E402


def states(spec, n=64, seed=0):
    return T.sample_states(spec, jax.random.PRNGKey(seed), n)


def test_chain_of_two_links_is_the_double_pendulum():
    dp = T.make_system("double-pendulum")
    ch = T.make_system("chain", {"links": 2})
    q, qd = states(dp)
    a, b = dp.qdd(q, qd), ch.qdd(q, qd)
    assert float(jnp.max(jnp.abs(a - b) / (1 + jnp.abs(a)))) < 1e-4, "chain(2) q̈ differs from the double pendulum"
    ea, eb = dp.energy(q, qd), ch.energy(q, qd)
    assert float(jnp.max(jnp.abs(ea - eb))) < 1e-3, "chain(2) energy differs from the double pendulum"


def euler_lagrange(Lfun, q, qd):
    """q̈ from a Lagrangian by autodiff (independent of the closed forms)."""
    hvv = jax.hessian(Lfun, argnums=1)(q, qd)
    hvq = jax.jacfwd(jax.grad(Lfun, argnums=1), argnums=0)(q, qd)
    gq = jax.grad(Lfun, argnums=0)(q, qd)
    return jnp.linalg.solve(hvv, gq - hvq @ qd)


def test_closed_form_targets_follow_from_their_lagrangians():
    with jax.enable_x64(True):
        rel = T.make_system("relativistic-particle")
        L_rel = lambda q, v: (1 - v[0] ** 2) ** -0.5 - 1 + rel.params["g"] * q[0]  # noqa: E731
        st = T.make_system("string", {"nodes": 5})

        def L_str(q, v):
            p = st.params
            z = jnp.pad(q, (1, 1))
            return jnp.sum(0.5 * p["density"] * p["spacing"] * v * v) - jnp.sum(
                0.5 * p["tension"] * (z[1:] - z[:-1]) ** 2 / p["spacing"]
            )

        for spec, L in [(rel, L_rel), (st, L_str)]:
            q, qd = states(spec, 16)
            q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
            want = jax.vmap(lambda a, b: euler_lagrange(L, a, b))(q, qd)
            got = spec.qdd(q, qd)
            assert float(jnp.max(jnp.abs(got - want))) < 1e-9 * (1 + float(jnp.max(jnp.abs(want)))), spec.id


def test_lnn_qdd_matches_a_hand_built_lagrangian():
    # Network [2 → 2 → 1], softplus: L = w1·softplus(a·q̇) + w2·softplus(q), so
    # q̈ = w2·sigmoid(q) / (w1·a²·s(1−s)) with s = sigmoid(a·q̇) (H_vq = 0).
    a, w1, w2 = 1.7, 0.8, 0.3
    params = [
        (jnp.array([[0.0, 1.0], [a, 0.0]], jnp.float32), jnp.zeros(2, jnp.float32)),
        (jnp.array([[w1], [w2]], jnp.float32), jnp.zeros(1, jnp.float32)),
    ]
    ms = T.ModelSpec("lnn", [2, 2, 1], "softplus", [1.0], [1.0], 1.0, [False], 1)
    q = jnp.linspace(-1.0, 1.0, 9)[:, None]
    v = jnp.linspace(-0.8, 0.8, 9)[:, None]
    s = jax.nn.sigmoid(a * v)
    want = w2 * jax.nn.sigmoid(q) / (w1 * a * a * s * (1 - s))
    got = T.predict_qdd(params, ms, q, v)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, err_msg="explicit-derivative q̈")
    slow = jax.vmap(lambda x, y: T.predict_qdd_one(params, ms, x, y))(q, v)
    np.testing.assert_allclose(np.asarray(slow), np.asarray(want), rtol=1e-5, err_msg="autodiff q̈")


@pytest.mark.parametrize("sid,kind", [("double-pendulum", "lnn"), ("chain", "lnn"), ("string", "lgn")])
def test_explicit_derivatives_equal_autodiff(sid, kind):
    with jax.enable_x64(True):
        spec = T.make_system(sid)
        ms = T.build_model_spec(spec, kind, [16, 16], "softplus")
        params = [(w.astype(jnp.float64), b.astype(jnp.float64)) for w, b in T.init_mlp(jax.random.PRNGKey(3), ms.layers)]
        q, qd = states(spec, 8)
        q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
        fast = T.predict_qdd(params, ms, q, qd)
        slow = jax.vmap(lambda a, b: T.predict_qdd_one(params, ms, a, b))(q, qd)
        rel = jnp.max(jnp.abs(fast - slow) / (1 + jnp.abs(slow)))
        assert float(rel) < 1e-9, f"{sid}: explicit and autodiff q̈ differ by {float(rel)}"


def run(tmp_path, name, steps, extra=()):
    ckpt = str(tmp_path / name)
    argv = ["train", "--system", "double-pendulum", "--kind", "lnn", "--hidden", "16,16", "--batch", "64",
            "--steps", str(steps), "--val-every", "10", "--val-size", "256", "--seed", "5",
            "--decay-steps", "100", "--warmup", "5", "--ckpt", ckpt, *extra]
    T.main(argv)
    return T.load_ckpt(ckpt)


def flat(params):
    return np.concatenate([np.asarray(x).ravel() for x in jax.tree_util.tree_leaves(params)])


def test_training_lowers_the_loss_and_is_deterministic(tmp_path):
    a = run(tmp_path, "a", 40)
    b = run(tmp_path, "b", 40)
    np.testing.assert_array_equal(flat(a["state"]["params"]), flat(b["state"]["params"]), "same seed, same weights")
    hist = a["history"]
    assert hist[-1][1] < hist[0][1], f"validation q̈ L1 did not decrease: {hist}"


def test_resume_continues_exactly(tmp_path):
    whole = run(tmp_path, "whole", 40)
    run(tmp_path, "split", 20)
    resumed = run(tmp_path, "split", 40)
    assert int(resumed["state"]["t"]) == 40
    np.testing.assert_array_equal(flat(whole["state"]["params"]), flat(resumed["state"]["params"]))
    np.testing.assert_array_equal(flat(whole["state"]["v"]), flat(resumed["state"]["v"]))


def test_export_round_trip(tmp_path):
    blob = run(tmp_path, "exp", 20)
    out = tmp_path / "model"
    meta = T.export_model(blob, str(out))
    model = json.loads((out / "model.json").read_text())
    assert model["format"] == "three-lnn"
    assert model["modelTopology"]["layers"] == [4, 16, 16, 1]
    names = [w["name"] for w in model["weightsManifest"][0]["weights"]]
    assert names == ["dense_0/kernel", "dense_0/bias", "dense_1/kernel", "dense_1/bias", "dense_2/kernel", "dense_2/bias"]
    n_floats = sum(int(np.prod(w["shape"])) for w in model["weightsManifest"][0]["weights"])
    assert (out / "weights.bin").stat().st_size == 4 * n_floats, "weights.bin holds exactly the manifest's floats"
    m = model["userDefinedMetadata"]["threeLnn"]
    for key in ["formatVersion", "kind", "system", "dof", "angles", "input", "architecture", "output",
                "trainingRanges", "solver", "provenance", "metrics"]:
        assert key in m, f"metadata lacks {key}"
    assert m == meta
    assert m["system"] == {"id": "double-pendulum", "params": {"m1": 1.0, "m2": 1.0, "l1": 1.0, "l2": 1.0, "g": 9.8}}
    for key in ["command", "seed", "data", "steps", "batch", "trainer", "wallTimeSeconds", "hardware", "date"]:
        assert key in m["provenance"], f"provenance lacks {key}"
    params, ms, _ = T.load_exported(str(out))
    best = blob["best_params"]
    np.testing.assert_array_equal(flat(params), flat(best), "weights survive export and reload bit for bit")
    q, qd = states(T.make_system("double-pendulum"), 16)
    np.testing.assert_allclose(
        np.asarray(T.predict_qdd(params, ms, q, qd)),
        np.asarray(T.predict_qdd(best, ModelSpecOf(blob), q, qd)),
        rtol=1e-6,
    )


def ModelSpecOf(blob):  # noqa: N802
    return T.ModelSpec(**blob["model"])


def test_wrap_maps_into_half_open_interval():
    x = jnp.array([-math.pi, math.pi, 3 * math.pi + 0.1, -7.0, 0.0])
    w = T.wrap(x)
    assert bool(jnp.all(w >= -math.pi)) and bool(jnp.all(w < math.pi))
    np.testing.assert_allclose(np.asarray(jnp.cos(w)), np.asarray(jnp.cos(x)), atol=1e-5)
