r"""Independent float64 references: canonical correlations and GCCA eigenvalues from QR factors.

No covariance matrix is formed, so the reference does not share the normal-equations path of
the solvers it checks (Björck & Golub, 1973):

* CCA: with ``X - mean = Q_x R_x`` and ``Y - mean = Q_y R_y`` (thin QR), the canonical
  correlations are the singular values of :math:`Q_x^\top Q_y`.
* GCCA (MAXVAR): the views' projectors are :math:`P_j = Q_j Q_j^\top`, and the eigenvalues of
  :math:`\sum_j P_j = [Q_1 \dots Q_J][Q_1 \dots Q_J]^\top` are the squared singular values of
  the ``n x sum(d_j)`` matrix :math:`[Q_1 \dots Q_J]`.

Both need full column rank views (true for the benchmark's data).

Björck, A. and Golub, G. H. (1973). Numerical methods for computing angles between linear
subspaces. Mathematics of Computation 27, 579-594.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _orthonormal_basis(X: np.ndarray) -> np.ndarray:
    Xc = np.asarray(X, dtype=np.float64)
    Xc = Xc - Xc.mean(axis=0)
    q, _ = np.linalg.qr(Xc, mode="reduced")
    return q


def cca_correlations(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """All canonical correlations of ``X`` and ``Y``, descending."""
    qx = _orthonormal_basis(X)
    qy = _orthonormal_basis(Y)
    return np.linalg.svd(qx.T @ qy, compute_uv=False)


def gcca_eigenvalues(views: Sequence[np.ndarray]) -> np.ndarray:
    """All nonzero eigenvalues of the sum of the views' projectors, descending.

    ``[Q_1 ... Q_J]`` is filled in place and its SVD overwrites it, so that a million-row
    reference fits in memory beside the data.
    """
    import scipy.linalg

    n = views[0].shape[0]
    stacked = np.empty((n, sum(X.shape[1] for X in views)))
    start = 0
    for X in views:
        stacked[:, start : start + X.shape[1]] = _orthonormal_basis(X)
        start += X.shape[1]
    s = scipy.linalg.svd(stacked, compute_uv=False, overwrite_a=True, check_finite=False)
    return s**2
