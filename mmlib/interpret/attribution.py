r"""Beyond :math:`\beta`: what a model does without a modality, and attributions per modality.

* :func:`modality_ablation` -- the accuracy with each modality destroyed in turn (rows permuted
  or replaced by the mean);
* :func:`integrated_gradients_per_modality` -- Integrated Gradients summed per modality (captum,
  imported on first use).

References
----------
Sundararajan, Taly and Yan (2017), "Axiomatic attribution for deep networks", ICML.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from mmlib._checks import (
    check_array,
    check_positive_int,
    check_random_state,
    check_views,
    to_numpy,
)
from mmlib.interpret._inputs import _class_indices

__all__ = ["integrated_gradients_per_modality", "modality_ablation"]


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
    bases = _baseline_tensors(baselines, xs)
    was_training = model.training
    model.eval()
    try:
        target = _output_column(model, xs, target)
        ig = IntegratedGradients(lambda *inputs: model(*inputs))
        attrs, delta = ig.attribute(
            tuple(xs),
            baselines=tuple(bases),
            target=target,
            n_steps=n_steps,
            return_convergence_delta=True,
        )
    finally:
        model.train(was_training)
    per_modality = torch.stack([a.sum(dim=1) for a in attrs], dim=1)
    return per_modality.detach().cpu().numpy(), float(delta.abs().max())


def _baseline_tensors(baselines, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    """One ``(n, d_m)`` baseline per modality: zeros, or each given row broadcast to the batch."""
    if baselines is None:
        return [torch.zeros_like(x) for x in xs]
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
    return bases


def _output_column(model: nn.Module, xs: list[torch.Tensor], target) -> int:
    """The checked output column to explain (0 when None), from one row through the model."""
    with torch.no_grad():
        out = model(*[x[:1] for x in xs])
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise ValueError(
            "model must map the views to (n, out) outputs, got "
            f"{getattr(out, 'shape', type(out).__name__)}"
        )
    if target is None:
        target = 0
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be None or an int output column, got {target!r}")
    if not 0 <= int(target) < out.shape[1]:
        raise ValueError(
            f"target={int(target)} is out of range: the model has {out.shape[1]} output(s) "
            f"(0..{out.shape[1] - 1})"
        )
    return int(target)
