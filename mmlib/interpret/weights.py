r"""Modality weights :math:`\beta`: the closed form, weighted last layers, a classifier, its fit.

* :func:`modality_weights` -- the closed-form weights :math:`\beta` given the last-layer norms;
* :class:`ModalityWeights` -- the per-modality last layers with the penalty
  :math:`\sum_m \lVert w_m \rVert^2 / \beta_m` and the closed-form :math:`\beta` update;
* :class:`ModalityWeightedClassifier` and :func:`fit_modality_weighted` -- a network per
  modality (plus an optional tensor block as an extra "modality") with learned weights.

References
----------
Kloft, Brefeld, Sonnenburg and Zien (2011), "lp-norm multiple kernel learning", JMLR 12.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    _is_tensor,
    check_array,
    check_positive_float,
    check_positive_int,
    check_views,
)
from mmlib.interpret._inputs import _check_features, _class_indices
from mmlib.interpret.tensors import IterativeNormTensor, tensor_block
from mmlib.nets import _check_input, _first_weight
from mmlib.training import _check_seed, resolve_device

__all__ = [
    "ModalityWeightedClassifier",
    "ModalityWeights",
    "fit_modality_weighted",
    "modality_weights",
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
# 2. the classifier with modality weights
# --------------------------------------------------------------------------------------------


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
    ``"plain"`` the Tensor Fusion block :func:`~mmlib.interpret.tensors.tensor_block`,
    ``"normalised"`` the interaction block of
    :class:`~mmlib.interpret.tensors.IterativeNormTensor`.

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
