"""The linear peers: how each implementation is fitted, scored and what it reports.

Every implementation fits ``K`` components of the same seeded data (:mod:`benchmarks.synthetic`);
:func:`values_from_scores` turns its own training scores into canonical correlations (CCA) or
MAXVAR eigenvalues (GCCA), so that all are compared with the exact QR reference
(:mod:`benchmarks.reference`) on the same footing.
"""

from __future__ import annotations

import numpy as np

from benchmarks.synthetic import RHO

K = len(RHO)  # components compared: the k correlated directions of the synthetic data
SKIP_SECONDS = 60.0  # a peer whose time, extrapolated in n, would exceed this is skipped
ERROR_GOAL = 1e-12
PACKAGES = ["mmlib", "numpy", "scipy", "scikit-learn", "cca-zoo", "mvlearn"]


def _mmlib_cca(views, k):
    from mmlib.linear import CCA

    return CCA(n_components=k).fit(views[:2])


def _sklearn_cca(views, k):
    from sklearn.cross_decomposition import CCA

    return CCA(n_components=k).fit(views[0], views[1])  # defaults: max_iter=500, tol=1e-06


def _cczoo_cca(views, k):
    from cca_zoo.linear import CCA

    return CCA(n_components=k).fit(views[:2])


def _mvlearn_compat() -> None:
    """Let mvlearn 0.5.0 run under scikit-learn >= 1.6, without touching its arithmetic.

    scikit-learn 1.6 reads estimator tags through ``__sklearn_tags__``, which needs
    ``BaseEstimator`` to the right of the mixins in the class bases. mvlearn's ``BaseCCA`` lists
    ``(BaseEstimator, TransformerMixin)`` and its ``SimpleSplitter`` has no ``BaseEstimator`` at all,
    so every ``check_is_fitted`` fails with "'super' object has no attribute '__sklearn_tags__'".
    Reordering the bases (the only change) fixes the tags; no method of mvlearn is replaced.
    """
    from mvlearn.compose import split
    from mvlearn.embed import base
    from sklearn.base import BaseEstimator, TransformerMixin

    base.BaseCCA.__bases__ = (TransformerMixin, BaseEstimator)
    split.SimpleSplitter.__bases__ = (TransformerMixin, BaseEstimator)


def _mvlearn_cca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import CCA

    return CCA(n_components=k).fit(views[:2])


def _mmlib_gcca(views, k):
    from mmlib.linear import GCCA

    return GCCA(n_components=k).fit(views)


def _cczoo_gcca(views, k):
    from cca_zoo.linear import GCCA

    return GCCA(n_components=k).fit(views)


def _cczoo_mcca(views, k):
    from cca_zoo.linear import MCCA

    return MCCA(n_components=k).fit(views)


def _mvlearn_mcca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import MCCA

    return MCCA(n_components=k).fit(views)


def _mvlearn_gcca(views, k):
    _mvlearn_compat()
    from mvlearn.embed import GCCA

    # sv_tolerance keeps every direction of every view (full rank): the same problem as the
    # others; the default picks a per-view rank by an elbow rule (a different problem).
    return GCCA(sv_tolerance=1e-8).fit(views)


def _scores_list(est, views):
    return est.transform(views)


IMPLEMENTATIONS: dict[str, dict] = {
    # problem "cca": uses views[:2]; values = canonical correlations
    "mmlib CCA": {
        "problem": "cca",
        "fit": _mmlib_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": lambda est: est.canonical_correlations_,
        "note": "Cholesky whitening + top-k SVD of the covariances",
    },
    "scikit-learn CCA": {
        "problem": "cca",
        "fit": _sklearn_cca,
        "scores": lambda est, v: list(est.transform(v[0], v[1])),
        "reported": None,
        "note": "iterative (NIPALS), defaults max_iter=500, tol=1e-06",
    },
    "cca-zoo CCA": {
        "problem": "cca",
        "fit": _cczoo_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": None,
        "note": "whitening (SVD of each view) + SVD",
    },
    "mvlearn CCA": {
        "problem": "cca",
        "fit": _mvlearn_cca,
        "scores": lambda est, v: est.transform(v[:2]),
        "reported": None,
        "note": "generalized eigenproblem; scikit-learn >= 1.6 shim",
    },
    # problem "gcca": all views; values = MAXVAR eigenvalues of sum_j P_j
    "mmlib GCCA": {
        "problem": "gcca",
        "fit": _mmlib_gcca,
        "scores": lambda est, v: est.transform_views(v),
        "reported": lambda est: est.eigenvalues_,
        "note": "top-k eigh of the D x D whitened covariance",
    },
    "cca-zoo GCCA": {
        "problem": "gcca",
        "fit": _cczoo_gcca,
        "scores": _scores_list,
        "reported": None,
        "note": "SVD of the n x D stacked whitened views",
    },
    "cca-zoo MCCA": {
        "problem": "gcca",
        "fit": _cczoo_mcca,
        "scores": _scores_list,
        "reported": None,
        "note": "PCA of each view + generalized eigenproblem",
    },
    "mvlearn MCCA": {
        "problem": "gcca",
        "fit": _mvlearn_mcca,
        "scores": _scores_list,
        "reported": lambda est: est.evals_,
        "note": "generalized eigenproblem; scikit-learn >= 1.6 shim",
    },
    "mvlearn GCCA": {
        "problem": "gcca",
        "fit": _mvlearn_gcca,
        "scores": None,  # per-view scores are normalised view by view: no eigenvalue in them
        "reported": None,
        "note": "SVD of each view + svds of the stacked bases; sv_tolerance=1e-8; scikit-learn >= 1.6 shim",
    },
}


def values_from_scores(problem: str, scores: list[np.ndarray], k: int) -> np.ndarray:
    """Canonical correlations (CCA) or MAXVAR eigenvalues (GCCA) implied by training scores.

    CCA: the correlation of each pair of variates. GCCA: an exact MAXVAR solution has view
    scores ``z_j = c P_j g`` (``g`` a unit eigenvector of ``M = sum_j P_j``, the same ``c`` for
    every view), so ``sum_j z_j = c M g = c lambda g`` and ``sum_j |z_j|^2 = c^2 lambda``: the
    eigenvalue is ``|sum_j z_j|^2 / sum_j |z_j|^2``, whatever the implementation's scaling.
    """
    Z = [np.asarray(z, dtype=np.float64)[:, :k] for z in scores]
    Z = [z - z.mean(axis=0) for z in Z]
    if problem == "cca":
        a, b = Z
        return np.abs((a * b).sum(0) / np.sqrt((a * a).sum(0) * (b * b).sum(0)))
    total = sum(Z)
    return (total * total).sum(0) / sum((z * z).sum(0) for z in Z)
