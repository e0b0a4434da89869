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
    check_is_fitted,
    check_n_components,
    check_n_features,
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

    ======== ======================================================================= ==========
    fusion   logits                                                                  additive?
    ======== ======================================================================= ==========
    concat   :class:`~mmlib.nets.ConcatFusion` to ``n_outputs`` (linear early fusion) yes
    sum      :class:`~mmlib.nets.SumFusion` to ``n_outputs``                         yes
    late     :class:`~mmlib.nets.LateFusion`: mean of per-modality MLPs              yes
    mlp      an :class:`~mmlib.nets.MLP` over the concatenation, ``(hidden, hidden)`` no
    product  :class:`~mmlib.nets.ProductFusion` to ``hidden``, then a linear layer   no
    tensor   :class:`~mmlib.nets.TensorFusion` to ``n_outputs``                      no
    lowrank  :class:`~mmlib.nets.LowRankFusion` of rank ``rank`` to ``n_outputs``    no
    ======== ======================================================================= ==========

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
