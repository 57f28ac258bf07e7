"""The committed sin/cos JAX fixture (used by test/model-sincos.test.ts) is what this trainer trains and
computes: the JAX q̈ from the committed model files, and the trainer-exported model itself."""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import make_sincos_fixture as F  # noqa: E402

REGENERATE = "regenerate the fixture with python training/make_sincos_fixture.py if the change is intended"


def committed_expected():
    with open(os.path.join(F.FIXTURE, "expected.json")) as f:
        return json.load(f)


def test_fixture_q_qdd_is_what_jax_computes_from_the_committed_models():
    want = committed_expected()
    got = F.expected(F.FIXTURE)
    assert set(got) == set(want)
    assert want["q"] == F.Q and want["qd"] == F.QD
    for name in F.MODELS:
        assert got[name]["embedding"] == want[name]["embedding"] == "sincos", name
        for key in ("explicit", "autodiff"):
            assert np.shape(want[name][key]) == (len(F.Q), 2), f"{name}.{key}"
            np.testing.assert_allclose(np.asarray(got[name][key]), np.asarray(want[name][key]), rtol=1e-12,
                                       atol=1e-12, err_msg=f"{name}.{key}: {REGENERATE}")
        # The trainer's two derivative routes agree with each other, too.
        np.testing.assert_allclose(np.asarray(want[name]["explicit"]), np.asarray(want[name]["autodiff"]),
                                   rtol=1e-10, atol=1e-10, err_msg=name)


def assert_close_tree(got, want, where):
    """JSON values equal, numbers to a relative 1e-4 (the trained weights differ in their last bits between
    CPUs: XLA compiles for the host's instruction set)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), where
        for k in want:
            assert_close_tree(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close_tree(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=f"{where}: {REGENERATE}")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}; {REGENERATE}"


def test_trainer_reproduces_the_committed_exported_model(tmp_path):
    F.train_model(str(tmp_path))
    committed = os.path.join(F.FIXTURE, "trained")
    assert sorted(os.listdir(tmp_path)) == sorted(os.listdir(committed)) == ["model.json", "weights.bin"]
    want = np.fromfile(os.path.join(committed, "weights.bin"), dtype="<f4")
    got = np.fromfile(tmp_path / "weights.bin", dtype="<f4")
    assert got.shape == want.shape, f"trained: weight count differs; {REGENERATE}"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"trained: weights differ; {REGENERATE}")
    with open(os.path.join(committed, "model.json")) as f:
        want_json = json.load(f)
    assert_close_tree(json.loads((tmp_path / "model.json").read_text()), want_json, "model.json")
