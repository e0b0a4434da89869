r"""Metrics for multiview representations: correlations, linear probes and cross-modal retrieval.

* :func:`paired_correlations` -- Pearson correlation of matching columns (canonical variates).
* :func:`canonical_correlations`, :func:`total_correlation` -- exact CCA between two sets of
  variables; the sum is the "total correlation" that Deep CCA maximises.
* :func:`linear_probe` -- test accuracy of a logistic regression on frozen features.
* :func:`recall_at_k` -- cross-modal retrieval by cosine similarity.
"""

from __future__ import annotations

import numpy as np

from mmlib._checks import (
    check_array,
    check_fraction,
    check_labels,
    check_n_components,
    check_positive_float,
    check_positive_int,
    check_random_state,
    check_views,
    to_numpy,
    unit_scale,
)
from mmlib._correlation import _check_pair, paired_correlations
from mmlib.linear import CCA

__all__ = [
    "canonical_correlations",
    "linear_probe",
    "paired_correlations",
    "recall_at_k",
    "total_correlation",
]


def _unit_scale(A: np.ndarray, axis: int) -> np.ndarray:
    """``A`` times powers of two that bring each column (axis 0) or row (axis 1) to max |.| ~ 1.

    Multiplying by a power of two is exact, so ordinary data give bitwise the same result as
    before; data of magnitude 1e200 or 1e-300 no longer overflow or underflow in ``A * A``.
    The one helper :func:`mmlib._checks.unit_scale`, shared with the contrastive losses.
    """
    return unit_scale(A, axis=axis)


def canonical_correlations(X, Y, n_components: int | None = None, reg: float = 0.0) -> np.ndarray:
    r"""Canonical correlations between two sets of variables ``X (n, d_x)`` and ``Y (n, d_y)``.

    The singular values of
    :math:`(C_{xx} + \lambda_x I)^{-1/2} C_{xy} (C_{yy} + \lambda_y I)^{-1/2}` (exact, via
    :class:`mmlib.CCA`), descending, with the ridge convention of :mod:`mmlib.linear`,
    :math:`\lambda_j = \frac{r}{1 - r} \operatorname{tr} C_{jj} / d_j` (``reg = 0``: none). They
    are in [0, 1] whatever the ridge.

    Parameters
    ----------
    X, Y : array-like
        Paired samples as rows.
    n_components : int, optional
        How many; default all that the data allow (``min`` of the two covariance ranks, each at
        most ``min(n_samples - 1, n_features)``). More is a ``ValueError``.
    reg : float in [0, 1)
        Dimensionless ridge, as in :class:`mmlib.CCA`.

    Returns
    -------
    ndarray (k,)

    References
    ----------
    Hotelling, H. (1936). Relations between two sets of variates. Biometrika 28, 321-377.
    """
    X, Y = check_views([X, Y], name="[X, Y]")
    if n_components is not None:
        check_positive_int(n_components, "n_components")
    return CCA(n_components=n_components, reg=reg).fit([X, Y]).canonical_correlations_


def total_correlation(X, Y, n_components: int | None = None, reg: float = 0.0) -> float:
    r"""Sum of the top canonical correlations, :math:`\sum_{i=1}^k \rho_i` ("total correlation").

    It is the objective that Deep CCA maximises (Andrew et al., 2013): the trace norm of
    :math:`C_{xx}^{-1/2} C_{xy} C_{yy}^{-1/2}` when ``k`` is the full rank.
    """
    return float(canonical_correlations(X, Y, n_components=n_components, reg=reg).sum())


def linear_probe(
    Z_train,
    y_train,
    Z_test,
    y_test,
    *,
    C: float = 1.0,
    max_iter: int = 1000,
    random_state: int | None = 0,
) -> float:
    """Test accuracy of a standardised multinomial logistic regression on frozen features.

    The probe measures how linearly decodable the labels are from a representation: features are
    standardised with the training mean and standard deviation, then an L2-penalised logistic
    regression (inverse strength ``C``, scikit-learn's lbfgs) is fitted on the training part and
    scored on the test part.

    Parameters
    ----------
    Z_train : array-like (n_train, k)
    y_train : array-like (n_train,)
    Z_test : array-like (n_test, k)
    y_test : array-like (n_test,)
    C : float > 0
    max_iter : int
    random_state : int, optional

    Returns
    -------
    float
        Accuracy on the test set, in [0, 1].
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Z_train = check_array(Z_train, name="Z_train")
    Z_test = check_array(Z_test, name="Z_test")
    if Z_train.shape[1] != Z_test.shape[1]:
        raise ValueError(
            f"Z_train has {Z_train.shape[1]} features but Z_test has {Z_test.shape[1]}"
        )
    y_train = check_labels(y_train, Z_train.shape[0], name="y_train", features="Z_train")
    y_test = check_labels(y_test, Z_test.shape[0], name="y_test", features="Z_test")
    _check_class_labels(y_train, "y_train")
    _check_class_labels(y_test, "y_test")
    if _label_kind(y_train) != _label_kind(y_test):
        raise TypeError(
            f"y_train holds {_label_kind(y_train)} but y_test holds {_label_kind(y_test)}: "
            "give both the same kind of class labels"
        )
    if np.unique(y_train).size < 2:
        raise ValueError("y_train must contain at least 2 classes for a classifier")
    C = check_positive_float(C, "C")
    max_iter = check_positive_int(max_iter, "max_iter")
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    # exact power-of-two scaling of each column (by the training maximum) before the scaler:
    # codes of magnitude 1e-170 or 1e170 would underflow or overflow in its variance
    top = np.max(np.abs(Z_train), axis=0)
    exponent = np.frexp(np.where(top > 0, top, 1.0))[1]
    Z_train, Z_test = np.ldexp(Z_train, -exponent), np.ldexp(Z_test, -exponent)
    if not np.isfinite(Z_test).all():
        raise ValueError(
            "Z_test has values so much larger than Z_train's that they overflow float64 once "
            "scaled like Z_train; the two must be on the same scale"
        )
    probe = make_pipeline(
        StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    )
    probe.fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test))


def _label_kind(y: np.ndarray) -> str:
    return "strings" if y.dtype.kind in "US" or y.dtype.kind == "O" else "numbers"


def _check_class_labels(y: np.ndarray, name: str) -> None:
    """Class labels: all numbers (integer-valued if float) or all strings."""
    if y.dtype.kind == "O":
        if not all(isinstance(v, str) for v in y.flat):
            raise TypeError(
                f"{name} must hold class labels of one kind (all ints or all strings), got "
                f"a mix such as {[type(v).__name__ for v in y.flat[:3]]}"
            )
    elif y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(
            f"{name} holds continuous (non-integer) values; linear_probe is a classifier and "
            "needs class labels (ints or strings)"
        )


def recall_at_k(query, gallery, k: int = 1) -> float:
    """Cross-modal retrieval recall@k: how often the paired item is among the ``k`` nearest.

    Row ``i`` of ``query`` and row ``i`` of ``gallery`` are the same item seen in two modalities.
    For every query the gallery is ranked by cosine similarity; the query counts as a hit when its
    own gallery item is among the top ``k``. Ties are counted against the query (an item tied with
    the true match ranks ahead of it), so constant embeddings score ``k / n``-ish, not 1.

    Parameters
    ----------
    query : array-like (n, e)
    gallery : array-like (n, e)
        Same number of rows and columns as ``query``.
    k : int, 1 <= k <= n

    Returns
    -------
    float
        Fraction of queries whose match is in the top ``k``, in [0, 1].
    """
    query, gallery = _check_pair(query, gallery, ("query", "gallery"), same_width=True)
    n = query.shape[0]
    k = check_n_components(k, n, name="k", reason="the number of gallery items")
    # rows scaled to max |.| ~ 1 first (exactly, by powers of two): norms of rows of magnitude
    # 1e200 would overflow, of 1e-300 underflow
    query, gallery = _unit_scale(query, axis=1), _unit_scale(gallery, axis=1)
    eps = np.finfo(np.float64).tiny
    q = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), eps)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), eps)
    hits = 0
    block = max(1, 2**22 // max(n, 1))  # bound the memory of the similarity block
    for start in range(0, n, block):
        S = q[start : start + block] @ g.T  # (b, n)
        rows = np.arange(S.shape[0])
        true = S[rows, start + rows]
        # rank of the true match = number of gallery items at least as similar, minus itself
        rank = (S >= true[:, None]).sum(axis=1) - 1
        hits += int(np.sum(rank < k))
    return hits / n


# --------------------------------------------------------------------------------------------
# cross-modal retrieval: ranks, recall@k, median rank (MMV chapter)
# --------------------------------------------------------------------------------------------

__all__ += ["median_rank", "retrieval_ranks", "retrieval_scores"]


def retrieval_ranks(query, gallery, *, query_labels=None, gallery_labels=None) -> np.ndarray:
    r"""Rank of the first relevant gallery item for every query (1 = retrieved first).

    The gallery is ranked by cosine similarity to each query. Without labels the relevant item of
    query ``i`` is gallery row ``i`` (instance retrieval: the same item in another modality), as in
    :func:`recall_at_k`. With labels, every gallery item whose label equals the query's label is
    relevant (category retrieval, e.g. a caption that only names a coarse class), and the rank
    is that of the best-ranked relevant item. Ties count against the query: an irrelevant item
    exactly as similar as the best relevant one ranks ahead of it, so a constant embedding gets
    the worst rank, not the best.

    .. math:: r_i = 1 + \#\{\, j \text{ irrelevant to } i : s(q_i, g_j) \ge
              \max_{l \text{ relevant}} s(q_i, g_l) \,\}

    Parameters
    ----------
    query : array-like (n_q, e)
    gallery : array-like (n_g, e)
        Same number of columns; without labels also the same number of rows (paired).
    query_labels : array-like (n_q,), optional
    gallery_labels : array-like (n_g,), optional
        Give both or neither. Every query label must occur in the gallery.

    Returns
    -------
    ndarray of int (n_q,)
        Ranks in ``1..n_g``.

    Examples
    --------
    >>> import numpy as np
    >>> retrieval_ranks(np.eye(3), np.eye(3)[[0, 2, 1]]).tolist()
    [1, 3, 3]
    """
    query = check_array(query, name="query")
    gallery = check_array(gallery, name="gallery")
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"query and gallery must have the same number of columns (embedding dimension): "
            f"query has {query.shape[1]}, gallery has {gallery.shape[1]}"
        )
    if (query_labels is None) != (gallery_labels is None):
        raise ValueError("give both query_labels and gallery_labels, or neither")
    n_q, n_g = query.shape[0], gallery.shape[0]
    if query_labels is None:
        if n_q != n_g:
            raise ValueError(
                f"without labels, query and gallery must be paired row by row (same number of "
                f"rows): query has {n_q}, gallery has {n_g}"
            )
        lq = lg = None
    else:
        lq = check_labels(query_labels, n_q, name="query_labels")
        lg = check_labels(gallery_labels, n_g, name="gallery_labels")
        missing = np.setdiff1d(lq, lg)
        if missing.size:
            raise ValueError(
                f"query_labels {missing[:5].tolist()} never occur in gallery_labels: those "
                "queries have nothing relevant to retrieve"
            )
    # rows scaled to max |.| ~ 1 first (exactly): norms of codes x1e300 or x1e-300 would
    # overflow or underflow and rank every query last
    query, gallery = _unit_scale(query, axis=1), _unit_scale(gallery, axis=1)
    eps = np.finfo(np.float64).tiny
    q = query / np.maximum(np.linalg.norm(query, axis=1, keepdims=True), eps)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), eps)
    ranks = np.empty(n_q, dtype=np.int64)
    block = max(1, 2**22 // max(n_g, 1))  # bound the memory of the similarity block
    for start in range(0, n_q, block):
        S = q[start : start + block] @ g.T  # (b, n_g)
        rows = np.arange(S.shape[0])
        if lq is None:
            relevant_mask = np.zeros_like(S, dtype=bool)
            relevant_mask[rows, start + rows] = True
        else:
            relevant_mask = lq[start : start + block, None] == lg[None, :]
        best = np.where(relevant_mask, S, -np.inf).max(axis=1)
        ahead = (S >= best[:, None]) & ~relevant_mask
        ranks[start : start + S.shape[0]] = 1 + ahead.sum(axis=1)
    return ranks


def retrieval_scores(
    query, gallery, ks=(1, 5, 10), *, query_labels=None, gallery_labels=None
) -> dict[str, float]:
    """Recall@k for several k and the median rank of a cross-modal retrieval.

    Recall@k is the fraction of queries whose first relevant gallery item is among the top
    ``k``; the median rank is the median of those ranks (1 is perfect; half the gallery size is
    chance for instance retrieval). See :func:`retrieval_ranks` for relevance and ties.

    Parameters
    ----------
    query, gallery : array-like (n_q, e), (n_g, e)
    ks : sequence of int, default (1, 5, 10)
        Each in ``1..n_g``.
    query_labels, gallery_labels : array-like, optional
        Category retrieval (see :func:`retrieval_ranks`).

    Returns
    -------
    dict
        ``{"R@1": ..., "R@5": ..., "R@10": ..., "median rank": ...}``.

    References
    ----------
    J.-B. Alayrac et al. Self-supervised multimodal versatile networks. NeurIPS 2020 (zero-shot
    text-to-video retrieval reported as recall@k and median rank).
    """
    if isinstance(ks, (int, np.integer)) or not isinstance(ks, (list, tuple)) or not ks:
        raise TypeError(f"ks must be a non-empty list or tuple of ints, got {ks!r}")
    ranks = retrieval_ranks(
        query, gallery, query_labels=query_labels, gallery_labels=gallery_labels
    )
    n_g = len(to_numpy(gallery, name="gallery"))
    ks = [check_n_components(k, n_g, name="k", reason="the number of gallery items") for k in ks]
    out = {f"R@{k}": float(np.mean(ranks <= k)) for k in ks}
    out["median rank"] = float(np.median(ranks))
    return out


def median_rank(query, gallery, *, query_labels=None, gallery_labels=None) -> float:
    """Median rank of the first relevant gallery item (see :func:`retrieval_ranks`); 1 is best."""
    ranks = retrieval_ranks(
        query, gallery, query_labels=query_labels, gallery_labels=gallery_labels
    )
    return float(np.median(ranks))


# --------------------------------------------------------------------------------------------
# Missing modalities and geometric alignment (GMC chapter)
# --------------------------------------------------------------------------------------------

__all__ += [
    "alignment",
    "dca_approx",
    "missing_modality_accuracy",
    "uniformity",
]


def missing_modality_accuracy(
    Z_train, y_train, Z_test, y_test, *, C: float = 1.0, max_iter: int = 1000
) -> dict[str, float]:
    """Accuracy of one classifier, trained on complete codes, tested on codes of modality subsets.

    The protocol of GMC's Table 1 (Poklukar et al., 2022): a classifier is fitted once, on the
    frozen codes of the complete training observations, and then scored on the codes that the
    same model gives to the test samples when only some modalities are present. A model whose
    single-modality codes land where the complete codes were keeps its accuracy. The classifier
    here is a standardised logistic regression (:func:`linear_probe`'s), not the paper's MLP.

    Parameters
    ----------
    Z_train : array-like (n_train, e)
        Codes of the complete training observations.
    y_train : array-like (n_train,)
    Z_test : mapping of str to array-like (n_test, e)
        Test codes per condition, e.g. ``{"complete": Zc, "image only": Zi, ...}``.
    y_test : array-like (n_test,)
    C, max_iter
        As in :func:`linear_probe`.

    Returns
    -------
    dict of str to float
        Test accuracy per condition, in [0, 1], in the order of ``Z_test``.
    """
    from collections.abc import Mapping

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Z_train = check_array(Z_train, name="Z_train")
    y_train = check_labels(y_train, Z_train.shape[0], name="y_train", features="Z_train")
    _check_class_labels(y_train, "y_train")
    if np.unique(y_train).size < 2:
        raise ValueError("y_train must contain at least 2 classes for a classifier")
    if not isinstance(Z_test, Mapping) or not Z_test:
        raise TypeError("Z_test must be a non-empty mapping of condition name -> test codes")
    C = check_positive_float(C, "C")
    max_iter = check_positive_int(max_iter, "max_iter")
    # exact power-of-two scaling of each column by the training maximum, as in linear_probe:
    # codes of magnitude 1e170 or 1e-170 would overflow or underflow in the scaler's variance
    top = np.max(np.abs(Z_train), axis=0)
    exponent = np.frexp(np.where(top > 0, top, 1.0))[1]
    Z_train = np.ldexp(Z_train, -exponent)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter))
    clf.fit(Z_train, y_train)
    scores = {}
    n_test = None
    for name, Z in Z_test.items():
        Z = check_array(Z, name=f"Z_test[{name!r}]")
        if Z.shape[1] != Z_train.shape[1]:
            raise ValueError(
                f"Z_test[{name!r}] has {Z.shape[1]} columns, Z_train has {Z_train.shape[1]}"
            )
        if n_test is None:
            n_test = Z.shape[0]
            y_test = check_labels(y_test, n_test, name="y_test", features=f"Z_test[{name!r}]")
            _check_class_labels(y_test, "y_test")
            if _label_kind(y_train) != _label_kind(y_test):
                raise TypeError(
                    f"y_train holds {_label_kind(y_train)} but y_test holds "
                    f"{_label_kind(y_test)}: give both the same kind of class labels"
                )
        elif Z.shape[0] != n_test:
            raise ValueError(f"Z_test[{name!r}] has {Z.shape[0]} rows, expected {n_test}")
        Z = np.ldexp(Z, -exponent)
        if not np.isfinite(Z).all():
            raise ValueError(
                f"Z_test[{name!r}] has values so much larger than Z_train's that they overflow "
                "float64 once scaled like Z_train; the two must be on the same scale"
            )
        scores[str(name)] = float(clf.score(Z, y_test))
    return scores


def _unit_rows(Z: np.ndarray) -> np.ndarray:
    Z = _unit_scale(Z, axis=1)  # exact: rows of codes x1e300 or x1e-170 keep their norms
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a code is the zero vector: it has no direction on the sphere")
    return Z / norms


def alignment(Z1, Z2, alpha: float = 2.0) -> float:
    r"""Wang & Isola's alignment: mean distance between paired unit-norm codes (lower is better).

    .. math:: \mathcal L_{\text{align}} = \frac1n \sum_{i=1}^n
              \lVert \hat z_{1,i} - \hat z_{2,i} \rVert_2^{\alpha},

    with :math:`\hat z = z / \lVert z\rVert` (rows are normalised here). 0 when each pair
    coincides, 4 (for :math:`\alpha = 2`) when each pair is antipodal.

    Parameters
    ----------
    Z1, Z2 : array-like (n, e)
        Paired codes (row ``i`` of both is the same sample), e.g. joint and one modality's.
    alpha : float > 0, default 2

    Returns
    -------
    float

    References
    ----------
    T. Wang, P. Isola. Understanding contrastive representation learning through alignment and
    uniformity on the hypersphere. ICML 2020.
    """
    Z1, Z2 = _check_pair(Z1, Z2, ("Z1", "Z2"), same_width=True)
    alpha = check_positive_float(alpha, "alpha")
    d = np.linalg.norm(_unit_rows(Z1) - _unit_rows(Z2), axis=1)
    return float(np.mean(d**alpha))


def uniformity(Z, t: float = 2.0) -> float:
    r"""Wang & Isola's uniformity: log of the mean Gaussian potential of all pairs (lower is better).

    .. math:: \mathcal L_{\text{uniform}} = \log \frac{2}{n(n-1)} \sum_{i<j}
              e^{-t \lVert \hat z_i - \hat z_j \rVert_2^2},

    on unit-norm rows :math:`\hat z`. 0 when all codes coincide (collapse); the more evenly the
    codes cover the sphere, the more negative (about :math:`-t \cdot 2` for a uniform spread in
    high dimension, as :math:`\lVert \hat z_i - \hat z_j\rVert^2 \to 2`).

    Parameters
    ----------
    Z : array-like (n, e), n >= 2
    t : float > 0, default 2

    Returns
    -------
    float
    """
    Z = _unit_rows(check_array(Z, name="Z"))
    if Z.shape[0] < 2:
        raise ValueError(f"uniformity needs at least 2 codes, got {Z.shape[0]}")
    t = check_positive_float(t, "t")
    sq = np.maximum(2.0 - 2.0 * (Z @ Z.T), 0.0)  # squared distances of unit vectors
    iu = np.triu_indices(Z.shape[0], k=1)
    vals = -t * sq[iu]
    top = vals.max()
    return float(top + np.log(np.mean(np.exp(vals - top))))  # log-mean-exp, stable


def _dca_points(R, E) -> tuple[np.ndarray, int, int]:
    """``R`` over ``E`` as one array, scaled by one power of two; and the two counts.

    One exact power-of-two factor for all points leaves the clusters and neighbours as they
    are, while distances of codes x1e300 would overflow to inf, of x1e-300 underflow to 0 (and
    HDBSCAN then grows its memory without bound).
    """
    R = check_array(R, name="R")
    E = check_array(E, name="E")
    if R.shape[1] != E.shape[1]:
        raise ValueError(
            f"R and E must have the same number of columns, got {R.shape[1]} and {E.shape[1]}"
        )
    X = np.vstack([R, E])
    top = float(np.max(np.abs(X)))
    if top > 0:
        X = np.ldexp(X, -np.frexp(top)[1])
    return X, R.shape[0], E.shape[0]


def _dca_components(X: np.ndarray, min_cluster_size: int) -> tuple[np.ndarray, int]:
    """HDBSCAN's clusters of the points, each point it calls noise a component of its own."""
    from sklearn.cluster import HDBSCAN

    label = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(X)
    outliers = label < 0
    label = label.copy()
    label[outliers] = label.max() + 1 + np.arange(int(outliers.sum()))  # singletons
    return label, int(label.max()) + 1


def _dca_edges(X: np.ndarray, k: int, label: np.ndarray) -> np.ndarray:
    """The symmetric k-nearest-neighbour edges ``(m, 2)`` that join two points of one component."""
    from sklearn.neighbors import NearestNeighbors

    n = X.shape[0]
    _, nbr = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    a = np.repeat(np.arange(n), k)
    b = nbr[:, 1:].ravel()
    edges = np.unique(np.sort(np.stack([a, b], axis=1), axis=1), axis=0)
    return edges[label[edges[:, 0]] == label[edges[:, 1]]]


def dca_approx(
    R,
    E,
    *,
    n_neighbors: int = 10,
    min_cluster_size: int | None = None,
    consistency_threshold: float = 0.0,
    quality_threshold: float = 0.0,
) -> dict[str, float]:
    r"""An approximation of Delaunay Component Analysis (DCA): how well E aligns with R.

    DCA (Poklukar et al., 2022) compares a reference set :math:`R` (here: joint codes) with an
    evaluation set :math:`E` (one modality's codes) through the components of a graph over
    :math:`R \cup E`. The reference implementation approximates the Delaunay graph with a GPU
    program, distils it and splits it into components with HDBSCAN. This *approximation* keeps
    DCA's scores but builds the pieces differently: the components are HDBSCAN clusters of
    :math:`R \cup E` (scikit-learn's ``HDBSCAN``; each point it calls noise is a component of
    its own, an outlier), and the edges are those of a symmetric :math:`k`-nearest-neighbour graph
    over :math:`R \cup E` that join two points of the same cluster. For a component
    :math:`G_i` with :math:`|R_i|` and :math:`|E_i|` points and edge set :math:`\mathcal E_i`:

    .. math:: c(G_i) = 1 - \frac{\big||R_i| - |E_i|\big|}{|R_i| + |E_i|}, \qquad
              q(G_i) = \frac{|\mathcal E_i^{RE}|}{|\mathcal E_i|}

    (consistency; quality = share of edges that join an R point to an E point, 0 without edges).
    Components with :math:`c > \eta_c` and :math:`q > \eta_q` are *fundamental*; with
    :math:`F` their points,

    .. math:: P = \frac{|E \cap F|}{|E|}, \quad \mathcal R = \frac{|R \cap F|}{|R|}, \quad
              q = \frac{|\mathcal E^{RE}|}{|\mathcal E|}, \quad
              \text{score} = \frac{3}{1/P + 1/\mathcal R + 1/q}

    (precision, recall, network quality over all kept edges, and the harmonic mean that GMC's
    paper reports, 0 if any of the three is 0). Network consistency is
    :math:`1 - \big||R| - |E|\big| / (|R| + |E|)`. Perfectly mixed sets give :math:`q` near
    1/2 (half of a point's neighbours are of the other set); :math:`E = R` on well-clustered data
    gives :math:`P = \mathcal R = 1` and :math:`q > 1/2` (each point's twin is its nearest
    neighbour; a point HDBSCAN calls noise is a component of one point, never fundamental, and
    lowers :math:`P` and :math:`\mathcal R`); two far-apart sets give 0 for all three.

    Parameters
    ----------
    R : array-like (n_R, e)
        Reference codes (the complete/joint codes in GMC's evaluation).
    E : array-like (n_E, e)
        Evaluation codes (one modality's codes).
    n_neighbors : int >= 1, default 10
        :math:`k` of the neighbour graph (each point's edges to its k nearest in R ∪ E).
    min_cluster_size : int >= 2, optional
        HDBSCAN's smallest cluster, at most ``n_R + n_E``; default
        ``max(5, (n_R + n_E) // 100)`` (capped at ``n_R + n_E``).
    consistency_threshold, quality_threshold : float in [0, 1)
        :math:`\eta_c, \eta_q` (0 and 0, the defaults of DCA's code: a component is fundamental
        when it holds both sets and at least one edge between them).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``network_consistency``, ``network_quality``, ``score``
        (harmonic mean of P, R, q) and ``n_components`` (clusters plus outliers).

    References
    ----------
    P. Poklukar, V. Polianskii, A. Varava, F. T. Pokorny, D. Kragic. Delaunay component analysis
    for evaluation of data representations. ICLR 2022.
    """
    X, n_r, n_e = _dca_points(R, E)
    n = X.shape[0]
    k = check_positive_int(n_neighbors, "n_neighbors")
    if k >= n:
        raise ValueError(f"n_neighbors must be < the number of points in R and E ({n}), got {k}")
    if min_cluster_size is None:
        min_cluster_size = min(max(5, n // 100), n)
    min_cluster_size = check_positive_int(min_cluster_size, "min_cluster_size", minimum=2)
    if min_cluster_size > n:
        raise ValueError(
            f"min_cluster_size must be <= the number of points in R and E ({n}), got "
            f"{min_cluster_size}"
        )
    eta_c = check_fraction(consistency_threshold, "consistency_threshold")
    eta_q = check_fraction(quality_threshold, "quality_threshold")

    label, n_comp = _dca_components(X, min_cluster_size)
    edges = _dca_edges(X, k, label)
    is_e = np.arange(n) >= n_r
    r_count = np.bincount(label[~is_e], minlength=n_comp)
    e_count = np.bincount(label[is_e], minlength=n_comp)
    hetero = is_e[edges[:, 0]] != is_e[edges[:, 1]]
    edge_comp = label[edges[:, 0]]
    comp_edges = np.bincount(edge_comp, minlength=n_comp)
    comp_hetero = np.bincount(edge_comp[hetero], minlength=n_comp)
    consistency = 1.0 - np.abs(r_count - e_count) / (r_count + e_count)
    quality = np.divide(comp_hetero, comp_edges, out=np.zeros(n_comp), where=comp_edges > 0)
    fundamental = (consistency > eta_c) & (quality > eta_q)
    precision = float(e_count[fundamental].sum() / n_e)
    recall = float(r_count[fundamental].sum() / n_r)
    net_quality = float(hetero.sum() / len(edges)) if len(edges) else 0.0
    parts = (precision, recall, net_quality)
    score = 0.0 if min(parts) == 0 else 3.0 / sum(1.0 / p for p in parts)
    return {
        "precision": precision,
        "recall": recall,
        "network_consistency": float(1.0 - abs(n_r - n_e) / (n_r + n_e)),
        "network_quality": net_quality,
        "score": float(score),
        "n_components": n_comp,
    }
