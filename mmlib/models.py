"""Deep multiview models: torch modules plus scikit-learn style ``fit`` / ``transform`` wrappers.

- :class:`DCCAModule` / :class:`DCCA`: Deep CCA (Andrew et al., 2013), two networks trained on
  :func:`mmlib.losses.cca_loss`, then a linear CCA of their outputs.
- :class:`DGCCAModule` / :class:`DGCCA`: Deep Generalized CCA (Benton et al., 2017), one network
  per view trained on :func:`mmlib.losses.gcca_loss`, then a linear GCCA of their outputs.

The modules are plain ``torch.nn.Module`` subclasses (usable in any training loop); the estimators train
them with :func:`mmlib.training.train` and keep its :class:`~mmlib.training.History`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    check_array,
    check_is_fitted,
    check_n_components,
    check_n_features,
    check_positive_float,
    check_positive_int,
    check_reg,
    check_views,
)
from mmlib._params import ParamsMixin
from mmlib.linear import CCA, GCCA
from mmlib.losses import _check_objective, cca_loss, gcca_loss
from mmlib.nets import make_encoders
from mmlib.training import _check_seed, _refuse_meta, resolve_device, smallest_batch, train

__all__ = ["DCCA", "DCCAModule", "DGCCA", "DGCCAModule"]


def _check_encoders(encoders, n_views: int | None, name: str = "encoders") -> list[nn.Module]:
    """``encoders`` as a list of ``nn.Module`` (``n_views`` of them when given)."""
    if isinstance(encoders, nn.Module) and not isinstance(encoders, nn.ModuleList):
        raise TypeError(f"{name} must be a list with one torch.nn.Module per view, got one module")
    if not isinstance(encoders, (Sequence, nn.ModuleList)) or isinstance(encoders, str):
        raise TypeError(
            f"{name} must be a list with one torch.nn.Module per view, got "
            f"{type(encoders).__name__}"
        )
    encoders = list(encoders)
    for j, f in enumerate(encoders):
        if not isinstance(f, nn.Module):
            raise TypeError(f"{name}[{j}] must be a torch.nn.Module, got {type(f).__name__}")
    if n_views is not None and len(encoders) != n_views:
        raise ValueError(f"{name} must hold {n_views} modules (one per view), got {len(encoders)}")
    if len(encoders) < 2:
        raise ValueError(f"{name} must hold at least 2 modules (one per view), got {len(encoders)}")
    return encoders


def _check_batch(views: Sequence, n_views: int) -> None:
    """A module's forward inputs: ``n_views`` tensors with the same number of rows."""
    if len(views) != n_views:
        raise ValueError(f"expected {n_views} views, got {len(views)}")
    for j, x in enumerate(views):
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"view {j} must be a torch.Tensor, got {type(x).__name__} (convert it with "
                "torch.as_tensor(x, dtype=torch.float32) first)"
            )
    rows = [x.shape[0] if x.ndim else None for x in views]
    if len(set(rows)) != 1:
        raise ValueError(f"the views must have the same number of rows (samples), got {rows}")


def _build_encoders(in_dims, out_dim, hidden, activation, batch_norm, dropout, encoders, n_views):
    """The modules' encoders: ``encoders`` as given, or MLPs from the widths."""
    if encoders is not None:
        if in_dims is not None or out_dim is not None:
            raise ValueError("give either encoders or in_dims and out_dim, not both")
        return _check_encoders(encoders, n_views)
    if in_dims is None or out_dim is None:
        raise ValueError("in_dims and out_dim are needed to build MLP encoders (or give encoders)")
    return list(make_encoders(in_dims, out_dim, hidden, activation, batch_norm, dropout))


class DCCAModule(nn.Module):
    """Two encoders ``f1``, ``f2`` with a common output dimension.

    Either MLPs (:class:`mmlib.nets.MLP`) built from ``in_dims``, ``out_dim`` and the layer
    options, or any two modules given as ``encoders``.

    Parameters
    ----------
    in_dims : pair of int, optional
        Input dimensions ``(d1, d2)`` of the MLPs.
    out_dim : int, optional
        Output dimension ``o`` of both MLPs.
    hidden, activation, batch_norm, dropout
        As in :class:`mmlib.nets.MLP`; ``hidden=()`` gives two linear maps.
    encoders : pair of torch.nn.Module, optional
        Custom networks used as ``f1``, ``f2`` instead of MLPs (then leave ``in_dims`` and
        ``out_dim`` out). Each maps a batch of shape ``(n, d_j)`` to ``(n, o)``.
    """

    def __init__(
        self,
        in_dims: Sequence[int] | None = None,
        out_dim: int | None = None,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        *,
        encoders: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if in_dims is not None and (not isinstance(in_dims, Sequence) or len(in_dims) != 2):
            raise ValueError(f"in_dims must be a pair (d1, d2), got {in_dims!r}")
        self.f1, self.f2 = _build_encoders(
            in_dims, out_dim, hidden, activation, batch_norm, dropout, encoders, 2
        )

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(f1(x1), f2(x2))``, each of shape ``(n, out_dim)``; ``x1``, ``x2`` share ``n``."""
        _check_batch([x1, x2], 2)
        return self.f1(x1), self.f2(x2)


class DGCCAModule(nn.Module):
    """One encoder per view, all with the same output dimension.

    Either MLPs (:class:`mmlib.nets.MLP`) built from ``in_dims``, ``out_dim`` and the layer
    options, or any modules given as ``encoders``.

    Parameters
    ----------
    in_dims : sequence of int, optional
        Input dimension of each of the ``J >= 2`` views.
    out_dim : int, optional
        Output dimension ``o`` of every MLP.
    hidden, activation, batch_norm, dropout
        As in :class:`mmlib.nets.MLP`.
    encoders : sequence of torch.nn.Module, optional
        Custom networks, one per view, instead of MLPs (then leave ``in_dims`` and ``out_dim``
        out).
    """

    def __init__(
        self,
        in_dims: Sequence[int] | None = None,
        out_dim: int | None = None,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        *,
        encoders: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if in_dims is not None and (not isinstance(in_dims, Sequence) or len(in_dims) < 2):
            raise ValueError(f"in_dims must list at least two views' dimensions, got {in_dims!r}")
        self.encoders = nn.ModuleList(
            _build_encoders(
                in_dims, out_dim, hidden, activation, batch_norm, dropout, encoders, None
            )
        )

    def forward(self, *views: torch.Tensor) -> list[torch.Tensor]:
        """``[f_1(x_1), ..., f_J(x_J)]``, each of shape ``(n, out_dim)``."""
        _check_batch(views, len(self.encoders))
        return [f(x) for f, x in zip(self.encoders, views, strict=True)]


class _DeepMultiview(ParamsMixin):
    """What DCCA and DGCCA share: parameters, validation, training and the forward pass.

    ``get_params``/``set_params`` follow scikit-learn, so ``sklearn.base.clone`` and grid searches
    work; like :mod:`mmlib.linear`, the class does not inherit ``BaseEstimator`` because ``fit``
    takes a list of views rather than ``X, y``.
    """

    _max_views: int | None = None

    def __init__(
        self,
        n_components: int = 2,
        hidden: Sequence[int] = (256, 256),
        out_dim: int | None = None,
        activation: str = "relu",
        reg: float = 1e-3,
        epochs: int = 100,
        batch_size: int | None = None,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        patience: int | None = None,
        batch_norm: bool = False,
        dropout: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
        encoders: Sequence[nn.Module] | None = None,
    ) -> None:
        self.n_components = n_components
        self.hidden = hidden
        self.out_dim = out_dim
        self.activation = activation
        self.reg = reg
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.patience = patience
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.device = device
        self.random_state = random_state
        self.progress = progress
        self.encoders = encoders

    def _check_views(self, views, name: str = "views") -> list[np.ndarray]:
        _refuse_meta(views, name)
        return check_views(views, min_views=2, max_views=self._max_views, name=name)

    def _custom_module(self, module_cls, views):
        """The module around copies of ``self.encoders`` and their common output width."""
        encoders = [copy.deepcopy(f) for f in _check_encoders(self.encoders, len(views))]
        widths = []
        for j, (f, v) in enumerate(zip(encoders, views, strict=True)):
            param = next(f.parameters(), None)
            dtype = torch.float32 if param is None else param.dtype
            was_training = f.training
            f.eval()  # a probe of 2 rows, without touching batch-norm statistics
            try:
                with torch.no_grad():
                    out = f(torch.as_tensor(v[:2], dtype=dtype))
            except Exception as err:
                raise ValueError(
                    f"encoders[{j}] failed on rows of views[{j}] (shape (n, {v.shape[1]}), dtype "
                    f"{dtype}): {type(err).__name__}: {err}"
                ) from err
            finally:
                f.train(was_training)
            if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2:
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                raise ValueError(
                    f"encoders[{j}] must map a batch (n, d) to a 2-D tensor (n, o), got {shape} "
                    "for n = 2"
                )
            widths.append(out.shape[1])
        if len(set(widths)) != 1:
            raise ValueError(f"the encoders' output widths must agree, got {widths}")
        if self.out_dim is not None and check_positive_int(self.out_dim, "out_dim") != widths[0]:
            raise ValueError(f"out_dim={self.out_dim} but the encoders output {widths[0]} columns")
        return module_cls(encoders=encoders), widths[0]

    def _check_batches(self, n: int, out_dim: int, k: int, name: str, full: bool) -> None:
        """Refuse mini-batches whose covariance cannot hold ``out_dim`` correlations.

        With ``b`` rows, centred outputs span at most ``b - 1`` directions: when
        ``b - 1 <= out_dim`` every batch correlation is 1 whatever the networks do, and the loss
        is trivially at its minimum (issue of small batches, e.g. ``batch_size=2``)."""
        b = n if full else smallest_batch(n, self.batch_size)
        what = (
            f"{name} has {n} samples"
            if full
            else f"batch_size={self.batch_size} gives mini-batches of as few as {b} rows"
        )
        default = " (n_components, the default out_dim)" if self.out_dim is None else ""
        if b - 1 <= out_dim:
            raise ValueError(
                f"{what}: a covariance of b - 1 = {b - 1} degrees of freedom cannot estimate the "
                f"correlations of out_dim = {out_dim} outputs{default} (every one would be 1, a trivial "
                f"loss). Use batch_size >= {out_dim + 2} (several times more is better) or a "
                "smaller out_dim"
            )
        if b - 1 < k:
            raise ValueError(f"{what}: n_components={k} needs at least {k + 1} rows per batch")

    def _fit_module(self, module_cls, views, val_views, loss_fn):
        """Validate, build the module (seeded) and train it; returns the validated views."""
        views = self._check_views(views)
        if val_views is not None:
            val_views = self._check_views(val_views, name="val_views")
            check_n_features(val_views, [v.shape[1] for v in views], name="val_views")
        k = check_positive_int(self.n_components, "n_components")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size", minimum=2)
        if _check_seed(self.random_state) is not None:
            torch.manual_seed(self.random_state)
        if self.encoders is not None:
            module, out_dim = self._custom_module(module_cls, views)
        else:
            out_dim = k if self.out_dim is None else check_positive_int(self.out_dim, "out_dim")
            module = None
        self._max_components(k, out_dim, len(views))
        reg = check_reg(self.reg, len(views))
        self._check_batches(views[0].shape[0], out_dim, k, "views", self.batch_size is None)
        if val_views is not None:
            self._check_batches(val_views[0].shape[0], out_dim, k, "val_views", True)
        if module is None:
            module = module_cls(
                [v.shape[1] for v in views],
                out_dim,
                hidden=self.hidden,
                activation=self.activation,
                batch_norm=self.batch_norm,
                dropout=self.dropout,
            )
        self.device_ = resolve_device(self.device)
        self.history_ = train(
            module,
            lambda m, batch: loss_fn(m(*batch), k, reg),
            views,
            val_views=val_views,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            patience=self.patience,
            device=self.device_,
            random_state=self.random_state,
            progress=self.progress,
        )
        self.module_ = module
        self.out_dim_ = out_dim
        self.n_features_in_ = [v.shape[1] for v in views]
        return views

    def _outputs(self, views) -> list[np.ndarray]:
        """Network outputs of validated views, float64, in eval mode without gradient."""
        dtype = next(self.module_.parameters()).dtype
        self.module_.eval()
        with torch.no_grad():
            tensors = [torch.as_tensor(v, dtype=dtype).to(self.device_) for v in views]
            out = self.module_(*tensors)
        return [o.detach().cpu().numpy().astype(np.float64) for o in out]

    def _new_outputs(self, views) -> list[np.ndarray]:
        check_is_fitted(self, "module_")
        views = self._check_views(views)
        check_n_features(views, self.n_features_in_)
        return self._outputs(views)


class DCCA(_DeepMultiview):
    r"""Deep canonical correlation analysis of two views.

    Two networks :math:`f_1, f_2` (weights :math:`W_1, W_2`) are trained so that their outputs
    are maximally correlated, the seed talk's

    .. math:: (u_1^*, u_2^*, W_1^*, W_2^*) = \arg\max \operatorname{corr}\big(u_1^\top f_1(X_1),
              u_2^\top f_2(X_2)\big),

    extended to ``k`` pairs: the loss is minus the sum of the squares of the top-``k`` canonical
    correlations of each mini-batch of outputs (or of the correlations, ``objective="sum"``;
    :func:`mmlib.losses.cca_loss`). After training, a linear :class:`mmlib.linear.CCA` of the
    outputs on all training data gives the canonical directions :math:`u`, so :meth:`transform`
    returns canonical variates.

    Parameters
    ----------
    n_components : int, default 2
        Number ``k`` of canonical pairs (correlations in the loss and variates returned).
    hidden : sequence of int, default (256, 256)
        Hidden widths of both MLPs; ``()`` for linear maps (then DCCA is linear CCA).
    out_dim : int, optional
        Output dimension of the networks (default ``n_components``); ``>= n_components``.
    activation : {"relu", "tanh", "gelu", "sigmoid"}, default "relu"
    reg : float in [0, 1), default 1e-3
        Dimensionless ridge of the covariances (:mod:`mmlib.losses`), in the loss and in the
        final linear CCA.
    epochs, batch_size, lr, optimizer, weight_decay, patience
        Passed to :func:`mmlib.training.train` (``batch_size=None``: full batch). Every
        mini-batch must have more than ``out_dim + 1`` rows (``b - 1 > out_dim`` degrees of
        freedom), else ``fit`` raises ``ValueError``: with fewer, every batch correlation is 1
        whatever the networks do. The batches are near-equal in size (see
        :func:`mmlib.training.train`), never a tiny last one.
    batch_norm : bool, default False
    dropout : float, default 0
    device : str, optional
        ``None``: CUDA when available, else CPU.
    random_state : int or None, default 0
        Seeds the initialisation and the mini-batches (reproducible on CPU).
    progress : bool, optional
        Progress bar (``None``: shown unless ``CI`` or ``MMBOOK_BUILD`` is set).
    encoders : pair of torch.nn.Module, optional
        Custom networks (e.g. CNNs) instead of the MLPs: one module per view, each mapping a
        batch of rows of its view, shape ``(b, d_j)``, to ``(b, o)`` (a module for images
        reshapes its rows itself, e.g. with ``torch.nn.Unflatten``). Their output widths must
        agree and give ``out_dim``; ``hidden``, ``activation``, ``batch_norm`` and ``dropout``
        are then unused. ``fit`` trains deep copies (the modules passed stay untouched) and
        converts the data to the dtype of their parameters. ``None``: MLPs from ``hidden``.
    objective : {"squared", "sum"}, default "squared"
        Minus the sum of the squares of the top-``k`` batch correlations (cca-zoo's loss with
        ``k = out_dim``), or minus their sum (Andrew et al.'s total correlation); see
        :func:`mmlib.losses.cca_loss`. The default comes from ``benchmarks/dcca_study.py``: on
        the noisy-digits benchmark "squared" reached a higher held-out total correlation than
        "sum" at every ridge and batch size tried (5.27 vs 5.10 at the defaults, 3 seeds).

    Attributes
    ----------
    module_ : DCCAModule
        The trained networks (eval mode).
    out_dim_ : int
        Output dimension of the networks.
    history_ : mmlib.training.History
        Per-epoch training (and validation) loss.
    cca_ : mmlib.linear.CCA
        Linear CCA of the training outputs.
    canonical_correlations_ : ndarray (k,)
        ``cca_.canonical_correlations_``: correlations of the training variates.
    n_features_in_ : list of int
    device_ : torch.device

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """

    _max_views = 2

    def __init__(
        self,
        n_components: int = 2,
        hidden: Sequence[int] = (256, 256),
        out_dim: int | None = None,
        activation: str = "relu",
        reg: float = 1e-3,
        epochs: int = 100,
        batch_size: int | None = None,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        patience: int | None = None,
        batch_norm: bool = False,
        dropout: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
        encoders: Sequence[nn.Module] | None = None,
        objective: str = "squared",
    ) -> None:
        super().__init__(
            n_components=n_components,
            hidden=hidden,
            out_dim=out_dim,
            activation=activation,
            reg=reg,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            weight_decay=weight_decay,
            patience=patience,
            batch_norm=batch_norm,
            dropout=dropout,
            device=device,
            random_state=random_state,
            progress=progress,
            encoders=encoders,
        )
        self.objective = objective

    def _max_components(self, k: int, out_dim: int, n_views: int) -> None:
        check_n_components(k, out_dim, reason="out_dim, the networks' output dimension")

    def fit(self, views, y=None, val_views=None):
        """Train on ``[X1 (n, d1), X2 (n, d2)]``; ``val_views`` (same form) for validation.

        Returns
        -------
        self
        """
        k = self.n_components
        objective = _check_objective(self.objective)
        views = self._fit_module(
            DCCAModule,
            views,
            val_views,
            lambda out, k_, reg: cca_loss(
                out[0], out[1], n_components=k_, reg=reg, objective=objective
            ),
        )
        self.cca_ = CCA(n_components=k, reg=self.reg).fit(self._outputs(views))
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        return self

    def transform(self, views) -> list[np.ndarray]:
        """Canonical variates ``[Z1, Z2]`` (each ``(n, k)``, float64) of (new) paired views."""
        check_is_fitted(self, "cca_")
        return self.cca_.transform(self._new_outputs(views))

    def transform_views(self, views) -> list[np.ndarray]:
        """The networks' outputs ``[f1(X1), f2(X2)]`` (each ``(n, out_dim)``, float64)."""
        return self._new_outputs(views)

    def fit_transform(self, views, y=None, val_views=None) -> list[np.ndarray]:
        """``fit(views)`` then ``transform(views)``."""
        return self.fit(views, val_views=val_views).transform(views)

    def score(self, views, y=None) -> float:
        """Sum of the ``k`` correlations between the canonical variates of ``views`` (held out)."""
        check_is_fitted(self, "cca_")
        return self.cca_.score(self._new_outputs(views))


class DGCCA(_DeepMultiview):
    r"""Deep generalized CCA of ``J >= 2`` views.

    One network :math:`f_j` per view; the shared representation :math:`G` (n x r) and the
    linear maps :math:`U_j` solve the GCCA of the networks' outputs (samples as rows),

    .. math:: \min_{U_j,\, G,\, f_j} \sum_{j=1}^J \lVert G - f_j(X_j) U_j \rVert_F^2
              \quad\text{s.t.}\quad G^\top G = I_r,

    trained with :func:`mmlib.losses.gcca_loss` (``G`` and ``U_j`` recomputed on each mini-batch,
    gradients flow to every network). After training, a linear :class:`mmlib.linear.GCCA` of the
    outputs on all training data gives ``G_`` and the maps used by :meth:`transform`.

    Parameters
    ----------
    n_components : int, default 2
        Dimension ``r`` of the shared representation.
    hidden : sequence of int, default (256, 256)
        Hidden widths of every network; ``()`` for linear maps (then DGCCA is linear GCCA).
    out_dim : int, optional
        Output dimension of every network (default ``n_components``).
    activation, reg, epochs, batch_size, lr, optimizer, weight_decay, patience
        As in :class:`DCCA` (each mini-batch needs more than ``out_dim + 1`` and more than
        ``n_components`` rows, else ``fit`` raises a ``ValueError`` that names ``batch_size``).
    batch_norm, dropout, device, random_state, progress
        As in :class:`DCCA`.
    encoders : sequence of torch.nn.Module, optional
        One custom network per view instead of the MLPs, as in :class:`DCCA`.

    Attributes
    ----------
    module_ : DGCCAModule
    out_dim_ : int
    history_ : mmlib.training.History
    gcca_ : mmlib.linear.GCCA
        Linear GCCA of the training outputs.
    G_ : ndarray (n, r)
        Shared representation of the training samples (orthonormal columns).
    eigenvalues_ : ndarray (r,)
        ``gcca_.eigenvalues_`` (each at most ``J``; larger is better).
    n_features_in_ : list of int
    device_ : torch.device

    References
    ----------
    A. Benton, H. Khayrallah, B. Gujral, D. Reisinger, S. Zhang, R. Arora. Deep generalized
    canonical correlation analysis. RepL4NLP 2019 (arXiv:1702.02519).
    """

    _max_views = None

    def _max_components(self, k: int, out_dim: int, n_views: int) -> None:
        check_n_components(
            k, n_views * out_dim, reason="n_views * out_dim, the total output dimension"
        )

    def fit(self, views, y=None, val_views=None):
        """Train on ``[X_1 (n, d_1), ..., X_J (n, d_J)]``; ``val_views`` for validation.

        Returns
        -------
        self
        """
        views = self._fit_module(
            DGCCAModule,
            views,
            val_views,
            lambda out, k_, reg: gcca_loss(out, n_components=k_, reg=reg),
        )
        self.gcca_ = GCCA(n_components=self.n_components, reg=self.reg).fit(self._outputs(views))
        self.G_ = self.gcca_.G_
        self.eigenvalues_ = self.gcca_.eigenvalues_
        return self

    def transform(self, views) -> np.ndarray:
        """Estimate of ``G`` (``(n, r)``, float64) for (new) samples of all views."""
        check_is_fitted(self, "gcca_")
        return self.gcca_.transform(self._new_outputs(views))

    def transform_views(self, views) -> list[np.ndarray]:
        """The networks' outputs ``[f_1(X_1), ..., f_J(X_J)]`` (each ``(n, out_dim)``, float64)."""
        return self._new_outputs(views)

    def fit_transform(self, views, y=None, val_views=None) -> np.ndarray:
        """``fit(views)`` and return ``G_``."""
        return self.fit(views, val_views=val_views).G_


# --------------------------------------------------------------------------------------------
# fusion chapter: a classifier around any fusion layer, and a bimodal autoencoder
# --------------------------------------------------------------------------------------------

from mmlib.nets import (  # noqa: E402
    MLP,
    ConcatFusion,
    LateFusion,
    LowRankFusion,
    ProductFusion,
    SumFusion,
    TensorFusion,
    _check_in_dims,
    _check_modalities,
)

__all__ += ["FUSIONS", "BimodalAutoencoder", "FusionClassifier"]

#: The fusions :class:`FusionClassifier` builds, by name.
FUSIONS = ("concat", "sum", "late", "mlp", "product", "tensor", "lowrank")


class FusionClassifier(nn.Module):
    r"""Optional per-modality encoders, one fusion layer, logits out.

    The ``fusion`` options (additive ones first):

    - ``concat``: :class:`~mmlib.nets.ConcatFusion` to ``n_outputs`` (linear early fusion);
    - ``sum``: :class:`~mmlib.nets.SumFusion` to ``n_outputs``;
    - ``late``: :class:`~mmlib.nets.LateFusion`, the mean of per-modality MLPs;
    - ``mlp``: an :class:`~mmlib.nets.MLP` over the concatenation, ``(hidden, hidden)``;
    - ``product``: :class:`~mmlib.nets.ProductFusion` to ``hidden``, then a linear layer;
    - ``tensor``: :class:`~mmlib.nets.TensorFusion` to ``n_outputs``;
    - ``lowrank``: :class:`~mmlib.nets.LowRankFusion` of rank ``rank`` to ``n_outputs``.

    With ``embed_dim`` set, modality ``m`` first passes through its own encoder
    ``MLP(d_m, embed_dim, hidden=(hidden,))`` (the modality sub-networks of Zadeh et al., 2017),
    which keeps the tensor small when the modalities are wide.

    Parameters
    ----------
    in_dims : sequence of int
        Widths of the ``M >= 2`` modalities.
    n_outputs : int
        Number of logits (1 for a binary label with a logistic loss).
    fusion : str
        One of :data:`FUSIONS`.
    hidden : int
        Width of the hidden layers (encoders, ``mlp``, ``late``, ``product``).
    rank : int
        Rank of ``lowrank``.
    embed_dim : int or None
        Width of the per-modality encoders; ``None``: the modalities enter the fusion as they are.

    Examples
    --------
    >>> import torch
    >>> clf = FusionClassifier([3, 4], 2, fusion="lowrank", rank=2)
    >>> clf([torch.zeros(5, 3), torch.zeros(5, 4)]).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        n_outputs: int,
        fusion: str = "tensor",
        hidden: int = 32,
        rank: int = 4,
        embed_dim: int | None = None,
    ) -> None:
        super().__init__()
        in_dims = _check_in_dims(in_dims, min_modalities=2)
        n_outputs = check_positive_int(n_outputs, "n_outputs")
        hidden = check_positive_int(hidden, "hidden")
        if not isinstance(fusion, str) or fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        self.in_dims, self.fusion_name = in_dims, fusion
        if embed_dim is None:
            self.encoders = None
            dims = in_dims
        else:
            embed_dim = check_positive_int(embed_dim, "embed_dim")
            self.encoders = nn.ModuleList(MLP(d, embed_dim, (hidden,)) for d in in_dims)
            dims = (embed_dim,) * len(in_dims)
        if fusion == "concat":
            self.fusion = ConcatFusion(dims, n_outputs)
        elif fusion == "sum":
            self.fusion = SumFusion(dims, n_outputs)
        elif fusion == "late":
            self.fusion = LateFusion(dims, n_outputs, (hidden,))
        elif fusion == "mlp":
            # Linear(concat) -> ReLU -> Linear -> ReLU -> Linear: an MLP over the concatenation
            self.fusion = nn.Sequential(
                ConcatFusion(dims, hidden), nn.ReLU(), MLP(hidden, n_outputs, (hidden,))
            )
        elif fusion == "product":
            self.fusion = nn.Sequential(ProductFusion(dims, hidden), nn.Linear(hidden, n_outputs))
        elif fusion == "tensor":
            self.fusion = TensorFusion(dims, n_outputs)
        else:
            self.fusion = LowRankFusion(dims, n_outputs, rank=rank)

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> logits ``(n, n_outputs)``."""
        xs = _check_modalities(xs, self.in_dims)
        if self.encoders is not None:
            xs = [enc(x) for enc, x in zip(self.encoders, xs, strict=True)]
        return self.fusion(xs)


class BimodalAutoencoder(nn.Module):
    r"""A bimodal autoencoder (Ngiam et al., 2011): two inputs, one shared code, two outputs.

    .. math::
       c = g\big([e_1(x_1); e_2(x_2)]\big), \qquad \hat x_1 = r_1(c), \quad \hat x_2 = r_2(c),

    trained to reconstruct *both* modalities. A modality can be removed at the input (replaced
    by zeros, ``present=(True, False)``): trained only on complete pairs the network has never
    seen that input; trained also on pairs with one modality zeroed (Ngiam et al.'s
    augmentation) it learns to fill the missing one in from the other.

    Parameters
    ----------
    in_dims : pair of int
        Widths ``(d_1, d_2)``.
    code_dim : int
        Width of the shared code.
    hidden : int
        Width of each modality's encoder and decoder layer.

    Examples
    --------
    >>> import torch
    >>> ae = BimodalAutoencoder((3, 4), code_dim=2)
    >>> [r.shape for r in ae([torch.zeros(5, 3), torch.zeros(5, 4)], present=(True, False))]
    [torch.Size([5, 3]), torch.Size([5, 4])]
    """

    def __init__(self, in_dims: Sequence[int], code_dim: int = 16, hidden: int = 64) -> None:
        super().__init__()
        in_dims = _check_in_dims(in_dims, min_modalities=2)
        if len(in_dims) != 2:
            raise ValueError(f"in_dims must be a pair (d1, d2), got {len(in_dims)} widths")
        code_dim = check_positive_int(code_dim, "code_dim")
        hidden = check_positive_int(hidden, "hidden")
        self.in_dims = in_dims
        self.encoders = nn.ModuleList(
            nn.Sequential(nn.Linear(d, hidden), nn.ReLU()) for d in in_dims
        )
        self.joint = nn.Sequential(nn.Linear(2 * hidden, code_dim), nn.ReLU())
        self.decoders = nn.ModuleList(MLP(code_dim, d, (hidden,)) for d in in_dims)

    def encode(self, xs, present: Sequence[bool] = (True, True)):
        """The shared code ``(n, code_dim)``; absent modalities enter as zeros."""
        xs = _check_modalities(xs, self.in_dims)
        if (
            not isinstance(present, Sequence)
            or len(present) != 2
            or not all(isinstance(p, bool) for p in present)
        ):
            raise TypeError(f"present must be a pair of bools, got {present!r}")
        if not any(present):
            raise ValueError("present: at least one modality must be present")
        xs = [x if p else torch.zeros_like(x) for x, p in zip(xs, present, strict=True)]
        return self.joint(torch.cat([e(x) for e, x in zip(self.encoders, xs, strict=True)], 1))

    def forward(self, xs, present: Sequence[bool] = (True, True)):
        """Reconstructions ``[x1_hat (n, d1), x2_hat (n, d2)]`` of both modalities."""
        code = self.encode(xs, present)
        return [dec(code) for dec in self.decoders]


# --------------------------------------------------------------------------------------------
# MMV: multimodal versatile networks (Alayrac et al., 2020)
# --------------------------------------------------------------------------------------------

__all__ += ["MMV", "MMVModule"]

#: The three modalities of MMV, in the order of the views.
MMV_MODALITIES = ("vision", "audio", "text")
#: Which heads each space option has: (modality or source space, target space).
_MMV_HEADS = {
    "shared": (("vision", "vat"), ("audio", "vat"), ("text", "vat")),
    "disjoint": (("vision", "va"), ("audio", "va"), ("vision", "vt"), ("text", "vt")),
    "fac": (("vision", "va"), ("audio", "va"), ("va", "vat"), ("text", "vat")),
}
#: The space in which two modalities are compared (None: no common space).
_MMV_PAIR_SPACE = {
    "shared": {"va": "vat", "vt": "vat", "at": "vat"},
    "disjoint": {"va": "va", "vt": "vt", "at": None},
    "fac": {"va": "va", "vt": "vat", "at": "vat"},
}


def _mmv_space(space) -> str:
    if not isinstance(space, str) or space not in _MMV_HEADS:
        raise ValueError(f"space must be one of {sorted(_MMV_HEADS)}, got {space!r}")
    return space


def _encoder_out_dim(encoder: nn.Module, in_dim: int, name: str) -> int:
    """Output width of a user's encoder, found by running it on two zero inputs."""
    if not isinstance(encoder, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(encoder).__name__}")
    param = next(encoder.parameters(), None)
    dtype = param.dtype if param is not None else torch.float32
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            out = encoder(torch.zeros(2, in_dim, dtype=dtype))
    except Exception as err:  # report which encoder failed, with its input shape
        raise ValueError(
            f"{name} failed on a batch of shape (2, {in_dim}): {type(err).__name__}: {err}"
        ) from err
    finally:
        encoder.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"{name} must map (n, {in_dim}) to (n, width), got {shape}")
    return int(out.shape[1])


class MMVModule(nn.Module):
    r"""The networks of MMV: a backbone per modality and linear heads into the embedding spaces.

    Backbones :math:`f_m` (vision, audio, text) give representations :math:`f_m(x_m)`; linear
    heads :math:`g` map them into the spaces of the chosen option:

    - ``"shared"``: one space :math:`S_{vat}`, :math:`z_{m,vat} = g_m^{vat}(f_m(x_m))` for all three;
    - ``"disjoint"``: :math:`S_{va}` (vision, audio) and :math:`S_{vt}` (vision, text), with two
      vision heads and no common space for audio and text;
    - ``"fac"`` (fine and coarse): the fine space :math:`S_{va}` first, then the coarse space
      :math:`S_{vat}` *projected from it*, :math:`z_{v,vat} = g^{va \to vat}(z_{v,va})`, where text
      is compared; audio reaches :math:`S_{vat}` through the same (vision) projection,
      :math:`z_{a,vat} = g^{va \to vat}(z_{a,va})`, as in the released code at test time.

    Parameters
    ----------
    in_dims : three ints
        Input widths of vision, audio and text.
    space : {"shared", "disjoint", "fac"}
    embed_dim : int
        Dimension of every embedding space.
    backbone_dim : int
        Output width of the MLP backbones (ignored with ``encoders``).
    hidden, activation
        Hidden widths and non-linearity of the MLP backbones (:class:`mmlib.nets.MLP`).
    encoders : three torch.nn.Module, optional
        Your own backbones instead (each maps ``(n, d_m)`` to ``(n, width_m)``).
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        space: str = "fac",
        embed_dim: int = 16,
        backbone_dim: int = 64,
        hidden: Sequence[int] = (128,),
        activation: str = "relu",
        encoders: Sequence[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(in_dims, Sequence) or len(in_dims) != 3:
            raise ValueError(f"in_dims must be three ints (vision, audio, text), got {in_dims!r}")
        dims = [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
        self.space = _mmv_space(space)
        embed_dim = check_positive_int(embed_dim, "embed_dim")
        if encoders is None:
            backbone_dim = check_positive_int(backbone_dim, "backbone_dim")
            self.backbones = make_encoders(dims, backbone_dim, hidden, activation)
            widths = [backbone_dim] * 3
        else:
            if isinstance(encoders, nn.Module) or not isinstance(encoders, Sequence):
                raise TypeError(
                    "encoders must be a list of three torch.nn.Module (one per modality)"
                )
            if len(encoders) != 3:
                raise ValueError(
                    f"encoders must hold 3 modules (one per modality), got {len(encoders)}"
                )
            widths = [
                _encoder_out_dim(e, d, f"encoders[{j}]")
                for j, (e, d) in enumerate(zip(encoders, dims, strict=True))
            ]
            self.backbones = nn.ModuleList(encoders)
        width = dict(zip(MMV_MODALITIES, widths, strict=True))
        width["va"] = embed_dim
        self.heads = nn.ModuleDict(
            {
                f"{src}_{dst}": nn.Linear(width[src], embed_dim)
                for src, dst in _MMV_HEADS[self.space]
            }
        )

    def embed(self, x: torch.Tensor, modality: str) -> dict[str, torch.Tensor]:
        """Embeddings of one modality in every space it has: ``{space: (n, embed_dim)}``.

        ``x`` is ``(n, d_m)``, or ``(n, K, d_m)`` for K captions per sample (then each embedding is
        ``(n, K, embed_dim)``). The embeddings are not normalised (the losses normalise).
        """
        if modality not in MMV_MODALITIES:
            raise ValueError(f"modality must be one of {MMV_MODALITIES}, got {modality!r}")
        lead = x.shape[:-1]
        h = self.backbones[MMV_MODALITIES.index(modality)](x.reshape(-1, x.shape[-1]))
        out = {
            dst: head(h)
            for key, head in self.heads.items()
            for src, dst in [key.split("_")]
            if src == modality
        }
        if "va" in out and "va_vat" in self.heads:  # FAC: the coarse space hangs off the fine one
            out["vat"] = self.heads["va_vat"](out["va"])
        return {s: z.reshape(*lead, -1) for s, z in out.items()}

    def forward(
        self, vision: torch.Tensor, audio: torch.Tensor, text: torch.Tensor
    ) -> dict[str, dict[str, torch.Tensor]]:
        """``{space: {modality: embedding}}`` for the three modalities."""
        out: dict[str, dict[str, torch.Tensor]] = {}
        for modality, x in zip(MMV_MODALITIES, (vision, audio, text), strict=True):
            for s, z in self.embed(x, modality).items():
                out.setdefault(s, {})[modality] = z
        return out


class MMV(ParamsMixin):
    r"""Multimodal versatile networks: contrastive embeddings of vision, audio and text.

    Trained on the loss of Alayrac et al. (2020), for a batch of samples :math:`x`,

    .. math::

        \mathcal L(x) = \lambda_{va}\, \text{NCE}(z_{v}, z_{a})
                      + \lambda_{vt}\, \text{MIL-NCE}(z_{v}, \{z_{t,k}\}_{k=1}^K),

    each term computed in the space where its pair is compared (``space``, see
    :class:`MMVModule`): vision-audio in :math:`S_{va}` (``"disjoint"``, ``"fac"``) or
    :math:`S_{vat}` (``"shared"``), vision-text in :math:`S_{vt}` (``"disjoint"``) or
    :math:`S_{vat}` (``"shared"``, ``"fac"``). See :func:`mmlib.losses.nce` and
    :func:`mmlib.losses.mil_nce`.

    Parameters
    ----------
    space : {"fac", "shared", "disjoint"}, default "fac"
    embed_dim : int, default 16
    backbone_dim : int, default 64
    hidden : sequence of int, default (128,)
        Hidden widths of the MLP backbones.
    activation : str, default "relu"
    encoders : list of three torch.nn.Module, optional
        Your own backbones for vision, audio, text (copied at ``fit``, so the modules you pass
        are not changed; their initial weights are yours, not seeded by ``random_state``).
    vt_loss : {"mil_nce", "nce"}, default "mil_nce"
        Vision-text loss. With K candidate captions per sample, ``"mil_nce"`` treats all of them
        as the bag of positives; ``"nce"`` uses the first candidate only, a single caption per
        sample as in the NCE baseline of Miech et al. (2020).
    temperature : float > 0, default 0.1
    loss_weights : (float, float), default (1.0, 1.0)
        :math:`(\lambda_{va}, \lambda_{vt})`, each >= 0, not both 0.
    epochs, batch_size, lr, weight_decay
        As in :func:`mmlib.training.train` (Adam; ``batch_size`` >= 2, the negatives come from
        the batch).
    device : str, optional
        ``None``: CUDA when available, else CPU.
    random_state : int or None, default 0
    progress : bool, optional
        Progress bar (``None``: shown unless ``CI`` or ``MMBOOK_BUILD`` is set).

    Attributes
    ----------
    module_ : MMVModule
    history_ : mmlib.training.History
    n_features_in_ : list of int
        Widths of vision, audio, text.
    n_captions_ : int
        Candidate captions per sample seen in ``fit``.
    device_ : torch.device

    References
    ----------
    J.-B. Alayrac, A. Recasens, R. Schneider, R. Arandjelovic, J. Ramapuram, J. De Fauw,
    L. Smaira, S. Dieleman, A. Zisserman. Self-supervised multimodal versatile networks.
    NeurIPS 2020.
    """

    def __init__(
        self,
        space: str = "fac",
        embed_dim: int = 16,
        backbone_dim: int = 64,
        hidden: Sequence[int] = (128,),
        activation: str = "relu",
        encoders: Sequence[nn.Module] | None = None,
        vt_loss: str = "mil_nce",
        temperature: float = 0.1,
        loss_weights: Sequence[float] = (1.0, 1.0),
        epochs: int = 30,
        batch_size: int | None = 128,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        self.space = space
        self.embed_dim = embed_dim
        self.backbone_dim = backbone_dim
        self.hidden = hidden
        self.activation = activation
        self.encoders = encoders
        self.vt_loss = vt_loss
        self.temperature = temperature
        self.loss_weights = loss_weights
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.progress = progress

    @staticmethod
    def pair_space(space: str, first: str, second: str) -> str | None:
        """The space in which two modalities are compared under ``space`` (None: there is none).

        >>> MMV.pair_space("fac", "audio", "text")
        'vat'
        >>> MMV.pair_space("disjoint", "audio", "text") is None
        True
        """
        space = _mmv_space(space)
        for m in (first, second):
            if m not in MMV_MODALITIES:
                raise ValueError(f"modality must be one of {MMV_MODALITIES}, got {m!r}")
        if first == second:
            raise ValueError(f"give two different modalities, got {first!r} twice")
        key = "".join(sorted({first[0], second[0]}, key="vat".index))
        return _MMV_PAIR_SPACE[space][key]

    def _check_text(self, text, n: int, name: str, allow_3d: bool) -> np.ndarray:
        arr = np.asarray(text) if not hasattr(text, "detach") else text.detach().cpu().numpy()
        if allow_3d and arr.ndim == 3:
            if arr.shape[1] == 0:
                raise ValueError(f"{name} has no candidate captions (shape {arr.shape})")
            flat = check_array(arr.reshape(arr.shape[0], -1), name=name)
            arr = flat.reshape(arr.shape)
        else:
            arr = check_array(text, name=name)
        if arr.shape[0] != n:
            raise ValueError(
                f"{name} has {arr.shape[0]} samples but views[0] has {n} (rows must be paired)"
            )
        return arr

    def _check_fit_views(self, views) -> list[np.ndarray]:
        if not isinstance(views, (list, tuple)) or len(views) != 3:
            raise TypeError(
                "views must be a list [vision (n, d_v), audio (n, d_a), text (n, d_t) or "
                f"(n, K, d_t)], got {type(views).__name__}"
                + (f" of length {len(views)}" if isinstance(views, (list, tuple)) else "")
            )
        va = check_views(list(views[:2]), min_views=2, max_views=2)
        return [*va, self._check_text(views[2], va[0].shape[0], "views[2]", allow_3d=True)]

    def fit(self, views, y=None):
        """Train on ``[vision (n, d_v), audio (n, d_a), text]``, rows paired.

        ``text`` is ``(n, d_t)`` (one caption per sample) or ``(n, K, d_t)`` (K candidate captions
        per sample, the bag of positives of MIL-NCE). ``y`` is ignored (self-supervised).

        Returns
        -------
        self
        """
        import copy

        from mmlib.losses import mil_nce, nce

        vision, audio, text = self._check_fit_views(views)
        space = _mmv_space(self.space)
        if self.vt_loss not in ("mil_nce", "nce"):
            raise ValueError(f"vt_loss must be 'mil_nce' or 'nce', got {self.vt_loss!r}")
        tau = check_positive_float(self.temperature, "temperature")
        weights = self.loss_weights
        if not isinstance(weights, (list, tuple)) or len(weights) != 2:
            raise ValueError(f"loss_weights must be two numbers (va, vt), got {weights!r}")
        lam_va, lam_vt = (
            check_positive_float(w, f"loss_weights[{j}]", allow_zero=True)
            for j, w in enumerate(weights)
        )
        if lam_va == 0 and lam_vt == 0:
            raise ValueError("loss_weights must not both be 0")
        if self.random_state is not None:
            torch.manual_seed(check_positive_int(self.random_state, "random_state", minimum=0))
        bags = text if text.ndim == 3 else text[:, None, :]
        k, d_t = bags.shape[1], bags.shape[2]
        encoders = None if self.encoders is None else copy.deepcopy(list(self.encoders))
        module = MMVModule(
            [vision.shape[1], audio.shape[1], d_t],
            space=space,
            embed_dim=self.embed_dim,
            backbone_dim=self.backbone_dim,
            hidden=self.hidden,
            activation=self.activation,
            encoders=encoders,
        )
        va_space = self.pair_space(space, "vision", "audio")
        vt_space = self.pair_space(space, "vision", "text")
        use_bag = self.vt_loss == "mil_nce"

        def loss_fn(m, batch):
            v, a, t = batch
            t = t.reshape(t.shape[0], k, d_t)
            if not use_bag:
                t = t[:, :1]  # NCE: the single (first) caption
            z = m(v, a, t)
            loss_va = nce(z[va_space]["vision"], z[va_space]["audio"], tau)
            loss_vt = mil_nce(z[vt_space]["vision"], z[vt_space]["text"], tau)
            return lam_va * loss_va + lam_vt * loss_vt

        self.device_ = resolve_device(self.device)
        self.history_ = train(
            module,
            loss_fn,
            [vision, audio, bags.reshape(bags.shape[0], -1)],
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            device=self.device_,
            random_state=self.random_state,
            progress=self.progress,
        )
        self.module_ = module
        self.n_features_in_ = [vision.shape[1], audio.shape[1], d_t]
        self.n_captions_ = k
        return self

    def transform(self, views) -> dict[str, dict[str, np.ndarray]]:
        """Unit-norm embeddings of (new) samples in every space: ``{space: {modality: (n, e)}}``.

        Parameters
        ----------
        views : list of three array-like or None
            ``[vision (n, d_v), audio (n, d_a), text (n, d_t)]``; a modality given as ``None``
            is left out (e.g. ``[None, audio, None]`` embeds sounds only).

        Returns
        -------
        dict
            For ``"shared"``: ``{"vat": {...}}``; ``"disjoint"``: ``{"va": {vision, audio},
            "vt": {vision, text}}``; ``"fac"``: ``{"va": {vision, audio}, "vat": {vision,
            audio, text}}`` (audio reaches ``"vat"`` through the vision projection).
        """
        check_is_fitted(self, "module_")
        if not isinstance(views, (list, tuple)) or len(views) != 3:
            raise TypeError("views must be a list of three arrays or None (vision, audio, text)")
        if all(v is None for v in views):
            raise ValueError("views must hold at least one modality (all three are None)")
        dtype = next(self.module_.parameters()).dtype
        n = None
        out: dict[str, dict[str, np.ndarray]] = {}
        self.module_.eval()
        for j, (modality, x) in enumerate(zip(MMV_MODALITIES, views, strict=True)):
            if x is None:
                continue
            x = check_array(x, name=f"views[{j}]")
            if n is not None and x.shape[0] != n:
                raise ValueError(f"views[{j}] has {x.shape[0]} samples, the others {n}")
            n = x.shape[0]
            if x.shape[1] != self.n_features_in_[j]:
                raise ValueError(
                    f"views[{j}] ({modality}) has {x.shape[1]} features but the model was "
                    f"fitted with {self.n_features_in_[j]}"
                )
            with torch.no_grad():
                z = self.module_.embed(torch.as_tensor(x, dtype=dtype).to(self.device_), modality)
            for s, e in z.items():
                e = torch.nn.functional.normalize(e, dim=1)
                out.setdefault(s, {})[modality] = e.cpu().numpy().astype(np.float64)
        return out

    def fit_transform(self, views, y=None) -> dict[str, dict[str, np.ndarray]]:
        """``fit(views)`` then ``transform`` of the views (the first caption when K > 1)."""
        self.fit(views)
        text = np.asarray(views[2])
        return self.transform([views[0], views[1], text[:, 0] if text.ndim == 3 else text])


# --------------------------------------------------------------------------------------------
# Contrastive alignment with missing modalities: GMC, and two baselines with the same encoders
# --------------------------------------------------------------------------------------------
#
# GMCModule / GMC: Geometric Multimodal Contrastive learning (Poklukar et al., 2022).
# FusionAEModule / FusionAE: a non-contrastive multimodal autoencoder that fuses the modality
#   features into one code; a missing modality is fed as zeros (its training mean).
# MVAEModule / MVAE: the product-of-experts multimodal VAE (Wu & Goodman, 2018), which handles a
#   missing modality by leaving its expert out of the product.
# All three take the same per-modality encoders (MLP widths or one nn.Module per modality) and
# give a code for any subset of present modalities, so GMC's Table 1 can be computed for each.


from mmlib.losses import gmc_loss  # noqa: E402

__all__ += ["GMC", "MVAE", "FusionAE", "FusionAEModule", "GMCModule", "MVAEModule"]


def _modality_encoders(in_dims, hidden, activation, encoders) -> tuple[nn.ModuleList, list[int]]:
    """One encoder per modality (custom modules, or MLPs) and the width of each one's output.

    A custom encoder maps a batch ``(b, d_m)`` (flat rows, as the views are stored) to
    ``(b, h_m)``; it may reshape inside (e.g. to ``(b, 1, 8, 8)`` for a CNN). The widths ``h_m``
    are found by a dry run on two zero rows.
    """
    if encoders is None:
        hidden = tuple(hidden)
        if not hidden:
            raise ValueError("hidden must hold at least one width (the modality features' width)")
        mods = nn.ModuleList(
            MLP(d, hidden[-1], hidden[:-1], activation=activation) for d in in_dims
        )
        return mods, [hidden[-1]] * len(in_dims)
    if isinstance(encoders, nn.Module) and not isinstance(encoders, nn.ModuleList):
        raise TypeError("encoders must be a list of torch.nn.Module, one per modality")
    if not isinstance(encoders, (list, tuple, nn.ModuleList)):
        raise TypeError(
            f"encoders must be a list of torch.nn.Module (one per modality), "
            f"got {type(encoders).__name__}"
        )
    if len(encoders) != len(in_dims):
        raise ValueError(
            f"encoders must hold one module per modality: {len(in_dims)} modalities, "
            f"{len(encoders)} encoders"
        )
    widths = []
    for m, (enc, d) in enumerate(zip(encoders, in_dims, strict=True)):
        if not isinstance(enc, nn.Module):
            raise TypeError(f"encoders[{m}] must be a torch.nn.Module, got {type(enc).__name__}")
        param = next(enc.parameters(), None)
        dtype = torch.float32 if param is None else param.dtype
        was_training = enc.training
        enc.eval()
        try:
            with torch.no_grad():
                out = enc(torch.zeros(2, d, dtype=dtype))
        except Exception as err:  # a shape mismatch inside the user's module
            raise ValueError(
                f"encoders[{m}] cannot encode a batch of shape (b, {d}) (modality {m} has "
                f"{d} features, passed as flat rows): {err}"
            ) from err
        enc.train(was_training)
        if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2:
            raise ValueError(
                f"encoders[{m}] must return a 2-D tensor (b, h), got "
                f"{getattr(out, 'shape', type(out).__name__)}"
            )
        widths.append(int(out.shape[1]))
    return nn.ModuleList(encoders), widths


def _present_indices(present, n_modalities: int, names: Sequence[str] | None) -> list[int]:
    """``present`` (indices or names of modalities) as sorted, unique indices; checked."""
    if present is None:
        return list(range(n_modalities))
    if isinstance(present, (str, int, np.integer)):
        present = [present]
    if not isinstance(present, (list, tuple, np.ndarray, range)):
        raise TypeError(
            f"present must be a list of modality indices or names, got {type(present).__name__}"
        )
    if len(present) == 0:
        raise ValueError("present is empty: at least one modality must be present")
    out = []
    for p in present:
        if isinstance(p, str):
            if names is None or p not in names:
                known = "none (pass view_names)" if names is None else ", ".join(names)
                raise ValueError(f"unknown modality {p!r} in present; known modalities: {known}")
            out.append(list(names).index(p))
        elif isinstance(p, (int, np.integer)) and not isinstance(p, bool):
            if not 0 <= int(p) < n_modalities:
                raise ValueError(
                    f"modality index {int(p)} in present is out of range: there are "
                    f"{n_modalities} modalities (0..{n_modalities - 1})"
                )
            out.append(int(p))
        else:
            raise TypeError(f"present must hold modality indices or names, got {p!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"present names a modality twice: {list(present)!r}")
    return sorted(out)


class GMCModule(nn.Module):
    r"""GMC's two-level network: modality encoders, a joint encoder and a shared projection head.

    - modality encoders :math:`f_m: x_m \mapsto h_m \in \mathbb R^{h}` (MLPs, or the given
      modules);
    - a joint encoder :math:`f_{1:M}` over the complete observation: its own copy of every
      modality encoder (same architecture, separate weights), outputs concatenated and fused by
      a linear layer to :math:`h_{1:M} \in \mathbb R^{h}`;
    - a shared projection head :math:`g` (an MLP) and L2 normalisation:
      :math:`z = g(h) / \lVert g(h) \rVert`.

    Codes of a subset :math:`S` of present modalities (:meth:`encode`): the joint code
    :math:`z_{1:M}` when every modality is present ("complete" means the joint encoder), the
    modality's code :math:`z_m` for one modality, and otherwise the normalised mean of the present
    modalities' codes, :math:`\bar z_S / \lVert \bar z_S \rVert`, the rule of the official code.

    Parameters
    ----------
    in_dims : sequence of int
        Features of each of the ``M >= 2`` modalities.
    code_dim : int
        Dimension ``e`` of the codes.
    hidden : sequence of int
        MLP modality encoders ``d_m -> hidden... `` (the last width is ``h``); ignored with
        ``encoders``.
    head_hidden : sequence of int
        Hidden widths of the projection head ``g``.
    encoders : list of torch.nn.Module, optional
        One encoder per modality (rows in, ``(b, h_m)`` out). They are used as they are (not
        copied); the joint encoder gets deep copies of them. Widths may differ: each is
        projected to a common ``h`` (the largest) by a linear layer when needed.
    activation : str
        Non-linearity of the MLPs.
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        head_hidden: Sequence[int] = (64,),
        encoders: Sequence[nn.Module] | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if not isinstance(in_dims, Sequence) or len(in_dims) < 2:
            raise ValueError(f"in_dims must list at least two modalities, got {in_dims!r}")
        in_dims = [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
        code_dim = check_positive_int(code_dim, "code_dim")
        self.in_dims = in_dims
        base, widths = _modality_encoders(in_dims, hidden, activation, encoders)
        h = max(widths)
        self.encoders = nn.ModuleList(
            enc if w == h else nn.Sequential(enc, nn.Linear(w, h))
            for enc, w in zip(base, widths, strict=True)
        )
        self.joint_encoders = nn.ModuleList(copy.deepcopy(enc) for enc in self.encoders)
        self.fuse = nn.Linear(len(in_dims) * h, h)
        self.head = MLP(h, code_dim, tuple(head_hidden), activation=activation)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """The shared head and the normalisation: ``g(h) / ||g(h)||``, shape ``(b, e)``."""
        return nn.functional.normalize(self.head(h), dim=1)

    def joint_code(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        """:math:`z_{1:M} = g(f_{1:M}(x_{1:M}))` of complete observations, ``(b, e)``."""
        hs = [f(x) for f, x in zip(self.joint_encoders, views, strict=True)]
        return self.project(self.fuse(torch.cat(hs, dim=1)))

    def modality_code(self, m: int, x: torch.Tensor) -> torch.Tensor:
        """:math:`z_m = g(f_m(x_m))`, ``(b, e)``."""
        return self.project(self.encoders[m](x))

    def forward(self, *views: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(z_joint, [z_1, ..., z_M])`` for complete observations (what the loss needs)."""
        if len(views) != len(self.encoders):
            raise ValueError(f"expected {len(self.encoders)} modalities, got {len(views)}")
        return self.joint_code(views), [self.modality_code(m, x) for m, x in enumerate(views)]

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """Code of the present modalities (see the class docstring for the rule), ``(b, e)``.

        ``views`` has one entry per modality; absent ones may be ``None``. ``present`` (indices)
        defaults to the entries that are not ``None``.
        """
        if present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        if len(idx) == len(self.encoders):
            return self.joint_code(views)
        codes = [self.modality_code(m, views[m]) for m in idx]
        return nn.functional.normalize(torch.stack(codes).mean(dim=0), dim=1)


class FusionAEModule(nn.Module):
    r"""A multimodal autoencoder: modality encoders, a fusion layer, one code, a decoder each.

    :math:`z = W [f_1(x_1); \dots; f_M(x_M)] + b`, :math:`\hat x_m = d_m(z)`, trained on the
    reconstruction error of every modality from the complete observation. It has no mechanism
    for a missing modality: :meth:`encode` feeds zeros in its place (the training mean, as the
    estimator standardises the inputs), the usual zero-filling of fusion models.
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        encoders: Sequence[nn.Module] | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        in_dims = [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
        self.in_dims = in_dims
        self.encoders, widths = _modality_encoders(in_dims, hidden, activation, encoders)
        self.fuse = nn.Linear(sum(widths), check_positive_int(code_dim, "code_dim"))
        rev = tuple(reversed(tuple(hidden))) or (64,)
        self.decoders = nn.ModuleList(MLP(code_dim, d, rev, activation=activation) for d in in_dims)

    def code(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused code ``z``, ``(b, e)``."""
        return self.fuse(torch.cat([f(x) for f, x in zip(self.encoders, views, strict=True)], 1))

    def forward(self, *views: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(z, [x_hat_1, ..., x_hat_M])``."""
        z = self.code(views)
        return z, [d(z) for d in self.decoders]

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """Code with absent modalities replaced by zeros, ``(b, e)``."""
        if present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        b = next(views[m] for m in idx).shape[0]
        ref = views[idx[0]]
        filled = [
            views[m] if m in idx else torch.zeros(b, d, dtype=ref.dtype, device=ref.device)
            for m, d in enumerate(self.in_dims)
        ]
        return self.code(filled)


class MVAEModule(nn.Module):
    r"""The multimodal VAE of Wu & Goodman (2018): a Gaussian expert per modality, multiplied.

    Expert :math:`m` maps :math:`x_m` to :math:`(\mu_m, \log\sigma_m^2)`; the posterior of a
    subset :math:`S` of modalities is the product of the present experts and the prior expert
    :math:`\mathcal N(0, I)`, again Gaussian:

    .. math:: \sigma_S^{-2} = 1 + \sum_{m \in S} \sigma_m^{-2}, \qquad
              \mu_S = \sigma_S^2 \sum_{m \in S} \sigma_m^{-2} \mu_m .

    A missing modality is simply left out of the product, so every subset has a code
    (:meth:`encode` returns :math:`\mu_S`). Decoders :math:`d_m(z)` reconstruct each modality.
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        encoders: Sequence[nn.Module] | None = None,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        in_dims = [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
        code_dim = check_positive_int(code_dim, "code_dim")
        self.in_dims = in_dims
        self.encoders, widths = _modality_encoders(in_dims, hidden, activation, encoders)
        self.experts = nn.ModuleList(nn.Linear(w, 2 * code_dim) for w in widths)
        rev = tuple(reversed(tuple(hidden))) or (64,)
        self.decoders = nn.ModuleList(MLP(code_dim, d, rev, activation=activation) for d in in_dims)

    def posterior(self, views, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu_S, logvar_S)`` of the product of the prior and the experts in ``idx``."""
        precision = 1.0  # the prior expert N(0, I)
        weighted = 0.0
        for m in idx:
            mu, logvar = self.experts[m](self.encoders[m](views[m])).chunk(2, dim=1)
            logvar = logvar.clamp(-8.0, 8.0)  # keeps the precisions finite early in training
            precision = precision + torch.exp(-logvar)
            weighted = weighted + mu * torch.exp(-logvar)
        return weighted / precision, -torch.log(precision)

    def elbo_terms(self, views, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample reconstruction error of *every* modality from subset ``idx``, and the KL."""
        mu, logvar = self.posterior(views, idx)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparametrisation
        rec = sum(((d(z) - x) ** 2).sum(dim=1) for d, x in zip(self.decoders, views, strict=True))
        kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
        return rec, kl

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """The posterior mean ``mu_S`` of the present modalities, ``(b, e)``."""
        if present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        return self.posterior(views, idx)[0]


class _MissingModalityModel(ParamsMixin):
    """What GMC, FusionAE and MVAE share: standardisation, training, codes of any subset."""

    def __init__(
        self,
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        encoders: Sequence[nn.Module] | None = None,
        view_names: Sequence[str] | None = None,
        activation: str = "relu",
        epochs: int = 30,
        batch_size: int | None = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        self.code_dim = code_dim
        self.hidden = hidden
        self.encoders = encoders
        self.view_names = view_names
        self.activation = activation
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.progress = progress

    # subclasses define _build(in_dims, encoders) -> module and _loss(module, batch) -> scalar

    def _names(self, n_views: int) -> list[str] | None:
        if self.view_names is None:
            return None
        names = self.view_names
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TypeError(f"view_names must be a list of str, got {type(names).__name__}")
        if len(names) != n_views or not all(isinstance(s, str) for s in names):
            raise ValueError(f"view_names must be {n_views} strings (one per view), got {names!r}")
        return list(names)

    def fit(self, views, y=None, val_views=None):
        """Train on complete observations ``[X_1 (n, d_1), ..., X_M (n, d_M)]``; ``y`` unused.

        Returns
        -------
        self
        """
        views = check_views(views, min_views=2)
        names = self._names(len(views))
        if val_views is not None:
            val_views = check_views(val_views, min_views=2, name="val_views")
            check_n_features(val_views, [v.shape[1] for v in views], name="val_views")
        self.mean_ = [v.mean(axis=0) for v in views]
        self.scale_ = [np.where(v.std(axis=0) > 0, v.std(axis=0), 1.0) for v in views]
        scaled = [(v - m) / s for v, m, s in zip(views, self.mean_, self.scale_, strict=True)]
        if val_views is not None:
            val_views = [
                (v - m) / s for v, m, s in zip(val_views, self.mean_, self.scale_, strict=True)
            ]
        encoders = None
        if self.encoders is not None:
            if isinstance(self.encoders, nn.Module) and not isinstance(
                self.encoders, nn.ModuleList
            ):
                raise TypeError(
                    "encoders must be a list of torch.nn.Module (one per modality), got a "
                    f"single {type(self.encoders).__name__}"
                )
            if not isinstance(self.encoders, (list, tuple, nn.ModuleList)):
                raise TypeError(
                    "encoders must be a list of torch.nn.Module (one per modality), got "
                    f"{type(self.encoders).__name__}"
                )
            encoders = copy.deepcopy(list(self.encoders))  # the caller's modules stay untouched
        if self.random_state is not None:
            torch.manual_seed(check_positive_int(self.random_state, "random_state", minimum=0))
            for enc in encoders or []:  # a fresh, seeded initialisation of custom encoders
                for layer in enc.modules():
                    if hasattr(layer, "reset_parameters"):
                        layer.reset_parameters()
        module = self._build([v.shape[1] for v in views], encoders)
        self.device_ = resolve_device(self.device)
        self.history_ = train(
            module,
            self._loss,
            scaled,
            val_views=val_views,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            device=self.device_,
            random_state=self.random_state,
            progress=self.progress,
        )
        self.module_ = module
        self.n_features_in_ = [v.shape[1] for v in views]
        self.view_names_ = names
        return self

    def transform(self, views, present=None) -> np.ndarray:
        """Codes ``(n, code_dim)`` (float64) of the present modalities of (new) samples.

        Parameters
        ----------
        views : list with one entry per modality
            ``(n, d_m)`` arrays; an absent modality may be ``None``.
        present : list of int or str, optional
            The modalities to use (indices, or names when ``view_names`` was given); default:
            the entries of ``views`` that are not ``None``. All present: the complete code.

        Returns
        -------
        ndarray (n, code_dim)
        """
        check_is_fitted(self, "module_")
        n_mod = len(self.n_features_in_)
        if not isinstance(views, (list, tuple)):
            raise TypeError(
                f"views must be a list with one entry per modality ({n_mod}); use None for an "
                f"absent one; got {type(views).__name__}"
            )
        if len(views) != n_mod:
            raise ValueError(
                f"views must have one entry per modality ({n_mod}, None for an absent one), "
                f"got {len(views)}"
            )
        if present is None:
            present = [m for m, v in enumerate(views) if v is not None]
            if not present:
                raise ValueError("every entry of views is None: at least one must be present")
        idx = _present_indices(present, n_mod, self.view_names_)
        missing = [m for m in idx if views[m] is None]
        if missing:
            raise ValueError(f"modalities {missing} are listed in present but views holds None")
        arrays = check_views([views[m] for m in idx], min_views=1)
        for m, a in zip(idx, arrays, strict=True):
            if a.shape[1] != self.n_features_in_[m]:
                raise ValueError(
                    f"views[{m}] has {a.shape[1]} features, the model was fitted with "
                    f"{self.n_features_in_[m]}"
                )
        dtype = next(self.module_.parameters()).dtype
        tensors: list[torch.Tensor | None] = [None] * n_mod
        for m, a in zip(idx, arrays, strict=True):
            scaled = (a - self.mean_[m]) / self.scale_[m]
            tensors[m] = torch.as_tensor(scaled, dtype=dtype).to(self.device_)
        self.module_.eval()
        with torch.no_grad():
            z = self.module_.encode(tensors, idx)
        return z.cpu().numpy().astype(np.float64)

    def fit_transform(self, views, y=None, val_views=None) -> np.ndarray:
        """``fit(views)`` then the complete codes of ``views``."""
        return self.fit(views, val_views=val_views).transform(views)


class GMC(_MissingModalityModel):
    r"""Geometric Multimodal Contrastive learning (GMC) of ``M >= 2`` modalities.

    A :class:`GMCModule` (modality encoders :math:`f_m`, a joint encoder :math:`f_{1:M}`, a shared
    head :math:`g`, unit-norm codes) trained on :func:`mmlib.losses.gmc_loss`: for every
    modality, NT-Xent between the joint code and the modality's code,

    .. math:: \mathcal L_{\text{GMC}} = \sum_{m=1}^M \ell_m\big(z_{1:M}, z_m; \tau\big),

    which pulls each modality's code onto the joint code of the same sample (geometric
    alignment) and away from the other samples' codes. No label is used. :meth:`transform` gives
    the code of any subset of modalities: the joint code when all are present, :math:`z_m` for
    one, the normalised mean of the present :math:`z_m` otherwise (the official code's rule).

    Parameters
    ----------
    code_dim : int, default 32
        Dimension of the codes (64 in the paper's MHD experiment).
    hidden : sequence of int, default (128, 64)
        Widths of the MLP modality encoders (the last one is the intermediate dimension).
    head_hidden : sequence of int, default (64,)
        Hidden widths of the shared projection head.
    encoders : list of torch.nn.Module, optional
        One custom encoder per modality (flat rows in, ``(b, h)`` out), e.g. a small CNN for an
        image; replaces ``hidden``. They are deep-copied (and re-initialised under
        ``random_state``), so the same list can be given to several models.
    temperature : float > 0, default 0.1
        :math:`\tau` of the loss (0.1 in the paper).
    view_names : list of str, optional
        Modality names, so that ``transform(..., present=["image"])`` works.
    activation, epochs, batch_size, lr, weight_decay
        Training settings (:func:`mmlib.training.train`, Adam).
    device : str, optional
        ``None``: CUDA when available, else CPU.
    random_state : int or None, default 0
    progress : bool, optional
        Progress bar (``None``: shown unless ``CI`` or ``MMBOOK_BUILD`` is set).

    Attributes
    ----------
    module_ : GMCModule
    history_ : mmlib.training.History
    mean_, scale_ : list of ndarray
        Per-modality standardisation learned on the training data.
    n_features_in_ : list of int
    view_names_ : list of str or None
    device_ : torch.device

    References
    ----------
    P. Poklukar, M. Vasco, H. Yin, F. S. Melo, A. Paiva, D. Kragic. Geometric multimodal
    contrastive representation learning. ICML 2022.
    """

    def __init__(
        self,
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        head_hidden: Sequence[int] = (64,),
        encoders: Sequence[nn.Module] | None = None,
        temperature: float = 0.1,
        view_names: Sequence[str] | None = None,
        activation: str = "relu",
        epochs: int = 30,
        batch_size: int | None = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        super().__init__(
            code_dim=code_dim,
            hidden=hidden,
            encoders=encoders,
            view_names=view_names,
            activation=activation,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            device=device,
            random_state=random_state,
            progress=progress,
        )
        self.head_hidden = head_hidden
        self.temperature = temperature

    def _build(self, in_dims, encoders):
        check_positive_float(self.temperature, "temperature")
        return GMCModule(
            in_dims, self.code_dim, self.hidden, self.head_hidden, encoders, self.activation
        )

    def _loss(self, module, batch):
        joint, codes = module(*batch)
        return gmc_loss(joint, codes, temperature=self.temperature)


class FusionAE(_MissingModalityModel):
    r"""Baseline: a multimodal autoencoder whose code fuses all modalities (no contrast).

    A :class:`FusionAEModule` trained to reconstruct every (standardised) modality from the fused
    code of the complete observation, :math:`\sum_m \lVert d_m(z) - x_m \rVert^2`. At test time a
    missing modality is zero-filled (its training mean). Parameters as in :class:`GMC` (no
    ``temperature``, ``head_hidden``).
    """

    def _build(self, in_dims, encoders):
        return FusionAEModule(in_dims, self.code_dim, self.hidden, encoders, self.activation)

    def _loss(self, module, batch):
        _, recon = module(*batch)
        return sum(((r - x) ** 2).sum(dim=1).mean() for r, x in zip(recon, batch, strict=True))


class MVAE(_MissingModalityModel):
    r"""Baseline: the product-of-experts multimodal VAE (Wu & Goodman, 2018).

    A :class:`MVAEModule` trained with the MVAE's sub-sampled ELBO: the negative ELBO of the
    complete observation plus that of each single modality (each reconstructing all
    modalities), :math:`\sum_{S \in \{1:M, \{1\}, \dots, \{M\}\}} \mathbb E\big[\sum_m
    \lVert d_m(z) - x_m\rVert^2\big] + \beta\,\mathrm{KL}(q(z \mid x_S)\,\Vert\,\mathcal N(0, I))`
    (a Gaussian likelihood of fixed variance). The code of a subset is the posterior mean.

    Parameters
    ----------
    beta : float > 0, default 1.0
        Weight of the KL terms. The other parameters are those of :class:`GMC` (without
        ``temperature`` and ``head_hidden``).

    References
    ----------
    M. Wu, N. Goodman. Multimodal generative models for scalable weakly-supervised learning.
    NeurIPS 2018.
    """

    def __init__(
        self,
        code_dim: int = 32,
        hidden: Sequence[int] = (128, 64),
        encoders: Sequence[nn.Module] | None = None,
        beta: float = 1.0,
        view_names: Sequence[str] | None = None,
        activation: str = "relu",
        epochs: int = 30,
        batch_size: int | None = 256,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        device: str | None = None,
        random_state: int | None = 0,
        progress: bool | None = None,
    ) -> None:
        super().__init__(
            code_dim=code_dim,
            hidden=hidden,
            encoders=encoders,
            view_names=view_names,
            activation=activation,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            device=device,
            random_state=random_state,
            progress=progress,
        )
        self.beta = beta

    def _build(self, in_dims, encoders):
        check_positive_float(self.beta, "beta")
        return MVAEModule(in_dims, self.code_dim, self.hidden, encoders, self.activation)

    def _loss(self, module, batch):
        subsets = [list(range(len(batch)))] + [[m] for m in range(len(batch))]
        total = 0.0
        for idx in subsets:
            rec, kl = module.elbo_terms(batch, idx)
            total = total + (rec + self.beta * kl).mean()
        return total
