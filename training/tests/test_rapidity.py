"""The rapidity velocity embedding (`input.velocityEmbedding: "rapidity"`) in the JAX trainer: explicit
derivatives (with the map's second derivative) against autodiff in float64, and a clear refusal of a
training box whose speeds reach c."""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lnn_train as T  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _params64(ms, seed):
    params = T.init_mlp(jax.random.PRNGKey(seed), ms.layers)
    return [(jnp.asarray(w, jnp.float64), jnp.full(b.shape, 0.2, jnp.float64)) for w, b in params]


@pytest.mark.parametrize("system,angles", [("relativistic-particle", "wrap"), ("double-pendulum", "sincos")])
def test_explicit_derivatives_match_autodiff(system, angles):
    spec = T.make_system(system)
    if system == "double-pendulum":
        spec.qd_range = [[-0.95, 0.95]] * spec.dof
    ms = T.build_model_spec(spec, "lnn", [16, 16], "softplus", angles, "rapidity")
    params = _params64(ms, 3)
    q, qd = T.sample_states(spec, jax.random.PRNGKey(4), 12)
    q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
    explicit = T.predict_qdd(params, ms, q, qd)
    autodiff = jax.vmap(lambda a, b: T.predict_qdd_one(params, ms, a, b))(q, qd)
    np.testing.assert_allclose(np.asarray(explicit), np.asarray(autodiff), rtol=1e-9, atol=1e-12)


def test_speeds_at_c_are_refused_with_a_clear_error():
    spec = T.make_system("double-pendulum")  # q̇ box ±10: atanh is not finite there
    with pytest.raises(SystemExit, match="below 1"):
        T.build_model_spec(spec, "lnn", [8], "softplus", "sincos", "rapidity")


@pytest.mark.parametrize("kind", ["baseline", "lgn"])
def test_embeddings_are_refused_for_other_kinds(kind):
    spec = T.make_system("string" if kind == "lgn" else "double-pendulum")
    with pytest.raises(SystemExit, match="lnn only"):
        T.build_model_spec(spec, kind, [8], "softplus", "sincos")
