"""Encoders for the interpretability chapter's modalities: a tiny 1-D CNN for one-hot DNA."""

from __future__ import annotations

import torch
from torch import nn

from mmlib._checks import check_positive_int
from mmlib.nets import _check_input

__all__ = ["SequenceCNN"]


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
