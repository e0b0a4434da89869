r"""Which modality does a prediction rely on? Modality weights, tensor blocks and attributions.

The interpretability chapter's toolbox (torch):

* :func:`modality_weights` -- the closed-form weights :math:`\beta` given the last-layer norms;
* :class:`ModalityWeights` -- the per-modality last layers with the penalty
  :math:`\sum_m \lVert w_m \rVert^2 / \beta_m` and the closed-form :math:`\beta` update;
* :func:`tensor_block` and :func:`iterative_normalised_tensor` (module
  :class:`IterativeNormTensor`) -- the tensor-fusion block with appended ones, and the same block
  with its lower-order content removed, both flattened by the one function
  :func:`outer_flatten`;
* :class:`SequenceCNN` -- a tiny 1-D CNN for one-hot DNA;
* :class:`ModalityWeightedClassifier` and :func:`fit_modality_weighted` -- a network per
  modality (plus an optional tensor block as an extra "modality") with learned weights;
* :func:`modality_ablation` and :func:`integrated_gradients_per_modality` -- what the trained
  model does without a modality, and Integrated Gradients summed per modality (captum, imported
  on first use).

References
----------
Kloft, Brefeld, Sonnenburg and Zien (2011), "lp-norm multiple kernel learning", JMLR 12.
Zadeh, Chen, Poria, Cambria and Morency (2017), "Tensor fusion network for multimodal sentiment
analysis", EMNLP. Sundararajan, Taly and Yan (2017), "Axiomatic attribution for deep networks",
ICML.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    _is_tensor,
    check_array,
    check_labels,
    check_positive_float,
    check_positive_int,
    check_random_state,
    check_views,
    to_numpy,
)
from mmlib.nets import _check_input, _first_weight
from mmlib.training import _check_seed, resolve_device

__all__ = [
    "IterativeNormTensor",
    "ModalityWeightedClassifier",
    "ModalityWeights",
    "SequenceCNN",
    "fit_modality_weighted",
    "integrated_gradients_per_modality",
    "iterative_normalised_tensor",
    "modality_ablation",
    "modality_weights",
    "outer_flatten",
    "tensor_block",
]


# --------------------------------------------------------------------------------------------
# 1. the closed-form modality weights
# --------------------------------------------------------------------------------------------


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a real number >= 1, got {type(p).__name__} {p!r}")
    p = float(p)
    if not math.isfinite(p) or p < 1:
        raise ValueError(
            f"p must be a finite number >= 1 (the constraint ||beta||_p <= 1), got {p}"
        )
    return p


def modality_weights(norms, p: float = 2.0):
    r"""The modality weights :math:`\beta` that minimise the penalty for given last-layer norms.

    For last-layer weights :math:`v_m` of modality :math:`m` (after the reparametrisation
    :math:`v_m = \sqrt{\beta_m}\, w_m`) with norms :math:`a_m = \lVert v_m \rVert`,

    .. math::

        \beta^\star = \arg\min_{\beta \ge 0,\ \lVert \beta \rVert_p \le 1}
        \sum_m \frac{a_m^2}{\beta_m}, \qquad
        \beta^\star_m = \frac{a_m^{2/(p+1)}}{\big(\sum_k a_k^{2p/(p+1)}\big)^{1/p}},

    so :math:`\beta^\star \ge 0` and :math:`\lVert \beta^\star \rVert_p = 1`, and the minimum is
    :math:`\lVert a \rVert_{2p/(p+1)}^2` (Kloft et al., 2011). When every norm is zero the
    penalty is zero for any :math:`\beta`; the uniform :math:`\beta_m = M^{-1/p}` is returned.

    Parameters
    ----------
    norms : array-like or torch.Tensor of shape (M,)
        The non-negative norms :math:`a_m`, one per modality (at least one).
    p : float >= 1
        The norm of the constraint: 1 gives sparse weights, larger p spreads them out.

    Returns
    -------
    numpy.ndarray or torch.Tensor of shape (M,)
        :math:`\beta^\star`, of the same kind as ``norms`` (float64 for array input).
    """
    p = _check_p(p)
    if _is_tensor(norms):
        a = norms.detach()
        if a.ndim != 1 or a.numel() == 0:
            raise ValueError(f"norms must be a non-empty 1-D tensor, got shape {tuple(a.shape)}")
        if not torch.isfinite(a).all() or (a < 0).any():
            raise ValueError("norms must be finite and non-negative")
        if float(a.max()) == 0.0:
            return torch.full_like(a, a.numel() ** (-1.0 / p))
        a = a / a.max()  # scale-free, and keeps a**(2p/(p+1)) away from under/overflow
        powered = a ** (2.0 / (p + 1.0))
        return powered / (a ** (2.0 * p / (p + 1.0))).sum() ** (1.0 / p)
    a = check_array(norms, name="norms", ndim=1)
    if (a < 0).any():
        raise ValueError("norms must be non-negative")
    if a.max() == 0.0:
        return np.full(a.shape, a.size ** (-1.0 / p))
    a = a / a.max()
    return a ** (2.0 / (p + 1.0)) / np.sum(a ** (2.0 * p / (p + 1.0))) ** (1.0 / p)


def _check_features(features, n_expected: int | None, name: str = "features") -> list:
    if isinstance(features, torch.Tensor) or not isinstance(features, Sequence):
        raise TypeError(f"{name} must be a list of (n, d_m) tensors, got {type(features).__name__}")
    if n_expected is not None and len(features) != n_expected:
        raise ValueError(f"{name} must hold {n_expected} modalities, got {len(features)}")
    if len(features) == 0:
        raise ValueError(f"{name} is empty")
    for m, h in enumerate(features):
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"{name}[{m}] must be a torch.Tensor, got {type(h).__name__}")
        if h.ndim != 2:
            raise ValueError(f"{name}[{m}] must have shape (n, d), got {tuple(h.shape)}")
    sizes = [h.shape[0] for h in features]
    if len(set(sizes)) > 1:
        raise ValueError(f"{name}: all modalities must have the same batch size, got {sizes}")
    return list(features)


class ModalityWeights(nn.Module):
    r"""Per-modality last layers with learned modality weights :math:`\beta`.

    The model's output is :math:`\sum_m \langle v_m, h_m \rangle + b` for the features
    :math:`h_m` of each modality, where :math:`v_m = \sqrt{\beta_m}\, w_m` are the reparametrised
    last-layer weights. The ridge penalty :math:`\sum_m \lVert w_m \rVert^2` of the original
    weights then reads

    .. math:: \Omega(v, \beta) = \sum_m \frac{\lVert v_m \rVert_F^2}{\beta_m},

    (:meth:`penalty`), and :meth:`update_beta` sets :math:`\beta` to its minimiser under
    :math:`\beta \ge 0, \lVert \beta \rVert_p \le 1` (:func:`modality_weights`). Alternating a
    gradient step on :math:`v` with the update is gradient descent on
    :math:`\lVert (\lVert v_m \rVert)_m \rVert_{2p/(p+1)}^2`, a group norm that switches whole
    modalities off at p = 1.

    Parameters
    ----------
    in_features : sequence of int
        Feature dimension :math:`d_m` of each modality (at least one).
    out_features : int
        Outputs (1 for a binary logit, the number of classes otherwise).
    p : float >= 1
        Norm of the constraint on :math:`\beta`.

    Attributes
    ----------
    heads : nn.ModuleList
        ``Linear(d_m, out_features, bias=False)``: the weights :math:`v_m^\top`.
    bias : nn.Parameter of shape (out_features,)
    beta : torch.Tensor of shape (M,)
        A buffer: the current weights (uniform, :math:`M^{-1/p}`, until the first update).
    """

    def __init__(self, in_features: Sequence[int], out_features: int = 1, p: float = 2.0):
        super().__init__()
        if isinstance(in_features, str) or not isinstance(in_features, Sequence) or not in_features:
            raise TypeError(
                f"in_features must be a non-empty sequence of ints, got {in_features!r}"
            )
        dims = [check_positive_int(d, f"in_features[{m}]") for m, d in enumerate(in_features)]
        out_features = check_positive_int(out_features, "out_features")
        self.p = _check_p(p)
        self.in_features, self.out_features = dims, out_features
        self.heads = nn.ModuleList(nn.Linear(d, out_features, bias=False) for d in dims)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.register_buffer("beta", torch.full((len(dims),), len(dims) ** (-1.0 / self.p)))

    def reset_parameters(self) -> None:
        """Re-initialise the heads, zero the bias and make ``beta`` uniform again."""
        for head in self.heads:
            head.reset_parameters()
        with torch.no_grad():
            self.bias.zero_()
            self.beta.fill_(len(self.heads) ** (-1.0 / self.p))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """``(n, out_features)`` outputs :math:`\\sum_m v_m^\\top h_m + b` from ``M`` (n, d_m) features."""
        features = _check_features(features, len(self.heads))
        for m, (h, d) in enumerate(zip(features, self.in_features, strict=True)):
            if h.shape[1] != d:
                raise ValueError(f"features[{m}] has {h.shape[1]} columns, expected {d}")
            _check_input(h, d, self.heads[m].weight, name=f"features[{m}]")
        return sum(head(h) for head, h in zip(self.heads, features, strict=True)) + self.bias

    def norms(self) -> torch.Tensor:
        """The Frobenius norms :math:`\\lVert v_m \\rVert_F`, shape (M,) (differentiable)."""
        return torch.stack([head.weight.norm() for head in self.heads])

    def penalty(self, eps: float = 1e-12) -> torch.Tensor:
        """The penalty with the current (fixed) ``beta``.

        :math:`\\sum_m \\lVert v_m \\rVert_F^2 / \\beta_m`.
        """
        squares = torch.stack([head.weight.pow(2).sum() for head in self.heads])
        return (squares / self.beta.clamp_min(eps)).sum()

    @torch.no_grad()
    def update_beta(self) -> torch.Tensor:
        """Set ``beta`` to the closed form for the current weights; returns it."""
        self.beta.copy_(modality_weights(self.norms(), self.p))
        return self.beta


# --------------------------------------------------------------------------------------------
# 2. the tensor block, plain and with its lower-order content removed
# --------------------------------------------------------------------------------------------


def outer_flatten(blocks: Sequence[torch.Tensor]) -> torch.Tensor:
    r"""Row-wise outer product of ``K`` blocks, flattened in one fixed (C, row-major) order.

    Row ``i`` of the result is :math:`\mathrm{vec}(b^{(1)}_i \otimes \dots \otimes b^{(K)}_i)`,
    the entry :math:`\prod_k b^{(k)}_{i, j_k}` at position
    :math:`\sum_k j_k \prod_{l > k} d_l` (the first block varies slowest). Every tensor block of
    this module is flattened here, so the blocks and anything subtracted from them share one
    order.

    Parameters
    ----------
    blocks : list of torch.Tensor of shape (n, d_k)

    Returns
    -------
    torch.Tensor of shape (n, prod_k d_k)
    """
    blocks = _check_features(blocks, None, name="blocks")
    z = blocks[0]
    for b in blocks[1:]:
        z = (z[:, :, None] * b[:, None, :]).reshape(z.shape[0], -1)
    return z


def tensor_block(features: Sequence[torch.Tensor]) -> torch.Tensor:
    r"""The Tensor Fusion block: :math:`\mathrm{vec}\big(\bigotimes_m [h_m; 1]\big)`.

    Appending a 1 to every modality keeps all lower-order products in the block: the constant,
    each :math:`h_m` alone, every pair :math:`h_m \otimes h_k`, ... (Zadeh et al., 2017). The
    entry that multiplies :math:`h_{m,j}` by the appended ones of all other modalities is
    :math:`h_{m,j}` itself.

    Parameters
    ----------
    features : list of M torch.Tensor of shape (n, d_m)

    Returns
    -------
    torch.Tensor of shape (n, prod_m (d_m + 1))
        Flattened by :func:`outer_flatten` (the appended 1 is the last entry of each factor).
    """
    features = _check_features(features, None)
    return outer_flatten([nn.functional.pad(h, (0, 1), value=1.0) for h in features])


def _subsets(n_modalities: int, min_order: int = 2) -> list[tuple[int, ...]]:
    """Subsets of modalities of size >= min_order, by size, then lexicographic."""
    return [
        s
        for k in range(min_order, n_modalities + 1)
        for s in itertools.combinations(range(n_modalities), k)
    ]


def _lower_order_coef(lower: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Least-squares coefficients of centred ``target`` on centred ``lower`` (tiny ridge)."""
    gram = lower.T @ lower
    jitter = 1e-9 * torch.diagonal(gram).mean() + torch.finfo(gram.dtype).tiny
    eye = torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    return torch.linalg.solve(gram + jitter * eye, lower.T @ target)


def iterative_normalised_tensor(
    features: Sequence[torch.Tensor],
    stats: dict[tuple[int, ...], torch.Tensor | tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> tuple[torch.Tensor, dict]:
    r"""The interaction part of the tensor block, centred against every lower-order block.

    Order by order, as in a Hoeffding (ANOVA) decomposition, but linear: with the centred
    features :math:`z_{\{m\}} = h_m - \mu_m` as the blocks of order 1, the block of a subset
    :math:`S` of :math:`k \ge 2` modalities is the product of its members' centred features
    minus its least-squares fit on *all* blocks of lower order (every subset :math:`T` with
    :math:`|T| < k`, not only those inside :math:`S`):

    .. math::

        P_S = \bigotimes_{m \in S} z_{\{m\}}, \qquad
        L_{<k} = \big[\, z_T \,\big]_{1 \le |T| < k}, \qquad
        z_S = P_S - \mu_S - L_{<k} B_S,

    where :math:`(\mu_S, B_S)` minimise :math:`\sum_i \lVert P_{S,i} - \mu - L_{<k,i} B
    \rVert^2` on the batch (a relative ridge of 1e-9 keeps the solve defined when lower-order
    features are collinear or constant). On the batch each :math:`z_S` therefore has zero mean
    and zero covariance with every lower-order block; the construction treats the modalities
    alike, so permuting them permutes the blocks (and the columns inside them) and changes
    nothing else; a constant modality contributes exactly zero. Only *linear* lower-order
    components are removed: when modalities are dependent but uncorrelated (e.g.
    :math:`h_1 = h_0^2 - 1`), :math:`z_{\{0,1\}}` is a nonlinear function of :math:`h_0` alone
    (here :math:`h_0^3 - 3 h_0`), uncorrelated with both blocks below it, and no correction by
    lower-order blocks of the same form can remove it. The block is the concatenation of
    :math:`z_S` for all :math:`|S| \ge 2` (by size, then lexicographic), each flattened by
    :func:`outer_flatten` in increasing modality order. Computed in float64 (float32 on MPS),
    returned in the features' dtype.

    Parameters
    ----------
    features : list of M >= 2 torch.Tensor of shape (n, d_m)
    stats : dict, optional
        The fitted centring to apply: ``stats[(m,)]`` the mean :math:`\mu_m` of shape
        ``(d_m,)``, and for each subset ``S`` with ``|S| >= 2`` the pair
        ``(mu_S, B_S)`` of shapes ``(prod d_S,)`` and ``(p_k, prod d_S)``, where ``p_k`` is the
        number of lower-order columns. ``None`` fits them on the batch, which needs more
        samples than ``p_M + 1`` (otherwise the fit would interpolate and the block vanish).

    Returns
    -------
    block : torch.Tensor of shape (n, sum over |S| >= 2 of prod_{m in S} d_m)
    stats : dict
        The centring used (fitted or given), for reuse at test time.
    """
    features = _check_features(features, None)
    n_mod = len(features)
    if n_mod < 2:
        raise ValueError(f"a tensor block needs at least 2 modalities, got {n_mod}")
    dims = [h.shape[1] for h in features]
    n = features[0].shape[0]
    batch = stats is None
    if batch:
        n_lower = sum(dims) + sum(
            math.prod(dims[m] for m in s) for s in _subsets(n_mod) if len(s) < n_mod
        )
        if n <= n_lower + 1:
            raise ValueError(
                f"features: fitting the centring on a batch needs more than {n_lower + 1} "
                f"samples (the lower-order columns plus the mean), got {n}"
            )
        stats = {}
    else:
        missing = [s for s in [(m,) for m in range(n_mod)] + _subsets(n_mod) if s not in stats]
        if missing:
            raise ValueError(f"stats lacks the entry for the modalities {missing[0]}")
    dtype = features[0].dtype
    work = torch.float32 if features[0].device.type == "mps" else torch.float64
    centred = []
    for m, h in enumerate(features):
        h = h.to(work)
        if batch:
            stats[(m,)] = h.mean(dim=0)
        centred.append(h - stats[(m,)].to(work))
    lower, out = list(centred), []
    for k in range(2, n_mod + 1):
        design = torch.cat(lower, dim=1)
        new = []
        for s in itertools.combinations(range(n_mod), k):
            product = outer_flatten([centred[m] for m in s])
            if batch:
                mu = product.mean(dim=0)
                stats[s] = (mu, _lower_order_coef(design, product - mu))
            mu, coef = (t.to(work) for t in stats[s])
            new.append(product - mu - design @ coef)
        lower += new
        out += new
    return torch.cat(out, dim=1).to(dtype), stats


class IterativeNormTensor(nn.Module):
    """Module form of :func:`iterative_normalised_tensor`, with running statistics.

    In training mode the centring (means and lower-order coefficients) is fitted on the batch
    and updates running averages (momentum as in ``torch.nn.BatchNorm1d``); in eval mode the
    running averages are used, so a test sample is centred with the training batches' fit. The
    block is centred but not rescaled: dividing by its standard deviation would let the
    encoders make the block's features as large as they like at no cost in their weight
    penalty, and the block would memorise the training set. The only scaling is the modality
    weight's.

    Parameters
    ----------
    in_features : sequence of int
        :math:`d_m` of the M >= 2 modalities.
    momentum : float in (0, 1]
    """

    def __init__(self, in_features: Sequence[int], momentum: float = 0.1):
        super().__init__()
        if isinstance(in_features, str) or not isinstance(in_features, Sequence):
            raise TypeError(f"in_features must be a sequence of ints, got {in_features!r}")
        dims = [check_positive_int(d, f"in_features[{m}]") for m, d in enumerate(in_features)]
        if len(dims) < 2:
            raise ValueError(f"a tensor block needs at least 2 modalities, got {len(dims)}")
        momentum = check_positive_float(momentum, "momentum")
        if momentum > 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        self.in_features, self.momentum = dims, momentum
        self.keys = [(m,) for m in range(len(dims))] + _subsets(len(dims))
        for key in self.keys:
            size = math.prod(dims[m] for m in key)
            self.register_buffer(self._name("mean", key), torch.zeros(size))
            if len(key) > 1:
                n_lower = sum(math.prod(dims[m] for m in t) for t in self.keys if len(t) < len(key))
                self.register_buffer(self._name("coef", key), torch.zeros(n_lower, size))
        self.out_features = sum(math.prod(dims[m] for m in s) for s in _subsets(len(dims)))

    def reset_parameters(self) -> None:
        """Reset the running statistics to 0."""
        for buffer in self.buffers():
            buffer.zero_()

    @staticmethod
    def _name(kind: str, key: tuple[int, ...]) -> str:
        return kind + "_" + "_".join(map(str, key))

    def _running(self, key: tuple[int, ...]):
        mean = getattr(self, self._name("mean", key))
        return mean if len(key) == 1 else (mean, getattr(self, self._name("coef", key)))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        """``(n, out_features)`` normalised interaction block from ``M`` (n, d_m) features."""
        features = _check_features(features, len(self.in_features))
        if self.training:
            block, stats = iterative_normalised_tensor(features)
            with torch.no_grad():
                for key, value in stats.items():
                    values = (value,) if len(key) == 1 else value
                    for kind, v in zip(("mean", "coef"), values, strict=False):
                        running = getattr(self, self._name(kind, key))
                        running.lerp_(v.detach().to(running.dtype), self.momentum)
            return block
        return iterative_normalised_tensor(features, {k: self._running(k) for k in self.keys})[0]


# --------------------------------------------------------------------------------------------
# 3. networks and the classifier with modality weights
# --------------------------------------------------------------------------------------------


class SequenceCNN(nn.Module):
    """A tiny 1-D CNN for one-hot DNA: convolution, ReLU, max over positions.

    Input rows are flattened one-hot sequences (4 columns per position, as
    :func:`mmlib.datasets.make_dna_modalities` returns them); each of the ``n_filters`` outputs
    is the best match of one learned motif detector anywhere in the sequence.

    Parameters
    ----------
    n_filters : int
        Number of motif detectors (output features).
    kernel_size : int
        Width of the detectors, in letters.
    """

    def __init__(self, n_filters: int = 8, kernel_size: int = 8):
        super().__init__()
        self.n_filters = check_positive_int(n_filters, "n_filters")
        self.kernel_size = check_positive_int(kernel_size, "kernel_size")
        self.conv = nn.Conv1d(4, self.n_filters, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(n, 4 * length)`` one-hot rows -> ``(n, n_filters)`` features."""
        _check_input(x, None, self.conv.weight, name="x")
        if x.ndim != 2 or x.shape[1] % 4 or x.shape[1] // 4 < self.kernel_size:
            raise ValueError(
                f"x must have shape (n, 4 * length) with length >= {self.kernel_size}, "
                f"got {tuple(x.shape)}"
            )
        seq = x.reshape(x.shape[0], -1, 4).transpose(1, 2)  # (n, 4, length)
        return torch.relu(self.conv(seq)).amax(dim=2)


_TENSOR_KINDS = (None, "plain", "normalised")


def _check_view_tensor(x: torch.Tensor, weight, name: str) -> None:
    """One modality's batch for its encoder: values (not 'meta'), floating, its dtype, finite."""
    if x.device.type == "meta":
        raise ValueError(f"{name} is a tensor on the 'meta' device: it has a shape but no values")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"{name} must be a batch with at least one row, got {tuple(x.shape)}")
    if weight is not None and x.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {x.dtype}, but its encoder's weights are {weight.dtype}: convert "
            f"it with x.to({weight.dtype})"
        )
    if not bool(torch.isfinite(x.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")


class ModalityWeightedClassifier(nn.Module):
    r"""One encoder per modality, an optional tensor block, and learned modality weights.

    .. math:: \mathrm{logits} = \sum_{m=1}^{M'} \langle v_m, h_m \rangle + b,
              \qquad h_m = f_m(x_m),

    with :class:`ModalityWeights` over the :math:`M` encoders' features and, when
    ``tensor_block`` is set, one extra "modality" :math:`h_{M+1}` built from them:
    ``"plain"`` the Tensor Fusion block :func:`tensor_block`, ``"normalised"`` the interaction
    block of :class:`IterativeNormTensor`.

    Parameters
    ----------
    encoders : sequence of nn.Module
        ``encoders[m]`` maps a batch of modality ``m`` to ``(n, feature_dims[m])``.
    feature_dims : sequence of int
        Output width of each encoder.
    out_features : int
        1 for a binary logit, the number of classes otherwise.
    p : float >= 1
        Norm of the constraint on :math:`\beta`.
    tensor_block : {None, "plain", "normalised"}
    """

    def __init__(
        self,
        encoders: Sequence[nn.Module],
        feature_dims: Sequence[int],
        out_features: int = 1,
        p: float = 2.0,
        tensor_block: str | None = None,
    ):
        super().__init__()
        if isinstance(encoders, nn.Module) or not isinstance(encoders, Sequence) or not encoders:
            raise TypeError("encoders must be a non-empty sequence of torch.nn.Module")
        for m, enc in enumerate(encoders):
            if not isinstance(enc, nn.Module):
                raise TypeError(
                    f"encoders[{m}] must be a torch.nn.Module, got {type(enc).__name__}"
                )
        if isinstance(feature_dims, str) or not isinstance(feature_dims, Sequence):
            raise TypeError(f"feature_dims must be a sequence of ints, got {feature_dims!r}")
        if len(feature_dims) != len(encoders):
            raise ValueError(
                f"feature_dims has {len(feature_dims)} entries but there are {len(encoders)} encoders"
            )
        dims = [check_positive_int(d, f"feature_dims[{m}]") for m, d in enumerate(feature_dims)]
        if tensor_block not in _TENSOR_KINDS:
            raise ValueError(f"tensor_block must be one of {_TENSOR_KINDS}, got {tensor_block!r}")
        if tensor_block is not None and len(dims) < 2:
            raise ValueError("a tensor block needs at least 2 modalities")
        self.encoders = nn.ModuleList(encoders)
        self.tensor_kind = tensor_block
        head_dims = list(dims)
        self.tensor = None
        if tensor_block == "normalised":
            self.tensor = IterativeNormTensor(dims)
            head_dims.append(self.tensor.out_features)
        elif tensor_block == "plain":
            head_dims.append(math.prod(d + 1 for d in dims))
        self.weights = ModalityWeights(head_dims, out_features, p)

    @property
    def n_modalities(self) -> int:
        return len(self.encoders)

    def features(self, *views: torch.Tensor) -> list[torch.Tensor]:
        """The inputs of the last layer: each encoder's features, then the tensor block if any."""
        if len(views) != self.n_modalities:
            raise ValueError(f"expected {self.n_modalities} modalities, got {len(views)}")
        for m, x in enumerate(views):
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"views[{m}] must be a torch.Tensor, got {type(x).__name__}")
            _check_view_tensor(x, _first_weight(self.encoders[m]), f"views[{m}]")
        sizes = [x.shape[0] if x.ndim else None for x in views]
        if len(set(sizes)) > 1:
            raise ValueError(f"all modalities must have the same batch size, got {sizes}")
        h = [enc(x) for enc, x in zip(self.encoders, views, strict=True)]
        if self.tensor_kind == "plain":
            h.append(tensor_block(h))
        elif self.tensor_kind == "normalised":
            h.append(self.tensor(h))
        return h

    def forward(self, *views: torch.Tensor) -> torch.Tensor:
        """``(n, out_features)`` logits from one ``(n, ...)`` batch per modality."""
        return self.weights(self.features(*views))

    @property
    def beta(self) -> np.ndarray:
        """The current modality weights (one per encoder, then the tensor block), as numpy."""
        return self.weights.beta.detach().cpu().numpy().copy()


def _as_tensors(views, n_expected: int, name: str, device, dtype) -> list[torch.Tensor]:
    views = check_views(views, min_views=1, name=name)
    if len(views) != n_expected:
        raise ValueError(f"{name} must hold {n_expected} modalities, got {len(views)}")
    return [torch.as_tensor(v, dtype=dtype, device=device) for v in views]


def _targets(y, n: int, out_features: int, device) -> torch.Tensor:
    y = _class_indices(y, n)
    n_classes = max(int(y.max()) + 1, 2)
    expected = 1 if n_classes == 2 else n_classes
    if out_features != expected:
        raise ValueError(
            f"y has {n_classes} classes, so the model needs out_features={expected}, "
            f"got {out_features}"
        )
    return torch.as_tensor(y.astype(np.int64), device=device)


def _task_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if logits.shape[1] == 1:
        return nn.functional.binary_cross_entropy_with_logits(logits[:, 0], target.to(logits.dtype))
    return nn.functional.cross_entropy(logits, target)


def fit_modality_weighted(
    model: ModalityWeightedClassifier,
    views,
    y,
    *,
    epochs: int = 100,
    lr: float = 1e-2,
    lam: float = 1e-3,
    random_state: int | None = 0,
    device: str | torch.device | None = None,
) -> dict[str, list]:
    r"""Train a :class:`ModalityWeightedClassifier` full-batch, with the closed-form β update.

    Each epoch takes one Adam step on

    .. math::

        \frac1n \sum_i \ell\Big(\sum_m \langle v_m, h_m(x_i) \rangle + b,\ y_i\Big)
        + \Lambda \sum_m \frac{\lVert v_m \rVert^2}{\beta_m}
        + \Lambda \lVert \theta_{\text{encoders}} \rVert^2

    (``\ell`` the logistic or cross-entropy loss) with :math:`\beta` held fixed, then sets
    :math:`\beta` to its closed form (:meth:`ModalityWeights.update_beta`).

    Parameters
    ----------
    model : ModalityWeightedClassifier
        Trained in place (left in eval mode).
    views : list of array-like of shape (n, d_m)
        One array per modality.
    y : array-like of shape (n,)
        Class labels 0, 1, ... (binary: ``model`` has 1 output).
    epochs : int
    lr : float
        Adam's learning rate.
    lam : float >= 0
        :math:`\Lambda`.
    random_state : int or None
        Seeds torch before the (re-)initialisation of the model's parameters.
    device : str, torch.device or None

    Returns
    -------
    dict
        ``"loss"`` (per epoch, the penalised objective) and ``"beta"`` (per epoch, a list of M'
        floats).
    """
    if not isinstance(model, ModalityWeightedClassifier):
        raise TypeError(f"model must be a ModalityWeightedClassifier, got {type(model).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_positive_float(lr, "lr")
    lam = check_positive_float(lam, "lam", allow_zero=True)
    device = resolve_device(device)
    random_state = _check_seed(random_state)  # a torch seed: None or an int in [0, 2**64 - 1]
    if random_state is not None:
        torch.manual_seed(random_state)
        for module in model.modules():
            if module is not model and hasattr(module, "reset_parameters"):
                module.reset_parameters()
    model.to(device)
    dtype = next(model.parameters()).dtype
    xs = _as_tensors(views, model.n_modalities, "views", device, dtype)
    target = _targets(y, xs[0].shape[0], model.weights.out_features, device)
    encoder_params = list(model.encoders.parameters())
    optimiser = torch.optim.Adam(
        [
            {"params": encoder_params, "weight_decay": 0.0},
            {"params": list(model.weights.parameters())},
        ],
        lr=lr,
    )
    history: dict[str, list] = {"loss": [], "beta": []}
    model.train()
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = _task_loss(model(*xs), target) + lam * model.weights.penalty()
        if encoder_params:
            loss = loss + lam * sum(w.pow(2).sum() for w in encoder_params)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()}; lower lr (now {lr})")
        loss.backward()
        optimiser.step()
        beta = model.weights.update_beta()
        history["loss"].append(loss.item())
        history["beta"].append(beta.tolist())
    model.eval()
    return history


# --------------------------------------------------------------------------------------------
# 4. beyond beta: ablation and Integrated Gradients per modality
# --------------------------------------------------------------------------------------------


def _predict(model: nn.Module, xs: list[torch.Tensor]) -> np.ndarray:
    with torch.no_grad():
        logits = model(*xs)
    if logits.shape[1] == 1:
        return (logits[:, 0] > 0).long().cpu().numpy()
    return logits.argmax(dim=1).cpu().numpy()


def _model_inputs(model: nn.Module, views, name: str = "views") -> list[torch.Tensor]:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = next(model.parameters(), None)
    dtype = params.dtype if params is not None else torch.float32
    device = params.device if params is not None else torch.device("cpu")
    views = check_views(views, min_views=1, name=name)
    return [torch.as_tensor(v, dtype=dtype, device=device) for v in views]


def _class_indices(y, n: int) -> np.ndarray:
    """``y`` as class indices 0, 1, ... (what the model's logits are compared with)."""
    y = check_labels(y, n)
    if y.dtype.kind not in "biuf":
        raise TypeError(
            f"y must hold class indices 0, 1, ... (the model predicts indices), got dtype "
            f"{y.dtype}; encode string labels first, e.g. with np.unique(y, return_inverse=True)"
        )
    if not np.all(y == np.round(y)) or y.min() < 0:
        raise ValueError("y must hold class indices 0, 1, ... (non-negative integers)")
    return y.astype(np.int64)


def modality_ablation(
    model: nn.Module,
    views,
    y,
    *,
    mode: str = "permute",
    random_state: int | None = 0,
) -> dict[str, object]:
    """Test accuracy with all modalities, and with each one destroyed in turn.

    ``mode="permute"`` shuffles the rows of one modality (its marginal distribution is kept, its
    link to the label and to the other modalities is cut); ``mode="mean"`` replaces every row by
    the modality's mean row (the modality is dropped to a constant).

    Parameters
    ----------
    model : nn.Module
        Called as ``model(*views)`` -> ``(n, out)`` logits (one output: binary).
    views : list of array-like of shape (n, d_m)
    y : array-like of shape (n,)
    mode : {"permute", "mean"}
    random_state : int or None
        Seeds the permutations.

    Returns
    -------
    dict
        ``"full"``: accuracy with every modality; ``"without"``: list, accuracy with modality m
        destroyed; ``"drop"``: list, ``full - without[m]``.
    """
    if mode not in ("permute", "mean"):
        raise ValueError(f"mode must be 'permute' or 'mean', got {mode!r}")
    xs = _model_inputs(model, views)
    y = _class_indices(y, xs[0].shape[0])
    rng = check_random_state(random_state)
    was_training = model.training
    model.eval()
    full = float(np.mean(_predict(model, xs) == y))
    without = []
    for m in range(len(xs)):
        broken = list(xs)
        if mode == "permute":
            perm = torch.as_tensor(rng.permutation(xs[m].shape[0]), device=xs[m].device)
            broken[m] = xs[m][perm]
        else:
            broken[m] = xs[m].mean(dim=0, keepdim=True).expand_as(xs[m])
        without.append(float(np.mean(_predict(model, broken) == y)))
    model.train(was_training)
    return {"full": full, "without": without, "drop": [full - w for w in without]}


def integrated_gradients_per_modality(
    model: nn.Module,
    views,
    *,
    baselines=None,
    target: int | None = None,
    n_steps: int = 32,
) -> tuple[np.ndarray, float]:
    r"""Integrated Gradients of the model's output, summed over each modality's inputs.

    For input :math:`x`, baseline :math:`x'` and output :math:`F`, the attribution of input
    coordinate :math:`j` is (Sundararajan et al., 2017)

    .. math:: \mathrm{IG}_j(x) = (x_j - x'_j) \int_0^1
              \frac{\partial F(x' + \alpha (x - x'))}{\partial x_j}\, d\alpha ,

    and the attributions add up to :math:`F(x) - F(x')` (completeness). Summing them over the
    coordinates of modality :math:`m` gives how much of the change of the output from the
    baseline that modality accounts for, sample by sample. Computed with captum (imported here).

    Parameters
    ----------
    model : nn.Module
        Called as ``model(*views)`` -> ``(n, out)``.
    views : list of array-like of shape (n, d_m)
    baselines : list of array-like of shape (d_m,) or (n, d_m), optional
        The reference input of each modality; zeros by default.
    target : int or None
        The output column to explain (None: column 0 for a single output).
    n_steps : int
        Points of the Riemann sum (Gauss-Legendre, captum's default method).

    Returns
    -------
    attributions : numpy.ndarray of shape (n, M)
        Per sample, the attribution summed over each modality.
    max_delta : float
        The largest completeness error :math:`|\sum_j \mathrm{IG}_j - (F(x) - F(x'))|` over the
        samples (small when ``n_steps`` is enough).
    """
    try:
        from captum.attr import IntegratedGradients
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "integrated_gradients_per_modality needs captum: pip install 'mmlib[interpret]'"
        ) from err
    xs = _model_inputs(model, views)
    n_steps = check_positive_int(n_steps, "n_steps", minimum=2)
    if baselines is None:
        bases = [torch.zeros_like(x) for x in xs]
    else:
        if isinstance(baselines, str) or not isinstance(baselines, Sequence):
            raise TypeError("baselines must be a list with one array per modality")
        if len(baselines) != len(xs):
            raise ValueError(f"baselines must hold {len(xs)} modalities, got {len(baselines)}")
        bases = []
        for m, (b, x) in enumerate(zip(baselines, xs, strict=True)):
            b = to_numpy(b, name=f"baselines[{m}]")
            nd = np.ndim(b) if np.ndim(b) in (1, 2) else 2
            b = check_array(b, name=f"baselines[{m}]", ndim=nd)
            b = torch.as_tensor(b, dtype=x.dtype, device=x.device)
            if b.ndim == 1:
                b = b[None, :]
            if b.shape[1] != x.shape[1] or b.shape[0] not in (1, x.shape[0]):
                raise ValueError(
                    f"baselines[{m}] must have shape ({x.shape[1]},) or (n, {x.shape[1]}), "
                    f"got {tuple(b.shape)}"
                )
            bases.append(b.expand_as(x).contiguous())
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(*[x[:1] for x in xs])
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        model.train(was_training)
        raise ValueError(
            "model must map the views to (n, out) outputs, got "
            f"{getattr(out, 'shape', type(out).__name__)}"
        )
    if target is None:
        target = 0
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        model.train(was_training)
        raise TypeError(f"target must be None or an int output column, got {target!r}")
    if not 0 <= int(target) < out.shape[1]:
        model.train(was_training)
        raise ValueError(
            f"target={int(target)} is out of range: the model has {out.shape[1]} output(s) "
            f"(0..{out.shape[1] - 1})"
        )
    target = int(target)
    ig = IntegratedGradients(lambda *inputs: model(*inputs))
    attrs, delta = ig.attribute(
        tuple(xs),
        baselines=tuple(bases),
        target=target,
        n_steps=n_steps,
        return_convergence_delta=True,
    )
    model.train(was_training)
    per_modality = torch.stack([a.sum(dim=1) for a in attrs], dim=1)
    return per_modality.detach().cpu().numpy(), float(delta.abs().max())
