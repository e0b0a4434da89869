"""Data set of the fusion chapter: a label that only an interaction between modalities predicts.

=================================  =====================================================
function                           what the book uses it for
=================================  =====================================================
:func:`make_multiplicative_views`  additive fusion fails, tensor and low-rank fusion work
=================================  =====================================================
"""

from __future__ import annotations

import math

import numpy as np

from mmlib._checks import check_positive_float, check_positive_int, check_random_state
from mmlib.datasets._base import MultiViewDataset

__all__ = ["make_multiplicative_views"]


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[float])
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0)))


def make_multiplicative_views(
    n_samples: int = 2000,
    n_features: int = 8,
    n_modalities: int = 2,
    rank: int = 3,
    noise: float = 0.3,
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Gaussian modalities whose binary label is the sign of a multiplicative interaction.

    Each modality :math:`x_m \in \mathbb R^d` is standard normal, independent of the others. For
    each modality a random matrix :math:`U_m \in \mathbb R^{d \times K}` with orthonormal columns
    picks :math:`K` = ``rank`` directions, and

    .. math::
       s = \frac{1}{\sqrt K} \sum_{k=1}^{K} \prod_{m=1}^{M} \langle u_{m,k}, x_m \rangle,
       \qquad y = \mathbb 1\big[s + \sigma \varepsilon > 0\big],
       \quad \varepsilon \sim \mathcal N(0, 1).

    For two modalities :math:`s = x_1^\top U_1 U_2^\top x_2 / \sqrt K` is a bilinear form of
    rank :math:`K`: a tensor fusion represents it exactly, a low-rank fusion needs rank
    :math:`\ge K` (one logit).

    Statistics (exact, for the population):

    - :math:`\operatorname{var}(s) = 1` and :math:`P(y = 1) = 1/2`.
    - **No modality, and no proper subset of modalities, says anything about y**: flipping the
      sign of one missing modality flips :math:`s` and leaves the distribution unchanged, so
      :math:`P(y = 1 \mid x_S) = 1/2` for every :math:`S` that misses a modality.
    - **No additive function carries signal**: :math:`E[2y - 1 \mid x]` is odd in each
      :math:`x_m`, so its projection onto functions :math:`\sum_m g_m(x_m)` is zero: the best
      additive predictor in the least-squares sense is the constant.
    - The Bayes accuracy is :math:`E[\Phi(|s| / \sigma)]` (1 without noise); ``extras`` holds
      its estimate on the sample.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of samples (at least 2).
    n_features : int, default=8
        Width :math:`d` of every modality (at least ``rank``).
    n_modalities : int, default=2
        Number of modalities :math:`M \ge 2`.
    rank : int, default=3
        Number :math:`K` of product terms.
    noise : float >= 0, default=0.3
        Standard deviation :math:`\sigma` of the noise added to :math:`s` before the sign.
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data.

    Returns
    -------
    MultiViewDataset
        ``views`` M arrays (n, d), ``y`` (n,) in {0, 1}, ``extras``: ``"score"`` (n,) the
        noise-free :math:`s`, ``"directions"`` the list of :math:`U_m`, ``"bayes_accuracy"``
        the mean of :math:`\Phi(|s| / \sigma)` over the sample.

    Examples
    --------
    >>> ds = make_multiplicative_views(1000, random_state=0)
    >>> ds.n_views, ds.n_features, sorted(set(ds.y.tolist()))
    (2, [8, 8], [0, 1])
    """
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    d = check_positive_int(n_features, "n_features")
    n_modalities = check_positive_int(n_modalities, "n_modalities", minimum=2)
    rank = check_positive_int(rank, "rank")
    if rank > d:
        raise ValueError(f"rank must be <= n_features = {d}, got {rank}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)

    directions = [
        np.linalg.qr(rng.standard_normal((d, d)))[0][:, :rank] for _ in range(n_modalities)
    ]
    views = [rng.standard_normal((n, d)) for _ in range(n_modalities)]
    projections = np.prod([x @ u for x, u in zip(views, directions, strict=True)], axis=0)
    score = projections.sum(axis=1) / math.sqrt(rank)
    y = (score + noise * rng.standard_normal(n) > 0).astype(np.int64)
    bayes = 1.0 if noise == 0 else float(_normal_cdf(np.abs(score) / noise).mean())
    return MultiViewDataset(
        views=views,
        y=y,
        view_names=[f"modality_{m}" for m in range(n_modalities)],
        description=(
            f"{n_modalities} Gaussian modalities of width {d}; y = sign of a sum of {rank} "
            f"products of one projection per modality, plus noise (sd {noise:g}).\n"
            "No modality alone and no additive combination predicts y; their product does."
        ),
        extras={"score": score, "directions": directions, "bayes_accuracy": bayes},
        name="multiplicative_views",
        sample_extras=("score",),
    )
