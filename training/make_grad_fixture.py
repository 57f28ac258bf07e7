#!/usr/bin/env python3
"""Write the gradient parity fixture: for the `lnn` cases of the parity fixture, the gradient of the q̈
loss against every stored weight, computed by JAX autodiff in float64 through this trainer's q̈
(predict_qdd), at the case's states (expected.json) against a fixed target q̈_target = 0.5·q̈ + 0.25.
test/train-fast.test.ts checks that the TypeScript trainer's hand-derived gradient reproduces it.

Usage: python training/make_grad_fixture.py [parity_dir]   (default training/tests/fixtures/parity)
Writes <case>/grad.json: {"target": [B][n], "losses": {"l1": {"loss", "grads": [[…] per weight]}, "l2": …}}
"""

import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lnn_train as T  # noqa: E402

CASES = ["dp-lnn", "chain3-lnn-tanh", "dp-lnn-sincos", "relativistic-lnn"]


def loss_fn(kind):
    if kind == "l1":
        return lambda e: jnp.mean(jnp.abs(e))
    return lambda e: jnp.mean(e * e)


def main(parity_dir=None):
    parity_dir = parity_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests", "fixtures", "parity")
    for name in CASES:
        d = os.path.join(parity_dir, name)
        params32, ms, _meta = T.load_exported(d)
        params = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params32]
        with open(os.path.join(d, "expected.json")) as f:
            exp = json.load(f)
        q = jnp.asarray(exp["q"], jnp.float64)
        qd = jnp.asarray(exp["qd"], jnp.float64)
        target = 0.5 * jnp.asarray(exp["qdd"], jnp.float64) + 0.25
        out = {"target": np.asarray(target).tolist(), "losses": {}}
        for kind in ("l1", "l2"):
            f = loss_fn(kind)
            value, grads = jax.value_and_grad(lambda p: f(T.predict_qdd(p, ms, q, qd) - target))(params)
            flat = []
            for gw, gb in grads:
                flat.append(np.asarray(gw).reshape(-1).tolist())
                flat.append(np.asarray(gb).reshape(-1).tolist())
            out["losses"][kind] = {"loss": float(value), "grads": flat}
        with open(os.path.join(d, "grad.json"), "w") as f:
            json.dump(out, f)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
