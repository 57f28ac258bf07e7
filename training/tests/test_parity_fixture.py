"""The committed parity fixture (used by test/train-parity.test.ts) is what this trainer computes."""

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import make_parity_fixture as F  # noqa: E402

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "parity")


def test_fixture_matches_the_trainer(tmp_path):
    F.main(str(tmp_path))
    for case in F.CASES:
        name = case[0]
        got = json.loads((tmp_path / name / "expected.json").read_text())
        with open(os.path.join(HERE, name, "expected.json")) as f:
            want = json.load(f)
        for key in want:
            np.testing.assert_allclose(np.asarray(got[key]), np.asarray(want[key]), rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}.{key}")
        with open(os.path.join(HERE, name, "weights.bin"), "rb") as f:
            assert f.read() == (tmp_path / name / "weights.bin").read_bytes(), f"{name}: weights differ"
