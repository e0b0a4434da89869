r"""The views' sufficient statistics: count, mean and centred co-moment, merged chunk by chunk.

:class:`mmlib.CCA`, :class:`mmlib.GCCA` (``fit`` and ``partial_fit``) and their Dask map-reduce
(:mod:`mmlib._dask`) all reduce the data to these statistics; this module is what they share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg.blas

# views are scaled by 2**-e with |e| <= this before any product (about 1e-301 .. 1e301)
_MAX_EXPONENT = 1000


def _power_of_two_scale(view: np.ndarray, name: str) -> float:
    """``2**-e`` with ``max |view|`` in ``[0.5, 1) * 2**e``: exact, and no overflow in ``X^T X``."""
    top = max(float(np.max(view)), -float(np.min(view)))  # max |view|, without an abs() copy
    if top == 0.0:
        return 1.0
    exponent = int(np.frexp(top)[1])
    if abs(exponent) > _MAX_EXPONENT:
        raise ValueError(
            f"{name} has values of magnitude {top:.3g}, too close to the limits of float64 to "
            "compute covariances and weights; multiply it by a constant (the result is "
            "invariant to the scale of a view)"
        )
    return float(np.ldexp(1.0, -exponent))


class _MomentAccumulator:
    r"""Count, mean and centred co-moment matrix of the concatenated views, merged chunk by chunk.

    The merge of two chunks ``a`` and ``b`` is the pairwise update of Chan, Golub & LeVeque (1979):

    .. math:: \delta = \bar x_b - \bar x_a,\quad n = n_a + n_b,\quad
              \bar x = \bar x_a + \delta\, n_b / n,\quad
              M = M_a + M_b + \delta \delta^\top n_a n_b / n,

    where :math:`M = \sum_i (x_i - \bar x)(x_i - \bar x)^\top`. It never subtracts large raw sums,
    so it is as accurate as centring all the data at once. Memory: ``O(D^2)``, ``D = sum d_j``.

    View ``j`` is accumulated multiplied by ``scales[j]``, a power of two fixed by the first chunk
    (see :func:`_power_of_two_scale`): ``mean`` and ``comoment`` are those of the scaled views,
    :meth:`means` gives the means in the views' own units.
    """

    def __init__(self, n_features: Sequence[int]):
        self.n_features = [int(d) for d in n_features]
        dim = sum(self.n_features)
        self.n = 0
        self.mean = np.zeros(dim)
        self.comoment = np.zeros((dim, dim))
        self.scales: list[float] | None = None

    # rows per block when forming the co-moment: the centred block (about 1 MiB) stays in the
    # CPU cache between being written and being multiplied, so the data are read from memory
    # once; at least 256 rows, so each product still does enough work per block
    block_bytes = 2**20
    min_block_rows = 256
    # from this many features on, syrk adds each block into one matrix (no (D, D) temporary per
    # block); below, ``M += B.T @ B`` is as fast (the temporary is small) and is kept
    syrk_min_dim = 256

    def update(self, views: Sequence[np.ndarray]) -> None:
        if self.scales is None:
            self.scales = [_power_of_two_scale(v, f"views[{j}]") for j, v in enumerate(views)]
        with np.errstate(over="ignore", invalid="ignore"):  # checked on merging, with a message
            # c (x - mean) = c x - c mean, exactly (c is a power of two): scaled, then centred
            means = [v.mean(axis=0) * c for v, c in zip(views, self.scales, strict=True)]
            M_b = self._centred_gram(views, means)
        self._merge_moments(views[0].shape[0], np.concatenate(means), M_b)

    def _centred_gram(self, views: Sequence[np.ndarray], means: list[np.ndarray]) -> np.ndarray:
        """``sum_i (c x_i - c mean)(c x_i - c mean)^T`` over the rows, block by block.

        BLAS ``syrk`` adds each block's product into the upper triangle of one ``(D, D)``
        matrix in place (``beta = 1``): no ``(n, D)`` centred copy, no ``(D, D)`` temporary
        per block, and half the multiplications of a general product. Mirrored once at the end.
        Under ``syrk_min_dim`` features, ``M += block.T @ block``.
        """
        n_b, dim = views[0].shape[0], sum(self.n_features)
        rows = max(1, min(n_b, max(self.min_block_rows, self.block_bytes // (8 * dim))))
        buffer = np.empty((rows, dim))  # reused: no (n, D) centred copy is ever made
        in_place = dim >= self.syrk_min_dim
        M = np.zeros((dim, dim), order="F" if in_place else "C")  # F: syrk writes in place
        parts = list(zip(views, means, self.scales, self.slices(), strict=True))
        for start in range(0, n_b, rows):
            block = buffer[: min(rows, n_b - start)]
            for v, mu, c, s in parts:
                part = block[:, s]
                np.multiply(v[start : start + block.shape[0]], c, out=part)
                part -= mu
            if in_place:  # block.T is (D, rows), Fortran-contiguous: A A^T without a copy
                M = scipy.linalg.blas.dsyrk(1.0, block.T, beta=1.0, c=M, overwrite_c=1)
            else:
                M += block.T @ block
        if not in_place:
            return M
        full = M + M.T  # the lower triangle is still zero: exact off the diagonal
        np.fill_diagonal(full, np.diagonal(M))
        return full

    def merge(self, other: _MomentAccumulator) -> None:
        """Add another accumulator's samples (same views and features): Chan et al.'s update.

        ``other``'s statistics are first brought to this accumulator's scales; both are powers
        of two, so the conversion is exact.
        """
        if other.n == 0:
            return
        if self.scales is None:
            self.scales = list(other.scales)
        ratio = np.concatenate(
            [
                np.full(d, a / b)
                for d, a, b in zip(self.n_features, self.scales, other.scales, strict=True)
            ]
        )
        with np.errstate(over="ignore", invalid="ignore"):
            mean_b, M_b = other.mean * ratio, other.comoment * np.outer(ratio, ratio)
        self._merge_moments(other.n, mean_b, M_b)

    def _merge_moments(self, n_b: int, mean_b: np.ndarray, M_b: np.ndarray) -> None:
        if self.n == 0:
            n, mean, comoment = n_b, mean_b, M_b
        else:
            n = self.n + n_b
            with np.errstate(over="ignore", invalid="ignore"):
                delta = mean_b - self.mean
                mean = self.mean + delta * (n_b / n)
                comoment = self.comoment + M_b + np.outer(delta, delta) * (self.n * n_b / n)
        if not (np.isfinite(comoment).all() and np.isfinite(mean).all()):
            raise ValueError(
                "views overflow float64 in the covariance: this chunk's values are far larger "
                "than the first chunk's (which set the scale); scale the data consistently"
            )
        self.n, self.mean, self.comoment = n, mean, comoment

    def covariance(self) -> np.ndarray:
        """The ``(D, D)`` sample covariance (``1 / (n - 1)``), exactly symmetric."""
        C = self.comoment / (self.n - 1)
        return 0.5 * (C + C.T)

    def slices(self) -> list[slice]:
        """Where each view's features sit in the concatenation."""
        ends = np.cumsum([0, *self.n_features])
        return [slice(int(a), int(b)) for a, b in zip(ends[:-1], ends[1:], strict=True)]

    def means(self) -> list[np.ndarray]:
        """The views' means in their own units."""
        return [self.mean[s] / c for s, c in zip(self.slices(), self.scales, strict=True)]
