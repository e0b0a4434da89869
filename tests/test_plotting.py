import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from mmlib import plotting


@pytest.fixture
def embedding():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 3)), np.repeat([0, 1, 2], 20)


def test_embedding_scatter_has_one_trace_per_class(embedding):
    Z, y = embedding
    fig = plotting.embedding_scatter(Z, y, dims=(0, 2))
    assert len(fig.data) == 3
    np.testing.assert_array_equal(fig.data[1].x, Z[y == 1, 0])
    np.testing.assert_array_equal(fig.data[1].y, Z[y == 1, 2])


def test_side_by_side_shares_one_legend(embedding):
    Z, y = embedding
    fig = plotting.embeddings_side_by_side({"a": Z, "b": -Z}, y)
    assert len(fig.data) == 6
    assert sum(bool(t.showlegend) for t in fig.data) == 3


def test_training_curves_draws_what_is_there():
    fig = plotting.training_curves(
        {"train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, 2.5, 2.0], "val_score": []}
    )
    assert [t.name.split()[0] for t in fig.data] == ["training", "validation"]
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3])
    fig = plotting.training_curves({"train_loss": [1.0]}, loss_label="loss = -(total correlation)")
    assert fig.layout.yaxis.title.text == "loss = -(total correlation)"


def test_one_class_palette_for_plotly_and_matplotlib(embedding):
    import matplotlib.pyplot as plt

    Z, y = embedding
    labels = np.array(["b", "a", "c"])[y]  # the palette follows the sorted labels
    colours = plotting.class_colors(labels)
    assert colours[y == 1][0] == plotting.CLASS_COLORS[0]  # "a", sorted first
    fig = plotting.embedding_scatter(Z, labels)
    assert [t.marker.color for t in fig.data] == list(plotting.CLASS_COLORS[:3])
    fig, ax = plt.subplots()
    plotting.scatter_by_class(ax, Z, labels)
    drawn = [matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in ax.collections]
    assert drawn == list(plotting.CLASS_COLORS[:3])
    assert [c.get_label() for c in ax.collections] == ["a", "b", "c"]
    plt.close(fig)


def test_correlation_bars_groups_components():
    fig = plotting.correlation_bars({"true": [0.9, 0.5], "estimated": [0.89, 0.52]})
    assert len(fig.data) == 2 and list(fig.data[0].x) == ["pair 1", "pair 2"]


def test_image_grid_layout():
    fig = plotting.image_grid(np.zeros((5, 64)), shape=(8, 8), titles=list("abcde"), ncols=2)
    assert len(fig.axes) == 6  # 3 rows x 2 columns, the last one empty
    wide = plotting.image_grid(np.zeros((12, 64)), shape=(8, 8), ncols=12, width=8.0)
    width, height = wide.get_size_inches()
    assert width == pytest.approx(8.0) and height > width / 12  # an image is not squeezed flat


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: plotting.embedding_scatter(np.zeros(5)), ValueError, "2-D"),
        (lambda: plotting.embedding_scatter(np.full((4, 2), np.nan)), ValueError, "NaN"),
        (
            lambda: plotting.embedding_scatter(np.zeros((4, 2)), y=[0, 1]),
            ValueError,
            "one entry per point",
        ),
        (
            lambda: plotting.embedding_scatter(np.zeros((4, 2)), dims=(0, 5)),
            ValueError,
            "out of range",
        ),
        (lambda: plotting.embedding_scatter([["a", "b"]]), TypeError, "numeric"),
        (lambda: plotting.embeddings_side_by_side({}), TypeError, "non-empty"),
        (
            lambda: plotting.embeddings_side_by_side(
                {"a": np.zeros((4, 2)), "b": np.zeros((5, 2))}
            ),
            ValueError,
            "same number",
        ),
        (lambda: plotting.training_curves([1, 2]), TypeError, "train_loss"),
        (lambda: plotting.correlation_bars({"a": [[1.0]]}), ValueError, "1-D"),
        (lambda: plotting.class_colors(np.zeros((2, 2))), ValueError, "1-D"),
        (
            lambda: plotting.image_grid(np.zeros((2, 9)), shape=(3, 3), width=0),
            ValueError,
            "width",
        ),
        (
            lambda: plotting.image_grid(np.zeros((2, 10)), shape=(3, 3)),
            ValueError,
            "does not match",
        ),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------- issue 8: what used to slip through


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: plotting.embedding_scatter(np.zeros((4, 2)) + 1j), TypeError, "complex"),
        (
            lambda: plotting.embedding_scatter(np.zeros((4, 2), dtype="datetime64[D]")),
            TypeError,
            "datetime64",
        ),
        (lambda: plotting.embedding_scatter(np.full((4, 2), "1")), TypeError, "numeric"),
        (lambda: plotting.embedding_scatter(np.zeros((4, 2)), dims=3), TypeError, "dims"),
        (lambda: plotting.embedding_scatter(np.zeros((4, 2)), title=3), TypeError, "title"),
        (
            lambda: plotting.training_curves({"train_loss": [1.0, np.nan]}),
            ValueError,
            r"history\['train_loss'\] contains NaN",
        ),
        (
            lambda: plotting.training_curves({"train_loss": [1.0], "val_score": ["a"]}),
            TypeError,
            r"history\['val_score'\]",
        ),
        (
            lambda: plotting.correlation_bars({"a": [0.5, np.inf]}),
            ValueError,
            r"estimated\['a'\] contains NaN",
        ),
        (lambda: plotting.correlation_bars({"a": [1 + 1j]}), TypeError, "complex"),
        (lambda: plotting.image_grid(np.zeros((0, 4)), shape=(2, 2)), ValueError, "empty"),
        (lambda: plotting.image_grid(np.zeros((2, 4)), shape=4), TypeError, "shape"),
        (lambda: plotting.image_grid(np.zeros((2, 4)), shape=(2, 2.0)), TypeError, r"shape\[1\]"),
        (lambda: plotting.image_grid(np.zeros((2, 4)), shape=(-2, -2)), ValueError, r"shape\[0\]"),
        (
            lambda: plotting.image_grid(np.zeros((2, 4)), shape=(2, 2), titles="ab"),
            TypeError,
            "titles",
        ),
        (
            lambda: plotting.image_grid(np.zeros((2, 4)), shape=(2, 2), ncols=True),
            TypeError,
            "ncols",
        ),
        (lambda: plotting.image_grid(np.zeros((2, 4)), shape=(2, 2), ncols=0), ValueError, "ncols"),
        (
            lambda: plotting.embeddings_side_by_side({"a": np.zeros((3, 2))}, height=0),
            ValueError,
            "height",
        ),
    ],
)
def test_more_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_tensors_that_require_grad_are_plotted():
    torch = pytest.importorskip("torch")
    Z = torch.randn(6, 2, requires_grad=True)
    fig = plotting.embedding_scatter(Z, torch.tensor([0, 1] * 3))
    np.testing.assert_allclose(fig.data[0].x, Z.detach().numpy()[::2, 0].astype(float), rtol=1e-6)
    images = torch.rand(2, 4, requires_grad=True).bfloat16()
    assert len(plotting.image_grid(images, shape=(2, 2)).axes) == 2
