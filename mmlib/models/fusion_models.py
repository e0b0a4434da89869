"""The fusion chapter's models: a classifier around any fusion layer, and a bimodal autoencoder.

- :class:`FusionClassifier`: optional per-modality encoders, one fusion layer of
  :mod:`mmlib.nets` (chosen by name, :data:`FUSIONS`), logits out.
- :class:`BimodalAutoencoder`: two inputs, one shared code, two reconstructions (Ngiam et al.,
  2011).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mmlib._checks import check_positive_int
from mmlib.nets import (
    MLP,
    ConcatFusion,
    LateFusion,
    LowRankFusion,
    ProductFusion,
    SumFusion,
    TensorFusion,
    _check_in_dims,
    _check_modalities,
    _first_weight,
)

__all__ = ["FUSIONS", "BimodalAutoencoder", "FusionClassifier"]

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
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
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
        xs = _check_modalities(xs, self.in_dims, weight=_first_weight(self))
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
