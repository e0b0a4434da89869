"""Figures the chapters share: embeddings coloured by class, training curves, correlation bars, image grids.

Interactive figures (hover to read a point's label or value) are plotly; image grids are matplotlib,
where a static picture is what the reader wants.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mmlib._checks import check_array, check_labels, check_positive_int

__all__ = [
    "CLASS_COLORS",
    "class_colors",
    "correlation_bars",
    "embedding_scatter",
    "embeddings_side_by_side",
    "image_grid",
    "scatter_by_class",
    "training_curves",
]

#: The book's class palette: the k-th class (in sorted order of the labels) is drawn in
#: ``CLASS_COLORS[k]`` in every figure, plotly or matplotlib (d3's ten colours, then ColorBrewer
#: Set2's eight, which stay distinguishable from them).
CLASS_COLORS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854",
    "#ffd92f", "#e5c494", "#b3b3b3",
)  # fmt: skip


def _as_2d(Z, name: str, min_cols: int = 2) -> np.ndarray:
    """A finite real 2-D array with at least ``min_cols`` columns (tensors detached to numpy)."""
    try:
        Z = check_array(Z, name=name, ndim=2)
    except TypeError as err:  # strings, complex, datetime, objects, None
        raise TypeError(f"{name} must be a numeric array: {err}") from err
    if Z.shape[1] < min_cols:
        raise ValueError(
            f"{name} must be a 2-D array with at least {min_cols} columns, got shape {Z.shape}"
        )
    return Z


def _as_1d(values, name: str) -> np.ndarray:
    """A finite, real, non-empty 1-D array (a curve or a list of bar heights)."""
    try:
        return check_array(values, name=name, ndim=1)
    except TypeError as err:
        raise TypeError(f"{name} must be a numeric array: {err}") from err


def _labels(y, n: int) -> np.ndarray | None:
    if y is None:
        return None
    try:
        return check_labels(y, n, name="labels y")
    except ValueError as err:
        raise ValueError(f"{err} (labels must be 1-D with one entry per point)") from err


def _check_text(value, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r:.40}")
    return value


def _check_count(value, name: str) -> int:
    return check_positive_int(value, name)


def _scatter_traces(Z: np.ndarray, y: np.ndarray | None, dims: tuple[int, int], showlegend: bool):
    import plotly.graph_objects as go

    i, j = dims
    if y is None:
        return [
            go.Scattergl(x=Z[:, i], y=Z[:, j], mode="markers", marker={"size": 4}, showlegend=False)
        ]
    palette = _palette()
    traces = []
    for k, label in enumerate(np.unique(y)):
        mask = y == label
        traces.append(
            go.Scattergl(
                x=Z[mask, i],
                y=Z[mask, j],
                mode="markers",
                name=str(label),
                legendgroup=str(label),
                showlegend=showlegend,
                marker={"size": 4, "color": palette[k % len(palette)]},
            )
        )
    return traces


def _palette() -> list[str]:
    return list(CLASS_COLORS)


def class_colors(y) -> np.ndarray:
    """The book's colour of each sample's class, for matplotlib's ``scatter(..., c=...)``.

    Classes are numbered in the sorted order of their labels (``np.unique``), as in the plotly
    figures of this module, so a class has the same colour in every figure of the book.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Class labels.

    Returns
    -------
    ndarray of str, shape (n_samples,)
        Hex colours from :data:`CLASS_COLORS` (cycled beyond 18 classes).
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D, got shape {y.shape}")
    _, index = np.unique(y, return_inverse=True)
    return np.asarray(CLASS_COLORS)[index % len(CLASS_COLORS)]


def scatter_by_class(ax, Z, y, *, dims: tuple[int, int] = (0, 1), s: float = 6, **kwargs):
    """Matplotlib scatter of two columns of ``Z``, one colour (and legend entry) per class.

    The matplotlib twin of :func:`embedding_scatter`, with the book's palette: pass
    ``ax.legend(title="class")`` afterwards to show which colour is which class.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    Z : array of shape (n_samples, k), k >= 2
    y : array of shape (n_samples,)
        Class of each point.
    dims : (int, int)
        Which two columns to plot.
    s : float
        Marker size; further keyword arguments go to ``ax.scatter``.
    """
    Z = _as_2d(Z, "Z")
    i, j = _check_dims(dims, Z.shape[1])
    y = _labels(y, Z.shape[0])
    for k, label in enumerate(np.unique(y)):
        mask = y == label
        color = CLASS_COLORS[k % len(CLASS_COLORS)]
        ax.scatter(Z[mask, i], Z[mask, j], s=s, color=color, label=str(label), **kwargs)
    return ax


def embedding_scatter(
    Z, y=None, *, dims: tuple[int, int] = (0, 1), title: str = "", labels=("dim 1", "dim 2")
):
    """Scatter two coordinates of an embedding, one colour per class.

    Parameters
    ----------
    Z : array of shape (n_samples, k), k >= 2
        The embedding (canonical variates, the shared G of GCCA, a UMAP, ...).
    y : array of shape (n_samples,), optional
        Class of each point; one trace (and legend entry) per class.
    dims : (int, int)
        Which two columns to plot.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    Z = _as_2d(Z, "Z")
    dims = _check_dims(dims, Z.shape[1])
    title = _check_text(title, "title")
    if isinstance(labels, str) or not isinstance(labels, (list, tuple)):
        raise TypeError(f"labels must be a pair of axis titles (str, str), got {labels!r:.60}")
    if len(labels) != 2:
        raise ValueError(f"labels must be two axis titles, got {labels!r:.60}")
    labels = [_check_text(t, f"labels[{i}]") for i, t in enumerate(labels)]
    fig = go.Figure(_scatter_traces(Z, _labels(y, Z.shape[0]), dims, showlegend=True))
    fig.update_layout(
        title=title, xaxis_title=labels[0], yaxis_title=labels[1], height=420, legend_title="class"
    )
    return fig


def embeddings_side_by_side(
    embeddings: Mapping[str, np.ndarray], y=None, *, dims=(0, 1), height: int = 380
):
    """Several embeddings of the same samples next to each other, coloured alike.

    Parameters
    ----------
    embeddings : mapping of title -> array (n_samples, k)
        For example ``{"GCCA": G_linear, "DGCCA": G_deep}``; all with the same ``n_samples``.
    y : array of shape (n_samples,), optional
        Class of each sample.
    """
    from plotly.subplots import make_subplots

    if not isinstance(embeddings, Mapping) or not embeddings:
        raise TypeError("embeddings must be a non-empty mapping of title -> array")
    height = _check_count(height, "height")
    arrays = {str(k): _as_2d(v, f"embeddings[{k!r}]") for k, v in embeddings.items()}
    sizes = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"all embeddings must have the same number of samples, got {sizes}")
    n = next(iter(sizes.values()))
    y = _labels(y, n)
    fig = make_subplots(rows=1, cols=len(arrays), subplot_titles=list(arrays))
    for col, Z in enumerate(arrays.values(), start=1):
        d = _check_dims(dims, Z.shape[1])
        for trace in _scatter_traces(Z, y, d, showlegend=col == 1):
            fig.add_trace(trace, row=1, col=col)
    fig.update_layout(height=height, legend_title="class")
    return fig


#: legend names of the curves a History records
_CURVE_NAMES = {
    "train_loss": "training (mean over the epoch's batches)",
    "val_loss": "validation (full batch)",
    "val_score": "validation score",
}


def training_curves(history, *, title: str = "training", loss_label: str = "loss"):
    """Training and validation loss per epoch from a ``History`` (or a dict of lists).

    Parameters
    ----------
    history : mmlib.training.History or mapping
        Must provide ``train_loss``; ``val_loss`` and ``val_score`` are drawn when present and non-empty.
    title : str
        Figure title.
    loss_label : str
        What the loss is, for the y axis, e.g. ``"loss = -(total correlation)"``.
    """
    import plotly.graph_objects as go

    data = history.as_dict() if hasattr(history, "as_dict") else history
    if not isinstance(data, Mapping) or "train_loss" not in data:
        raise TypeError("history must be a History or a mapping with a 'train_loss' list")
    title = _check_text(title, "title")
    loss_label = _check_text(loss_label, "loss_label")
    curves = {}
    for key in ("train_loss", "val_loss", "val_score"):
        values = data.get(key)
        # validation curves are optional (absent or empty); the training curve is not
        optional = key != "train_loss"
        if optional and (values is None or (hasattr(values, "__len__") and len(values) == 0)):
            continue
        # NaN or inf in a curve is a diverged run: plotting it would hide that
        curves[key] = _as_1d(values, f"history[{key!r}]")
    fig = go.Figure()
    for key, values in curves.items():
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, len(values) + 1), y=values, mode="lines", name=_CURVE_NAMES[key]
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="epoch",
        yaxis_title=str(loss_label),
        height=360,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig


def correlation_bars(
    estimated: Mapping[str, Sequence[float]], *, title: str = "canonical correlations"
):
    """Grouped bars of canonical correlations (or eigenvalues), one group per component.

    Parameters
    ----------
    estimated : mapping of name -> sequence of float
        For example ``{"true": rho, "mmlib CCA": cca.canonical_correlations_}``.
    """
    import plotly.graph_objects as go

    if not isinstance(estimated, Mapping) or not estimated:
        raise TypeError("estimated must be a non-empty mapping of name -> values")
    title = _check_text(title, "title")
    bars = {name: _as_1d(values, f"estimated[{name!r}]") for name, values in estimated.items()}
    fig = go.Figure()
    for name, values in bars.items():
        fig.add_trace(
            go.Bar(x=[f"pair {i + 1}" for i in range(len(values))], y=values, name=str(name))
        )
    fig.update_layout(title=title, barmode="group", yaxis_title="correlation", height=360)
    return fig


def image_grid(
    images,
    *,
    shape: tuple[int, int],
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    width: float = 8.0,
):
    """Show flattened images (one per row of ``images``) in a grid; returns the matplotlib figure.

    The figure is ``width`` inches wide whatever ``ncols`` is (at most 1.6 inches per image), so
    that the page's column, which scales it down to its own width, shows every image at a
    readable size; each row is as tall as an image plus its title.

    Parameters
    ----------
    images : array of shape (n_images, h * w)
    shape : (h, w)
        The image shape each row is reshaped to.
    titles : sequence of str, optional
        One title per image.
    ncols : int
        Images per row.
    width : float
        Figure width in inches.
    """
    import matplotlib.pyplot as plt

    images = _as_2d(images, "images", min_cols=1)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) != 2:
        raise TypeError(f"shape must be a pair of ints (h, w), got {shape!r:.40}")
    shape = tuple(_check_count(v, f"shape[{i}]") for i, v in enumerate(shape))
    if shape[0] * shape[1] != images.shape[1]:
        raise ValueError(f"shape {shape} does not match {images.shape[1]} pixels per image")
    if titles is not None:
        if isinstance(titles, (str, bytes)) or not isinstance(titles, Sequence):
            raise TypeError(f"titles must be a list of str (one per image), got {titles!r:.40}")
        if len(titles) != images.shape[0]:
            raise ValueError(f"got {len(titles)} titles for {images.shape[0]} images")
    ncols = _check_count(ncols, "ncols")
    n = images.shape[0]
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < width < 100:
        raise ValueError(f"width must be a number of inches in (0, 100), got {width!r}")
    cell = min(1.6, float(width) / ncols)  # inches per image
    title_room = 0.3 if titles is not None else 0.05
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell * ncols, (cell + title_room) * nrows), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < n:
            ax.imshow(images[k].reshape(shape), cmap="gray_r")
            if titles is not None:
                ax.set_title(str(titles[k]), fontsize=9)
    fig.tight_layout()
    return fig


def _check_dims(dims, k: int) -> tuple[int, int]:
    if (
        not isinstance(dims, (tuple, list))
        or len(dims) != 2
        or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims)
    ):
        raise TypeError(f"dims must be two column indices, got {dims!r:.40}")
    if not all(0 <= d < k for d in dims):
        raise ValueError(f"dims {tuple(dims)} out of range for an embedding with {k} columns")
    return int(dims[0]), int(dims[1])
