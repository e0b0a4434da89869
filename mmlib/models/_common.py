"""Helpers the deep models share: checks of custom encoders and of a module's forward inputs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mmlib.nets import make_encoders


def _check_encoders(
    encoders, n_views: int | None, name: str = "encoders", unit: str = "view"
) -> list[nn.Module]:
    """``encoders`` as a list of ``nn.Module`` (``n_views`` of them when given), one per ``unit``."""
    if isinstance(encoders, nn.Module) and not isinstance(encoders, nn.ModuleList):
        raise TypeError(
            f"{name} must be a list with one torch.nn.Module per {unit}, got one module "
            f"({type(encoders).__name__})"
        )
    if not isinstance(encoders, (Sequence, nn.ModuleList)) or isinstance(encoders, str):
        raise TypeError(
            f"{name} must be a list with one torch.nn.Module per {unit}, got "
            f"{type(encoders).__name__}"
        )
    encoders = list(encoders)
    for j, f in enumerate(encoders):
        if not isinstance(f, nn.Module):
            raise TypeError(f"{name}[{j}] must be a torch.nn.Module, got {type(f).__name__}")
    if n_views is not None and len(encoders) != n_views:
        raise ValueError(
            f"{name} must hold {n_views} modules (one module per {unit}), got {len(encoders)}"
        )
    if len(encoders) < 2:
        raise ValueError(
            f"{name} must hold at least 2 modules (one module per {unit}), got {len(encoders)}"
        )
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
