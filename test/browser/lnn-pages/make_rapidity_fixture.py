"""Write rapidity-jax.json for test/browser/lnn-webgl.test.ts: two small `rapidity` models trained by
training/lnn_train.py, states with |q̇| up to 0.99, and float64 JAX q̈ (the trainer's explicit
derivatives, `predict_qdd`, and autodiff, `predict_qdd_one`) plus float64 RK4 runs on them.

Models (exported by the trainer first):
  .venv/bin/python training/lnn_train.py train --system relativistic-particle --kind lnn --hidden 16,16 \
      --velocity-embedding rapidity --steps 50 --val-every 50 --ckpt /tmp/rp-ck --out /tmp/rp-model
  .venv/bin/python training/lnn_train.py train --system double-pendulum --kind lnn --hidden 16,16 \
      --angle-embedding sincos --velocity-embedding rapidity --qd-range=-0.95,0.95 --steps 50 \
      --val-every 50 --ckpt /tmp/dp-ck --out /tmp/dp-model
Then: .venv/bin/python test/browser/lnn-pages/make_rapidity_fixture.py /tmp/rp-model /tmp/dp-model
"""
import json
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "training"))
import lnn_train as T  # noqa: E402

RK4_STEPS = 24
DT = 1.0 / 240.0


def rk4(params, ms, q, qd):
    """float64 RK4 of the explicit-derivative q̈, RK4_STEPS steps of DT, and per state whether H_vv was
    definite, of the same sign, at every stage (the trainer's solve has no regularisation, unlike the
    engines'; where H_vv changes sign, q̈ passes through a pole and the run is not reproducible)."""
    f = jax.jit(lambda a, b: T.predict_qdd(params, ms, a, b))
    definite = np.ones(q.shape[0], bool)
    sign = []

    def stage(a, b):
        hvv, _ = T.lnn_terms_batched(params, ms, a, b)
        ev = np.linalg.eigvalsh(np.asarray(hvv))
        if not sign:
            sign.append(np.where(ev[:, :1] < 0, -1.0, 1.0))
        definite[:] &= np.all(ev * sign[0] > 0, axis=1)
        return f(a, b)

    for _ in range(RK4_STEPS):
        a1 = stage(q, qd)
        a2 = stage(q + 0.5 * DT * qd, qd + 0.5 * DT * a1)
        a3 = stage(q + 0.5 * DT * qd + 0.25 * DT * DT * a1, qd + 0.5 * DT * a2)
        a4 = stage(q + DT * qd + 0.5 * DT * DT * a2, qd + DT * a3)
        q = q + DT * qd + DT * DT / 6.0 * (a1 + a2 + a3)
        qd = qd + DT / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
    return q, qd, definite


def case(model_dir, q, qd):
    params, ms, meta = T.load_exported(model_dir)
    params = [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params]
    q = jnp.asarray(q, jnp.float64)
    qd = jnp.asarray(qd, jnp.float64)
    explicit = T.predict_qdd(params, ms, q, qd)
    autodiff = jax.vmap(lambda a, b: T.predict_qdd_one(params, ms, a, b))(q, qd)
    hvv, _ = T.lnn_terms_batched(params, ms, q, qd)
    ev = np.linalg.eigvalsh(np.asarray(hvv))
    q1, qd1, definite = rk4(params, ms, q, qd)
    # A run that left |q̇| < 1 (non-finite state) is not compared; JSON has no NaN.
    finite = np.all(np.isfinite(np.asarray(q1)), axis=1) & np.all(np.isfinite(np.asarray(qd1)), axis=1)
    definite &= finite
    q1 = np.where(np.isfinite(q1), q1, 0.0)
    qd1 = np.where(np.isfinite(qd1), qd1, 0.0)
    with open(os.path.join(model_dir, "model.json")) as f:
        raw = json.load(f)
    layers = []
    for i, (w, b) in enumerate(T.load_exported(model_dir)[0]):
        layers.append({"kernel": np.asarray(w, np.float32).ravel().tolist(), "bias": np.asarray(b, np.float32).tolist()})
    return {
        "metadata": raw["userDefinedMetadata"]["threeLnn"],
        "layers": layers,
        "q": np.asarray(q).ravel().tolist(),
        "qd": np.asarray(qd).ravel().tolist(),
        "qdd": np.asarray(explicit).ravel().tolist(),
        "qddAutodiff": np.asarray(autodiff).ravel().tolist(),
        "definite": (np.all(ev > 0, axis=1) | np.all(ev < 0, axis=1)).tolist(),
        "rk4": {
            "steps": RK4_STEPS,
            "dt": DT,
            "q": np.asarray(q1).ravel().tolist(),
            "qd": np.asarray(qd1).ravel().tolist(),
            "definite": definite.tolist(),
        },
    }


def main():
    rp_dir, dp_dir = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(7)
    b = 12
    v1 = rng.uniform(-0.99, 0.99, (b, 1))
    v1[:3, 0] = [0.99, -0.99, 0.98]
    rp = case(rp_dir, rng.uniform(-3, 3, (b, 1)), v1)
    # A briefly trained pendulum has an indefinite H_vv at about half the states: twice as many states.
    v2 = rng.uniform(-0.99, 0.99, (2 * b, 2))
    v2[:2] = [[0.99, -0.99], [-0.98, 0.5]]
    dp = case(dp_dir, rng.uniform(-np.pi, np.pi, (2 * b, 2)), v2)
    out = os.path.join(os.path.dirname(__file__), "rapidity-jax.json")
    with open(out, "w") as f:
        json.dump(
            {"generatedBy": "test/browser/lnn-pages/make_rapidity_fixture.py", "relativistic": rp, "doublePendulum": dp},
            f,
            allow_nan=False,
        )
    print("wrote", out)


if __name__ == "__main__":
    main()
