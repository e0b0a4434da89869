r"""Evaluate learned representations when a modality is missing or corrupted.

One protocol for every family of the book (the chapter "Which method when"):

* :func:`corrupt_modality` -- remove one modality of a list of views (``None`` in its slot) or
  add Gaussian noise of a given strength, relative to the view's per-feature standard deviation:
  :math:`\tilde X_m = X_m + \sigma\, \varepsilon \odot s_m`, :math:`\varepsilon \sim N(0, I)`.
* :class:`Condition` -- one test condition (complete, one modality missing, one modality noisy).
* :func:`modality_codes` -- one code per modality from a fitted estimator (CCA, GCCA, DCCA,
  DGCCA, GMC and its baselines, MMV), in the space where the modalities meet.
* :func:`joint_codes` -- one code per sample from the modalities that are present.
* :func:`evaluate_conditions` -- the same linear probe (the standardised logistic regression of
  :func:`mmlib.metrics.linear_probe`), fitted once on the complete training codes and scored
  under every condition; a tidy :class:`pandas.DataFrame`.

How each family gives a code when modalities are missing (:func:`joint_codes`): the
correlation family (CCA, GCCA, DCCA, DGCCA) projects each view on its own, so the joint code is
the mean of the per-view codes of the present views; GMC, FusionAE and MVAE (whose ``transform``
returns one code for the modalities present, ``None`` marking an absent one) encode the present
modalities themselves; MMV averages the present modalities' embeddings in the space where all
three meet (its ``transform_views``). A supervised fusion model has no per-view code and no
``transform``: pass ``encode`` instead (for example its logits with the missing modality
zero-filled), as the chapter does.

Nothing here imports torch: the estimators are read through the deep estimators' contract
(``mmlib.models._estimator``): ``transform`` returns per-view codes (a list), one joint code
(an array) or something else, and ``transform_views`` gives the per-view codes of the last two.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmlib._checks import check_array, check_labels, check_positive_float, check_random_state

__all__ = [
    "Condition",
    "corrupt_modality",
    "evaluate_conditions",
    "joint_codes",
    "modality_codes",
]


def _modality_index(modality: Any, n_views: int, view_names: Sequence[str] | None) -> int:
    """``modality`` (an index or a name) as an index in ``range(n_views)``; checked."""
    if isinstance(modality, str):
        if view_names is None:
            raise ValueError(
                f"modality {modality!r} is a name but no view_names were given; pass view_names "
                "or an index"
            )
        names = list(view_names)
        if modality not in names:
            raise ValueError(f"unknown modality {modality!r}; known modalities: {', '.join(names)}")
        return names.index(modality)
    if isinstance(modality, (bool, np.bool_)) or not isinstance(modality, numbers.Integral):
        raise TypeError(
            f"modality must be an int index or a str name, got {type(modality).__name__} "
            f"{modality!r:.40}"
        )
    if not 0 <= int(modality) < n_views:
        raise ValueError(
            f"modality index {int(modality)} is out of range: there are {n_views} views "
            f"(0..{n_views - 1})"
        )
    return int(modality)


def _check_view_names(view_names: Any, n_views: int) -> list[str] | None:
    if view_names is None:
        return None
    if isinstance(view_names, str) or not isinstance(view_names, (list, tuple)):
        raise TypeError(f"view_names must be a list of str, got {type(view_names).__name__}")
    if len(view_names) != n_views or not all(isinstance(s, str) for s in view_names):
        raise ValueError(f"view_names must be {n_views} strings (one per view), got {view_names!r}")
    return list(view_names)


def _check_view_list(views: Any, name: str, allow_none: bool) -> list[np.ndarray | None]:
    """A list of 2-D float64 views with paired rows; ``None`` entries kept when allowed."""
    if isinstance(views, np.ndarray) or not isinstance(views, (list, tuple)):
        raise TypeError(
            f"{name} must be a list of arrays (one per view), got {type(views).__name__}"
        )
    if len(views) == 0:
        raise ValueError(f"{name} is empty: give at least one view")
    out: list[np.ndarray | None] = []
    for j, v in enumerate(views):
        if v is None:
            if not allow_none:
                raise ValueError(f"{name}[{j}] is None: every view must be present here")
            out.append(None)
        else:
            out.append(check_array(v, name=f"{name}[{j}]"))
    present = [v for v in out if v is not None]
    if not present:
        raise ValueError(f"every entry of {name} is None: at least one view must be present")
    rows = {v.shape[0] for v in present}
    if len(rows) > 1:
        counts = ", ".join(
            f"{name}[{j}] has {v.shape[0]}" for j, v in enumerate(out) if v is not None
        )
        raise ValueError(f"the views of {name} must have the same number of rows: {counts}")
    return out


def corrupt_modality(
    views,
    modality: int | str,
    noise: float = 0.0,
    *,
    remove: bool = False,
    view_names: Sequence[str] | None = None,
    scale=None,
    random_state: int | np.random.Generator | None = 0,
) -> list[np.ndarray | None]:
    r"""A copy of ``views`` with one modality removed or corrupted by Gaussian noise.

    With ``remove=True`` the modality's slot holds ``None`` (the convention of
    :meth:`mmlib.models.GMC.transform` for an absent modality). Otherwise

    .. math:: \tilde X_m = X_m + \sigma\, \varepsilon \odot s_m,
              \qquad \varepsilon_{ij} \sim N(0, 1),

    where :math:`\sigma` is ``noise`` and :math:`s_m` the per-feature standard deviation of the
    view (or ``scale``): ``noise=1`` adds noise as large as the signal's own spread, feature by
    feature. A constant feature (:math:`s = 0`) gets no noise. The other views are the same
    objects as in ``views`` (not copied).

    Parameters
    ----------
    views : list of array-like (n, d_j)
        The views, rows paired. Entries may already be ``None`` (absent).
    modality : int or str
        The view to corrupt or remove: an index, or a name from ``view_names``.
    noise : float >= 0, default 0
        :math:`\sigma`, the noise standard deviation relative to the view's. Ignored when
        ``remove`` is True.
    remove : bool, default False
        Put ``None`` in the modality's slot instead of adding noise.
    view_names : list of str, optional
        One name per view, so that ``modality`` may be a name.
    scale : array-like (d_m,), optional
        The per-feature standard deviations :math:`s_m` to use (e.g. those of the training
        data); default: those of ``views[modality]`` itself (``ddof=0``).
    random_state : int, numpy.random.Generator or None, default 0
        Seed of the noise. The same seed gives the same :math:`\varepsilon` for every ``noise``,
        so a robustness curve varies the strength only.

    Returns
    -------
    list
        The views, with ``None`` or the noisy array in the modality's slot.

    Raises
    ------
    ValueError
        Unknown modality (name or index), ``noise < 0`` or not finite, a modality that is
        already ``None`` when noise is asked for, ``scale`` of the wrong length or negative.
    TypeError
        ``views`` not a list, ``modality`` neither int nor str, ``remove`` not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> views = [np.ones((3, 2)), np.arange(6.0).reshape(3, 2)]
    >>> corrupt_modality(views, 0, remove=True)[0] is None
    True
    """
    views = _check_view_list(views, "views", allow_none=True)
    names = _check_view_names(view_names, len(views))
    m = _modality_index(modality, len(views), names)
    if not isinstance(remove, (bool, np.bool_)):
        raise TypeError(f"remove must be True or False, got {type(remove).__name__}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)
    out = list(views)
    if remove:
        out[m] = None
        return out
    X = views[m]
    if X is None:
        raise ValueError(f"views[{m}] is None (absent): there is nothing to add noise to")
    if scale is None:
        s = X.std(axis=0)
    else:
        s = check_array(scale, name="scale", ndim=1)
        if s.shape[0] != X.shape[1]:
            raise ValueError(
                f"scale has {s.shape[0]} entries but views[{m}] has {X.shape[1]} features"
            )
        if np.any(s < 0):
            raise ValueError("scale holds negative standard deviations")
    out[m] = X + noise * rng.standard_normal(X.shape) * s
    return out


@dataclass(frozen=True)
class Condition:
    """One test condition: complete, one modality missing, or one modality corrupted by noise.

    Parameters
    ----------
    modality : int, str or None, default None
        The view affected (index or name); ``None``: every modality complete and clean.
    noise : float >= 0, default 0
        Noise strength relative to the view's standard deviation (see :func:`corrupt_modality`).
    remove : bool, default False
        The modality is missing at test time.

    Examples
    --------
    >>> Condition().label, Condition("sound", remove=True).label, Condition(0, noise=0.5).label
    ('complete', 'sound missing', '0 noise 0.5')
    """

    modality: int | str | None = None
    noise: float = 0.0
    remove: bool = False

    def __post_init__(self) -> None:
        if self.modality is not None and (
            isinstance(self.modality, (bool, np.bool_))
            or not isinstance(self.modality, (str, numbers.Integral))
        ):
            raise TypeError(
                f"modality must be None, an int index or a str name, got {self.modality!r:.40}"
            )
        check_positive_float(self.noise, "noise", allow_zero=True)
        if not isinstance(self.remove, (bool, np.bool_)):
            raise TypeError(f"remove must be True or False, got {type(self.remove).__name__}")
        if self.modality is None and (self.remove or self.noise > 0):
            raise ValueError("a condition that removes or corrupts a view must name its modality")

    @property
    def kind(self) -> str:
        """``"complete"``, ``"missing"`` or ``"noise"``."""
        if self.remove:
            return "missing"
        return "noise" if self.modality is not None and self.noise > 0 else "complete"

    @property
    def label(self) -> str:
        """A short name for tables and legends."""
        if self.kind == "missing":
            return f"{self.modality} missing"
        if self.kind == "noise":
            return f"{self.modality} noise {self.noise:g}"
        return "complete" if self.modality is None else f"{self.modality} clean"


def _check_estimator(estimator: Any) -> None:
    if not callable(getattr(estimator, "transform", None)):
        raise TypeError(
            f"estimator must be a fitted model with a transform method, got "
            f"{type(estimator).__name__}. A supervised fusion model (e.g. "
            "mmlib.models.FusionClassifier) has no per-view code: pass encode=... (a function "
            "from a list of views, None for a missing one, to an (n, e) array) instead"
        )


def _fill_missing(views: list, widths: Sequence[int] | None) -> list:
    """``views`` with ``None`` replaced by zeros of the right width."""
    if all(v is not None for v in views):
        return list(views)
    if widths is None:
        raise ValueError(
            "the estimator does not expose n_features_in_, so the width of a missing view is "
            "unknown; pass widths"
        )
    n = next(v for v in views if v is not None).shape[0]
    return [np.zeros((n, widths[j])) if v is None else v for j, v in enumerate(views)]


def _generalized(estimator: Any) -> bool:
    """GCCA or DGCCA: each view's own estimate of ``G`` is its code."""
    return hasattr(estimator, "eigenvalues_") and hasattr(estimator, "transform_views")


def _per_view(estimator: Any, views: list, out: Any = None) -> list[np.ndarray | None]:
    """Per-view codes, by family (see the module docstring); ``out`` is ``transform(views)``."""
    if hasattr(estimator, "gcca_") and _generalized(estimator):  # DGCCA
        return list(estimator.gcca_.transform_views(estimator.transform_views(views)))
    if _generalized(estimator):  # GCCA
        return list(estimator.transform_views(views))
    out = estimator.transform(views) if out is None else out
    if isinstance(out, (list, tuple)):  # CCA, DCCA and any model with per-view transform
        return [None if z is None else np.asarray(z, dtype=np.float64) for z in out]
    if callable(getattr(estimator, "transform_views", None)):  # GMC, FusionAE, MVAE, MMV
        return [None if z is None else np.asarray(z, dtype=np.float64)
                for z in estimator.transform_views(views)]  # fmt: skip
    raise TypeError(
        f"{type(estimator).__name__}.transform returned {type(out).__name__}, not one code per "
        "view, and it has no transform_views: the estimator gives no per-view codes"
    )


def modality_codes(estimator, views, *, widths: Sequence[int] | None = None) -> list[np.ndarray]:
    """One code per modality, ``[Z_1, ..., Z_M]``, in the space where the modalities meet.

    - CCA, DCCA, or any estimator whose ``transform`` returns a list: that list;
    - GCCA: ``transform_views`` (each view's own estimate of ``G``); DGCCA: the same, on the
      networks' outputs;
    - GMC, FusionAE, MVAE, MMV: ``transform_views``, the code of each modality alone (MMV: each
      modality's embedding in the space holding all three, ``"vat"``).

    Parameters
    ----------
    estimator : fitted estimator with ``transform``
    views : list of array-like (n, d_m)
        All modalities present.
    widths : list of int, optional
        Unused here; accepted for symmetry with :func:`joint_codes`.

    Returns
    -------
    list of ndarray (n, e)

    Raises
    ------
    TypeError
        The estimator has no ``transform``, or its ``transform`` gives no per-view codes (a
        fused code only).
    """
    _check_estimator(estimator)
    views = _check_view_list(views, "views", allow_none=False)
    return _per_view(estimator, views)


def joint_codes(estimator, views, *, widths: Sequence[int] | None = None) -> np.ndarray:
    """One code per sample from the modalities present (``None`` marks a missing one).

    With every modality present this is the mean of :func:`modality_codes` for the correlation
    family and MMV, and the joint (complete) code for GMC and its baselines. With some missing:
    the mean of the present modalities' codes (correlation family, MMV), or the estimator's own
    code of the present subset (``transform(views)`` with ``None`` entries: GMC, FusionAE,
    MVAE).

    Parameters
    ----------
    estimator : fitted estimator with ``transform``
    views : list of array-like (n, d_m) or None
        At least one modality present.
    widths : list of int, optional
        Feature counts of the views, needed for a missing view when the estimator has no
        ``n_features_in_``.

    Returns
    -------
    ndarray (n, e)
    """
    _check_estimator(estimator)
    views = _check_view_list(views, "views", allow_none=True)
    present = [j for j, v in enumerate(views) if v is not None]
    if _generalized(estimator) or not hasattr(estimator, "transform_views"):
        # the linear estimators and DGCCA need every view: zeros stand in for a missing one
        if widths is None:
            widths = getattr(estimator, "n_features_in_", None)
        codes = _per_view(estimator, _fill_missing(views, widths))
    else:  # the deep estimators take None for a missing modality
        out = estimator.transform(views)
        if isinstance(out, np.ndarray):  # GMC, FusionAE, MVAE: the code of the present subset
            return np.asarray(out, dtype=np.float64)
        codes = _per_view(estimator, views, out)
    return np.mean([codes[j] for j in present], axis=0)


def _check_conditions(conditions: Any, n_views: int, names: list[str] | None) -> list[Condition]:
    if isinstance(conditions, Condition):
        conditions = [conditions]
    if not isinstance(conditions, (list, tuple)) or not conditions:
        raise TypeError("conditions must be a non-empty list of mmlib.evaluation.Condition")
    for c in conditions:
        if not isinstance(c, Condition):
            raise TypeError(f"conditions must hold Condition objects, got {type(c).__name__}")
        if c.modality is not None:
            _modality_index(c.modality, n_views, names)
    return list(conditions)


def _check_train_test(train_views, test_views) -> tuple[list, list]:
    """Complete train and test views with the same number of views and features."""
    train_views = _check_view_list(train_views, "train_views", allow_none=False)
    test_views = _check_view_list(test_views, "test_views", allow_none=False)
    if len(train_views) != len(test_views):
        raise ValueError(
            f"train_views has {len(train_views)} views but test_views has {len(test_views)}"
        )
    for j, (a, b) in enumerate(zip(train_views, test_views, strict=True)):
        if a.shape[1] != b.shape[1]:
            raise ValueError(
                f"train_views[{j}] has {a.shape[1]} features but test_views[{j}] has {b.shape[1]}"
            )
    return train_views, test_views


def evaluate_conditions(
    estimator,
    train_views,
    y_train,
    test_views,
    y_test,
    conditions: Sequence[Condition],
    *,
    encode: Callable[[list], Any] | None = None,
    view_names: Sequence[str] | None = None,
    C: float = 1.0,
    max_iter: int = 1000,
    random_state: int | None = 0,
):
    """Probe accuracy of a fitted estimator's codes under each test condition, as a table.

    The probe is :func:`mmlib.metrics.linear_probe`'s standardised logistic regression, fitted
    once on the codes of the complete training views (:func:`joint_codes`) and scored on the
    codes of the test views under each condition (through
    :func:`mmlib.metrics.missing_modality_accuracy`): a model whose codes move when a modality is
    missing or noisy loses accuracy. The noise of a condition is scaled by the *training* view's
    per-feature standard deviation and seeded with ``random_state``.

    Parameters
    ----------
    estimator : fitted estimator with ``transform``, or None
        Any model :func:`joint_codes` reads (CCA, GCCA, DCCA, DGCCA, GMC, FusionAE, MVAE, MMV,
        or one whose ``transform`` returns one code per view). ``None`` when ``encode`` is given.
    train_views, test_views : list of array-like (n, d_m)
        Complete views (training rows for the probe, test rows for the conditions).
    y_train, y_test : array-like of class labels
    conditions : list of Condition
    encode : callable, optional
        ``encode(views) -> (n, e)`` used instead of ``estimator`` (views may hold ``None`` for a
        missing modality). The path for a model without per-view codes, e.g. a supervised fusion
        whose logits (missing modality zero-filled) the probe reads, or raw features.
    view_names : list of str, optional
        Names of the views, so that conditions may name modalities.
    C, max_iter
        As in :func:`mmlib.metrics.linear_probe`.
    random_state : int or None, default 0
        Seed of the noise.

    Returns
    -------
    pandas.DataFrame
        One row per condition, in order, with columns ``condition`` (its label), ``kind``
        (``complete``/``missing``/``noise``), ``modality`` (the name when ``view_names`` is
        given, else the index; ``None`` for complete), ``noise`` and ``accuracy`` (in [0, 1]).

    Raises
    ------
    TypeError
        An estimator without ``transform`` (and no ``encode``), both or neither of
        ``estimator`` and ``encode``, conditions that are not :class:`Condition`.
    ValueError
        A condition naming an unknown modality; train and test views of different widths.
    """
    try:
        import pandas as pd
    except ImportError as err:  # not a core dependency of mmlib
        raise ImportError(
            "evaluate_conditions returns a pandas DataFrame: pip install 'mmlib[book]' or pandas"
        ) from err

    from mmlib.metrics import missing_modality_accuracy

    if encode is not None and estimator is not None:
        raise TypeError("give either estimator or encode, not both")
    if encode is None:
        if estimator is None:
            raise TypeError("give a fitted estimator or an encode function")
        _check_estimator(estimator)
    elif not callable(encode):
        raise TypeError(f"encode must be callable, got {type(encode).__name__}")
    train_views, test_views = _check_train_test(train_views, test_views)
    names = _check_view_names(view_names, len(train_views))
    conditions = _check_conditions(conditions, len(train_views), names)
    y_train = check_labels(y_train, train_views[0].shape[0], name="y_train")
    y_test = check_labels(y_test, test_views[0].shape[0], name="y_test")
    widths = [v.shape[1] for v in train_views]
    scales = [v.std(axis=0) for v in train_views]

    def codes(views):
        if encode is not None:
            return check_array(encode(views), name="encode(views)")
        return joint_codes(estimator, views, widths=widths)

    Z_test, rows = {}, []
    for i, c in enumerate(conditions):
        views = list(test_views)
        modality = None
        if c.modality is not None:
            m = _modality_index(c.modality, len(views), names)
            modality = names[m] if names is not None else m
            if c.remove or c.noise > 0:
                views = corrupt_modality(
                    views, m, c.noise, remove=c.remove, scale=scales[m], random_state=random_state
                )
        Z_test[str(i)] = codes(views)
        rows.append({"condition": c.label, "kind": c.kind, "modality": modality, "noise": c.noise})
    acc = missing_modality_accuracy(
        codes(list(train_views)), y_train, Z_test, y_test, C=C, max_iter=max_iter
    )
    for i, row in enumerate(rows):
        row["accuracy"] = acc[str(i)]
        if not math.isfinite(row["accuracy"]):
            raise ValueError(f"condition {row['condition']!r} gave a non-finite accuracy")
    return pd.DataFrame(rows, columns=["condition", "kind", "modality", "noise", "accuracy"])
