"""The sin/cos angle embedding (`input.angleEmbedding: "sincos"`) in the JAX trainer: the network input as
docs/model-format.md specifies it, the explicit derivatives against autodiff in float64, exact periodicity,
and the export round trip (the field is written for sincos only; wrap models are unchanged)."""

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


def params64(ms, seed, bias_std=0.3):
    """Random float64 weights with non-zero biases (so that the biases are exercised)."""
    params = T.init_mlp(jax.random.PRNGKey(seed), ms.layers)
    out = []
    for i, (w, b) in enumerate(params):
        b = bias_std * jax.random.normal(jax.random.PRNGKey(seed + 100 + i), b.shape, jnp.float64)
        out.append((jnp.asarray(w, jnp.float64), b))
    return out


def mixed_spec(activation="softplus"):
    """Two coordinates, only the first an angle, input scales ≠ 1 (built directly, not from a system)."""
    return T.ModelSpec("lnn", [5, 16, 16, 1], activation, [0.8, 0.5], [0.2, 0.3], 1.3, [True, False], 2,
                       {"angleEmbedding": "sincos"})


def sincos_spec(sid, over):
    spec = T.make_system(sid, over)
    return spec, T.build_model_spec(spec, "lnn", [16, 16], "softplus", angle_embedding="sincos")


def test_network_input_is_cos_then_sin_per_angle_then_scaled_velocities():
    with jax.enable_x64(True):
        ms = mixed_spec()
        q = jnp.array([2.7 + 4 * math.pi, -0.6])
        qd = jnp.array([1.5, -2.5])
        want = [0.8 * math.cos(2.7), 0.8 * math.sin(2.7), 0.5 * -0.6, 0.2 * 1.5, 0.3 * -2.5]
        np.testing.assert_allclose(np.asarray(T.net_input(ms, q, qd)), want, rtol=0, atol=1e-13)
        # The Jacobian the explicit path uses: d(input)/dq, rows (cos, sin, q2).
        _, jac = T.q_features(ms, q[None])
        want_jac = [[-0.8 * math.sin(2.7), 0], [0.8 * math.cos(2.7), 0], [0, 0.5]]
        np.testing.assert_allclose(np.asarray(jac[0]), want_jac, rtol=0, atol=1e-13)


@pytest.mark.parametrize(
    "case",
    ["double-pendulum", "chain3", "mixed-softplus", "mixed-tanh"],
)
def test_sincos_explicit_derivatives_equal_autodiff(case):
    with jax.enable_x64(True):
        if case.startswith("mixed"):
            ms = mixed_spec(case.split("-")[1])
            key = jax.random.PRNGKey(7)
            q = jax.random.uniform(key, (12, 2), jnp.float64, -3, 3) * jnp.array([3.0, 1.0])
            qd = jax.random.uniform(jax.random.PRNGKey(8), (12, 2), jnp.float64, -4, 4)
        else:
            spec, ms = sincos_spec(*{"double-pendulum": ("double-pendulum", {}), "chain3": ("chain", {"links": 3})}[case])
            n_angles = sum(1 for a in spec.angles if a)
            assert ms.layers[0] == 2 * spec.dof + n_angles, "one extra input per angle"
            assert T.embedding(ms) == "sincos"
            q, qd = T.sample_states(spec, jax.random.PRNGKey(1), 12)
            q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
            # Angles far outside [−π, π) and on the seam θ = ±π.
            q = q.at[0, 0].add(6 * jnp.pi).at[1, 0].set(jnp.pi).at[2, 0].set(-jnp.pi)
        params = params64(ms, 3)

        @jax.jit  # one compilation instead of many small eager dispatches
        def both(params, q, qd):
            explicit = T.lnn_terms_batched(params, ms, q, qd) + (T.predict_qdd(params, ms, q, qd),)
            one = jax.vmap(lambda a, b: T.lnn_terms(params, ms, a, b) + (T.predict_qdd_one(params, ms, a, b),))
            return explicit, one(q, qd)

        (hvv, rhs, fast), (hvv_ad, rhs_ad, slow) = both(params, q, qd)
        scale_h = float(jnp.max(jnp.abs(hvv_ad)))
        scale_r = float(jnp.max(jnp.abs(rhs_ad)))
        assert float(jnp.max(jnp.abs(hvv - hvv_ad))) < 1e-12 * scale_h, "H_vv: explicit vs autodiff"
        assert float(jnp.max(jnp.abs(rhs - rhs_ad))) < 1e-12 * scale_r, "∂L/∂q − H_vq q̇: explicit vs autodiff"
        rel = float(jnp.max(jnp.abs(fast - slow) / (1 + jnp.abs(slow))))
        assert rel < 1e-9, f"{case}: explicit and autodiff q̈ differ by {rel}"


def test_sincos_is_exactly_periodic_and_smooth_at_the_seam():
    with jax.enable_x64(True):
        _, ms = sincos_spec("double-pendulum", {})
        params = params64(ms, 4)
        q = jnp.array([[0.4, -1.2], [3.0, 2.0]])
        qd = jnp.array([[0.8, -1.5], [-2.0, 0.5]])
        base = T.predict_qdd(params, ms, q, qd)
        for k in ([1, 0], [0, -1], [3, 7]):
            shifted = T.predict_qdd(params, ms, q + 2 * jnp.pi * jnp.array(k, jnp.float64), qd)
            np.testing.assert_allclose(np.asarray(shifted), np.asarray(base), rtol=1e-11, atol=1e-11)
        # L is continuous across θ₁ = ±π (wrap(θ) jumps there).
        d = 1e-9
        left = T.lagrangian(params, ms, jnp.array([jnp.pi - d, 0.3]), qd[0])
        right = T.lagrangian(params, ms, jnp.array([jnp.pi + d, 0.3]), qd[0])
        assert abs(float(left - right)) < 1e-7


def run(tmp_path, name, extra=()):
    ckpt = str(tmp_path / name)
    argv = ["train", "--system", "double-pendulum", "--kind", "lnn", "--hidden", "8,8", "--batch", "64",
            "--steps", "10", "--val-every", "10", "--val-size", "128", "--seed", "5",
            "--decay-steps", "100", "--warmup", "5", "--ckpt", ckpt, *extra]
    T.main(argv)
    return T.load_ckpt(ckpt)


def flat(params):
    return np.concatenate([np.asarray(x).ravel() for x in jax.tree_util.tree_leaves(params)])


@pytest.mark.parametrize("embedding", ["sincos", "wrap"])
def test_export_round_trip_keeps_the_embedding(tmp_path, embedding):
    extra = ["--angle-embedding", "sincos"] if embedding == "sincos" else []
    blob = run(tmp_path, embedding, extra)
    out = tmp_path / f"model-{embedding}"
    meta = T.export_model(blob, str(out))
    model = json.loads((out / "model.json").read_text())
    stored = model["userDefinedMetadata"]["threeLnn"]
    assert stored == meta
    inputs = 6 if embedding == "sincos" else 4
    assert stored["architecture"]["layers"][0] == inputs
    assert model["modelTopology"]["layers"][0] == inputs
    assert model["weightsManifest"][0]["weights"][0]["shape"] == [inputs, 8]
    if embedding == "sincos":
        assert stored["input"]["angleEmbedding"] == "sincos"
    else:
        assert "angleEmbedding" not in stored["input"], "wrap is the default and is not written"
    params, ms, _ = T.load_exported(str(out))
    assert T.embedding(ms) == embedding
    best = blob["best_params"]
    np.testing.assert_array_equal(flat(params), flat(best), "weights survive export and reload bit for bit")
    q, qd = T.sample_states(T.make_system("double-pendulum"), jax.random.PRNGKey(2), 16)
    np.testing.assert_array_equal(
        np.asarray(T.predict_qdd(params, ms, q, qd)),
        np.asarray(T.predict_qdd(best, T.ModelSpec(**blob["model"]), q, qd)),
        "q̈ of the reloaded model",
    )
