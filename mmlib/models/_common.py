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


def _encoder_width(encoder, d: int, name: str, source: str, rows=None) -> int:
    """Output width of ``encoder`` on two rows of width ``d`` (``rows``, else zeros).

    The probe runs in eval mode without gradient (batch-norm statistics untouched) in the
    encoder's dtype; a failure, or an output that is not ``(2, o)``, is a ``ValueError`` naming
    ``name`` and ``source`` (where its rows come from).
    """
    if not isinstance(encoder, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(encoder).__name__}")
    param = next(encoder.parameters(), None)
    dtype = torch.float32 if param is None else param.dtype
    x = torch.zeros(2, d, dtype=dtype) if rows is None else torch.as_tensor(rows[:2], dtype=dtype)
    was_training = encoder.training
    encoder.eval()
    try:
        with torch.no_grad():
            out = encoder(x)
    except Exception as err:  # a shape mismatch inside the user's module
        raise ValueError(
            f"{name} failed on rows of {source}: it cannot encode a batch of shape (2, {d}) "
            f"(flat rows, dtype {dtype}): {type(err).__name__}: {err}"
        ) from err
    finally:
        encoder.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[0] != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            f"{name} must map a batch (n, d) to a 2-D tensor (n, o), got {shape} for n = 2"
        )
    return int(out.shape[1])


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
