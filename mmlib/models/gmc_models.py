"""Contrastive alignment with missing modalities: GMC, and two baselines with the same encoders.

- :class:`GMCModule` / :class:`GMC`: Geometric Multimodal Contrastive learning (Poklukar et al.,
  2022).
- :class:`FusionAEModule` / :class:`FusionAE`: a non-contrastive multimodal autoencoder that fuses
  the modality features into one code; a missing modality is fed as zeros (its training mean).
- :class:`MVAEModule` / :class:`MVAE`: the product-of-experts multimodal VAE (Wu & Goodman, 2018),
  which handles a missing modality by leaving its expert out of the product.

All three take the same per-modality encoders (MLP widths or one ``nn.Module`` per modality) and
give a code for any subset of present modalities, so GMC's Table 1 can be computed for each.
"""

from __future__ import annotations

import abc
import copy
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    check_is_fitted,
    check_positive_float,
    check_positive_int,
)
from mmlib.losses import gmc_loss
from mmlib.models._common import _check_encoders, _encoder_width
from mmlib.models._estimator import DeepEstimator, estimator_parameters
from mmlib.nets import MLP, _check_hidden, _check_input, _check_width, _first_weight

__all__ = ["GMC", "MVAE", "FusionAE", "FusionAEModule", "GMCModule", "MVAEModule"]


def _modality_encoders(in_dims, hidden, activation, encoders) -> tuple[nn.ModuleList, list[int]]:
    """One encoder per modality (custom modules, or MLPs) and the width of each one's output.

    A custom encoder maps a batch ``(b, d_m)`` (flat rows, as the views are stored) to
    ``(b, h_m)``; it may reshape inside (e.g. to ``(b, 1, 8, 8)`` for a CNN). The widths ``h_m``
    are found by a dry run on two zero rows.
    """
    if encoders is None:
        hidden = _check_hidden(hidden)
        if not hidden:
            raise ValueError("hidden must hold at least one width (the modality features' width)")
        mods = nn.ModuleList(
            MLP(d, hidden[-1], hidden[:-1], activation=activation) for d in in_dims
        )
        return mods, [hidden[-1]] * len(in_dims)
    encoders = _check_encoders(encoders, len(in_dims), unit="modality")
    widths = [
        _encoder_width(enc, d, f"encoders[{m}]", f"modality {m} ({d} features)")
        for m, (enc, d) in enumerate(zip(encoders, in_dims, strict=True))
    ]
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


def _check_module_in_dims(in_dims) -> list[int]:
    """The modules' ``in_dims``: a sequence of at least two positive ints."""
    if isinstance(in_dims, str) or not isinstance(in_dims, Sequence):
        raise TypeError(f"in_dims must be a sequence of ints (one per modality), got {in_dims!r}")
    if len(in_dims) < 2:
        raise ValueError(f"in_dims must list at least two modalities, got {in_dims!r}")
    return [check_positive_int(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]


def _check_module_views(module: nn.Module, views, idx: Sequence[int]) -> None:
    """The views ``idx`` of a module's input: ``(b, d_m)`` finite tensors of the module's dtype.

    One check at the module's public entry points (``forward``, ``encode``, ``joint_code``,
    ``modality_code``, ...): the right number of entries, each present one a 2-D tensor with the
    declared width, not on 'meta', of the encoder's dtype and device, without NaN/inf, and the
    same number of rows for all of them.
    """
    n_mod = len(module.in_dims)
    if isinstance(views, torch.Tensor) or not isinstance(views, (list, tuple)):
        raise TypeError(
            f"views must be a list with one tensor per modality ({n_mod}), got "
            f"{type(views).__name__}"
        )
    if len(views) != n_mod:
        raise ValueError(f"expected {n_mod} modalities (views), got {len(views)}")
    rows = []
    for m in idx:
        x = views[m]
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"views[{m}] must be a torch.Tensor, got {type(x).__name__} (convert it with "
                "torch.as_tensor(x, dtype=torch.float32) first)"
            )
        _check_input(x, module.in_dims[m], _first_weight(module.encoders[m]), name=f"views[{m}]")
        rows.append(int(x.shape[0]))
    if len(set(rows)) > 1:
        raise ValueError(f"the views must have the same number of rows (samples), got {rows}")


def _check_modality(m, n_modalities: int) -> int:
    """A modality index ``m`` in ``0..n_modalities - 1``."""
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)):
        raise TypeError(f"m must be a modality index (int), got {type(m).__name__} {m!r}")
    if not 0 <= int(m) < n_modalities:
        raise ValueError(
            f"m={int(m)} is out of range: there are {n_modalities} modalities "
            f"(0..{n_modalities - 1})"
        )
    return int(m)


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
    modalities' codes, :math:`\bar z_S / \lVert \bar z_S \rVert`. The official code averages
    without renormalising; mmlib renormalises so that every code, whatever the subset, lies on
    the unit sphere that the loss and the probe were trained on.

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
        in_dims = _check_module_in_dims(in_dims)
        code_dim = _check_width(code_dim, "code_dim")
        head_hidden = _check_hidden(head_hidden, "head_hidden")
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
        _check_module_views(self, views, range(len(self.in_dims)))
        return self._joint_code(views)

    def _joint_code(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        hs = [f(x) for f, x in zip(self.joint_encoders, views, strict=True)]
        return self.project(self.fuse(torch.cat(hs, dim=1)))

    def modality_code(self, m: int, x: torch.Tensor) -> torch.Tensor:
        """:math:`z_m = g(f_m(x_m))`, ``(b, e)``."""
        m = _check_modality(m, len(self.in_dims))
        views: list = [None] * len(self.in_dims)
        views[m] = x
        _check_module_views(self, views, [m])
        return self._modality_code(m, x)

    def _modality_code(self, m: int, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.encoders[m](x))

    def forward(self, *views: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(z_joint, [z_1, ..., z_M])`` for complete observations (what the loss needs)."""
        _check_module_views(self, list(views), range(len(self.in_dims)))
        return self._joint_code(views), [self._modality_code(m, x) for m, x in enumerate(views)]

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """Code of the present modalities (see the class docstring for the rule), ``(b, e)``.

        ``views`` has one entry per modality; absent ones may be ``None``. ``present`` (indices)
        defaults to the entries that are not ``None``.
        """
        if isinstance(views, (list, tuple)) and present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        _check_module_views(self, views, idx)
        if len(idx) == len(self.encoders):
            return self._joint_code(views)
        codes = [self._modality_code(m, views[m]) for m in idx]
        return nn.functional.normalize(torch.stack(codes).mean(dim=0), dim=1)


class _Autoencoder(nn.Module, abc.ABC):
    """Modality encoders, a layer from their outputs to the code (``_between``), a decoder each.

    What FusionAEModule and MVAEModule share; the decoders mirror the encoders' widths.
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
        in_dims = _check_module_in_dims(in_dims)
        code_dim = _check_width(code_dim, "code_dim")
        self.in_dims = in_dims
        self.encoders, widths = _modality_encoders(in_dims, hidden, activation, encoders)
        self._between(widths, code_dim)
        rev = tuple(reversed(tuple(hidden))) or (64,)
        self.decoders = nn.ModuleList(MLP(code_dim, d, rev, activation=activation) for d in in_dims)

    @abc.abstractmethod
    def _between(self, widths: list[int], code_dim: int) -> None:
        """Register the layer(s) from the encoders' outputs (widths) to the code."""


class FusionAEModule(_Autoencoder):
    r"""A multimodal autoencoder: modality encoders, a fusion layer, one code, a decoder each.

    :math:`z = W [f_1(x_1); \dots; f_M(x_M)] + b`, :math:`\hat x_m = d_m(z)`, trained on the
    reconstruction error of every modality from the complete observation. It has no mechanism
    for a missing modality: :meth:`encode` feeds zeros in its place (the training mean, as the
    estimator standardises the inputs), the usual zero-filling of fusion models.
    """

    def _between(self, widths: list[int], code_dim: int) -> None:
        self.fuse = nn.Linear(sum(widths), code_dim)

    def code(self, views: Sequence[torch.Tensor]) -> torch.Tensor:
        """The fused code ``z``, ``(b, e)``."""
        return self.fuse(torch.cat([f(x) for f, x in zip(self.encoders, views, strict=True)], 1))

    def forward(self, *views: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(z, [x_hat_1, ..., x_hat_M])``."""
        _check_module_views(self, list(views), range(len(self.in_dims)))
        z = self.code(views)
        return z, [d(z) for d in self.decoders]

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """Code with absent modalities replaced by zeros, ``(b, e)``."""
        if isinstance(views, (list, tuple)) and present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        _check_module_views(self, views, idx)
        b = next(views[m] for m in idx).shape[0]
        ref = views[idx[0]]
        filled = [
            views[m] if m in idx else torch.zeros(b, d, dtype=ref.dtype, device=ref.device)
            for m, d in enumerate(self.in_dims)
        ]
        return self.code(filled)


class MVAEModule(_Autoencoder):
    r"""The multimodal VAE of Wu & Goodman (2018): a Gaussian expert per modality, multiplied.

    Expert :math:`m` maps :math:`x_m` to :math:`(\mu_m, \log\sigma_m^2)`; the posterior of a
    subset :math:`S` of modalities is the product of the present experts and the prior expert
    :math:`\mathcal N(0, I)`, again Gaussian:

    .. math:: \sigma_S^{-2} = 1 + \sum_{m \in S} \sigma_m^{-2}, \qquad
              \mu_S = \sigma_S^2 \sum_{m \in S} \sigma_m^{-2} \mu_m .

    A missing modality is simply left out of the product, so every subset has a code
    (:meth:`encode` returns :math:`\mu_S`). Decoders :math:`d_m(z)` reconstruct each modality.
    """

    def _between(self, widths: list[int], code_dim: int) -> None:
        self.experts = nn.ModuleList(nn.Linear(w, 2 * code_dim) for w in widths)

    def posterior(self, views, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mu_S, logvar_S)`` of the product of the prior and the experts in ``idx``."""
        idx = _present_indices(list(idx), len(self.encoders), None)
        _check_module_views(self, views, idx)
        return self._posterior(views, idx)

    def _posterior(self, views, idx: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
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
        _check_module_views(self, views, range(len(self.in_dims)))
        mu, logvar = self._posterior(views, _present_indices(list(idx), len(self.encoders), None))
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # reparametrisation
        rec = sum(((d(z) - x) ** 2).sum(dim=1) for d, x in zip(self.decoders, views, strict=True))
        kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar).sum(dim=1)
        return rec, kl

    def encode(self, views: Sequence[torch.Tensor | None], present=None) -> torch.Tensor:
        """The posterior mean ``mu_S`` of the present modalities, ``(b, e)``."""
        if isinstance(views, (list, tuple)) and present is None:
            present = [m for m, x in enumerate(views) if x is not None]
        idx = _present_indices(present, len(self.encoders), None)
        return self.posterior(views, idx)[0]


def _standardisation(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale (std, 1 for a constant column) of each column, without overflow.

    The moments are computed on the columns times exact powers of two (max ``|.|`` ~ 1) and
    scaled back, so ordinary data give bitwise the usual ``mean`` and ``std``, while a view of
    magnitude 1e300 (whose variance overflows) or 1e-300 (whose variance underflows) is
    standardised instead of being silently divided to zeros.
    """
    top = np.max(np.abs(v), axis=0)
    exponent = np.frexp(np.where(top > 0, top, 1.0))[1]
    unit = np.ldexp(v, -exponent)
    mean, std = unit.mean(axis=0), unit.std(axis=0)
    return np.ldexp(mean, exponent), np.where(std > 0, np.ldexp(std, exponent), 1.0)


@estimator_parameters
class _MissingModalityModel(DeepEstimator):
    """What GMC, FusionAE and MVAE share: standardisation, and codes of any subset of modalities.

    The contract (fit, parameters, device, seeding, pickling) is
    ``mmlib.models._estimator.DeepEstimator``'s; a subclass gives ``_module(in_dims,
    encoders)`` and ``_loss(module, batch)``.
    """

    code_dim: int = 32
    hidden: Sequence[int] = (128, 64)
    encoders: Sequence[nn.Module] | None = None
    view_names: Sequence[str] | None = None
    activation: str = "relu"
    epochs: int = 30
    batch_size: int | None = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    device: str | None = None
    random_state: int | None = 0
    progress: bool | None = None

    def _names(self, n_views: int) -> list[str] | None:
        if self.view_names is None:
            return None
        names = self.view_names
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise TypeError(f"view_names must be a list of str, got {type(names).__name__}")
        if len(names) != n_views or not all(isinstance(s, str) for s in names):
            raise ValueError(f"view_names must be {n_views} strings (one per view), got {names!r}")
        return list(names)

    def _training_views(self, views, val_views):
        """The views standardised with the training mean and scale of each column."""
        self._names(len(views))
        self.mean_, self.scale_ = map(list, zip(*(_standardisation(v) for v in views), strict=True))
        scaled = [(v - m) / s for v, m, s in zip(views, self.mean_, self.scale_, strict=True)]
        if val_views is not None:
            val_views = [
                (v - m) / s for v, m, s in zip(val_views, self.mean_, self.scale_, strict=True)
            ]
        return scaled, val_views

    def _build(self, views, val_views):
        encoders = self._copied_encoders(len(views), unit="modality")
        if self.random_state is not None:  # a fresh, seeded initialisation of custom encoders
            for layer in (layer for enc in encoders or [] for layer in enc.modules()):
                if hasattr(layer, "reset_parameters"):
                    layer.reset_parameters()
        return self._module([v.shape[1] for v in views], encoders), self._loss

    def _after_fit(self, views) -> None:
        self.view_names_ = self._names(len(views))

    def transform(self, views, present=None) -> np.ndarray:
        """The joint code ``(n, code_dim)`` (float64) of the modalities present in ``views``.

        Parameters
        ----------
        views : list with one entry per modality
            ``(n, d_m)`` arrays, ``None`` for an absent modality. All present: the complete code.
        present : list of int or str, optional
            Deprecated: put ``None`` in the slots of the absent modalities instead.

        Returns
        -------
        ndarray (n, code_dim)
        """
        views = self._check_views_with_gaps(self._present_views(views, present), unit="modality")
        idx = [m for m, v in enumerate(views) if v is not None]
        return self._numpy(self._no_grad(self.module_.encode, self._scaled_tensors(views), idx))

    def transform_views(self, views) -> list[np.ndarray | None]:
        """Each modality's own code (the code with only that modality present), ``(n, code_dim)``.

        ``None`` in a modality's slot gives ``None`` in the same slot of the result.
        """
        views = self._check_views_with_gaps(views, unit="modality")
        tensors = self._scaled_tensors(views)

        def alone(m: int) -> np.ndarray:
            return self._numpy(self._no_grad(self.module_.encode, _only(tensors, m), [m]))

        return [None if t is None else alone(m) for m, t in enumerate(tensors)]

    def _present_views(self, views, present) -> list:
        """``views`` with ``None`` in the slots that the deprecated ``present`` leaves out."""
        if present is None:
            return views
        example = "transform([X_0, None, X_2]) for present=[0, 2]"
        warnings.warn(
            f"transform(views, present=...) is deprecated and will be removed in the next release: "
            f"put None in the slot of each absent modality instead, e.g. {example}",
            DeprecationWarning,
            stacklevel=3,
        )
        check_is_fitted(self, "module_")
        if not isinstance(views, (list, tuple)) or len(views) != len(self.n_features_in_):
            return views  # the usual checks say what is wrong
        idx = _present_indices(present, len(views), self.view_names_)
        missing = [m for m in idx if views[m] is None]
        if missing:
            raise ValueError(f"modalities {missing} are listed in present but views holds None")
        return [v if m in idx else None for m, v in enumerate(views)]

    def _scaled_tensors(self, views) -> list[torch.Tensor | None]:
        """The checked views standardised as in ``fit``, as the module's tensors."""
        tensors: list[torch.Tensor | None] = [None] * len(views)
        for m, a in enumerate(views):
            if a is None:
                continue
            scaled = (a - self.mean_[m]) / self.scale_[m]
            if not np.isfinite(scaled).all():
                raise ValueError(
                    f"views[{m}] overflows once standardised with the training mean and scale: "
                    "its values are far outside the range of the training data"
                )
            tensors[m] = self._tensor(scaled)
        return tensors


def _only(tensors: list, m: int) -> list:
    """``tensors`` with every entry but the ``m``-th replaced by ``None``."""
    return [t if j == m else None for j, t in enumerate(tensors)]


class GMC(_MissingModalityModel):
    r"""Geometric Multimodal Contrastive learning (GMC) of ``M >= 2`` modalities.

    A :class:`GMCModule` (modality encoders :math:`f_m`, a joint encoder :math:`f_{1:M}`, a shared
    head :math:`g`, unit-norm codes) trained on :func:`mmlib.losses.gmc_loss`: for every
    modality, NT-Xent between the joint code and the modality's code,

    .. math:: \mathcal L_{\text{GMC}} = \sum_{m=1}^M \ell_m\big(z_{1:M}, z_m; \tau\big),

    which pulls each modality's code onto the joint code of the same sample (geometric
    alignment) and away from the other samples' codes. No label is used. :meth:`transform` gives
    the code of any subset of modalities: the joint code when all are present, :math:`z_m` for
    one, the normalised mean of the present :math:`z_m` otherwise (the official code averages
    without renormalising; see :class:`GMCModule`).

    Output (the deep estimators' convention, ``mmlib.models._estimator``): :meth:`transform`
    gives the joint code of the modalities present (``None`` in an absent one's slot);
    :meth:`transform_views` each modality's own code.

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
        Modality names (kept as ``view_names_``; the deprecated ``present=`` of
        :meth:`transform` takes them).
    activation, epochs, batch_size, lr, weight_decay, device, random_state, progress
        Non-linearity and training settings, as in :class:`mmlib.models.DCCA` (Adam).

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
        self._store_params(locals())

    def _module(self, in_dims, encoders):
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

    Output: :meth:`transform` gives the fused code of the modalities present (``None`` in an
    absent one's slot); :meth:`transform_views` each modality's own code.
    """

    def _module(self, in_dims, encoders):
        return FusionAEModule(in_dims, self.code_dim, self.hidden, encoders, self.activation)

    def _loss(self, module, batch):
        _, recon = module(*batch)
        return sum(((r - x) ** 2).sum(dim=1).mean() for r, x in zip(recon, batch, strict=True))


@estimator_parameters
class MVAE(_MissingModalityModel):
    r"""Baseline: the product-of-experts multimodal VAE (Wu & Goodman, 2018).

    A :class:`MVAEModule` trained with the MVAE's sub-sampled ELBO: the negative ELBO of the
    complete observation plus that of each single modality (each reconstructing all
    modalities), :math:`\sum_{S \in \{1:M, \{1\}, \dots, \{M\}\}} \mathbb E\big[\sum_m
    \lVert d_m(z) - x_m\rVert^2\big] + \beta\,\mathrm{KL}(q(z \mid x_S)\,\Vert\,\mathcal N(0, I))`
    (a Gaussian likelihood of fixed variance). The code of a subset is the posterior mean.

    Output: :meth:`transform` gives the posterior mean of the modalities present (``None`` in an
    absent one's slot); :meth:`transform_views` each modality's own code.

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

    beta: float = 1.0

    def _module(self, in_dims, encoders):
        check_positive_float(self.beta, "beta")
        return MVAEModule(in_dims, self.code_dim, self.hidden, encoders, self.activation)

    def _loss(self, module, batch):
        subsets = [list(range(len(batch)))] + [[m] for m in range(len(batch))]
        total = 0.0
        for idx in subsets:
            rec, kl = module.elbo_terms(batch, idx)
            total = total + (rec + self.beta * kl).mean()
        return total
