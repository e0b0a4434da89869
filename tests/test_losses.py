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
    """Reference: singular values of Cxx(reg)^{-1/2} Cxy Cyy(reg)^{-1/2} (eigh, numpy)."""
    X = X - X.mean(0)
    Y = Y - Y.mean(0)
    n = X.shape[0]

    def inv_sqrt(C):
        C = (1 - reg) * C + reg * np.trace(C) / C.shape[0] * np.eye(C.shape[0])
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
    # the floor eps is absolute, negligible next to outputs of variance ~1
    assert cca_loss(3.0 * h1, h2, reg=0.05).item() == pytest.approx(ref, abs=1e-7)


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


def test_cca_loss_constant_output_without_floor_is_a_clear_error():
    with pytest.raises(ValueError, match="not positive definite"):
        cca_loss(torch.ones(10, 2), torch.randn(10, 2), reg=0.0, eps=0.0)
    # the default floor keeps it finite
    assert torch.isfinite(cca_loss(torch.ones(10, 2), torch.randn(10, 2), reg=0.0))


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
