"""Tests of the grid-graph LGN of the JAX trainer (the membrane): the closed-form targets follow from the
membrane's Lagrangian, the explicit edge-by-edge H_vv and right-hand side equal autodiff of the summed
Lagrangian, and the export carries the grid."""

import json
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lnn_train as T  # noqa: E402


def euler_lagrange(Lfun, q, qd):
    """q̈ from a Lagrangian by autodiff (independent of the closed forms)."""
    hvv = jax.hessian(Lfun, argnums=1)(q, qd)
    hvq = jax.jacfwd(jax.grad(Lfun, argnums=1), argnums=0)(q, qd)
    gq = jax.grad(Lfun, argnums=0)(q, qd)
    return jnp.linalg.solve(hvv, gq - hvq @ qd)


def test_membrane_targets_follow_from_its_lagrangian():
    with jax.enable_x64(True):
        spec = T.make_system("membrane", {"nx": 3, "ny": 4, "spacing": 0.2, "tension": 2.0})
        p = spec.params
        assert spec.dof == 12

        def L(q, v):
            z = T._membrane_grid(p, q[None])[0]
            dx, dy = z[1:-1, 1:] - z[1:-1, :-1], z[1:, 1:-1] - z[:-1, 1:-1]
            return 0.5 * p["density"] * p["spacing"] ** 2 * jnp.sum(v * v) - 0.5 * p["tension"] * (
                jnp.sum(dx * dx) + jnp.sum(dy * dy)
            )

        q, qd = T.sample_states(spec, jax.random.PRNGKey(3), 8)
        q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
        want = jax.vmap(lambda a, b: euler_lagrange(L, a, b))(q, qd)
        got = spec.qdd(q, qd)
        assert float(jnp.max(jnp.abs(got - want))) < 1e-9 * (1 + float(jnp.max(jnp.abs(want)))), "membrane q̈"
        e = spec.energy(q, qd)
        e_want = jax.vmap(lambda a, b: jnp.dot(b, jax.grad(L, argnums=1)(a, b)) - L(a, b))(q, qd)
        assert float(jnp.max(jnp.abs(e - e_want))) < 1e-12, "membrane energy"


def test_grid_edges_cover_every_node_four_times():
    a, b = T.grid_edges(3, 2)
    assert len(a) == (3 + 1) * 2 + 3 * (2 + 1), "edge count"
    counts = np.bincount(np.concatenate([a, b]), minlength=7)
    assert list(counts[:6]) == [4] * 6, "every interior node has four edges (boundary edges included)"


def test_grid_lgn_qdd_equals_autodiff_of_the_summed_lagrangian():
    with jax.enable_x64(True):
        spec = T.make_system("membrane", {"nx": 3, "ny": 2})
        ms = T.build_model_spec(spec, "lgn", [16, 16], "softplus")
        assert ms.extra["graph"] == {"type": "grid", "nx": 3, "ny": 2, "boundary": "fixed"}
        params = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64), T.init_mlp(jax.random.PRNGKey(1), ms.layers))
        q, qd = T.sample_states(spec, jax.random.PRNGKey(2), 5)
        q, qd = q.astype(jnp.float64), qd.astype(jnp.float64)
        got = T.predict_qdd(params, ms, q, qd)
        want = jax.vmap(lambda a, b: euler_lagrange(lambda x, v: T.lagrangian(params, ms, x, v), a, b))(q, qd)
        err = float(jnp.max(jnp.abs(got - want)))
        assert err < 1e-8 * (1 + float(jnp.max(jnp.abs(want)))), f"explicit grid terms vs autodiff: {err}"


def test_grid_lgn_export_round_trip(tmp_path):
    spec = T.make_system("membrane", {"nx": 2, "ny": 3})
    ms = T.build_model_spec(spec, "lgn", [8], "softplus")
    params = T.init_mlp(jax.random.PRNGKey(0), ms.layers)
    blob = {
        "model": T.asdict(ms),
        "system": T.asdict(spec),
        "state": {"params": params, "t": 5},
        "best_params": None,
        "wall": 1.0,
        "provenance": {"command": "python training/lnn_train.py train --system membrane --kind lgn"},
    }
    meta = T.export_model(blob, str(tmp_path))
    assert meta["graph"] == {"type": "grid", "nx": 2, "ny": 3, "boundary": "fixed"}
    assert meta["dof"] == 6 and meta["system"]["id"] == "membrane"
    with open(tmp_path / "model.json") as f:
        assert json.load(f)["userDefinedMetadata"]["threeLnn"]["graph"]["type"] == "grid"
    p2, ms2, _ = T.load_exported(str(tmp_path))
    q, qd = T.sample_states(spec, jax.random.PRNGKey(4), 3)
    a, b = T.predict_qdd(params, ms, q, qd), T.predict_qdd(p2, ms2, q, qd)
    assert float(jnp.max(jnp.abs(a - b))) == 0.0, "the exported grid model predicts the same q̈"
