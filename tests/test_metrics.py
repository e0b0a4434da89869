"""Tests of mmlib.metrics on data whose answer is known."""

import numpy as np
import pytest

from mmlib.linear import CCA
from mmlib.metrics import (
    canonical_correlations,
    linear_probe,
    paired_correlations,
    recall_at_k,
    total_correlation,
)

rng = np.random.default_rng(0)


def test_paired_correlations_on_known_data():
    t = np.linspace(0, 1, 50)
    noise = rng.normal(size=50)
    Z1 = np.column_stack([t, t, t, noise])
    Z2 = np.column_stack([3 * t + 1, -t, noise, noise * 2 - 5])
    out = paired_correlations(Z1, Z2)
    expected_third = np.corrcoef(t, noise)[0, 1]
    np.testing.assert_allclose(out, [1.0, -1.0, expected_third, 1.0], atol=1e-12)
    assert np.all(np.abs(out) <= 1.0)


def test_paired_correlations_of_a_constant_column_is_zero():
    Z1 = np.column_stack([np.ones(10), np.arange(10.0)])
    out = paired_correlations(Z1, Z1)
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_canonical_correlations_match_cca_and_total_is_their_sum():
    X = rng.normal(size=(300, 5))
    Y = X[:, :2] @ rng.normal(size=(2, 4)) + rng.normal(size=(300, 4))
    rho = canonical_correlations(X, Y)
    assert rho.shape == (4,)  # all min(5, 4) of them by default
    np.testing.assert_allclose(rho, CCA(n_components=4).fit([X, Y]).canonical_correlations_)
    assert rho[1] > 0.5 and rho[3] < 0.3  # two shared factors, then noise
    assert total_correlation(X, Y) == pytest.approx(rho.sum(), abs=1e-12)
    assert total_correlation(X, Y, n_components=2) == pytest.approx(rho[:2].sum(), abs=1e-12)
    ridge = canonical_correlations(X, Y, n_components=2, reg=0.5)
    assert np.all(ridge <= rho[:2] + 1e-12)


def test_linear_probe_separable_and_shuffled():
    rng = np.random.default_rng(1)
    n = 1500
    y = rng.integers(0, 3, size=n)
    centres = np.array([[0, 0], [6, 0], [0, 6]], dtype=float)
    Z = np.hstack([centres[y] + rng.normal(size=(n, 2)), rng.normal(size=(n, 3))])
    tr, te = slice(0, 1000), slice(1000, n)
    acc = linear_probe(Z[tr], y[tr], Z[te], y[te])
    assert acc > 0.95
    # labels shuffled independently of the features (train and test): chance, 1/3
    chance = linear_probe(Z[tr], rng.permutation(y[tr]), Z[te], rng.permutation(y[te]))
    assert abs(chance - 1 / 3) < 0.08
    assert linear_probe(Z[tr], y[tr], Z[te], y[te]) == acc  # deterministic
    names = np.array(["a", "b", "c"])[y]  # string labels work too
    assert linear_probe(Z[tr], names[tr], Z[te], names[te]) == acc


def test_recall_at_k():
    Q = rng.normal(size=(40, 8))
    assert recall_at_k(Q, Q, k=1) == 1.0
    assert recall_at_k(Q, 3.0 * Q, k=1) == 1.0  # cosine similarity ignores the scale
    shuffled = Q[rng.permutation(40)]
    assert recall_at_k(Q, shuffled, k=1) < 0.2
    assert recall_at_k(Q, shuffled, k=40) == 1.0
    # recall@k grows with k
    noisy = Q + 1.5 * rng.normal(size=Q.shape)
    r = [recall_at_k(Q, noisy, k=k) for k in (1, 5, 10)]
    assert r[0] <= r[1] <= r[2] and r[0] < 1.0
    # constant embeddings tie everywhere: ties count against the query
    const = np.ones((10, 3))
    assert recall_at_k(const, const, k=1) == 0.0


# ----------------------------------------------------------------------------------- bad input

A = rng.normal(size=(20, 3))
B = rng.normal(size=(20, 3))


@pytest.mark.parametrize(
    ("func", "args", "err", "match"),
    [
        (paired_correlations, (A, B[:10]), ValueError, r"Z1 has 20, Z2 has 10"),
        (paired_correlations, (A, B[:, :2]), ValueError, r"Z1 has 3, Z2 has 2"),
        (paired_correlations, (A[:, 0], B), ValueError, r"Z1 must be 2-D.*reshape"),
        (paired_correlations, (A, np.full((20, 3), np.nan)), ValueError, r"Z2 contains NaN"),
        (paired_correlations, (A[:1], B[:1]), ValueError, r"at least 2 samples"),
        (paired_correlations, (A, [["x"] * 3] * 20), TypeError, r"Z2 must contain numbers"),
        (canonical_correlations, (A, B[:10]), ValueError, r"\[X, Y\]\[0\] has 20"),
        (canonical_correlations, (A, B[:, 0]), ValueError, r"\[X, Y\]\[1\] must be 2-D"),
        (canonical_correlations, (A, np.full((20, 3), np.inf)), ValueError, r"contains NaN or inf"),
        (canonical_correlations, (A, B, 4), ValueError, r"n_components=4 is too large"),
        (canonical_correlations, (A, B, 1.5), TypeError, r"n_components must be an int"),
        (canonical_correlations, (A, B, None, -0.5), ValueError, r"reg must be in \[0, 1\)"),
        (total_correlation, (A, B[:5]), ValueError, r"\[X, Y\]\[0\] has 20, \[X, Y\]\[1\] has 5"),
        (total_correlation, (A, B, None, 1.0), ValueError, r"reg must be in \[0, 1\)"),
        (recall_at_k, (A, B[:10]), ValueError, r"query has 20, gallery has 10"),
        (recall_at_k, (A, B, 0), ValueError, r"k must be >= 1"),
        (recall_at_k, (A, B, 21), ValueError, r"k=21 is too large.*number of gallery items"),
        (recall_at_k, (A, B, 2.0), TypeError, r"k must be an int"),
        (recall_at_k, (A, np.full((20, 3), np.nan)), ValueError, r"gallery contains NaN"),
        (recall_at_k, (A[:, 0], B), ValueError, r"query must be 2-D"),
    ],
)
def test_bad_input_names_the_argument(func, args, err, match):
    with pytest.raises(err, match=match):
        func(*args)


def test_linear_probe_bad_input():
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=r"y_train has 19 labels but the features have 20"):
        linear_probe(A, y[:19], B, y)
    with pytest.raises(ValueError, match=r"y_test must be 1-D"):
        linear_probe(A, y, B, y[:, None])
    with pytest.raises(ValueError, match=r"Z_train has 3 features but Z_test has 2"):
        linear_probe(A, y, B[:, :2], y)
    with pytest.raises(ValueError, match=r"Z_test contains NaN"):
        linear_probe(A, y, np.full((20, 3), np.nan), y)
    with pytest.raises(ValueError, match=r"Z_train must be 2-D"):
        linear_probe(A[:, 0], y, B, y)
    with pytest.raises(ValueError, match=r"at least 2 classes"):
        linear_probe(A, np.zeros(20), B, y)
    with pytest.raises(ValueError, match=r"C must be > 0"):
        linear_probe(A, y, B, y, C=0.0)
    with pytest.raises(TypeError, match=r"Z_train must be an array of numbers"):
        linear_probe(None, y, B, y)


# ------------------------------------------------- issue 8: overflow, underflow, labels, ridge


@pytest.mark.parametrize("scale", [1e170, 1e-300, 1e300])
def test_metrics_do_not_depend_on_the_scale(scale):
    Z = rng.normal(size=(60, 3))
    W = Z + rng.normal(size=(60, 3))
    np.testing.assert_allclose(
        paired_correlations(Z * scale, W), paired_correlations(Z, W), atol=1e-12
    )
    assert recall_at_k(scale * Z, scale * Z) == 1.0
    assert recall_at_k(scale * Z, W) == recall_at_k(Z, W)
    np.testing.assert_allclose(
        canonical_correlations(Z * scale, W), canonical_correlations(Z, W), rtol=1e-10
    )
    y = (Z[:, 0] > 0).astype(int)
    acc = linear_probe(Z[:40], y[:40], Z[40:], y[40:])
    assert acc > 0.8
    assert linear_probe(Z[:40] * scale, y[:40], Z[40:] * scale, y[40:]) == acc


def test_a_column_constant_up_to_rounding_has_zero_correlation():
    Z = np.column_stack([np.full(30, 0.1), np.arange(30.0)])
    np.testing.assert_array_equal(paired_correlations(Z, Z[::-1]), [0.0, -1.0])


def test_canonical_correlations_use_the_additive_ridge_and_stay_below_one():
    h = rng.normal(size=(500, 3)) * [10.0, 1.0, 0.1]
    plain = canonical_correlations(h, h)
    for reg in (0.5, 0.9):
        rho = canonical_correlations(h, h, reg=reg)
        assert np.all(rho <= 1.0)
        # the additive ridge of identical views: singular values d / (d + lambda)
        C = np.cov(h.T)
        d = np.linalg.eigvalsh(C)[::-1]
        lam = reg / (1 - reg) * np.trace(C) / 3
        np.testing.assert_allclose(rho, d / (d + lam), atol=1e-10)
    np.testing.assert_allclose(plain, 1.0, atol=1e-10)


@pytest.mark.parametrize(
    ("y_train", "y_test", "err", "match"),
    [
        (np.arange(20) % 2, np.array(["a", "b"] * 10), TypeError, r"y_train holds numbers but"),
        (np.linspace(0, 1, 20), np.arange(20) % 2, ValueError, r"y_train holds continuous"),
        (np.arange(20) % 2, np.linspace(0, 1, 20), ValueError, r"y_test holds continuous"),
        (np.array([0, "a"] * 10, dtype=object), np.arange(20) % 2, TypeError, r"y_train must hold"),
        (np.full(20, 1 + 1j), np.arange(20) % 2, TypeError, r"y_train must hold class labels"),
    ],
)
def test_linear_probe_refuses_labels_sklearn_would_crash_on(y_train, y_test, err, match):
    with pytest.raises(err, match=match):
        linear_probe(A, y_train, B, y_test)


def test_linear_probe_accepts_a_class_with_one_member_and_float_class_labels():
    y = np.r_[np.zeros(19), 1.0]
    assert 0.0 <= linear_probe(A, y, B, y) <= 1.0
