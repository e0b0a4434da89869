"""Defaults are part of the API: a changed default must fail a test (issue 8, item 8).

Every chapter passes most arguments explicitly, so a changed default would otherwise go unseen.
Each public numpy-side function's defaults are pinned twice: in its signature (what the
documentation shows) and in behaviour (the default call gives bitwise the result of the call
that spells the documented values out, and a different value gives a different result).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from mmlib import book, datasets, metrics
from mmlib.datasets import MultiViewDataset
from mmlib.linear import CCA, GCCA

DOCUMENTED = {
    CCA.__init__: {"n_components": 2, "reg": 0.0, "tol": None},
    GCCA.__init__: {"n_components": 2, "reg": 0.0, "tol": None},
    metrics.canonical_correlations: {"n_components": None, "reg": 0.0},
    metrics.total_correlation: {"n_components": None, "reg": 0.0},
    metrics.linear_probe: {"C": 1.0, "max_iter": 1000, "random_state": 0},
    metrics.recall_at_k: {"k": 1},
    datasets.make_latent_views: {
        "n_samples": 500,
        "n_features": (20, 30),
        "correlations": (0.9, 0.7, 0.4),
        "random_state": None,
    },
    datasets.make_noisy_digits: {
        "n_samples": None,
        "max_angle": 45.0,
        "noise": 1.0,
        "image_size": 16,
        "random_state": None,
    },
    datasets.make_nonlinear_views: {
        "n_samples": 1000,
        "latent_dim": 2,
        "noise": 0.05,
        "n_features": (10, 10),
        "random_state": None,
    },
    datasets.make_three_modalities: {
        "n_samples": 600,
        "n_classes": 3,
        "noise": 0.1,
        "position_noise": 0.1,
        "random_state": None,
    },
    MultiViewDataset.train_test_split: {"test_size": 0.25, "random_state": 0, "stratify": True},
    book.print_key_numbers: {"digits": 3},
}


@pytest.mark.parametrize("func", list(DOCUMENTED), ids=lambda f: f.__qualname__)
def test_signature_defaults_are_the_documented_ones(func):
    params = inspect.signature(func).parameters
    defaults = {
        name: p.default for name, p in params.items() if p.default is not inspect.Parameter.empty
    }
    assert defaults == DOCUMENTED[func]
    for name, value in defaults.items():  # same type too: 0 is not 0.0
        assert type(value) is type(DOCUMENTED[func][name]), name


def _views(seed=0, n=200):
    ds = datasets.make_latent_views(n_samples=n, n_features=(5, 4), random_state=seed)
    return ds.views


@pytest.mark.parametrize("cls", [CCA, GCCA])
def test_linear_estimator_defaults_in_behaviour(cls):
    views = _views()
    default = cls().fit(views)
    explicit = cls(n_components=2, reg=0.0, tol=None).fit(views)
    for a, b in zip(default.weights_, explicit.weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert default.weights_[0].shape[1] == 2
    # a different ridge or tolerance changes the answer, so the defaults are load-bearing
    ridge = cls(reg=0.1).fit(views)
    assert not np.allclose(ridge.weights_[0], default.weights_[0])
    assert cls().get_params() == {"n_components": 2, "reg": 0.0, "tol": None}


def test_metric_defaults_in_behaviour():
    X, Y = _views(seed=1)
    rho = metrics.canonical_correlations(X, Y)
    np.testing.assert_array_equal(
        rho, CCA(n_components=4, reg=0.0).fit([X, Y]).canonical_correlations_
    )
    assert metrics.total_correlation(X, Y) == rho.sum()
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    Z = np.eye(3)[y] * 0.4 + rng.normal(size=(300, 3))
    args = (Z[:200], y[:200], Z[200:], y[200:])
    acc = metrics.linear_probe(*args)
    assert acc == metrics.linear_probe(*args, C=1.0, max_iter=1000, random_state=0)
    assert acc != metrics.linear_probe(*args, C=1e-4)
    Q = rng.normal(size=(50, 4))
    noisy = Q + rng.normal(size=Q.shape)
    assert metrics.recall_at_k(Q, noisy) == metrics.recall_at_k(Q, noisy, k=1)
    assert metrics.recall_at_k(Q, noisy) < metrics.recall_at_k(Q, noisy, k=5)


SPELLED_OUT = {
    "make_latent_views": {
        "n_samples": 500,
        "n_features": (20, 30),
        "correlations": (0.9, 0.7, 0.4),
    },
    "make_noisy_digits": {"n_samples": None, "max_angle": 45.0, "noise": 1.0, "image_size": 16},
    "make_nonlinear_views": {"n_samples": 1000, "latent_dim": 2, "noise": 0.05, "n_features": 10},
    "make_three_modalities": {
        "n_samples": 600,
        "n_classes": 3,
        "noise": 0.1,
        "position_noise": 0.1,
    },
}


@pytest.mark.parametrize("name", sorted(SPELLED_OUT))
def test_generator_defaults_in_behaviour(name):
    make = getattr(datasets, name)
    default = make(random_state=0)
    explicit = make(random_state=0, **SPELLED_OUT[name])
    for a, b in zip(default.views, explicit.views, strict=True):
        np.testing.assert_array_equal(a, b)
    if default.y is not None:
        np.testing.assert_array_equal(default.y, explicit.y)


def test_split_defaults_in_behaviour():
    ds = datasets.make_three_modalities(n_samples=40, random_state=0)
    train, test = ds.train_test_split()
    train2, test2 = ds.train_test_split(test_size=0.25, random_state=0, stratify=True)
    assert test.n_samples == 10
    np.testing.assert_array_equal(test.views[0], test2.views[0])
    assert np.array_equal(np.bincount(test.y), np.bincount(test2.y))
