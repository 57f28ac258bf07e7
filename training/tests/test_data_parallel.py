"""Data-parallel training (``--devices``): on two host devices (XLA's forced device count, in a fresh
process) the loss curve and the weights equal the one-device run to float rounding."""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(__file__)

SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import jax, numpy as np
import lnn_train as T

def run(devices, ckpt):
    argv = ["train", "--system", "double-pendulum", "--kind", "lnn", "--hidden", "32,32", "--batch", "256",
            "--steps", "60", "--val-every", "10", "--val-size", "512", "--seed", "3", "--decay-steps", "200",
            "--warmup", "5", "--devices", devices, "--ckpt", ckpt]
    t0 = time.time()
    T.main(argv)
    blob = T.load_ckpt(ckpt)
    flat = np.concatenate([np.asarray(x).ravel() for x in jax.tree_util.tree_leaves(blob["state"]["params"])])
    return {"history": blob["history"], "params": flat.tolist(), "seconds": time.time() - t0,
            "dataParallel": blob["provenance"].get("dataParallel")}

out = {"devices": len(jax.devices()), "one": run("1", sys.argv[2] + "/one"), "two": run("2", sys.argv[2] + "/two")}
print("RESULT " + json.dumps(out))
"""


def test_two_devices_give_the_one_device_loss_curve(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, os.path.join(HERE, ".."), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    line = next(x for x in r.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["devices"] == 2
    one, two = out["one"], out["two"]
    assert [h[0] for h in one["history"]] == [h[0] for h in two["history"]]
    for (step, a), (_, b) in zip(one["history"], two["history"]):
        assert abs(a - b) <= 1e-4 * abs(a), f"step {step}: validation q̈ L1 {a} (1 device) vs {b} (2 devices)"
    assert one["history"][-1][1] < one["history"][0][1], "the run learned"
    worst = max(abs(x - y) for x, y in zip(one["params"], two["params"]))
    assert worst < 1e-4, f"weights differ by {worst}"
    assert one["dataParallel"] is None
    assert two["dataParallel"][0]["devices"] == 2


def test_bad_device_counts_are_refused(tmp_path):
    sys.path.insert(0, os.path.join(HERE, ".."))
    import pytest

    import lnn_train as T

    for bad, msg in (["x", "a device count or 'all'"], ["9", "this run sees"]):
        with pytest.raises(SystemExit, match=msg):
            T.main(["train", "--steps", "1", "--hidden", "8", "--batch", "8", "--val-size", "8",
                    "--devices", bad, "--ckpt", str(tmp_path / bad)])
