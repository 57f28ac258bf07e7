"""The committed gradient fixture (grad.json, used by test/train-fast.test.ts) is what this trainer's
autodiff computes."""

import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import make_grad_fixture as G  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "parity")


def test_grad_fixture_matches_the_trainer(tmp_path):
    for name in G.CASES:
        shutil.copytree(os.path.join(HERE, name), tmp_path / name)
    G.main(str(tmp_path))
    for name in G.CASES:
        got = json.loads((tmp_path / name / "grad.json").read_text())
        with open(os.path.join(HERE, name, "grad.json")) as f:
            want = json.load(f)
        np.testing.assert_allclose(got["target"], want["target"], rtol=1e-12)
        for kind, w in want["losses"].items():
            g = got["losses"][kind]
            np.testing.assert_allclose(g["loss"], w["loss"], rtol=1e-10, err_msg=f"{name} {kind}")
            for a, b in zip(g["grads"], w["grads"]):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=f"{name} {kind}")
