"""Deep CCA and deep generalized CCA: torch modules plus scikit-learn style wrappers.

- :class:`DCCAModule` / :class:`DCCA`: Deep CCA (Andrew et al., 2013), two networks trained on
  :func:`mmlib.losses.cca_loss`, then a linear CCA of their outputs.
- :class:`DGCCAModule` / :class:`DGCCA`: Deep Generalized CCA (Benton et al., 2017), one network
  per view trained on :func:`mmlib.losses.gcca_loss`, then a linear GCCA of their outputs.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import check_is_fitted, check_n_components, check_positive_int, check_reg
from mmlib.linear import CCA, GCCA
from mmlib.losses import _check_objective, cca_loss, gcca_loss
from mmlib.models._common import _build_encoders, _check_batch, _encoder_width
from mmlib.models._estimator import DeepEstimator, estimator_parameters
from mmlib.training import smallest_batch

__all__ = ["DCCA", "DCCAModule", "DGCCA", "DGCCAModule"]


class _ViewEncoders(nn.Module, abc.ABC):
    """One encoder per view with a common output dimension: MLPs from widths, or modules given.

    What DCCAModule and DGCCAModule share; a subclass sets ``_n_views`` (``None``: any number
    ``>= 2``) and keeps the encoders under its own attribute names (``_keep``).
    """

    _n_views: int | None = None
    _in_dims_rule = "list at least two views' dimensions"

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
        if in_dims is not None and not self._valid_in_dims(in_dims):
            raise ValueError(f"in_dims must {self._in_dims_rule}, got {in_dims!r}")
        self._keep(
            _build_encoders(
                in_dims, out_dim, hidden, activation, batch_norm, dropout, encoders, self._n_views
            )
        )

    def _valid_in_dims(self, in_dims) -> bool:
        if not isinstance(in_dims, Sequence):
            return False
        return len(in_dims) == self._n_views if self._n_views else len(in_dims) >= 2

    @abc.abstractmethod
    def _keep(self, encoders: list[nn.Module]) -> None:
        """Register the encoders under the subclass's attribute names."""


class DCCAModule(_ViewEncoders):
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

    _n_views = 2
    _in_dims_rule = "be a pair (d1, d2)"

    def _keep(self, encoders: list[nn.Module]) -> None:
        self.f1, self.f2 = encoders

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(f1(x1), f2(x2))``, each of shape ``(n, out_dim)``; ``x1``, ``x2`` share ``n``."""
        _check_batch([x1, x2], 2)
        return self.f1(x1), self.f2(x2)


class DGCCAModule(_ViewEncoders):
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

    def _keep(self, encoders: list[nn.Module]) -> None:
        self.encoders = nn.ModuleList(encoders)

    def forward(self, *views: torch.Tensor) -> list[torch.Tensor]:
        """``[f_1(x_1), ..., f_J(x_J)]``, each of shape ``(n, out_dim)``."""
        _check_batch(views, len(self.encoders))
        return [f(x) for f, x in zip(self.encoders, views, strict=True)]


@estimator_parameters
class _DeepMultiview(DeepEstimator):
    """What DCCA and DGCCA share: parameters, the module and its checks, the networks' outputs.

    The contract (fit, transform, parameters, device, seeding, pickling) is
    ``mmlib.models._estimator.DeepEstimator``'s. A subclass gives ``_module_cls``,
    ``_max_components(k, out_dim, n_views)`` and ``_outputs_loss(k, reg)`` (the loss of the
    networks' outputs).
    """

    # a subclass sets _module_cls (the torch module it trains) as a class attribute

    n_components: int = 2
    hidden: Sequence[int] = (256, 256)
    out_dim: int | None = None
    activation: str = "relu"
    reg: float = 1e-3
    epochs: int = 100
    batch_size: int | None = None
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    patience: int | None = None
    batch_norm: bool = False
    dropout: float = 0.0
    device: str | None = None
    random_state: int | None = 0
    progress: bool | None = None
    encoders: Sequence[nn.Module] | None = None

    def _custom_module(self, views):
        """The module around copies of ``self.encoders`` and their common output width."""
        encoders = self._copied_encoders(len(views))
        widths = [
            _encoder_width(f, v.shape[1], f"encoders[{j}]", f"views[{j}]", rows=v)
            for j, (f, v) in enumerate(zip(encoders, views, strict=True))
        ]
        if len(set(widths)) != 1:
            raise ValueError(f"the encoders' output widths must agree, got {widths}")
        if self.out_dim is not None and check_positive_int(self.out_dim, "out_dim") != widths[0]:
            raise ValueError(f"out_dim={self.out_dim} but the encoders output {widths[0]} columns")
        return self._module_cls(encoders=encoders), widths[0]

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

    def _build(self, views, val_views):
        """The module (custom encoders or MLPs), checked against the batches, and its loss."""
        k = check_positive_int(self.n_components, "n_components")
        if self.batch_size is not None:
            check_positive_int(self.batch_size, "batch_size", minimum=2)
        if self.encoders is not None:
            module, out_dim = self._custom_module(views)
        else:
            out_dim = k if self.out_dim is None else check_positive_int(self.out_dim, "out_dim")
            module = None
        self._max_components(k, out_dim, len(views))
        reg = check_reg(self.reg, len(views))
        self._check_batches(views[0].shape[0], out_dim, k, "views", self.batch_size is None)
        if val_views is not None:
            self._check_batches(val_views[0].shape[0], out_dim, k, "val_views", True)
        if module is None:
            module = self._module_cls(
                [v.shape[1] for v in views],
                out_dim,
                hidden=self.hidden,
                activation=self.activation,
                batch_norm=self.batch_norm,
                dropout=self.dropout,
            )
        self.out_dim_ = out_dim
        loss = self._outputs_loss(k, reg)
        return module, lambda m, batch: loss(m(*batch))

    def _networks(self) -> list[nn.Module]:
        """The trained network of each view."""
        m = self.module_
        return [m.f1, m.f2] if isinstance(m, DCCAModule) else list(m.encoders)

    def transform_views(self, views) -> list[np.ndarray | None]:
        """The networks' outputs ``[f_1(X_1), ..., f_J(X_J)]`` (each ``(n, out_dim)``, float64).

        A view given as ``None`` (missing) gets ``None`` in its slot.
        """
        return self._outputs(self._check_views_with_gaps(views))

    def _outputs(self, views) -> list[np.ndarray | None]:
        """Each network's output on its checked view (``None`` for a missing view)."""
        return [
            None if v is None else self._numpy(self._no_grad(f, self._tensor(v)))
            for f, v in zip(self._networks(), views, strict=True)
        ]


@estimator_parameters
class DCCA(_DeepMultiview):
    r"""Deep canonical correlation analysis of two views.

    Two networks :math:`f_1, f_2` (weights :math:`W_1, W_2`) are trained so that their outputs
    are maximally correlated, the seed talk's

    .. math:: (u_1^*, u_2^*, W_1^*, W_2^*) = \arg\max \operatorname{corr}\big(u_1^\top f_1(X_1),
              u_2^\top f_2(X_2)\big),

    extended to ``k`` pairs: the loss is minus the sum of the squares of the top-``k`` canonical
    correlations of each mini-batch of outputs (or of the correlations, ``objective="sum"``;
    :func:`mmlib.losses.cca_loss`). After training, a linear :class:`mmlib.linear.CCA` of the
    outputs on all training data gives the canonical directions :math:`u`.

    Output (the deep estimators' convention, ``mmlib.models._estimator``): :meth:`transform`
    gives each view's canonical variates, a list (``None`` for a view given as ``None``);
    :meth:`transform_views` the networks' outputs.

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
        :func:`mmlib.losses.cca_loss`. ``benchmarks/dcca_study.py`` compares the two on the
        noisy-digits benchmark; at 3 seeds their held-out total correlations tie under the book's
        evidence rule (:func:`mmlib.book.compare`), so the default is cca-zoo's, for comparability.

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
        ``cca_.canonical_correlations_``: the canonical correlations of the training outputs
        under the ridge ``reg`` (singular values of the ridge-whitened cross-covariance, see
        :mod:`mmlib.losses`). With ``reg > 0`` they are shrunk: each is at most the actual
        Pearson correlation of the training variates ``transform(views)``, equal only at
        ``reg = 0``. Use :meth:`score` for actual (held-out) correlations.
    n_features_in_ : list of int
    device_ : torch.device

    References
    ----------
    G. Andrew, R. Arora, J. Bilmes, K. Livescu. Deep canonical correlation analysis. ICML 2013.
    """

    _max_views = 2
    _module_cls = DCCAModule

    objective: str = "squared"

    def _max_components(self, k: int, out_dim: int, n_views: int) -> None:
        check_n_components(k, out_dim, reason="out_dim, the networks' output dimension")

    def _outputs_loss(self, k: int, reg: float):
        objective = _check_objective(self.objective)
        return lambda out: cca_loss(out[0], out[1], n_components=k, reg=reg, objective=objective)

    def _after_fit(self, views) -> None:
        self.cca_ = CCA(n_components=self.n_components, reg=self.reg).fit(self._outputs(views))
        self.canonical_correlations_ = self.cca_.canonical_correlations_

    def transform(self, views) -> list[np.ndarray | None]:
        """Canonical variates ``[Z1, Z2]`` (each ``(n, k)``, float64) of (new) paired views.

        A view given as ``None`` (missing) gets ``None``: each view's variates use only its own
        network and canonical weights.
        """
        check_is_fitted(self, "cca_")
        outputs = self.transform_views(views)
        if all(o is not None for o in outputs):
            return self.cca_.transform(outputs)
        return [
            None if o is None else self.cca_.transform_view(o, j) for j, o in enumerate(outputs)
        ]

    def score(self, views, y=None) -> float:
        """Sum of the ``k`` actual Pearson correlations between the canonical variates of ``views``.

        The directions are the training ones (fitted with the ridge), but the correlations are
        not shrunk: on the training views this is at least ``canonical_correlations_.sum()``.
        """
        check_is_fitted(self, "cca_")
        return self.cca_.score(self._outputs(self._check_new_views(views)))


class DGCCA(_DeepMultiview):
    r"""Deep generalized CCA of ``J >= 2`` views.

    One network :math:`f_j` per view; the shared representation :math:`G` (n x r) and the
    linear maps :math:`U_j` solve the GCCA of the networks' outputs (samples as rows),

    .. math:: \min_{U_j,\, G,\, f_j} \sum_{j=1}^J \lVert G - f_j(X_j) U_j \rVert_F^2
              \quad\text{s.t.}\quad G^\top G = I_r,

    trained with :func:`mmlib.losses.gcca_loss` (``G`` and ``U_j`` recomputed on each mini-batch,
    gradients flow to every network). After training, a linear :class:`mmlib.linear.GCCA` of the
    outputs on all training data gives ``G_`` and the maps used by :meth:`transform`.

    Output: :meth:`transform` gives the estimate of ``G`` (every view needed);
    :meth:`transform_views` the networks' outputs (``None`` for a view given as ``None``).

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

    _module_cls = DGCCAModule

    def _max_components(self, k: int, out_dim: int, n_views: int) -> None:
        check_n_components(
            k, n_views * out_dim, reason="n_views * out_dim, the total output dimension"
        )

    def _outputs_loss(self, k: int, reg: float):
        return lambda out: gcca_loss(out, n_components=k, reg=reg)

    def _after_fit(self, views) -> None:
        self.gcca_ = GCCA(n_components=self.n_components, reg=self.reg).fit(self._outputs(views))
        self.G_ = self.gcca_.G_
        self.eigenvalues_ = self.gcca_.eigenvalues_

    def transform(self, views) -> np.ndarray:
        """Estimate of ``G`` (``(n, r)``, float64) for (new) samples of all views.

        Every view is needed; for the views present, :meth:`transform_views` gives each
        network's output (``None`` in a missing view's slot).
        """
        check_is_fitted(self, "gcca_")
        if isinstance(views, (list, tuple)) and any(v is None for v in views):
            raise ValueError(
                "DGCCA.transform needs every view (its estimate of G combines them all); a view "
                "is None: use transform_views(views) for the networks' outputs of the views present"
            )
        return self.gcca_.transform(self.transform_views(views))

    def fit_transform(self, views, y=None, val_views=None) -> np.ndarray:
        """``fit(views)`` and return ``G_``."""
        return self.fit(views, val_views=val_views).G_
