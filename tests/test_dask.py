"""CCA and GCCA on Dask arrays: the same answer as in memory, lazily, on a cluster too."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from mmlib.datasets import make_latent_views
from mmlib.linear import CCA, GCCA

da = pytest.importorskip("dask.array")

UNEVEN = (70, 33, 150, 1, 96)  # 350 rows in chunks of very different sizes, one of a single row


def _views(n_views=3, n=350, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    views = []
    for j, d in enumerate((6, 9, 4, 5)[:n_views]):
        A = rng.normal(size=(3, d))
        views.append(z @ A + rng.normal(size=(n, d)) + 10.0 * (j + 1))  # nonzero means
    return views


def _lazy(views, chunks=UNEVEN):
    return [da.from_array(v, chunks=(chunks, v.shape[1])) for v in views]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gcca_dask_equals_in_memory(seed):
    views = _views(seed=seed)
    ref = GCCA(n_components=3, reg=1e-3).fit(views)
    lazy = GCCA(n_components=3, reg=1e-3).fit(_lazy(views))
    np.testing.assert_allclose(lazy.eigenvalues_, ref.eigenvalues_, rtol=0, atol=1e-10)
    for U, V in zip(lazy.weights_, ref.weights_, strict=True):
        np.testing.assert_allclose(U, V, rtol=0, atol=1e-10)
    assert isinstance(lazy.G_, da.Array)  # G of 10^8 rows stays lazy
    np.testing.assert_allclose(lazy.G_.compute(), ref.G_, rtol=0, atol=1e-10)
    G_new = lazy.transform(_lazy(views, chunks=100))
    assert isinstance(G_new, da.Array)
    np.testing.assert_allclose(G_new.compute(), ref.transform(views), rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_cca_dask_equals_in_memory(seed):
    views = _views(n_views=2, seed=seed)
    ref = CCA(n_components=2).fit(views)
    lazy = CCA(n_components=2).fit(_lazy(views))
    np.testing.assert_allclose(
        lazy.canonical_correlations_, ref.canonical_correlations_, rtol=0, atol=1e-10
    )
    Zx, Zy = lazy.transform(_lazy(views))
    assert isinstance(Zx, da.Array)
    for Z, R in zip((Zx, Zy), ref.transform(views), strict=True):
        np.testing.assert_allclose(Z.compute(), R, rtol=0, atol=1e-10)


def test_dask_equals_partial_fit_over_the_same_chunks():
    data = make_latent_views(n_samples=400, n_features=(5, 7), random_state=3)
    views = list(data.views)
    lazy = CCA(n_components=2).fit(_lazy(views, chunks=(100, 100, 100, 100)))
    streamed = CCA(n_components=2)
    for start in range(0, 400, 100):
        streamed.partial_fit([v[start : start + 100] for v in views])
    np.testing.assert_allclose(
        lazy.canonical_correlations_, streamed.canonical_correlations_, rtol=0, atol=1e-12
    )


def test_dask_on_a_local_cluster_with_two_workers():
    distributed = pytest.importorskip("distributed")
    views = _views()
    ref = GCCA(n_components=2).fit(views)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy = GCCA(n_components=2).fit(_lazy(views))
        G = lazy.G_.compute()
    np.testing.assert_allclose(lazy.eigenvalues_, ref.eigenvalues_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(G, ref.G_, rtol=0, atol=1e-10)


def test_bad_dask_input_is_named():
    views = _views()
    lazy = _lazy(views)
    by_columns = da.from_array(views[0], chunks=(100, 3))
    with pytest.raises(ValueError, match=r"views\[0\] is chunked along its columns"):
        GCCA().fit([by_columns, *lazy[1:]])
    other_rows = da.from_array(views[1], chunks=(175, views[1].shape[1]))
    with pytest.raises(ValueError, match=r"views\[1\] is chunked along rows differently"):
        GCCA().fit([lazy[0], other_rows, lazy[2]])
    bad = views[2].copy()
    bad[200, 1] = np.nan
    with pytest.raises(ValueError, match=r"views\[2\] contains NaN or inf in rows 103\.\.252"):
        GCCA().fit([*lazy[:2], _lazy([bad])[0]])
    with pytest.raises(TypeError, match="mix of Dask and in-memory views"):
        GCCA().fit([lazy[0], views[1], lazy[2]])
    with pytest.raises(ValueError, match="at most 2 views"):
        CCA().fit(lazy)


def test_import_mmlib_does_not_import_dask():
    code = "import sys, mmlib; mmlib.CCA; assert 'dask' not in sys.modules, 'dask imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_chunks_of_very_different_magnitude_merge_exactly():
    # each chunk picks its own power-of-two scale; the merge converts them exactly
    views = _views(n_views=2)
    for v in views:
        v[175:] *= 3.0e5
    ref = CCA(n_components=2).fit(views)
    lazy = CCA(n_components=2).fit(_lazy(views, chunks=175))
    np.testing.assert_allclose(
        lazy.canonical_correlations_, ref.canonical_correlations_, rtol=0, atol=1e-10
    )
