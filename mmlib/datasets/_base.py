"""The container every data set of the book returns, and helpers the generators share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from mmlib._checks import (
    check_fraction,
    check_labels,
    check_positive_int,
    check_seed,
    check_views,
    to_numpy,
)

__all__ = ["MultiViewDataset"]


# --------------------------------------------------------------------------------------------
# the container
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class MultiViewDataset:
    """A multi-view data set: paired views, optional labels, names, description and extras.

    Parameters
    ----------
    views : list of array-like, each of shape (n_samples, n_features_j)
        The views, samples as rows, row ``i`` of every view describing the same sample.
        Stored as float64 arrays.
    y : array-like of shape (n_samples,), optional
        Labels (class labels for every data set of the book), or ``None``.
    view_names : list of str, optional
        One name per view; ``["view_0", "view_1", ...]`` by default.
    description : str
        What the data are; the first line is a one-line summary.
    extras : dict
        Anything else: true latent variables, label names, feature names, mixing matrices.
    name : str
        Short name of the data set (used by ``repr`` and the book's tables).
    sample_extras : tuple of str
        Keys of ``extras`` that hold one row per sample (an array with ``n_samples`` rows, or a
        list of such arrays); :meth:`train_test_split` splits them together with the views.

    The properties ``n_samples``, ``n_views`` and ``n_features`` (a list, one per view) give the sizes.

    Examples
    --------
    >>> from mmlib.datasets import load_nutrimouse
    >>> ds = load_nutrimouse()
    >>> ds.n_samples, ds.n_views, ds.n_features
    (40, 2, [120, 21])
    >>> train, test = ds.train_test_split(test_size=0.25, random_state=0)
    >>> train.n_samples, test.n_samples
    (30, 10)
    """

    views: list[np.ndarray]
    y: np.ndarray | None = None
    view_names: list[str] | None = None
    description: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    name: str = "dataset"
    sample_extras: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        views = check_views(self.views, min_views=1)
        object.__setattr__(self, "views", views)
        n = views[0].shape[0]
        if self.y is not None:
            object.__setattr__(self, "y", check_labels(self.y, n, name="y"))
        names = self.view_names
        if names is None:
            names = [f"view_{j}" for j in range(len(views))]
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TypeError(f"view_names must be a list of str, got {type(names).__name__}")
        names = list(names)
        if len(names) != len(views) or not all(isinstance(s, str) for s in names):
            raise ValueError(
                f"view_names must be {len(views)} strings (one per view), got {names!r}"
            )
        object.__setattr__(self, "view_names", names)
        for attr in ("description", "name"):
            if not isinstance(getattr(self, attr), str):
                raise TypeError(f"{attr} must be a str, got {type(getattr(self, attr)).__name__}")
        if not isinstance(self.extras, dict):
            raise TypeError(f"extras must be a dict, got {type(self.extras).__name__}")
        object.__setattr__(self, "extras", dict(self.extras))  # a shallow copy: ours to convert
        if isinstance(self.sample_extras, str) or not isinstance(self.sample_extras, (tuple, list)):
            raise TypeError(
                "sample_extras must be a tuple of keys of extras, got "
                f"{type(self.sample_extras).__name__} {self.sample_extras!r:.40}"
            )
        object.__setattr__(self, "sample_extras", tuple(self.sample_extras))
        for key in self.sample_extras:
            if key not in self.extras:
                raise ValueError(f"sample_extras names {key!r}, which is not a key of extras")
            value = self.extras[key]
            # per-sample tensors are stored as numpy arrays (detached, on the CPU)
            if isinstance(value, (list, tuple)):
                value = [to_numpy(v, name=f"extras[{key!r}]") for v in value]
            else:
                value = to_numpy(value, name=f"extras[{key!r}]")
            self.extras[key] = value
            parts = value if isinstance(value, (list, tuple)) else [value]
            for part in parts:
                if np.shape(part)[:1] != (n,):
                    raise ValueError(
                        f"extras[{key!r}] must have {n} rows (one per sample), "
                        f"got shape {np.shape(part)}"
                    )

    @property
    def n_samples(self) -> int:
        """Number of samples (rows of every view)."""
        return int(self.views[0].shape[0])

    @property
    def n_views(self) -> int:
        """Number of views."""
        return len(self.views)

    @property
    def n_features(self) -> list[int]:
        """Number of features of each view."""
        return [int(v.shape[1]) for v in self.views]

    def __repr__(self) -> str:
        pairs = zip(self.view_names, self.n_features, strict=True)
        views = ", ".join(f"{s}: {d}" for s, d in pairs)
        if self.y is None:
            labels = "y: None"
        else:
            labels = f"y: {len(np.unique(self.y))} classes"
        extras = f"extras: {sorted(self.extras)}" if self.extras else "extras: {}"
        return (
            f"MultiViewDataset({self.name!r}, n_samples={self.n_samples}, "
            f"{self.n_views} views ({views}), {labels}, {extras})"
        )

    def subset(self, indices: Any) -> MultiViewDataset:
        """The data set restricted to the samples ``indices`` (1-D integer array or boolean mask).

        Views, ``y`` and the per-sample extras (``sample_extras``) are indexed; other extras are
        shared with the original.
        """
        idx = np.asarray(to_numpy(indices, name="indices"))
        if idx.ndim != 1 or idx.dtype.kind not in "biu":
            raise TypeError("indices must be a 1-D array of integers or a boolean mask")
        if idx.dtype.kind == "b":
            if idx.shape[0] != self.n_samples:
                raise ValueError(
                    f"indices is a boolean mask of length {idx.shape[0]}, expected {self.n_samples}"
                )
            idx = np.flatnonzero(idx)
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_samples):
            raise ValueError(
                f"indices must be in [0, {self.n_samples}), got values {idx.min()}..{idx.max()}"
            )
        extras = dict(self.extras)
        for key in self.sample_extras:
            value = extras[key]
            if isinstance(value, (list, tuple)):
                extras[key] = [np.asarray(v)[idx] for v in value]
            else:
                extras[key] = np.asarray(value)[idx]
        return MultiViewDataset(
            views=[v[idx] for v in self.views],
            y=None if self.y is None else self.y[idx],
            view_names=list(self.view_names),
            description=self.description,
            extras=extras,
            name=self.name,
            sample_extras=self.sample_extras,
        )

    def train_test_split(
        self, test_size: float | int = 0.25, random_state: int | None = 0, stratify: bool = True
    ) -> tuple[MultiViewDataset, MultiViewDataset]:
        """Split the samples into a training and a test set (all views split alike).

        Parameters
        ----------
        test_size : float in (0, 1) or int
            Fraction of the samples (float) or number of samples (int) in the test set.
        random_state : int or None, default=0
            Seed of the shuffle (scikit-learn's ``train_test_split``).
        stratify : bool, default=True
            Keep the class proportions of ``y`` in both parts (ignored when ``y`` is None).

        Returns
        -------
        train, test : MultiViewDataset
            With ``n_samples - n_test`` and ``n_test`` samples.
        """
        from sklearn.model_selection import train_test_split

        n = self.n_samples
        if isinstance(test_size, (bool, np.bool_)):
            raise TypeError(f"test_size must be a float in (0, 1) or an int, got {test_size!r}")
        if isinstance(test_size, (int, np.integer)):
            test_size = check_positive_int(test_size, "test_size")
            if test_size >= n:
                raise ValueError(f"test_size must be < n_samples = {n}, got {test_size}")
            n_test = test_size
        else:
            test_size = check_fraction(test_size, "test_size", low_inclusive=False)
            n_test = int(np.ceil(test_size * n))  # scikit-learn's rounding
            if n_test >= n:
                raise ValueError(
                    f"test_size={test_size} leaves no training sample out of n_samples = {n}"
                )
        if not isinstance(stratify, (bool, np.bool_)):
            raise TypeError(f"stratify must be a bool, got {type(stratify).__name__}")
        random_state = check_seed(random_state, "random_state")
        strata = self.y if (stratify and self.y is not None) else None
        if strata is not None:
            classes, counts = np.unique(strata, return_counts=True)
            if counts.min() < 2:
                raise ValueError(
                    f"stratify=True needs at least 2 samples of every class in y; class "
                    f"{classes[np.argmin(counts)]} has 1. Use stratify=False or drop it"
                )
            for part, size in (("test", n_test), ("training", n - n_test)):
                if size < classes.size:
                    raise ValueError(
                        f"test_size={test_size} gives a {part} set of {size} samples, fewer than "
                        f"the {classes.size} classes a stratified split must put in it; "
                        "change test_size or use stratify=False"
                    )
        train, test = train_test_split(
            np.arange(n), test_size=test_size, random_state=random_state, stratify=strata
        )
        return self.subset(np.sort(train)), self.subset(np.sort(test))


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _check_pair_of_ints(value: Any, name: str, minimum: int = 1) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be an int or a pair of ints (one per view), got {value!r}")
    first, second = (
        check_positive_int(v, f"{name}[{j}]", minimum=minimum) for j, v in enumerate(value)
    )
    return first, second


def _random_mixing(rng: np.random.Generator, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A well-conditioned random matrix ``A = Q diag(s)``: Q Haar-orthogonal, s in [0.5, 2]."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))  # Haar measure on the orthogonal group
    s = rng.uniform(0.5, 2.0, size=d)
    return q * s, q, s


def _digits_sample(
    n_samples: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits scaled to [0, 1], and the rows a generator draws from them.

    Parameters
    ----------
    n_samples : int or None
        None: every image once, in order; else ``n_samples`` rows drawn uniformly by ``rng``
        (with replacement only when more are asked for than the 1,797 there are).
    rng : numpy.random.Generator

    Returns
    -------
    images : ndarray of shape (1797, 8, 8), float64 in [0, 1]
    labels : ndarray of shape (1797,), int64
    index : ndarray of shape (n,), int
        The rows used, into ``images`` and ``labels``.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    labels = digits.target.astype(np.int64)
    n_total = images.shape[0]
    if n_samples is None:
        return images, labels, np.arange(n_total)
    return images, labels, rng.choice(n_total, size=n_samples, replace=n_samples > n_total)


def _data_file(name: str) -> Any:
    return resources.files("mmlib").joinpath("data", name)


def _load_npz(name: str) -> dict[str, np.ndarray]:
    with _data_file(name).open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}
