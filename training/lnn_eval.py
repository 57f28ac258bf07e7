#!/usr/bin/env python3
"""Evaluate an exported three-lnn model (format v1) with the paper's protocols, in float64 JAX.

The same protocols as ``three-lnn eval`` (src/eval), vectorised with XLA so that the full 40 × 100 s
energy protocol takes seconds to minutes on one CPU core:

- double pendulum / chain: mean |E(100 s) − E(0)| / energyScale over 40 starts with q ~ U[0, 2π),
  q̇ ~ U[0, 0.1), using the TRUE energy of the learned trajectory (RK4, dt = 0.005); mean q̈ L1 error on
  100,000 fresh states from the paper's distribution;
- string (lgn): normal-mode frequencies of the learned model on 100 nodes (linearised at rest) against the
  closed form ω_k = 2 c/Δx sin(kπ / (2(N+1))), and the relative change of the true energy over 10 s;
- relativistic particle: q̈ error on held-out states and max |q̇| along 100 s roll-outs.
- spherical pendulum: q̈ L1 error over the training box, and the energy error averaged over 40 starts from
  the system's sampler and over time (RK4, dt = 0.005, 100 s).

Usage: python training/lnn_eval.py assets/models/double-pendulum-lnn [--write] [--starts 40] [--seconds 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lnn_train as T  # noqa: E402

ENERGY_SCALE = {
    "double-pendulum": lambda p: (p["m1"] + p["m2"]) * p["g"] * p["l1"] + p["m2"] * p["g"] * p["l2"],
    "chain": lambda p: p["g"] * p["l"] * p["m"] * sum(range(1, int(p["links"]) + 1)),
    "spherical-pendulum": lambda p: abs(p["m"] * p["g"] * p["l"]) or 1.0,
    "double-spherical-pendulum": lambda p: abs((p["m1"] + p["m2"]) * p["g"] * p["l1"] + p["m2"] * p["g"] * p["l2"])
    or 1.0,
}

# The systems whose energy protocol starts from their own sampler (as SphericalPendulum.sample does).
SAMPLERS = {
    "spherical-pendulum": T.sample_spherical_cap,
    "double-spherical-pendulum": T.sample_double_spherical,
}


def rk4_rollout(f, q, qd, dt, steps, record_every=0):
    """RK4 for q̈ = f(q, q̇) over a batch; returns final (q, qd) and, when record_every > 0, the states
    every record_every steps."""

    def rk4(carry, _):
        q, v = carry
        a1 = f(q, v)
        a2 = f(q + 0.5 * dt * v, v + 0.5 * dt * a1)
        a3 = f(q + 0.5 * dt * (v + 0.5 * dt * a1), v + 0.5 * dt * a2)
        a4 = f(q + dt * (v + 0.5 * dt * a2), v + dt * a3)
        qn = q + dt * v + dt * dt / 6.0 * (a1 + a2 + a3)
        vn = v + dt / 6.0 * (a1 + 2 * a2 + 2 * a3 + a4)
        return (qn, vn), None

    inner = record_every if record_every else steps

    @jax.jit
    def chunk(q, v):
        (q, v), _ = jax.lax.scan(rk4, (q, v), None, length=inner)
        return q, v

    states = [(q, qd)]
    for _ in range(steps // inner):
        q, qd = chunk(q, qd)
        states.append((q, qd))
    return q, qd, states


def cast64(params):
    return [(jnp.asarray(w, jnp.float64), jnp.asarray(b, jnp.float64)) for w, b in params]


def system_for(meta, nodes=None):
    """The exact system of a model, with the model's training box (metadata.trainingRanges) as the
    distribution of fresh states (speeds, uniform), like `three-lnn eval`."""
    p = dict(meta["system"]["params"])
    if nodes is not None:
        p["nodes"] = nodes
    spec = T.make_system(meta["system"]["id"], p)
    tr = meta.get("trainingRanges")
    if tr and spec.qd_sampling == "uniform":
        n = spec.dof
        spec.q_range = [list(tr["q"][0])] * n if len(tr["q"]) == 1 else [list(r) for r in tr["q"]]
        spec.qd_range = [list(tr["qd"][0])] * n if len(tr["qd"]) == 1 else [list(r) for r in tr["qd"]]
    return spec


def fresh_states(spec, key, n):
    q, qd = T.sample_states(spec, key, n)
    return q.astype(jnp.float64), qd.astype(jnp.float64)


def qdd_l1(params, ms, spec, key, n, chunk=10_000):
    f = jax.jit(lambda q, v: T.predict_qdd(params, ms, q, v))
    errs, mags, nonfinite = [], [], 0
    for i in range(0, n, chunk):
        q, qd = fresh_states(spec, jax.random.fold_in(key, i), min(chunk, n - i))
        pred, true = f(q, qd), spec.qdd(q, qd)
        e = jnp.abs(pred - true)
        ok = jnp.all(jnp.isfinite(e), axis=1)
        nonfinite += int(jnp.sum(~ok))
        errs.append(np.asarray(jnp.where(ok[:, None], e, 0.0)))
        mags.append(np.asarray(jnp.abs(true)))
    e = np.concatenate(errs)
    return {
        "value": float(e.mean()),
        "median": float(np.median(e)),
        "medianAbsQdd": float(np.median(np.concatenate(mags))),
        "states": n,
        "nonFinite": nonfinite,
    }


def energy_protocol(params, ms, spec, starts, seconds, dt, seed):
    key = jax.random.PRNGKey(seed)
    kq, kv = jax.random.split(key)
    n = spec.dof
    q0 = jax.random.uniform(kq, (starts, n), jnp.float64, 0.0, 2 * math.pi)
    v0 = jax.random.uniform(kv, (starts, n), jnp.float64, 0.0, 0.1)
    steps = int(round(seconds / dt))
    scale = ENERGY_SCALE[spec.id](spec.params)
    out = {}
    for name, f in [
        ("learned", lambda q, v: T.predict_qdd(params, ms, q, v)),
        ("analytic", lambda q, v: spec.qdd(q, v)),
    ]:
        qf, vf, _ = rk4_rollout(f, q0, v0, dt, steps)
        e0, e1 = spec.energy(q0, v0), spec.energy(qf, vf)
        err = np.asarray(jnp.abs(e1 - e0) / scale)
        finite = np.isfinite(err)
        out[name] = {
            "mean": float(err[finite].mean()) if finite.any() else float("inf"),
            "median": float(np.median(err[finite])) if finite.any() else float("inf"),
            "max": float(err[finite].max()) if finite.any() else float("inf"),
            "nonFinite": int((~finite).sum()),
        }
        if (~finite).any():
            out[name]["mean"] = float("inf")
    return {
        "value": out["learned"]["mean"],
        "median": out["learned"]["median"],
        "max": out["learned"]["max"],
        "nonFinite": out["learned"]["nonFinite"],
        "analyticSameIntegrator": out["analytic"]["mean"],
        "protocol": f"{starts} starts q~U[0,2pi), qd~U[0,0.1); RK4 dt={dt} for {seconds} s; "
        f"mean |E(T)-E(0)|/{scale:g} with the true energy of the learned trajectory",
        "seed": seed,
    }


def sampled_energy_protocol(params, ms, spec, starts, seconds, dt, seed, every=20):
    """The energy protocol of `three-lnn eval` for the spherical pendulums (energyErrorFromSampler): starts
    from the system's sampler (SAMPLERS: the TypeScript formulas, JAX's random stream), RK4 at dt, mean
    over starts and over the times recorded every `every` steps of |E(t) − E(0)| / energyScale."""
    q0, v0 = SAMPLERS[spec.id](spec.params, jax.random.PRNGKey(seed), starts)
    steps = int(round(seconds / dt))
    scale = ENERGY_SCALE[spec.id](spec.params)
    e0 = spec.energy(q0, v0)
    out = {}
    for name, f in [
        ("learned", lambda q, v: T.predict_qdd(params, ms, q, v)),
        ("analytic", lambda q, v: spec.qdd(q, v)),
    ]:
        _, _, states = rk4_rollout(f, q0, v0, dt, steps, record_every=every)
        errs = np.stack([np.asarray(jnp.abs(spec.energy(q, v) - e0) / scale) for q, v in states[1:]])
        finite = np.all(np.isfinite(errs), axis=0)
        out[name] = {
            "mean": float(errs.mean()) if finite.all() else float("inf"),
            "final": float(errs[-1].mean()) if finite.all() else float("inf"),
            "max": float(errs[:, finite].max()) if finite.any() else float("inf"),
            "nonFinite": int((~finite).sum()),
            "records": len(states) - 1,
        }
    r = out["learned"]
    return {
        "value": r["mean"],
        "final": r["final"],
        "max": r["max"],
        "nonFinite": r["nonFinite"],
        "analyticSameIntegrator": out["analytic"]["mean"],
        "protocol": f"{starts} starts from the system sampler (JAX stream, seed {seed}); RK4 dt={dt} for {seconds} s; "
        f"mean over starts and over {r['records']} times (every {every * dt:g} s) of |E(t)-E(0)|/{scale:g}, the true "
        "energy of the learned trajectory; final = the same at T only",
        "seed": seed,
    }


def string_protocol(params, ms, meta, nodes=100, seconds=10.0, dt=0.005, starts=10, seed=0):
    spec = system_for(meta, nodes)
    p = spec.params
    zero = jnp.zeros((1, nodes), jnp.float64)
    f = lambda q: T.predict_qdd(params, ms, q[None, :], zero)[0]  # noqa: E731
    K = -jax.jacfwd(f)(jnp.zeros((nodes,), jnp.float64))
    ev = np.sort(np.linalg.eigvals(np.asarray(K)).real)
    learned = np.sqrt(np.maximum(ev, 0.0))
    c = math.sqrt(p["tension"] / p["density"])
    k = np.arange(1, nodes + 1)
    exact = 2 * c / p["spacing"] * np.sin(k * math.pi / (2 * (nodes + 1)))
    rel = np.abs(learned - exact) / exact
    # Energy over 10 s from the system's default sampler: first three modes, amplitudes U[-0.1, 0.1),
    # velocity amplitudes U[-0.1, 0.1)·ω_k.
    rng = np.random.default_rng(seed)
    i = np.arange(1, nodes + 1)
    q0 = np.zeros((starts, nodes))
    v0 = np.zeros((starts, nodes))
    for s in range(starts):
        for m in range(1, 4):
            shape = np.sin(m * math.pi * i / (nodes + 1))
            q0[s] += rng.uniform(-0.1, 0.1) * shape
            v0[s] += rng.uniform(-0.1, 0.1) * exact[m - 1] * shape
    q0, v0 = jnp.asarray(q0), jnp.asarray(v0)
    steps = int(round(seconds / dt))
    g = lambda q, v: T.predict_qdd(params, ms, q, v)  # noqa: E731
    qf, vf, _ = rk4_rollout(g, q0, v0, dt, steps)
    e0, e1 = spec.energy(q0, v0), spec.energy(qf, vf)
    erel = np.asarray(jnp.abs(e1 - e0) / e0)
    qa, va, _ = rk4_rollout(lambda q, v: spec.qdd(q, v), q0, v0, dt, steps)
    traj = float(jnp.sqrt(jnp.mean((qf - qa) ** 2)) / jnp.sqrt(jnp.mean(qa**2)))
    return {
        "modeFrequencies": {
            "value": float(rel.max()),
            "nodes": nodes,
            "maxRelError": float(rel.max()),
            "meanRelError": float(rel.mean()),
            "maxRelErrorFirst10": float(rel[:10].max()),
            "modesWithin1Percent": int((rel < 0.01).sum()),
            "protocol": "eigenvalues of -dq̈/dq at rest (linearised learned dynamics) vs 2c/dx sin(k pi/(2(N+1)))",
        },
        "energyError": {
            "value": float(erel.mean()),
            "max": float(erel.max()),
            "nodes": nodes,
            "protocol": f"{starts} starts (3 low modes, amplitude U[-0.1,0.1)), RK4 dt={dt} for {seconds} s; "
            "mean |E(T)-E(0)|/E(0), true energy of the learned trajectory",
        },
        "trajectoryRelRmsError10s": traj,
    }


def relativistic_protocol(params, ms, meta, seconds=100.0, dt=0.01, starts=40, seed=0):
    spec = system_for(meta)
    key = jax.random.PRNGKey(seed)
    q0 = jax.random.uniform(key, (starts, 1), jnp.float64, -1.0, 1.0)
    v0 = jax.random.uniform(jax.random.fold_in(key, 1), (starts, 1), jnp.float64, -0.9, 0.9)
    steps = int(round(seconds / dt))
    f = lambda q, v: T.predict_qdd(params, ms, q, v)  # noqa: E731
    _, _, states = rk4_rollout(f, q0, v0, dt, steps, record_every=100)
    vmax = max(float(jnp.max(jnp.abs(v))) for _, v in states)
    qa, va, _ = rk4_rollout(lambda q, v: spec.qdd(q, v), q0, v0, dt, steps)
    vmax_true = float(jnp.max(jnp.abs(va)))
    # Held-out q̈: states from the system's default sampler, q ~ U[-1, 1), q̇ ~ U[-0.9, 0.9).
    kq = jax.random.fold_in(key, 7)
    q = jax.random.uniform(kq, (100_000, 1), jnp.float64, -1.0, 1.0)
    v = jax.random.uniform(jax.random.fold_in(kq, 1), (100_000, 1), jnp.float64, -0.9, 0.9)
    e = jnp.abs(T.predict_qdd(params, ms, q, v) - spec.qdd(q, v))
    return {
        "maxSpeed": {
            "value": vmax,
            "analytic": vmax_true,
            "protocol": f"{starts} starts q~U[-1,1), qd~U[-0.9,0.9); RK4 dt={dt} for {seconds} s; max |q̇| (c = 1)",
        },
        "heldOutQddL1": {
            "value": float(jnp.mean(e)),
            "max": float(jnp.max(e)),
            "states": 100_000,
            "protocol": "q~U[-1,1), qd~U[-0.9,0.9) (held out from the rapidity-uniform training stream)",
        },
    }


def evaluate(model_dir, starts=40, seconds=100.0, dt=0.005, states=100_000, seed=0):
    params, ms, meta = T.load_exported(model_dir)
    params = cast64(params)
    sid = meta["system"]["id"]
    t0 = time.time()
    res = {}
    if meta["kind"] == "lgn":
        res = string_protocol(params, ms, meta)
        spec = system_for(meta)
        res["qddL1"] = qdd_l1(params, ms, spec, jax.random.PRNGKey(seed + 11), states)
    elif sid == "relativistic-particle":
        res = relativistic_protocol(params, ms, meta)
    elif sid in SAMPLERS:
        spec = system_for(meta)
        res["qddL1"] = qdd_l1(params, ms, spec, jax.random.PRNGKey(seed + 11), states)
        res["qddL1"]["protocol"] = "mean |q̈_pred − q̈_true| over fresh states from the training box"
        res["energyError"] = sampled_energy_protocol(params, ms, spec, starts, seconds, dt, seed)
    else:
        spec = system_for(meta)
        res["qddL1"] = qdd_l1(params, ms, spec, jax.random.PRNGKey(seed + 11), states)
        res["qddL1"]["protocol"] = "mean |q̈_pred − q̈_true| over fresh states from the training distribution"
        res["energyError"] = energy_protocol(params, ms, spec, starts, seconds, dt, seed)
    for v in res.values():
        if isinstance(v, dict):
            v.setdefault("evaluator", "training/lnn_eval.py (JAX, float64)")
    res["_seconds"] = time.time() - t0
    return res, meta


def finite_or_none(x):
    """JSON has no Infinity/NaN: non-finite numbers are stored as null (as JSON.stringify does)."""
    if isinstance(x, dict):
        return {k: finite_or_none(v) for k, v in x.items()}
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--starts", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=100.0)
    ap.add_argument("--dt", type=float, default=0.005)
    ap.add_argument("--states", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="record the metrics in the model's metadata (metrics.jax)")
    a = ap.parse_args(argv)
    res, _ = evaluate(a.model, a.starts, a.seconds, a.dt, a.states, a.seed)
    took = res.pop("_seconds")
    print(json.dumps(res, indent=2))
    print(f"evaluated in {took:.1f} s", file=sys.stderr)
    if a.write:
        path = os.path.join(a.model, "model.json")
        with open(path) as f:
            model = json.load(f)
        # Stored apart from the TypeScript `three-lnn eval --write` metrics, as a cross-check.
        m = model["userDefinedMetadata"]["threeLnn"].setdefault("metrics", {})
        m["jax"] = finite_or_none(res)
        with open(path, "w") as f:
            json.dump(model, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
