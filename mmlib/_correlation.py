"""Pearson correlation of paired columns, the score of CCA's variates.

Its own module so that :mod:`mmlib.linear` (``CCA.score``) and :mod:`mmlib.metrics` (which
re-exports :func:`paired_correlations` and builds on :class:`mmlib.CCA`) both import it without
importing each other.
"""

from __future__ import annotations

import numpy as np

from mmlib._checks import check_array, unit_scale

__all__ = ["paired_correlations"]


def _check_pair(Z1, Z2, names: tuple[str, str], same_width: bool) -> tuple[np.ndarray, np.ndarray]:
    Z1 = check_array(Z1, name=names[0])
    Z2 = check_array(Z2, name=names[1])
    if Z1.shape[0] != Z2.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of samples (rows, paired): "
            f"{names[0]} has {Z1.shape[0]}, {names[1]} has {Z2.shape[0]}"
        )
    if same_width and Z1.shape[1] != Z2.shape[1]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of columns: "
            f"{names[0]} has {Z1.shape[1]}, {names[1]} has {Z2.shape[1]}"
        )
    return Z1, Z2


def paired_correlations(Z1, Z2) -> np.ndarray:
    r"""Pearson correlation of each pair of columns: corr(Z1[:, i], Z2[:, i]) for every i.

    Parameters
    ----------
    Z1, Z2 : array-like (n, k)
        Paired samples (rows), e.g. the canonical variates of two views; ``n >= 2``.

    Returns
    -------
    ndarray (k,)
        Correlations in [-1, 1]. A column that is constant (to rounding) has no correlation with
        anything; its entry is 0. Each column is scaled to a largest magnitude near 1 first, so
        the result does not depend on the columns' scales (1e170 or 1e-300 included).
    """
    Z1, Z2 = _check_pair(Z1, Z2, ("Z1", "Z2"), same_width=True)
    n = Z1.shape[0]
    if n < 2:
        raise ValueError(f"correlations need at least 2 samples (rows), got {n}")
    Z1, Z2 = unit_scale(Z1, axis=0), unit_scale(Z2, axis=0)
    A = Z1 - Z1.mean(axis=0)
    B = Z2 - Z2.mean(axis=0)
    ss_a, ss_b = (A * A).sum(axis=0), (B * B).sum(axis=0)
    norms = np.sqrt(ss_a * ss_b)
    cov = (A * B).sum(axis=0)
    # a column whose spread is at the level of the rounding of its mean is constant
    floor = (4 * n * np.finfo(np.float64).eps) ** 2 * n
    positive = (ss_a > floor * np.max(Z1 * Z1, axis=0)) & (ss_b > floor * np.max(Z2 * Z2, axis=0))
    out = np.zeros(Z1.shape[1])
    out[positive] = cov[positive] / norms[positive]
    return np.clip(out, -1.0, 1.0)
