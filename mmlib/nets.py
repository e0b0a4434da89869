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
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, {in_features}), got shape {tuple(x.shape)}"
        )
    if x.shape[1] != in_features:
        raise ValueError(
            f"{name} has {x.shape[1]} features (columns), but the network expects {in_features}"
        )
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{name} has dtype {x.dtype}, but the network's weights are {weight.dtype}: convert "
            f"it with x.to({weight.dtype})"
        )
    if x.device != weight.device:
        raise ValueError(f"{name} is on {x.device}, but the network is on {weight.device}")
    if batch_norm and x.shape[0] < 2:
        raise ValueError(
            f"{name} has {x.shape[0]} row(s): batch normalisation in training mode needs at least "
            "2 (call .eval() to use the running statistics)"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf")


#: Largest layer width accepted (larger ones cannot be allocated, and torch's message is obscure).
_MAX_WIDTH = 2**31 - 1


def _check_width(value, name: str) -> int:
    value = check_positive_int(value, name)
    if value > _MAX_WIDTH:
        raise ValueError(f"{name}={value} is too large (at most {_MAX_WIDTH})")
    return value


def _check_hidden(hidden) -> tuple[int, ...]:
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        raise TypeError(
            f"hidden must be a sequence of layer widths, e.g. (256, 256) or () for a linear map; "
            f"got the int {hidden}: write ({hidden},) for one hidden layer"
        )
    if not isinstance(hidden, Sequence) or isinstance(hidden, str):
        raise TypeError(
            f"hidden must be a sequence of layer widths, got {type(hidden).__name__} {hidden!r}"
        )
    return tuple(_check_width(h, f"hidden[{i}]") for i, h in enumerate(hidden))


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
