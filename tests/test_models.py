"""Tests of mmlib.models: DCCA and DGCCA."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from test_defaults import DOCUMENTED

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


@pytest.mark.parametrize("objective", ["sum", "squared"])
def test_linear_dcca_reaches_the_linear_cca_optimum(objective):
    X, Y, _ = _latent_views()
    ref = CCA(n_components=2).fit([X, Y]).canonical_correlations_
    model = DCCA(n_components=2, hidden=(), reg=0.0, epochs=15, lr=1.0, optimizer="lbfgs",
                 objective=objective, progress=False).fit([X, Y])  # fmt: skip
    gap = abs(model.canonical_correlations_.sum() - ref.sum())
    assert gap < 1e-3
    best = ref.sum() if objective == "sum" else (ref**2).sum()
    # it was not there at the start: training did the work
    assert -model.history_.train_loss[0] < best - 0.05
    assert model.history_.train_loss[-1] == pytest.approx(-best, abs=1e-3)


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


# ------------------------------------------------------------------ issue 8: batches, modules


def test_defaults_are_pinned():
    """The estimators' defaults are decisions (see benchmarks/dcca_study.py): pin them."""
    for estimator in (DCCA, DGCCA):  # the pins are test_defaults.py's, written once
        assert estimator().get_params() == DOCUMENTED[estimator.__init__]


@pytest.mark.parametrize("estimator", [DCCA, DGCCA])
@pytest.mark.parametrize(
    ("n", "batch_size", "out_dim"), [(21, 2, 1), (20, 2, 1), (40, 6, 5), (40, 3, 2)]
)
def test_batches_too_small_for_the_output_dimension_are_refused(estimator, n, batch_size, out_dim):
    views = _latent_views(n=n)[:2]
    model = estimator(n_components=1, out_dim=out_dim, hidden=(), epochs=1, batch_size=batch_size,
                      progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=rf"batch_size={batch_size} gives mini-batches .*out_dim"):
        model.fit(views)


def test_batch_size_two_cannot_train_to_a_trivial_loss():
    """Issue 8: batch_size=2 used to reach a loss of -1 (two points are always correlated)."""
    views = _latent_views(n=21)[:2]
    with pytest.raises(ValueError, match="batch_size=2"):
        DCCA(n_components=1, hidden=(), epochs=1, batch_size=2, progress=False).fit(views)
    # the smallest batch size allowed for out_dim = 1 trains, to a non-trivial loss
    model = DCCA(n_components=1, hidden=(), epochs=3, batch_size=3, progress=False).fit(views)
    assert -model.history_.train_loss[-1] < 0.999


def test_dgcca_small_batch_error_names_batch_size():
    views = _latent_views(n=40)
    with pytest.raises(ValueError, match=r"batch_size=4 .*n_components=4"):
        DGCCA(n_components=4, out_dim=2, hidden=(), epochs=1, batch_size=4, progress=False).fit(
            views
        )
    with pytest.raises(ValueError, match=r"val_views has 2 samples"):
        DGCCA(n_components=1, out_dim=1, hidden=(), epochs=1, progress=False).fit(
            views, val_views=[v[:2] for v in views]
        )


def test_module_forward_refuses_mismatched_or_bad_batches():
    m = DCCAModule([3, 4], 2, hidden=(5,))
    with pytest.raises(ValueError, match=r"same number of rows .*\[5, 4\]"):
        m(torch.randn(5, 3), torch.randn(4, 4))
    with pytest.raises(TypeError, match="view 1 must be a torch.Tensor"):
        m(torch.randn(5, 3), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="x has 3 features .* expects 4"):
        m(torch.randn(5, 3), torch.randn(5, 3))
    g = DGCCAModule([3, 4, 2], 2, hidden=())
    with pytest.raises(ValueError, match="same number of rows"):
        g(torch.randn(6, 3), torch.randn(6, 4), torch.randn(5, 2))


@pytest.mark.parametrize("objective", ["squared", "sum"])
def test_both_objectives_train(objective):
    views = _latent_views(n=120)[:2]
    model = DCCA(n_components=2, hidden=(8,), epochs=20, lr=1e-2, objective=objective,
                 progress=False).fit(views)  # fmt: skip
    rho = model.canonical_correlations_
    value = (rho**2).sum() if objective == "squared" else rho.sum()
    assert model.history_.train_loss[-1] == pytest.approx(-value, abs=0.05)
    with pytest.raises(ValueError, match="objective must be one of"):
        DCCA(objective="trace", **_FAST).fit(views)


# ------------------------------------------------------------------ custom encoders


def _digit_images(n=160, seed=0):
    """Two views of 8 x 8 images (flattened rows) that share a class: a bright square at one of
    4 positions in view 1, and a bright bar at the matching position in view 2."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, size=n)
    v1 = 0.3 * rng.normal(size=(n, 8, 8))
    v2 = 0.3 * rng.normal(size=(n, 8, 8))
    for i, c in enumerate(label):
        r, q = divmod(int(c), 2)
        v1[i, 4 * r : 4 * r + 3, 4 * q : 4 * q + 3] += 1.0
        v2[i, :, 2 * c : 2 * c + 2] += 1.0
    return [v1.reshape(n, 64), v2.reshape(n, 64)], label


def _cnn(out_dim=3):
    from torch import nn

    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, out_dim),
    )


def test_custom_cnn_encoders_on_images():
    views, _ = _digit_images()
    torch.manual_seed(0)
    cnns = [_cnn(), _cnn()]
    before = [p.detach().clone() for p in cnns[0].parameters()]
    model = DCCA(n_components=2, encoders=cnns, epochs=30, lr=1e-2, batch_size=40,
                 progress=False).fit(views)  # fmt: skip
    assert model.out_dim_ == 3
    assert isinstance(model.module_.f1[1], torch.nn.Conv2d)
    # the modules passed are not trained in place
    assert all(torch.equal(a, b) for a, b in zip(before, cnns[0].parameters(), strict=True))
    z1, z2 = model.transform(views)
    assert z1.shape == z2.shape == (160, 2)
    assert model.canonical_correlations_[0] > 0.9  # the shared class is found
    assert clone(model).get_params()["encoders"] is not cnns  # clone copies them
    # DGCCA takes the same API
    torch.manual_seed(0)
    dg = DGCCA(n_components=2, encoders=[_cnn(), _cnn(), _cnn()], epochs=5, batch_size=40,
               progress=False).fit(views + [views[0]])  # fmt: skip
    assert dg.G_.shape == (160, 2) and dg.out_dim_ == 3


@pytest.mark.parametrize(
    ("encoders", "error", "match"),
    [
        ("cnn", TypeError, "one module"),
        ("three", ValueError, "encoders must hold 2 modules"),
        ("not a module", TypeError, r"encoders\[1\] must be a torch.nn.Module"),
        ("widths", ValueError, r"output widths must agree, got \[3, 4\]"),
        ("wrong input", ValueError, r"encoders\[1\] failed on rows of views\[1\]"),
        ("3-D output", ValueError, r"encoders\[0\] must map a batch \(n, d\) to a 2-D tensor"),
    ],
)
def test_custom_encoders_are_validated(encoders, error, match):
    from torch import nn

    views, _ = _digit_images(n=40)
    encoders = {
        "cnn": _cnn(),
        "three": [_cnn(), _cnn(), _cnn()],
        "not a module": [_cnn(), lambda x: x],
        "widths": [_cnn(3), _cnn(4)],
        "wrong input": [_cnn(), nn.Linear(10, 3)],
        "3-D output": [nn.Unflatten(1, (1, 8, 8)), _cnn()],
    }[encoders]
    with pytest.raises(error, match=match):
        DCCA(n_components=2, encoders=encoders, epochs=1, batch_size=20, progress=False).fit(views)


def test_custom_encoders_and_out_dim_must_agree():
    views, _ = _digit_images(n=40)
    with pytest.raises(ValueError, match="out_dim=5 but the encoders output 3"):
        DCCA(n_components=2, out_dim=5, encoders=[_cnn(), _cnn()], epochs=1,
             progress=False).fit(views)  # fmt: skip
    with pytest.raises(ValueError, match="either encoders or in_dims"):
        DCCAModule([64, 64], 3, encoders=[_cnn(), _cnn()])
