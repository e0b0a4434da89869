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
)
from mmlib.linear import CCA

__all__ = [
    "canonical_correlations",
    "linear_probe",
    "paired_correlations",
    "recall_at_k",
    "total_correlation",
]


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
        Correlations in [-1, 1]. A column that is constant has no correlation with anything; its
        entry is 0.
    """
    Z1, Z2 = _check_pair(Z1, Z2, ("Z1", "Z2"), same_width=True)
    if Z1.shape[0] < 2:
        raise ValueError(f"correlations need at least 2 samples (rows), got {Z1.shape[0]}")
    A = Z1 - Z1.mean(axis=0)
    B = Z2 - Z2.mean(axis=0)
    norms = np.sqrt((A * A).sum(axis=0) * (B * B).sum(axis=0))
    cov = (A * B).sum(axis=0)
    positive = norms > 0
    out = np.zeros(Z1.shape[1])
    out[positive] = cov[positive] / norms[positive]
    return np.clip(out, -1.0, 1.0)


def canonical_correlations(X, Y, n_components: int | None = None, reg: float = 0.0) -> np.ndarray:
    r"""Canonical correlations between two sets of variables ``X (n, d_x)`` and ``Y (n, d_y)``.

    The singular values of :math:`C_{xx}^{-1/2} C_{xy} C_{yy}^{-1/2}` (exact, via
    :class:`mmlib.CCA`), descending.

    Parameters
    ----------
    X, Y : array-like
        Paired samples as rows.
    n_components : int, optional
        How many; default all that the data allow (``min`` of the two covariance ranks).
    reg : float in [0, 1)
        Dimensionless ridge, as in :class:`mmlib.CCA`.

    Returns
    -------
    ndarray (k,)
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
    y_train = check_labels(y_train, Z_train.shape[0], name="y_train")
    y_test = check_labels(y_test, Z_test.shape[0], name="y_test")
    if np.unique(y_train).size < 2:
        raise ValueError("y_train must contain at least 2 classes for a classifier")
    C = check_positive_float(C, "C")
    max_iter = check_positive_int(max_iter, "max_iter")
    seed = int(check_random_state(random_state).integers(2**31 - 1))
    probe = make_pipeline(
        StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    )
    probe.fit(Z_train, y_train)
    return float(probe.score(Z_test, y_test))


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
    y_train = check_labels(y_train, Z_train.shape[0], name="y_train")
    if np.unique(y_train).size < 2:
        raise ValueError("y_train must contain at least 2 classes for a classifier")
    if not isinstance(Z_test, Mapping) or not Z_test:
        raise TypeError("Z_test must be a non-empty mapping of condition name -> test codes")
    C = check_positive_float(C, "C")
    max_iter = check_positive_int(max_iter, "max_iter")
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
            y_test = check_labels(y_test, n_test, name="y_test")
        elif Z.shape[0] != n_test:
            raise ValueError(f"Z_test[{name!r}] has {Z.shape[0]} rows, expected {n_test}")
        scores[str(name)] = float(clf.score(Z, y_test))
    return scores


def _unit_rows(Z: np.ndarray) -> np.ndarray:
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
    1/2 (half of a point's neighbours are of the other set); :math:`E = R` gives
    :math:`P = \mathcal R = 1` and :math:`q > 1/2` (each point's twin is its nearest neighbour);
    two far-apart sets give 0 for all three.

    Parameters
    ----------
    R : array-like (n_R, e)
        Reference codes (the complete/joint codes in GMC's evaluation).
    E : array-like (n_E, e)
        Evaluation codes (one modality's codes).
    n_neighbors : int >= 1, default 10
        :math:`k` of the neighbour graph (each point's edges to its k nearest in R ∪ E).
    min_cluster_size : int >= 2, optional
        HDBSCAN's smallest cluster; default ``max(5, (n_R + n_E) // 100)``.
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
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import NearestNeighbors

    R = check_array(R, name="R")
    E = check_array(E, name="E")
    if R.shape[1] != E.shape[1]:
        raise ValueError(
            f"R and E must have the same number of columns, got {R.shape[1]} and {E.shape[1]}"
        )
    n_r, n_e = R.shape[0], E.shape[0]
    X = np.vstack([R, E])
    n = X.shape[0]
    k = check_positive_int(n_neighbors, "n_neighbors")
    if k >= n:
        raise ValueError(f"n_neighbors must be < the number of points in R and E ({n}), got {k}")
    if min_cluster_size is None:
        min_cluster_size = max(5, n // 100)
    min_cluster_size = check_positive_int(min_cluster_size, "min_cluster_size", minimum=2)
    eta_c = check_fraction(consistency_threshold, "consistency_threshold")
    eta_q = check_fraction(quality_threshold, "quality_threshold")

    label = HDBSCAN(min_cluster_size=min_cluster_size, copy=True).fit_predict(X)
    outliers = label < 0
    label = label.copy()
    label[outliers] = label.max() + 1 + np.arange(int(outliers.sum()))  # singletons
    n_comp = int(label.max()) + 1

    _, nbr = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    a = np.repeat(np.arange(n), k)
    b = nbr[:, 1:].ravel()
    edges = np.unique(np.sort(np.stack([a, b], axis=1), axis=1), axis=0)
    edges = edges[label[edges[:, 0]] == label[edges[:, 1]]]  # edges inside a component

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
