"""The three JAX recipes that bench/jax_qdd.py times against the Node engine compute the same q̈: the
paper's formulation (hessian, jacobian, pseudo-inverse), the tuned autodiff recipe and the explicit
derivatives. Otherwise the speed comparison would compare different quantities."""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
import jax_qdd  # noqa: E402
import lnn_train as T  # noqa: E402


@pytest.mark.parametrize("angle_embedding", ["wrap", "sincos"])
def test_recipes_agree(angle_embedding):
    with jax.enable_x64(True):
        _check_recipes_agree(angle_embedding)


def _check_recipes_agree(angle_embedding):
    spec = T.make_system("double-pendulum")
    ms = T.build_model_spec(spec, "lnn", [32, 32], "softplus", angle_embedding)
    params = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64))
              for w, b in T.init_mlp(jax.random.PRNGKey(3), ms.layers)]
    kq, kv = jax.random.split(jax.random.PRNGKey(4))
    q = jax.random.uniform(kq, (64, 2), jnp.float64, 0.0, 2.0 * np.pi)
    qd = jax.random.uniform(kv, (64, 2), jnp.float64, -3.0, 3.0)
    out = {r: np.asarray(jax_qdd.recipe_qdd(r, ms)(params, q, qd)) for r in jax_qdd.RECIPES}
    assert np.all(np.isfinite(out["explicit"]))
    # A random network's q̈ is far from zero: agreement is not two zeros.
    assert np.median(np.abs(out["explicit"])) > 1e-3
    for r in ("paper", "autodiff"):
        np.testing.assert_allclose(out[r], out["explicit"], rtol=1e-6, atol=1e-8, err_msg=r)


def test_unknown_recipe_is_refused():
    spec = T.make_system("double-pendulum")
    ms = T.build_model_spec(spec, "lnn", [8], "softplus", "wrap")
    with pytest.raises(ValueError, match="unknown recipe 'fast'"):
        jax_qdd.recipe_qdd("fast", ms)
