"""Neural network building blocks (torch): the encoders every deep model of the book uses."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from mmlib._checks import check_fraction, check_positive_int

__all__ = ["ACTIVATIONS", "MLP", "make_encoders"]

#: Hidden-layer non-linearities accepted by :class:`MLP`, by name.
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid}


def _check_input(x, in_features: int, weight, *, name: str = "x", batch_norm: bool = False) -> None:
    """Validate the input ``x`` of a network whose first weight is ``weight``; messages name ``name``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor, got {type(x).__name__} (convert it with "
            "torch.as_tensor(x, dtype=...) first)"
        )
    if x.device.type == "meta":
        raise ValueError(
            f"{name} is a tensor on the 'meta' device, which has a shape but no values; "
            "create it on 'cpu' or 'cuda'"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, {in_features or 'n_features'}), got shape "
            f"{tuple(x.shape)}"
        )
    if in_features is not None and x.shape[1] != in_features:
        raise ValueError(
            f"{name} has {x.shape[1]} features (columns), but the network expects {in_features}"
        )
    if weight is not None and x.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {x.dtype}, but the network's weights are {weight.dtype}: convert "
            f"it with x.to({weight.dtype})"
        )
    if weight is not None and x.device != weight.device:
        raise ValueError(f"{name} is on {x.device}, but the network is on {weight.device}")
    if batch_norm and x.shape[0] < 2:
        raise ValueError(
            f"{name} has {x.shape[0]} row(s): batch normalisation in training mode needs at least "
            "2 (call .eval() to use the running statistics)"
        )
    if not bool(torch.isfinite(x.detach()).all()):
        raise ValueError(f"{name} contains NaN or inf")


def _first_weight(module: nn.Module):
    """The first floating-point parameter of ``module`` (its dtype and device), or None."""
    return next((p for p in module.parameters() if p.is_floating_point()), None)


#: Largest layer width accepted (larger ones cannot be allocated, and torch's message is obscure).
_MAX_WIDTH = 2**31 - 1


def _check_width(value, name: str) -> int:
    value = check_positive_int(value, name)
    if value > _MAX_WIDTH:
        raise ValueError(f"{name}={value} is too large (at most {_MAX_WIDTH})")
    return value


def _check_hidden(hidden, name: str = "hidden") -> tuple[int, ...]:
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        raise TypeError(
            f"{name} must be a sequence of layer widths, e.g. (256, 256) or () for a linear map; "
            f"got the int {hidden}: write ({hidden},) for one hidden layer"
        )
    if not isinstance(hidden, Sequence) or isinstance(hidden, str):
        raise TypeError(
            f"{name} must be a sequence of layer widths, got {type(hidden).__name__} {hidden!r}"
        )
    return tuple(_check_width(h, f"{name}[{i}]") for i, h in enumerate(hidden))


def _check_activation(activation) -> str:
    if not isinstance(activation, str) or activation.lower() not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    return activation.lower()


class MLP(nn.Module):
    r"""A multilayer perceptron ``in_features -> hidden... -> out_features``.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the output
    layer is a plain ``Linear`` (no activation), so the network can produce any real output.
    With ``hidden=()`` it is the linear (affine) map :math:`x \mapsto W^\top x + b`, the special
    case in which Deep CCA reduces to linear CCA.

    Parameters
    ----------
    in_features, out_features : int
        Input and output dimensions.
    hidden : sequence of int
        Widths of the hidden layers; ``()`` for none.
    activation : {"relu", "tanh", "gelu", "sigmoid"}
        Non-linearity of the hidden layers.
    batch_norm : bool
        Batch normalisation after each hidden linear layer.
    dropout : float in [0, 1)
        Dropout probability after each hidden activation.

    Examples
    --------
    >>> import torch
    >>> net = MLP(784, 10, hidden=(256, 256), activation="relu")
    >>> net(torch.zeros(32, 784)).shape
    torch.Size([32, 10])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        in_features = _check_width(in_features, "in_features")
        out_features = _check_width(out_features, "out_features")
        hidden = _check_hidden(hidden)
        activation = _check_activation(activation)
        if not isinstance(batch_norm, bool):
            raise TypeError(f"batch_norm must be a bool, got {type(batch_norm).__name__}")
        dropout = check_fraction(dropout, "dropout")
        self.in_features, self.out_features, self.hidden = in_features, out_features, hidden
        self.batch_norm = batch_norm
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Map a batch ``x`` of shape ``(n, in_features)`` to ``(n, out_features)``.

        ``x`` must be a finite floating-point tensor of the network's dtype on its device, with
        at least 2 rows in training mode under batch normalisation; anything else is a clear
        ``TypeError`` / ``ValueError`` (a NaN input would otherwise pass through silently).
        """
        bn = self.training and self.batch_norm
        _check_input(x, self.in_features, self.layers[0].weight, name="x", batch_norm=bn)
        return self.layers(x)


def make_encoders(
    in_dims: Sequence[int],
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    activation: str = "relu",
    batch_norm: bool = False,
    dropout: float = 0.0,
) -> nn.ModuleList:
    """One :class:`MLP` per view, all with the same architecture and output dimension.

    Parameters
    ----------
    in_dims : sequence of int
        Input dimension ``d_j`` of each view.
    out_dim : int
        Common output dimension ``o``.
    hidden, activation, batch_norm, dropout
        As in :class:`MLP`.

    Returns
    -------
    torch.nn.ModuleList
        ``[MLP(d_1, o, ...), MLP(d_2, o, ...), ...]``.
    """
    if not isinstance(in_dims, Sequence) or isinstance(in_dims, str) or len(in_dims) == 0:
        raise TypeError(f"in_dims must be a non-empty sequence of ints, got {in_dims!r}")
    dims = [_check_width(d, f"in_dims[{j}]") for j, d in enumerate(in_dims)]
    return nn.ModuleList(
        MLP(d, out_dim, hidden, activation=activation, batch_norm=batch_norm, dropout=dropout)
        for d in dims
    )


# --------------------------------------------------------------------------------------------
# fusion layers (fusion chapter): concatenation, sum, product, late, tensor and low-rank fusion
# --------------------------------------------------------------------------------------------

import itertools as _itertools  # noqa: E402
import math as _math  # noqa: E402

import torch as _torch  # noqa: E402

__all__ += [
    "ConcatFusion",
    "LateFusion",
    "LowRankFusion",
    "ProductFusion",
    "SumFusion",
    "TensorFusion",
    "tensor_fusion_blocks",
]


def _check_in_dims(in_dims, name: str = "in_dims", min_modalities: int = 1) -> tuple[int, ...]:
    if not isinstance(in_dims, Sequence) or isinstance(in_dims, str):
        raise TypeError(
            f"{name} must be a sequence of ints (one width per modality), got {in_dims!r}"
        )
    if len(in_dims) < min_modalities:
        raise ValueError(
            f"{name} must hold at least {min_modalities} modality widths, got {len(in_dims)}"
        )
    return tuple(check_positive_int(d, f"{name}[{m}]") for m, d in enumerate(in_dims))


def _check_modalities(xs, in_dims: tuple[int, ...], name: str = "xs", weight=None) -> list:
    """Check a forward input: one 2-D float tensor per modality, same batch, the declared widths.

    With ``weight`` (the layer's first parameter) each tensor also gets :class:`MLP`'s check:
    not on the 'meta' device, the layer's dtype and device, and no NaN/inf (one scan per
    tensor at the public entry point; a NaN input must not become a number).
    """
    if isinstance(xs, _torch.Tensor):
        raise TypeError(
            f"{name} must be a list with one tensor per modality, got a single tensor of shape "
            f"{tuple(xs.shape)}; wrap it: [x1, x2]"
        )
    if not isinstance(xs, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of tensors, got {type(xs).__name__}")
    if len(xs) != len(in_dims):
        raise ValueError(
            f"{name} has {len(xs)} modalities but the layer was built for {len(in_dims)}"
        )
    for m, (x, d) in enumerate(zip(xs, in_dims, strict=True)):
        if not isinstance(x, _torch.Tensor) or not x.is_floating_point():
            kind = x.dtype if isinstance(x, _torch.Tensor) else type(x).__name__
            raise TypeError(f"{name}[{m}] must be a floating-point torch.Tensor, got {kind}")
        if x.ndim != 2:
            raise ValueError(
                f"{name}[{m}] must be 2-D (batch, features), got shape {tuple(x.shape)}"
            )
        if x.shape[1] != d:
            raise ValueError(f"{name}[{m}] has {x.shape[1]} features but the layer expects {d}")
        if weight is not None:
            _check_input(x, d, weight, name=f"{name}[{m}]")
    sizes = [int(x.shape[0]) for x in xs]
    if len(set(sizes)) > 1:
        detail = ", ".join(f"{name}[{m}] has {s}" for m, s in enumerate(sizes))
        raise ValueError(f"all modalities must have the same batch size: {detail}")
    return list(xs)


def _with_one(x):
    """``[1, x]``: the modality vector with a constant 1 prepended (shape ``(n, d + 1)``)."""
    return _torch.cat([x.new_ones(x.shape[0], 1), x], dim=1)


def tensor_fusion_blocks(in_dims: Sequence[int]) -> dict[tuple[int, ...], list[int]]:
    r"""Which entries of the flattened fusion tensor hold which product of modalities.

    :class:`TensorFusion` flattens :math:`z = [1, h_1] \otimes \dots \otimes [1, h_M]` in C order
    (the last modality varies fastest). Entry :math:`(i_1, \dots, i_M)`, with :math:`i_m = 0` the
    prepended 1 and :math:`i_m = k \ge 1` the feature :math:`h_{m,k}`, holds the product of the
    features of the modalities :math:`S = \{m : i_m \ge 1\}`: the constant 1 when :math:`S` is
    empty, the unimodal features :math:`h_m` when :math:`S = \{m\}`, the bimodal products
    :math:`h_{m,k} h_{m',l}` when :math:`S = \{m, m'\}`, and so on up to the full M-way product.

    Parameters
    ----------
    in_dims : sequence of int
        Widths :math:`d_m` of the modality vectors.

    Returns
    -------
    dict
        ``S`` (a sorted tuple of modality indices, ``()`` for the constant) -> the flat indices
        of its block, in increasing order. Block ``S`` has :math:`\prod_{m \in S} d_m` entries
        and the blocks partition :math:`0, \dots, \prod_m (d_m + 1) - 1`.

    Examples
    --------
    >>> blocks = tensor_fusion_blocks([2, 3])
    >>> blocks[()], blocks[(1,)], blocks[(0,)]
    ([0], [1, 2, 3], [4, 8])
    >>> len(blocks[(0, 1)])
    6
    """
    dims = _check_in_dims(in_dims)
    blocks: dict[tuple[int, ...], list[int]] = {}
    for flat, index in enumerate(_itertools.product(*(range(d + 1) for d in dims))):
        key = tuple(m for m, i in enumerate(index) if i > 0)
        blocks.setdefault(key, []).append(flat)
    return dict(sorted(blocks.items(), key=lambda kv: (len(kv[0]), kv[0])))


class _Fusion(nn.Module):
    """Shared bookkeeping: the modality widths and the input check."""

    def __init__(self, in_dims: Sequence[int], out_dim: int, min_modalities: int = 1) -> None:
        super().__init__()
        self.in_dims = _check_in_dims(in_dims, min_modalities=min_modalities)
        self.out_dim = _check_width(out_dim, "out_dim")

    @property
    def n_modalities(self) -> int:
        return len(self.in_dims)

    def extra_repr(self) -> str:
        return f"in_dims={self.in_dims}, out_dim={self.out_dim}"


class ConcatFusion(_Fusion):
    r"""Early fusion: a linear map of the concatenated modalities.

    .. math:: f(h_1, \dots, h_M) = W^\top [h_1; \dots; h_M] + b,
       \qquad W \in \mathbb R^{(\sum_m d_m) \times o}.

    Additive in the modalities: it equals :math:`\sum_m W_m^\top h_m + b`, so it cannot model
    an interaction between them (Baltrušaitis et al., 2019, Sec. 6).

    Parameters
    ----------
    in_dims : sequence of int
        Widths :math:`d_m` of the :math:`M \ge 1` modality vectors.
    out_dim : int
        Output width :math:`o`.

    Examples
    --------
    >>> import torch
    >>> ConcatFusion([3, 4], 2)([torch.zeros(5, 3), torch.zeros(5, 4)]).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_dims: Sequence[int], out_dim: int) -> None:
        super().__init__(in_dims, out_dim)
        self.linear = nn.Linear(sum(self.in_dims), self.out_dim)

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``."""
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
        return self.linear(_torch.cat(xs, dim=1))


class _ProjectedFusion(_Fusion):
    r"""One affine projection per modality, :math:`W_m^\top h_m + b_m`, to the width ``out_dim``."""

    def __init__(self, in_dims: Sequence[int], out_dim: int) -> None:
        super().__init__(in_dims, out_dim)
        self.projections = nn.ModuleList(nn.Linear(d, self.out_dim) for d in self.in_dims)

    def _projected(self, xs) -> _torch.Tensor:
        """The checked modalities' projections, stacked: shape ``(M, n, out_dim)``."""
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
        return _torch.stack([p(x) for p, x in zip(self.projections, xs, strict=True)])


class SumFusion(_ProjectedFusion):
    r"""Element-wise sum of per-modality linear projections to a common width.

    .. math:: f(h_1, \dots, h_M) = \sum_m (W_m^\top h_m + b_m).

    The same function class as :class:`ConcatFusion` (a sum of linear maps is a linear map of
    the concatenation); the projections let modalities of different widths be added.

    Parameters
    ----------
    in_dims : sequence of int
        Widths of the modality vectors.
    out_dim : int
        Common width :math:`o` of the projections and of the output.
    """

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``."""
        return self._projected(xs).sum(0)


class ProductFusion(_ProjectedFusion):
    r"""Element-wise (Hadamard) product of per-modality affine projections.

    .. math:: f(h_1, \dots, h_M)_k = \prod_m \big(W_m^\top h_m + b_m\big)_k
       = \prod_m \langle w_{m,k}, [1; h_m] \rangle .

    Output :math:`k` is a rank-1 multilinear function of :math:`[1; h_1], \dots, [1; h_M]`:
    this is :class:`LowRankFusion` with rank 1, and a linear layer on top of an
    :math:`o`-wide product is a low-rank fusion of rank :math:`o`.

    Parameters
    ----------
    in_dims : sequence of int
        Widths :math:`d_m` of the modality vectors.
    out_dim : int
        Width :math:`o` of every factor :math:`W_m^\top h_m + b_m`, hence of the product.
    """

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``."""
        return self._projected(xs).prod(0)


class LateFusion(_Fusion):
    r"""Late fusion: one predictor per modality, predictions averaged.

    .. math:: f(h_1, \dots, h_M) = \frac1M \sum_m g_m(h_m),

    with :math:`g_m` an :class:`MLP`. Each modality is modelled alone; the fusion is additive.

    Parameters
    ----------
    in_dims : sequence of int
        Widths of the modality vectors.
    out_dim : int
        Output width (e.g. the number of logits).
    hidden : sequence of int
        Hidden widths of each :math:`g_m`; ``()`` for linear predictors.
    activation : str
        As in :class:`MLP`.
    """

    def __init__(
        self,
        in_dims: Sequence[int],
        out_dim: int,
        hidden: Sequence[int] = (32,),
        activation: str = "relu",
    ) -> None:
        super().__init__(in_dims, out_dim)
        self.predictors = nn.ModuleList(
            MLP(d, self.out_dim, hidden, activation=activation) for d in self.in_dims
        )

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``, the mean prediction."""
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
        return _torch.stack([g(x) for g, x in zip(self.predictors, xs, strict=True)]).mean(0)


class TensorFusion(_Fusion):
    r"""Tensor Fusion (Zadeh et al., 2017): a linear map of the outer product of ``[1, h_m]``.

    .. math::
       \begin{aligned}
       z &= \begin{bmatrix} 1 \\ h_1 \end{bmatrix} \otimes \cdots \otimes
            \begin{bmatrix} 1 \\ h_M \end{bmatrix}
            \in \mathbb R^{(d_1 + 1) \times \cdots \times (d_M + 1)}, \\
       f(h_1, \dots, h_M) &= W^\top \operatorname{vec}(z) + b .
       \end{aligned}

    Because of the appended 1, :math:`z` holds the constant, every unimodal vector, every
    pairwise (bimodal) product, ..., and the full M-way product, each in its own block of
    ``vec(z)``; :func:`tensor_fusion_blocks` gives the indices (C order, last modality fastest:
    for two modalities, entry :math:`i (d_2 + 1) + j` is :math:`[1, h_1]_i [1, h_2]_j`).
    :math:`W` has :math:`o \prod_m (d_m + 1)` entries: the cost grows exponentially with
    :math:`M` (see :class:`LowRankFusion`).

    Parameters
    ----------
    in_dims : sequence of int
        Widths :math:`d_m` of the :math:`M \ge 1` modality vectors; ``vec(z)`` has
        :math:`\prod_m (d_m + 1)` entries.
    out_dim : int
        Output width :math:`o` (the columns of :math:`W`).

    References
    ----------
    Zadeh, A., Chen, M., Poria, S., Cambria, E. and Morency, L.-P. (2017). Tensor Fusion
    Network for multimodal sentiment analysis. EMNLP.

    Examples
    --------
    >>> import torch
    >>> tf = TensorFusion([2, 3], 4)
    >>> tf.tensor([torch.ones(5, 2), torch.ones(5, 3)]).shape
    torch.Size([5, 12])
    >>> tf([torch.ones(5, 2), torch.ones(5, 3)]).shape
    torch.Size([5, 4])
    """

    def __init__(self, in_dims: Sequence[int], out_dim: int) -> None:
        super().__init__(in_dims, out_dim)
        self.tensor_dim = _math.prod(d + 1 for d in self.in_dims)
        self.linear = nn.Linear(self.tensor_dim, self.out_dim)

    def tensor(self, xs):
        """The flattened fusion tensor ``vec(z)``, shape ``(n, prod(d_m + 1))`` (C order)."""
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
        z = _with_one(xs[0])
        for x in xs[1:]:
            # (n, a) x (n, b) -> (n, a * b), the new modality's index varying fastest
            z = (z.unsqueeze(2) * _with_one(x).unsqueeze(1)).flatten(1)
        return z

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``."""
        return self.linear(self.tensor(xs))


class LowRankFusion(_Fusion):
    r"""Low-rank Multimodal Fusion (Liu et al., 2018): tensor fusion with a rank-r weight.

    The weight of :class:`TensorFusion`, seen as one order-M tensor
    :math:`\mathcal W_k \in \mathbb R^{(d_1+1) \times \cdots \times (d_M+1)}` per output
    :math:`k`, is restricted to rank :math:`r`:
    :math:`\mathcal W_k = \sum_{i=1}^r w^{(i)}_{1,k} \otimes \cdots \otimes w^{(i)}_{M,k}`.
    Contracting it with :math:`z = \bigotimes_m [1; h_m]` factorises, so :math:`z` is never
    formed:

    .. math::
       f_k(h_1, \dots, h_M) = \langle \mathcal W_k, z \rangle + b_k
       = \sum_{i=1}^r \prod_{m=1}^M \big\langle w^{(i)}_{m,k}, [1; h_m] \big\rangle + b_k .

    The factors of modality ``m`` are ``factors[m]``, an ``nn.Parameter`` of shape
    ``(rank, d_m + 1, out_dim)``, held in an ``nn.ParameterList`` so that they are trained,
    saved in the ``state_dict`` and moved by ``.to()``. Parameters:
    :math:`r \, o \sum_m (d_m + 1) + o` instead of :math:`o \prod_m (d_m + 1) + o`. (Liu et al.
    also learn a weight per rank-one term; it can be absorbed into the first factor.)

    Parameters
    ----------
    in_dims : sequence of int
        Widths :math:`d_m` of the :math:`M \ge 1` modality vectors; modality ``m``'s factors
        have :math:`d_m + 1` rows.
    out_dim : int
        Output width :math:`o` (the last axis of every factor).
    rank : int >= 1
        The rank :math:`r`.

    References
    ----------
    Liu, Z., Shen, Y., Lakshminarasimhan, V. B., Liang, P. P., Zadeh, A. and Morency, L.-P.
    (2018). Efficient low-rank multimodal fusion with modality-specific factors. ACL.

    Examples
    --------
    >>> import torch
    >>> lmf = LowRankFusion([2, 3], 4, rank=2)
    >>> [tuple(f.shape) for f in lmf.factors]
    [(2, 3, 4), (2, 4, 4)]
    >>> lmf([torch.ones(5, 2), torch.ones(5, 3)]).shape
    torch.Size([5, 4])
    """

    def __init__(self, in_dims: Sequence[int], out_dim: int, rank: int = 4) -> None:
        super().__init__(in_dims, out_dim)
        self.rank = _check_width(rank, "rank")
        # each rank-one term is a product of M factors: scale them so that the product of
        # M unit-variance terms keeps the output's variance near the Xavier value
        self.factors = nn.ParameterList(
            nn.Parameter(_torch.randn(self.rank, d + 1, self.out_dim) * (1.0 / (d + 1)) ** 0.5)
            for d in self.in_dims
        )
        self.bias = nn.Parameter(_torch.zeros(self.out_dim))

    def forward(self, xs):
        """``xs``: list of ``(n, d_m)`` tensors -> ``(n, out_dim)``."""
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
        out = None
        for x, w in zip(xs, self.factors, strict=True):
            # <w_{m,k}^{(i)}, [1; h_m]> for every rank i and output k: (rank, n, out_dim)
            proj = _torch.einsum("nd,rdk->rnk", _with_one(x), w)
            out = proj if out is None else out * proj
        return out.sum(0) + self.bias

    def full_weight(self):
        r"""The equivalent :class:`TensorFusion` weight, shape ``(prod(d_m + 1), out_dim)``.

        :math:`\sum_i \bigotimes_m w^{(i)}_{m,k}` flattened in the order of
        :meth:`TensorFusion.tensor`, so that ``TensorFusion.linear.weight = full_weight().T``
        gives the same map. Forms the full tensor: for checks on small sizes only.
        """
        w = self.factors[0]  # (rank, d_1 + 1, out)
        for f in self.factors[1:]:
            w = (w.unsqueeze(2) * f.unsqueeze(1)).flatten(1, 2)
        return w.sum(0)
