r"""Tensor blocks: the Tensor Fusion block and its iterative normalisation.

* :func:`outer_flatten` -- the row-wise outer product of blocks, in the one order every tensor
  block here uses;
* :func:`tensor_block` -- the Tensor Fusion block with appended ones (all lower-order products
  kept);
* :func:`iterative_normalised_tensor` and its module :class:`IterativeNormTensor` -- the same
  products with their lower-order content removed, order by order.

References
----------
Zadeh, Chen, Poria, Cambria and Morency (2017), "Tensor fusion network for multimodal sentiment
analysis", EMNLP.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn

from mmlib._checks import check_positive_float, check_positive_int
from mmlib.interpret._inputs import _check_features

__all__ = [
    "IterativeNormTensor",
    "iterative_normalised_tensor",
    "outer_flatten",
    "tensor_block",
]


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
