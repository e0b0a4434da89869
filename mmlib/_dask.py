r"""CCA and GCCA on Dask arrays: per-chunk sufficient statistics, merged in a tree, solved once.

:class:`mmlib.CCA` and :class:`mmlib.GCCA` reduce the data to three statistics: the sample count, the
mean and the centred co-moment matrix :math:`M = \sum_i (x_i - \bar x)(x_i - \bar x)^\top` of the
concatenated views. Two chunks combine exactly with the pairwise formula of Chan, Golub & LeVeque
(1979), so the fit of a Dask array is a map-reduce:

1. *map*: for each block of rows (the same rows of every view), compute ``(n_b, mean_b, M_b)`` where
   the block lives (a thread, a process or a worker of a ``dask.distributed`` cluster);
2. *reduce*: merge the statistics pairwise in a tree (depth ``log2`` of the number of blocks);
3. solve the small ``D x D`` problem once, ``D = sum_j d_j``, in the calling process.

Nothing of size ``n`` ever reaches the calling process; ``transform`` of a Dask array returns a Dask
array, evaluated lazily block by block. Dask is an optional dependency (``pip install mmlib[dask]``):
this module is imported only when a view is a Dask array, and ``import mmlib`` never imports dask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmlib._moments import _MomentAccumulator


def is_dask_array(obj: Any) -> bool:
    """True for a ``dask.array.Array``, without importing dask."""
    return type(obj).__module__.startswith("dask") and hasattr(obj, "chunks")


def any_dask(views: Any) -> bool:
    """True when ``views`` is a list/tuple holding at least one Dask array."""
    return isinstance(views, (list, tuple)) and any(is_dask_array(v) for v in views)


def check_dask_views(
    views: Sequence[Any], *, min_views: int = 2, max_views: int | None = None
) -> list[Any]:
    """Validate Dask views: all Dask, 2-D, numeric, chunked along rows only, same row chunks.

    NaN and inf can only be found by reading the data: they are checked block by block when the
    statistics are computed, with an error that names the view and the rows.
    """
    name = "views"
    if not all(is_dask_array(v) for v in views):
        kinds = ", ".join(f"{name}[{j}] is {type(v).__name__}" for j, v in enumerate(views))
        raise TypeError(f"mix of Dask and in-memory views ({kinds}): make all of them Dask arrays")
    if len(views) < min_views:
        raise ValueError(f"{name} must contain at least {min_views} views, got {len(views)}")
    if max_views is not None and len(views) > max_views:
        raise ValueError(f"{name} must contain at most {max_views} views, got {len(views)}")
    for j, v in enumerate(views):
        if v.ndim != 2:
            raise ValueError(
                f"{name}[{j}] must be 2-D (n_samples, n_features), got shape {tuple(v.shape)}"
            )
        if not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
            raise TypeError(f"{name}[{j}] must hold real numbers, got dtype {v.dtype}")
        if any(np.isnan(c) for c in v.shape):
            raise ValueError(
                f"{name}[{j}] has unknown chunk sizes (shape {v.shape}); call "
                "compute_chunk_sizes() first"
            )
        if v.shape[0] == 0 or v.shape[1] == 0:
            raise ValueError(f"{name}[{j}] is empty (shape {tuple(v.shape)})")
        if len(v.chunks[1]) != 1:
            raise ValueError(
                f"{name}[{j}] is chunked along its columns ({len(v.chunks[1])} column chunks); "
                f"chunk Dask views along rows only: {name}[{j}].rechunk({{1: -1}})"
            )
    rows = views[0].chunks[0]
    for j, v in enumerate(views[1:], start=1):
        if v.shape[0] != views[0].shape[0]:
            raise ValueError(
                f"all views must have the same number of samples: {name}[0] has "
                f"{views[0].shape[0]}, {name}[{j}] has {v.shape[0]}"
            )
        if v.chunks[0] != rows:
            raise ValueError(
                f"{name}[{j}] is chunked along rows differently from {name}[0]; the same rows "
                f"must sit in the same chunk of every view: {name}[{j}].rechunk({{0: "
                f"{name}[0].chunks[0]}})"
            )
    return list(views)


def _block_moments(start: int, *blocks: np.ndarray):
    """``(n_b, mean_b, M_b)`` of one block of rows (all views side by side), float64."""
    arrays = []
    for j, block in enumerate(blocks):
        block = np.asarray(block, dtype=np.float64)
        if not np.isfinite(block).all():
            raise ValueError(
                f"views[{j}] contains NaN or inf in rows {start}..{start + block.shape[0] - 1}"
            )
        arrays.append(block)
    acc = _MomentAccumulator([a.shape[1] for a in arrays])
    acc.update(arrays)
    return acc


def _merge(a, b):
    a.merge(b)
    return a


def moments(views: Sequence[Any]):
    """The views' count, mean and co-moment as a ``_MomentAccumulator``, by a Dask tree reduction.

    Runs on whatever scheduler is active (threads by default, a ``dask.distributed`` cluster when a
    ``Client`` exists): each block's statistics are computed where the block lives and only
    ``O(D^2)`` numbers travel.
    """
    import dask

    per_view = [v.to_delayed().ravel() for v in views]  # one delayed block per row chunk
    starts = np.concatenate([[0], np.cumsum(views[0].chunks[0])[:-1]])
    parts = [
        dask.delayed(_block_moments)(int(s), *blocks)
        for s, blocks in zip(starts, zip(*per_view, strict=True), strict=True)
    ]
    while len(parts) > 1:  # pairwise tree: neighbours merge, depth ceil(log2(blocks))
        merged = [dask.delayed(_merge)(a, b) for a, b in zip(parts[::2], parts[1::2], strict=False)]
        parts = merged + ([parts[-1]] if len(parts) % 2 else [])
    (stats,) = dask.compute(parts[0])
    return stats
