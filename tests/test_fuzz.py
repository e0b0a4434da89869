"""The fuzz catalogue of mmlib's numpy side (issue 8): every public function, every bad input.

Each case feeds one argument of one public function an unusual value from the catalogue of its
kind (``tests/fuzz_catalogue.py``: NaN, inf, empty, wrong ndim, mismatched rows, wrong types and
dtypes incl. bfloat16/complex/str/object/datetime arrays and meta tensors, tensors that require
grad, values x 1e170 and x 1e-300, bad component counts, ridges, seeds) and asserts a
``ValueError``/``TypeError`` whose message names the argument, or a finite result equal to the
one of the equivalent plain input (for scaled input: equal where the function is scale
invariant, finite elsewhere). ``test_catalogue_size`` counts the calls.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from fuzz_catalogue import ERROR, KINDS, SAME, Probe, Target, _err, cases, check  # noqa: E402

from mmlib import book, datasets, metrics, plotting  # noqa: E402
from mmlib.datasets import MultiViewDataset  # noqa: E402
from mmlib.linear import CCA, GCCA  # noqa: E402

_rng = np.random.default_rng(0)
_z = _rng.normal(size=(30, 2))
X0 = _z @ _rng.normal(size=(2, 3)) + _rng.normal(size=(30, 3)) + 5.0  # offsets: non-zero means
Y0 = _z @ _rng.normal(size=(2, 4)) + _rng.normal(size=(30, 4)) - 3.0
W0 = _z @ _rng.normal(size=(2, 2)) + _rng.normal(size=(30, 2))
LABELS0 = np.arange(30) % 3

CCA0 = CCA(n_components=2).fit([X0, Y0])
GCCA0 = GCCA(n_components=2).fit([X0, Y0, W0])
DS0 = MultiViewDataset(views=[X0, Y0], y=LABELS0)

# extra kinds for arguments of their own
KINDS = {
    **KINDS,
    # a view of transform / transform_views: None there is a missing view (tests/test_linear.py)
    "view_slot": [p for p in KINDS["array"] if p.id != "None"],
    "view_index": [
        Probe("float", _err(lambda r: 1.0), ERROR),
        Probe("str", _err(lambda r: "1"), ERROR),
        Probe("bool", _err(lambda r: True), ERROR),
        Probe("2", _err(lambda r: 2), ERROR),
        Probe("-1", _err(lambda r: -1), ERROR),
        Probe("None", _err(lambda r: None), ERROR),
        Probe("numpy int", lambda r: (np.int64(r), r), SAME),
    ],
    "indices": [
        Probe("float", _err(lambda r: np.asarray(r, dtype=float) + 0.5), ERROR),
        Probe("2-D", _err(lambda r: np.asarray(r)[None]), ERROR),
        Probe("out of range", _err(lambda r: np.asarray(r) + 1000), ERROR),
        Probe("negative", _err(lambda r: -np.asarray(r) - 1), ERROR),
        Probe("short mask", _err(lambda r: np.ones(3, dtype=bool)), ERROR),
        Probe("None", _err(lambda r: None), ERROR),
        Probe("str", _err(lambda r: "abc"), ERROR),
        Probe("list", lambda r: (list(r), r), SAME),
        Probe("tensor", lambda r: (__import__("torch").as_tensor(r), r), SAME),
    ],
    "flag": [
        Probe("str", _err(lambda r: "yes"), ERROR),
        Probe("int", _err(lambda r: 1), ERROR),
        Probe("None", _err(lambda r: None), ERROR),
        Probe("numpy bool", lambda r: (np.bool_(r), r), SAME),
    ],
    "dims": [
        Probe("out of range", _err(lambda r: (0, 5)), ERROR),
        Probe("int", _err(lambda r: 3), ERROR),
        Probe("floats", _err(lambda r: (0.0, 1.0)), ERROR),
        Probe("bools", _err(lambda r: (False, True)), ERROR),
        Probe("str", _err(lambda r: "ab"), ERROR),
        Probe("three", _err(lambda r: (0, 1, 2)), ERROR),
        Probe("list", lambda r: (list(r), r), SAME),
    ],
    "shape": [
        Probe("int", _err(lambda r: 4), ERROR),
        Probe("float entry", _err(lambda r: (2, 2.0)), ERROR),
        Probe("negative", _err(lambda r: (-2, -2)), ERROR),
        Probe("zero", _err(lambda r: (0, 4)), ERROR),
        Probe("wrong size", _err(lambda r: (3, 3)), ERROR),
        Probe("str", _err(lambda r: "ab"), ERROR),
        Probe("None", _err(lambda r: None), ERROR),
        Probe("list", lambda r: (list(r), r), SAME),
        Probe("numpy ints", lambda r: (tuple(np.int64(v) for v in r), r), SAME),
    ],
    "titles": [
        Probe("str", _err(lambda r: "abcd"), ERROR),
        Probe("too few", _err(lambda r: list(r)[:1]), ERROR),
        Probe("int", _err(lambda r: 3), ERROR),
        Probe("tuple", lambda r: (tuple(r), r), SAME),
    ],
    "finite_number": [
        Probe("nan", _err(lambda r: float("nan")), ERROR),
        Probe("inf", _err(lambda r: float("inf")), ERROR),
        Probe("-inf", _err(lambda r: float("-inf")), ERROR),
        Probe("numpy nan", _err(lambda r: np.float64("nan")), ERROR),
        Probe("numpy float", lambda r: (np.float64(r), r), SAME),
    ],
    "band_end": [
        Probe("nan", _err(lambda r: float("nan")), ERROR),
        Probe("inf", _err(lambda r: float("inf")), ERROR),
        Probe("str", _err(lambda r: "1"), ERROR),
        Probe("bool", _err(lambda r: True), ERROR),
        Probe("above high", _err(lambda r: 10.0), ERROR),
        Probe("numpy float", lambda r: (np.float64(r), r), SAME),
    ],
}


# ------------------------------------------------------------------------- what is observed


def _fig_values(fig):
    """The numbers a figure shows: plotly traces' y (and x, but bars' labels), or the pixels."""
    if hasattr(fig, "data"):
        ys = [np.asarray(t.y, dtype=float) for t in fig.data]
        return ys + [np.asarray(t.x, dtype=float) for t in fig.data if t.type != "bar"]
    pixels = [np.asarray(ax.images[0].get_array(), dtype=float) for ax in fig.axes if ax.images]
    plt.close(fig)
    return pixels


def _views(ds):
    return [*ds.views, *([] if ds.y is None else [ds.y.astype(float)])]


def _corr(est):
    return est.canonical_correlations_ if isinstance(est, CCA) else est.eigenvalues_


# ------------------------------------------------------------------------------- the targets

T = Target


def _both_arrays(func, names, metric, first, second):
    """The targets of both arguments of ``metric(first, second)``, a scale-free metric of two
    arrays; ``names`` are the patterns their errors must contain."""
    return [
        T(func, names[0], "array", lambda v: metric(v, second), first, invariant=True),
        T(func, names[1], "array", lambda v: metric(first, v), second, invariant=True),
    ]


def _generator_targets(name, spelled_out, **arguments):
    """The targets of ``datasets.<name>``'s ``arguments`` (argument name: ``(kind, reference)``),
    each fuzzed in the call that passes ``spelled_out`` for the other arguments."""
    make = getattr(datasets, name)
    return [
        T(name, arg, kind, lambda v, arg=arg: make(**{**spelled_out, arg: v}), ref, _views)
        for arg, (kind, ref) in arguments.items()
    ]


# the data generators: each argument fuzzed in a call that spells the others out
# fmt: off
_GENERATOR_TARGETS = [
    *_generator_targets("make_latent_views",
                        {"n_samples": 50, "n_features": 4, "correlations": (0.5,), "random_state": 0},
                        n_samples=("count", 50), n_features=("count", 4)),
    T("make_latent_views", "random_state", "seed",
      lambda v: datasets.make_latent_views(50, 4, random_state=v), 3, _views),
    *_generator_targets("make_noisy_digits", {"n_samples": 20, "image_size": 8, "random_state": 0},
                        n_samples=("count", 20), max_angle=("positive_float", 30.0),
                        noise=("positive_float", 2.0), image_size=("count", 8),
                        random_state=("seed", 1)),
    *_generator_targets("make_nonlinear_views", {"n_samples": 50, "random_state": 0},
                        n_samples=("count", 50), latent_dim=("count", 2),
                        noise=("positive_float", 1.0), n_features=("count", 4),
                        random_state=("seed", 2)),
    *_generator_targets("make_three_modalities", {"n_samples": 30, "random_state": 0},
                        n_samples=("count", 30), n_classes=("count", 3),
                        noise=("positive_float", 1.0), position_noise=("positive_float", 1.0),
                        random_state=("seed", 4)),
]
# fmt: on

TARGETS = [
    # CCA
    T("CCA.fit", r"views\[0\]", "array", lambda v: CCA().fit([v, Y0]), X0, _corr, True),
    T("CCA.fit", r"views\[1\]", "array", lambda v: CCA().fit([X0, v]), Y0, _corr, True),
    T(
        "CCA.partial_fit",
        r"views\[1\]",
        "array",
        lambda v: CCA().partial_fit([X0, v]),
        Y0,
        _corr,
        True,
    ),
    T(
        "CCA.fit_transform",
        r"views\[1\]",
        "array",
        lambda v: CCA().fit_transform([X0, v]),
        Y0,
        invariant=True,
    ),
    T("CCA.transform", r"views\[1\]", "view_slot", lambda v: CCA0.transform([X0, v]), Y0),
    T("CCA.score", r"views\[0\]", "array", lambda v: CCA0.score([v, Y0]), X0),
    T(
        "CCA.transform_view",
        r"\bX\b",
        "array",
        lambda v: CCA0.transform_view(v, view=1),
        Y0,
        paired=False,
    ),
    T(
        "CCA.transform_view",
        r"\bview\b",
        "view_index",
        lambda v: CCA0.transform_view(Y0, view=v),
        1,
    ),
    T("CCA", "n_components", "n_components", lambda v: CCA(n_components=v).fit([X0, Y0]), 2, _corr),
    T("CCA", "reg", "reg", lambda v: CCA(reg=v).fit([X0, Y0]), 0.1, _corr),
    T("CCA", "tol", "fraction", lambda v: CCA(tol=v).fit([X0, Y0]), 1e-9, _corr),
    # GCCA
    T("GCCA.fit", r"views\[0\]", "array", lambda v: GCCA().fit([v, Y0, W0]), X0, _corr, True),
    T("GCCA.fit", r"views\[2\]", "array", lambda v: GCCA().fit([X0, Y0, v]), W0, _corr, True),
    T(
        "GCCA.partial_fit",
        r"views\[1\]",
        "array",
        lambda v: GCCA().partial_fit([X0, v, W0]),
        Y0,
        _corr,
        True,
    ),
    T(
        "GCCA.fit_transform",
        r"views\[1\]",
        "array",
        lambda v: GCCA().fit_transform([X0, v, W0]),
        Y0,
        invariant=True,
    ),
    T("GCCA.transform", r"views\[2\]", "array", lambda v: GCCA0.transform([X0, Y0, v]), W0),
    T(
        "GCCA.transform_views",
        r"views\[0\]",
        "view_slot",
        lambda v: GCCA0.transform_views([v, Y0, W0]),
        X0,
    ),
    T(
        "GCCA",
        "n_components",
        "n_components",
        lambda v: GCCA(n_components=v).fit([X0, Y0]),
        2,
        _corr,
    ),
    T("GCCA", "reg", "reg", lambda v: GCCA(reg=v).fit([X0, Y0, W0]), 0.1, _corr),
    T("GCCA", "tol", "fraction", lambda v: GCCA(tol=v).fit([X0, Y0]), 1e-9, _corr),
    # metrics
    *_both_arrays(
        "paired_correlations", (r"\bZ1\b", r"\bZ2\b"), metrics.paired_correlations, X0, Y0[:, :3]
    ),
    *_both_arrays(
        "canonical_correlations",
        (r"\[X, Y\]\[0\]", r"\[X, Y\]\[1\]"),
        metrics.canonical_correlations,
        X0,
        Y0,
    ),
    T(
        "canonical_correlations",
        "n_components",
        "n_components",
        lambda v: metrics.canonical_correlations(X0, Y0, v),
        2,
    ),
    T(
        "canonical_correlations",
        "reg",
        "reg",
        lambda v: metrics.canonical_correlations(X0, Y0, reg=v),
        0.2,
    ),
    T(
        "total_correlation",
        r"\[X, Y\]\[1\]",
        "array",
        lambda v: metrics.total_correlation(X0, v),
        Y0,
        invariant=True,
    ),
    T(
        "total_correlation",
        "n_components",
        "n_components",
        lambda v: metrics.total_correlation(X0, Y0, v),
        2,
    ),
    T("total_correlation", "reg", "reg", lambda v: metrics.total_correlation(X0, Y0, reg=v), 0.2),
    T(
        "recall_at_k",
        r"\bquery\b",
        "array",
        lambda v: metrics.recall_at_k(v, Y0[:, :3]),
        X0,
        invariant=True,
    ),
    T(
        "recall_at_k",
        r"\bgallery\b",
        "array",
        lambda v: metrics.recall_at_k(X0, v, k=3),
        Y0[:, :3],
        invariant=True,
    ),
    T(
        "recall_at_k",
        r"\bk\b",
        "n_components",
        lambda v: metrics.recall_at_k(X0, Y0[:, :3], k=v),
        2,
    ),
    T(
        "linear_probe",
        r"Z_train",
        "array",
        lambda v: metrics.linear_probe(v, LABELS0, X0, LABELS0),
        X0,
    ),
    T(
        "linear_probe",
        r"Z_test",
        "array",
        lambda v: metrics.linear_probe(X0, LABELS0, v, LABELS0),
        X0,
    ),
    T(
        "linear_probe",
        r"y_train",
        "labels",
        lambda v: metrics.linear_probe(X0, v, X0, LABELS0),
        LABELS0,
    ),
    T(
        "linear_probe",
        r"y_test",
        "labels",
        lambda v: metrics.linear_probe(X0, LABELS0, X0, v),
        LABELS0,
    ),
    T(
        "linear_probe",
        r"\bC\b",
        "positive_float",
        lambda v: metrics.linear_probe(X0, LABELS0, X0, LABELS0, C=v),
        2.0,
    ),
    T(
        "linear_probe",
        "max_iter",
        "count",
        lambda v: metrics.linear_probe(X0, LABELS0, X0, LABELS0, max_iter=v),
        100,
    ),
    T(
        "linear_probe",
        "random_state",
        "seed",
        lambda v: metrics.linear_probe(X0, LABELS0, X0, LABELS0, random_state=v),
        0,
    ),
    *_GENERATOR_TARGETS,
    # the container
    T(
        "MultiViewDataset",
        r"views\[1\]",
        "array",
        lambda v: MultiViewDataset(views=[X0, v]),
        Y0,
        _views,
    ),
    T(
        "MultiViewDataset",
        r"\by\b",
        "optional_labels",
        lambda v: MultiViewDataset(views=[X0], y=v),
        LABELS0,
        _views,
    ),
    T(
        "MultiViewDataset",
        r"\bname\b",
        "text",
        lambda v: MultiViewDataset(views=[X0], name=v),
        "toy",
        _views,
    ),
    T(
        "MultiViewDataset",
        "description",
        "text",
        lambda v: MultiViewDataset(views=[X0], description=v),
        "toy",
        _views,
    ),
    T(
        "MultiViewDataset.subset",
        "indices",
        "indices",
        lambda v: DS0.subset(v),
        np.array([0, 4, 7]),
        _views,
    ),
    T(
        "MultiViewDataset.train_test_split",
        "test_size",
        "fraction",
        lambda v: DS0.train_test_split(test_size=v),
        0.3,
        lambda p: _views(p[1]),
    ),
    T(
        "MultiViewDataset.train_test_split",
        "random_state",
        "seed32",
        lambda v: DS0.train_test_split(random_state=v),
        5,
        lambda p: _views(p[1]),
    ),
    T(
        "MultiViewDataset.train_test_split",
        "stratify",
        "flag",
        lambda v: DS0.train_test_split(stratify=v),
        True,
        lambda p: _views(p[1]),
    ),
    # plotting
    T(
        "embedding_scatter",
        r"\bZ\b",
        "array",
        lambda v: plotting.embedding_scatter(v),
        X0,
        _fig_values,
        paired=False,
    ),
    T(
        "embedding_scatter",
        r"labels",
        "optional_labels",
        lambda v: plotting.embedding_scatter(X0, v),
        LABELS0,
        _fig_values,
    ),
    T(
        "embedding_scatter",
        r"\bdims\b",
        "dims",
        lambda v: plotting.embedding_scatter(X0, dims=v),
        (0, 2),
        _fig_values,
    ),
    T(
        "embedding_scatter",
        r"\btitle\b",
        "text",
        lambda v: plotting.embedding_scatter(X0, title=v),
        "t",
        _fig_values,
    ),
    T(
        "embeddings_side_by_side",
        r"embeddings",
        "array",
        lambda v: plotting.embeddings_side_by_side({"a": v, "b": X0}),
        X0,
        _fig_values,
    ),
    T(
        "embeddings_side_by_side",
        r"height",
        "count",
        lambda v: plotting.embeddings_side_by_side({"a": X0}, height=v),
        300,
        _fig_values,
    ),
    T(
        "training_curves",
        r"history\['train_loss'\]",
        "curve",
        lambda v: plotting.training_curves({"train_loss": v}),
        X0[:, 0],
        _fig_values,
    ),
    T(
        "training_curves",
        r"history\['val_loss'\]",
        "optional_curve",
        lambda v: plotting.training_curves({"train_loss": X0[:, 0], "val_loss": v}),
        X0[:, 1],
        _fig_values,
    ),
    T(
        "correlation_bars",
        r"estimated\['a'\]",
        "curve",
        lambda v: plotting.correlation_bars({"a": v}),
        X0[:5, 0],
        _fig_values,
    ),
    T(
        "image_grid",
        r"images",
        "array",
        lambda v: plotting.image_grid(v, shape=(1, 3)),
        X0[:4],
        _fig_values,
        paired=False,
    ),
    T(
        "image_grid",
        r"shape",
        "shape",
        lambda v: plotting.image_grid(X0[:4, :2].repeat(2, 1), shape=v),
        (2, 2),
        _fig_values,
    ),
    T(
        "image_grid",
        r"titles",
        "titles",
        lambda v: plotting.image_grid(X0[:4], shape=(1, 3), titles=v),
        list("abcd"),
        _fig_values,
    ),
    T(
        "image_grid",
        r"ncols",
        "count",
        lambda v: plotting.image_grid(X0[:4], shape=(1, 3), ncols=v),
        2,
        _fig_values,
    ),
    # book helpers
    T("glue", r"glue name", "text", lambda v: book.glue(v, 1.0), "x"),
    T("glue", r"glue value", "finite_number", lambda v: book.glue("x", v), 0.5),
    T(
        "print_key_numbers",
        r"key number 'a'",
        "finite_number",
        lambda v: book.print_key_numbers({"a": v}),
        0.5,
    ),
    T(
        "within",
        r"\blow\b",
        "band_end",
        lambda v: book.within(1.0, low=v, high=2.0),
        0.5,
        lambda w: [w.value, w.low, w.high],
    ),
]

CASES = cases(TARGETS, KINDS)


@pytest.mark.parametrize(("target", "probe"), CASES)
def test_fuzz(target, probe):
    check(target, probe)


def test_catalogue_size():
    """The catalogue: 80+ arguments of 33+ public functions and methods, 1,200+ calls."""
    assert len(CASES) >= 1200, len(CASES)
    assert len(TARGETS) >= 80, len(TARGETS)
    assert len({t.func for t in TARGETS}) >= 33
    assert {t.kind for t in TARGETS} <= set(KINDS)
