"""Tests of mmlib.losses: the Deep CCA and Deep GCCA objectives."""

import numpy as np
import pytest
import torch

from mmlib.linear import CCA, GCCA
from mmlib.losses import cca_correlations, cca_loss, gcca_loss, gcca_solution


def _pair(n=30, d1=4, d2=3, seed=0, dtype=torch.float64):
    """Two correlated views with distinct canonical correlations."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 3, generator=gen, dtype=dtype)
    h1 = torch.cat([z, torch.randn(n, d1 - 3, generator=gen, dtype=dtype)], dim=1)
    h1 = h1 + 0.3 * torch.randn(n, d1, generator=gen, dtype=dtype)
    h2 = z[:, :d2] * torch.tensor([1.0, 0.6, 0.3][:d2], dtype=dtype)
    h2 = h2 + 0.5 * torch.randn(n, d2, generator=gen, dtype=dtype)
    return h1, h2


def _views(n=25, dims=(3, 4, 2), seed=0):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return [
        z @ torch.randn(2, d, generator=gen, dtype=torch.float64)
        + torch.randn(n, d, generator=gen, dtype=torch.float64)
        for d in dims
    ]


def _numpy_correlations(X, Y, reg=0.0):
    """Reference: singular values of (Cxx + lx I)^{-1/2} Cxy (Cyy + ly I)^{-1/2} (eigh, numpy),
    with mmlib's ridge l = reg / (1 - reg) * trace(C) / d."""
    X = X - X.mean(0)
    Y = Y - Y.mean(0)
    n = X.shape[0]

    def inv_sqrt(C):
        C = C + reg / (1 - reg) * np.trace(C) / C.shape[0] * np.eye(C.shape[0])
        w, V = np.linalg.eigh(C)
        return V @ np.diag(w**-0.5) @ V.T

    T = inv_sqrt(X.T @ X / (n - 1)) @ (X.T @ Y / (n - 1)) @ inv_sqrt(Y.T @ Y / (n - 1))
    return np.linalg.svd(T, compute_uv=False)


# ---------------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("k", [None, 2, 1])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_cca_loss_gradcheck(k, reg):
    h1, h2 = _pair()
    h1.requires_grad_()
    h2.requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: cca_loss(a, b, k, reg=reg), (h1, h2))


@pytest.mark.parametrize("k", [None, 2])
@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_cca_loss_squared_objective_gradcheck(k, reg):
    h1, h2 = _pair()
    h1.requires_grad_()
    h2.requires_grad_()
    fn = lambda a, b: cca_loss(a, b, k, reg=reg, objective="squared")  # noqa: E731
    assert torch.autograd.gradcheck(fn, (h1, h2))


@pytest.mark.parametrize("reg", [0.0, 0.1])
def test_gcca_loss_gradcheck(reg):
    views = [v.requires_grad_() for v in _views()]
    assert torch.autograd.gradcheck(lambda *o: gcca_loss(list(o), 2, reg=reg), views)


def test_gradients_finite_with_identical_inputs():
    """h1 == h2: every correlation is 1 (repeated singular values), a maximum of the objective."""
    h = torch.randn(40, 3, dtype=torch.float64, requires_grad=True)
    loss = cca_loss(h, h, reg=0.0)
    loss.backward()
    assert loss.item() == pytest.approx(-3.0, abs=1e-8)
    assert torch.isfinite(h.grad).all()
    assert h.grad.abs().max() < 1e-6  # a maximum: zero gradient
    h.grad = None
    cca_loss(h, h.detach() * 2.0, 2, reg=1e-3).backward()
    assert torch.isfinite(h.grad).all()


def test_gradients_finite_with_nearly_rank_deficient_inputs():
    gen = torch.Generator().manual_seed(1)
    base = torch.randn(50, 2, generator=gen, dtype=torch.float64)
    h1 = torch.cat([base, base[:, :1] + 1e-9 * torch.randn(50, 1, generator=gen)], dim=1)
    h2 = torch.randn(50, 3, generator=gen, dtype=torch.float64)
    h1.requires_grad_()
    for reg in (0.0, 1e-3):
        h1.grad = None
        loss = cca_loss(h1, h2, reg=reg)
        loss.backward()
        assert torch.isfinite(loss)
        assert torch.isfinite(h1.grad).all()
    outputs = [h1, h2, torch.randn(50, 2, generator=gen, dtype=torch.float64)]
    h1.grad = None
    gcca_loss(outputs, 2, reg=0.0).backward()
    assert torch.isfinite(h1.grad).all()


def test_float32_inputs_keep_their_dtype_and_get_gradients():
    h1, h2 = _pair(dtype=torch.float32)
    h1.requires_grad_()
    loss = cca_loss(h1, h2)
    assert loss.dtype == torch.float32
    loss.backward()
    assert h1.grad.dtype == torch.float32 and torch.isfinite(h1.grad).all()


# ---------------------------------------------------------------------------------- values


def test_cca_loss_equals_exact_canonical_correlations():
    h1, h2 = _pair(n=200, d1=5, d2=3)
    X, Y = h1.numpy(), h2.numpy()
    # QR reference: canonical correlations = singular values of Qx^T Qy
    qx, _ = np.linalg.qr(X - X.mean(0))
    qy, _ = np.linalg.qr(Y - Y.mean(0))
    rho = np.linalg.svd(qx.T @ qy, compute_uv=False)
    corr = cca_correlations(h1, h2, reg=0.0, eps=0.0).numpy()
    np.testing.assert_allclose(corr, rho, atol=1e-10)
    assert cca_loss(h1, h2, reg=0.0, eps=0.0).item() == pytest.approx(-rho.sum(), abs=1e-10)
    assert cca_loss(h1, h2, 2, reg=0.0, eps=0.0).item() == pytest.approx(-rho[:2].sum(), abs=1e-10)
    # and mmlib's linear CCA agrees
    lin = CCA(n_components=3).fit([X, Y]).canonical_correlations_
    np.testing.assert_allclose(corr, lin, atol=1e-9)


@pytest.mark.parametrize("reg", [0.01, 0.3])
def test_cca_loss_with_ridge_matches_regularised_closed_form(reg):
    h1, h2 = _pair(n=60, d1=5, d2=3)
    ref = _numpy_correlations(h1.numpy(), h2.numpy(), reg=reg)
    assert cca_loss(h1, h2, reg=reg, eps=0.0).item() == pytest.approx(-ref.sum(), abs=1e-10)
    assert cca_loss(h1, h2, 1, reg=reg, eps=0.0).item() == pytest.approx(-ref[0], abs=1e-10)
    assert cca_loss(h1, h2, reg=reg).item() > cca_loss(h1, h2, reg=0.0).item()  # ridge shrinks


def test_cca_loss_is_the_trace_norm_not_the_frobenius_norm():
    h1, h2 = _pair(n=500, d1=3, d2=3)
    corr = cca_correlations(h1, h2, reg=0.0)
    assert (corr > 0.3).sum() >= 2  # several sizeable correlations: the two norms differ
    frobenius = torch.sqrt((corr**2).sum()).item()
    loss = cca_loss(h1, h2, reg=0.0).item()
    assert loss == pytest.approx(-corr.sum().item())
    assert abs(-loss - frobenius) > 0.2
    h = torch.randn(100, 4, dtype=torch.float64)
    assert cca_loss(h, h, reg=0.0).item() == pytest.approx(-4.0)  # Frobenius would give -2


def test_cca_loss_is_scale_and_shift_invariant():
    h1, h2 = _pair()
    ref = cca_loss(h1, h2, reg=0.05, eps=0.0).item()
    moved = cca_loss(1e3 * h1 + 7.0, 0.01 * h2 - 2.0, reg=0.05, eps=0.0).item()
    assert moved == pytest.approx(ref, abs=1e-10)
    # the floor eps is relative: the default one keeps the invariance at any scale
    default = cca_loss(h1, h2).item()
    for scale in (1e-5, 1e-150, 3.0, 1e5, 1e150):
        assert cca_loss(scale * h1, h2).item() == pytest.approx(default, abs=1e-10)
        assert cca_loss(h1, scale * h2, objective="squared").item() == pytest.approx(
            cca_loss(h1, h2, objective="squared").item(), abs=1e-10
        )
    gref = gcca_loss(_views(), 2).item()
    assert gcca_loss([1e-5 * v for v in _views()], 2).item() == pytest.approx(gref, rel=1e-10)


def test_squared_objective_is_minus_the_sum_of_squared_correlations():
    h1, h2 = _pair(n=200, d1=5, d2=3)
    rho = cca_correlations(h1, h2, reg=0.1, eps=0.0)
    sq = cca_loss(h1, h2, reg=0.1, eps=0.0, objective="squared").item()
    assert sq == pytest.approx(-(rho**2).sum().item(), abs=1e-12)
    sq2 = cca_loss(h1, h2, 2, reg=0.1, eps=0.0, objective="squared").item()
    assert sq2 == pytest.approx(-(rho[:2] ** 2).sum().item(), abs=1e-12)
    # a per-sample loop: the whitened cross-covariance built sample by sample, then its
    # squared Frobenius norm (the sum of all squared correlations)
    X, Y = h1.numpy(), h2.numpy()
    mx, my = X.mean(0), Y.mean(0)
    cxx, cyy, cxy = np.zeros((5, 5)), np.zeros((3, 3)), np.zeros((5, 3))
    for x, y in zip(X, Y, strict=True):
        cxx += np.outer(x - mx, x - mx) / 199
        cyy += np.outer(y - my, y - my) / 199
        cxy += np.outer(x - mx, y - my) / 199

    def inv_sqrt(c):
        c = c + 0.1 / 0.9 * np.trace(c) / len(c) * np.eye(len(c))
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w**-0.5) @ v.T

    t = inv_sqrt(cxx) @ cxy @ inv_sqrt(cyy)
    assert sq == pytest.approx(-(t**2).sum(), abs=1e-10)
    with pytest.raises(ValueError, match="objective must be one of"):
        cca_loss(h1, h2, objective="frobenius")


# ---------------------------------------------------------------------------------- the ridge


@pytest.mark.parametrize("reg", [0.0, 1e-3, 0.1, 0.5, 0.9])
def test_correlations_never_exceed_one(reg):
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(500, 3, generator=gen, dtype=torch.float64) * torch.tensor([10.0, 1.0, 0.1])
    assert cca_correlations(h, h, reg=reg).max().item() <= 1.0
    assert -cca_loss(h, h, reg=reg).item() <= 3.0
    two = torch.tensor([[0.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert cca_correlations(two, two, reg=reg).max().item() <= 1.0
    # the attack of issue 8: inflate k = 2 of o = 4 outputs (it lowers the shrinkage ridge's
    # variance along them, which pushed the reported values above 1)
    h4 = torch.randn(300, 4, generator=gen, dtype=torch.float64)
    inflated = h4 * torch.tensor([1e3, 1e3, 1.0, 1.0], dtype=torch.float64)
    corr = cca_correlations(inflated, h4, reg=reg, eps=0.0)
    assert corr.max().item() <= 1.0 + 1e-12
    assert cca_correlations(inflated, h4, reg=reg).max().item() <= 1.0
    np.testing.assert_allclose(
        corr.numpy(), _numpy_correlations(inflated.numpy(), h4.numpy(), reg), atol=1e-8
    )
    _, _, eig = gcca_solution([inflated, h4, h4 + 0.1 * inflated], 3, reg=reg)
    assert eig.max().item() <= 3.0


def test_ridge_is_the_shrinkage_values_scaled():
    """(C + l I) values = shrinkage ((1 - r) C + r tr(C)/d I) values * sqrt((1 - r1)(1 - r2))."""
    h1, h2 = _pair(n=80, d1=5, d2=3)
    X, Y = h1.numpy() - h1.numpy().mean(0), h2.numpy() - h2.numpy().mean(0)
    r1, r2 = 0.3, 0.6

    def shrunk_inv_sqrt(c, r):
        c = (1 - r) * c + r * np.trace(c) / len(c) * np.eye(len(c))
        w, v = np.linalg.eigh(c)
        return v @ np.diag(w**-0.5) @ v.T

    n = len(X)
    t = shrunk_inv_sqrt(X.T @ X / (n - 1), r1) @ (X.T @ Y / (n - 1))
    shrinkage = np.linalg.svd(t @ shrunk_inv_sqrt(Y.T @ Y / (n - 1), r2), compute_uv=False)
    corr = cca_correlations(h1, h2, reg=(r1, r2), eps=0.0).numpy()
    np.testing.assert_allclose(corr, shrinkage * np.sqrt((1 - r1) * (1 - r2)), atol=1e-10)


def test_agrees_with_linear_cca_at_the_same_ridge():
    """Same directions as mmlib.linear.CCA at the same reg, and the same ridge values along them.

    Along CCA's weights w1, w2 the ridge correlation w1' C12 w2 / sqrt(w1' (C11 + l1 I) w1
    w2' (C22 + l2 I) w2) must equal the loss's singular value, whichever values CCA reports."""
    h1, h2 = _pair(n=120, d1=5, d2=3)
    X, Y = h1.numpy(), h2.numpy()
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    c11, c22, c12 = Xc.T @ Xc / 119, Yc.T @ Yc / 119, Xc.T @ Yc / 119
    for reg in (1e-3, 0.2, 0.7):
        lin = CCA(n_components=3, reg=reg).fit([X, Y])
        w1, w2 = lin.weights_
        r11 = c11 + reg / (1 - reg) * np.trace(c11) / 5 * np.eye(5)
        r22 = c22 + reg / (1 - reg) * np.trace(c22) / 3 * np.eye(3)
        along = np.einsum("ik,ij,jk->k", w1, c12, w2) / np.sqrt(
            np.einsum("ik,ij,jk->k", w1, r11, w1) * np.einsum("ik,ij,jk->k", w2, r22, w2)
        )
        corr = cca_correlations(h1, h2, reg=reg, eps=0.0).numpy()
        np.testing.assert_allclose(np.abs(along), corr, atol=1e-8)
        assert lin.canonical_correlations_.max() <= 1.0 + 1e-12


def test_cca_loss_independent_views_small_batch_bias():
    """Independent data still shows correlation in a small batch: why batch size matters."""
    gen = torch.Generator().manual_seed(0)
    small = -cca_loss(torch.randn(12, 4, generator=gen), torch.randn(12, 4, generator=gen))
    large = -cca_loss(torch.randn(2000, 4, generator=gen), torch.randn(2000, 4, generator=gen))
    assert small.item() > 1.0 > 0.2 > large.item()


def test_gcca_solution_matches_linear_gcca():
    views = _views(n=60)
    for reg in (0.0, 0.2):
        G, U, eig = gcca_solution(views, 2, reg=reg, eps=0.0)
        lin = GCCA(n_components=2, reg=reg).fit([v.numpy() for v in views])
        np.testing.assert_allclose(G.T @ G, np.eye(2), atol=1e-12)
        # same subspace: G^T G_lin is orthogonal
        overlap = G.numpy().T @ lin.G_
        np.testing.assert_allclose(overlap @ overlap.T, np.eye(2), atol=1e-8)
        np.testing.assert_allclose(eig.numpy(), lin.eigenvalues_, rtol=1e-9)
        for u, w in zip(U, lin.weights_, strict=True):  # same U_j up to the signs of G's columns
            np.testing.assert_allclose(np.abs(u.numpy().T @ w), np.abs(w.T @ w), rtol=1e-6)
        loss = gcca_loss(views, 2, reg=reg, eps=0.0).item()
        assert loss == pytest.approx(3 * 2 - eig.sum().item(), abs=1e-9)
        assert all(u.shape == (v.shape[1], 2) for u, v in zip(U, views, strict=True))


def test_gcca_two_views_eigenvalues_are_one_plus_correlations():
    h1, h2 = _pair(n=100)
    _, _, eig = gcca_solution([h1, h2], 2, reg=0.0, eps=0.0)
    rho = cca_correlations(h1, h2, reg=0.0, eps=0.0)[:2]
    np.testing.assert_allclose(eig.numpy(), 1 + rho.numpy(), atol=1e-10)


def test_gcca_loss_is_not_differentiated_through_the_eigensolver():
    views = [v.requires_grad_() for v in _views()]
    G, U, _ = gcca_solution(views, 2)
    assert not G.requires_grad and not any(u.requires_grad for u in U)
    assert gcca_loss(views, 2).requires_grad


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("h1", "h2", "kwargs", "error", "match"),
    [
        (np.zeros((5, 2)), torch.zeros(5, 2), {}, TypeError, "h1 must be a torch.Tensor"),
        (torch.zeros(5, 2, dtype=torch.int64), torch.zeros(5, 2), {}, TypeError, "h1 .*floating"),
        (torch.zeros(5), torch.zeros(5, 2), {}, ValueError, "h1 must be 2-D"),
        (torch.randn(5, 2), torch.randn(6, 2), {}, ValueError, "same number of samples"),
        (torch.randn(1, 2), torch.randn(1, 2), {}, ValueError, "at least 2 samples"),
        (torch.randn(5, 2), torch.full((5, 2), float("nan")), {}, ValueError, "h2 contains NaN"),
        (torch.randn(5, 2), torch.randn(5, 3), {"n_components": 3}, ValueError, "too large"),
        (torch.randn(5, 2), torch.randn(5, 3), {"n_components": 0}, ValueError, ">= 1"),
        (
            torch.randn(5, 2),
            torch.randn(5, 3),
            {"reg": 1.0},
            ValueError,
            r"reg must be in \[0, 1\)",
        ),
        (torch.randn(5, 2), torch.randn(5, 3), {"eps": -1.0}, ValueError, "eps"),
    ],
)
def test_cca_loss_bad_input(h1, h2, kwargs, error, match):
    with pytest.raises(error, match=match):
        cca_loss(h1, h2, **kwargs)


def test_cca_loss_constant_output_is_a_clear_error():
    with pytest.raises(ValueError, match="not positive definite"):
        cca_loss(
            torch.randn(10, 2) * torch.tensor([1.0, 0.0]), torch.randn(10, 2), reg=0.0, eps=0.0
        )
    # the default (relative) floor keeps one constant column finite ...
    one_constant = torch.randn(10, 2) * torch.tensor([1.0, 0.0])
    assert torch.isfinite(cca_loss(one_constant, torch.randn(10, 2), reg=0.0))
    # ... but an all-constant output has no variance to correlate, whatever the ridge
    with pytest.raises(ValueError, match="constant"):
        cca_loss(torch.ones(10, 2), torch.randn(10, 2), reg=0.5)


def test_gcca_loss_bad_input():
    views = _views()
    with pytest.raises(ValueError, match="at least 2 views"):
        gcca_loss(views[:1], 1)
    with pytest.raises(TypeError, match="list"):
        gcca_loss(views[0], 1)
    bad = [views[0], views[1].clone()]
    bad[1][0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"outputs\[1\] contains NaN"):
        gcca_loss(bad, 1)
    with pytest.raises(ValueError, match="too large"):
        gcca_loss(views, 10)
    with pytest.raises(ValueError, match="same number of samples"):
        gcca_loss([views[0], views[1][:-1]], 1)
