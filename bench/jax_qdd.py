#!/usr/bin/env python3
"""Exact LNN q̈ throughput in JAX/XLA on this machine: the comparison of the `lnn` benchmark suite.

Three recipes, all jitted and vmapped, float32, on a random-weight double-pendulum LNN of the given
hidden sizes (default the paper's 4→600→600→600→1 softplus), at one batch size:

- ``paper``: the equation of motion as the LNN paper writes it and evaluates it with JAX — per state
  ``pinv(hessian(L, q̇)) @ (grad(L, q) − jacobian(jacobian(L, q̇), q) @ q̇)``, three separate autodiff
  derivatives and a pseudo-inverse;
- ``autodiff``: the usual tuned JAX LNN — per state, the Hessian of L over (q, q̇) by forward-over-reverse
  autodiff (``jax.jacfwd(jax.grad(L))``), then ``jnp.linalg.solve(H_vv, ∂L/∂q − H_vq q̇)``, vmapped over
  the batch (``predict_qdd_one`` of training/lnn_train.py);
- ``explicit``: ``predict_qdd`` of training/lnn_train.py, the same explicit derivatives as the project's
  TypeScript kernels (forward tangents, adjoints and the Hessian at the nonlinearities, then the
  closed-form 2×2 solve).

Each recipe runs for XLA on one core and on all cores, each in its own process: the one-core process
is pinned to a single CPU (sched_setaffinity) before JAX loads, since XLA's thread flags alone do not
keep it on one core, and it fails if it used more than 1.3 CPU-seconds per second. Compilation and the
first calls are excluded.

States are drawn like the Node suite's: q ~ U[0, 2π), q̇ ~ U[−10, 10).

Usage::

    .venv/bin/python bench/jax_qdd.py                  # both thread settings, JSON on stdout
    .venv/bin/python bench/jax_qdd.py --quick          # short timing
    .venv/bin/python bench/jax_qdd.py --threads 1      # one setting only
    .venv/bin/python bench/jax_qdd.py --recipe explicit

Prints one JSON object on stdout: {"batch", "network", "jax", "results": {"<recipe>, 1 thread": {...},
"<recipe>, all threads (N)": {...}, ...}} with q̈/s as the median over repeats (and the best repeat).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ONE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


RECIPES = ("paper", "autodiff", "explicit")


def recipe_qdd(recipe: str, ms):
    """The jitted batched q̈ of `recipe` for model spec `ms`: fn(params, q [B, n], q̇ [B, n]) -> [B, n]."""
    sys.path.insert(0, os.path.join(ROOT, "training"))
    import jax
    import jax.numpy as jnp
    import lnn_train as lt

    if recipe == "explicit":
        return jax.jit(lambda p, a, b: lt.predict_qdd(p, ms, a, b))
    if recipe == "paper":

        def one(p, x, y):
            def lag(a, b):
                return lt.lagrangian(p, ms, a, b)

            hvv = jax.hessian(lag, 1)(x, y)
            hvq = jax.jacobian(jax.jacobian(lag, 1), 0)(x, y)
            return jnp.linalg.pinv(hvv) @ (jax.grad(lag, 0)(x, y) - hvq @ y)

        return jax.jit(lambda p, a, b: jax.vmap(lambda x, y: one(p, x, y))(a, b))
    if recipe == "autodiff":
        return jax.jit(lambda p, a, b: jax.vmap(lambda x, y: lt.predict_qdd_one(p, ms, x, y))(a, b))
    raise ValueError(f"unknown recipe '{recipe}'; expected one of {', '.join(RECIPES)}")


def measure(hidden: list[int], batch: int, seconds: float, repeats: int, seed: int, recipe: str) -> dict:
    """Time the jitted exact q̈ of `recipe` in this process (XLA flags already fixed by the environment)."""
    sys.path.insert(0, os.path.join(ROOT, "training"))
    import jax
    import jax.numpy as jnp
    import lnn_train as lt

    spec = lt.make_system("double-pendulum")
    ms = lt.build_model_spec(spec, "lnn", hidden, "softplus", "wrap")
    params = lt.init_mlp(jax.random.PRNGKey(seed), ms.layers)
    kq, kv = jax.random.split(jax.random.PRNGKey(seed + 1))
    q = jax.random.uniform(kq, (batch, ms.dof), jnp.float32, 0.0, 2.0 * 3.141592653589793)
    qd = jax.random.uniform(kv, (batch, ms.dof), jnp.float32, -10.0, 10.0)
    qdd = recipe_qdd(recipe, ms)
    t0 = time.perf_counter()
    qdd(params, q, qd).block_until_ready()
    compile_s = time.perf_counter() - t0
    for _ in range(3):  # warm-up: allocator, caches
        qdd(params, q, qd).block_until_ready()
    rates, per_call = [], []
    wall = 0.0
    cpu0 = time.process_time()
    for _ in range(repeats):
        calls = 0
        t0 = time.perf_counter()
        while True:
            qdd(params, q, qd).block_until_ready()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                break
        wall += elapsed
        rates.append(calls * batch / elapsed)
        per_call.append(1000.0 * elapsed / calls)
    cpu = time.process_time() - cpu0
    out = qdd(params, q, qd)
    return {
        "qddPerSecond": round(statistics.median(rates)),
        "bestQddPerSecond": round(max(rates)),
        "msPerCall": round(statistics.median(per_call), 3),
        "repeats": repeats,
        "compileSeconds": round(compile_s, 2),
        "cpuSecondsPerWallSecond": round(cpu / wall, 2),
        "finite": bool(jnp.all(jnp.isfinite(out))),
        "layers": ms.layers,
        "recipe": recipe,
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
        "xlaFlags": os.environ.get("XLA_FLAGS", ""),
    }


def run_setting(threads: str, recipe: str, args) -> dict:
    """Run one recipe and thread setting in a fresh process and return its measurement."""
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    if threads == "1":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + ONE_THREAD_FLAGS).strip()
    cmd = [sys.executable, os.path.abspath(__file__), "--threads", threads, "--child", "--batch", str(args.batch),
           "--hidden", args.hidden, "--seconds", str(args.seconds), "--repeats", str(args.repeats),
           "--recipe", recipe]
    if args.quick:
        cmd.append("--quick")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"jax_qdd.py --threads {threads} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=1024, help="states per q̈ call (default 1024)")
    ap.add_argument("--hidden", default="600,600,600", help="hidden sizes, comma-separated (default 600,600,600)")
    ap.add_argument("--threads", choices=["1", "all", "both"], default="both",
                    help="XLA on one thread, on all threads, or both (default)")
    ap.add_argument("--seconds", type=float, default=None, help="seconds per repeat (default 1.5; quick 0.3)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats (default 3; quick 1)")
    ap.add_argument("--recipe", choices=[*RECIPES, "all"], default="all",
                    help="paper (hessian/jacobian + pinv), autodiff (jacfwd-of-grad Hessian + solve), "
                         "explicit (the project's derivatives), or all")
    ap.add_argument("--quick", action="store_true", help="short timing (a smoke check)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.seconds is None:
        args.seconds = 0.3 if args.quick else 1.5
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.batch < 1 or args.seconds <= 0 or args.repeats < 1:
        raise SystemExit("--batch and --repeats must be ≥ 1 and --seconds > 0")
    hidden = [int(h) for h in args.hidden.split(",") if h]
    if args.child:
        if args.recipe == "all":
            raise SystemExit("--child needs one --recipe")
        if args.threads == "1":
            # XLA's flags alone do not keep its CPU client on one core: pin the process before jax loads.
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        m = measure(hidden, args.batch, args.seconds, args.repeats, args.seed, args.recipe)
        m["cores"] = len(os.sched_getaffinity(0))
        if args.threads == "1" and m["cpuSecondsPerWallSecond"] > 1.3:
            raise SystemExit(f"the one-thread run used {m['cpuSecondsPerWallSecond']} CPU-s per second; not one core")
        print(json.dumps(m))
        return 0
    settings = ["1", "all"] if args.threads == "both" else [args.threads]
    recipes = list(RECIPES) if args.recipe == "all" else [args.recipe]
    labels = {"1": "1 thread", "all": f"all threads ({os.cpu_count()})"}
    results = {f"{r}, {labels[s]}": run_setting(s, r, args) for r in recipes for s in settings}
    first = next(iter(results.values()))
    print(json.dumps({
        "method": "paper: jax.jit(vmap(pinv(hessian(L, q̇)) @ (grad(L, q) − jacobian(jacobian(L, q̇), q) @ q̇))); "
                  "autodiff: jax.jit(vmap(predict_qdd_one)) (jacfwd-of-grad Hessian, jnp.linalg.solve); explicit: "
                  "jax.jit(predict_qdd) (explicit derivatives + closed-form 2×2 solve); both from training/lnn_train.py, "
                  "float32, random LeCun-normal weights, q ~ U[0, 2π), q̇ ~ U[−10, 10); compile and 3 warm-up calls excluded",
        "network": "→".join(str(x) for x in first["layers"]) + " softplus",
        "batch": args.batch,
        "jax": first["jax"],
        "results": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
