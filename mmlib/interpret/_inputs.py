"""Input checks the interpretability modules share: per-modality features and class labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from mmlib._checks import check_labels


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
