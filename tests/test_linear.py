"""Tests of mmlib.linear: CCA and GCCA against closed forms computed differently."""

import numpy as np
import pytest
import scipy.linalg as sla
from sklearn.base import clone

from mmlib._checks import NotFittedError
from mmlib.linear import CCA, GCCA

# ------------------------------------------------------------------------------------ helpers


def latent_views(n, dims, n_shared=3, noise=1.0, seed=0):
    """Views sharing ``n_shared`` latent factors, plus independent noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, n_shared))
    return [
        z @ rng.normal(size=(n_shared, d)) + noise * rng.normal(size=(n, d)) + rng.normal(size=d)
        for d in dims
    ]


def centred(X):
    return X - X.mean(axis=0)


def cov(A, B):
    return centred(A).T @ centred(B) / (A.shape[0] - 1)


def shrink(C, r):
    return (1 - r) * C + r * np.trace(C) / C.shape[0] * np.eye(C.shape[0])


def qr_cca(X, Y):
    """Canonical correlations as the singular values of Qx^T Qy (QR of the centred views)."""
    Qx, _ = np.linalg.qr(centred(X))
    Qy, _ = np.linalg.qr(centred(Y))
    return np.linalg.svd(Qx.T @ Qy, compute_uv=False)


def geneig_cca(X, Y, reg=0.0):
    """Weights from C12 C22^-1 C21 w = rho^2 C11 w (scipy generalized eigh), descending."""
    Cxx, Cyy, Cxy = shrink(cov(X, X), reg), shrink(cov(Y, Y), reg), cov(X, Y)
    lhs = Cxy @ np.linalg.solve(Cyy, Cxy.T)
    rho2, Wx = sla.eigh(lhs, Cxx)
    rho2, Wx = rho2[::-1], Wx[:, ::-1]
    Wy = np.linalg.solve(Cyy, Cxy.T @ Wx)
    return np.sqrt(np.clip(rho2, 0, None)), Wx, Wy


def additive_ridge_cca(X, Y, rx, ry=None):
    """Singular values of (Cxx + lx I)^-1/2 Cxy (Cyy + ly I)^-1/2, l = r/(1-r) tr(C)/d (scipy)."""
    ry = rx if ry is None else ry
    Cxx, Cyy, Cxy = cov(X, X), cov(Y, Y), cov(X, Y)
    lx = rx / (1 - rx) * np.trace(Cxx) / Cxx.shape[0]
    ly = ry / (1 - ry) * np.trace(Cyy) / Cyy.shape[0]
    Rx = sla.fractional_matrix_power(Cxx + lx * np.eye(len(Cxx)), -0.5).real
    Ry = sla.fractional_matrix_power(Cyy + ly * np.eye(len(Cyy)), -0.5).real
    return np.linalg.svd(Rx @ Cxy @ Ry, compute_uv=False)


def align_signs(A, B):
    """B with each column's sign flipped to best match A."""
    return B * np.sign(np.sum(A * B, axis=0))


def projection(X, r=0.0):
    """The n x n ridge hat matrix X (X^T X + gamma I)^+ X^T, gamma = r/(1-r) tr(X^T X)/d."""
    Xc = centred(X)
    d = Xc.shape[1]
    S = Xc.T @ Xc
    gamma = r / (1 - r) * np.trace(S) / d
    return Xc @ np.linalg.pinv(S + gamma * np.eye(d), rcond=1e-10, hermitian=True) @ Xc.T


def reference_gcca(views, k, reg=0.0):
    """Direct O(n^3) MAXVAR: top-k eigenvectors of the sum of the n x n projection matrices."""
    M = sum(projection(X, reg) for X in views)
    lam, V = np.linalg.eigh(M)
    return lam[::-1][:k], V[:, ::-1][:, :k]


# ----------------------------------------------------------------------------------------- CCA

SHAPES = [(300, 4, 6), (120, 10, 3), (1000, 20, 25), (50, 2, 2)]


@pytest.mark.parametrize(("n", "dx", "dy"), SHAPES)
def test_cca_correlations_match_qr_and_generalized_eigen_references(n, dx, dy):
    X, Y = latent_views(n, (dx, dy), n_shared=min(dx, dy, 3), seed=n + dx)
    k = min(dx, dy)
    cca = CCA(n_components=k).fit([X, Y])
    rho_qr = qr_cca(X, Y)[:k]
    rho_eig, Wx_ref, Wy_ref = geneig_cca(X, Y)
    np.testing.assert_allclose(cca.canonical_correlations_, rho_qr, atol=1e-8)
    np.testing.assert_allclose(cca.canonical_correlations_, rho_eig[:k], atol=1e-8)
    assert np.all(np.diff(cca.canonical_correlations_) <= 1e-12)  # descending
    # the weights are the generalized eigenvectors (normalised to unit variance), up to sign
    Wx_ref = Wx_ref[:, :k] / np.sqrt(np.diag(Wx_ref[:, :k].T @ cov(X, X) @ Wx_ref[:, :k]))
    np.testing.assert_allclose(cca.weights_[0], align_signs(cca.weights_[0], Wx_ref), atol=1e-7)
    Wy_ref = Wy_ref[:, :k] / np.sqrt(np.diag(Wy_ref[:, :k].T @ cov(Y, Y) @ Wy_ref[:, :k]))
    np.testing.assert_allclose(cca.weights_[1], align_signs(cca.weights_[1], Wy_ref), atol=1e-7)


def test_cca_variates_are_white_within_and_diagonal_across_views():
    X, Y = latent_views(400, (6, 5), seed=1)
    cca = CCA(n_components=5).fit([X, Y])
    Zx, Zy = cca.transform([X, Y])
    np.testing.assert_allclose(np.cov(Zx.T), np.eye(5), atol=1e-10)
    np.testing.assert_allclose(np.cov(Zy.T), np.eye(5), atol=1e-10)
    np.testing.assert_allclose(cov(Zx, Zy), np.diag(cca.canonical_correlations_), atol=1e-10)
    np.testing.assert_allclose(Zx.mean(axis=0), 0, atol=1e-12)
    assert cca.score([X, Y]) == pytest.approx(cca.canonical_correlations_.sum(), abs=1e-10)


def test_cca_attributes_and_sign_convention():
    X, Y = latent_views(200, (4, 7), seed=2)
    cca = CCA(n_components=3).fit([X, Y])
    assert cca.weights_[0].shape == (4, 3) and cca.weights_[1].shape == (7, 3)
    assert cca.n_features_in_ == [4, 7] and cca.n_samples_seen_ == 200
    np.testing.assert_allclose(cca.means_[1], Y.mean(axis=0), atol=1e-12)
    Wx = cca.weights_[0]
    assert np.all(Wx[np.argmax(np.abs(Wx), axis=0), np.arange(3)] > 0)
    # negating X negates the raw W_x; the convention flips it back and W_y follows
    flipped = CCA(n_components=3).fit([-X, Y])
    np.testing.assert_allclose(flipped.weights_[0], Wx, atol=1e-10)
    np.testing.assert_allclose(flipped.weights_[1], -cca.weights_[1], atol=1e-10)
    np.testing.assert_allclose(flipped.canonical_correlations_, cca.canonical_correlations_)


def test_cca_transform_of_held_out_data_is_centred_with_training_means():
    X, Y = latent_views(300, (5, 4), seed=3)
    cca = CCA(n_components=3).fit([X[:200], Y[:200]])
    Zx, Zy = cca.transform([X[200:], Y[200:]])
    np.testing.assert_allclose(Zx, (X[200:] - X[:200].mean(0)) @ cca.weights_[0], atol=1e-12)
    np.testing.assert_allclose(Zy, (Y[200:] - Y[:200].mean(0)) @ cca.weights_[1], atol=1e-12)
    one = cca.transform([X[200:201], Y[200:201]])  # a single sample is fine
    np.testing.assert_allclose(one[0], Zx[:1], atol=1e-12)
    np.testing.assert_allclose(cca.transform_view(Y[200:], view=1), Zy, atol=1e-12)
    np.testing.assert_allclose(cca.transform_view(X[200:]), Zx, atol=1e-12)


def test_cca_overfits_when_n_is_close_to_d_and_ridge_helps_on_held_out_data():
    X, Y = latent_views(1040, (30, 30), n_shared=1, noise=3.0, seed=30)
    train, test = [X[:40], Y[:40]], [X[40:], Y[40:]]
    plain = CCA(n_components=1).fit(train)
    ridge = CCA(n_components=1, reg=0.5).fit(train)
    truth = CCA(n_components=1).fit(test).canonical_correlations_[0]  # ~population value
    assert plain.canonical_correlations_[0] > 0.99  # n = 40 vs d_x + d_y = 60: spurious fit
    assert plain.score(test) < truth - 0.2
    assert ridge.canonical_correlations_[0] < plain.canonical_correlations_[0]
    assert ridge.score(test) > plain.score(test) + 0.1


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_cca_is_invariant_to_scaling_a_view(reg):
    X, Y = latent_views(150, (6, 5), seed=4)
    base = CCA(n_components=4, reg=reg).fit([X, Y])
    scaled = CCA(n_components=4, reg=reg).fit([1e4 * X, 1e-3 * Y + 7.0])
    np.testing.assert_allclose(
        scaled.canonical_correlations_, base.canonical_correlations_, rtol=1e-10
    )
    Z0 = base.transform([X, Y])
    Z1 = scaled.transform([1e4 * X, 1e-3 * Y + 7.0])
    for a, b in zip(Z0, Z1, strict=True):
        np.testing.assert_allclose(b, a, atol=1e-8)


def test_cca_with_ridge_solves_the_regularised_eigenproblem_when_n_is_below_d():
    X, Y = latent_views(20, (30, 25), seed=5)  # n < d: plain CCA gives trivial correlations of 1
    reg = 0.2
    cca = CCA(n_components=4, reg=reg).fit([X, Y])
    assert np.all(np.isfinite(cca.weights_[0])) and np.all(np.isfinite(cca.weights_[1]))
    Cxx, Cyy, Cxy = shrink(cov(X, X), reg), shrink(cov(Y, Y), reg), cov(X, Y)
    lhs = Cxy @ np.linalg.solve(Cyy, Cxy.T)
    for w in cca.weights_[0].T:  # each column is a generalized eigenvector of (lhs, Cxx(reg))
        s2 = (w @ lhs @ w) / (w @ Cxx @ w)
        np.testing.assert_allclose(lhs @ w, s2 * Cxx @ w, atol=1e-8 * np.abs(lhs @ w).max())
    # reported correlations are the additive-ridge values (issue 8: they used to be the actual
    # training correlations of the variates, which with ridge are closer to 1): smaller, < 1
    Zx, Zy = cca.transform([X, Y])
    actual = [np.corrcoef(a, b)[0, 1] for a, b in zip(Zx.T, Zy.T, strict=True)]
    np.testing.assert_allclose(
        cca.canonical_correlations_, additive_ridge_cca(X, Y, reg)[:4], atol=1e-8
    )
    assert np.all(cca.canonical_correlations_ <= np.array(actual) + 1e-10)
    np.testing.assert_allclose(np.var(Zx, axis=0, ddof=1), 1.0, atol=1e-10)
    assert np.all(cca.canonical_correlations_ < 1 - 1e-6)
    # without ridge the same data give (numerically) perfect, meaningless correlations
    plain = CCA(n_components=4).fit([X, Y])
    np.testing.assert_allclose(plain.canonical_correlations_, 1.0, atol=1e-8)


def test_cca_rank_deficient_view_matches_the_non_degenerate_problem():
    X, Y = latent_views(200, (4, 5), seed=6)
    X_dup = np.hstack([X, X[:, :2], X[:, :1] * 3.0])  # 7 columns, rank 4
    ref = CCA(n_components=4).fit([X, Y])
    with np.errstate(all="raise"):  # no division by a zero eigenvalue anywhere
        cca = CCA(n_components=4).fit([X_dup, Y])
    assert np.all(np.isfinite(cca.weights_[0]))
    np.testing.assert_allclose(cca.canonical_correlations_, ref.canonical_correlations_, atol=1e-8)
    np.testing.assert_allclose(cca.canonical_correlations_, qr_cca(X, Y)[:4], atol=1e-8)
    Zx, Zy = cca.transform([X_dup, Y])
    Rx, Ry = ref.transform([X, Y])
    np.testing.assert_allclose(Zx, align_signs(Zx, Rx), atol=1e-7)
    np.testing.assert_allclose(Zy, align_signs(Zy, Ry), atol=1e-7)
    with pytest.raises(ValueError, match=r"n_components=5 is too large.*rank of views\[0\].* = 4"):
        CCA(n_components=5).fit([X_dup, Y])


def test_cca_is_deterministic():
    X, Y = latent_views(300, (8, 6), seed=7)
    a = CCA(n_components=5, reg=0.1).fit([X, Y])
    b = CCA(n_components=5, reg=0.1).fit([X, Y])
    np.testing.assert_array_equal(a.weights_[0], b.weights_[0])
    np.testing.assert_array_equal(a.canonical_correlations_, b.canonical_correlations_)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1000])
def test_cca_partial_fit_over_chunks_equals_fit(chunk):
    X, Y = latent_views(500, (6, 8), seed=8)
    X = X + 1e3  # a large offset: raw sums would lose digits, the pairwise merge does not
    full = CCA(n_components=4, reg=0.05).fit([X, Y])
    inc = CCA(n_components=4, reg=0.05)
    for start in range(0, 500, chunk):
        inc.partial_fit([X[start : start + chunk], Y[start : start + chunk]])
    assert inc.n_samples_seen_ == 500
    rho_inc, rho_full = inc.canonical_correlations_, full.canonical_correlations_
    np.testing.assert_allclose(rho_inc, rho_full, atol=1e-10)
    for a, b in zip(inc.weights_, full.weights_, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
    for a, b in zip(inc.means_, full.means_, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)


def test_cca_partial_fit_waits_for_enough_data_and_fit_starts_over():
    X, Y = latent_views(100, (5, 5), seed=9)
    inc = CCA(n_components=4)
    inc.partial_fit([X[:1], Y[:1]])  # one sample: nothing to solve yet
    with pytest.raises(NotFittedError, match=r"CCA is not fitted yet"):
        inc.transform([X, Y])
    inc.partial_fit([X[1:3], Y[1:3]])  # 3 samples: rank 2 < 4 components, still waiting
    assert not hasattr(inc, "weights_")
    inc.partial_fit([X[3:], Y[3:]])
    assert inc.weights_[0].shape == (5, 4)
    inc.fit([X[:50], Y[:50]])  # fit resets the statistics
    assert inc.n_samples_seen_ == 50
    with pytest.raises(ValueError, match=r"views\[0\] has 3 features but the estimator was fitted"):
        inc.partial_fit([X[:, :3], Y])


def test_cca_sklearn_api():
    X, Y = latent_views(100, (4, 4), seed=10)
    cca = CCA(n_components=2, reg=0.1)
    assert cca.get_params() == {"n_components": 2, "reg": 0.1, "tol": None}
    assert cca.set_params(n_components=3) is cca and cca.n_components == 3
    fresh = clone(cca)
    assert fresh.get_params()["n_components"] == 3 and not hasattr(fresh, "weights_")
    Zx, Zy = CCA(n_components=3).fit_transform([X, Y])
    assert Zx.shape == (100, 3) and Zy.shape == (100, 3)
    assert repr(cca) == "CCA(n_components=3, reg=0.1)" and repr(GCCA()) == "GCCA()"
    with pytest.raises(ValueError, match=r"'alpha' is not a parameter of CCA"):
        cca.set_params(alpha=1.0)
    assert CCA(n_components=None).fit([X, Y]).weights_[0].shape == (4, 4)


# ---------------------------------------------------------------------------------------- GCCA


@pytest.mark.parametrize(
    ("n", "dims", "k", "reg"),
    [(60, (3, 4, 5), 3, 0.0), (40, (2, 6, 3, 4), 4, 0.0), (50, (5, 3, 4), 2, 0.25)],
)
def test_gcca_matches_the_direct_n_by_n_eigendecomposition(n, dims, k, reg):
    views = latent_views(n, dims, n_shared=2, seed=n)
    g = GCCA(n_components=k, reg=reg).fit(views)
    lam_ref, G_ref = reference_gcca(views, k, reg)
    np.testing.assert_allclose(g.eigenvalues_, lam_ref, atol=1e-8)
    np.testing.assert_allclose(g.G_ @ g.G_.T, G_ref @ G_ref.T, atol=1e-8)  # same span
    np.testing.assert_allclose(g.G_.T @ g.G_, np.eye(k), atol=1e-10)
    assert np.all(g.eigenvalues_ <= len(dims))
    # U_j is the (ridge) least-squares map from view j to G: (X^T X + gamma I)^-1 X^T G
    objective = 0.0
    for X, U in zip(views, g.weights_, strict=True):
        Xc = centred(X)
        gamma = reg / (1 - reg) * np.trace(Xc.T @ Xc) / Xc.shape[1]
        ridge_ls = np.linalg.solve(Xc.T @ Xc + gamma * np.eye(Xc.shape[1]), Xc.T @ g.G_)
        np.testing.assert_allclose(U, ridge_ls, atol=1e-8)
        objective += np.linalg.norm(g.G_ - Xc @ U) ** 2 + gamma * np.linalg.norm(U) ** 2
    # the minimum of the (penalised) MAXVAR objective is J r - sum(lambda), as in the reference
    M_ref = sum(projection(X, reg) for X in views)
    ref_objective = len(dims) * k - np.trace(G_ref.T @ M_ref @ G_ref)
    assert objective == pytest.approx(len(dims) * k - g.eigenvalues_.sum(), abs=1e-8)
    assert objective == pytest.approx(ref_objective, abs=1e-8)


def test_gcca_with_two_views_gives_one_plus_the_canonical_correlations():
    X, Y = latent_views(300, (5, 7), seed=11)
    g = GCCA(n_components=5).fit([X, Y])
    rho = CCA(n_components=5).fit([X, Y]).canonical_correlations_
    np.testing.assert_allclose(g.eigenvalues_, 1 + rho, atol=1e-10)


def test_gcca_transform_is_consistent_with_the_fit():
    views = latent_views(80, (3, 4, 6), seed=12)
    g = GCCA(n_components=3).fit(views)
    np.testing.assert_allclose(g.transform(views), g.G_, atol=1e-10)
    # the identity G = sum_j X_j U_j / lambda, written out
    manual = (
        sum((X - m) @ U for X, m, U in zip(views, g.means_, g.weights_, strict=True))
        / g.eigenvalues_
    )
    np.testing.assert_allclose(manual, g.G_, atol=1e-10)
    # rows transformed alone equal the same rows transformed with all the others
    first3 = g.transform([X[:3] for X in views])
    np.testing.assert_allclose(first3, g.G_[:3], atol=1e-10)
    one = g.transform([X[5:6] for X in views])
    np.testing.assert_allclose(one, g.G_[5:6], atol=1e-10)
    assert np.abs(one).max() > 1e-3  # not the zeros of recentring a single sample
    per_view = g.transform_views(views)
    assert [P.shape for P in per_view] == [(80, 3)] * 3
    np.testing.assert_allclose(sum(per_view) / g.eigenvalues_, g.G_, atol=1e-10)
    np.testing.assert_allclose(g.fit_transform(views), g.G_)


def test_gcca_rank_deficient_and_n_below_d_stay_finite():
    views = latent_views(30, (4, 5, 3), seed=13)
    dup = [np.hstack([views[0], views[0][:, :2]]), views[1], views[2]]
    with np.errstate(all="raise"):
        g_dup = GCCA(n_components=3).fit(dup)
    g = GCCA(n_components=3).fit(views)
    np.testing.assert_allclose(g_dup.eigenvalues_, g.eigenvalues_, atol=1e-8)
    np.testing.assert_allclose(g_dup.G_ @ g_dup.G_.T, g.G_ @ g.G_.T, atol=1e-8)
    # n < d for every view, with ridge: finite, orthonormal, equal to the direct reference
    wide = latent_views(15, (20, 30, 25), seed=14)
    gw = GCCA(n_components=4, reg=0.1).fit(wide)
    assert all(np.all(np.isfinite(U)) for U in gw.weights_) and np.all(np.isfinite(gw.G_))
    np.testing.assert_allclose(gw.G_.T @ gw.G_, np.eye(4), atol=1e-10)
    lam_ref, G_ref = reference_gcca(wide, 4, 0.1)
    np.testing.assert_allclose(gw.eigenvalues_, lam_ref, atol=1e-8)
    np.testing.assert_allclose(gw.G_ @ gw.G_.T, G_ref @ G_ref.T, atol=1e-7)
    with pytest.raises(ValueError, match=r"n_components=15 is too large.*n_samples - 1 = 14"):
        GCCA(n_components=15, reg=0.1).fit(wide)


@pytest.mark.parametrize("chunk", [1, 13, 200])
def test_gcca_partial_fit_equals_fit(chunk):
    views = latent_views(200, (4, 3, 5), seed=15)
    full = GCCA(n_components=3, reg=0.01).fit(views)
    inc = GCCA(n_components=3, reg=0.01)
    for start in range(0, 200, chunk):
        inc.partial_fit([X[start : start + chunk] for X in views])
    np.testing.assert_allclose(inc.eigenvalues_, full.eigenvalues_, atol=1e-10)
    for a, b in zip(inc.weights_, full.weights_, strict=True):
        np.testing.assert_allclose(a, align_signs(a, b), atol=1e-10)
    assert not hasattr(inc, "G_")  # G_ needs all rows at once: fit only
    np.testing.assert_allclose(inc.transform(views), full.G_, atol=1e-9)
    full.partial_fit([X[:5] for X in views])  # more data after fit: G_ is stale and dropped
    assert not hasattr(full, "G_")


def test_gcca_eigenvalues_stay_below_the_number_of_views_with_ridge():
    # views with one dominant direction: a shrinkage that lowered it would push lambda above J
    rng = np.random.default_rng(20)
    z = rng.normal(size=(300, 1))
    views = [np.hstack([10 * z, 0.1 * rng.normal(size=(300, 4))]) for _ in range(3)]
    assert GCCA(n_components=2).fit(views).eigenvalues_[0] == pytest.approx(3.0, abs=1e-10)
    for reg in (0.3, 0.9):
        g = GCCA(n_components=2, reg=reg).fit(views)
        assert np.all(g.eigenvalues_ < 3.0)
    assert g.eigenvalues_[0] < GCCA(n_components=2, reg=0.3).fit(views).eigenvalues_[0]


def test_gcca_scale_invariance_and_determinism():
    views = latent_views(100, (3, 4, 5), seed=16)
    a = GCCA(n_components=2, reg=0.2).fit(views)
    b = GCCA(n_components=2, reg=0.2).fit([views[0] * 1e5, views[1], views[2] * 1e-4])
    np.testing.assert_allclose(a.eigenvalues_, b.eigenvalues_, rtol=1e-10)
    np.testing.assert_allclose(b.G_, a.G_, atol=1e-8)
    c = GCCA(n_components=2, reg=0.2).fit(views)
    np.testing.assert_array_equal(a.G_, c.G_)


# ----------------------------------------------------------------------------------- bad input

X0, Y0, W0 = latent_views(20, (3, 4, 2), seed=17)


def _fitted(cls):
    return cls(n_components=2).fit([X0, Y0] if cls is CCA else [X0, Y0, W0])


BAD_VIEWS = [
    (X0, TypeError, r"wrap it in a list"),
    ([X0], ValueError, r"at least 2 views, got 1"),
    ([X0, Y0[:, 0]], ValueError, r"views\[1\] must be 2-D.*reshape\(-1, 1\)"),
    ([X0, Y0[:15]], ValueError, r"views\[0\] has 20, views\[1\] has 15"),
    ([X0, np.where(Y0 > 1, np.nan, Y0)], ValueError, r"views\[1\] contains NaN or inf"),
    ([X0, np.where(Y0 > 1, np.inf, Y0)], ValueError, r"views\[1\] contains NaN or inf"),
    ([np.array([["a"] * 3] * 20), Y0], TypeError, r"views\[0\] must contain numbers"),
]


@pytest.mark.parametrize("cls", [CCA, GCCA])
@pytest.mark.parametrize("method", ["fit", "partial_fit", "transform", "fit_transform"])
@pytest.mark.parametrize(("views", "err", "match"), BAD_VIEWS)
def test_bad_views_are_refused_by_every_method(cls, method, views, err, match):
    est = _fitted(cls) if method == "transform" else cls(n_components=2)
    with pytest.raises(err, match=match):
        getattr(est, method)(views)


def test_other_methods_refuse_bad_views():
    cca, g = _fitted(CCA), _fitted(GCCA)
    with pytest.raises(ValueError, match=r"views\[1\] contains NaN"):
        cca.score([X0, np.full_like(Y0, np.nan)])
    with pytest.raises(ValueError, match=r"views\[2\] must be 2-D"):
        g.transform_views([X0, Y0, W0[:, 0]])
    with pytest.raises(ValueError, match=r"at most 2 views, got 3"):
        CCA().fit([X0, Y0, W0])
    with pytest.raises(ValueError, match=r"X must be 2-D"):
        cca.transform_view(X0[:, 0])
    with pytest.raises(ValueError, match=r"X has 4 features but view 0 was fitted with 3"):
        cca.transform_view(Y0, view=0)
    with pytest.raises(ValueError, match=r"view must be 0 or 1"):
        cca.transform_view(X0, view=2)
    with pytest.raises(ValueError, match=r"views\[1\] has 3 features but the estimator was fitted"):
        cca.transform([X0, X0])
    with pytest.raises(ValueError, match=r"views has 2 views but the estimator was fitted on 3"):
        g.transform([X0, Y0])
    with pytest.raises(ValueError, match=r"correlations need at least 2 samples"):
        cca.score([X0[:1], Y0[:1]])


@pytest.mark.parametrize("cls", [CCA, GCCA])
def test_bad_parameters_name_the_argument(cls):
    views = [X0, Y0]
    with pytest.raises(ValueError, match=r"reg must be in \[0, 1\), got -0.1"):
        cls(reg=-0.1).fit(views)
    with pytest.raises(ValueError, match=r"reg must be in \[0, 1\), got 1.0"):
        cls(reg=1.0).fit(views)
    with pytest.raises(ValueError, match=r"reg must be one number or one per view \(2\)"):
        cls(reg=[0.1, 0.1, 0.1]).fit(views)
    with pytest.raises(TypeError, match=r"n_components must be an int, got float"):
        cls(n_components=2.0).fit(views)
    with pytest.raises(TypeError, match=r"n_components must be an int, got bool"):
        cls(n_components=True).fit(views)
    with pytest.raises(ValueError, match=r"n_components must be >= 1, got 0"):
        cls(n_components=0).fit(views)
    with pytest.raises(ValueError, match=r"tol must be in \(0, 1\)"):
        cls(tol=0.0).fit(views)
    with pytest.raises(ValueError, match=r"needs at least 2 samples"):
        cls().fit([X0[:1], Y0[:1]])
    with pytest.raises(ValueError, match=r"zero variance"):
        cls(n_components=1).fit([np.ones((20, 3)), np.ones((20, 2))])
    with pytest.raises(NotFittedError, match=rf"{cls.__name__} is not fitted yet"):
        cls().transform(views)


def test_a_constant_view_has_no_canonical_direction_but_gcca_just_ignores_it():
    with pytest.raises(ValueError, match=r"CCA found no direction to fit: a view has zero var"):
        CCA(n_components=1).fit([np.ones((20, 3)), Y0])
    g = GCCA(n_components=2).fit([np.ones((20, 3)), Y0, W0])
    ref = GCCA(n_components=2).fit([Y0, W0])
    np.testing.assert_allclose(g.eigenvalues_, ref.eigenvalues_, atol=1e-10)
    np.testing.assert_array_equal(g.weights_[0], 0.0)


def test_too_many_components_names_the_limit():
    with pytest.raises(ValueError, match=r"n_components=4 is too large.*rank of views\[0\]"):
        CCA(n_components=4).fit([X0, Y0])
    with pytest.raises(ValueError, match=r"n_components=8 is too large: at most 7.*nonzero eig"):
        GCCA(n_components=8).fit([X0, Y0])


# ------------------------------------------------------------------- issue 8: reliability


@pytest.mark.parametrize(("rx", "ry"), [(0.0, 0.0), (0.1, 0.1), (0.5, 0.2), (0.9, 0.9)])
def test_cca_correlations_are_the_additive_ridge_closed_form(rx, ry):
    X, Y = latent_views(200, (6, 5), seed=40)
    cca = CCA(n_components=5, reg=[rx, ry]).fit([X, Y])
    np.testing.assert_allclose(
        cca.canonical_correlations_, additive_ridge_cca(X, Y, rx, ry), atol=1e-8
    )
    # the same directions as the shrinkage ridge, values scaled by sqrt((1 - rx)(1 - ry))
    Cxx, Cyy, Cxy = shrink(cov(X, X), rx), shrink(cov(Y, Y), ry), cov(X, Y)
    Rx = sla.fractional_matrix_power(Cxx, -0.5).real
    Ry = sla.fractional_matrix_power(Cyy, -0.5).real
    shrunk = np.linalg.svd(Rx @ Cxy @ Ry, compute_uv=False)
    np.testing.assert_allclose(
        cca.canonical_correlations_, shrunk * np.sqrt((1 - rx) * (1 - ry)), atol=1e-8
    )
    # weights: generalized eigenvectors of the shrinkage problem, unit training variance
    if rx == ry:
        _, Wx_ref, _ = geneig_cca(X, Y, reg=rx)
        Wx_ref = Wx_ref[:, :5] / np.sqrt(np.diag(Wx_ref[:, :5].T @ cov(X, X) @ Wx_ref[:, :5]))
        np.testing.assert_allclose(cca.weights_[0], align_signs(cca.weights_[0], Wx_ref), atol=1e-7)
    Zx, Zy = cca.transform([X, Y])
    np.testing.assert_allclose(np.var(Zx, axis=0, ddof=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(np.var(Zy, axis=0, ddof=1), 1.0, atol=1e-10)


@pytest.mark.parametrize("reg", [0.5, 0.9, 0.999])
def test_correlations_never_exceed_one_whatever_the_ridge(reg):
    # one strong direction: the shrinkage lowered its variance and reported up to 1.55
    h = np.random.default_rng(41).normal(size=(500, 3)) * [10.0, 1.0, 0.1]
    rho = CCA(n_components=3, reg=reg).fit([h, h]).canonical_correlations_
    assert np.all(rho <= 1.0) and np.all(rho >= 0.0)
    np.testing.assert_allclose(rho, additive_ridge_cca(h, h, reg), atol=1e-8)
    views = [h, h + 0.01, 2 * h]
    lam = GCCA(n_components=3, reg=reg).fit(views).eigenvalues_
    assert np.all(lam <= 3.0)


def test_gcca_eigenvalues_never_exceed_the_number_of_views():
    z = np.random.default_rng(42).normal(size=(100, 4))
    for reg in (0.0, 1e-6, 0.5):
        lam = GCCA(n_components=4, reg=reg).fit([z, z, z, z]).eigenvalues_
        assert np.all(lam <= 4.0)
    np.testing.assert_array_equal(GCCA(n_components=4).fit([z] * 4).eigenvalues_ <= 4.0, True)


def test_no_correlation_is_reported_beyond_the_rank_of_the_data():
    # X = A @ B with A (40, 8): rank 8; with a ridge, 20 components used to report 1.0 twice
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8)) @ rng.normal(size=(8, 50))
    Y = rng.normal(size=(40, 8)) @ rng.normal(size=(8, 50))
    with pytest.raises(ValueError, match=r"n_components=20 is too large: at most 8.*rank"):
        CCA(n_components=20, reg=1e-3).fit([X, Y])
    cca = CCA(n_components=None, reg=1e-3).fit([X, Y])
    assert cca.canonical_correlations_.shape == (8,)
    np.testing.assert_allclose(
        cca.canonical_correlations_, additive_ridge_cca(X, Y, 1e-3)[:8], atol=1e-8
    )
    # every reported correlation is close to the actual correlation of its variates
    Zx, Zy = cca.transform([X, Y])
    actual = np.abs([np.corrcoef(a, b)[0, 1] for a, b in zip(Zx.T, Zy.T, strict=True)])
    np.testing.assert_allclose(cca.canonical_correlations_, actual, atol=0.02)
    # n_components against the number of samples, named in the message
    with pytest.raises(ValueError, match=r"n_samples - 1 = 4"):
        CCA(n_components=6, reg=0.5).fit([X[:5], Y[:5]])
    with pytest.raises(ValueError, match=r"n_samples - 1 = 4"):
        GCCA(n_components=6, reg=0.5).fit([X[:5], Y[:5]])


@pytest.mark.parametrize("scale", [1e170, 1e-300, 1e300])
def test_huge_and_tiny_views_give_the_same_answer(scale):
    X, Y, W = latent_views(60, (4, 3, 5), seed=43)
    ref = CCA(n_components=3, reg=0.1).fit([X, Y])
    cca = CCA(n_components=3, reg=0.1).fit([X * scale, Y])
    np.testing.assert_allclose(cca.canonical_correlations_, ref.canonical_correlations_, rtol=1e-10)
    np.testing.assert_allclose(cca.weights_[0] * scale, ref.weights_[0], rtol=1e-8)
    np.testing.assert_allclose(
        cca.transform([X * scale, Y])[0], ref.transform([X, Y])[0], atol=1e-8
    )
    gref = GCCA(n_components=2).fit([X, Y, W])
    g = GCCA(n_components=2).fit([X * scale, Y, W])  # the 1e-300 view used to be dropped
    np.testing.assert_allclose(g.eigenvalues_, gref.eigenvalues_, rtol=1e-10)
    np.testing.assert_allclose(g.G_, gref.G_, atol=1e-8)


def test_views_beyond_the_float64_range_are_refused_clearly():
    X, Y = latent_views(30, (3, 2), seed=44)
    for cls in (CCA, GCCA):
        with pytest.raises(ValueError, match=r"views\[0\] has values of magnitude 1e\+307"):
            cls(n_components=1).fit([X / np.abs(X).max() * 1e307, Y])
    inc = CCA(n_components=1)
    inc.partial_fit([X[:10], Y[:10]])
    with pytest.raises(ValueError, match=r"overflow"):
        inc.partial_fit([X[10:] * 1e300, Y[10:]])


def test_transform_view_needs_an_int_view():
    cca = CCA(n_components=1).fit(latent_views(30, (3, 2), seed=45))
    for bad in (1.0, "1", None, True):
        with pytest.raises(TypeError, match=r"view must be the int 0 or 1"):
            cca.transform_view(np.ones((2, 2)), view=bad)


# ----------------------------------------------------------------------------------------------
# one output convention: transform_views, and None for a missing view
# ----------------------------------------------------------------------------------------------


def test_cca_transform_views_equals_transform_and_none_stays_none():
    X, Y = latent_views(60, (5, 4), seed=21)
    cca = CCA(n_components=2).fit([X, Y])
    both = cca.transform_views([X, Y])
    for a, b in zip(both, cca.transform([X, Y]), strict=True):
        np.testing.assert_array_equal(a, b)
    for method in (cca.transform, cca.transform_views):
        only_y = method([None, Y])
        assert only_y[0] is None
        np.testing.assert_array_equal(only_y[1], both[1])
        only_x = method([X[:7], None])
        assert only_x[1] is None
        np.testing.assert_array_equal(only_x[0], both[0][:7])


def test_gcca_transform_views_with_a_missing_view_and_transform_refuses_it():
    views = latent_views(50, (4, 5, 3), seed=22)
    g = GCCA(n_components=2).fit(views)
    full = g.transform_views(views)
    partial = g.transform_views([views[0], None, views[2]])
    assert partial[1] is None
    np.testing.assert_array_equal(partial[0], full[0])
    np.testing.assert_array_equal(partial[2], full[2])
    with pytest.raises(ValueError, match=r"views\[1\] is None.*transform_views"):
        g.transform([views[0], None, views[2]])


def test_missing_view_slots_are_still_checked():
    views = latent_views(40, (4, 5, 3), seed=23)
    g = GCCA(n_components=2).fit(views)
    with pytest.raises(ValueError, match="at least one view"):
        g.transform_views([None, None, None])
    with pytest.raises(ValueError, match="fitted on 3"):
        g.transform_views([views[0], None])
    with pytest.raises(ValueError, match=r"views\[2\] has 4 features"):
        g.transform_views([None, views[1], views[0]])
    with pytest.raises(ValueError, match=r"same number of samples"):
        g.transform_views([views[0], None, views[2][:5]])
    with pytest.raises(ValueError, match=r"views\[0\] contains NaN"):
        g.transform_views([np.full((3, 4), np.nan), None, views[2][:3]])


# ----------------------------------------------------------------------------------------------
# the fast paths give the textbook results
# ----------------------------------------------------------------------------------------------


def test_top_k_solvers_match_the_full_decompositions():
    from mmlib.linear import _top_eigh, _top_svd

    rng = np.random.default_rng(31)
    A = rng.normal(size=(80, 40))  # at least 32: the fast routes
    S = A.T @ A
    lam, V = _top_eigh(S, 4)
    full_lam, full_V = np.linalg.eigh(S)
    np.testing.assert_allclose(lam, full_lam[::-1][:4], rtol=1e-13)
    np.testing.assert_allclose(np.abs(V.T @ full_V[:, ::-1][:, :4]), np.eye(4), atol=1e-10)
    for K in (rng.normal(size=(40, 35)), rng.normal(size=(35, 40))):
        U, s, Vt = _top_svd(K, 3)
        np.testing.assert_allclose(s, np.linalg.svd(K, compute_uv=False)[:3], atol=1e-14)
        np.testing.assert_allclose(K @ Vt.T, U * s, atol=1e-13)  # singular pairs
        np.testing.assert_allclose(U.T @ U, np.eye(3), atol=1e-13)


def test_whitening_factor_cholesky_and_eigenvector_routes_agree():
    from mmlib.linear import _inv_sqrt_factor

    rng = np.random.default_rng(32)
    A = rng.normal(size=(100, 40))
    C = A.T @ A / 99
    E = _inv_sqrt_factor(C, 1e-12, shift=0.3)  # full rank, 40 features: the Cholesky route
    np.testing.assert_allclose(E @ E.T, np.linalg.inv(C + 0.3 * np.eye(40)), atol=1e-12)
    low = np.hstack([A, A[:, :2]])  # rank 40 of 42: the eigenvector route
    E = _inv_sqrt_factor(low.T @ low / 99, 1e-12)
    assert E.shape == (42, 40)
    np.testing.assert_allclose(E.T @ (low.T @ low / 99) @ E, np.eye(40), atol=1e-10)


def test_wide_views_take_the_fast_routes_and_stay_exact():
    """Views of >= 32 features (Cholesky whitening, top-k solvers, syrk Gram) against closed forms."""
    X, Y, W = latent_views(400, (48, 40, 36), n_shared=5, seed=33)
    cca = CCA(n_components=5).fit([X, Y])
    np.testing.assert_allclose(cca.canonical_correlations_, qr_cca(X, Y)[:5], atol=1e-12)
    Zx, Zy = cca.transform([X, Y])
    np.testing.assert_allclose(
        np.corrcoef(Zx.T, Zy.T)[:5, 5:], np.diag(qr_cca(X, Y)[:5]), atol=1e-12
    )
    ridge = CCA(n_components=4, reg=0.2).fit([X, Y])
    np.testing.assert_allclose(
        ridge.canonical_correlations_, additive_ridge_cca(X, Y, 0.2)[:4], atol=1e-12
    )
    views = [X, Y, W]
    g = GCCA(n_components=4).fit(views)
    top = np.linalg.eigvalsh(sum(projection(V) for V in views))[::-1][:4]
    np.testing.assert_allclose(g.eigenvalues_, top, atol=1e-11)
    np.testing.assert_allclose(g.G_.T @ g.G_, np.eye(4), atol=1e-12)


def test_wide_views_with_ridge_stay_exact():
    """The ridge keeps the computed diagonal blocks and the Cholesky of C + lambda I."""
    views = latent_views(300, (40, 36, 34), n_shared=4, seed=34)
    g = GCCA(n_components=3, reg=0.3).fit(views)
    top = np.linalg.eigvalsh(sum(projection(V, 0.3) for V in views))[::-1][:3]
    np.testing.assert_allclose(g.eigenvalues_, top, atol=1e-11)
