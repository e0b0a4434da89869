"""The contract every deep estimator of mmlib follows, written once: :class:`DeepEstimator`.

scikit-learn's contract, with views instead of ``X``:

- ``fit(views, y=None, val_views=None)`` validates the views once, seeds torch, builds the
  module (deep copies of custom ``encoders``, so the modules passed stay untouched), trains it
  with :func:`mmlib.training.train`'s loop and returns ``self``. Learned attributes end in
  ``_``: ``module_`` (the trained ``torch.nn.Module``, eval mode), ``history_``
  (:class:`mmlib.training.History`), ``device_`` and ``n_features_in_``.
- ``get_params`` / ``set_params`` are the constructor's arguments (:mod:`mmlib._params`), so
  ``sklearn.base.clone`` works; the estimators pickle, and a pickle remembers the mmlib version
  that wrote it.

One output convention:

- ``transform(views)`` is the method's representation, one sentence per family in each class:
  DCCA the canonical variates of each view (a list); DGCCA the estimate of the shared ``G``;
  GMC, FusionAE and MVAE the joint code of the modalities present; MMV
  ``{space: {modality: (n, e)}}``. Every output is float64 numpy, computed in eval mode
  without gradient.
- ``transform_views(views)`` is a list with each view's own code (``(n, e_j)`` arrays), for
  every estimator that has per-view codes.
- A missing modality is ``None`` in its slot, wherever the method can work without it
  (``transform_views`` then returns ``None`` in that slot).

A subclass writes only what is its own: :meth:`DeepEstimator._build` (the module and its loss,
called after seeding), and where needed :meth:`~DeepEstimator._check_fit_views`,
:meth:`~DeepEstimator._training_views` (preprocessing) and :meth:`~DeepEstimator._after_fit`.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from mmlib._checks import check_array, check_is_fitted, check_n_features, check_views
from mmlib._params import ParamsMixin
from mmlib.models._common import _check_encoders
from mmlib.training import _check_seed, _refuse_meta, _train, resolve_device

# the training settings an estimator passes on to the loop, when it has them as parameters
_TRAIN_OPTIONS = ("epochs", "batch_size", "lr", "optimizer", "weight_decay", "patience")
_VERSION_KEY = "_mmlib_version"


def estimator_parameters(cls: type) -> type:
    """Class decorator: the class's annotated attributes become its constructor's parameters.

    ``x: int = 2`` in the class body declares the parameter ``x`` (default 2) of ``__init__``,
    stored under its own name, as scikit-learn asks; a subclass's parameters follow its
    parent's, in order. This is :func:`dataclasses.dataclass` without its ``repr`` and ``==``
    (the estimators keep :class:`~mmlib._params.ParamsMixin`'s repr and compare by identity).
    """
    return dataclasses.dataclass(repr=False, eq=False)(cls)


class DeepEstimator(ParamsMixin, abc.ABC):
    """Base of the deep estimators: fit, forward passes, device, seeding, pickling.

    A subclass declares its parameters as annotated class attributes under
    :func:`estimator_parameters` (or in an explicit ``__init__`` that stores them with
    :meth:`_store_params`, where a parameter must sit between its parent's) and defines
    :meth:`_build`. The base reads ``device``, ``random_state``, ``progress``, ``encoders`` and
    the training settings among the parameters.
    """

    _min_views: int = 2
    _max_views: int | None = None

    def _store_params(self, args: dict) -> None:
        """Store the constructor's arguments (``locals()`` of ``__init__``) under their names."""
        for name in self._param_names():
            setattr(self, name, args[name])

    # ---- hooks ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _build(self, views: list, val_views: list | None) -> tuple[nn.Module, Callable]:
        """The module and ``loss_fn(module, batch)``, from the checked views (torch is seeded)."""

    def _check_fit_views(self, views, name: str = "views") -> list[np.ndarray]:
        """``views`` checked once: finite 2-D float64 arrays with paired rows."""
        _refuse_meta(views, name)
        return check_views(views, min_views=self._min_views, max_views=self._max_views, name=name)

    def _n_features(self, views: list) -> list[int]:
        """The width of each checked view (``n_features_in_``)."""
        return [v.shape[1] for v in views]

    def _training_views(self, views: list, val_views: list | None) -> tuple[list, list | None]:
        """What the loop trains on (a subclass may preprocess, e.g. standardise)."""
        return views, val_views

    def _after_fit(self, views: list) -> None:
        """What the method learns after the networks (e.g. a linear CCA of their outputs)."""

    # ---- fit -----------------------------------------------------------------------------

    def fit(self, views, y=None, val_views=None):
        """Train on the views (``y`` unused); ``val_views`` (same form) for validation.

        Returns
        -------
        self
        """
        views = self._check_fit_views(views)
        if val_views is not None:
            val_views = self._check_fit_views(val_views, name="val_views")
            check_n_features(val_views, self._n_features(views), name="val_views")
        train_views, train_val = self._training_views(views, val_views)
        seed = _check_seed(self.random_state)
        if seed is not None:
            torch.manual_seed(seed)
        module, loss_fn = self._build(views, val_views)
        self.device_ = resolve_device(self.device)
        options = {k: getattr(self, k) for k in _TRAIN_OPTIONS if k in self._param_names()}
        self.history_ = _train(
            module,
            loss_fn,
            train_views,
            val_views=train_val,
            device=self.device_,
            random_state=self.random_state,
            progress=self.progress,
            **options,
        )
        self.module_ = module
        self.n_features_in_ = self._n_features(views)
        self._after_fit(views)
        return self

    def fit_transform(self, views, y=None, val_views=None):
        """``fit(views)`` then ``transform(views)``."""
        return self.fit(views, val_views=val_views).transform(views)

    def _copied_encoders(self, n_views: int | None = None, unit: str = "view") -> list | None:
        """Deep copies of the ``encoders`` parameter (``None`` when it is not set), checked."""
        if self.encoders is None:
            return None
        return [copy.deepcopy(f) for f in _check_encoders(self.encoders, n_views, unit=unit)]

    # ---- forward passes after fit --------------------------------------------------------

    def _check_new_views(self, views) -> list[np.ndarray]:
        """Views to transform: checked as in ``fit``, with the widths seen in ``fit``."""
        check_is_fitted(self, "module_")
        views = self._check_fit_views(views)
        check_n_features(views, self.n_features_in_)
        return views

    def _check_views_with_gaps(self, views, unit: str = "view") -> list[np.ndarray | None]:
        """Views to transform, ``None`` for a missing one: the present ones checked and paired."""
        check_is_fitted(self, "module_")
        n_views = len(self.n_features_in_)
        if not isinstance(views, (list, tuple)):
            raise TypeError(
                f"views must be a list with one entry per {unit} ({n_views}); use None for a "
                f"missing one; got {type(views).__name__}"
            )
        if len(views) != n_views:
            raise ValueError(
                f"views must have one entry per {unit} ({n_views}, None for a missing one), "
                f"got {len(views)}"
            )
        if all(v is None for v in views):
            raise ValueError("every entry of views is None: at least one must be present")
        _refuse_meta(views, "views")
        out = [
            None if v is None else check_array(v, name=f"views[{j}]") for j, v in enumerate(views)
        ]
        rows = {j: v.shape[0] for j, v in enumerate(out) if v is not None}
        if len(set(rows.values())) > 1:
            counts = ", ".join(f"views[{j}] has {n}" for j, n in rows.items())
            raise ValueError(f"the views must have the same number of samples (rows): {counts}")
        for j, (v, d) in enumerate(zip(out, self.n_features_in_, strict=True)):
            if v is not None and v.shape[1] != d:
                raise ValueError(
                    f"views[{j}] has {v.shape[1]} features but the estimator was fitted with {d}"
                )
        return out

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        """``array`` in the module's dtype, on its device."""
        dtype = next(self.module_.parameters()).dtype
        return torch.as_tensor(array, dtype=dtype).to(self.device_)

    def _no_grad(self, forward: Callable, *args):
        """``forward(*args)`` with the module in eval mode and without gradient."""
        self.module_.eval()
        with torch.no_grad():
            return forward(*args)

    @staticmethod
    def _numpy(tensor: torch.Tensor) -> np.ndarray:
        """A float64 numpy copy of ``tensor`` (exact from float32)."""
        return tensor.detach().to(torch.float64).cpu().numpy()

    # ---- pickling ------------------------------------------------------------------------

    def __getstate__(self) -> dict:
        from mmlib import __version__

        return {**self.__dict__, _VERSION_KEY: __version__}

    def __setstate__(self, state: dict) -> None:
        from mmlib import __version__

        state = dict(state)
        version = state.pop(_VERSION_KEY, None)  # None: written by mmlib 0.1.0
        if version is not None and version != __version__:
            warnings.warn(
                f"this {type(self).__name__} was pickled by mmlib {version} and is loaded by "
                f"mmlib {__version__}: if transform fails or its outputs look wrong, fit it again "
                "with this version",
                UserWarning,
                stacklevel=2,
            )
        self.__dict__.update(state)
