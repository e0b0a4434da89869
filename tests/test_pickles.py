"""Estimators pickled by earlier releases load with the current code and give the same outputs.

``tools/write_release_pickles.py`` writes one fitted estimator of each class per release into
``tests/data/pickles-<version>/``; a class that can no longer load one must say so clearly.
"""

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from write_release_pickles import ROOT, output  # noqa: E402

FILES = sorted(ROOT.glob("pickles-*/*.pkl"))


def test_there_are_pickles_of_every_estimator():
    names = {f.stem for f in FILES}
    assert {"cca", "gcca", "dcca", "dgcca", "gmc", "fusionae", "mvae", "mmv"} <= names


@pytest.mark.parametrize("path", FILES, ids=[f"{f.parent.name}/{f.stem}" for f in FILES])
def test_old_pickle_loads_and_transforms_the_same(path):
    with open(path, "rb") as f:
        record = pickle.load(f)
    est = record["estimator"]
    np.testing.assert_allclose(
        output(est, record["views"]), record["output"], rtol=1e-10, atol=1e-12
    )
