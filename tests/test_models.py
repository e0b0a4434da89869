"""Tests of mmlib.models: DCCA and DGCCA."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from mmlib.linear import CCA, GCCA
from mmlib.models import DCCA, DGCCA, DCCAModule, DGCCAModule


def _latent_views(n=300, seed=0):
    """Three linear views of a 2-D latent factor, with view-specific noise dimensions."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))

    def view(d_shared, d_noise):
        shared = z @ rng.normal(size=(2, d_shared))
        return np.hstack([shared, rng.normal(size=(n, d_noise))]) + 0.5 * rng.normal(
            size=(n, d_shared + d_noise)
        )

    return [view(3, 3), view(2, 3), view(1, 3)]


def _nonlinear_views(n=200, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.uniform(-2, 2, size=(n, 1))
    return [
        np.hstack([np.sin(2 * z), np.cos(3 * z), rng.normal(size=(n, 2))]),
        np.hstack([z**2, rng.normal(size=(n, 2))]) + 0.05 * rng.normal(size=(n, 3)),
    ]


# ------------------------------------------------------------------ linear special case


def test_linear_dcca_reaches_the_linear_cca_optimum():
    X, Y, _ = _latent_views()
    ref = CCA(n_components=2).fit([X, Y]).canonical_correlations_
    model = DCCA(n_components=2, hidden=(), reg=0.0, epochs=15, lr=1.0, optimizer="lbfgs",
                 progress=False).fit([X, Y])  # fmt: skip
    gap = abs(model.canonical_correlations_.sum() - ref.sum())
    assert gap < 1e-3
    # it was not there at the start: training did the work
    assert -model.history_.train_loss[0] < ref.sum() - 0.05
    assert model.history_.train_loss[-1] == pytest.approx(-ref.sum(), abs=1e-3)


def test_linear_dgcca_reaches_the_linear_gcca_optimum():
    views = _latent_views()
    ref = GCCA(n_components=2).fit(views).eigenvalues_
    model = DGCCA(n_components=2, hidden=(), reg=0.0, epochs=15, lr=1.0, optimizer="lbfgs",
                  progress=False).fit(views)  # fmt: skip
    gap = abs(model.eigenvalues_.sum() - ref.sum())
    assert gap < 1e-3
    assert model.history_.train_loss[0] > 3 * 2 - ref.sum() + 0.05
    assert model.history_.train_loss[-1] == pytest.approx(3 * 2 - ref.sum(), abs=1e-3)


def test_linear_dcca_with_adam_minibatches_gets_close():
    X, Y, _ = _latent_views()
    ref = CCA(n_components=2).fit([X, Y]).canonical_correlations_
    model = DCCA(n_components=2, hidden=(), epochs=60, batch_size=100, lr=0.05,
                 progress=False).fit([X, Y])  # fmt: skip
    assert abs(model.canonical_correlations_.sum() - ref.sum()) < 1e-2


# ------------------------------------------------------------------ deep models


def test_dcca_fit_transform():
    views = _nonlinear_views()
    model = DCCA(n_components=1, hidden=(32,), out_dim=3, epochs=30, lr=1e-2, progress=False)
    Z1, Z2 = model.fit(views).transform(views)
    assert Z1.shape == Z2.shape == (200, 1) and Z1.dtype == np.float64
    assert isinstance(model.module_, DCCAModule) and not model.module_.training
    rho = np.corrcoef(Z1[:, 0], Z2[:, 0])[0, 1]
    # with a ridge the reported correlation is the additive-ridge value, below the actual one
    assert model.canonical_correlations_[0] <= rho + 1e-12  # (issue 8; it used to equal rho)
    assert rho - model.canonical_correlations_[0] < 0.01
    # nonlinear views: the network finds far more correlation than linear CCA
    assert rho > CCA(n_components=1).fit(views).canonical_correlations_[0] + 0.2
    outputs = model.transform_views(views)
    assert [o.shape for o in outputs] == [(200, 3), (200, 3)]
    assert len(model.history_.train_loss) == 30
    held_out = _nonlinear_views(n=100, seed=1)
    assert model.score(held_out) > 0.5


def test_dcca_is_reproducible_and_validates():
    views = _nonlinear_views(n=120)
    kw = {"n_components": 2, "hidden": (16,), "epochs": 5, "batch_size": 40, "progress": False}
    a = DCCA(**kw).fit(views, val_views=_nonlinear_views(n=60, seed=2))
    b = DCCA(**kw).fit(views, val_views=_nonlinear_views(n=60, seed=2))
    np.testing.assert_array_equal(a.transform(views)[0], b.transform(views)[0])
    assert a.history_.train_loss == b.history_.train_loss
    assert len(a.history_.val_loss) == 5


def test_dgcca_fit_transform():
    views = _latent_views(n=150)
    model = DGCCA(n_components=2, hidden=(16,), out_dim=4, epochs=10, lr=1e-2, progress=False)
    G = model.fit_transform(views)
    assert G.shape == (150, 2)
    np.testing.assert_allclose(G.T @ G, np.eye(2), atol=1e-8)
    assert isinstance(model.module_, DGCCAModule)
    np.testing.assert_allclose(model.transform(views), G, atol=1e-8)
    outputs = model.transform_views(views)
    assert [o.shape for o in outputs] == [(150, 4)] * 3
    assert model.eigenvalues_.shape == (2,) and np.all(model.eigenvalues_ <= 3 + 1e-9)


def test_modules_forward():
    m = DCCAModule([3, 4], 2, hidden=(5,))
    h1, h2 = m(torch.randn(6, 3), torch.randn(6, 4))
    assert h1.shape == h2.shape == (6, 2)
    g = DGCCAModule([3, 4, 2], 2, hidden=())
    assert [o.shape for o in g(torch.randn(6, 3), torch.randn(6, 4), torch.randn(6, 2))] == [
        (6, 2)
    ] * 3
    with pytest.raises(ValueError, match="expected 3 views"):
        g(torch.randn(6, 3))
    with pytest.raises(ValueError, match="pair"):
        DCCAModule([3, 4, 5], 2)


def test_sklearn_parameters():
    model = DCCA(n_components=3, hidden=(8,), lr=0.1)
    assert clone(model).get_params()["lr"] == 0.1
    assert DGCCA().get_params()["n_components"] == 2
    assert repr(model) == "DCCA(n_components=3, hidden=(8,), lr=0.1)"
    assert model.set_params(lr=0.5) is model and model.lr == 0.5
    with pytest.raises(ValueError, match="'lrate' is not a parameter of DCCA"):
        model.set_params(lrate=0.1)


# ------------------------------------------------------------------ bad input

_FAST = {"epochs": 1, "hidden": (), "progress": False}


@pytest.mark.parametrize(
    ("estimator", "views", "error", "match"),
    [
        (DCCA(**_FAST), "make3", ValueError, "at most 2 views"),
        (DGCCA(**_FAST), "make1", ValueError, "at least 2 views"),
        (DCCA(**_FAST), "nan", ValueError, r"views\[1\] contains NaN"),
        (DCCA(**_FAST), "ragged", ValueError, "same number of samples"),
        (DCCA(**_FAST), "array", TypeError, "wrap it in a list"),
        (DCCA(n_components=3, out_dim=2, **_FAST), "make2", ValueError, "n_components=3 is too"),
        (DGCCA(n_components=7, out_dim=2, **_FAST), "make3", ValueError, "n_components=7 is too"),
        (DCCA(n_components=0, **_FAST), "make2", ValueError, "n_components must be >= 1"),
        (DCCA(reg=2.0, **_FAST), "make2", ValueError, "reg must be in"),
        (DCCA(hidden=8, epochs=1), "make2", TypeError, "hidden"),
        (DCCA(activation="swish", epochs=1), "make2", ValueError, "activation"),
        (DCCA(optimizer="rmsprop", **_FAST), "make2", ValueError, "optimizer"),
        (DCCA(epochs=0, hidden=()), "make2", ValueError, "epochs"),
    ],
)
def test_bad_input(estimator, views, error, match):
    base = _latent_views(n=20)
    views = {
        "make1": base[:1],
        "make2": base[:2],
        "make3": base,
        "nan": [base[0], np.where(np.eye(20, 5, dtype=bool), np.nan, base[1])],
        "ragged": [base[0], base[1][:-1]],
        "array": base[0],
    }[views]
    with pytest.raises(error, match=match):
        estimator.fit(views)


def test_transform_errors():
    views = _latent_views(n=30)
    with pytest.raises(NotFittedError, match="fit"):
        DCCA().transform(views[:2])
    with pytest.raises(NotFittedError):
        DGCCA().transform(views)
    model = DCCA(**_FAST).fit(views[:2])
    with pytest.raises(ValueError, match=r"views\[1\] has 4 features but .* 5"):
        model.transform([views[0], views[2]])
    with pytest.raises(ValueError, match="val_views"):
        DCCA(**_FAST).fit(views[:2], val_views=[views[0], views[2]])
