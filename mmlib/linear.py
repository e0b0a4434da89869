r"""Linear multiview methods: canonical correlation analysis (CCA) and generalized CCA (GCCA).

Both estimators reduce the data to the same sufficient statistics, the sample count, the mean and
the centred co-moment matrix of the concatenated views, so that ``fit`` and ``partial_fit`` (chunks
of samples) share one code path and no ``n x n`` matrix is ever formed.

**Conventions.**

* Views are arrays of shape ``(n_samples, n_features_j)``, samples as rows, computed in float64.
* Covariances use ``1 / (n - 1)``:
  :math:`C_{ij} = \tfrac{1}{n-1} (X_i - \bar x_i)^\top (X_j - \bar x_j)`.
* **The ridge** ``reg = r`` is dimensionless, one number in ``[0, 1)`` (or one per view), and
  it is the same in every mmlib estimator and loss, linear and deep. View ``j``'s covariance
  gets an additive ridge proportional to its average variance,

  .. math:: C_{jj} + \lambda_j I, \qquad
            \lambda_j = \frac{r_j}{1 - r_j}\, \frac{\operatorname{tr} C_{jj}}{d_j},

  which is the shrinkage :math:`(1 - r_j) C_{jj} + r_j (\operatorname{tr} C_{jj}/d_j) I`
  divided by :math:`1 - r_j`: the same directions, but a matrix never smaller than
  :math:`C_{jj}`. So multiplying a view by a constant changes nothing; ``reg = 0`` is plain CCA
  and ``reg -> 1`` ignores the within-view correlations (partial least squares-like directions).
  The correlations CCA reports are the singular values of

  .. math:: K = (C_{xx} + \lambda_x I)^{-1/2}\, C_{xy}\, (C_{yy} + \lambda_y I)^{-1/2},

  which never exceed 1 whatever the ridge (they are the shrinkage values times
  :math:`\sqrt{(1 - r_x)(1 - r_y)}`, and equal the actual training correlations when
  ``reg = 0``). GCCA uses the same :math:`C_{jj} + \lambda_j I`, a ridge regression of ``G`` on
  each view, so its eigenvalues never exceed the number of views. ``mmlib.losses`` (Deep CCA,
  Deep GCCA) uses the same convention on each mini-batch.
* **Rank.** A direction in which a view has no variance carries no correlation: eigen-directions
  of the *unregularised* :math:`C_{jj}` with eigenvalue ``<= tol * largest`` are dropped (with or
  without ridge), results stay finite, and at most ``min`` of the views' ranks (each at most
  ``min(n_samples - 1, n_features)``) components can be asked for: a larger ``n_components`` is
  a ``ValueError`` rather than components with invented correlations.
* **Scale.** Each view is multiplied by a power of two that brings its largest absolute value
  near 1 before any product is formed (an exact operation), so views of magnitude ``1e170`` or
  ``1e-300`` neither overflow nor underflow; views beyond about ``1e±300`` are refused.

References
----------
Hotelling, H. (1936). Relations between two sets of variates. Biometrika 28, 321-377.
Kettenring, J. R. (1971). Canonical analysis of several sets of variables. Biometrika 58, 433-451.
Chan, T. F., Golub, G. H., LeVeque, R. J. (1979). Updating formulae and a pairwise algorithm for
computing sample variances. Technical report STAN-CS-79-773, Stanford University.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

from mmlib import _dask
from mmlib._checks import (
    check_array,
    check_fraction,
    check_is_fitted,
    check_n_components,
    check_n_features,
    check_positive_int,
    check_reg,
    check_views,
)
from mmlib._correlation import paired_correlations
from mmlib._moments import _MomentAccumulator, _power_of_two_scale  # noqa: F401 (old home)
from mmlib._params import ParamsMixin

__all__ = ["CCA", "GCCA"]


# ----------------------------------------------------------------------------------------------
# shared numerical pieces
# ----------------------------------------------------------------------------------------------


# Below this size the full decompositions (all eigenvectors, the whole SVD) take microseconds:
# they are kept, rounding for rounding, and the faster routes below start from this size.
_FAST_FROM = 32


def _default_tol(dim: int) -> float:
    """Relative eigenvalue floor: eigenvalues below ``tol * largest`` count as zero."""
    return 100.0 * max(dim, 1) * np.finfo(np.float64).eps


def _ridge_shift(C: np.ndarray, reg: float) -> float:
    r"""The additive ridge :math:`\lambda = \frac{r}{1 - r} \operatorname{tr} C / d` (scale-free)."""
    if reg == 0.0:
        return 0.0
    return reg / (1.0 - reg) * float(np.trace(C)) / C.shape[0]


def _inv_sqrt_factor(C: np.ndarray, tol: float, shift: float = 0.0) -> np.ndarray:
    r"""Whitening factor ``E``, shape ``(d, rank)``, with :math:`E E^\top = (C + \lambda I)^{-1}`
    on the range of ``C``.

    The rank is that of the *unregularised* ``C``: eigenvalues ``> tol * largest``, and
    ``lambda = shift`` the additive ridge. With ``lambda = 0``, ``E.T @ C @ E = I_rank``.
    Directions in which the data have no variance are dropped, with or without ridge: they
    carry no correlation, and keeping them would let rounding noise pose as one.

    A full-rank ``C`` of at least 32 features (the usual case) is whitened by its Cholesky
    factor, ``E = L^{-T}`` with :math:`L L^\top = C + \lambda I`: the eigenvalues alone decide
    the rank, and skipping the eigenvectors makes this several times cheaper. A rank-deficient
    ``C`` keeps the eigenvectors, :math:`E = V_r (\Lambda_r + \lambda I)^{-1/2}`. Any ``E``
    with the property above gives the same correlations, weights and ``G``.
    """
    if C.shape[0] >= _FAST_FROM:
        E = _cholesky_factor(C, tol, shift)
        if E is not None:
            return E
    w, V = np.linalg.eigh(C)
    w, V = w[::-1], V[:, ::-1]  # descending
    if not w.size or w[0] <= 0.0:  # a constant view: nothing to whiten
        return np.zeros((C.shape[0], 0))
    keep = w > tol * w[0]
    return V[:, keep] / np.sqrt(w[keep] + shift)


def _cholesky_factor(C: np.ndarray, tol: float, shift: float) -> np.ndarray | None:
    r"""``L^{-T}`` with ``L L^T = C + shift I`` when ``C`` has full rank (else None), ``(d, d)``.

    Full rank means every eigenvalue of ``C`` above ``tol`` times the largest. Without ridge the
    factor itself shows it in the usual, well-conditioned case, for free:
    :math:`\lambda_{min} \ge 1 / \operatorname{tr} C^{-1} = 1 / \lVert L^{-1} \rVert_F^2` and
    :math:`\lambda_{max} \le \operatorname{tr} C`. Otherwise the eigenvalues decide.
    """
    eye = np.eye(C.shape[0])
    inverse = None
    if shift == 0.0:
        inverse = _inverse_cholesky(C, eye)
        if inverse is not None and 1.0 / np.sum(inverse * inverse) > tol * np.trace(C):
            return inverse.T
    w = np.linalg.eigvalsh(C)  # ascending; no eigenvectors: the cheap part of eigh
    if not w.size or not w[0] > tol * w[-1] or w[-1] <= 0.0:
        return None  # rank-deficient or constant: the eigenvector route decides what to keep
    if inverse is None:
        inverse = _inverse_cholesky(C + shift * eye, eye)
    return None if inverse is None else inverse.T


def _inverse_cholesky(S: np.ndarray, eye: np.ndarray) -> np.ndarray | None:
    """``L^{-1}`` for the Cholesky factor ``L`` of ``S``; None where the factorisation fails."""
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:  # not positive definite to rounding: at the rank threshold
        return None
    inverse = scipy.linalg.solve_triangular(L, eye, lower=True, check_finite=False)
    return inverse if np.isfinite(inverse).all() else None


def _top_eigh(S: np.ndarray, k: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenpairs of symmetric ``S`` (upper triangle read), descending.

    All of them when ``k`` is None or not below the size, or ``S`` is small (``d < 32``,
    where ``S`` is first mirrored from its upper triangle). Only ``k`` eigenvectors are
    computed otherwise (LAPACK ``syevr``): the cost of the full decomposition is mostly its
    ``d`` eigenvectors, of which GCCA and CCA keep ``k``.
    """
    d = S.shape[0]
    if d < _FAST_FROM:
        lam, V = np.linalg.eigh(np.triu(S) + np.triu(S, 1).T)
    elif k is None or k >= d:
        lam, V = np.linalg.eigh(S, UPLO="U")
    else:
        lam, V = scipy.linalg.eigh(
            S, lower=False, subset_by_index=(d - k, d - 1), driver="evr", check_finite=False
        )
    return lam[::-1], V[:, ::-1]


def _top_svd(K: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` largest singular triplets ``(U, s, Vt)`` of ``K``, like ``np.linalg.svd``'s.

    For ``k`` below the smaller side (itself at least 32), with ``K`` wide (else its
    transpose): the top ``k`` eigenvectors ``U`` of ``K K^T`` span the top left singular
    subspace, and the SVD of the thin ``K^T U`` (Rayleigh-Ritz) gives the singular values to
    rounding, not to the square root of it as ``sqrt`` of the eigenvalues of ``K K^T`` would.
    Several times cheaper than the full SVD when ``k`` is small.
    """
    if k >= min(K.shape) or min(K.shape) < _FAST_FROM:
        U, s, Vt = np.linalg.svd(K, full_matrices=False)
        return U[:, :k], s[:k], Vt[:k]
    if K.shape[0] > K.shape[1]:
        V, s, Ut = _top_svd(K.T, k)
        return Ut.T, s, V.T
    _, U = _top_eigh(K @ K.T, k)
    P, s, Qt = np.linalg.svd(K.T @ U, full_matrices=False)  # K^T (U Q) = P diag(s)
    return U @ Qt.T, s, P.T


def _fix_signs(columns: np.ndarray) -> np.ndarray:
    """Signs (+1/-1) that make the largest-magnitude entry of each column positive."""
    idx = np.argmax(np.abs(columns), axis=0)
    signs = np.sign(columns[idx, np.arange(columns.shape[1])])
    signs[signs == 0] = 1.0
    return signs


def _check_tol(tol, dim: int) -> float:
    if tol is None:
        return _default_tol(dim)
    return check_fraction(tol, "tol", low_inclusive=False, high_inclusive=False)


class _LinearMultiview(ParamsMixin):
    """What CCA and GCCA share: parameters, validation, the accumulator and partial_fit.

    ``get_params``/``set_params`` follow scikit-learn, so ``sklearn.base.clone`` and grid
    searches work; the class does not inherit ``BaseEstimator`` because its ``fit`` takes a list
    of views rather than ``X, y``.
    """

    _min_views = 2
    _max_views: int | None = None
    _solved = ("weights_",)

    def __init__(self, n_components: int | None = 2, reg: float | Sequence[float] = 0.0, tol=None):
        self.n_components = n_components
        self.reg = reg
        self.tol = tol

    def _validate(self, views) -> list[np.ndarray]:
        if _dask.any_dask(views):  # lazy views: checked by their metadata, read block by block
            return _dask.check_dask_views(
                views, min_views=self._min_views, max_views=self._max_views
            )
        return check_views(views, min_views=self._min_views, max_views=self._max_views)

    def _accumulate(self, views: list[np.ndarray], reset: bool) -> None:
        if reset or not hasattr(self, "_stats"):
            self._stats = _MomentAccumulator([v.shape[1] for v in views])
        else:
            check_n_features(views, self._stats.n_features)
        if _dask.any_dask(views):
            self._stats.merge(_dask.moments(views))  # map-reduce where the chunks live
        else:
            self._stats.update(views)
        self.n_features_in_ = list(self._stats.n_features)
        self.n_samples_seen_ = self._stats.n
        self.means_ = self._stats.means()

    def _forget_solution(self) -> None:
        for name in (*self._solved, "G_"):
            if hasattr(self, name):
                delattr(self, name)

    def _fit(self, views, strict: bool):
        views = self._validate(views)
        if self.n_components is not None:
            check_positive_int(self.n_components, "n_components")
        reg = check_reg(self.reg, len(views))
        _check_tol(self.tol, 1)
        if strict and views[0].shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples (rows) to estimate covariances, "
                f"got {views[0].shape[0]}"
            )
        self._accumulate(views, reset=strict)
        self._forget_solution()
        if self._stats.n < 2:
            return views
        self._solve(reg, strict=strict)
        return views

    def partial_fit(self, views, y=None):
        """Add a chunk of paired samples and update the solution.

        The chunk's count, mean and centred co-moment matrix are merged into the running ones with
        the pairwise update of Chan et al. (1979), then the small ``D x D`` problem is solved again
        (``D = sum d_j``). Fitting chunk by chunk gives the same result as ``fit`` on all rows (to
        rounding). The solution is available as soon as the statistics support ``n_components``
        (at least 2 samples and enough rank); until then the estimator stays unfitted and the
        statistics keep accumulating. Calling ``fit`` starts over.

        Parameters
        ----------
        views : list of array-like, each (n_chunk, d_j)
            A chunk of samples, same views and features as the previous chunks.
        y : ignored

        Returns
        -------
        self
        """
        self._fit(views, strict=False)
        return self

    def _resolve_n_components(self, max_k: int, strict: bool, reason: str) -> int | None:
        """The number of components to keep, or None when partial_fit must wait for more data."""
        if max_k == 0:
            if strict:
                raise ValueError(
                    f"{type(self).__name__} found no direction to fit: a view has zero variance "
                    "(all its rows are equal)"
                )
            return None
        if self.n_components is None:
            return max_k
        if not strict and self.n_components > max_k:
            return None  # partial_fit: not enough data yet for n_components
        return check_n_components(self.n_components, max_k, reason=reason)

    def _transform_views_centred(self, views) -> list[np.ndarray | None]:
        """The views minus the training means; a ``None`` slot (a missing view) stays ``None``."""
        check_is_fitted(self, "weights_")
        if isinstance(views, (list, tuple)) and any(v is None for v in views):
            return self._centred_with_missing(views)
        views = self._validate(views)
        check_n_features(views, self.n_features_in_)
        return [v - m for v, m in zip(views, self.means_, strict=True)]

    def _centred_with_missing(self, views) -> list[np.ndarray | None]:
        """Each present view checked and centred on its own: each view's code needs only it."""
        n_views = len(self.n_features_in_)
        if len(views) != n_views:
            raise ValueError(
                f"views has {len(views)} views but the estimator was fitted on {n_views}"
            )
        present = [j for j, v in enumerate(views) if v is not None]
        if not present:
            raise ValueError("views holds None in every slot: pass at least one view")
        out: list[np.ndarray | None] = [None] * n_views
        for j in present:
            X = views[j]
            if not _dask.is_dask_array(X):
                X = check_array(X, name=f"views[{j}]")
            if X.shape[1] != self.n_features_in_[j]:
                raise ValueError(
                    f"views[{j}] has {X.shape[1]} features but the estimator was fitted with "
                    f"{self.n_features_in_[j]}"
                )
            if X.shape[0] != views[present[0]].shape[0]:
                raise ValueError(
                    f"all present views must have the same number of samples: "
                    f"views[{present[0]}] has {views[present[0]].shape[0]}, views[{j}] has "
                    f"{X.shape[0]}"
                )
            out[j] = X - self.means_[j]
        return out

    def _codes(self, views) -> list[np.ndarray | None]:
        """``[(X_j - mu_j) W_j]`` for each view; ``None`` where the view is ``None``."""
        centred = self._transform_views_centred(views)
        return [
            None if Xc is None else Xc @ W for Xc, W in zip(centred, self.weights_, strict=True)
        ]


# ----------------------------------------------------------------------------------------------
# CCA
# ----------------------------------------------------------------------------------------------


class CCA(_LinearMultiview):
    r"""Canonical correlation analysis of two views, exact (whitening + SVD), with optional ridge.

    CCA finds weight vectors :math:`w_x, w_y` maximising the correlation of the projections,

    .. math:: \rho = \max_{w_x, w_y} \frac{w_x^\top C_{xy} w_y}
              {\sqrt{w_x^\top C_{xx} w_x}\,\sqrt{w_y^\top C_{yy} w_y}},

    then further pairs uncorrelated with the previous ones. With the whitened cross-covariance

    .. math:: K = C_{xx}^{-1/2} C_{xy} C_{yy}^{-1/2} = U S V^\top,

    the canonical correlations are the singular values ``S`` and the weights are
    :math:`W_x = C_{xx}^{-1/2} U_{:, :k}`, :math:`W_y = C_{yy}^{-1/2} V_{:, :k}`.

    Parameters
    ----------
    n_components : int or None, default 2
        Number of canonical pairs ``k``, at most ``min(rank C_xx, rank C_yy)`` (a rank is at most
        ``min(n_samples - 1, n_features)``, and the ridge does not raise it); None: all of them.
        Asking for more is a ``ValueError``: beyond the ranks the data have no direction, and
        any correlation reported for one would be invented (rounding noise).
    reg : float or sequence of two floats in [0, 1), default 0
        Dimensionless ridge (the convention of :mod:`mmlib.linear`):
        :math:`C_{jj} \to C_{jj} + \lambda_j I`,
        :math:`\lambda_j = \frac{r}{1 - r} \operatorname{tr} C_{jj}/d_j`.
    tol : float in (0, 1), optional
        Eigenvalues of a view's covariance below ``tol * largest`` are treated as zero
        (default ``100 * d * machine epsilon``, ``d`` the larger number of features).

    Attributes
    ----------
    canonical_correlations_ : ndarray (k,)
        The singular values of
        :math:`K = (C_{xx} + \lambda_x I)^{-1/2} C_{xy} (C_{yy} + \lambda_y I)^{-1/2}`,
        descending, in [0, 1]. With ``reg = 0`` they are the sample correlations of the pairs of
        training variates; with ridge they are the regularised correlations (smaller than the
        ``reg = 0`` values, and than 1, whatever ``reg``); the variates' actual correlations are
        ``paired_correlations(*cca.transform(views))``.
    weights_ : list [W_x (d_x, k), W_y (d_y, k)]
        Canonical weights :math:`(C_{xx} + \lambda_x I)^{-1/2} U_{:, :k}` (and likewise for
        ``y``), the ridge only changing the directions, scaled so the training variates have
        unit variance (``ddof=1``) with or without ridge.
        Sign convention: the largest-magnitude entry of each column of ``W_x`` is positive.
    means_ : list [mu_x (d_x,), mu_y (d_y,)]
        Training means, subtracted by :meth:`transform`.
    n_features_in_ : list of int
        Number of features of each view.
    n_samples_seen_ : int
        Number of training samples (over all ``partial_fit`` chunks).

    Notes
    -----
    Cost ``O(n (d_x + d_y)^2 + (d_x + d_y)^3)`` time and ``O(n (d_x + d_y))`` memory. The variates
    of a view have unit variance on the training data; with ``reg = 0`` they are also
    uncorrelated.

    References
    ----------
    Hotelling (1936); Hardoon, Szedmak & Shawe-Taylor (2004), Neural Computation 16, 2639-2664.

    Examples
    --------
    >>> import numpy as np
    >>> from mmlib.linear import CCA
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(500, 1))
    >>> X = np.hstack([z, rng.normal(size=(500, 2))])
    >>> Y = np.hstack([z + 0.1 * rng.normal(size=(500, 1)), rng.normal(size=(500, 3))])
    >>> cca = CCA(n_components=1).fit([X, Y])
    >>> bool(cca.canonical_correlations_[0] > 0.99)
    True
    """

    _min_views = 2
    _max_views = 2
    _solved = ("weights_", "canonical_correlations_")

    def fit(self, views, y=None):
        """Fit on two views ``[X (n, d_x), Y (n, d_y)]`` (same ``n``, paired rows). Returns self.

        The views may be ``dask.array`` arrays chunked along rows: see :class:`GCCA`'s ``fit``;
        ``transform`` of Dask views then returns Dask arrays.
        """
        self._fit(views, strict=True)
        return self

    def _solve(self, reg: list[float], strict: bool) -> None:
        stats = self._stats
        C = stats.covariance()  # of the views scaled by stats.scales
        sx, sy = stats.slices()
        Cxx, Cyy, Cxy = C[sx, sx], C[sy, sy], C[sx, sy]
        tol = _check_tol(self.tol, max(stats.n_features))
        # whitening factors on the views' ranges: Ex @ Ex.T = (Cxx + lambda_x I)^-1 there
        Ex = _inv_sqrt_factor(Cxx, tol, _ridge_shift(Cxx, reg[0]))
        Ey = _inv_sqrt_factor(Cyy, tol, _ridge_shift(Cyy, reg[1]))
        k = self._resolve_n_components(
            min(Ex.shape[1], Ey.shape[1]),
            strict,
            reason=(
                f"min(rank of views[0] covariance = {Ex.shape[1]}, rank of views[1] covariance "
                f"= {Ey.shape[1]}); a rank is at most min(n_samples - 1 = {stats.n - 1}, "
                "n_features), whatever the ridge"
            ),
        )
        if k is None:
            return
        # the whitened cross-covariance and its SVD: the core of CCA
        K = Ex.T @ Cxy @ Ey
        U, s, Vt = _top_svd(K, k)
        Wx = Ex @ U
        Wy = Ey @ Vt.T
        # unit training variance (already true with reg=0; a rescaling with ridge)
        var_x = np.einsum("ik,ij,jk->k", Wx, Cxx, Wx)
        var_y = np.einsum("ik,ij,jk->k", Wy, Cyy, Wy)
        Wx = Wx / np.sqrt(np.where(var_x > 0, var_x, 1.0))
        Wy = Wy / np.sqrt(np.where(var_y > 0, var_y, 1.0))
        signs = _fix_signs(Wx)
        cx, cy = stats.scales  # the solver saw c X: in the view's own units the weights are c W
        self.weights_ = [Wx * (signs * cx), Wy * (signs * cy)]
        # the additive-ridge correlations: singular values of K, in [0, 1] whatever the ridge
        self.canonical_correlations_ = np.clip(s[:k], 0.0, 1.0)

    def transform(self, views) -> list[np.ndarray | None]:
        """Canonical variates ``[(X - mu_x) W_x, (Y - mu_y) W_y]``, each ``(n, k)``.

        Centred with the training means, so any subset of rows (even one) is transformed exactly
        as it would be within the full data. Each view's variates need only that view: a missing
        view is passed as ``None`` in its slot and gives ``None`` in that slot. The same as
        :meth:`transform_views`.
        """
        return self._codes(views)

    def transform_views(self, views) -> list[np.ndarray | None]:
        """Each view's canonical variates, ``[(X_j - mu_j) W_j]``, each ``(n, k)``.

        The per-view codes of the estimator contract (the same as :meth:`transform` for CCA);
        ``None`` in a view's slot gives ``None`` in that slot.
        """
        return self._codes(views)

    def transform_view(self, X, view: int = 0) -> np.ndarray:
        """Canonical variates ``(X - mu_view) W_view`` of a single view (``view`` 0 or 1)."""
        check_is_fitted(self, "weights_")
        if isinstance(view, (bool, np.bool_)) or not isinstance(view, (int, np.integer)):
            raise TypeError(f"view must be the int 0 or 1, got {type(view).__name__} {view!r}")
        if view not in (0, 1):
            raise ValueError(f"view must be 0 or 1 (CCA has two views), got {view!r}")
        view = int(view)
        X = check_array(X, name="X")
        if X.shape[1] != self.n_features_in_[view]:
            raise ValueError(
                f"X has {X.shape[1]} features but view {view} was fitted with "
                f"{self.n_features_in_[view]}"
            )
        return (X - self.means_[view]) @ self.weights_[view]

    def fit_transform(self, views, y=None) -> list[np.ndarray]:
        """``fit(views)`` then ``transform(views)``."""
        return self.fit(views).transform(views)

    def score(self, views, y=None) -> float:
        """Sum of the correlations of the ``k`` pairs of variates of ``views`` (e.g. held out).

        The actual sample correlations of ``transform(views)``, each in [-1, 1]: on held-out data
        the generalisation measure used to choose ``reg`` and ``n_components``. On the training
        data with ``reg = 0`` it equals ``canonical_correlations_.sum()``; with ridge it is at
        least that sum (the training correlations are not shrunk; ``canonical_correlations_``
        are). Needs >= 2 samples.
        """
        if isinstance(views, (list, tuple)) and any(v is None for v in views):
            missing = [j for j, v in enumerate(views) if v is None]
            raise ValueError(
                f"CCA.score correlates the two views' variates: views{missing} is None"
            )
        Zx, Zy = self.transform(views)
        return float(paired_correlations(Zx, Zy).sum())


# ----------------------------------------------------------------------------------------------
# GCCA (MAXVAR)
# ----------------------------------------------------------------------------------------------


class GCCA(_LinearMultiview):
    r"""Generalized CCA of ``J >= 2`` views, MAXVAR form, exact and without ``n x n`` matrices.

    MAXVAR looks for a shared representation ``G`` that every view predicts linearly:

    .. math:: \min_{G,\, U_1..U_J} \sum_{j=1}^J \lVert G - X_j U_j \rVert_F^2
              \quad\text{s.t.}\quad G^\top G = I_r,

    with centred views :math:`X_j` (samples as rows). For fixed ``G`` each :math:`U_j` is a least
    squares fit, :math:`U_j = (X_j^\top X_j)^{-1} X_j^\top G`, and ``G`` is given by the top ``r``
    eigenvectors of the sum of the views' projection (hat) matrices,

    .. math:: M = \sum_j P_j,\qquad P_j = X_j (X_j^\top X_j)^{-1} X_j^\top \quad (n \times n).

    ``M`` is never formed. With the whitened views :math:`A_j = X_j C_{jj}^{-1/2} / \sqrt{n-1}`,
    :math:`M = A A^\top` for :math:`A = [A_1, \dots, A_J]`, whose nonzero eigenvalues are those of
    the small ``D x D`` matrix :math:`B = A^\top A` (blocks
    :math:`B_{ij} = C_{ii}^{-1/2} C_{ij} C_{jj}^{-1/2}`, identity diagonal blocks). For an
    eigenpair :math:`B v = \lambda v`, :math:`G = A v / \sqrt\lambda` and
    :math:`U_j = C_{jj}^{-1/2} v_j \sqrt{\lambda / (n-1)}`, which gives the identity

    .. math:: G = \frac{1}{\lambda} \sum_j X_j U_j

    used by :meth:`transform`.

    With ridge, each view's least-squares fit becomes a ridge regression,
    :math:`\min_{U_j} \lVert G - X_j U_j \rVert_F^2 + \gamma_j \lVert U_j \rVert_F^2` with
    :math:`\gamma_j = (n - 1) \lambda_j`, :math:`\lambda_j = \frac{r_j}{1 - r_j}
    \frac{\operatorname{tr} C_{jj}}{d_j}`, and :math:`P_j = X_j (X_j^\top X_j + \gamma_j I)^{-1}
    X_j^\top`: :math:`C_{jj}` is replaced by :math:`C_{jj} + \lambda_j I`, the ridge convention of
    :mod:`mmlib.linear` (the same as :class:`CCA`'s). Every :math:`P_j` then has eigenvalues in
    [0, 1), so the eigenvalues of ``M`` never exceed ``J``, and the identities above, the
    objective included (plus the penalty), still hold.

    Parameters
    ----------
    n_components : int or None, default 2
        Dimension ``r`` of ``G``, at most the number of nonzero eigenvalues of ``B`` (at most
        ``min(sum of the views' covariance ranks, n_samples - 1)``); None: all of them.
    reg : float or sequence of J floats in [0, 1), default 0
        Dimensionless ridge on each view's covariance, :math:`C_{jj} + \lambda_j I` (see
        :mod:`mmlib.linear`).
    tol : float in (0, 1), optional
        Relative eigenvalue floor for the views' covariances and for ``B``.

    Attributes
    ----------
    G_ : ndarray (n, r)
        The shared representation of the training samples, orthonormal columns
        (``G_.T @ G_ = I``). Set by :meth:`fit` only: :meth:`partial_fit` never sees all rows at
        once, so after it use ``transform(views)`` on the rows you need.
    eigenvalues_ : ndarray (r,)
        Top eigenvalues of ``M``, descending; each is at most ``J`` and equals
        :math:`\sum_j g^\top P_j g`, how much of that column ``g`` of ``G`` the views explain
        (``J`` means every view reproduces it exactly). The minimum of the MAXVAR objective is
        ``J * r - eigenvalues_.sum()`` (with ridge: objective plus penalty).
    weights_ : list of ndarray (d_j, r)
        :math:`U_j`: ``(X_j - mu_j) @ U_j`` is view ``j``'s least-squares (ridge) estimate of
        ``G``, i.e. :math:`P_j G`.
        Sign convention: the largest-magnitude entry of each column of the stacked
        ``U_j * sqrt(trace(C_jj) / d_j)`` (weights in units of the view's scale) is positive.
    means_ : list of ndarray (d_j,)
        Training means.
    n_features_in_ : list of int
    n_samples_seen_ : int
    n_views_ : int

    Notes
    -----
    Cost ``O(n D^2 + D^3)`` time and ``O(n D)`` memory, ``D = sum_j d_j``. With ``J = 2`` and
    ``reg = 0`` the eigenvalues are ``1 + rho_i`` for the canonical correlations ``rho_i``.

    References
    ----------
    Kettenring (1971); Carroll, J. D. (1968), Generalization of canonical correlation analysis to
    three or more sets of variables, Proc. 76th Annual Convention of the APA, 227-228.
    """

    _min_views = 2
    _max_views = None
    _solved = ("weights_", "eigenvalues_")

    def fit(self, views, y=None):
        """Fit on ``J >= 2`` views ``[X_1 (n, d_1), ..., X_J (n, d_J)]``; sets ``G_``.

        The views may be ``dask.array`` arrays chunked along rows (the same row chunks in every
        view): the statistics of each chunk are computed where it lives and merged in a tree,
        the ``D x D`` problem is solved once, and ``G_`` is then a lazy Dask array.
        """
        views = self._fit(views, strict=True)
        # G = A v / sqrt(lambda) = sum_j (X_j - mu_j) E_j v_j / sqrt((n - 1) lambda)
        n = self.n_samples_seen_
        # X_j @ W_j - mu_j @ W_j: the same as (X_j - mu_j) @ W_j without an (n, d_j) centred copy
        G = sum(
            X @ (E @ v) - m @ (E @ v)
            for X, m, E, v in zip(views, self.means_, self._factors, self._vblocks, strict=True)
        )
        self.G_ = G / np.sqrt((n - 1) * self.eigenvalues_)
        return self

    def _solve(self, reg: list[float], strict: bool) -> None:
        stats = self._stats
        C = stats.covariance()  # of the views scaled by stats.scales
        slices = stats.slices()
        n = stats.n
        tol = _check_tol(self.tol, max(stats.n_features))
        # ridge-regression hat matrices P_j = X_j (X_j^T X_j + gamma_j I)^-1 X_j^T, i.e. the
        # additive ridge C_jj + lambda_j I of mmlib.linear (on the range of C_jj)
        factors = [
            _inv_sqrt_factor(C[s, s], tol, _ridge_shift(C[s, s], r))
            for s, r in zip(slices, reg, strict=True)
        ]
        # B = E^T C E with E = blockdiag(E_1..E_J): blocks E_i^T C_ij E_j
        ranks = [E.shape[1] for E in factors]
        ends = np.cumsum([0, *ranks])
        B = np.zeros((ends[-1], ends[-1]))  # upper block triangle only: eigh reads no more
        for i, (si, Ei) in enumerate(zip(slices, factors, strict=True)):
            for j in range(i, len(factors)):
                block = B[ends[i] : ends[i + 1], ends[j] : ends[j + 1]]
                if i == j and reg[i] == 0.0 and si.stop - si.start >= _FAST_FROM:
                    block[...] = np.eye(ranks[i])  # E^T C_jj E = I without ridge, exactly
                else:
                    block[...] = Ei.T @ C[si, slices[j]] @ factors[j]
        lam, V = _top_eigh(B, self.n_components)
        # only eigenpairs with lambda > 0 define a column of G (G = A v / sqrt(lambda))
        tol_b = _check_tol(self.tol, B.shape[0])
        max_k = int(np.sum(lam > tol_b * lam[0])) if lam.size and lam[0] > 0 else 0
        k = self._resolve_n_components(
            max_k,
            strict,
            reason=(
                "the number of nonzero eigenvalues of the GCCA problem, at most min(sum of the "
                f"views' covariance ranks = {sum(ranks)}, n_samples - 1 = {n - 1})"
            ),
        )
        if k is None:
            return
        # every P_j has eigenvalues in [0, 1], so lambda <= J: clip the rounding above it
        lam, V = np.minimum(lam[:k], float(len(factors))), V[:, :k]
        vblocks = [V[ends[j] : ends[j + 1]] for j in range(len(factors))]
        weights = [E @ v * np.sqrt(lam / (n - 1)) for E, v in zip(factors, vblocks, strict=True)]
        # sign convention on the weights in units of each view's overall scale, so that scaling
        # a view changes nothing (the raw U_j would scale by 1 / c)
        spreads = [np.sqrt(np.trace(C[s, s]) / (s.stop - s.start)) for s in slices]
        signs = _fix_signs(np.vstack([U * c for U, c in zip(weights, spreads, strict=True)]))
        # the solver saw c_j X_j: in the views' own units the weights and factors are c_j U_j
        self.weights_ = [U * (signs * c) for U, c in zip(weights, stats.scales, strict=True)]
        self.eigenvalues_ = lam
        self.n_views_ = len(factors)
        self._factors = [E * c for E, c in zip(factors, stats.scales, strict=True)]
        self._vblocks = [v * signs for v in vblocks]

    def transform(self, views) -> np.ndarray:
        r"""Estimate ``G`` for (new) samples: :math:`\frac{1}{\lambda} \sum_j (X_j - \mu_j) U_j`.

        On the training data this reproduces ``G_`` exactly. Centred with the training means, so
        transforming some rows alone gives the same rows as transforming all of them.

        ``G`` is estimated from every view, so none may be missing: for the views at hand use
        :meth:`transform_views`, which accepts ``None`` in a view's slot.

        Returns
        -------
        ndarray (n, r)
        """
        if isinstance(views, (list, tuple)) and any(v is None for v in views):
            missing = [j for j, v in enumerate(views) if v is None]
            raise ValueError(
                f"GCCA.transform estimates G from every view, but views{missing} is None; use "
                "transform_views(views) for each present view's own estimate of G"
            )
        return sum(self.transform_views(views)) / self.eigenvalues_

    def transform_views(self, views) -> list[np.ndarray | None]:
        """Each view's own estimate of ``G`` (unnormalised): ``[(X_j - mu_j) U_j]``, each (n, r).

        Each needs only its own view: ``None`` in a view's slot gives ``None`` in that slot.
        """
        return self._codes(views)

    def fit_transform(self, views, y=None) -> np.ndarray:
        """``fit(views)`` and return ``G_``."""
        return self.fit(views).G_
